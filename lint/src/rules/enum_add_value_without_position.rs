//! # enum-add-value-without-position
//!
//! ## What it does
//! Flags `ALTER TYPE ... ADD VALUE` without `BEFORE` or `AFTER`.
//!
//! ## Why
//! An enum's label order is its sort order: `ORDER BY status` and comparisons such as
//! `status < 'completed'` follow it. Without a position the label is appended, so its place
//! depends on when the migration ran rather than on the declared order in `schema.yaml`, and
//! environments migrated through different histories sort differently. Saying where the value
//! goes makes the intent explicit, even when the end is right.
//!
//! ## Example
//! ```sql
//! ALTER TYPE job_status ADD VALUE 'paused';
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TYPE job_status ADD VALUE 'paused' AFTER 'processing';
//! ```

use pg_query::NodeEnum;

use super::{StatementContext, strings};
use crate::finding::Finding;

pub const NAME: &str = "enum-add-value-without-position";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let NodeEnum::AlterEnumStmt(s) = ctx.node else {
        return;
    };
    if !s.old_val.is_empty() || s.new_val.is_empty() || !s.new_val_neighbor.is_empty() {
        return;
    }
    let names = strings(&s.type_name);
    let name = names.join(".");
    let last = ctx
        .names
        .enum_type(&names)
        .and_then(|e| e.values.last())
        .map_or(String::from("<label>"), |v| format!("'{v}'"));
    out.push(
        ctx.finding(
            NAME,
            format!(
                "value '{}' is added to enum `{name}` without BEFORE or AFTER",
                s.new_val
            ),
        )
        .with_help(format!(
            "say where it goes in the sort order, e.g. ADD VALUE '{}' AFTER {last}",
            s.new_val
        )),
    );
}
