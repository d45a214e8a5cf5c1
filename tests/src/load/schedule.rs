//! The migrations applied under load, one at a time, each in a time window the workload's
//! latencies are attributed to.
//!
//! The database starts at the committed history (`generated/migrations/`, the schema the
//! `dental-schema` crate was compiled for). Then, as one history continuing it:
//! 1. every step of the `evolution` fixture (its own tables, `customers`, `orders`, ... and its
//!    own `audit_logs` and compliance functions), applied in the schema `evolution` of the same
//!    database (the runner's session has `search_path = evolution`), so its names do not collide
//!    with the application's while its locks, index builds and catalog changes share the server
//!    and the database with it;
//! 2. every step of the `under_load` fixture after its base: expand-only changes of the
//!    application's own seven tables.
//!
//! Each migration is applied by its own [`Runner`] with the default settings (the same as
//! `codegen db upgrade`), given the history up to that migration, so `upgrade` applies exactly
//! that one.

use std::time::Duration;

use migrate::MigrationFile;
use migrate::runner::{Runner, Settings};

use super::Load;
use crate::fixtures::evolve;
use crate::pg::TestDb;

/// The schema the evolution fixture is applied in.
pub const EVOLUTION_SCHEMA: &str = "evolution";

/// One migration applied under load.
#[derive(Debug, Clone)]
pub struct Stage {
    /// `evolution` or `under_load`.
    pub fixture: &'static str,
    /// The fixture step it comes from.
    pub step: String,
    pub migration: MigrationFile,
    /// The runner session's `search_path`, when not the default.
    pub search_path: Option<&'static str>,
}

/// The committed history (applied before the load starts) and the stages after it.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub base: Vec<MigrationFile>,
    pub stages: Vec<Stage>,
}

/// When a stage's migration ran (since the load started) and what the runner said.
#[derive(Debug, Clone)]
pub struct Window {
    pub stage: usize,
    pub start: Duration,
    pub end: Duration,
    /// What `upgrade` returned: the ids applied, or the error.
    pub result: Result<Vec<String>, String>,
}

impl Schedule {
    /// The committed history, then every migration of the `evolution` fixture, then every
    /// migration of the `under_load` fixture after its base step, numbered on.
    ///
    /// # Panics
    ///
    /// If the `under_load` fixture's base step is not the schema of the committed history (the
    /// application is compiled for the latter: the fixture must start from it).
    pub fn new() -> Schedule {
        let base = crate::migrations::committed().migrations;
        let mut committed = model::Catalog::default();
        for m in &base {
            model::replay::replay_script(&mut committed, &m.up)
                .unwrap_or_else(|(pos, e)| panic!("{}:{}: {e}", m.id, pos.line));
        }
        let under_load = evolve("under_load");
        assert_eq!(
            under_load[0].catalog.normalized(),
            committed.normalized(),
            "codegen/tests/fixtures/under_load/{}.yaml must be the repository's schema.yaml, which the committed migrations and the dental-schema crate were generated from",
            under_load[0].name
        );
        let mut stages = Vec::new();
        let mut number = u32::try_from(base.len()).expect("few migrations");
        let fixtures = [
            ("evolution", evolve("evolution"), Some(EVOLUTION_SCHEMA)),
            ("under_load", under_load.into_iter().skip(1).collect(), None),
        ];
        for (fixture, steps, search_path) in fixtures {
            for step in steps {
                for m in step.migrations {
                    number += 1;
                    let name = m.id.split_once('_').map_or(m.id.as_str(), |(_, n)| n);
                    stages.push(Stage {
                        fixture,
                        step: step.name.clone(),
                        migration: MigrationFile {
                            number,
                            id: format!("{number:04}_{fixture}_{name}"),
                            up: m.up,
                            down: m.down,
                        },
                        search_path,
                    });
                }
            }
        }
        Schedule { base, stages }
    }

    /// The history up to and including stage `index`.
    fn history_through(&self, index: usize) -> Vec<MigrationFile> {
        self.base
            .iter()
            .cloned()
            .chain(self.stages[..=index].iter().map(|s| s.migration.clone()))
            .collect()
    }

    /// Applies the committed history to `db` with the runner and creates the evolution schema:
    /// the database the application starts on.
    ///
    /// # Panics
    ///
    /// If the runner fails.
    pub fn prepare(&self, db: &TestDb) {
        let mut runner =
            Runner::connect(&db.conn_string(), self.base.clone()).unwrap_or_else(|e| panic!("{e}"));
        runner.upgrade().unwrap_or_else(|e| panic!("{e}"));
        db.connect()
            .batch_execute(&format!("CREATE SCHEMA {EVOLUTION_SCHEMA}"))
            .expect("the evolution schema");
    }

    /// Applies every stage to `db`, one runner per stage with `settings`, while `load` runs,
    /// each after `gap` (so the workload runs between two migrations as well). Stops at the
    /// first failure.
    pub fn apply(
        &self,
        db: &TestDb,
        load: &Load,
        settings: Settings,
        gap: Duration,
    ) -> Vec<Window> {
        let mut windows = Vec::new();
        for (index, stage) in self.stages.iter().enumerate() {
            std::thread::sleep(gap);
            let conn_string = match stage.search_path {
                Some(path) => format!("{} options='-c search_path={path}'", db.conn_string()),
                None => db.conn_string(),
            };
            let start = load.elapsed();
            let result = Runner::connect(&conn_string, self.history_through(index)).and_then(
                |mut runner| {
                    runner.settings = settings;
                    runner.upgrade()
                },
            );
            let end = load.elapsed();
            let failed = result.is_err();
            windows.push(Window {
                stage: index,
                start,
                end,
                result,
            });
            if failed {
                break;
            }
        }
        windows
    }
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule::new()
    }
}
