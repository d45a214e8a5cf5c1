//! # rename-column
//!
//! ## What it does
//! Flags `ALTER TABLE ... RENAME COLUMN` on a table that existed before the current migration
//! file (a column added earlier in the same file may be renamed).
//!
//! ## Why
//! Instant for PostgreSQL, breaking for clients: deployed instances of the previous release
//! still read and write the old column name and fail until they are replaced.
//!
//! ## Example
//! ```sql
//! ALTER TABLE orders RENAME COLUMN note TO remark;
//! ```
//!
//! ## Use instead
//! Add the new column, write both, backfill, move readers, then drop the old one; or, when no
//! deployed code uses the column:
//! ```sql
//! -- lint:ignore rename-column `note` is unused since release 2024.06
//! ALTER TABLE orders RENAME COLUMN note TO remark;
//! ```

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::StatementContext;
use crate::finding::Finding;

pub const NAME: &str = "rename-column";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let NodeEnum::RenameStmt(s) = ctx.node else {
        return;
    };
    if ObjectType::try_from(s.rename_type) != Ok(ObjectType::ObjectColumn) {
        return;
    }
    let Some(r) = s.relation.as_ref() else {
        return;
    };
    let table = ctx.names.key(r);
    if ctx.is_existing(&table) && !ctx.is_new_column(&table, &s.subname) {
        out.push(
            ctx.finding(
                NAME,
                format!(
                    "renaming column `{table}.{}` to `{}` breaks clients that still use the old name",
                    s.subname, s.newname
                ),
            )
            .with_help("roll out renames in steps (add, backfill, switch, drop), or suppress with the reason")
            .with_table(&table, std::slice::from_ref(&s.subname)),
        );
    }
}
