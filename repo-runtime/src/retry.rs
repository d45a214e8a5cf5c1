//! Running a transaction again when it lost a race ([`RepoError::Retryable`]).
//!
//! PostgreSQL rolls back a transaction that deadlocked (40P01), could not be serialized
//! (40001, under `REPEATABLE READ` or `SERIALIZABLE`) or did not get a lock in time (55P03,
//! `lock_timeout`, `NOWAIT`). Nothing of it stays, audit rows included; running the *whole*
//! transaction again (not only its last statement) is the answer, which [`retry`] does.

use std::time::Duration;

use crate::RepoError;

/// The first pause between attempts; each next one doubles, up to [`MAX_PAUSE`], with jitter.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause between attempts.
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// Runs `transaction` (which begins, does its work and commits a transaction) up to `attempts`
/// times while it fails with [`RepoError::Retryable`], pausing between attempts (exponential
/// back-off from 5 ms to 200 ms, with jitter, so that the transactions that collided do not
/// collide again). Any other error, or the last attempt's, is returned as it is. `attempts` of 0
/// counts as 1.
///
/// The closure must run the whole transaction: a transaction that failed is rolled back, and
/// retrying its last statement alone would run it outside what came before.
///
/// ```no_run
/// # fn demo(client: &mut postgres::Client) -> Result<(), repo_runtime::RepoError> {
/// repo_runtime::retry(5, || {
///     let mut tx = client.transaction()?;
///     // File::insert(&mut tx, actor, &new_file)?;
///     // Case::update(&mut tx, actor, &case_id, &patch)?;
///     tx.commit()?;
///     Ok(())
/// })
/// # }
/// ```
///
/// This blocks the thread while it pauses: in an async service, loop over the async call with
/// the runtime's sleep instead.
pub fn retry<T>(
    attempts: u32,
    mut transaction: impl FnMut() -> Result<T, RepoError>,
) -> Result<T, RepoError> {
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        match transaction() {
            Err(e) if e.is_retryable() && attempt < attempts => {
                std::thread::sleep(jitter(pause));
                pause = (pause * 2).min(MAX_PAUSE);
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// A pause between half of `pause` and `pause`, drawn at random.
fn jitter(pause: Duration) -> Duration {
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    let half = pause / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_nanos(random % nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DatabaseError;

    fn deadlock() -> RepoError {
        RepoError::Retryable(DatabaseError::client("deadlock detected"))
    }

    #[test]
    fn retryable_errors_run_the_transaction_again() {
        let mut runs = 0;
        let result = retry(5, || {
            runs += 1;
            if runs < 3 { Err(deadlock()) } else { Ok(runs) }
        });
        assert_eq!(result.ok(), Some(3));
    }

    #[test]
    fn other_errors_and_the_last_attempt_are_returned() {
        let mut runs = 0;
        let result: Result<(), _> = retry(5, || {
            runs += 1;
            Err(RepoError::EmptyPatch { table: "t" })
        });
        assert!(matches!(result, Err(RepoError::EmptyPatch { .. })));
        assert_eq!(runs, 1);

        let mut runs = 0;
        let result: Result<(), _> = retry(3, || {
            runs += 1;
            Err(deadlock())
        });
        assert!(result.is_err_and(|e| e.is_retryable()));
        assert_eq!(runs, 3);

        let mut runs = 0;
        let _ = retry(0, || {
            runs += 1;
            Err::<(), _>(deadlock())
        });
        assert_eq!(runs, 1);
    }

    #[test]
    fn pauses_stay_between_half_and_the_whole() {
        for _ in 0..100 {
            let p = jitter(Duration::from_millis(10));
            assert!(
                p >= Duration::from_millis(5) && p <= Duration::from_millis(10),
                "{p:?}"
            );
        }
    }
}
