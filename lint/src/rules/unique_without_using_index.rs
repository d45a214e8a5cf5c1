//! # unique-without-using-index
//!
//! ## What it does
//! Flags a `UNIQUE`, `PRIMARY KEY` or `EXCLUDE` constraint added to a table that existed before
//! the current migration file, unless it adopts an existing index (`USING INDEX`); also an
//! inline `UNIQUE` / `PRIMARY KEY` on a column added to such a table.
//!
//! ## Why
//! These constraints cannot be `NOT VALID`: adding one builds its index while holding an
//! `ACCESS EXCLUSIVE` lock, so the table can be neither read nor written until the build
//! ends. Build the unique index concurrently first, then attach it, which is instant.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
//! ```
//!
//! ## Use instead
//! ```sql
//! -- codegen:no-transaction
//! CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON customers (email);
//! -- then, in the next migration:
//! ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX customers_email_key;
//! ```

use pg_query::protobuf::ConstrType;

use super::{StatementContext, contype, strings};
use crate::finding::Finding;

pub const NAME: &str = "unique-without-using-index";

const HELP: &str = "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)";

fn what(c: &pg_query::protobuf::Constraint) -> Option<&'static str> {
    match contype(c) {
        ConstrType::ConstrUnique => Some("unique constraint"),
        ConstrType::ConstrPrimary => Some("primary key"),
        ConstrType::ConstrExclusion => Some("exclusion constraint"),
        _ => None,
    }
}

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let Some((table, added)) = ctx.existing_table_added_constraints() else {
        return;
    };
    for (cmd, c, column) in added {
        let Some(what) = what(c) else {
            continue;
        };
        let mode = model::locks::alter_table_cmd_mode(cmd).with_article();
        let finding = match column {
            None if !c.indexname.is_empty() => continue,
            None => ctx
                .finding_at(
                    NAME,
                    c.location,
                    format!(
                        "adding a {what} to existing table `{table}` builds its index under {mode} lock"
                    ),
                )
                .with_table(&table, &strings(&c.keys)),
            Some(column) => ctx
                .finding_at(
                    NAME,
                    c.location,
                    format!(
                        "new column `{}` of existing table `{table}` declares a {what}, built under {mode} lock",
                        column.colname
                    ),
                )
                .with_table(&table, std::slice::from_ref(&column.colname)),
        };
        out.push(finding.with_help(HELP));
    }
}
