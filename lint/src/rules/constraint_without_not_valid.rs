//! # constraint-without-not-valid
//!
//! ## What it does
//! Flags a foreign key or `CHECK` constraint added to a table that existed before the current
//! migration file without `NOT VALID`, including one declared inline on a new column
//! (`ADD COLUMN ... REFERENCES`), which cannot be `NOT VALID` at all.
//!
//! ## Why
//! Adding a validated constraint scans the whole table while holding a lock: `ACCESS
//! EXCLUSIVE` for a `CHECK` (no reads or writes), `SHARE ROW EXCLUSIVE` on both tables for a
//! foreign key (no writes). With `NOT VALID` the constraint is added instantly and enforced for
//! new rows; `VALIDATE CONSTRAINT` then checks the old rows under a lock that lets reads and
//! writes continue. Run the validation in a later transaction than the `ADD`, or the `ADD`'s
//! lock is still held while it scans.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
//!     FOREIGN KEY (customer_id) REFERENCES customers (id);
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
//!     FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
//! ```

use pg_query::protobuf::ConstrType;

use super::{StatementContext, contype, strings};
use crate::finding::Finding;

pub const NAME: &str = "constraint-without-not-valid";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let Some((table, added)) = ctx.existing_table_added_constraints() else {
        return;
    };
    for (cmd, c, column) in added {
        let what = match contype(c) {
            ConstrType::ConstrForeign => "foreign key",
            ConstrType::ConstrCheck => "check constraint",
            _ => continue,
        };
        let finding = match column {
            None if c.skip_validation => continue,
            None => {
                let name = if c.conname.is_empty() {
                    String::new()
                } else {
                    format!(" `{}`", c.conname)
                };
                let mode = model::locks::alter_table_cmd_mode(cmd);
                let both = if what == "foreign key" {
                    " on both tables"
                } else {
                    ""
                };
                ctx.finding_at(
                    NAME,
                    c.location,
                    format!(
                        "adding {what}{name} to existing table `{table}` without NOT VALID scans it under {} {mode} lock{both}, which {}",
                        mode.article(),
                        mode.blocks().describe(),
                    ),
                )
                .with_help("add it NOT VALID, then VALIDATE CONSTRAINT in a later migration")
                .with_table(&table, &strings(&c.fk_attrs))
            }
            Some(column) => ctx
                .finding_at(
                    NAME,
                    c.location,
                    format!(
                        "new column `{}` of existing table `{table}` declares a {what}, which validates the table under lock",
                        column.colname
                    ),
                )
                .with_help("add the column first, then the constraint with NOT VALID, then VALIDATE CONSTRAINT")
                .with_table(&table, std::slice::from_ref(&column.colname)),
        };
        out.push(finding);
    }
}
