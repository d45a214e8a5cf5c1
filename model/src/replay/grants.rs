//! `GRANT` and `REVOKE` of table privileges and `EXECUTE`.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ObjectType};

use super::ast::{function_name, relation_name};
use super::{Applied, Replay, ReplayError, Result};
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
            for object in &s.objects {
                let Some(NodeEnum::RangeVar(r)) = object.node.as_ref() else {
                    return Ok(Applied::Unmodelled("GRANT object form"));
                };
                let name = relation_name(Some(r))?;
                let table = cx.table_mut(&name)?;
                for role in &grantees {
                    table.set_privileges(role, &privileges, s.is_grant);
                }
            }
        }
        ObjectType::ObjectFunction => {
            if !privileges.iter().all(|p| p == "execute") {
                return Ok(Applied::Unmodelled("function privilege"));
            }
            for object in &s.objects {
                let name = function_name(object)?;
                let function = cx
                    .catalog
                    .functions
                    .iter_mut()
                    .find(|f| f.name == name)
                    .ok_or_else(|| ReplayError::new(format!("function {name} does not exist")))?;
                for role in &grantees {
                    function.set_execute(role, s.is_grant);
                }
            }
        }
        _ => return Ok(Applied::Unmodelled("GRANT on an unmodelled object")),
    }
    Ok(Applied::Schema)
}
