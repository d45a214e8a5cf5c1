//! # rename-table
//!
//! ## What it does
//! Flags `ALTER TABLE ... RENAME TO` of a table that existed before the current migration file.
//!
//! ## Why
//! A rename is instant for PostgreSQL but breaking for clients: every deployed instance of the
//! previous release still queries the old name and fails until it is replaced. Renames need an
//! expand/contract rollout (a view or a code release that handles both names).
//!
//! ## Example
//! ```sql
//! ALTER TABLE invoices RENAME TO bills;
//! ```
//!
//! ## Use instead
//! ```sql
//! -- lint:ignore rename-table invoices has had no reader since release 2024.06
//! ALTER TABLE invoices RENAME TO bills;
//! ```

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::StatementContext;
use crate::finding::Finding;

pub const NAME: &str = "rename-table";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let NodeEnum::RenameStmt(s) = ctx.node else {
        return;
    };
    if ObjectType::try_from(s.rename_type) != Ok(ObjectType::ObjectTable) {
        return;
    }
    let Some(r) = s.relation.as_ref() else {
        return;
    };
    let table = ctx.names.key(r);
    if ctx.is_existing(&table) {
        out.push(
            ctx.finding(
                NAME,
                format!("renaming table `{table}` to `{}` breaks clients that still use the old name", s.newname),
            )
            .with_help("roll out renames in steps (new name plus a compatibility view), or suppress with the reason")
            .with_table(&table, &[]),
        );
    }
}
