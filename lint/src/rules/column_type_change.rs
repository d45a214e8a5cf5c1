//! # column-type-change
//!
//! ## What it does
//! Flags `ALTER TABLE ... ALTER COLUMN ... TYPE` on a table that existed before the current
//! migration file, unless the change is one PostgreSQL makes without touching the rows:
//! `varchar(n)` to a longer `varchar`, to unbounded `varchar` or to `text`; `text` to unbounded
//! `varchar`; `numeric(p, s)` to `numeric(q, s)` with `q >= p` or to unconstrained `numeric`;
//! a higher precision (or none) for `timestamp`, `timestamptz` and `time` (with no `USING`, or
//! a `USING` that only casts the column).
//!
//! ## Why
//! Any other type change rewrites the whole table and every index on it (or, for a narrowing
//! such as `text` to `varchar(320)`, reads every row to check it) while holding an `ACCESS
//! EXCLUSIVE` lock: no reads, no writes, for as long as that takes. It also breaks every
//! client that still reads or writes the old type.
//!
//! ## Example
//! ```sql
//! ALTER TABLE customers ALTER COLUMN score TYPE bigint;
//! ```
//!
//! ## Use instead
//! Add a new column of the new type, write to both, backfill in batches, switch readers, then
//! drop the old column in a later release. For a deliberate change on a small table, keep the
//! statement and suppress with a reason:
//! ```sql
//! -- lint:ignore column-type-change customers has 200 rows; a rewrite takes milliseconds
//! ALTER TABLE customers ALTER COLUMN score TYPE bigint;
//! ```

use model::DataType;
use pg_query::NodeEnum;
use pg_query::protobuf::AlterTableType;

use super::{StatementContext, alter_table_cmds, altered_table, cmd_column, strings};
use crate::finding::Finding;

pub const NAME: &str = "column-type-change";

/// Whether PostgreSQL changes `from` into `to` without rewriting or scanning the table.
pub fn binary_compatible(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let wider = |a: &Option<u32>, b: &Option<u32>| match (a, b) {
        (_, None) => true,
        (Some(a), Some(b)) => b >= a,
        (None, Some(_)) => false,
    };
    match (from, to) {
        _ if from == to => true,
        (Varchar(a), Varchar(b)) => wider(a, b),
        (Varchar(_), Text) | (Text, Varchar(None)) => true,
        (Numeric(_), Numeric(None)) => true,
        (Numeric(Some((p, s))), Numeric(Some((q, t)))) => {
            q >= p && s.unwrap_or(0) == t.unwrap_or(0)
        }
        (Timestamp(a), Timestamp(b)) | (Timestamptz(a), Timestamptz(b)) | (Time(a), Time(b)) => {
            wider(a, b)
        }
        _ => false,
    }
}

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let Some((s, table)) = altered_table(ctx.node) else {
        return;
    };
    if !ctx.is_existing(&table) {
        return;
    }
    for (t, cmd) in alter_table_cmds(s) {
        if t != AlterTableType::AtAlterColumnType
            || ctx
                .scope
                .new_columns
                .contains(&(table.clone(), cmd.name.clone()))
        {
            continue;
        }
        let Some(def) = cmd_column(cmd) else {
            continue;
        };
        let old = ctx
            .table(&table)
            .and_then(|t| t.column(&cmd.name))
            .map(|c| c.data_type.clone());
        let new = model::replay::data_type(ctx.catalog, def.type_name.as_ref()).ok();
        let plain_using = match def.raw_default.as_deref().and_then(|d| d.node.as_ref()) {
            None => true,
            Some(expr) => casts_column(expr, &cmd.name),
        };
        let describe = |t: &Option<DataType>| t.as_ref().map_or("?".to_string(), |t| t.to_string());
        if let (Some(o), Some(n)) = (&old, &new)
            && plain_using
            && binary_compatible(o, n)
        {
            continue;
        }
        let narrowing = matches!(
            (&old, &new),
            (
                Some(DataType::Text | DataType::Varchar(_)),
                Some(DataType::Varchar(Some(_)))
            )
        );
        let effect = if narrowing && plain_using {
            "reads every row to check it"
        } else {
            "rewrites the table and its indexes"
        };
        out.push(
            ctx.finding(
                NAME,
                format!(
                    "changing `{table}.{}` from `{}` to `{}` {effect} under an ACCESS EXCLUSIVE lock",
                    cmd.name,
                    describe(&old),
                    describe(&new)
                ),
            )
            .with_help("add a column of the new type, backfill it in batches and switch over; or suppress with the reason the lock is acceptable")
            .with_table(&table, std::slice::from_ref(&cmd.name)),
        );
    }
}

/// `USING col::type` (possibly several casts): a conversion PostgreSQL can still skip.
fn casts_column(expr: &NodeEnum, column: &str) -> bool {
    match expr {
        NodeEnum::TypeCast(c) => c
            .arg
            .as_deref()
            .and_then(|a| a.node.as_ref())
            .is_some_and(|a| casts_column(a, column)),
        NodeEnum::ColumnRef(r) => strings(&r.fields).last().is_some_and(|n| n == column),
        _ => false,
    }
}
