use super::{Planning, Stamp, data_key, decode, explain, key_column, run_guarded};
use crate::executor::{AsyncExecutor, Param};
use crate::sql::Preamble;
use crate::{Actor, RepoError, Table, sql};
use postgres::types::Type;
use serde_json::Value;
use uuid::Uuid;

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
    explain(client, &statement, &params).await
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
