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

/// Each `fn name[generics](args) -> T = body;` becomes `pub fn name<generics>(client: &mut C,
/// args) -> Result<T, RepoError>` that runs `body` on `Blocking(client)`, with the arguments
/// passed on in order: the forms differ only in their signatures, so those are all that is
/// written out.
macro_rules! blocking_forms {
    ($(
        $(#[$doc:meta])*
        fn $name:ident[$($generics:tt)*]($($arg:ident: $arg_type:ty),* $(,)?) -> $ok:ty
            = $body:ident$(::<$($turbofish:ty),*>)?;
    )*) => {$(
        $(#[$doc])*
        pub fn $name<$($generics)*>(client: &mut C, $($arg: $arg_type),*) -> Result<$ok, RepoError> {
            blocking($body$(::<$($turbofish),*>)?(&mut Blocking(client), $($arg),*))
        }
    )*};
}

blocking_forms! {
    /// [`insert_async`] on a blocking connection.
    fn insert[T: Table, C: Executor + ?Sized](actor: Actor<'_>, values: Values<'_>) -> T
        = insert_async::<T, _>;

    /// [`get_async`] on a blocking connection.
    fn get[T: Table, C: Executor + ?Sized](actor: Actor<'_>, id: &Uuid) -> Option<T>
        = get_async::<T, _>;

    /// [`fetch_async`] on a blocking connection.
    fn fetch[T: Table, C: Executor + ?Sized](actor: Actor<'_>, id: &Uuid) -> T
        = fetch_async::<T, _>;

    /// [`update_async`] on a blocking connection.
    fn update[T: Table, C: Executor + ?Sized](actor: Actor<'_>, id: &Uuid, values: Values<'_>) -> T
        = update_async::<T, _>;

    /// [`soft_delete_async`] on a blocking connection.
    fn soft_delete[T: Table, C: Executor + ?Sized](actor: Actor<'_>, id: &Uuid) -> T
        = soft_delete_async::<T, _>;

    /// [`restore_async`] on a blocking connection.
    fn restore[T: Table, C: Executor + ?Sized](actor: Actor<'_>, id: &Uuid) -> T
        = restore_async::<T, _>;

    /// [`hard_delete_async`] on a blocking connection.
    fn hard_delete[T: Table, C: Executor + ?Sized](actor: Actor<'_>, id: &Uuid) -> ()
        = hard_delete_async::<T, _>;

    /// [`list_async`] on a blocking connection.
    fn list[T: Table, C: Executor + ?Sized](actor: Actor<'_>, page: &PageRequest<T::Key>)
        -> Page<T, T::Key> = list_async::<T, _>;

    /// [`find_containing_async`] on a blocking connection.
    fn find_containing[T: Table, C: Executor + ?Sized](
        actor: Actor<'_>, column: &'static str, filter: &Value, page: &PageRequest<T::Key>,
    ) -> Page<T, T::Key> = find_containing_async::<T, _>;

    /// [`explain_find_containing_async`] on a blocking connection.
    fn explain_find_containing[T: Table, C: Executor + ?Sized](
        actor: Actor<'_>, column: &'static str, filter: &Value, page: &PageRequest<T::Key>,
    ) -> Vec<String> = explain_find_containing_async::<T, _>;

    /// [`find_equal_async`] on a blocking connection.
    fn find_equal[T: Table, C: Executor + ?Sized, V: ToSql + Sync + SqlType](
        actor: Actor<'_>, column: &'static str, value: &V, order: Order, page: &PageRequest<T::Key>,
    ) -> Page<T, T::Key> = find_equal_async::<T, _, V>;

    /// [`explain_find_equal_async`] on a blocking connection.
    fn explain_find_equal[T: Table, C: Executor + ?Sized, V: ToSql + Sync + SqlType](
        actor: Actor<'_>, column: &'static str, value: &V, order: Order, page: &PageRequest<T::Key>,
    ) -> Vec<String> = explain_find_equal_async::<T, _, V>;

    /// Checks `key` against the key check value this database stores, and records it when there
    /// is none yet: [`check_data_key_async`] on a blocking connection.
    fn check_data_key[C: Executor + ?Sized](key: &DataKey, tables: &[&TableMeta]) -> ()
        = check_data_key_async;

    /// [`claim_async`] on a blocking connection.
    fn claim[T: Table, C: Executor + ?Sized](actor: Actor<'_>) -> Option<T>
        = claim_async::<T, _>;

    /// [`explain_claim_async`] on a blocking connection.
    fn explain_claim[T: Table, C: Executor + ?Sized](actor: Actor<'_>) -> Vec<String>
        = explain_claim_async::<T, _>;

    /// [`complete_async`] on a blocking connection.
    fn complete[T: Table, C: Executor + ?Sized](actor: Actor<'_>, id: &Uuid, result: Option<&Value>)
        -> T = complete_async::<T, _>;

    /// [`fail_async`] on a blocking connection.
    fn fail[T: Table, C: Executor + ?Sized](
        actor: Actor<'_>, id: &Uuid, error: &str, backoff: std::time::Duration,
    ) -> T = fail_async::<T, _>;
}
