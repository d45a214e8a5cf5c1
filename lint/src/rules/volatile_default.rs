//! # volatile-default
//!
//! ## What it does
//! Flags `ALTER TABLE ... ADD COLUMN` with a volatile default on a table that existed before the
//! current migration file: a default calling `random()`, `gen_random_uuid()`,
//! `uuid_generate_v4()`, `clock_timestamp()`, `timeofday()`, `nextval()` (a `serial` column),
//! or a function the migrations created without `IMMUTABLE` or `STABLE`. With
//! `postgres_version` below 11 in `lint.toml`, any non-NULL default is flagged.
//!
//! ## Why
//! Since PostgreSQL 11, adding a column with a non-volatile default (a constant, `now()`,
//! `CURRENT_TIMESTAMP`) only records the default in the catalog: instant. A volatile default
//! must be computed for every existing row, so PostgreSQL rewrites the whole table under an
//! `ACCESS EXCLUSIVE` lock, blocking reads and writes for the duration. Setting a volatile
//! default on an existing column (`ALTER COLUMN ... SET DEFAULT`) is fine: it only affects new
//! rows.
//!
//! ## Example
//! ```sql
//! ALTER TABLE files ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE files ADD COLUMN public_id uuid;
//! ALTER TABLE files ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
//! -- then backfill existing rows in batches
//! ```

use model::locks::{self, SERIAL_TYPES};
use pg_query::NodeEnum;

use super::{StatementContext, column_default, type_base_name};
use crate::finding::Finding;

pub const NAME: &str = "volatile-default";

/// The first volatile function a default expression calls: a built-in one
/// ([`model::locks::VOLATILE_BUILTINS`]) or one the migrations created without `IMMUTABLE` or
/// `STABLE`.
pub fn volatile_call(ctx: &StatementContext<'_>, expr: &NodeEnum) -> Option<String> {
    locks::volatile_call(expr, |name| ctx.volatile_functions.contains(name))
        .map(|n| format!("{n}()"))
}

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let Some((table, added)) = ctx.existing_table_added_columns() else {
        return;
    };
    for (cmd, c) in added {
        let type_name = type_base_name(c.type_name.as_ref());
        let why = if SERIAL_TYPES.contains(&type_name.as_str()) {
            Some(format!("`{type_name}` fills existing rows from nextval()"))
        } else if let Some(default) = column_default(c).and_then(|d| d.node.as_ref()) {
            if let Some(call) = volatile_call(ctx, default) {
                Some(format!("its default calls the volatile function {call}"))
            } else if ctx.config.postgres_version < 11 && !is_null(default) {
                Some(format!(
                    "before PostgreSQL 11 (postgres_version = {}) every default is written into each row",
                    ctx.config.postgres_version
                ))
            } else {
                None
            }
        } else {
            None
        };
        if let Some(why) = why {
            out.push(
                ctx.finding_at(
                    NAME,
                    c.location,
                    format!(
                        "adding column `{}` to existing table `{table}` rewrites the table under {} lock: {why}",
                        c.colname,
                        locks::alter_table_cmd_mode(cmd).with_article(),
                    ),
                )
                .with_help("add the column without the default, then SET DEFAULT and backfill existing rows in batches")
                .with_table(&table, std::slice::from_ref(&c.colname)),
            );
        }
    }
}

fn is_null(expr: &NodeEnum) -> bool {
    matches!(expr, NodeEnum::AConst(c) if c.isnull)
}
