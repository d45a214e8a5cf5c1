//! Keyset pagination: pages in a stable order, resumed after the last row seen.
//!
//! A page is "the next `limit` rows whose key is greater than the cursor's", never "rows
//! `offset..offset + limit`": rows inserted or deleted between two page fetches therefore cannot
//! make a pre-existing row appear twice or be skipped, and a deep page costs what the first does.

use std::fmt;
use std::marker::PhantomData;

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, Generate, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use postgres::types::{ToSql, Type};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{AuditKey, RepoError, RequestError, SqlType};

/// The largest page: the audit row of a listing names every id it returned, and a page is what
/// one request shows, not an export.
pub const MAX_LIMIT: u32 = 500;

/// The version of the cursor format, part of what a cursor is bound to.
const CURSOR_VERSION: &str = "cursor:v1";
const NONCE_LEN: usize = 12;

/// A position in a listing: the key of the last row of a page, sealed.
///
/// A cursor is made by the repository only ([`Page::next`]) and is opaque: AES-256-GCM under a
/// key derived from the [`AuditKey`], bound to its table and listing order. So a client can
/// neither read it (the position holds `created_at` to the microsecond), nor make one up, nor
/// alter one, nor hand a cursor of one listing (the files) to another (the cases): each is
/// refused with [`RequestError::Cursor`]. Processes sharing the audit key accept each other's
/// cursors. Serialized as a string, so an API can hand it to its client and take it back.
pub struct Cursor<K> {
    token: String,
    key: PhantomData<fn() -> K>,
}

impl<K> Cursor<K> {
    /// The sealed position, as handed to clients.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// A cursor from a string a client sent back (what [`Cursor::as_str`] gave it); checked when
    /// it is used.
    pub fn from_token(token: impl Into<String>) -> Self {
        Cursor {
            token: token.into(),
            key: PhantomData,
        }
    }
}

impl<K: Serialize + DeserializeOwned> Cursor<K> {
    /// A cursor just after the row whose key is `position`, in the listing of `table` ordered
    /// by `order` (the key columns, comma-separated).
    pub(crate) fn seal(
        key: &AuditKey,
        table: &'static str,
        order: &str,
        position: &K,
    ) -> Result<Self, RepoError> {
        let refused = || RepoError::InvalidRequest {
            table,
            reason: RequestError::Cursor,
        };
        let plain = serde_json::to_vec(position).map_err(|_| refused())?;
        let nonce = Nonce::try_generate().map_err(|_| refused())?;
        let sealed = key
            .cursor_cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: associated_data(table, order).as_bytes(),
                },
            )
            .map_err(|_| refused())?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(Cursor::from_token(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The position, if this cursor was sealed with `key` for the listing of `table` by
    /// `order`; `None` otherwise.
    pub(crate) fn open(&self, key: &AuditKey, table: &str, order: &str) -> Option<K> {
        let bytes = URL_SAFE_NO_PAD.decode(&self.token).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).ok()?;
        let plain = key
            .cursor_cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: associated_data(table, order).as_bytes(),
                },
            )
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

/// What a cursor's ciphertext is bound to: the format, the table and the listing order.
fn associated_data(table: &str, order: &str) -> String {
    format!("{CURSOR_VERSION}:{table}:{order}")
}

impl<K> Clone for Cursor<K> {
    fn clone(&self) -> Self {
        Cursor::from_token(self.token.clone())
    }
}

impl<K> PartialEq for Cursor<K> {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token
    }
}

impl<K> Eq for Cursor<K> {}

impl<K> fmt::Debug for Cursor<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cursor").field(&self.token).finish()
    }
}

impl<K> Serialize for Cursor<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.token)
    }
}

impl<'de, K> Deserialize<'de> for Cursor<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Cursor::from_token)
    }
}

/// The direction a finder lists in: the listing order (oldest first where the order is
/// `created_at`) or its reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// The listing order: `(created_at, id)` ascending, oldest first.
    #[default]
    Ascending,
    /// The reverse: newest first.
    Descending,
}

/// Which page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K> {
    /// At most this many rows: 1 to [`PageRequest::MAX_LIMIT`]; anything else is refused
    /// ([`RequestError::PageSize`]) before a statement runs.
    pub limit: u32,
    /// Start after this position; `None` for the first page.
    pub after: Option<Cursor<K>>,
    /// Also list soft-deleted rows (they are left out by default).
    pub include_deleted: bool,
}

impl<K> PageRequest<K> {
    /// The largest page size accepted: 500 rows.
    pub const MAX_LIMIT: u32 = MAX_LIMIT;

    /// The first page of at most `limit` rows, soft-deleted rows left out.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit,
            after: None,
            include_deleted: false,
        }
    }

    /// The same request, starting after `cursor`.
    pub fn after(mut self, cursor: Cursor<K>) -> Self {
        self.after = Some(cursor);
        self
    }

    /// The same request, soft-deleted rows included.
    pub fn including_deleted(mut self) -> Self {
        self.include_deleted = true;
        self
    }

    /// The limit, if it is one a page can have.
    pub(crate) fn checked_limit(&self) -> Result<i64, RequestError> {
        match self.limit {
            1..=MAX_LIMIT => Ok(i64::from(self.limit)),
            limit => Err(RequestError::PageSize { limit }),
        }
    }
}

/// One page of rows and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, K> {
    /// The rows, in listing order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` when this page was not full, so there is no more.
    /// A full last page is followed by an empty one.
    pub next: Option<Cursor<K>>,
    /// The rows of this page that could not be read: a stored value of an encrypted column that
    /// does not decrypt (tampered, copied from another column, written with another key). They
    /// are left out of `items`, in listing order, named by primary key, so one damaged row
    /// neither fails the page nor disappears silently. The cursor goes past them.
    pub unreadable: Vec<Unreadable>,
}

/// A row of a page that could not be read (see [`Page::unreadable`]); never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable {
    /// The row's primary key.
    pub id: uuid::Uuid,
    /// The encrypted column whose value does not decrypt.
    pub column: &'static str,
    /// Why.
    pub reason: crate::EncryptionFailure,
}

impl<T, K> Page<T, K> {
    /// The request for the page after this one, with the same limit and filter as `request`;
    /// `None` when this was the last page.
    pub fn next_request(&self, request: &PageRequest<K>) -> Option<PageRequest<K>> {
        self.next.clone().map(|cursor| PageRequest {
            limit: request.limit,
            after: Some(cursor),
            include_deleted: request.include_deleted,
        })
    }
}

/// A key the listing is ordered by and resumed after: a tuple of one or two columns, compared
/// as a row value (`(a, b) > ($1, $2)`), which a btree index on those columns serves.
pub trait KeysetKey {
    /// How many columns the key has.
    const ARITY: usize;
    /// The key's values as typed statement parameters, in column order.
    fn params(&self) -> Vec<(&(dyn ToSql + Sync), Type)>;
}

impl<A: ToSql + Sync + SqlType> KeysetKey for (A,) {
    const ARITY: usize = 1;
    fn params(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        vec![(&self.0, A::sql_type())]
    }
}

impl<A: ToSql + Sync + SqlType, B: ToSql + Sync + SqlType> KeysetKey for (A, B) {
    const ARITY: usize = 2;
    fn params(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        vec![(&self.0, A::sql_type()), (&self.1, B::sql_type())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Key = (String, u32);

    fn audit_key(byte: u8) -> AuditKey {
        AuditKey::new(&[byte; 32]).expect("key")
    }

    #[test]
    fn a_cursor_opens_only_with_its_key_and_scope() {
        let key = audit_key(1);
        let position: Key = ("2024-05-01T10:11:12.345678Z".to_owned(), 7);
        let cursor = Cursor::seal(&key, "cases", "created_at,id", &position).expect("seal");
        assert!(!cursor.as_str().contains("2024"), "{cursor:?}");
        assert!(!cursor.as_str().contains("345678"), "{cursor:?}");
        assert_eq!(
            cursor.open(&key, "cases", "created_at,id"),
            Some(position.clone())
        );
        // Sealed afresh each time: two cursors of one position differ.
        let again = Cursor::seal(&key, "cases", "created_at,id", &position).expect("seal");
        assert_ne!(cursor, again);

        assert_eq!(
            cursor.open(&key, "files", "created_at,id"),
            None,
            "another table"
        );
        assert_eq!(
            cursor.open(&key, "cases", "status,created_at,id"),
            None,
            "another order"
        );
        assert_eq!(
            cursor.open(&audit_key(2), "cases", "created_at,id"),
            None,
            "another key"
        );
        let mut altered = cursor.as_str().to_owned();
        let last = altered.pop().expect("a character");
        altered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(
            Cursor::<Key>::from_token(altered).open(&key, "cases", "created_at,id"),
            None
        );
        for made_up in ["", "x", "AAAA", "not base64 at all!"] {
            assert_eq!(
                Cursor::<Key>::from_token(made_up).open(&key, "cases", "created_at,id"),
                None
            );
        }
    }

    #[test]
    fn cursors_serialize_as_their_token() {
        let key = audit_key(1);
        let cursor = Cursor::seal(&key, "t", "id", &("a".to_owned(), 1)).expect("seal");
        let json = serde_json::to_value(&cursor).expect("serialize");
        assert_eq!(json, serde_json::Value::String(cursor.as_str().to_owned()));
        let back: Cursor<Key> = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, cursor);
    }

    #[test]
    fn page_sizes_run_from_one_to_the_maximum() {
        assert_eq!(PageRequest::<Key>::first(1).checked_limit(), Ok(1));
        assert_eq!(
            PageRequest::<Key>::first(MAX_LIMIT).checked_limit(),
            Ok(i64::from(MAX_LIMIT))
        );
        for limit in [0, MAX_LIMIT + 1, u32::MAX] {
            assert_eq!(
                PageRequest::<Key>::first(limit).checked_limit(),
                Err(RequestError::PageSize { limit })
            );
        }
    }
}
