//! # audit-log-append-only
//!
//! ## What it does
//! Flags any migration statement that changes or removes rows of `audit_logs`, or of any table
//! flagged `[append_only]` in its comment (`append_only: true` in `schema.yaml`): `UPDATE`,
//! `DELETE`, `MERGE`, `TRUNCATE` (also inside a `WITH` query), `DROP TABLE`, `ALTER TABLE ...
//! DROP COLUMN`, and `GRANT UPDATE`, `DELETE`, `TRUNCATE` (or `ALL`) on such a table.
//!
//! ## Why
//! The audit trail is append-only evidence for HIPAA and GDPR: who accessed or changed which
//! record, when. A migration that rewrites or removes entries destroys that evidence without
//! leaving a trace of its own. Retention purges run through the application's audited purge
//! (which logs a `data_retention_purge` event), never through a migration.
//!
//! ## Example
//! ```sql
//! DELETE FROM audit_logs WHERE "timestamp" < now() - interval '7 years';
//! ```
//!
//! ## Use instead
//! Run the retention purge through the generated `purge_expired_data()`, which records the
//! purge itself. Schema changes that only add to `audit_logs` (new columns, indexes) are fine,
//! and so are grants of `SELECT` and `INSERT`.

use model::QualifiedName;
use pg_query::protobuf::{AlterTableType, GrantTargetType, ObjectType};
use pg_query::{NodeEnum, NodeRef};

use super::{StatementContext, alter_table_cmds, object_names};
use crate::finding::Finding;

pub const NAME: &str = "audit-log-append-only";

/// The append-only tables.
pub const AUDIT_TABLES: &[&str] = &["audit_logs"];

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    let is_audit = |name: &QualifiedName| {
        AUDIT_TABLES.contains(&name.display().as_ref())
            || ctx.table(name).is_some_and(|t| t.flags.append_only)
    };
    let mut hit = |what: &str, table: &str, location: i32| {
        out.push(
            ctx.finding_at(
                NAME,
                location,
                format!("migration {what} `{table}`, which is append-only"),
            )
            .with_help(
                "audit entries are evidence: never update, delete or drop them in a migration",
            )
            .with_table(table, &[]),
        );
    };
    match ctx.node {
        NodeEnum::DropStmt(s)
            if ObjectType::try_from(s.remove_type) == Ok(ObjectType::ObjectTable) =>
        {
            for object in &s.objects {
                let name = ctx.names.object(&object_names(object));
                if is_audit(&name) {
                    hit("drops", &name.display(), -1);
                }
            }
        }
        NodeEnum::GrantStmt(s)
            if s.is_grant
                && ObjectType::try_from(s.objtype) == Ok(ObjectType::ObjectTable)
                && GrantTargetType::try_from(s.targtype)
                    == Ok(GrantTargetType::AclTargetObject) =>
        {
            // No privilege names means ALL.
            let rewrites = s.privileges.is_empty()
                || s.privileges.iter().any(|p| {
                    matches!(p.node.as_ref(), Some(NodeEnum::AccessPriv(a))
                        if ["update", "delete", "truncate"].contains(&a.priv_name.to_ascii_lowercase().as_str()))
                });
            if rewrites {
                for object in &s.objects {
                    if let Some(NodeEnum::RangeVar(r)) = object.node.as_ref() {
                        let name = ctx.names.relation(r);
                        if is_audit(&name) {
                            hit(
                                "grants UPDATE, DELETE or TRUNCATE on",
                                &name.display(),
                                r.location,
                            );
                        }
                    }
                }
            }
        }
        NodeEnum::TruncateStmt(s) => {
            for r in &s.relations {
                if let Some(NodeEnum::RangeVar(r)) = r.node.as_ref() {
                    let name = ctx.names.relation(r);
                    if is_audit(&name) {
                        hit("truncates", &name.display(), r.location);
                    }
                }
            }
        }
        NodeEnum::AlterTableStmt(_) => {
            if let Some((s, _)) = ctx.altered_table()
                && let Some(r) = s.relation.as_ref()
                && is_audit(&ctx.names.relation(r))
                && alter_table_cmds(s).any(|(t, _)| t == AlterTableType::AtDropColumn)
            {
                hit("drops a column of", &ctx.names.key(r), -1);
            }
        }
        NodeEnum::UpdateStmt(_)
        | NodeEnum::DeleteStmt(_)
        | NodeEnum::MergeStmt(_)
        | NodeEnum::InsertStmt(_)
        | NodeEnum::SelectStmt(_) => {
            // Data-modifying statements may hide in WITH queries: walk the whole tree.
            for (node, _, _, _) in ctx.node.nodes() {
                let (what, relation) = match node {
                    NodeRef::UpdateStmt(u) => ("updates", u.relation.as_ref()),
                    NodeRef::DeleteStmt(d) => ("deletes from", d.relation.as_ref()),
                    NodeRef::MergeStmt(m) => ("merges into", m.relation.as_ref()),
                    _ => continue,
                };
                if let Some(r) = relation {
                    let name = ctx.names.relation(r);
                    if is_audit(&name) {
                        hit(what, &name.display(), r.location);
                    }
                }
            }
        }
        _ => {}
    }
}
