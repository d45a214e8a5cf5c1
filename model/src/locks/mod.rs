//! The locks a statement takes: for one parsed statement and the schema before it, the table-level
//! lock PostgreSQL takes on each table it touches, what that lock blocks of the application, and
//! what the statement does to the table while holding it.
//!
//! The one place the workspace knows lock levels: the linter's lock rules, the runner's
//! `--dry-run` ([`script_locks`]) and the end-to-end test that holds this module equal to what
//! `pg_locks` shows on PostgreSQL 15 all read them from here.
//!
//! PostgreSQL's eight table lock modes, weakest first, and what each blocks of an application
//! that reads (`SELECT`: `ACCESS SHARE`) and writes (`INSERT`/`UPDATE`/`DELETE`: `ROW
//! EXCLUSIVE`):
//!
//! | mode | taken by | blocks |
//! |---|---|---|
//! | `ACCESS SHARE` | `SELECT` | nothing |
//! | `ROW SHARE` | `SELECT ... FOR UPDATE/SHARE`, foreign-key checks | nothing |
//! | `ROW EXCLUSIVE` | `INSERT`, `UPDATE`, `DELETE`, `MERGE` | nothing |
//! | `SHARE UPDATE EXCLUSIVE` | `CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`, `ANALYZE`, `VACUUM`, `COMMENT`, `SET STATISTICS` | nothing (other DDL and `VACUUM`) |
//! | `SHARE` | `CREATE INDEX` | writes |
//! | `SHARE ROW EXCLUSIVE` | `CREATE TRIGGER`, `ADD FOREIGN KEY` (both tables), `ENABLE/DISABLE TRIGGER` | writes |
//! | `EXCLUSIVE` | `REFRESH MATERIALIZED VIEW CONCURRENTLY` | writes (and `SELECT ... FOR UPDATE`) |
//! | `ACCESS EXCLUSIVE` | most `ALTER TABLE`, `DROP`, `TRUNCATE`, `RENAME`, `VACUUM FULL`, `CLUSTER` | reads and writes |
//!
//! A statement that waits for its lock also blocks everything queued behind it that conflicts
//! with the lock it waits for: an `ALTER TABLE` waiting behind a long report blocks every read
//! of the table until it has run.
//!
//! What is modelled: `ALTER TABLE` subcommand by subcommand (PostgreSQL's
//! `AlterTableGetLockLevel`: the strongest level of the subcommands, on the table and, without
//! `ONLY`, its partitions and children), plus the other tables a subcommand locks (the
//! referenced table of a foreign key added, validated, dropped or retyped); `CREATE [UNIQUE]
//! INDEX [CONCURRENTLY]`, `DROP` of tables, indexes, triggers, policies and rules (with the
//! tables whose foreign-key triggers go with them), renames, `SET SCHEMA`, `TRUNCATE`,
//! `REINDEX`, `VACUUM`, `ANALYZE`, `CLUSTER`, `CREATE TRIGGER`, `CREATE POLICY`, `COMMENT` (`SHARE
//! UPDATE EXCLUSIVE` on a table or column; a constraint's or trigger's table is only opened),
//! `LOCK`, `CREATE TABLE` (the tables it references, inherits or is a partition of, copies with
//! `LIKE`), views and `CREATE TABLE AS` (the tables their query reads), and DML (the target,
//! the tables read, and the foreign-key checks and actions of the rows written: taken only when
//! a row is written). `GRANT`, `SET`, `DO` blocks (their statements run at migration time and
//! are not read here), functions, types and sequences take no table lock here. Locks on
//! indexes, sequences, views and TOAST tables are not listed: only tables (and partitioned
//! tables) are.

mod alter;
mod levels;
mod mode;
mod nodes;
mod walk;

pub use levels::{
    SERIAL_TYPES, VOLATILE_BUILTINS, alter_table_cmd_mode, binary_compatible, concurrent_operation,
    create_index_mode, drop_index_mode, never_blocks, volatile_call,
};
pub use mode::{Blocks, LockMode, RelationLock, Work};

use std::ops::Range;

use pg_query::NodeEnum;

use crate::catalog::Catalog;
use crate::replay::{ScriptStatement, Session, SyntaxError, parse_script};

/// The locks `node` takes on tables, given the schema before it (`catalog`, with `session`'s
/// `search_path` and name index): one entry per table, in the order the statement names them,
/// with the modes a table gets combined ([`LockMode::combine`]).
pub fn statement_locks(node: &NodeEnum, catalog: &Catalog, session: &Session) -> Vec<RelationLock> {
    let mut cx = walk::Locks {
        catalog,
        session,
        out: Vec::new(),
    };
    cx.statement(node);
    cx.out
}

/// One statement of a script with the locks it takes: see [`script_locks`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementLocks<'a> {
    /// The statement, without the separating semicolon.
    pub text: &'a str,
    /// Where `text` is in the script (byte offsets).
    pub span: Range<usize>,
    pub locks: Vec<RelationLock>,
}

/// What the runner's `--dry-run` prints: every statement of a migration script, with its
/// place in the script and the locks it takes, each seen against the schema the statements
/// before it leave (`before`: the schema the earlier migrations built, e.g. by
/// `migrate::history` replaying them; `search_path` as the runner sets it). The replay is
/// lenient: a statement it cannot follow still has its locks listed.
pub fn script_locks<'a>(
    before: &Catalog,
    search_path: &[String],
    script: &'a str,
) -> Result<Vec<StatementLocks<'a>>, SyntaxError> {
    let statements = parse_script(script)?;
    let mut catalog = before.clone();
    let mut session = Session::lenient(search_path.to_vec());
    let mut out = Vec::with_capacity(statements.len());
    for ScriptStatement {
        text, offset, node, ..
    } in &statements
    {
        let locks = statement_locks(node, &catalog, &session);
        out.push(StatementLocks {
            text,
            span: *offset..*offset + text.len(),
            locks,
        });
        let _ = session.apply(&mut catalog, node);
        session.take_notes();
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
