//! The blocking forms: the same bodies, on a blocking `Executor` (whose calls complete before
//! they return, so each body runs to its end in one poll; see `executor::blocking`).

use super::{
    Values, check_data_key_async, claim_async, complete_async, explain_claim_async,
    explain_find_containing_async, explain_find_equal_async, fail_async, fetch_async,
    find_containing_async, find_equal_async, get_async, hard_delete_async, insert_async,
    list_async, restore_async, soft_delete_async, update_async,
};
use crate::executor::{Blocking, Executor, blocking};
use crate::page::{Order, Page, PageRequest};
use crate::{Actor, DataKey, RepoError, SqlType, Table, TableMeta};
use postgres::types::ToSql;
use serde_json::Value;
use uuid::Uuid;

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
