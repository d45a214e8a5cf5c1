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

use std::cmp::Ordering;

use pg_query::NodeEnum;
use pg_query::protobuf::DiscardMode;

use crate::parse::Item;
use crate::source::NO_TRANSACTION_MARKER;

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
    } else if text.lines().any(|l| goose_directive(l).is_some()) {
        Layout::Goose
    } else if text.lines().any(|l| dbmate_directive(l).is_some()) {
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

// ---------------------------------------------------------------------------------------------
// Recognising a directory.

fn detect(entries: &[Entry]) -> (Layout, String, Vec<Layout>) {
    if entries
        .iter()
        .any(|e| file_name(&e.path) == "migration_lock.toml" && depth(&e.path) <= 2)
    {
        return (Layout::Prisma, "`migration_lock.toml`".to_string(), vec![]);
    }
    if entries
        .iter()
        .any(|e| key(Layout::Prisma, &e.path).is_some())
    {
        return (
            Layout::Prisma,
            "`<timestamp>_<name>/migration.sql` directories".to_string(),
            vec![],
        );
    }
    if entries
        .iter()
        .any(|e| key(Layout::Diesel, &e.path).is_some())
    {
        return (
            Layout::Diesel,
            "`<version>_<name>/up.sql` directories".to_string(),
            vec![],
        );
    }
    if entries
        .iter()
        .any(|e| key(Layout::Flyway, &e.path).is_some())
    {
        return (
            Layout::Flyway,
            "`V<version>__<description>.sql` files".to_string(),
            vec![],
        );
    }
    let top: Vec<&Entry> = entries
        .iter()
        .filter(|e| depth(&e.path) == 1 && is_up_sql(&e.path))
        .collect();
    let numbered: Vec<&Entry> = top
        .iter()
        .copied()
        .filter(|e| numbered_name(&e.path, &['_', '-']).is_some())
        .collect();
    let any_text =
        |test: &dyn Fn(&str) -> bool| numbered.iter().any(|e| e.text.as_deref().is_some_and(test));
    if any_text(&|t| t.lines().any(|l| goose_directive(l).is_some())) {
        return (
            Layout::Goose,
            "`-- +goose Up` annotations".to_string(),
            vec![],
        );
    }
    if any_text(&|t| t.lines().any(|l| dbmate_directive(l).is_some())) {
        return (
            Layout::Dbmate,
            "`-- migrate:up` sections".to_string(),
            vec![],
        );
    }
    if any_text(&|t| first_line(t) == POSTGRES_MIGRATIONS_MARKER) {
        return (
            Layout::PostgresMigrations,
            "`-- postgres-migrations disable-transaction` markers".to_string(),
            vec![],
        );
    }
    let ups: Vec<&Entry> = numbered
        .iter()
        .copied()
        .filter(|e| key(Layout::GolangMigrate, &e.path).is_some())
        .collect();
    if !ups.is_empty() {
        if entries.iter().any(|e| e.path == "codegen.sum") {
            return (Layout::Codegen, "`codegen.sum`".to_string(), vec![]);
        }
        if any_text(&|t| codegen_transaction(t) == Transaction::None) {
            return (
                Layout::Codegen,
                "`-- codegen:no-transaction` markers".to_string(),
                vec![],
            );
        }
        if any_text(&|t| first_line(t) == SQLX_MARKER) {
            return (
                Layout::Sqlx,
                "`-- no-transaction` markers".to_string(),
                vec![],
            );
        }
        let four_digits = ups
            .iter()
            .all(|e| numbered_name(&e.path, &['_']).is_some_and(|(n, _)| n.len() == 4));
        if four_digits {
            return (
                Layout::Codegen,
                "`NNNN_name.up.sql` files".to_string(),
                vec![Layout::GolangMigrate, Layout::Sqlx],
            );
        }
        return (
            Layout::GolangMigrate,
            "`<N>_<name>.up.sql` files".to_string(),
            vec![Layout::Sqlx],
        );
    }
    if !numbered.is_empty() {
        if any_text(&|t| first_line(t) == SQLX_MARKER) {
            return (
                Layout::Sqlx,
                "`-- no-transaction` markers".to_string(),
                vec![],
            );
        }
        if numbered
            .iter()
            .any(|e| numbered_name(&e.path, &['-']).is_some())
        {
            return (
                Layout::PostgresMigrations,
                "`<N>-<name>.sql` files".to_string(),
                vec![],
            );
        }
    }
    if !top.is_empty() && top.iter().all(|e| e.text.as_deref().is_some_and(is_dump)) {
        return (Layout::PgDump, "pg_dump's header".to_string(), vec![]);
    }
    let alternatives = if numbered.is_empty() {
        vec![]
    } else {
        vec![Layout::Sqlx, Layout::PostgresMigrations]
    };
    (
        Layout::Plain,
        "no migration tool's layout recognised: *.sql by name, *.down.sql skipped".to_string(),
        alternatives,
    )
}

/// Whether a text is a `pg_dump` output (Rails' `db/structure.sql` is one with the header
/// comments taken out): its header comment, or its `SET` preamble.
pub fn is_dump(text: &str) -> bool {
    let head: Vec<&str> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(40)
        .collect();
    head.contains(&"-- PostgreSQL database dump")
        || (head.contains(&"SET statement_timeout = 0;")
            && head.iter().any(|l| {
                l.starts_with("SET client_encoding") || l.contains("set_config('search_path'")
            }))
}

// ---------------------------------------------------------------------------------------------
// Names and order.

/// Where a file sorts in its layout; `None` when the layout does not run it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    /// Flyway's repeatable migrations come after every versioned one.
    group: u8,
    version: Vec<Number>,
    name: String,
}

/// A string of digits, ordered by its value however long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Number(String);

impl Number {
    fn new(digits: &str) -> Number {
        let trimmed = digits.trim_start_matches('0');
        Number(trimmed.to_string())
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn key(layout: Layout, path: &str) -> Option<Key> {
    let name = file_name(path);
    let by_name = || Key {
        group: 0,
        version: vec![],
        name: path.to_string(),
    };
    let by_number = |digits: &str| Key {
        group: 0,
        version: vec![Number::new(digits)],
        name: path.to_string(),
    };
    if !name.ends_with(".sql") || name.ends_with(".down.sql") {
        return None;
    }
    match layout {
        Layout::Plain | Layout::Codegen | Layout::PgDump => (depth(path) == 1).then(by_name),
        Layout::GolangMigrate => {
            if depth(path) != 1 || !name.ends_with(".up.sql") {
                return None;
            }
            numbered_name(name, &['_']).map(|(n, _)| by_number(n))
        }
        Layout::Sqlx | Layout::Dbmate | Layout::Goose => {
            if depth(path) != 1 {
                return None;
            }
            numbered_name(name, &['_']).map(|(n, _)| by_number(n))
        }
        Layout::PostgresMigrations => {
            if depth(path) != 1 {
                return None;
            }
            numbered_name(name, &['_', '-']).map(|(n, _)| by_number(n))
        }
        Layout::Flyway => flyway_key(name).map(|mut k| {
            k.name = format!("{}\0{path}", k.name);
            k
        }),
        Layout::Diesel => {
            let (dir, file) = nested(path)?;
            if file != "up.sql" {
                return None;
            }
            diesel_version(dir).map(|v| Key {
                group: 0,
                version: vec![Number::new(&v)],
                name: path.to_string(),
            })
        }
        Layout::Prisma => {
            let (dir, file) = nested(path)?;
            (file == "migration.sql" && prisma_dir(dir)).then(by_name)
        }
    }
}

/// `V<version>__<description>.sql`: versions compared part by part, numerically (`.` or `_`
/// separate the parts, missing parts count as 0); `R__<description>.sql` after all of them, by
/// description. Undo (`U`) files and anything else: `None`.
fn flyway_key(name: &str) -> Option<Key> {
    let stem = name.strip_suffix(".sql")?;
    if let Some(description) = stem.strip_prefix("R__") {
        return Some(Key {
            group: 1,
            version: vec![],
            name: description.to_string(),
        });
    }
    let rest = stem.strip_prefix('V')?;
    let (version, description) = rest.split_once("__")?;
    let parts: Vec<&str> = version.split(['.', '_']).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut version: Vec<Number> = parts.into_iter().map(Number::new).collect();
    // `1` and `1.0` are the same version.
    while version.len() > 1 && version.last().is_some_and(|n| n.0.is_empty()) {
        version.pop();
    }
    Some(Key {
        group: 0,
        version,
        name: description.to_string(),
    })
}

/// A Diesel migration directory's version: the part before the first `_`, digits with `-`
/// between them (`2024-01-31-120000`), dashes removed.
fn diesel_version(dir: &str) -> Option<String> {
    let (version, rest) = dir.split_once('_')?;
    let digits: String = version.chars().filter(|c| *c != '-').collect();
    (!rest.is_empty()
        && !digits.is_empty()
        && version.chars().all(|c| c.is_ascii_digit() || c == '-')
        && digits.bytes().all(|b| b.is_ascii_digit()))
    .then_some(digits)
}

/// A Prisma migration directory: `<timestamp>_<name>`.
fn prisma_dir(dir: &str) -> bool {
    numbered_name(dir, &['_']).is_some()
}

/// `<dir>/<file>` directly under the directory or under one more level (the tool's own
/// `migrations/` when the project directory is named).
fn nested(path: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [dir, file] | [_, dir, file] => Some((dir, file)),
        _ => None,
    }
}

/// `<digits><separator><rest>`: the digits and the rest.
fn numbered_name<'a>(name: &'a str, separators: &[char]) -> Option<(&'a str, &'a str)> {
    let name = file_name(name);
    let end = name
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(name.len());
    let (digits, rest) = name.split_at(end);
    let rest = rest.strip_prefix(|c: char| separators.contains(&c))?;
    (!digits.is_empty() && !rest.is_empty()).then_some((digits, rest))
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn depth(path: &str) -> usize {
    path.split('/').count()
}

fn is_up_sql(path: &str) -> bool {
    path.ends_with(".sql") && !path.ends_with(".down.sql")
}

// ---------------------------------------------------------------------------------------------
// Transactions and up parts.

fn first_line(text: &str) -> &str {
    text.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("")
        .trim()
}

fn codegen_transaction(text: &str) -> Transaction {
    if first_line(text) == NO_TRANSACTION_MARKER {
        Transaction::None
    } else {
        Transaction::Wrapped
    }
}

/// A first-line marker that makes the tool send the file as one query without a transaction
/// of its own; the marker line is blanked.
fn first_line_marker(text: &str, marker: &str) -> (String, Transaction) {
    if first_line(text) != marker {
        return (text.to_string(), Transaction::Wrapped);
    }
    let mut first = true;
    let blanked = map_lines(text, |_| std::mem::take(&mut first));
    (blanked, Transaction::OneQuery)
}

/// A goose annotation (`-- +goose Up`, `--+goose StatementBegin`...): its command, upper case.
fn goose_directive(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let command = rest.strip_prefix("+goose")?;
    if !(command.is_empty() || command.starts_with(char::is_whitespace)) {
        return None;
    }
    Some(command.trim().to_ascii_uppercase())
}

/// goose: the `Up` sections; `Down` sections and every annotation blanked.
fn goose(text: &str) -> (String, Transaction) {
    let mut down = false;
    let mut transaction = Transaction::Wrapped;
    let blanked = map_lines(text, |line| match goose_directive(line) {
        Some(command) => {
            match command.as_str() {
                "UP" => down = false,
                "DOWN" => down = true,
                "NO TRANSACTION" => transaction = Transaction::None,
                _ => {}
            }
            true
        }
        None => down,
    });
    (blanked, transaction)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbmateSection {
    Up,
    Down,
}

/// A dbmate section line: `-- migrate:up [options]` or `-- migrate:down [options]`.
fn dbmate_directive(line: &str) -> Option<(DbmateSection, &str)> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let (section, options) = if let Some(o) = rest.strip_prefix("migrate:up") {
        (DbmateSection::Up, o)
    } else {
        (DbmateSection::Down, rest.strip_prefix("migrate:down")?)
    };
    (options.is_empty() || options.starts_with(char::is_whitespace))
        .then_some((section, options.trim()))
}

/// dbmate: the `-- migrate:up` section; the down section and the section lines blanked.
fn dbmate(text: &str) -> (String, Transaction) {
    let mut down = false;
    let mut transaction = Transaction::Wrapped;
    let blanked = map_lines(text, |line| match dbmate_directive(line) {
        Some((section, options)) => {
            down = section == DbmateSection::Down;
            if section == DbmateSection::Up
                && options
                    .split_whitespace()
                    .any(|o| o.eq_ignore_ascii_case("transaction:false"))
            {
                transaction = Transaction::OneQuery;
            }
            true
        }
        None => down,
    });
    (blanked, transaction)
}

/// The text with the lines `blank` says yes to replaced by spaces, one per character, line
/// breaks kept: every line and column stays where it was.
fn map_lines(text: &str, mut blank: impl FnMut(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if blank(line) {
            out.extend(line.chars().map(|c| match c {
                '\n' | '\r' => c,
                _ => ' ',
            }));
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
