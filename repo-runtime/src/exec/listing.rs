use super::{Planning, Stamp, data_key, decode, explain, key_column, run_guarded};
use crate::error::RequestError;
use crate::executor::{AsyncExecutor, Param};
use crate::page::{Cursor, KeysetKey, Order, Page, PageRequest, Unreadable};
use crate::sql::{Listing, Preamble, Shape};
use crate::{Actor, RepoError, SqlType, Table, sql};
use postgres::types::{ToSql, Type};
use serde_json::Value;

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
    explain(client, &statement, &params).await
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
