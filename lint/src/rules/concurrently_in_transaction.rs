//! # concurrently-in-transaction
//!
//! ## What it does
//! Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` and
//! `DETACH PARTITION ... CONCURRENTLY` in a migration that runs inside a transaction block, as
//! its migration tool runs it (the layout of its directory, see `docs/linting.md`).
//!
//! That is:
//! - a file its tool wraps in a transaction: a codegen file without `-- codegen:no-transaction`
//!   as its first line, a goose file without `-- +goose NO TRANSACTION`, a dbmate file without
//!   `transaction:false` on its `-- migrate:up` line, an sqlx file without `-- no-transaction`,
//!   a postgres-migrations file without `-- postgres-migrations disable-transaction`, a Diesel
//!   migration whose `metadata.toml` does not say `run_in_transaction = false`;
//! - a file of several statements that its tool sends as one query (golang-migrate, Prisma, and
//!   the tools above when told not to open a transaction): PostgreSQL runs such a query as one
//!   implicit transaction block;
//! - a statement between an explicit `BEGIN` and `COMMIT`.
//!
//! Files that run outside a transaction are left alone: Flyway's migrations holding such a
//! statement (Flyway runs those without one), `pg_dump` output and Rails' `structure.sql` (psql
//! runs them statement by statement), files whose name contains `.autocommit.`.
//!
//! ## Why
//! PostgreSQL refuses these statements in a transaction block ("cannot run inside a
//! transaction block"): the migration fails at deploy time although it worked when typed into
//! `psql`. codegen's runner wraps every migration in a transaction unless the file's first line
//! is the marker, and then runs it statement by statement; other tools have their own switch.
//!
//! ## Example
//! ```sql
//! CREATE INDEX CONCURRENTLY files_checksum_idx ON files (checksum);
//! ```
//!
//! ## Use instead
//! ```sql
//! -- codegen:no-transaction
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS files_checksum_idx ON files (checksum);
//! ```
//!
//! or the same statement alone in a migration with its tool's switch (`-- +goose NO
//! TRANSACTION`, `-- migrate:up transaction:false`, ...).

use super::StatementContext;
use crate::finding::Finding;
use crate::layout::{Layout, Transaction};

pub const NAME: &str = "concurrently-in-transaction";

pub use model::locks::concurrent_operation;

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    if !ctx.scope.in_transaction() {
        return;
    }
    let Some(what) = concurrent_operation(ctx.node) else {
        return;
    };
    let layout = ctx.scope.layout;
    let (why, help) = if ctx.scope.explicit_transaction {
        (
            "inside an explicit transaction block".to_string(),
            if ctx.scope.transactional_file {
                format!(
                    "put it in its own migration {}, outside BEGIN/COMMIT",
                    layout.opt_out()
                )
            } else {
                "move it out of the BEGIN ... COMMIT block".to_string()
            },
        )
    } else if ctx.scope.transaction == Transaction::OneQuery {
        (
            "in a migration of several statements sent as one query, which PostgreSQL runs as one implicit transaction block".to_string(),
            match layout {
                Layout::GolangMigrate | Layout::Prisma => "put it alone in a migration of its own: a query of one statement runs outside any transaction block".to_string(),
                _ => format!("put it alone in a migration of its own {}", layout.opt_out()),
            },
        )
    } else {
        let mut help = format!("put it in its own migration {}", layout.opt_out());
        if matches!(layout, Layout::Plain | Layout::Codegen) {
            help.push_str("; for SQL that psql or another tool runs statement by statement (`alembic upgrade --sql`), set `assume_in_transaction = false` in lint.toml");
        }
        (
            format!(
                "in a migration that runs in a transaction (no {})",
                layout.missing_directive()
            ),
            help,
        )
    };
    out.push(
        ctx.finding(NAME, format!("{what} cannot run {why}"))
            .with_help(help),
    );
}
