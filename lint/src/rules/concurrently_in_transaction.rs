//! # concurrently-in-transaction
//!
//! ## What it does
//! Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` and
//! `DETACH PARTITION ... CONCURRENTLY` in a migration that runs inside a transaction: a file
//! without `-- codegen:no-transaction` as its first line, or a statement between an explicit
//! `BEGIN` and `COMMIT`.
//!
//! ## Why
//! PostgreSQL refuses these statements in a transaction block ("cannot run inside a
//! transaction block"): the migration fails at deploy time although it worked when typed into
//! `psql`. codegen's runner wraps every migration in a transaction unless the file's first line
//! is the marker, and then runs it statement by statement.
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

use pg_query::NodeEnum;

use super::{StatementContext, alter_table_cmds, altered_table};
use crate::finding::Finding;

pub const NAME: &str = "concurrently-in-transaction";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    if !ctx.scope.in_transaction() {
        return;
    }
    let what = match ctx.node {
        NodeEnum::IndexStmt(s) if s.concurrent => "CREATE INDEX CONCURRENTLY",
        NodeEnum::DropStmt(s) if s.concurrent => "DROP INDEX CONCURRENTLY",
        NodeEnum::ReindexStmt(s)
            if s.params.iter().any(|p| {
                matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
            }) =>
        {
            "REINDEX CONCURRENTLY"
        }
        NodeEnum::AlterTableStmt(_) => {
            let detaches = altered_table(ctx.node).is_some_and(|(s, _)| {
                alter_table_cmds(s).any(|(_, cmd)| {
                    matches!(
                        cmd.def.as_deref().and_then(|d| d.node.as_ref()),
                        Some(NodeEnum::PartitionCmd(p)) if p.concurrent
                    )
                })
            });
            if !detaches {
                return;
            }
            "DETACH PARTITION CONCURRENTLY"
        }
        _ => return,
    };
    let (why, help) = if ctx.scope.explicit_transaction {
        (
            "inside an explicit transaction block",
            if ctx.scope.transactional_file {
                "put it in its own migration whose first line is `-- codegen:no-transaction`, outside BEGIN/COMMIT"
            } else {
                "move it out of the BEGIN ... COMMIT block"
            },
        )
    } else {
        (
            "in a migration that runs in a transaction (no `-- codegen:no-transaction` first line)",
            "put it in its own migration whose first line is `-- codegen:no-transaction`; for SQL that psql or another tool runs statement by statement (`alembic upgrade --sql`), set `assume_in_transaction = false` in lint.toml",
        )
    };
    out.push(
        ctx.finding(NAME, format!("{what} cannot run {why}"))
            .with_help(help),
    );
}
