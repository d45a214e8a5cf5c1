//! # index-without-concurrently
//!
//! ## What it does
//! Flags `CREATE INDEX` and `DROP INDEX` without `CONCURRENTLY` on a table that existed before
//! the current migration file. Indexes on tables (or materialized views, or `CREATE TABLE AS`
//! tables) created earlier in the same file are fine.
//!
//! ## Why
//! A plain `CREATE INDEX` takes a `SHARE` lock: every insert, update and delete on the table
//! waits until the whole index is built, minutes on a large table. A plain `DROP INDEX` takes
//! an `ACCESS EXCLUSIVE` lock, which also blocks reads, and queues behind every running query.
//! `CONCURRENTLY` builds or drops the index without blocking writes (it must run outside a
//! transaction: see `concurrently-in-transaction`).
//!
//! A partitioned table is different: PostgreSQL cannot build or drop its index concurrently, and
//! a plain `CREATE INDEX` on it builds every partition's index under that `SHARE` lock. What
//! does not block is `CREATE INDEX ... ON ONLY` the parent (it builds nothing), then `CREATE
//! INDEX CONCURRENTLY` on each partition and `ALTER INDEX ... ATTACH PARTITION`: codegen's runner
//! does those after an `ON ONLY` in a no-transaction migration. So `ON ONLY` on a partitioned
//! table is not flagged, and neither is dropping a partitioned table's index, which has no
//! concurrent form and changes only the catalog (`require-lock-timeout` keeps it from queueing).
//!
//! ## Example
//! ```sql
//! CREATE INDEX files_checksum_idx ON files (checksum);
//! ```
//!
//! ## Use instead
//! ```sql
//! -- codegen:no-transaction
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS files_checksum_idx ON files (checksum);
//! -- and on a partitioned table (the runner indexes and attaches each partition):
//! CREATE INDEX IF NOT EXISTS audit_logs_request_id_idx ON ONLY audit_logs (request_id);
//! ```

use model::locks::{create_index_mode, drop_index_mode};
use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::{StatementContext, object_names};
use crate::finding::Finding;

pub const NAME: &str = "index-without-concurrently";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    match ctx.node {
        NodeEnum::IndexStmt(s) if !s.concurrent => {
            let Some(r) = s.relation.as_ref() else {
                return;
            };
            let table = ctx.names.key(r);
            let partitioned = ctx
                .table(&ctx.names.relation(r))
                .is_some_and(|t| t.partition_by.is_some());
            // `ON ONLY` a partitioned parent builds nothing (see the rule's documentation).
            if partitioned && !r.inh {
                return;
            }
            if ctx.is_existing(&table) {
                let mode = create_index_mode(false);
                let help = if partitioned {
                    "a partitioned table's index cannot be built concurrently: create it with CREATE INDEX ... ON ONLY in a migration that runs outside a transaction (`-- codegen:no-transaction`); the runner then builds each partition's concurrently and attaches it (by hand: CREATE INDEX CONCURRENTLY on each partition, then ALTER INDEX ... ATTACH PARTITION)"
                } else {
                    "use CREATE INDEX CONCURRENTLY in a migration that runs outside a transaction (`-- codegen:no-transaction`)"
                };
                out.push(
                    ctx.finding(
                        NAME,
                        format!(
                            "creating an index on existing table `{table}` without CONCURRENTLY takes {} {mode} lock, which {} until the index is built",
                            mode.article(),
                            mode.blocks().describe(),
                        ),
                    )
                    .with_help(help)
                    .with_table(&table, &index_columns(s)),
                );
            }
        }
        NodeEnum::DropStmt(s)
            if !s.concurrent
                && ObjectType::try_from(s.remove_type) == Ok(ObjectType::ObjectIndex) =>
        {
            for object in &s.objects {
                let names = object_names(object);
                let index = names.join(".");
                if names
                    .last()
                    .is_some_and(|n| ctx.scope.new_indexes.contains(n))
                {
                    continue;
                }
                let owner = ctx.names.index_owner(&names);
                if owner.is_some_and(|t| !ctx.is_existing(&t.display_name())) {
                    continue;
                }
                // A partitioned table's index has no concurrent drop (see the documentation).
                if owner.is_some_and(|t| t.partition_by.is_some()) {
                    continue;
                }
                let on = owner.map_or(String::new(), |t| format!(" on `{}`", t.display_name()));
                let mode = drop_index_mode(false);
                let mut f = ctx
                    .finding(
                        NAME,
                        format!(
                            "dropping index `{index}`{on} without CONCURRENTLY takes {} {mode} lock, which {}",
                            mode.article(),
                            mode.blocks().describe(),
                        ),
                    )
                    .with_help("use DROP INDEX CONCURRENTLY in a migration that runs outside a transaction (`-- codegen:no-transaction`)");
                if let Some(t) = owner {
                    f = f.with_table(&t.display_name(), &[]);
                }
                out.push(f);
            }
        }
        _ => {}
    }
}

fn index_columns(s: &pg_query::protobuf::IndexStmt) -> Vec<String> {
    s.index_params
        .iter()
        .filter_map(|p| match p.node.as_ref() {
            Some(NodeEnum::IndexElem(e)) if !e.name.is_empty() => Some(e.name.clone()),
            _ => None,
        })
        .collect()
}
