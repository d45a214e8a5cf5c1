//! # drop-column
//!
//! ## What it does
//! Flags `ALTER TABLE ... DROP COLUMN` on a table that existed before the current migration
//! file (a column added earlier in the same file may be dropped).
//!
//! ## Why
//! The column's data is gone, and application instances still running the previous release
//! fail on every query that names the column (`SELECT *` consumers too, when they map
//! columns strictly). Remove the column from the code first, deploy, then drop it.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders DROP COLUMN shipped_at;
//! ```
//!
//! ## Use instead
//! ```sql
//! -- lint:ignore drop-column no reader since release 2024.06 (see #412)
//! ALTER TABLE orders DROP COLUMN shipped_at;
//! ```

use pg_query::protobuf::AlterTableType;

use super::StatementContext;
use crate::finding::Finding;

pub const NAME: &str = "drop-column";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let Some((table, commands)) = ctx.existing_table_commands() else {
        return;
    };
    for (t, cmd) in commands {
        if t == AlterTableType::AtDropColumn && !ctx.is_new_column(&table, &cmd.name) {
            out.push(
                ctx.finding(
                    NAME,
                    format!("dropping column `{table}.{}` deletes its data and breaks clients that still use it", cmd.name),
                )
                .with_help("drop a column only after every deployed release has stopped using it; suppress with the reason")
                .with_table(&table, std::slice::from_ref(&cmd.name)),
            );
        }
    }
}
