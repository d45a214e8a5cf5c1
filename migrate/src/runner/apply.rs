//! Running one migration script, so that neither a blocker nor a crash leaves the database or the
//! application worse off:
//! - a transactional script runs in one transaction with its record, under `SET LOCAL` timeouts;
//!   a lock timeout rolls it back whole, and it is tried again after a wait;
//! - a no-transaction script runs statement by statement, each retried the same way, and the
//!   number of statements done is recorded after each one, so a run that dies half-way (runner
//!   killed, server crash, connection cut) is resumed by the next at the statement it stopped
//!   in. That statement may have completed without being recorded, so it runs again: codegen
//!   writes such statements idempotently (`IF [NOT] EXISTS`), and an INVALID index left by an
//!   interrupted `CREATE INDEX CONCURRENTLY` is dropped before the index is built again (`IF NOT
//!   EXISTS` would otherwise accept the broken one).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use pg_query::NodeEnum;
use postgres::error::SqlState;

use super::Runner;
use super::blockers::{Sighting, Watch};
use super::partitions::{ParentIndex, qualified};
use super::retry::Backoff;
use super::settings::{LOCK_RETRY_BUDGET_ENV, STATEMENT_TIMEOUT_ENV, StepSettings};
use crate::duration::display;
use crate::history::{self, Directives, MigrationFile};

/// Which script of a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Up,
    Down,
}

impl Direction {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    pub(super) fn script(self, m: &MigrationFile) -> &str {
        match self {
            Direction::Up => &m.up,
            Direction::Down => &m.down,
        }
    }
}

/// How one attempt at a step ended, when it did not succeed.
pub(super) enum Attempt {
    /// The step gave up waiting for a lock: worth another try later.
    LockTimeout,
    /// Anything else: the message says what and what to do.
    Failed(String),
}

/// One statement of a no-transaction script.
#[derive(Debug)]
pub(super) struct Statement {
    pub(super) text: String,
    /// Its first line in the script, from 1.
    pub(super) line: usize,
    /// Whether it takes a lock that blocks the application's reads or writes.
    pub(super) blocks_application: bool,
    /// For `CREATE INDEX CONCURRENTLY`: the table (as SQL) and the index it builds.
    concurrent_index: Option<(String, String)>,
    /// For `CREATE INDEX ... ON ONLY`: the index the runner then completes per partition.
    parent_index: Option<ParentIndex>,
}

/// The statements of a no-transaction script, told apart by PostgreSQL's parser.
pub(super) fn statements_of(file: &str, script: &str) -> Result<Vec<Statement>, String> {
    let statements = model::replay::parse_script(script).map_err(|e| {
        format!(
            "{file}:{}:{}: syntax error: {}",
            e.pos.line, e.pos.column, e.message
        )
    })?;
    Ok(statements
        .into_iter()
        .map(|statement| {
            // The CONCURRENTLY forms take a lock that blocks neither reads nor writes.
            let blocks_application = model::locks::concurrent_operation(&statement.node).is_none();
            let concurrent_index = match &statement.node {
                NodeEnum::IndexStmt(index) if index.concurrent => {
                    let table = index
                        .relation
                        .as_ref()
                        .map(|r| qualified(&r.schemaname, &r.relname));
                    table
                        .filter(|_| !index.idxname.is_empty())
                        .map(|table| (table, index.idxname.clone()))
                }
                _ => None,
            };
            Statement {
                text: statement.text.to_string(),
                line: statement.pos.line,
                blocks_application,
                concurrent_index,
                parent_index: ParentIndex::of(&statement.node),
            }
        })
        .collect())
}

/// What went wrong in `context`, classified: lock timeouts are retried, the rest explained.
pub(super) fn classify(
    url: &str,
    context: &str,
    error: &postgres::Error,
    step: &StepSettings,
) -> Attempt {
    let Some(db) = error.as_db_error() else {
        return Attempt::Failed(lost_connection(url, context, &error.to_string()));
    };
    let code = db.code();
    if code == &SqlState::LOCK_NOT_AVAILABLE {
        return Attempt::LockTimeout;
    }
    if code == &SqlState::QUERY_CANCELED && db.message().contains("statement timeout") {
        let limit = step.statement_timeout.map(display).unwrap_or_default();
        return Attempt::Failed(format!(
            "{context}: it ran longer than its statement timeout ({limit}). If it needs longer, raise the limit with --statement-timeout ({STATEMENT_TIMEOUT_ENV}) or a `-- codegen:statement-timeout <duration>` line at the top of the migration (then `cargo run -p codegen -- --rehash`)"
        ));
    }
    let connection_gone = code.code().starts_with("08")
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code);
    if connection_gone {
        return Attempt::Failed(lost_connection(url, context, db.message()));
    }
    Attempt::Failed(Runner::sql_error(context, error))
}

fn lost_connection(url: &str, context: &str, why: &str) -> String {
    format!(
        "{context}: the connection to {} was lost ({why}). Run the command again once the server is reachable: it finds where this run stopped",
        pgconn::redact(url)
    )
}

const RECORD_UP: &str =
    "INSERT INTO codegen.migrations (number, id, checksum, duration_ms) VALUES ($1, $2, $3, $4)";
const RECORD_DOWN: &str = "DELETE FROM codegen.migrations WHERE number = $1";

/// `m`'s number in `codegen.migrations` and `codegen.migration_progress`.
fn recorded_number(m: &MigrationFile) -> i32 {
    i32::try_from(m.number).unwrap_or(i32::MAX)
}

/// Records `m` in `tx` as applied (up: with its checksum and how long it took since `started`)
/// or as no longer applied (down).
fn record(
    tx: &mut postgres::Transaction<'_>,
    m: &MigrationFile,
    direction: Direction,
    started: Instant,
) -> Result<u64, postgres::Error> {
    let number = recorded_number(m);
    match direction {
        Direction::Up => {
            let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            tx.execute(RECORD_UP, &[&number, &m.id, &m.checksum(), &ms])
        }
        Direction::Down => tx.execute(RECORD_DOWN, &[&number]),
    }
}

impl Runner {
    /// Applies one script of `m`: up (recorded) or down (its record removed).
    pub(super) fn apply(&mut self, m: &MigrationFile, direction: Direction) -> Result<(), String> {
        let script = direction.script(m);
        let file = format!("{}.{}.sql", m.id, direction.as_str());
        let directives = Directives::parse(script).map_err(|e| format!("{file}: {e}"))?;
        if directives.no_transaction {
            self.apply_statement_by_statement(m, direction, &file, &directives)
        } else {
            let step = self.settings.transactional(&directives);
            self.apply_in_transaction(m, direction, &file, step)
        }
    }

    fn apply_in_transaction(
        &mut self,
        m: &MigrationFile,
        direction: Direction,
        file: &str,
        step: StepSettings,
    ) -> Result<(), String> {
        let script = direction.script(m);
        let failed = format!("{file} failed and was rolled back: nothing of it is applied");
        self.with_lock_retries(
            file,
            step.lock_timeout,
            "Nothing of it is applied: its transaction was rolled back.",
            |r| {
                let started = Instant::now();
                let url = r.url.clone();
                let fail = |e: postgres::Error| classify(&url, &failed, &e, &step);
                let mut tx = r.client.transaction().map_err(fail)?;
                tx.batch_execute(&step.set_statements(true)).map_err(fail)?;
                tx.batch_execute(script).map_err(fail)?;
                record(&mut tx, m, direction, started).map_err(fail)?;
                tx.commit().map_err(fail)
            },
        )
    }

    fn apply_statement_by_statement(
        &mut self,
        m: &MigrationFile,
        direction: Direction,
        file: &str,
        directives: &Directives,
    ) -> Result<(), String> {
        let started = Instant::now();
        let script = direction.script(m);
        let statements = statements_of(file, script)?;
        let total = statements.len();
        let first = self.resume_point(m, direction, file, total)?;
        if first > 0 {
            eprintln!(
                "{file}: resuming at statement {} of {total}: an interrupted run applied the statements before it",
                first + 1
            );
        }
        let number = recorded_number(m);
        let show = self.verbose && std::io::stderr().is_terminal();
        for (i, statement) in statements.iter().enumerate().skip(first) {
            if show {
                eprint!("\r  {file}: statement {}/{total}", i + 1);
                let _ = std::io::stderr().flush();
            }
            if let Some((table, index)) = &statement.concurrent_index {
                self.drop_invalid_index(table, index)?;
            }
            let step = self
                .settings
                .outside_transaction(directives, statement.blocks_application);
            let aftermath = format!(
                "It runs outside a transaction: statements 1 to {i} are applied and recorded, and the next run resumes at statement {}.",
                i + 1
            );
            let failed = format!(
                "{file} failed at statement {} of {total} ({aftermath})",
                i + 1
            );
            self.with_lock_retries(
                &format!("{file}, statement {} of {total}", i + 1),
                step.lock_timeout,
                &aftermath,
                |r| {
                    let url = r.url.clone();
                    let fail = |e: postgres::Error| classify(&url, &failed, &e, &step);
                    r.client
                        .batch_execute(&step.set_statements(false))
                        .map_err(fail)?;
                    r.client.batch_execute(&statement.text).map_err(fail)
                },
            )?;
            if let Some(parent) = &statement.parent_index {
                let context = format!("{file}, statement {} of {total}", i + 1);
                self.index_partitions(&context, parent, directives)?;
            }
            let done = i32::try_from(i + 1).unwrap_or(i32::MAX);
            self.client
                .execute(
                    "UPDATE codegen.migration_progress SET statements_done = $3, updated_at = now()
                      WHERE number = $1 AND direction = $2",
                    &[&number, &direction.as_str(), &done],
                )
                .map_err(|e| self.failure(&format!("{file}: cannot record its progress"), &e))?;
        }
        if show {
            eprintln!();
        }
        // The record and the end of the progress row commit together.
        let finish = |r: &mut Runner| -> Result<(), postgres::Error> {
            let mut tx = r.client.transaction()?;
            record(&mut tx, m, direction, started)?;
            tx.execute(
                "DELETE FROM codegen.migration_progress WHERE number = $1 AND direction = $2",
                &[&number, &direction.as_str()],
            )?;
            tx.commit()?;
            r.client
                .batch_execute("RESET lock_timeout; RESET statement_timeout;")
        };
        finish(self).map_err(|e| self.failure(&format!("{file}: cannot record it"), &e))
    }

    /// Runs the generated partition maintenance (`maintain_partitions`) as the connected role:
    /// creates the partitions ahead and drops the ones past the retention period, audited as one
    /// `data_retention_purge` event; returns what it did as the JSON text the function returns.
    /// It runs under the runner's lock timeout (attaching and dropping a partition lock the
    /// parent briefly), retried with the same backoff as a migration step.
    pub fn maintain_partitions(&mut self, actor: Option<&str>) -> Result<String, String> {
        // No statement timeout: counting the rows of a partition before it is dropped takes as long
        // as the partition is big; the lock timeout keeps it from queueing the application.
        let step = StepSettings {
            statement_timeout: None,
            ..self.settings.transactional(&Directives::default())
        };
        let actor = actor.map(str::to_string);
        self.with_lock_retries(
            "maintain_partitions()",
            step.lock_timeout,
            "Nothing of it is applied: its transaction was rolled back.",
            |r| {
                let url = r.url.clone();
                let mut tx = r
                    .client
                    .transaction()
                    .map_err(|e| classify(&url, "maintain_partitions() failed", &e, &step))?;
                let result = tx
                    .batch_execute(&step.set_statements(true))
                    .and_then(|()| {
                        tx.query_one(
                            "SELECT maintain_partitions($1::text::uuid)::text",
                            &[&actor],
                        )
                    })
                    .and_then(|row| tx.commit().map(|()| row.get::<_, String>(0)));
                result.map_err(|e| classify(&url, "maintain_partitions() failed", &e, &step))
            },
        )
    }

    /// A failure of the runner's own bookkeeping, explained like a step's (a lost connection
    /// says that the next run resumes).
    fn failure(&self, context: &str, error: &postgres::Error) -> String {
        let no_timeouts = StepSettings {
            lock_timeout: None,
            statement_timeout: None,
        };
        match classify(&self.url, context, error, &no_timeouts) {
            Attempt::Failed(message) => message,
            Attempt::LockTimeout => Self::sql_error(context, error),
        }
    }

    /// Where a no-transaction script starts: after the statements an interrupted run of this
    /// same script recorded, else at the first (and its progress row is created).
    fn resume_point(
        &mut self,
        m: &MigrationFile,
        direction: Direction,
        file: &str,
        total: usize,
    ) -> Result<usize, String> {
        let number = recorded_number(m);
        let checksum = history::script_checksum(direction.script(m));
        let recorded = self
            .client
            .query_opt(
                "SELECT checksum, statements_done, statements FROM codegen.migration_progress
                  WHERE number = $1 AND direction = $2",
                &[&number, &direction.as_str()],
            )
            .map_err(|e| Self::sql_error("cannot read the runner's progress", &e))?;
        let Some(row) = recorded else {
            let statements = i32::try_from(total).unwrap_or(i32::MAX);
            self.client
                .execute(
                    "INSERT INTO codegen.migration_progress (number, id, direction, checksum, statements_done, statements)
                     VALUES ($1, $2, $3, $4, 0, $5)",
                    &[&number, &m.id, &direction.as_str(), &checksum, &statements],
                )
                .map_err(|e| Self::sql_error(&format!("{file}: cannot record its progress"), &e))?;
            return Ok(0);
        };
        let (recorded_checksum, done, statements): (String, i32, i32) =
            (row.get(0), row.get(1), row.get(2));
        if recorded_checksum != checksum {
            return Err(format!(
                "{file} was edited after an interrupted run applied {done} of its {statements} statements (the run recorded checksum {}, the file now has {}). Restore the file as it was and run again to finish it, then put the change in a new migration; or, if the statements already applied are safe to run again, start it over with: DELETE FROM codegen.migration_progress WHERE number = {number} AND direction = '{}';",
                &recorded_checksum[..12.min(recorded_checksum.len())],
                &checksum[..12],
                direction.as_str()
            ));
        }
        Ok(usize::try_from(done).unwrap_or(0).min(total))
    }

    /// Refuses to start the other direction while a no-transaction script is half-applied.
    pub(super) fn refuse_interrupted_other_than(
        &mut self,
        direction: Direction,
    ) -> Result<(), String> {
        for interrupted in self.interrupted()? {
            if interrupted.direction != direction.as_str() {
                let finish = if interrupted.direction == "up" {
                    "codegen db upgrade"
                } else {
                    "codegen db downgrade"
                };
                return Err(format!(
                    "{}.{}.sql was interrupted after {} of its {} statements; finish it first with `{finish}`",
                    interrupted.id,
                    interrupted.direction,
                    interrupted.statements_done,
                    interrupted.statements
                ));
            }
        }
        Ok(())
    }

    /// Drops `index` on `table` if it exists and is INVALID: what an interrupted `CREATE INDEX
    /// CONCURRENTLY` leaves behind, which `IF NOT EXISTS` would take for the finished index.
    pub(super) fn drop_invalid_index(&mut self, table: &str, index: &str) -> Result<(), String> {
        let invalid = self
            .client
            .query_opt(
                "SELECT format('%I.%I', n.nspname, c.relname)
                   FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indexrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE i.indrelid = to_regclass($1) AND c.relname = $2 AND NOT i.indisvalid",
                &[&table, &index],
            )
            .map_err(|e| Self::sql_error("cannot look for invalid indexes", &e))?;
        if let Some(row) = invalid {
            let name: String = row.get(0);
            eprintln!(
                "index {name} is INVALID, left by an interrupted CREATE INDEX CONCURRENTLY: dropping it to build it again"
            );
            // Two calls: a multi-statement query is one implicit transaction, which DROP INDEX
            // CONCURRENTLY refuses. It blocks nobody, so it may wait for its lock.
            let context = format!("cannot drop invalid index {name}");
            self.client
                .batch_execute("SET lock_timeout = 0")
                .and_then(|()| {
                    self.client
                        .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))
                })
                .map_err(|e| self.failure(&context, &e))?;
        }
        Ok(())
    }

    /// Runs `attempt` until it succeeds, fails for a reason other than a lock timeout, or the
    /// retry budget runs out. Each lock timeout is reported with the sessions that blocked it.
    pub(super) fn with_lock_retries<T>(
        &mut self,
        what: &str,
        lock_timeout: Option<Duration>,
        aftermath: &str,
        mut attempt: impl FnMut(&mut Runner) -> Result<T, Attempt>,
    ) -> Result<T, String> {
        let started = Instant::now();
        let mut backoff = Backoff::new(lock_timeout.unwrap_or(self.settings.lock_timeout));
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let watch = lock_timeout.and_then(|timeout| self.start_watch(timeout));
            let result = attempt(self);
            let sighting = watch.and_then(|watch| self.stop_watch(watch));
            match result {
                Ok(value) => return Ok(value),
                Err(Attempt::Failed(message)) => return Err(message),
                Err(Attempt::LockTimeout) => {
                    let seen = match (&sighting, &self.watch_client) {
                        (Some(sighting), _) => sighting.describe(),
                        (None, Some(Err(why))) => format!(
                            "who blocks it is unknown (a second connection to watch for blockers failed: {why})"
                        ),
                        (None, _) => "who blocks it is unknown".to_string(),
                    };
                    let waited = display(lock_timeout.unwrap_or_default());
                    let wait = backoff.next_wait();
                    let elapsed = started.elapsed();
                    if elapsed + wait > self.settings.lock_retry_budget {
                        return Err(format!(
                            "{what} could not take its locks: {attempts} attempt(s) in {}, each giving up after waiting {waited}; {seen}. {aftermath} End the blocking session or let it finish (`SELECT pg_terminate_backend(<pid>)` ends one), then run the command again; --lock-retry-budget ({LOCK_RETRY_BUDGET_ENV}) lets the runner keep trying for longer than {}",
                            display(elapsed),
                            display(self.settings.lock_retry_budget)
                        ));
                    }
                    eprintln!(
                        "{what}: gave up waiting for a lock after {waited} (attempt {attempts}); {seen}; retrying in {}",
                        display(wait)
                    );
                    std::thread::sleep(wait);
                }
            }
        }
    }

    fn start_watch(&mut self, lock_timeout: Duration) -> Option<Watch> {
        let client = match self.watch_client.take() {
            Some(Ok(client)) if !client.is_closed() => client,
            Some(Err(why)) => {
                self.watch_client = Some(Err(why));
                return None;
            }
            _ => match pgconn::connect(&self.url) {
                Ok(client) => client,
                Err(e) => {
                    self.watch_client = Some(Err(e.to_string()));
                    return None;
                }
            },
        };
        let interval =
            (lock_timeout / 5).clamp(Duration::from_millis(10), Duration::from_millis(200));
        Some(Watch::start(client, self.pid, interval))
    }

    fn stop_watch(&mut self, watch: Watch) -> Option<Sighting> {
        let (client, sighting) = watch.stop()?;
        self.watch_client = Some(Ok(client));
        Some(sighting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_told_apart_by_the_locks_they_block_with() {
        let script = "-- codegen:no-transaction
ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived';
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_status_idx ON cases (status);
CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Odd\" ON app.\"Cases\" (status);
DROP INDEX CONCURRENTLY IF EXISTS cases_old_idx;
REINDEX INDEX CONCURRENTLY cases_status_idx;
REINDEX INDEX cases_status_idx;";
        let statements = statements_of("x.up.sql", script).expect("parses");
        let summary: Vec<(bool, Option<(String, String)>)> = statements
            .into_iter()
            .map(|s| (s.blocks_application, s.concurrent_index))
            .collect();
        assert_eq!(
            summary,
            vec![
                (true, None),
                (
                    false,
                    Some(("cases".to_string(), "cases_status_idx".to_string()))
                ),
                (
                    false,
                    Some(("app.\"Cases\"".to_string(), "Odd".to_string()))
                ),
                (false, None),
                (false, None),
                (true, None),
            ]
        );
    }

    #[test]
    fn a_syntax_error_names_the_file_line_and_column() {
        let error = statements_of("0004_x.up.sql", "SELECT 1;\nCREATE INDEXX i ON t (c);")
            .expect_err("syntax error");
        assert!(
            error.starts_with("0004_x.up.sql:2:1: syntax error"),
            "{error}"
        );
    }
}
