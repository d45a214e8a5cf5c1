//! What a deploy needs to know before and after running migrations (`codegen db status`,
//! `codegen db check`): where the database is, what is pending, whether the applied migrations
//! still match the files, and what an interrupted run left behind. Reading it never fails on a
//! problem it reports; only an unreachable database is an error.

use serde::Serialize;

use super::Runner;

/// The state of a database's migrations, as `codegen db status --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub server_version: String,
    /// The last applied migration.
    pub current: Option<String>,
    pub applied: Vec<AppliedMigration>,
    pub pending: Vec<PendingMigration>,
    /// `ok`, or `mismatch` when an applied migration differs from its file (see `problems`).
    pub checksums: ChecksumState,
    /// No-transaction scripts an earlier run left half-applied.
    pub interrupted: Vec<Interrupted>,
    /// Indexes PostgreSQL marks INVALID (an interrupted `CREATE INDEX CONCURRENTLY`), in any
    /// schema: the planner ignores them, but writes still maintain them.
    pub invalid_indexes: Vec<InvalidIndex>,
    /// Each problem above, as a sentence that says what to do.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumState {
    Ok,
    Mismatch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    pub id: String,
    /// The checksum recorded when it was applied.
    pub checksum: String,
    pub applied_at: String,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingMigration {
    pub id: String,
    pub checksum: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interrupted {
    pub id: String,
    /// `up` or `down`.
    pub direction: String,
    pub statements_done: i32,
    pub statements: i32,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidIndex {
    /// `schema.index`.
    pub index: String,
    /// `schema.table`.
    pub table: String,
}

impl Report {
    /// Whether nothing needs attention (pending migrations are not a problem).
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report for people: one line per migration, then each problem.
    pub fn render(&self) -> String {
        let mut out = format!(
            "server version: {}\ncurrent migration: {}\n",
            self.server_version,
            self.current.as_deref().unwrap_or("none")
        );
        for m in &self.applied {
            out.push_str(&format!(
                "applied  {}  sha256:{}  {}  {} ms\n",
                m.id,
                short(&m.checksum),
                m.applied_at,
                m.duration_ms
            ));
        }
        for m in &self.pending {
            out.push_str(&format!(
                "pending  {}  sha256:{}\n",
                m.id,
                short(&m.checksum)
            ));
        }
        for i in &self.interrupted {
            out.push_str(&format!(
                "interrupted  {}.{}.sql  {} of {} statements applied\n",
                i.id, i.direction, i.statements_done, i.statements
            ));
        }
        for i in &self.invalid_indexes {
            out.push_str(&format!("invalid index  {} on {}\n", i.index, i.table));
        }
        if self.problems.is_empty() {
            out.push_str("no problems\n");
        }
        for problem in &self.problems {
            out.push_str(&format!("problem: {problem}\n"));
        }
        out
    }
}

fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}

impl Runner {
    /// The state of the database's migrations; problems are reported, not errors.
    pub fn report(&mut self) -> Result<Report, String> {
        let server_version: String = self
            .client
            .query_one("SHOW server_version", &[])
            .map_err(|e| Self::sql_error("cannot read the server version", &e))?
            .get(0);
        let applied_rows = self.applied()?;
        let mut problems = Vec::new();
        let checksums = match self.verify(&applied_rows) {
            Ok(()) => ChecksumState::Ok,
            Err(why) => {
                problems.push(why);
                ChecksumState::Mismatch
            }
        };
        let applied: Vec<AppliedMigration> = applied_rows
            .iter()
            .map(
                |(_, id, checksum, applied_at, duration_ms)| AppliedMigration {
                    id: id.clone(),
                    checksum: checksum.clone(),
                    applied_at: applied_at.clone(),
                    duration_ms: *duration_ms,
                },
            )
            .collect();
        let pending = self
            .migrations
            .iter()
            .filter(|m| !applied_rows.iter().any(|a| a.1 == m.id))
            .map(|m| PendingMigration {
                id: m.id.clone(),
                checksum: m.checksum(),
            })
            .collect();
        let interrupted = self.interrupted()?;
        for i in &interrupted {
            let finish = if i.direction == "up" {
                "codegen db upgrade"
            } else {
                "codegen db downgrade"
            };
            problems.push(format!(
                "{}.{}.sql was interrupted after {} of its {} statements (at {}); `{finish}` resumes it",
                i.id, i.direction, i.statements_done, i.statements, i.updated_at
            ));
        }
        let invalid_indexes = self.invalid_indexes()?;
        for i in &invalid_indexes {
            problems.push(format!(
                "index {} on {} is INVALID (an interrupted CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY): queries do not use it but writes maintain it; `codegen db upgrade` rebuilds an index its pending migration builds, else drop it with DROP INDEX CONCURRENTLY {} and build it again",
                i.index, i.table, i.index
            ));
        }
        Ok(Report {
            server_version,
            current: applied.last().map(|a| a.id.clone()),
            applied,
            pending,
            checksums,
            interrupted,
            invalid_indexes,
            problems,
        })
    }

    /// The no-transaction scripts an earlier run left half-applied.
    pub(super) fn interrupted(&mut self) -> Result<Vec<Interrupted>, String> {
        let rows = self.own_table_rows(
            "codegen.migration_progress",
            "SELECT id, direction, statements_done, statements,
                    to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
               FROM codegen.migration_progress ORDER BY number, direction",
            "cannot read the runner's progress",
        )?;
        Ok(rows
            .iter()
            .map(|row| Interrupted {
                id: row.get(0),
                direction: row.get(1),
                statements_done: row.get(2),
                statements: row.get(3),
                updated_at: row.get(4),
            })
            .collect())
    }

    /// Every INVALID index in the database.
    pub fn invalid_indexes(&mut self) -> Result<Vec<InvalidIndex>, String> {
        let rows = self
            .client
            .query(
                "SELECT format('%I.%I', n.nspname, c.relname), format('%I.%I', tn.nspname, t.relname)
                   FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indexrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_class t ON t.oid = i.indrelid
                   JOIN pg_namespace tn ON tn.oid = t.relnamespace
                  WHERE NOT i.indisvalid
                  ORDER BY 1",
                &[],
            )
            .map_err(|e| Self::sql_error("cannot look for invalid indexes", &e))?;
        Ok(rows
            .iter()
            .map(|row| InvalidIndex {
                index: row.get(0),
                table: row.get(1),
            })
            .collect())
    }
}
