//! The generated methods' bodies, generic over the table: bind the parameters, run the statement
//! from [`crate::sql`] on an [`crate::Executor`] (one round trip; prepared once per connection behind
//! [`crate::Prepared`]), read the guard's verdict, decode the rows.

use std::net::IpAddr;
use std::sync::Arc;

use postgres::Row;
use postgres::types::{FromSql, ToSql, Type};
use uuid::Uuid;

use crate::crypto::{self, EncryptionFailure};
use crate::error::{ActorRefusal, DatabaseError};
use crate::executor::{AsyncExecutor, Param};
use crate::sql::{self, Preamble, Shape};
use crate::texts;
use crate::{Actor, DataKey, RepoError, SqlType, Table, TableMeta};

mod blocking;
mod listing;
mod queue;
mod rows;

pub use blocking::{
    check_data_key, claim, complete, explain_claim, explain_find_containing, explain_find_equal,
    fail, fetch, find_containing, find_equal, get, hard_delete, insert, list, restore, soft_delete,
    update,
};
pub use listing::{
    explain_find_containing_async, explain_find_equal_async, find_containing_async,
    find_equal_async, list_async,
};
pub use queue::{claim_async, complete_async, explain_claim_async, fail_async};
pub use rows::{
    fetch_async, get_async, hard_delete_async, insert_async, restore_async, soft_delete_async,
    update_async,
};

/// The field types an encrypted column can have: `String` and `Option<String>` (text).
pub trait EncryptedText: Sized {
    /// The plaintext to encrypt; `None` for NULL.
    fn plaintext(&self) -> Option<&str>;

    /// The value of column `index` of `row`, each stored text replaced by `open(text)`.
    fn open(
        row: &Row,
        index: usize,
        open: &mut dyn FnMut(&str) -> Result<String, RepoError>,
    ) -> Result<Self, RepoError>;
}

impl EncryptedText for String {
    fn plaintext(&self) -> Option<&str> {
        Some(self)
    }

    fn open(
        row: &Row,
        index: usize,
        open: &mut dyn FnMut(&str) -> Result<String, RepoError>,
    ) -> Result<Self, RepoError> {
        open(row.try_get::<_, &str>(index)?)
    }
}

impl EncryptedText for Option<String> {
    fn plaintext(&self) -> Option<&str> {
        self.as_deref()
    }

    fn open(
        row: &Row,
        index: usize,
        open: &mut dyn FnMut(&str) -> Result<String, RepoError>,
    ) -> Result<Self, RepoError> {
        row.try_get::<_, Option<&str>>(index)?.map(open).transpose()
    }
}

/// Column `index` of `row`, of the encrypted column `column` of `T`'s table, decrypted: what the
/// derive's `from_row` calls for a `#[repo(encrypted)]` field.
pub fn decrypt_column<F: EncryptedText>(
    row: &Row,
    index: usize,
    data_key: Option<&DataKey>,
    table: &'static str,
    column: &'static str,
) -> Result<F, RepoError> {
    F::open(row, index, &mut |stored| {
        let key =
            data_key.ok_or_else(|| crypto::error(table, column, EncryptionFailure::NoDataKey))?;
        key.decrypt(table, column, stored)
            .map_err(|reason| crypto::error(table, column, reason))
    })
}

/// The actor's data key when `T`'s table has encrypted columns (an error without one, before
/// anything runs: every method that returns rows may have to decrypt).
fn data_key<'k, T: Table>(actor: &Actor<'k>) -> Result<Option<&'k DataKey>, RepoError> {
    match (T::META.first_encrypted(), actor.data_key()) {
        (Some(column), None) => Err(crypto::error(
            T::META.table,
            column.name,
            EncryptionFailure::NoDataKey,
        )),
        (_, key) => Ok(key),
    }
}

/// One value of [`Values`]: a parameter as it is, or the plaintext of an encrypted column,
/// encrypted just before the statement runs.
enum Bound<'a> {
    Plain(Param<'a>),
    Plaintext(Option<&'a str>),
}

/// The columns an insert or update sets, with their values: the derive pushes one entry per
/// field that is set, so columns left out keep their default (insert) or value (update).
#[derive(Default)]
pub struct Values<'a> {
    columns: Vec<&'static str>,
    params: Vec<Bound<'a>>,
}

impl std::fmt::Debug for Values<'_> {
    /// Column names only: the values may be PII/PHI.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Values")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl<'a> Values<'a> {
    /// Room for `n` columns.
    pub fn with_capacity(n: usize) -> Self {
        Values {
            columns: Vec::with_capacity(n),
            params: Vec::with_capacity(n),
        }
    }

    /// Sets `column` to `value`.
    pub fn push<T: ToSql + Sync + SqlType>(&mut self, column: &'static str, value: &'a T) {
        self.columns.push(column);
        self.params.push(Bound::Plain((value, T::sql_type())));
    }

    /// Sets the encrypted `column` to `value`, encrypted when the statement runs.
    pub fn push_encrypted<T: EncryptedText>(&mut self, column: &'static str, value: &'a T) {
        self.columns.push(column);
        self.params.push(Bound::Plaintext(value.plaintext()));
    }

    /// The ciphertexts of the encrypted values, in order (`None` for the others and for NULLs).
    fn seal(
        &self,
        table: &'static str,
        key: Option<&DataKey>,
    ) -> Result<Vec<Option<String>>, RepoError> {
        self.columns
            .iter()
            .zip(&self.params)
            .map(|(&column, bound)| match bound {
                Bound::Plaintext(Some(text)) => {
                    let key = key.ok_or_else(|| {
                        crypto::error(table, column, EncryptionFailure::NoDataKey)
                    })?;
                    key.encrypt(table, column, text)
                        .map(Some)
                        .map_err(|reason| crypto::error(table, column, reason))
                }
                Bound::Plaintext(None) | Bound::Plain(_) => Ok(None),
            })
            .collect()
    }

    /// The parameters, encrypted values taken from `sealed` (from [`Values::seal`]).
    fn bind<'s>(self, sealed: &'s [Option<String>]) -> impl Iterator<Item = Param<'s>>
    where
        'a: 's,
    {
        self.params
            .into_iter()
            .zip(sealed)
            .map(|(bound, sealed)| match bound {
                Bound::Plain(param) => param,
                Bound::Plaintext(_) => (sealed as &(dyn ToSql + Sync), Type::TEXT),
            })
    }
}

/// A column's raw bytes, when the statement returned it as `text` (see [`crate::ColumnTypes`]).
struct TextBytes<'a>(&'a [u8]);

impl<'a> FromSql<'a> for TextBytes<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(TextBytes(raw))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TEXT
    }
}

/// Column `index` of `row` as a field of type `F`, whose parameter type is `ty`: what the
/// derive's `from_row` calls for every field that is not encrypted. A column of a type the
/// client does not know by OID arrives as text (see [`crate::ColumnTypes`]): its text is the
/// label an enum's binary form holds too, so `F` decodes it as its own type.
pub fn column<F: for<'a> FromSql<'a>>(row: &Row, index: usize, ty: &Type) -> Result<F, RepoError> {
    let returned_as_text = row
        .columns()
        .get(index)
        .is_some_and(|c| *c.type_() == Type::TEXT);
    if returned_as_text && !F::accepts(&Type::TEXT) {
        let raw = row.try_get::<_, Option<TextBytes<'_>>>(index)?;
        // The decoding error may quote the value (`invalid variant "..."`): not kept.
        F::from_sql_nullable(ty, raw.map(|t| t.0)).map_err(|_| {
            RepoError::Database(DatabaseError::client(format!(
                "error deserializing column {index}"
            )))
        })
    } else {
        Ok(row.try_get(index)?)
    }
}

/// The values every statement binds first, in the order of [`Preamble`].
struct Stamp<'k> {
    user_id: Uuid,
    audit_id: Uuid,
    ip_address: Option<IpAddr>,
    user_agent: Option<&'k str>,
    request_id: Option<&'k str>,
    check_value: Option<&'k str>,
}

impl<'k> Stamp<'k> {
    fn new(actor: &Actor<'k>) -> Self {
        Stamp {
            user_id: actor.user_id(),
            audit_id: crate::audit_row_id(),
            ip_address: actor.ip_address(),
            user_agent: actor.user_agent(),
            request_id: actor.request_id(),
            check_value: actor.data_key().map(DataKey::check_value),
        }
    }

    /// The preamble's parameters.
    fn params(&self, preamble: Preamble) -> Vec<Param<'_>> {
        let mut params: Vec<Param<'_>> = Vec::with_capacity(preamble.len());
        params.push((&self.user_id, Type::UUID));
        if preamble.audited {
            params.push((&self.audit_id, Type::UUID));
            params.push((&self.ip_address, Type::INET));
            params.push((&self.user_agent, Type::TEXT));
            params.push((&self.request_id, Type::TEXT));
        }
        if preamble.key_checked {
            params.push((&self.check_value, Type::TEXT));
        }
        params
    }
}

/// What the guard said (the last two columns of every row; see [`crate::sql`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allowed,
    Refused(ActorRefusal),
    KeyMismatch,
    /// The database has no key check value yet.
    KeyUnknown,
}

fn verdict(rows: &[Row]) -> Result<Verdict, RepoError> {
    let Some(row) = rows.first() else {
        return Err(RepoError::Database(DatabaseError::client(
            "the statement returned no verdict",
        )));
    };
    let n = row.len();
    let actor: Option<&str> = row.try_get(n - 2)?;
    let key: Option<bool> = row.try_get(n - 1)?;
    Ok(match (actor, key) {
        (None, _) => Verdict::Refused(ActorRefusal::Unknown),
        (Some("deleted"), _) => Verdict::Refused(ActorRefusal::Deleted),
        (Some("active"), Some(true)) => Verdict::Allowed,
        (Some("active"), Some(false)) => Verdict::KeyMismatch,
        (Some("active"), None) => Verdict::KeyUnknown,
        (Some(_), _) => Verdict::Refused(ActorRefusal::Inactive),
    })
}

/// The error of a data key that is not the database's, on `meta`'s table.
fn key_mismatch(meta: &TableMeta) -> RepoError {
    let column = meta.first_encrypted().map_or("", |c| c.name);
    crypto::error(meta.table, column, EncryptionFailure::KeyMismatch)
}

/// Fails with a key mismatch unless `key` decrypts a stored value of `meta`'s encrypted columns
/// (when the table has any): a database written before key check values were stored must not
/// record a wrong key as its own.
async fn decrypts_a_stored_value<C: AsyncExecutor + ?Sized>(
    client: &mut C,
    meta: &TableMeta,
    key: &DataKey,
) -> Result<(), RepoError> {
    if meta.first_encrypted().is_none() {
        return Ok(());
    }
    let rows = client
        .run_unprepared(&sql::sample_encrypted(meta), &[])
        .await?;
    if let Some(row) = rows.first() {
        let encrypted = meta.columns.iter().filter(|c| c.encrypted);
        for (i, column) in encrypted.enumerate() {
            if let Some(stored) = row.try_get::<_, Option<&str>>(i)?
                && key.decrypt(meta.table, column.name, stored).is_err()
            {
                return Err(key_mismatch(meta));
            }
        }
    }
    Ok(())
}

/// Records `key` as the database's data key, once it decrypts what `meta`'s table holds.
/// Racing registrations are settled by the unique format: the loser's insert does nothing (or,
/// in REPEATABLE READ, fails with 40001), and its statement then sees the winner's value.
async fn register_key<C: AsyncExecutor + ?Sized>(
    client: &mut C,
    meta: &TableMeta,
    key: &DataKey,
) -> Result<(), RepoError> {
    decrypts_a_stored_value(client, meta, key).await?;
    record_key_check(client, key).await
}

/// Records `key`'s check value unless the database has one ([`sql::register_key_check`]).
async fn record_key_check<C: AsyncExecutor + ?Sized>(
    client: &mut C,
    key: &DataKey,
) -> Result<(), RepoError> {
    client
        .run_unprepared(
            &sql::register_key_check(),
            &[(&key.check_value(), Type::TEXT)],
        )
        .await?;
    Ok(())
}

/// The plan of `statement` (`EXPLAIN`, which runs nothing), one line per element.
async fn explain<C: AsyncExecutor + ?Sized>(
    client: &mut C,
    statement: &str,
    params: &[Param<'_>],
) -> Result<Vec<String>, RepoError> {
    let rows = client
        .run_unprepared(&format!("EXPLAIN {statement}"), params)
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<_, _>>()?)
}

/// How a guarded statement runs: prepared (by-key statements) or planned for its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Planning {
    Prepared,
    PerCall,
}

/// Runs a guarded statement of `T`'s table and returns its rows, the padding of an empty
/// result left out; refusals become errors. When the database has no key check value yet, the
/// actor's key is recorded and the statement runs once more (nothing ran the first time).
async fn run_guarded<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: &Actor<'_>,
    statement: &str,
    params: &[Param<'_>],
    planning: Planning,
    key_column: usize,
) -> Result<Vec<Row>, RepoError> {
    for first_attempt in [true, false] {
        let rows = match planning {
            Planning::Prepared => client.run(statement, params).await?,
            Planning::PerCall => client.run_unprepared(statement, params).await?,
        };
        match verdict(&rows)? {
            Verdict::Allowed => {
                let mut found = Vec::with_capacity(rows.len());
                for row in rows {
                    if row.try_get::<_, Option<Uuid>>(key_column)?.is_some() {
                        found.push(row);
                    }
                }
                return Ok(found);
            }
            Verdict::Refused(reason) => {
                return Err(RepoError::ActorRefused {
                    user_id: actor.user_id(),
                    reason,
                });
            }
            Verdict::KeyUnknown if first_attempt => match actor.data_key() {
                Some(key) => register_key(client, &T::META, key).await?,
                None => return Err(key_mismatch(&T::META)),
            },
            Verdict::KeyMismatch | Verdict::KeyUnknown => return Err(key_mismatch(&T::META)),
        }
    }
    Err(key_mismatch(&T::META))
}

/// The index of the primary key among `T`'s columns (the statements return them in order).
fn key_column<T: Table>() -> usize {
    T::META
        .columns
        .iter()
        .position(|c| c.name == T::META.primary_key)
        .unwrap_or(0)
}

/// Decodes a row of `T`, naming the row in an encryption error.
fn decode<T: Table>(row: &Row, data_key: Option<&DataKey>) -> Result<T, RepoError> {
    T::from_row(row, data_key).map_err(|e| match e {
        RepoError::Encryption {
            table,
            column,
            row: None,
            reason,
        } => RepoError::Encryption {
            table,
            column,
            row: row.try_get::<_, Uuid>(key_column::<T>()).ok(),
            reason,
        },
        other => other,
    })
}

fn decode_one<T: Table>(
    rows: &[Row],
    id: Uuid,
    data_key: Option<&DataKey>,
) -> Result<T, RepoError> {
    match rows.first() {
        Some(row) => decode(row, data_key),
        None => Err(RepoError::NotFound {
            table: T::META.table,
            id,
        }),
    }
}

/// The text of statement `shape` of `T`'s table (setting `columns`, for inserts and updates).
/// Only soft delete and restore can lack one, on a table without soft delete, and the derive
/// generates them only for tables that have it: then `NotFound` for the row `id`.
fn statement<T: Table>(shape: Shape, columns: &[&str], id: Uuid) -> Result<Arc<str>, RepoError> {
    texts::text(&T::META, T::column_types().as_text(), shape, columns).ok_or(RepoError::NotFound {
        table: T::META.table,
        id,
    })
}

/// Checks `key` against the key check value this database stores, and records it when there
/// is none yet (after checking that it decrypts a stored value of each table in `tables`, for a
/// database written before check values were stored). Every repository call that reads or
/// writes encrypted columns makes the same check in its own statement; call this at start-up to
/// fail fast on a wrong `DATA_ENCRYPTION_KEY`, before serving anything.
pub async fn check_data_key_async<C: AsyncExecutor + ?Sized>(
    client: &mut C,
    key: &DataKey,
    tables: &[&TableMeta],
) -> Result<(), RepoError> {
    if stored_check_value(client).await?.is_none() {
        for meta in tables {
            decrypts_a_stored_value(client, meta, key).await?;
        }
        record_key_check(client, key).await?;
    }
    match stored_check_value(client).await? {
        Some(stored) if stored == key.check_value() => Ok(()),
        _ => Err(crypto::error(
            crate::KEY_CHECK_TABLE,
            "check_value",
            EncryptionFailure::KeyMismatch,
        )),
    }
}

/// The check value the database stores for the current format, if any.
async fn stored_check_value<C: AsyncExecutor + ?Sized>(
    client: &mut C,
) -> Result<Option<String>, RepoError> {
    let rows = client.run_unprepared(&sql::stored_key_check(), &[]).await?;
    rows.first()
        .map(|row| row.try_get::<_, String>(0))
        .transpose()
        .map_err(Into::into)
}
