//! Keyset pagination: pages in a stable order, resumed after the last row seen.
//!
//! A page is "the next `limit` rows whose key is greater than the cursor's", never "rows
//! `offset..offset + limit`": rows inserted or deleted between two page fetches therefore cannot
//! make a pre-existing row appear twice or be skipped, and a deep page costs what the first does.

use postgres::types::{ToSql, Type};
use serde::{Deserialize, Serialize};

use crate::SqlType;

/// A position in a listing: the key of the last row of a page. Serializable, so an API can hand
/// it to its client and take it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor<K>(K);

impl<K> Cursor<K> {
    /// A cursor just after the row whose key is `key`.
    pub fn new(key: K) -> Self {
        Cursor(key)
    }

    /// The key of the last row seen.
    pub fn key(&self) -> &K {
        &self.0
    }
}

/// Which page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K> {
    /// At most this many rows (at least 1 is asked for).
    pub limit: u32,
    /// Start after this position; `None` for the first page.
    pub after: Option<Cursor<K>>,
    /// Also list soft-deleted rows (they are left out by default).
    pub include_deleted: bool,
}

impl<K> PageRequest<K> {
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
}

/// One page of rows and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, K> {
    /// The rows, in listing order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` when this page was not full, so there is no more.
    /// A full last page is followed by an empty one.
    pub next: Option<Cursor<K>>,
}

impl<T, K: Clone> Page<T, K> {
    /// The request for the page after this one, with the same limit and filter as `request`;
    /// `None` when this was the last page.
    pub fn next_request(&self, request: &PageRequest<K>) -> Option<PageRequest<K>> {
        self.next.clone().map(|cursor| PageRequest {
            after: Some(cursor),
            ..request.clone()
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
