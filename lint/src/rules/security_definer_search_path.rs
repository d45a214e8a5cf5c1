//! # security-definer-search-path
//!
//! ## What it does
//! Flags `CREATE FUNCTION` / `CREATE PROCEDURE` with `SECURITY DEFINER` that does not pin
//! `search_path` with a `SET search_path = ...` clause.
//!
//! ## Why
//! A `SECURITY DEFINER` function runs with its owner's privileges, usually the migration owner
//! who can do anything. Unqualified names inside it (`audit_logs`, `now()`, the `=` operator)
//! are resolved through the *caller's* `search_path`, so a caller who can create objects in any
//! schema on that path (or in `pg_temp`) can shadow them and run code as the owner. The
//! retention purge, erasure and export functions are exactly such functions. PostgreSQL's
//! documentation ("Writing SECURITY DEFINER Functions Safely") prescribes the fix.
//!
//! ## Example
//! ```sql
//! CREATE FUNCTION purge() RETURNS void LANGUAGE sql SECURITY DEFINER
//!     AS $$ DELETE FROM audit_logs WHERE "timestamp" < now() - interval '7 years' $$;
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE FUNCTION purge() RETURNS void LANGUAGE sql SECURITY DEFINER
//!     SET search_path = public, pg_temp
//!     AS $$ DELETE FROM audit_logs WHERE "timestamp" < now() - interval '7 years' $$;
//! ```

use pg_query::NodeEnum;

use super::StatementContext;
use crate::finding::Finding;

pub const NAME: &str = "security-definer-search-path";

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let NodeEnum::CreateFunctionStmt(s) = ctx.node else {
        return;
    };
    let mut definer = false;
    let mut pinned = false;
    for option in &s.options {
        let Some(NodeEnum::DefElem(d)) = option.node.as_ref() else {
            continue;
        };
        match (
            d.defname.as_str(),
            d.arg.as_deref().and_then(|a| a.node.as_ref()),
        ) {
            ("security", Some(NodeEnum::Boolean(b))) => definer = b.boolval,
            ("set", Some(NodeEnum::VariableSetStmt(v))) => {
                pinned |= v.name.eq_ignore_ascii_case("search_path")
            }
            _ => {}
        }
    }
    if definer && !pinned {
        let name: Vec<String> = s
            .funcname
            .iter()
            .filter_map(|n| match n.node.as_ref() {
                Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                _ => None,
            })
            .collect();
        out.push(
            ctx.finding(
                NAME,
                format!(
                    "SECURITY DEFINER function `{}` does not pin search_path: callers can shadow the objects it uses and run code as its owner",
                    name.join(".")
                ),
            )
            .with_help("add `SET search_path = public, pg_temp` (the schemas it needs, pg_temp last)"),
        );
    }
}
