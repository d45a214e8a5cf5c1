//! # not-null-column-without-default
//!
//! ## What it does
//! Flags `ALTER TABLE ... ADD COLUMN ... NOT NULL` (or `PRIMARY KEY`) without a `DEFAULT`
//! (or an identity or generated column) on a table that existed before the current migration
//! file.
//!
//! ## Why
//! Existing rows would get NULL in a column that forbids it, so the statement fails as soon as
//! the table has a row: the migration works on an empty development database and breaks in
//! production.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers ADD COLUMN level integer NOT NULL;
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE customers ADD COLUMN level integer NOT NULL DEFAULT 0;
//! ```
//! or add it nullable, backfill, then set `NOT NULL` (through a validated `CHECK`).

use pg_query::protobuf::ConstrType;

use super::{StatementContext, column_constraints, contype};
use crate::finding::Finding;

pub const NAME: &str = "not-null-column-without-default";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let Some((table, added)) = ctx.existing_table_added_columns() else {
        return;
    };
    for (_, c) in added {
        let kinds: Vec<ConstrType> = column_constraints(c).map(contype).collect();
        let not_null = c.is_not_null
            || kinds
                .iter()
                .any(|k| matches!(k, ConstrType::ConstrNotnull | ConstrType::ConstrPrimary));
        let filled = c.raw_default.is_some()
            || !c.identity.is_empty()
            || !c.generated.is_empty()
            || kinds.iter().any(|k| {
                matches!(
                    k,
                    ConstrType::ConstrDefault
                        | ConstrType::ConstrIdentity
                        | ConstrType::ConstrGenerated
                )
            });
        if not_null && !filled {
            out.push(
                ctx.finding_at(
                    NAME,
                    c.location,
                    format!(
                        "NOT NULL column `{}` added to existing table `{table}` without a default fails on any existing row",
                        c.colname
                    ),
                )
                .with_help("give it a DEFAULT, or add it nullable, backfill, and set NOT NULL afterwards")
                .with_table(&table, std::slice::from_ref(&c.colname)),
            );
        }
    }
}
