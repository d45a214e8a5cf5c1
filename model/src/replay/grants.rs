//! `GRANT` and `REVOKE` of table privileges and `EXECUTE`.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ObjectType};

use super::routines::find_functions;
use super::{Applied, Replay, ReplayError, Result, does_not_exist, settle};
use crate::catalog::*;

/// `GRANT`/`REVOKE` privileges on tables or `EXECUTE` on functions. Column privileges,
/// `ALL TABLES IN SCHEMA` and default privileges are not modelled.
pub(super) fn grant(cx: &mut Replay<'_>, s: &protobuf::GrantStmt) -> Result<Applied> {
    use protobuf::{GrantTargetType, RoleSpecType};
    if GrantTargetType::try_from(s.targtype) != Ok(GrantTargetType::AclTargetObject) {
        return Ok(Applied::Unmodelled(
            "GRANT on ALL ... IN SCHEMA or default privileges",
        ));
    }
    let mut grantees = Vec::new();
    for g in &s.grantees {
        let Some(NodeEnum::RoleSpec(r)) = g.node.as_ref() else {
            return Ok(Applied::Unmodelled("grantee form"));
        };
        match RoleSpecType::try_from(r.roletype) {
            Ok(RoleSpecType::RolespecPublic) => grantees.push(PUBLIC.to_string()),
            Ok(RoleSpecType::RolespecCstring) => grantees.push(r.rolename.clone()),
            _ => return Ok(Applied::Unmodelled("GRANT to CURRENT_USER/SESSION_USER")),
        }
    }
    let mut privileges = Vec::new();
    for p in &s.privileges {
        let Some(NodeEnum::AccessPriv(p)) = p.node.as_ref() else {
            return Ok(Applied::Unmodelled("privilege form"));
        };
        if !p.cols.is_empty() {
            return Ok(Applied::Unmodelled("column privileges"));
        }
        privileges.push(p.priv_name.to_ascii_lowercase());
    }
    let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    match kind {
        ObjectType::ObjectTable => {
            // No privilege names means ALL.
            let privileges: Vec<Privilege> = if privileges.is_empty() {
                Privilege::ALL.to_vec()
            } else {
                let parsed: Option<Vec<Privilege>> =
                    privileges.iter().map(|p| Privilege::parse(p)).collect();
                match parsed {
                    Some(p) => p,
                    None => return Ok(Applied::Unmodelled("table privilege")),
                }
            };
            let (mut applied, mut failures) = (0, Vec::new());
            for object in &s.objects {
                let Some(NodeEnum::RangeVar(r)) = object.node.as_ref() else {
                    return Ok(Applied::Unmodelled("GRANT object form"));
                };
                let Some(table) = cx.find_table(&r.schemaname, &r.relname) else {
                    // Views and sequences take table privileges too; they are not modelled.
                    if super::views::find_view(cx, &r.schemaname, &r.relname).is_some()
                        || super::sequences::find_sequence(cx, &r.schemaname, &r.relname).is_some()
                    {
                        applied += 1;
                    } else {
                        failures.push(does_not_exist("relation", &r.schemaname, &r.relname));
                    }
                    continue;
                };
                applied += 1;
                let table = &mut cx.catalog.tables[table];
                for role in &grantees {
                    table.set_privileges(role, &privileges, s.is_grant);
                }
            }
            settle(cx, applied, failures)?;
        }
        ObjectType::ObjectFunction => {
            if !privileges.iter().all(|p| p == "execute") {
                return Ok(Applied::Unmodelled("function privilege"));
            }
            for object in &s.objects {
                let Some(NodeEnum::ObjectWithArgs(o)) = object.node.as_ref() else {
                    return Err(ReplayError::new("expected a function name"));
                };
                let found = find_functions(cx, o);
                if found.is_empty() {
                    let (schema, name) = super::ast::split_name(&super::ast::strings(&o.objname));
                    cx.soft(does_not_exist("function", &schema, &name))?;
                }
                for at in found {
                    for role in &grantees {
                        cx.catalog.functions[at].set_execute(role, s.is_grant);
                    }
                }
            }
        }
        _ => return Ok(Applied::Unmodelled("GRANT on an unmodelled object")),
    }
    Ok(Applied::Schema)
}
