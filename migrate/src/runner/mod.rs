//! Applying the committed migrations to a database (the `codegen db ...` subcommands and the
//! end-to-end tests call it), without stalling the application that uses it.
//!
//! Applied migrations are recorded in `codegen.migrations` with their checksum. Each migration
//! runs in its own transaction together with its record, so a failure or crash half-way leaves
//! the database at the previous version; migrations marked `-- codegen:no-transaction` run
//! statement by statement, their progress recorded in `codegen.migration_progress` so an
//! interrupted one resumes where it stopped (`apply.rs`). Every step runs with a short
//! `lock_timeout` and is retried after growing waits when it times out, naming who blocks it
//! (`settings.rs`, `retry.rs`, `blockers.rs`). A session-level advisory lock serialises
//! concurrent runners: the second one waits, then finds nothing left to do.

mod apply;
pub mod blockers;
mod login;
mod partitions;
pub mod plan;
pub mod report;
pub mod retry;
pub mod settings;

use std::time::Instant;

use postgres::Client;

use crate::history::MigrationFile;
use apply::Direction;
pub use plan::Plan;
pub use report::{Interrupted, InvalidIndex, Report};
pub use settings::Settings;

/// The seed guide's default connection (defined in `pgconn`, shared with the service).
pub use pgconn::DEFAULT_DATABASE_URL;

/// An arbitrary constant: the advisory lock key all runners of this project agree on.
const LOCK_KEY: i64 = 0x0063_6f64_6567_656e; // "codegen" in ASCII

/// A row of `codegen.migrations`: number, id, checksum, applied at (text), duration in ms.
type AppliedRow = (i32, String, String, String, i64);

/// One row of the history: a migration file and, when applied, its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub id: String,
    pub checksum: String,
    pub applied: Option<Applied>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub checksum: String,
    pub applied_at: String,
    pub duration_ms: i64,
}

/// The connection-check report (the seed's `check_db_connection`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub server_version: String,
    pub current: Option<String>,
    pub pending: usize,
}

pub struct Runner {
    client: Client,
    /// The connection string, for the watch connection and for messages (always redacted).
    url: String,
    /// The backend of `client`, which the watch connection observes.
    pid: i32,
    /// The second connection that sees who blocks a step (see `blockers`), opened on first use;
    /// `Err` says why it could not be.
    watch_client: Option<Result<Client, String>>,
    migrations: Vec<MigrationFile>,
    /// Print progress lines (to stderr) as migrations run.
    pub verbose: bool,
    pub settings: Settings,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("migrations", &self.migrations.len())
            .field("verbose", &self.verbose)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The connection string with its password hidden, for messages (URL or `key=value` form).
pub use pgconn::redact;

impl Runner {
    pub fn connect(url: &str, migrations: Vec<MigrationFile>) -> Result<Runner, String> {
        // `sslmode`/`sslrootcert` as libpq reads them; the error names the server and what to do.
        let mut client = pgconn::connect(url).map_err(|e| e.to_string())?;
        let pid = client
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(|e| Self::sql_error("cannot read the session's process id", &e))?
            .get(0);
        // A server may run with `synchronous_commit = off`, which lets a crash lose the last
        // commits. A migration reported as applied must stay applied, so this session waits
        // for its commits to be flushed.
        client
            .batch_execute(
                "DO $$ BEGIN
                     IF current_setting('synchronous_commit') = 'off' THEN
                         SET synchronous_commit = local;
                     END IF;
                 END $$",
            )
            .map_err(|e| Self::sql_error("cannot set synchronous_commit", &e))?;
        Ok(Runner {
            client,
            url: url.to_string(),
            pid,
            watch_client: None,
            migrations,
            verbose: false,
            settings: Settings::default(),
        })
    }

    fn sql_error(context: &str, e: &postgres::Error) -> String {
        match e.as_db_error() {
            Some(db) => {
                let mut message = format!("{context}: {}: {}", db.severity(), db.message());
                if let Some(detail) = db.detail() {
                    message.push_str(&format!("\n  detail: {detail}"));
                }
                if let Some(hint) = db.hint() {
                    message.push_str(&format!("\n  hint: {hint}"));
                }
                message
            }
            None => format!("{context}: {e}"),
        }
    }

    fn ensure_table(&mut self) -> Result<(), String> {
        self.client
            .batch_execute(
                "CREATE SCHEMA IF NOT EXISTS codegen;
                 CREATE TABLE IF NOT EXISTS codegen.migrations (
                     number      integer PRIMARY KEY,
                     id          text NOT NULL UNIQUE,
                     checksum    text NOT NULL,
                     applied_at  timestamptz NOT NULL DEFAULT now(),
                     duration_ms bigint NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS codegen.migration_progress (
                     number          integer NOT NULL,
                     id              text NOT NULL,
                     direction       text NOT NULL CHECK (direction IN ('up', 'down')),
                     checksum        text NOT NULL,
                     statements_done integer NOT NULL,
                     statements      integer NOT NULL,
                     updated_at      timestamptz NOT NULL DEFAULT now(),
                     PRIMARY KEY (number, direction)
                 );",
            )
            .map_err(|e| Self::sql_error("cannot create the runner's tables in schema codegen", &e))
    }

    /// Takes the advisory lock by polling rather than by blocking in `pg_advisory_lock`: a session
    /// blocked in a statement holds a snapshot, and `CREATE INDEX CONCURRENTLY` in the session
    /// that has the lock waits for every such snapshot to go away, which would be a deadlock.
    fn lock(&mut self) -> Result<(), String> {
        let mut told = false;
        loop {
            let got: bool = self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .map_err(|e| Self::sql_error("cannot take the migration lock", &e))?
                .get(0);
            if got {
                return Ok(());
            }
            if !told {
                self.progress("waiting for another migration runner to finish");
                told = true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    fn unlock(&mut self) {
        // Ending the session releases it too; this just makes it prompt.
        let _ = self
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
    }

    /// Runs `f` holding the lock, with the bookkeeping table in place.
    fn locked<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        self.lock()?;
        let result = self.ensure_table().and_then(|()| f(self));
        self.unlock();
        result
    }

    /// The rows of `query` on the runner's own table `table`: none before the runner has
    /// created it. `context` says what was being read when the server refuses.
    fn own_table_rows(
        &mut self,
        table: &str,
        query: &str,
        context: &str,
    ) -> Result<Vec<postgres::Row>, String> {
        let exists: bool = self
            .client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .map_err(|e| Self::sql_error(context, &e))?
            .get(0);
        if !exists {
            return Ok(Vec::new());
        }
        self.client
            .query(query, &[])
            .map_err(|e| Self::sql_error(context, &e))
    }

    fn applied(&mut self) -> Result<Vec<AppliedRow>, String> {
        let rows = self.own_table_rows(
            "codegen.migrations",
            "SELECT number, id, checksum, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', duration_ms
               FROM codegen.migrations ORDER BY number",
            "cannot read the migration history",
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect())
    }

    /// Refuses a history whose applied migrations no longer match the files.
    fn verify(&self, applied: &[AppliedRow]) -> Result<(), String> {
        for (number, id, checksum, _, _) in applied {
            let file = self
                .migrations
                .iter()
                .find(|m| i64::from(m.number) == i64::from(*number));
            match file {
                None => {
                    return Err(format!(
                        "the database has migration {id} applied, but there is no such migration file: was it deleted, or is this database ahead of this checkout?"
                    ));
                }
                Some(m) if &m.id != id => {
                    return Err(format!(
                        "migration number {number} is `{id}` in the database but `{}` in the files",
                        m.id
                    ));
                }
                Some(m) if &m.checksum() != checksum => {
                    return Err(format!(
                        "migration {id} was applied with checksum {checksum}, but the file now has {}: it was edited after being applied; restore it and put the change in a new migration",
                        m.checksum()
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn progress(&self, message: &str) {
        if self.verbose {
            eprintln!("{message}");
        }
    }

    /// Applies every pending migration; returns the ids applied. A no-transaction migration an
    /// earlier run left half-applied resumes where it stopped.
    pub fn upgrade(&mut self) -> Result<Vec<String>, String> {
        self.locked(|r| {
            let applied = r.applied()?;
            r.verify(&applied)?;
            r.refuse_interrupted_other_than(Direction::Up)?;
            let pending: Vec<MigrationFile> =
                r.migrations.iter().skip(applied.len()).cloned().collect();
            let total = pending.len();
            let mut done = Vec::new();
            for (i, m) in pending.iter().enumerate() {
                r.progress(&format!("[{}/{total}] applying {}", i + 1, m.id));
                let started = Instant::now();
                r.apply(m, Direction::Up)?;
                r.progress(&format!(
                    "[{}/{total}] applied  {} in {} ms",
                    i + 1,
                    m.id,
                    started.elapsed().as_millis()
                ));
                done.push(m.id.clone());
            }
            Ok(done)
        })
    }

    /// Reverts the last `steps` applied migrations; returns the ids reverted.
    pub fn downgrade(&mut self, steps: usize) -> Result<Vec<String>, String> {
        self.locked(|r| {
            let applied = r.applied()?;
            r.verify(&applied)?;
            r.refuse_interrupted_other_than(Direction::Down)?;
            let mut done = Vec::new();
            for (number, id, _, _, _) in applied.iter().rev().take(steps) {
                let m = r
                    .migrations
                    .iter()
                    .find(|m| i64::from(m.number) == i64::from(*number))
                    .cloned()
                    .ok_or_else(|| format!("no file for applied migration {id}"))?;
                r.progress(&format!("reverting {id}"));
                r.apply(&m, Direction::Down)?;
                done.push(id.clone());
            }
            Ok(done)
        })
    }

    /// Every migration file with its applied record, if any.
    pub fn history(&mut self) -> Result<Vec<HistoryEntry>, String> {
        let applied = self.applied()?;
        self.verify(&applied)?;
        Ok(self
            .migrations
            .iter()
            .map(|m| HistoryEntry {
                id: m.id.clone(),
                checksum: m.checksum(),
                applied: applied.iter().find(|a| a.1 == m.id).map(|a| Applied {
                    checksum: a.2.clone(),
                    applied_at: a.3.clone(),
                    duration_ms: a.4,
                }),
            })
            .collect())
    }

    /// The last applied migration.
    pub fn current(&mut self) -> Result<Option<String>, String> {
        Ok(self.applied()?.last().map(|a| a.1.clone()))
    }

    /// Runs the generated retention purge as the connected role; returns the deleted-row counts
    /// per table, as the JSON text the function returns.
    /// `actor` is the text of a `users.id`; PostgreSQL checks it is a UUID.
    pub fn purge_expired_data(&mut self, actor: Option<&str>) -> Result<String, String> {
        let row = self
            .client
            .query_one("SELECT purge_expired_data($1::text::uuid)::text", &[&actor])
            .map_err(|e| {
                format!(
                    "error: the retention purge failed: {}",
                    e.as_db_error().map_or_else(|| e.to_string(), |d| {
                        let hint = if d.code() == &postgres::error::SqlState::UNDEFINED_FUNCTION {
                            " (no table declares `retention`, or the migrations are not applied)"
                        } else {
                            ""
                        };
                        format!("{}{hint}", d.message())
                    })
                )
            })?;
        Ok(row.get(0))
    }

    pub fn status(&mut self) -> Result<Status, String> {
        let server_version: String = self
            .client
            .query_one("SHOW server_version", &[])
            .map_err(|e| Self::sql_error("cannot read the server version", &e))?
            .get(0);
        let applied = self.applied()?;
        self.verify(&applied)?;
        Ok(Status {
            server_version,
            current: applied.last().map(|a| a.1.clone()),
            pending: self.migrations.len().saturating_sub(applied.len()),
        })
    }

    /// Drops everything in the public schema, the other schemas the migrations create, and the
    /// history, then applies every migration.
    pub fn reset(&mut self) -> Result<Vec<String>, String> {
        let mut drops = String::new();
        for schema in self.created_schemas() {
            drops.push_str(&format!(
                "DROP SCHEMA IF EXISTS {} CASCADE;\n",
                model::ident::quote(&schema)
            ));
        }
        self.locked(|r| {
            r.client
                .batch_execute(&format!(
                    "{drops}DROP SCHEMA public CASCADE;
                     CREATE SCHEMA public AUTHORIZATION pg_database_owner;
                     GRANT USAGE ON SCHEMA public TO PUBLIC;
                     TRUNCATE codegen.migrations, codegen.migration_progress;"
                ))
                .map_err(|e| Self::sql_error("cannot reset the database", &e))
        })?;
        self.upgrade()
    }

    /// Every schema besides `public` that some migration creates (a later one may drop it again;
    /// the database may hold any state in between), sorted.
    fn created_schemas(&self) -> Vec<String> {
        let mut catalog = model::Catalog::default();
        let mut names: Vec<String> = Vec::new();
        for m in &self.migrations {
            if model::replay::replay_script(&mut catalog, &m.up).is_err() {
                break;
            }
            names.extend(catalog.schemas.iter().map(|s| s.name.clone()));
        }
        names.sort();
        names.dedup();
        names
    }
}

/// Splits a script into statements with PostgreSQL's own parser (dollar quotes and comments
/// are handled as the server would).
pub fn split_statements(sql: &str) -> Vec<String> {
    match model::replay::parse_script(sql) {
        Ok(statements) => statements.iter().map(|s| s.text.to_string()).collect(),
        Err(_) => vec![sql.to_string()],
    }
}
