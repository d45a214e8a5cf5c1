//! The generated methods' bodies, generic over the table: bind the parameters, run the statement
//! from [`crate::sql`] on an [`Executor`] (one round trip; prepared once per connection behind
//! [`crate::Prepared`]), decode the rows.

use std::rc::Rc;

use postgres::Row;
use postgres::types::{ToSql, Type};
use serde_json::Value;
use uuid::Uuid;

use crate::crypto::{self, EncryptionFailure};
use crate::executor::{Executor, Param};
use crate::page::{Cursor, KeysetKey, Page, PageRequest};
use crate::sql::{self, Listing};
use crate::texts::{self, Shape};
use crate::{Actor, DataKey, RepoError, SqlType, Table};

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

/// `$1` and `$2` of an audited statement: the actor's user id and a new audit row id.
fn audit_stamp(actor: &Actor<'_>) -> [Uuid; 2] {
    [actor.user_id(), crate::audit_row_id()]
}

fn decode_one<T: Table>(
    rows: &[postgres::Row],
    id: Uuid,
    data_key: Option<&DataKey>,
) -> Result<T, RepoError> {
    match rows.first() {
        Some(row) => T::from_row(row, data_key),
        None => Err(RepoError::NotFound {
            table: T::META.table,
            id,
        }),
    }
}

/// The text of statement `shape` of `T`'s table (setting `columns`, for inserts and updates).
/// Only soft delete and restore can lack one, on a table without soft delete, and the derive
/// generates them only for tables that have it: then `NotFound` for the row `id`.
fn statement<T: Table>(shape: Shape, columns: &[&str], id: Uuid) -> Result<Rc<str>, RepoError> {
    texts::text(&T::META, shape, columns).ok_or(RepoError::NotFound {
        table: T::META.table,
        id,
    })
}

/// Inserts a row and its `data_create` audit row; returns the row as stored.
pub fn insert<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    values: Values<'_>,
) -> Result<T, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let sealed = values.seal(T::META.table, data_key)?;
    let statement = statement::<T>(Shape::Insert, &values.columns, Uuid::nil())?;
    let [user_id, audit_id] = audit_stamp(&actor);
    let mut params: Vec<Param<'_>> = Vec::with_capacity(values.params.len() + 2);
    params.push((&user_id, Type::UUID));
    params.push((&audit_id, Type::UUID));
    params.extend(values.bind(&sealed));
    let rows = client.run(&statement, &params)?;
    match rows.first() {
        Some(row) => T::from_row(row, data_key),
        // INSERT ... RETURNING always returns the row; no row means the statement was changed
        // under us (a rule or trigger suppressing it): report it rather than invent one.
        None => Err(RepoError::NotFound {
            table: T::META.table,
            id: Uuid::nil(),
        }),
    }
}

/// The live row `id`, or `None`. On a table with PHI, writes a `data_access` audit row too
/// (`success` false when there is no such row).
pub fn get<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<Option<T>, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let rows = if T::META.audits_reads() {
        by_id::<T, C>(client, actor, id, Shape::Get)?
    } else {
        let statement = statement::<T>(Shape::Get, &[], *id)?;
        client.run(&statement, &[(id, Type::UUID)])?
    };
    rows.first()
        .map(|row| T::from_row(row, data_key))
        .transpose()
}

/// Updates the columns in `values` of the live row `id` and writes a `data_update` audit row
/// with the changed columns' old and new values (PII/PHI as keyed hashes).
pub fn update<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
    values: Values<'_>,
) -> Result<T, RepoError> {
    if values.columns.is_empty() {
        return Err(RepoError::EmptyPatch {
            table: T::META.table,
        });
    }
    let data_key = data_key::<T>(&actor)?;
    let sealed = values.seal(T::META.table, data_key)?;
    let statement = statement::<T>(Shape::Update, &values.columns, *id)?;
    let hashed = values
        .columns
        .iter()
        .any(|c| T::META.column(c).is_none_or(|m| m.is_sensitive()));
    let [user_id, audit_id] = audit_stamp(&actor);
    let mut params: Vec<Param<'_>> = Vec::with_capacity(values.params.len() + 5);
    params.push((&user_id, Type::UUID));
    params.push((&audit_id, Type::UUID));
    params.push((id, Type::UUID));
    params.extend(values.bind(&sealed));
    if hashed {
        params.push((actor.key().opad(), Type::BYTEA));
        params.push((actor.key().ipad(), Type::BYTEA));
    }
    let rows = client.run(&statement, &params)?;
    decode_one(&rows, *id, data_key)
}

/// Runs the audited by-key statement `shape` on the row `id`.
fn by_id<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
    shape: Shape,
) -> Result<Vec<postgres::Row>, RepoError> {
    let statement = statement::<T>(shape, &[], *id)?;
    let [user_id, audit_id] = audit_stamp(&actor);
    Ok(client.run(
        &statement,
        &[
            (&user_id, Type::UUID),
            (&audit_id, Type::UUID),
            (id, Type::UUID),
        ],
    )?)
}

/// Soft-deletes the live row `id` (`data_delete` audit row); returns it as stored.
pub fn soft_delete<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let rows = by_id::<T, C>(client, actor, id, Shape::SoftDelete)?;
    decode_one(&rows, *id, data_key)
}

/// Restores the soft-deleted row `id` (`data_update` audit row); returns it as stored.
pub fn restore<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let rows = by_id::<T, C>(client, actor, id, Shape::Restore)?;
    decode_one(&rows, *id, data_key)
}

/// Deletes the row `id` for good (`data_delete` audit row).
pub fn hard_delete<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<(), RepoError> {
    let rows = by_id::<T, C>(client, actor, id, Shape::HardDelete)?;
    if rows.is_empty() {
        return Err(RepoError::NotFound {
            table: T::META.table,
            id: *id,
        });
    }
    Ok(())
}

/// The statement and parameters of a listing, shared by [`list`], [`find_containing`] and
/// [`explain_find_containing`] so that what is explained is exactly what runs.
fn listing<'a, T: Table>(
    stamp: &'a [Uuid; 2],
    page: &'a PageRequest<T::Key>,
    limit: &'a i64,
    contains: Option<(&'static str, &'a Value)>,
) -> (String, Vec<Param<'a>>) {
    let after = page.after.as_ref().map(Cursor::key);
    let statement = sql::list(
        &T::META,
        Listing {
            after_arity: after.map_or(0, |_| T::Key::ARITY),
            include_deleted: page.include_deleted,
            contains: contains.map(|(column, _)| column),
        },
    );
    let mut params: Vec<Param<'a>> = Vec::new();
    if T::META.audits_reads() {
        params.extend(
            stamp
                .iter()
                .map(|id| (id as &(dyn ToSql + Sync), Type::UUID)),
        );
    }
    if let Some(key) = after {
        params.extend(key.params());
    }
    if let Some((_, filter)) = contains {
        params.push((filter, Type::JSONB));
    }
    params.push((limit, Type::INT8));
    (statement, params)
}

fn run_listing<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    page: &PageRequest<T::Key>,
    contains: Option<(&'static str, &Value)>,
) -> Result<Page<T, T::Key>, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let stamp = audit_stamp(&actor);
    let limit = i64::from(page.limit.max(1));
    let (statement, params) = listing::<T>(&stamp, page, &limit, contains);
    let rows = client.run_unprepared(&statement, &params)?;
    let items = rows
        .iter()
        .map(|row| T::from_row(row, data_key))
        .collect::<Result<Vec<T>, _>>()?;
    let full = i64::try_from(items.len()).is_ok_and(|n| n >= limit);
    let next = items
        .last()
        .filter(|_| full)
        .map(|last| Cursor::new(last.key()));
    Ok(Page { items, next })
}

/// A page of rows in listing order; soft-deleted rows only when asked for. On a table with PHI,
/// one `data_access` audit row names the ids returned.
pub fn list<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    run_listing(client, actor, page, None)
}

/// Like [`list`], only rows whose JSONB `column` contains `filter` (`@>`, served by the
/// column's GIN index).
pub fn find_containing<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    filter: &Value,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    run_listing(client, actor, page, Some((column, filter)))
}

/// The plan of [`find_containing`]'s statement (`EXPLAIN`, which runs nothing and writes no
/// audit row), one line per element.
pub fn explain_find_containing<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    filter: &Value,
    page: &PageRequest<T::Key>,
) -> Result<Vec<String>, RepoError> {
    let stamp = audit_stamp(&actor);
    let limit = i64::from(page.limit.max(1));
    let (statement, params) = listing::<T>(&stamp, page, &limit, Some((column, filter)));
    let rows = client.run_unprepared(&format!("EXPLAIN {statement}"), &params)?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<_, _>>()?)
}
