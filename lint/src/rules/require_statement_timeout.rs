//! # require-statement-timeout
//!
//! ## What it does
//! Flags a migration file with a statement that holds a lock blocking reads or writes of a table
//! that existed before the file *while doing work that grows with the table* when no `SET
//! statement_timeout` (or `SET LOCAL`, or `set_config('statement_timeout', ...)`) with a
//! non-zero value comes before it in the file. Those statements are, from `model::locks`:
//!
//! - rewrites: `ALTER COLUMN ... TYPE` (unless binary-compatible), `ADD COLUMN` with a volatile
//!   default, a `serial`, an identity or a stored generated column, `SET LOGGED/UNLOGGED`,
//!   `SET TABLESPACE`, `SET ACCESS METHOD`, `VACUUM FULL`, `CLUSTER`;
//! - scans under lock: `SET NOT NULL`, a `CHECK` or foreign key added without `NOT VALID` (on
//!   both tables for a foreign key), a narrowing `varchar`, `ATTACH PARTITION`;
//! - index builds: `CREATE INDEX` without `CONCURRENTLY`, `PRIMARY KEY`/`UNIQUE`/`EXCLUDE`
//!   added without `USING INDEX`, `REINDEX` without `CONCURRENTLY`.
//!
//! Catalog-only changes (`ADD COLUMN` without a volatile default, `DROP`, `RENAME`) are
//! `require-lock-timeout`'s business: once they have their lock they take milliseconds. Work
//! that blocks neither reads nor writes (`CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`,
//! DML backfills) is not flagged: a timeout there only aborts a long but harmless statement
//! (and leaves an invalid index behind a concurrent build). Reported once per file, at the
//! first such statement.
//!
//! Off when `lint.toml` says the runner sets a statement timeout for every migration:
//!
//! ```toml
//! [runner]
//! sets_statement_timeout = true
//! ```
//!
//! ## Why
//! These statements keep the application off the table for as long as the rewrite, scan or
//! build takes: seconds on a test database, minutes or hours in production. A
//! `statement_timeout` bounds the outage when the table turns out bigger than expected: the
//! statement is cancelled and rolled back instead of stopping the application indefinitely.
//!
//! ## Example
//! ```sql
//! ALTER TABLE cases ALTER COLUMN reference TYPE bigint;
//! ```
//!
//! ## Use instead
//! ```sql
//! SET statement_timeout = '30s';
//! SET lock_timeout = '2s';
//! ALTER TABLE cases ALTER COLUMN reference TYPE bigint;
//! ```
//! Better still, avoid the long lock: a new column backfilled in batches, `NOT VALID` then
//! `VALIDATE CONSTRAINT`, `CREATE INDEX CONCURRENTLY`.

use model::locks;

use super::StatementContext;
use crate::finding::Finding;

pub const NAME: &str = "require-statement-timeout";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    if ctx.config.runner.sets_statement_timeout
        || ctx.scope.statement_timeout.is_set()
        || ctx.scope.statement_timeout_reported.get()
        || locks::never_blocks(ctx.node)
    {
        return;
    }
    let taken = ctx.locks();
    let Some(lock) = taken
        .iter()
        .filter(|l| l.blocks_while_working() && ctx.is_existing(&l.table.display()))
        .max_by_key(|l| (l.mode, l.work))
    else {
        return;
    };
    ctx.scope.statement_timeout_reported.set(true);
    let table = lock.table.display();
    out.push(
        ctx.finding(
            NAME,
            format!(
                "this statement {} `{table}` while holding {} lock, which {}, and no statement_timeout is set before it: the application waits for as long as that takes",
                match lock.work {
                    locks::Work::Scan => "scans existing table",
                    locks::Work::IndexBuild => "builds an index on existing table",
                    _ => "rewrites existing table",
                },
                lock.mode.with_article(),
                lock.blocks().describe(),
            ),
        )
        .with_help("SET statement_timeout = '30s' (or SET LOCAL inside the migration's transaction) at the top of the file; or set `sets_statement_timeout = true` under [runner] in lint.toml when the runner sets one")
        .with_table(&table, &[]),
    );
}
