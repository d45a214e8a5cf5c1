//! `codegen db upgrade --dry-run`: what a run would execute, in order, without executing it. The
//! plan is built by the same code the runner uses (directives, settings, the split into
//! statements, the resume point of an interrupted script), so what it shows is what runs.

use std::fmt::Write as _;
use std::time::Duration;

use super::Runner;
use super::apply::{Direction, statements_of};
use super::settings::{Settings, StepSettings};
use crate::duration::display;
use crate::history::{self, Directives, MigrationFile};
use model::Catalog;

/// The scripts a run would apply, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub scripts: Vec<PlannedScript>,
    /// How long a step keeps retrying after lock timeouts.
    pub lock_retry_budget: Duration,
}

/// One migration script as the runner would run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedScript {
    /// `0004_add_x.up.sql`.
    pub file: String,
    /// `Some`: the whole script runs in one transaction with these timeouts, together with its
    /// record. `None`: statement by statement, each with its own (see [`PlannedStatement`]).
    pub transaction: Option<StepSettings>,
    /// For a no-transaction script an earlier run left half-applied: the statements it already
    /// applied, which this run skips.
    pub already_applied: usize,
    pub statements: Vec<PlannedStatement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStatement {
    /// The statement as written, without its trailing semicolon.
    pub text: String,
    /// Its line in the script, from 1.
    pub line: usize,
    /// Outside a transaction: the timeouts set before it.
    pub settings: Option<StepSettings>,
    /// The table locks it takes (`model::locks`), e.g. `ACCESS EXCLUSIVE on public.cases
    /// (blocks reads and writes), changes the catalog`.
    pub locks: Vec<String>,
}

/// Plans `migrations` in `direction` with `settings`, each script's locks seen against the
/// schema `before` them (what the applied migrations build); `already_applied` gives, per
/// migration id, the statements an interrupted earlier run applied.
pub(super) fn plan(
    before: &Catalog,
    migrations: &[MigrationFile],
    direction: Direction,
    settings: &Settings,
    already_applied: impl Fn(&str) -> usize,
) -> Result<Plan, String> {
    let mut catalog = before.clone();
    let search_path = vec!["public".to_string()];
    let mut scripts = Vec::new();
    for m in migrations {
        let script = direction.script(m);
        let file = format!("{}.{}.sql", m.id, direction.as_str());
        let directives = Directives::parse(script).map_err(|e| format!("{file}: {e}"))?;
        let statements = statements_of(&file, script)?;
        let mut locks: Vec<Vec<String>> =
            model::locks::script_locks(&catalog, &search_path, script)
                .map_err(|e| {
                    format!(
                        "{file}:{}:{}: syntax error: {}",
                        e.pos.line, e.pos.column, e.message
                    )
                })?
                .into_iter()
                .map(|s| {
                    s.locks
                        .iter()
                        .map(|l| format!("{l}, {}", l.work.describe()))
                        .collect()
                })
                .collect();
        locks.resize(statements.len(), Vec::new());
        // Lenient: the dry run shows what it can where the replay cannot follow.
        let _ = model::replay::replay_script(&mut catalog, script);
        let transaction = (!directives.no_transaction).then(|| settings.transactional(&directives));
        let planned = statements
            .into_iter()
            .zip(locks)
            .map(|(s, locks)| PlannedStatement {
                locks,
                settings: directives
                    .no_transaction
                    .then(|| settings.outside_transaction(&directives, s.blocks_application)),
                text: s.text,
                line: s.line,
            })
            .collect();
        scripts.push(PlannedScript {
            file,
            transaction,
            already_applied: if directives.no_transaction {
                already_applied(&m.id)
            } else {
                0
            },
            statements: planned,
        });
    }
    Ok(Plan {
        scripts,
        lock_retry_budget: settings.lock_retry_budget,
    })
}

impl Runner {
    /// What `upgrade` would run now, without running it (nor taking the migration lock or
    /// creating the runner's tables).
    pub fn plan_upgrade(&mut self) -> Result<Plan, String> {
        let applied = self.applied()?;
        self.verify(&applied)?;
        let interrupted = self.interrupted()?;
        let before = history::replay(&self.migrations[..applied.len()])?;
        let pending: Vec<MigrationFile> = self
            .migrations
            .iter()
            .skip(applied.len())
            .cloned()
            .collect();
        plan(&before, &pending, Direction::Up, &self.settings, |id| {
            interrupted
                .iter()
                .find(|i| i.direction == "up" && i.id == id)
                .map_or(0, |i| usize::try_from(i.statements_done).unwrap_or(0))
        })
    }

    /// What `downgrade(steps)` would run now, without running it.
    pub fn plan_downgrade(&mut self, steps: usize) -> Result<Plan, String> {
        let applied = self.applied()?;
        self.verify(&applied)?;
        let interrupted = self.interrupted()?;
        let before = history::replay(&self.migrations[..applied.len()])?;
        let reverted: Vec<MigrationFile> = applied
            .iter()
            .rev()
            .take(steps)
            .filter_map(|a| {
                self.migrations
                    .iter()
                    .find(|m| i64::from(m.number) == i64::from(a.0))
                    .cloned()
            })
            .collect();
        plan(&before, &reverted, Direction::Down, &self.settings, |id| {
            interrupted
                .iter()
                .find(|i| i.direction == "down" && i.id == id)
                .map_or(0, |i| usize::try_from(i.statements_done).unwrap_or(0))
        })
    }
}

impl Plan {
    /// The plan as a commented SQL script: each transaction's boundaries, the timeouts set, the
    /// bookkeeping statements, and the runner's behaviour on a lock timeout.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.scripts.is_empty() {
            out.push_str("-- nothing to run: the database is at the last migration\n");
            return out;
        }
        let _ = writeln!(
            out,
            "-- dry run: {} script(s) would run, in this order. A step that times out on a lock is rolled back\n-- and retried after a growing wait, for up to {} in all.",
            self.scripts.len(),
            display(self.lock_retry_budget)
        );
        for script in &self.scripts {
            out.push('\n');
            match &script.transaction {
                Some(settings) => {
                    let _ = writeln!(
                        out,
                        "-- {}: one transaction, {} statement(s), applied and recorded together",
                        script.file,
                        script.statements.len()
                    );
                    out.push_str("BEGIN;\n");
                    let _ = writeln!(out, "{}", settings.set_statements(true));
                    for statement in &script.statements {
                        let _ = writeln!(
                            out,
                            "-- line {}{}\n{};",
                            statement.line,
                            locks_comment(statement),
                            statement.text
                        );
                    }
                    out.push_str("-- the runner records the migration in codegen.migrations\n");
                    out.push_str("COMMIT;\n");
                }
                None => {
                    let total = script.statements.len();
                    let _ = writeln!(
                        out,
                        "-- {}: outside a transaction, {total} statement(s), each committed on its own; progress is\n-- recorded after each, so an interrupted run resumes at the statement it stopped in",
                        script.file
                    );
                    if script.already_applied > 0 {
                        let _ = writeln!(
                            out,
                            "-- an interrupted run applied statements 1 to {}: this run resumes at statement {}",
                            script.already_applied,
                            script.already_applied + 1
                        );
                    }
                    for (i, statement) in script
                        .statements
                        .iter()
                        .enumerate()
                        .skip(script.already_applied)
                    {
                        let settings = statement.settings.unwrap_or(StepSettings {
                            lock_timeout: None,
                            statement_timeout: None,
                        });
                        let _ = writeln!(
                            out,
                            "-- statement {} of {total}, line {}{}\n{}\n{};",
                            i + 1,
                            statement.line,
                            locks_comment(statement),
                            settings.set_statements(false),
                            statement.text
                        );
                    }
                    out.push_str("-- the runner records the migration in codegen.migrations\n");
                }
            }
        }
        out
    }
}

/// `: locks ...` for a statement's comment line, or `: no table lock`.
fn locks_comment(statement: &PlannedStatement) -> String {
    if statement.locks.is_empty() {
        ": no table lock".to_string()
    } else {
        format!(": locks {}", statement.locks.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(number: u32, up: &str) -> MigrationFile {
        MigrationFile {
            number,
            id: format!("{number:04}_step"),
            up: up.to_string(),
            down: String::new(),
        }
    }

    #[test]
    fn a_plan_shows_boundaries_timeouts_locks_and_the_resume_point() {
        let mut before = Catalog::default();
        model::replay::replay_script(
            &mut before,
            "CREATE TYPE case_status AS ENUM ('open'); CREATE TABLE cases (id uuid PRIMARY KEY, status case_status);",
        )
        .expect("the applied history");
        let migrations = [
            migration(
                3,
                "-- codegen:lock-timeout 1s\nALTER TABLE cases ADD COLUMN note text;\nCOMMENT ON COLUMN cases.note IS 'x';\n",
            ),
            migration(
                4,
                "-- codegen:no-transaction\nALTER TYPE case_status ADD VALUE IF NOT EXISTS 'archived';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS cases_note_idx ON cases (note);\n",
            ),
        ];
        let plan = plan(
            &before,
            &migrations,
            Direction::Up,
            &Settings::default(),
            |id| usize::from(id == "0004_step"),
        )
        .expect("plans");
        assert_eq!(
            plan.render(),
            "-- dry run: 2 script(s) would run, in this order. A step that times out on a lock is rolled back
-- and retried after a growing wait, for up to 5min in all.

-- 0003_step.up.sql: one transaction, 2 statement(s), applied and recorded together
BEGIN;
SET LOCAL lock_timeout = '1000ms'; SET LOCAL statement_timeout = '60000ms';
-- line 2: locks ACCESS EXCLUSIVE on cases (blocks reads and writes), changes the catalog
ALTER TABLE cases ADD COLUMN note text;
-- line 3: locks SHARE UPDATE EXCLUSIVE on cases (blocks neither reads nor writes), changes the catalog
COMMENT ON COLUMN cases.note IS 'x';
-- the runner records the migration in codegen.migrations
COMMIT;

-- 0004_step.up.sql: outside a transaction, 2 statement(s), each committed on its own; progress is
-- recorded after each, so an interrupted run resumes at the statement it stopped in
-- an interrupted run applied statements 1 to 1: this run resumes at statement 2
-- statement 2 of 2, line 3: locks SHARE UPDATE EXCLUSIVE on cases (blocks neither reads nor writes), builds an index
SET lock_timeout = '0'; SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_note_idx ON cases (note);
-- the runner records the migration in codegen.migrations
",
        );
    }

    #[test]
    fn an_empty_plan_says_so() {
        let plan = plan(
            &Catalog::default(),
            &[],
            Direction::Up,
            &Settings::default(),
            |_| 0,
        )
        .expect("plans");
        assert_eq!(
            plan.render(),
            "-- nothing to run: the database is at the last migration\n"
        );
    }

    #[test]
    fn a_bad_directive_names_the_file() {
        let error = plan(
            &Catalog::default(),
            &[migration(7, "-- codegen:lock-timeout 0\nSELECT 1;\n")],
            Direction::Up,
            &Settings::default(),
            |_| 0,
        )
        .expect_err("zero lock timeout");
        assert!(error.starts_with("0007_step.up.sql: line 1:"), "{error}");
    }
}
