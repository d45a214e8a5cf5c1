use super::{
    Planning, Stamp, Values, data_key, decode, decode_one, key_column, run_guarded, statement,
};
use crate::executor::{AsyncExecutor, Param};
use crate::sql::{Preamble, Shape};
use crate::{Actor, RepoError, Table};
use postgres::Row;
use postgres::types::Type;
use uuid::Uuid;

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
