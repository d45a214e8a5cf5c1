//! # require-lock-timeout
//!
//! ## What it does
//! Flags a migration file whose statement takes a lock that blocks reads or writes of a table
//! that existed before the file (an `ALTER TABLE`, a `CREATE INDEX` without `CONCURRENTLY`, a
//! foreign key's lock on the table it references, a `DROP`, a `TRUNCATE`, ...) when no `SET
//! lock_timeout` (or `SET LOCAL lock_timeout`, or `set_config('lock_timeout', ...)`) with a
//! non-zero value comes before it in the file. Reported once per file, at the first such
//! statement. The lock each statement takes is `model::locks`'s (see `lint --explain` of the
//! lock rules, or the runner's `--dry-run`); tables created earlier in the same file have no
//! traffic and do not count.
//!
//! Off when `lint.toml` says the runner sets a lock timeout for every migration:
//!
//! ```toml
//! [runner]
//! sets_lock_timeout = true
//! ```
//!
//! ## Why
//! A lock request waits behind every transaction that holds a conflicting lock (a long report,
//! an idle-in-transaction session), and while it waits, every later query that conflicts with
//! it queues behind it. An `ALTER TABLE` that only needs a millisecond of `ACCESS EXCLUSIVE`
//! can so stop every read and write of the table for as long as the oldest transaction on it
//! runs. With a short `lock_timeout` the migration gives up instead (and can be retried),
//! and the application never waits longer than the timeout.
//!
//! ## Example
//! ```sql
//! ALTER TABLE cases ADD COLUMN closed_at timestamptz;
//! ```
//!
//! ## Use instead
//! ```sql
//! SET lock_timeout = '2s';
//! ALTER TABLE cases ADD COLUMN closed_at timestamptz;
//! ```
//! Retry the migration when it fails with `lock_timeout` (`codegen db upgrade` does both).

use model::locks::{self, Blocks};

use super::StatementContext;
use crate::finding::Finding;

pub const NAME: &str = "require-lock-timeout";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    if ctx.config.runner.sets_lock_timeout
        || ctx.scope.lock_timeout.is_set()
        || ctx.scope.lock_timeout_reported.get()
        || locks::never_blocks(ctx.node)
    {
        return;
    }
    let taken = ctx.locks();
    let Some(lock) = taken
        .iter()
        .filter(|l| l.blocks() != Blocks::Nothing && ctx.is_existing(&l.table.display()))
        .max_by_key(|l| l.mode)
    else {
        return;
    };
    ctx.scope.lock_timeout_reported.set(true);
    let table = lock.table.display();
    out.push(
        ctx.finding(
            NAME,
            format!(
                "this statement takes {} lock on existing table `{table}`, which {}, and no lock_timeout is set before it: while it waits for the lock, every query on `{table}` waits behind it",
                lock.mode.with_article(),
                lock.blocks().describe(),
            ),
        )
        .with_help("SET lock_timeout = '2s' (or SET LOCAL inside the migration's transaction) at the top of the file and retry the migration when it times out; or set `sets_lock_timeout = true` under [runner] in lint.toml when the runner sets one")
        .with_table(&table, &[]),
    );
}
