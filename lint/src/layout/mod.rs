//! Migration tools' layouts: which files of a migrations directory are up-migrations, in which
//! order the tool applies them, whether each runs in a transaction, and which part of each file
//! is its up part.
//!
//! Pure: the caller lists the directory (paths relative to it, `/`-separated) and reads the
//! files whose contents matter (`.sql`, `.toml`, `.conf`); [`plan`] recognises the layout (or
//! takes the one forced with `--layout` / `layout = "..."`) and returns the migrations in order.
//! Single files and standard input go through [`detect_file`] and [`prepare`].
//!
//! Only the up part of a file is linted, yet findings must point into the file as written: the
//! down sections and the tools' directives are blanked (every character but line breaks becomes
//! a space), never cut, so every line and column of the text to lint is that of the original.
//!
//! | layout | files, in order | outside a transaction |
//! | --- | --- | --- |
//! | `codegen` | `NNNN_name.up.sql` by name (`*.down.sql` skipped) | `-- codegen:no-transaction` first line |
//! | `diesel` | `<version>_<name>/up.sql` by version | `run_in_transaction = false` in the `metadata.toml` beside it |
//! | `golang-migrate` | `<N>_<name>.up.sql` by N | always: the file is sent as one query |
//! | `flyway` | `V<version>__<desc>.sql` by version, part by part (`V1` < `V1.1` < `V2` < `V10`), then `R__<desc>.sql` by description; `U` undo files skipped | a statement PostgreSQL refuses in a transaction, or `executeInTransaction=false` in `<file>.conf` |
//! | `sqlx` | `<version>_<desc>.sql` or `.up.sql` by version | `-- no-transaction` first line |
//! | `prisma` | `<timestamp>_<name>/migration.sql` by directory name (`migration_lock.toml` beside them) | always: the file is sent as one query |
//! | `dbmate` | `<version>_<name>.sql` by version, the `-- migrate:up` section | `-- migrate:up transaction:false` |
//! | `goose` | `<version>_<name>.sql` by version, the `-- +goose Up` sections | `-- +goose NO TRANSACTION` |
//! | `postgres-migrations` | `<N>_<name>.sql` or `<N>-<name>.sql` by N | `-- postgres-migrations disable-transaction` first line |
//! | `pg-dump` | a `pg_dump --schema-only` file or a Rails `db/structure.sql` | always (psql runs it), unless it says `BEGIN` |
//! | `plain` | every `*.sql` by name, `*.down.sql` skipped | `-- codegen:no-transaction` first line |
//!
//! In every layout a file whose name contains `.autocommit.` runs outside a transaction.
//!
//! "Sent as one query": a tool that runs the file outside a transaction of its own but as one
//! query string (golang-migrate, Prisma, and Diesel, sqlx, dbmate and postgres-migrations when
//! told not to use a transaction) still gets a transaction from PostgreSQL when the file holds
//! more than one statement: the server runs a multi-statement query as one implicit
//! transaction block. [`Transaction::OneQuery`] says so, and the engine decides per file once
//! it knows the statements.

mod bookkeeping;
mod detect;
mod order;
mod sections;

use pg_query::NodeEnum;
use pg_query::protobuf::DiscardMode;

use crate::parse::Item;

use detect::detect;
pub use detect::is_dump;
use order::{
    Key, depth, diesel_version, file_name, flyway_key, is_up_sql, key, numbered_name, prisma_dir,
};
use sections::{
    codegen_transaction, dbmate, dbmate_directive, first_line, first_line_marker, goose,
    goose_directive, map_lines,
};

/// A migration tool's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Layout {
    /// No tool recognised: every `*.sql` by name, as the linter always did.
    #[default]
    Plain,
    Codegen,
    Diesel,
    GolangMigrate,
    Flyway,
    Sqlx,
    Prisma,
    Dbmate,
    Goose,
    PostgresMigrations,
    PgDump,
}

impl Layout {
    pub const ALL: [Layout; 11] = [
        Layout::Codegen,
        Layout::Diesel,
        Layout::GolangMigrate,
        Layout::Flyway,
        Layout::Sqlx,
        Layout::Prisma,
        Layout::Dbmate,
        Layout::Goose,
        Layout::PostgresMigrations,
        Layout::PgDump,
        Layout::Plain,
    ];

    /// The names `--layout` and `layout = "..."` take, in the order of [`Layout::ALL`].
    pub const NAMES: [&'static str; 11] = [
        "codegen",
        "diesel",
        "golang-migrate",
        "flyway",
        "sqlx",
        "prisma",
        "dbmate",
        "goose",
        "postgres-migrations",
        "pg-dump",
        "plain",
    ];

    pub fn name(self) -> &'static str {
        let i = Layout::ALL.iter().position(|l| *l == self).unwrap_or(0);
        Layout::NAMES[i]
    }

    pub fn from_name(name: &str) -> Option<Layout> {
        Layout::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Layout::ALL[i])
    }

    /// What a migration of this tool that runs in a transaction lacks, for messages: "(no
    /// {missing})".
    pub fn missing_directive(self) -> &'static str {
        match self {
            Layout::Plain | Layout::Codegen | Layout::PgDump => {
                "`-- codegen:no-transaction` first line"
            }
            Layout::Diesel => "`run_in_transaction = false` in its metadata.toml",
            Layout::Flyway => "`executeInTransaction=false` in its .sql.conf file",
            Layout::Sqlx => "`-- no-transaction` first line",
            Layout::Dbmate => "`transaction:false` on its `-- migrate:up` line",
            Layout::Goose => "`-- +goose NO TRANSACTION` annotation",
            Layout::PostgresMigrations => "`-- postgres-migrations disable-transaction` first line",
            Layout::GolangMigrate | Layout::Prisma => "single statement",
        }
    }

    /// How a migration of this tool asks to run outside a transaction, completing "put it in
    /// its own migration ...".
    pub fn opt_out(self) -> &'static str {
        match self {
            Layout::Plain | Layout::Codegen | Layout::PgDump => {
                "whose first line is `-- codegen:no-transaction`"
            }
            Layout::Diesel => "whose metadata.toml says `run_in_transaction = false`",
            Layout::Flyway => "with `executeInTransaction=false` in its .sql.conf file",
            Layout::Sqlx => "whose first line is `-- no-transaction`",
            Layout::Dbmate => "whose `-- migrate:up` line says `transaction:false`",
            Layout::Goose => "with the `-- +goose NO TRANSACTION` annotation",
            Layout::PostgresMigrations => {
                "whose first line is `-- postgres-migrations disable-transaction`"
            }
            Layout::GolangMigrate | Layout::Prisma => "with no other statement in it",
        }
    }
}

/// How a migration's statements are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transaction {
    /// In one transaction the tool opens around the file.
    #[default]
    Wrapped,
    /// Outside any transaction block (statement by statement, or by psql).
    None,
    /// The whole file as one query string: in one implicit transaction block when it holds
    /// more than one statement, outside any when it holds one.
    OneQuery,
    /// Flyway's rule: wrapped, unless a statement cannot run in a transaction block, in which
    /// case the whole migration runs without one.
    Detected,
}

impl Transaction {
    pub fn name(self) -> &'static str {
        match self {
            Transaction::Wrapped => "in a transaction",
            Transaction::None => "outside a transaction",
            Transaction::OneQuery => {
                "as one query (one implicit transaction block if several statements)"
            }
            Transaction::Detected => "in a transaction unless a statement refuses one",
        }
    }

    /// Whether the statements of a file run inside a transaction block.
    pub fn applies(self, items: &[Item]) -> bool {
        match self {
            Transaction::Wrapped => true,
            Transaction::None => false,
            Transaction::OneQuery => items.len() > 1,
            Transaction::Detected => !items.iter().any(|i| match i {
                Item::Statement(s) => refuses_transaction(&s.node),
                Item::Error(_) => false,
            }),
        }
    }
}

/// Statements PostgreSQL refuses inside a transaction block (those Flyway looks for to run a
/// migration without one): the CONCURRENTLY forms, VACUUM, CREATE DATABASE / TABLESPACE /
/// SUBSCRIPTION, ALTER SYSTEM and DISCARD ALL.
pub fn refuses_transaction(node: &NodeEnum) -> bool {
    crate::rules::concurrently_in_transaction::concurrent_operation(node).is_some()
        || match node {
            NodeEnum::VacuumStmt(s) => s.is_vacuumcmd,
            NodeEnum::CreatedbStmt(_)
            | NodeEnum::DropdbStmt(_)
            | NodeEnum::CreateTableSpaceStmt(_)
            | NodeEnum::DropTableSpaceStmt(_)
            | NodeEnum::CreateSubscriptionStmt(_)
            | NodeEnum::AlterSystemStmt(_) => true,
            NodeEnum::DiscardStmt(s) => s.target == DiscardMode::DiscardAll as i32,
            _ => false,
        }
}

/// One file of the directory: its path relative to the directory (`/`-separated) and, for the
/// files whose contents matter (`.sql`, `.toml`, `.conf`), its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub text: Option<String>,
}

impl Entry {
    pub fn new(path: impl Into<String>, text: Option<String>) -> Entry {
        Entry {
            path: path.into(),
            text,
        }
    }
}

/// One up-migration, ready to lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Relative to the directory (as in its [`Entry`]).
    pub path: String,
    /// The file with everything but its up part blanked: same lines, same columns.
    pub text: String,
    pub transaction: Transaction,
}

/// The migrations of a directory and how they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub layout: Layout,
    /// What the layout was recognised by (or that it was forced).
    pub reason: String,
    /// Other layouts the directory could be: empty when the choice was clear.
    pub alternatives: Vec<Layout>,
    pub migrations: Vec<Migration>,
}

impl Plan {
    /// One line for `--verbose`.
    pub fn describe(&self) -> String {
        let n = self.migrations.len();
        let files = if n == 1 { "migration" } else { "migrations" };
        let mut out = format!(
            "{} layout ({}), {n} {files}",
            self.layout.name(),
            self.reason
        );
        if !self.alternatives.is_empty() {
            let names: Vec<&str> = self.alternatives.iter().map(|l| l.name()).collect();
            out.push_str(&format!(
                "; chosen over {}, which lay out files the same way: `--layout NAME` picks another",
                names.join(", ")
            ));
        }
        out
    }
}

/// The up-migrations of a directory, in the order its tool applies them.
pub fn plan(entries: &[Entry], forced: Option<Layout>) -> Plan {
    let (layout, reason, alternatives) = match forced {
        Some(l) => (l, "forced".to_string(), Vec::new()),
        None => detect(entries),
    };
    let mut selected: Vec<(Key, &Entry)> = entries
        .iter()
        .filter_map(|e| key(layout, &e.path).map(|k| (k, e)))
        .collect();
    selected.sort_by(|a, b| a.0.cmp(&b.0));
    let migrations = selected
        .into_iter()
        .map(|(_, e)| {
            let sidecar = sidecar_path(layout, &e.path)
                .and_then(|p| entries.iter().find(|s| s.path == p))
                .and_then(|s| s.text.as_deref());
            prepare(layout, &e.path, e.text.as_deref().unwrap_or(""), sidecar)
        })
        .collect();
    Plan {
        layout,
        reason,
        alternatives,
        migrations,
    }
}

/// The file beside a migration that decides how it runs: Diesel's `metadata.toml`, Flyway's
/// `<file>.conf`.
pub fn sidecar_path(layout: Layout, path: &str) -> Option<String> {
    match layout {
        Layout::Diesel => Some(match path.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/metadata.toml"),
            None => "metadata.toml".to_string(),
        }),
        Layout::Flyway => Some(format!("{path}.conf")),
        _ => None,
    }
}

/// The layout of a single file named on the command line (or standard input, `-`), from its
/// name and contents.
pub fn detect_file(path: &str, text: &str) -> Layout {
    let path = path.replace('\\', "/");
    let name = file_name(&path);
    let parent = path.rsplit_once('/').map_or("", |(dir, _)| file_name(dir));
    if is_dump(text) {
        Layout::PgDump
    } else if text.contains("+goose") && text.lines().any(|l| goose_directive(l).is_some()) {
        Layout::Goose
    } else if text.contains("migrate:") && text.lines().any(|l| dbmate_directive(l).is_some()) {
        Layout::Dbmate
    } else if first_line(text) == POSTGRES_MIGRATIONS_MARKER {
        Layout::PostgresMigrations
    } else if first_line(text) == SQLX_MARKER {
        Layout::Sqlx
    } else if flyway_key(name).is_some() {
        Layout::Flyway
    } else if name == "migration.sql" && prisma_dir(parent) {
        Layout::Prisma
    } else if name == "up.sql" && diesel_version(parent).is_some() {
        Layout::Diesel
    } else {
        Layout::Plain
    }
}

/// One file as `layout` runs it: its transaction and its up part. `sidecar` is the text of the
/// file [`sidecar_path`] names, when there is one.
pub fn prepare(layout: Layout, path: &str, text: &str, sidecar: Option<&str>) -> Migration {
    let (text, mut transaction) = match layout {
        Layout::Plain | Layout::Codegen => (text.to_string(), codegen_transaction(text)),
        Layout::Diesel => {
            let off = sidecar.is_some_and(|m| {
                toml::from_str::<toml::Table>(m).is_ok_and(|t| {
                    t.get("run_in_transaction")
                        .and_then(toml::Value::as_bool)
                        .is_some_and(|b| !b)
                })
            });
            (
                text.to_string(),
                if off {
                    Transaction::OneQuery
                } else {
                    Transaction::Wrapped
                },
            )
        }
        Layout::GolangMigrate | Layout::Prisma => (text.to_string(), Transaction::OneQuery),
        Layout::Flyway => {
            let off = sidecar.is_some_and(|conf| {
                conf.lines().any(|l| {
                    l.split_once('=').is_some_and(|(k, v)| {
                        k.trim() == "executeInTransaction" && v.trim().eq_ignore_ascii_case("false")
                    })
                })
            });
            (
                text.to_string(),
                if off {
                    Transaction::None
                } else {
                    Transaction::Detected
                },
            )
        }
        Layout::Sqlx => first_line_marker(text, SQLX_MARKER),
        Layout::PostgresMigrations => first_line_marker(text, POSTGRES_MIGRATIONS_MARKER),
        Layout::Dbmate => dbmate(text),
        Layout::Goose => goose(text),
        Layout::PgDump => (
            map_lines(text, |l| l.trim_start().starts_with('\\')),
            Transaction::None,
        ),
    };
    if file_name(path).contains(".autocommit.") {
        transaction = Transaction::None;
    }
    Migration {
        path: path.to_string(),
        text,
        transaction,
    }
}

const SQLX_MARKER: &str = "-- no-transaction";
const POSTGRES_MIGRATIONS_MARKER: &str = "-- postgres-migrations disable-transaction";

#[cfg(test)]
mod tests {
    use super::order::Number;
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(Layout::ALL.len(), Layout::NAMES.len());
        for l in Layout::ALL {
            assert_eq!(Layout::from_name(l.name()), Some(l));
        }
        assert_eq!(Layout::from_name("alembic"), None);
    }

    #[test]
    fn numbers_order_by_value() {
        let mut v = [
            Number::new("10"),
            Number::new("0002"),
            Number::new("1"),
            Number::new("100000000000000000000000"),
        ];
        v.sort();
        let digits: Vec<&str> = v.iter().map(|n| n.0.as_str()).collect();
        assert_eq!(digits, ["1", "2", "10", "100000000000000000000000"]);
    }

    #[test]
    fn blanking_keeps_lines_and_columns() {
        let text = "é -- x\r\nkeep\n\tgone";
        let out = map_lines(text, |l| !l.starts_with("keep"));
        assert_eq!(out, "      \r\nkeep\n     ");
        assert_eq!(out.lines().count(), text.lines().count());
    }
}
