//! # pii-column-dropped
//!
//! ## What it does
//! Flags dropping a column whose comment flags it `[pii]` or `[phi]`, directly
//! (`ALTER TABLE ... DROP COLUMN`) or with its table (`DROP TABLE`). Tables created in the same
//! migration hold no data yet and are not flagged.
//!
//! ## Why
//! Personal and health data are under retention rules (HIPAA: six years for records; GDPR:
//! no longer than necessary, erasure on request). Dropping such a column is a retention
//! decision that must be made and recorded by someone accountable, not a side effect of a
//! schema cleanup. The finding is silenced only by a suppression whose reason names that
//! decision, so the decision is in the migration's history.
//!
//! ## Example
//! ```sql
//! ALTER TABLE cases DROP COLUMN patient_id;
//! ```
//!
//! ## Use instead
//! ```sql
//! -- lint:ignore pii-column-dropped retention decision RD-2024-07: patient ids moved to the MPI
//! ALTER TABLE cases DROP COLUMN patient_id;
//! ```

use model::Table;
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType};

use super::{StatementContext, alter_table_cmds, list, object_names};
use crate::finding::Finding;

pub const NAME: &str = "pii-column-dropped";

const HELP: &str = "dropping personal or health data is a retention decision: record it with \
`-- lint:ignore pii-column-dropped <the decision and who made it>` above the statement";

fn kind(table: &Table, column: &str) -> Option<&'static str> {
    let s = table.column(column)?.sensitivity;
    match (s.pii, s.phi) {
        (true, true) => Some("PII and PHI"),
        (true, false) => Some("PII"),
        (false, true) => Some("PHI"),
        (false, false) => None,
    }
}

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    match ctx.node {
        NodeEnum::DropStmt(s)
            if ObjectType::try_from(s.remove_type) == Ok(ObjectType::ObjectTable) =>
        {
            for object in &s.objects {
                let qualified = ctx.names.object(&object_names(object));
                let name = qualified.display().into_owned();
                let Some(table) = ctx.table(&qualified) else {
                    continue;
                };
                if !ctx.is_existing(&name) {
                    continue;
                }
                let sensitive: Vec<String> = table
                    .columns
                    .iter()
                    .filter(|c| c.sensitivity.is_sensitive())
                    .map(|c| c.name.clone())
                    .collect();
                if !sensitive.is_empty() {
                    out.push(
                        ctx.finding(
                            NAME,
                            format!(
                                "dropping table `{name}` drops its PII/PHI columns {}",
                                list(&sensitive)
                            ),
                        )
                        .with_help(HELP)
                        .with_table(&name, &sensitive),
                    );
                }
            }
        }
        NodeEnum::AlterTableStmt(_) => {
            let Some((s, name)) = ctx.altered_table() else {
                return;
            };
            let Some(table) = s
                .relation
                .as_ref()
                .and_then(|r| ctx.table(&ctx.names.relation(r)))
            else {
                return;
            };
            for (t, cmd) in alter_table_cmds(s) {
                if t != AlterTableType::AtDropColumn
                    || ctx.is_new_column(&name, &cmd.name)
                    || !ctx.is_existing(&name)
                {
                    continue;
                }
                if let Some(kind) = kind(table, &cmd.name) {
                    out.push(
                        ctx.finding(
                            NAME,
                            format!("dropping `{name}.{}` deletes {kind}", cmd.name),
                        )
                        .with_help(HELP)
                        .with_table(&name, std::slice::from_ref(&cmd.name)),
                    );
                }
            }
        }
        _ => {}
    }
}
