//! # drop-table
//!
//! ## What it does
//! Flags `DROP TABLE` of a table that existed before the current migration file.
//!
//! ## Why
//! The data is gone for good, and every application instance still running the previous
//! release fails on its first query against the table. Drop a table only after the code that
//! used it is gone everywhere, and after its data is archived or deliberately discarded.
//!
//! ## Example
//! ```sql
//! DROP TABLE invoices;
//! ```
//!
//! ## Use instead
//! Stop using the table in one release; drop it in a later one, recording why:
//! ```sql
//! -- lint:ignore drop-table unused since release 2024.06, archived to s3://archive/invoices
//! DROP TABLE invoices;
//! ```

use pg_query::NodeEnum;
use pg_query::protobuf::ObjectType;

use super::{StatementContext, object_names};
use crate::finding::Finding;

pub const NAME: &str = "drop-table";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let NodeEnum::DropStmt(s) = ctx.node else {
        return;
    };
    if ObjectType::try_from(s.remove_type) != Ok(ObjectType::ObjectTable) {
        return;
    }
    for object in &s.objects {
        let name = ctx.names.object_key(&object_names(object));
        if ctx.is_existing(&name) {
            out.push(
                ctx.finding(NAME, format!("dropping table `{name}` deletes its data and breaks clients that still use it"))
                    .with_help("drop a table only after every deployed release has stopped using it; suppress with the reason")
                    .with_table(&name, &[]),
            );
        }
    }
}
