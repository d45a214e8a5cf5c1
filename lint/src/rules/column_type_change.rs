//! # column-type-change
//!
//! ## What it does
//! Flags `ALTER TABLE ... ALTER COLUMN ... TYPE` on a table that existed before the current
//! migration file, unless the change is one PostgreSQL makes without touching the rows:
//! `varchar(n)` to a longer `varchar`, to unbounded `varchar` or to `text`; `text` to unbounded
//! `varchar`; `numeric(p, s)` to `numeric(q, s)` with `q >= p` or to unconstrained `numeric`;
//! a higher precision (or none) for `timestamp`, `timestamptz` and `time` (with no `USING`, or
//! a `USING` that only casts the column). Widening a `varchar` never rewrites on PostgreSQL 15,
//! so `varchar(20)` to `varchar(40)`, `varchar` or `text` is not reported. When the replayed
//! schema does not know the column (its table was created outside the migrations, or by SQL
//! the replay could not apply), its old type is unknown and nothing is said; a new type the
//! replay does not model (`citext`, a domain) is named as written.
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

use super::{StatementContext, cmd_column, strings};
use crate::finding::Finding;

pub const NAME: &str = "column-type-change";

pub use model::locks::binary_compatible;

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let Some((table, commands)) = ctx.existing_table_commands() else {
        return;
    };
    for (t, cmd) in commands {
        if t != AlterTableType::AtAlterColumnType || ctx.is_new_column(&table, &cmd.name) {
            continue;
        }
        let Some(def) = cmd_column(cmd) else {
            continue;
        };
        // A column the replay does not know (its table or column came from SQL it could not
        // apply, or from outside the migrations): nothing is known of the change.
        let Some(old) = ctx
            .altered_catalog_table()
            .and_then(|t| t.column(&cmd.name))
            .map(|c| c.data_type.clone())
            .filter(|t| *t != DataType::Unknown)
        else {
            continue;
        };
        let new = def
            .type_name
            .as_ref()
            .map(|t| ctx.names.session.data_type(ctx.catalog, t));
        let plain_using = match def.raw_default.as_deref().and_then(|d| d.node.as_ref()) {
            None => true,
            Some(expr) => casts_column(expr, &cmd.name),
        };
        if let Some(n) = &new
            && plain_using
            && binary_compatible(&old, n)
        {
            continue;
        }
        let narrowing = matches!(
            (&old, &new),
            (
                DataType::Text | DataType::Varchar(_),
                Some(DataType::Varchar(Some(_)))
            )
        );
        // A type the model does not know (an extension's, a domain) is named as written.
        let new_name = match (&new, def.type_name.as_ref()) {
            (Some(t), _) => t.to_string(),
            (None, Some(t)) => written_type(t),
            (None, None) => "another type".to_string(),
        };
        let effect = if narrowing && plain_using {
            "reads every row to check it"
        } else {
            "rewrites the table and its indexes"
        };
        out.push(
            ctx.finding(
                NAME,
                format!(
                    "changing `{table}.{}` from `{}` to `{}` {effect} under {} lock",
                    cmd.name,
                    old,
                    new_name,
                    model::locks::alter_table_cmd_mode(cmd).with_article(),
                ),
            )
            .with_help("add a column of the new type, backfill it in batches and switch over; or suppress with the reason the lock is acceptable")
            .with_table(&table, std::slice::from_ref(&cmd.name)),
        );
    }
}

/// A type name as the statement spells it: `citext`, `myschema.money_amount(2)`, `geometry[]`.
fn written_type(t: &pg_query::protobuf::TypeName) -> String {
    let names: Vec<String> = strings(&t.names)
        .into_iter()
        .filter(|n| n != "pg_catalog")
        .collect();
    let mut out = names.join(".");
    let modifiers: Vec<String> = t
        .typmods
        .iter()
        .filter_map(|m| match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match c.val.as_ref() {
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                Some(pg_query::protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if !modifiers.is_empty() {
        out.push_str(&format!("({})", modifiers.join(", ")));
    }
    for _ in &t.array_bounds {
        out.push_str("[]");
    }
    if out.is_empty() {
        "another type".to_string()
    } else {
        out
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
