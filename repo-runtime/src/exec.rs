//! The generated methods' bodies, generic over the table: bind the parameters, run the statement
//! from [`crate::sql`] on an [`Executor`] (one round trip; prepared once per connection behind
//! [`crate::Prepared`]), read the guard's verdict, decode the rows.

use std::net::IpAddr;
use std::sync::Arc;

use postgres::Row;
use postgres::types::{FromSql, ToSql, Type};
use serde_json::Value;
use uuid::Uuid;

use crate::crypto::{self, EncryptionFailure};
use crate::error::{ActorRefusal, DatabaseError, RequestError};
use crate::executor::{AsyncExecutor, Blocking, Executor, Param, blocking};
use crate::page::{Cursor, KeysetKey, Order, Page, PageRequest, Unreadable};
use crate::sql::{self, Listing, Preamble, Shape};
use crate::texts;
use crate::{Actor, DataKey, RepoError, SqlType, Table, TableMeta};

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
    client
        .run_unprepared(
            &sql::register_key_check(),
            &[(&key.check_value(), Type::TEXT)],
        )
        .await?;
    Ok(())
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

/// Inserts a row and its `data_create` audit row; returns the row as stored.
pub async fn insert_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    values: Values<'_>,
) -> Result<T, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let sealed = values.seal(T::META.table, data_key)?;
    let statement = statement::<T>(Shape::Insert, &values.columns, Uuid::nil())?;
    let stamp = Stamp::new(&actor);
    let mut params = stamp.params(Preamble::of(&T::META, Shape::Insert));
    params.extend(values.bind(&sealed));
    let rows = run_guarded::<T, C>(
        client,
        &actor,
        &statement,
        &params,
        Planning::Prepared,
        key_column::<T>(),
    )
    .await?;
    // No row: a trigger or rule suppressed the insert; report it rather than invent one.
    decode_one(&rows, Uuid::nil(), data_key)
}

/// Runs the by-key statement `shape` on the row `id`, with `own` parameters after the id.
async fn by_id<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: &Actor<'_>,
    id: &Uuid,
    shape: Shape,
    columns: &[&str],
    own: &[Param<'_>],
) -> Result<Vec<Row>, RepoError> {
    let statement = statement::<T>(shape, columns, *id)?;
    let stamp = Stamp::new(actor);
    let mut params = stamp.params(Preamble::of(&T::META, shape));
    params.push((id, Type::UUID));
    params.extend(own.iter().cloned());
    let key = if shape == Shape::HardDelete {
        0
    } else {
        key_column::<T>()
    };
    run_guarded::<T, C>(client, actor, &statement, &params, Planning::Prepared, key).await
}

/// The live row `id`, or `None`. On a table with PHI, writes a `data_access` audit row too
/// (`success` false when there is no such row).
pub async fn get_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<Option<T>, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let rows = by_id::<T, C>(client, &actor, id, Shape::Get, &[], &[]).await?;
    rows.first().map(|row| decode(row, data_key)).transpose()
}

/// The live row `id`, or [`RepoError::NotFound`] (what [`update`] answers for a missing row);
/// audited like [`get`].
pub async fn fetch_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    get_async::<T, C>(client, actor, id)
        .await?
        .ok_or(RepoError::NotFound {
            table: T::META.table,
            id: *id,
        })
}

/// Updates the columns in `values` of the live row `id` and writes a `data_update` audit row
/// with the changed columns' old and new values (PII/PHI as keyed hashes).
pub async fn update_async<T: Table, C: AsyncExecutor + ?Sized>(
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
    let hashed = values
        .columns
        .iter()
        .any(|c| T::META.column(c).is_none_or(|m| m.is_sensitive()));
    let columns = values.columns.clone();
    let mut own: Vec<Param<'_>> = values.bind(&sealed).collect();
    if hashed {
        own.push((actor.key().opad(), Type::BYTEA));
        own.push((actor.key().ipad(), Type::BYTEA));
    }
    let rows = by_id::<T, C>(client, &actor, id, Shape::Update, &columns, &own).await?;
    decode_one(&rows, *id, data_key)
}

/// Soft-deletes the live row `id` (`data_delete` audit row); returns it as stored.
pub async fn soft_delete_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let rows = by_id::<T, C>(client, &actor, id, Shape::SoftDelete, &[], &[]).await?;
    decode_one(&rows, *id, data_key)
}

/// Restores the soft-deleted row `id` (`data_update` audit row); returns it as stored.
pub async fn restore_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let rows = by_id::<T, C>(client, &actor, id, Shape::Restore, &[], &[]).await?;
    decode_one(&rows, *id, data_key)
}

/// Deletes the row `id` for good, and the rows its cascade removes (`data_delete` audit rows
/// for each).
pub async fn hard_delete_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<(), RepoError> {
    let rows = by_id::<T, C>(client, &actor, id, Shape::HardDelete, &[], &[]).await?;
    if rows.is_empty() {
        return Err(RepoError::NotFound {
            table: T::META.table,
            id: *id,
        });
    }
    Ok(())
}

/// What a listing selects by, besides soft deletion and its cursor.
#[derive(Clone)]
enum Filter<'a> {
    /// Every row (`list`).
    All,
    /// Rows whose JSONB column contains the value (`find_by_<column>_containing`).
    Contains(&'static str, &'a Value),
    /// Rows whose column equals the value (`find_by_<column>`).
    Equals(&'static str, Param<'a>),
}

impl Filter<'_> {
    fn contains(&self) -> Option<&'static str> {
        match self {
            Filter::Contains(column, _) => Some(column),
            _ => None,
        }
    }

    fn equals(&self) -> Option<&'static str> {
        match self {
            Filter::Equals(column, _) => Some(column),
            _ => None,
        }
    }
}

/// The listing a cursor is sealed to: the key columns, the column a finder compares and the
/// direction. A cursor of one listing is refused by every other.
fn scope<T: Table>(filter: &Filter<'_>, order: Order) -> String {
    let by = match filter {
        Filter::All => String::new(),
        Filter::Contains(column, _) => format!("@>{column}"),
        Filter::Equals(column, _) => format!("={column}"),
    };
    let direction = match order {
        Order::Ascending => "",
        Order::Descending => " desc",
    };
    format!("{}{by}{direction}", sql::listing_order(&T::META).join(","))
}

/// A listing's request, checked: its limit and the position its cursor holds, opened.
struct Checked<K> {
    limit: i64,
    after: Option<K>,
}

fn check<T: Table>(
    actor: &Actor<'_>,
    page: &PageRequest<T::Key>,
    filter: &Filter<'_>,
    order: Order,
) -> Result<Checked<T::Key>, RepoError> {
    let refuse = |reason| RepoError::InvalidRequest {
        table: T::META.table,
        reason,
    };
    let limit = page.checked_limit().map_err(refuse)?;
    if let Filter::Contains(column, filter) = filter {
        let empty = match filter {
            Value::Object(o) => o.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if empty {
            return Err(refuse(RequestError::EmptyFilter { column }));
        }
    }
    let after = match &page.after {
        Some(cursor) => Some(
            cursor
                .open(actor.key(), T::META.table, &scope::<T>(filter, order))
                .ok_or_else(|| refuse(RequestError::Cursor))?,
        ),
        None => None,
    };
    Ok(Checked { limit, after })
}

/// The statement and parameters of a listing, shared by [`list`], the finders and their
/// `explain_` twins, so that what is explained is exactly what runs.
fn listing<'a, T: Table>(
    stamp: &'a Stamp<'_>,
    page: &'a PageRequest<T::Key>,
    checked: &'a Checked<T::Key>,
    filter: &Filter<'a>,
    order: Order,
) -> (String, Vec<Param<'a>>) {
    let statement = sql::list(
        &T::META,
        Listing {
            after_arity: checked.after.as_ref().map_or(0, |_| T::Key::ARITY),
            include_deleted: page.include_deleted,
            contains: filter.contains(),
            equals: filter.equals(),
            descending: order == Order::Descending,
        },
        T::column_types().as_text(),
    );
    let mut params = stamp.params(Preamble::of(&T::META, Shape::List));
    if let Filter::Equals(_, value) = filter {
        params.push(value.clone());
    }
    if let Some(key) = &checked.after {
        params.extend(key.params());
    }
    if let Filter::Contains(_, value) = filter {
        params.push((*value, Type::JSONB));
    }
    params.push((&checked.limit, Type::INT8));
    (statement, params)
}

async fn run_listing<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    page: &PageRequest<T::Key>,
    filter: Filter<'_>,
    order: Order,
) -> Result<Page<T, T::Key>, RepoError> {
    let data_key = data_key::<T>(&actor)?;
    let checked = check::<T>(&actor, page, &filter, order)?;
    let stamp = Stamp::new(&actor);
    let (statement, params) = listing::<T>(&stamp, page, &checked, &filter, order);
    let rows = run_guarded::<T, C>(
        client,
        &actor,
        &statement,
        &params,
        Planning::PerCall,
        key_column::<T>(),
    )
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    for row in &rows {
        match decode::<T>(row, data_key) {
            Ok(item) => items.push(item),
            Err(RepoError::Encryption {
                column,
                row: Some(id),
                reason,
                ..
            }) => unreadable.push(Unreadable { id, column, reason }),
            Err(e) => return Err(e),
        }
    }
    let full = i64::try_from(rows.len()).is_ok_and(|n| n >= checked.limit);
    let next = match rows.last().filter(|_| full) {
        Some(last) => Some(Cursor::seal(
            actor.key(),
            T::META.table,
            &scope::<T>(&filter, order),
            &T::row_key(last)?,
        )?),
        None => None,
    };
    Ok(Page {
        items,
        next,
        unreadable,
    })
}

/// The plan of a listing's statement (`EXPLAIN`, which runs nothing and writes no audit row),
/// one line per element.
async fn explain_listing<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    page: &PageRequest<T::Key>,
    filter: Filter<'_>,
    order: Order,
) -> Result<Vec<String>, RepoError> {
    let checked = check::<T>(&actor, page, &filter, order)?;
    let stamp = Stamp::new(&actor);
    let (statement, params) = listing::<T>(&stamp, page, &checked, &filter, order);
    let rows = client
        .run_unprepared(&format!("EXPLAIN {statement}"), &params)
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<_, _>>()?)
}

/// A page of rows in listing order; soft-deleted rows only when asked for. On a table with PHI,
/// one `data_access` audit row names the ids returned. A row that does not decrypt is named in
/// [`Page::unreadable`] instead of failing the page (a page is never silently short).
pub async fn list_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    run_listing(client, actor, page, Filter::All, Order::Ascending).await
}

/// Like [`list`], only rows whose JSONB `column` contains `filter` (`@>`, served by the
/// column's GIN index). An empty filter (`{}`, `[]`) is refused: it would list every row.
pub async fn find_containing_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    filter: &Value,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    run_listing(
        client,
        actor,
        page,
        Filter::Contains(column, filter),
        Order::Ascending,
    )
    .await
}

/// The plan of [`find_containing`]'s statement.
pub async fn explain_find_containing_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    filter: &Value,
    page: &PageRequest<T::Key>,
) -> Result<Vec<String>, RepoError> {
    explain_listing::<T, C>(
        client,
        actor,
        page,
        Filter::Contains(column, filter),
        Order::Ascending,
    )
    .await
}

/// Like [`list`] in `order`, only rows whose `column` equals `value` (served by a btree index
/// that leads with the column). On a table with PHI the audit row names the column and the value
/// (a PII/PHI column's value as `"[redacted]"`).
pub async fn find_equal_async<T: Table, C: AsyncExecutor + ?Sized, V: ToSql + Sync + SqlType>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    value: &V,
    order: Order,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    let filter = Filter::Equals(column, (value, V::sql_type()));
    run_listing(client, actor, page, filter, order).await
}

/// The plan of [`find_equal`]'s statement.
pub async fn explain_find_equal_async<
    T: Table,
    C: AsyncExecutor + ?Sized,
    V: ToSql + Sync + SqlType,
>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    value: &V,
    order: Order,
    page: &PageRequest<T::Key>,
) -> Result<Vec<String>, RepoError> {
    let filter = Filter::Equals(column, (value, V::sql_type()));
    explain_listing::<T, C>(client, actor, page, filter, order).await
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
        client
            .run_unprepared(
                &sql::register_key_check(),
                &[(&key.check_value(), Type::TEXT)],
            )
            .await?;
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

/// Runs a queue statement ([`sql::claim`], [`sql::complete`], [`sql::fail`]) on `T`'s table with
/// `own` parameters after the preamble; its rows, decoded.
async fn queue_statement<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: &Actor<'_>,
    statement: &str,
    own: &[Param<'_>],
) -> Result<Vec<T>, RepoError> {
    let data_key = data_key::<T>(actor)?;
    let stamp = Stamp::new(actor);
    let preamble = Preamble {
        audited: true,
        key_checked: T::META.first_encrypted().is_some(),
    };
    let mut params = stamp.params(preamble);
    params.extend(own.iter().cloned());
    let rows = run_guarded::<T, C>(
        client,
        actor,
        statement,
        &params,
        Planning::Prepared,
        key_column::<T>(),
    )
    .await?;
    rows.iter().map(|row| decode::<T>(row, data_key)).collect()
}

/// Claims the next runnable job of `T`'s queue table (see [`sql::claim`]): one statement takes
/// the first `pending`, due row by priority that no other transaction holds (`FOR UPDATE SKIP
/// LOCKED`), marks it `processing`, counts the attempt and writes its `data_update` audit row
/// (action `claim`). `None` when no job is runnable now.
pub async fn claim_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
) -> Result<Option<T>, RepoError> {
    let statement = sql::claim(&T::META, T::column_types().as_text());
    let rows = queue_statement::<T, C>(client, &actor, &statement, &[]).await?;
    Ok(rows.into_iter().next())
}

/// The plan of [`claim_async`]'s statement (`EXPLAIN`, not run: nothing is claimed or audited),
/// one line per row, to check that it uses the queue's index.
pub async fn explain_claim_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
) -> Result<Vec<String>, RepoError> {
    let statement = sql::claim(&T::META, T::column_types().as_text());
    let stamp = Stamp::new(&actor);
    let params = stamp.params(Preamble {
        audited: true,
        key_checked: T::META.first_encrypted().is_some(),
    });
    let rows = client
        .run_unprepared(&format!("EXPLAIN {statement}"), &params)
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<_, _>>()?)
}

/// Completes the claimed job `id` with its `result` (see [`sql::complete`]); `NotFound` when
/// there is no such job in `processing`.
pub async fn complete_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
    result: Option<&Value>,
) -> Result<T, RepoError> {
    let statement = sql::complete(&T::META, T::column_types().as_text());
    let rows = queue_statement::<T, C>(
        client,
        &actor,
        &statement,
        &[(id, Type::UUID), (&result, Type::JSONB)],
    )
    .await?;
    rows.into_iter().next().ok_or(RepoError::NotFound {
        table: T::META.table,
        id: *id,
    })
}

/// Fails the claimed job `id` with `error` (see [`sql::fail`]): back to `pending` after
/// `backoff` doubled per earlier attempt (at most a day) while it has attempts left, else
/// `failed`. `NotFound` when there is no such job in `processing`.
pub async fn fail_async<T: Table, C: AsyncExecutor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
    error: &str,
    backoff: std::time::Duration,
) -> Result<T, RepoError> {
    let statement = sql::fail(&T::META, T::column_types().as_text());
    let millis = backoff.as_secs_f64() * 1000.0;
    let rows = queue_statement::<T, C>(
        client,
        &actor,
        &statement,
        &[
            (id, Type::UUID),
            (&error, Type::TEXT),
            (&millis, Type::FLOAT8),
        ],
    )
    .await?;
    rows.into_iter().next().ok_or(RepoError::NotFound {
        table: T::META.table,
        id: *id,
    })
}

// The blocking forms: the same bodies, on a blocking `Executor` (whose calls complete before
// they return, so each body runs to its end in one poll; see `executor::blocking`).

/// [`insert_async`] on a blocking connection.
pub fn insert<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    values: Values<'_>,
) -> Result<T, RepoError> {
    blocking(insert_async::<T, _>(&mut Blocking(client), actor, values))
}

/// [`get_async`] on a blocking connection.
pub fn get<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<Option<T>, RepoError> {
    blocking(get_async::<T, _>(&mut Blocking(client), actor, id))
}

/// [`fetch_async`] on a blocking connection.
pub fn fetch<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    blocking(fetch_async::<T, _>(&mut Blocking(client), actor, id))
}

/// [`update_async`] on a blocking connection.
pub fn update<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
    values: Values<'_>,
) -> Result<T, RepoError> {
    blocking(update_async::<T, _>(
        &mut Blocking(client),
        actor,
        id,
        values,
    ))
}

/// [`soft_delete_async`] on a blocking connection.
pub fn soft_delete<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    blocking(soft_delete_async::<T, _>(&mut Blocking(client), actor, id))
}

/// [`restore_async`] on a blocking connection.
pub fn restore<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<T, RepoError> {
    blocking(restore_async::<T, _>(&mut Blocking(client), actor, id))
}

/// [`hard_delete_async`] on a blocking connection.
pub fn hard_delete<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
) -> Result<(), RepoError> {
    blocking(hard_delete_async::<T, _>(&mut Blocking(client), actor, id))
}

/// [`list_async`] on a blocking connection.
pub fn list<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    blocking(list_async::<T, _>(&mut Blocking(client), actor, page))
}

/// [`find_containing_async`] on a blocking connection.
pub fn find_containing<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    filter: &Value,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    blocking(find_containing_async::<T, _>(
        &mut Blocking(client),
        actor,
        column,
        filter,
        page,
    ))
}

/// [`explain_find_containing_async`] on a blocking connection.
pub fn explain_find_containing<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    filter: &Value,
    page: &PageRequest<T::Key>,
) -> Result<Vec<String>, RepoError> {
    blocking(explain_find_containing_async::<T, _>(
        &mut Blocking(client),
        actor,
        column,
        filter,
        page,
    ))
}

/// [`find_equal_async`] on a blocking connection.
pub fn find_equal<T: Table, C: Executor + ?Sized, V: ToSql + Sync + SqlType>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    value: &V,
    order: Order,
    page: &PageRequest<T::Key>,
) -> Result<Page<T, T::Key>, RepoError> {
    blocking(find_equal_async::<T, _, V>(
        &mut Blocking(client),
        actor,
        column,
        value,
        order,
        page,
    ))
}

/// [`explain_find_equal_async`] on a blocking connection.
pub fn explain_find_equal<T: Table, C: Executor + ?Sized, V: ToSql + Sync + SqlType>(
    client: &mut C,
    actor: Actor<'_>,
    column: &'static str,
    value: &V,
    order: Order,
    page: &PageRequest<T::Key>,
) -> Result<Vec<String>, RepoError> {
    blocking(explain_find_equal_async::<T, _, V>(
        &mut Blocking(client),
        actor,
        column,
        value,
        order,
        page,
    ))
}

/// Checks `key` against the key check value this database stores, and records it when there
/// is none yet: [`check_data_key_async`] on a blocking connection.
pub fn check_data_key<C: Executor + ?Sized>(
    client: &mut C,
    key: &DataKey,
    tables: &[&TableMeta],
) -> Result<(), RepoError> {
    blocking(check_data_key_async(&mut Blocking(client), key, tables))
}

/// [`claim_async`] on a blocking connection.
pub fn claim<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
) -> Result<Option<T>, RepoError> {
    blocking(claim_async::<T, _>(&mut Blocking(client), actor))
}

/// [`explain_claim_async`] on a blocking connection.
pub fn explain_claim<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
) -> Result<Vec<String>, RepoError> {
    blocking(explain_claim_async::<T, _>(&mut Blocking(client), actor))
}

/// [`complete_async`] on a blocking connection.
pub fn complete<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
    result: Option<&Value>,
) -> Result<T, RepoError> {
    blocking(complete_async::<T, _>(
        &mut Blocking(client),
        actor,
        id,
        result,
    ))
}

/// [`fail_async`] on a blocking connection.
pub fn fail<T: Table, C: Executor + ?Sized>(
    client: &mut C,
    actor: Actor<'_>,
    id: &Uuid,
    error: &str,
    backoff: std::time::Duration,
) -> Result<T, RepoError> {
    blocking(fail_async::<T, _>(
        &mut Blocking(client),
        actor,
        id,
        error,
        backoff,
    ))
}
