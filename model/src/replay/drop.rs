//! `DROP` of every modelled kind of object.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, DropBehavior, ObjectType};

use super::ast::{function_name, list_names, object_name, strings};
use super::tables::{drop_column, drop_table};
use super::{Applied, Replay, ReplayError, Result};

pub(super) fn drop(cx: &mut Replay<'_>, s: &protobuf::DropStmt) -> Result<Applied> {
    let cascade = DropBehavior::try_from(s.behavior) == Ok(DropBehavior::DropCascade);
    let kind = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
    for object in &s.objects {
        match kind {
            ObjectType::ObjectTable => {
                let name = object_name(&list_names(object))?;
                drop_table(cx, &name, cascade, s.missing_ok)?;
            }
            ObjectType::ObjectIndex => {
                let name = object_name(&list_names(object))?;
                let found = cx.catalog.tables.iter_mut().any(|t| {
                    let before = t.indexes.len();
                    t.indexes.retain(|i| i.name != name);
                    before != t.indexes.len()
                });
                if !found && !s.missing_ok {
                    return Err(ReplayError::new(format!("index \"{name}\" does not exist")));
                }
            }
            ObjectType::ObjectType => {
                let name = match object.node.as_ref() {
                    Some(NodeEnum::TypeName(t)) => object_name(&strings(&t.names))?,
                    _ => object_name(&list_names(object))?,
                };
                drop_type(cx, &name, cascade, s.missing_ok)?;
            }
            ObjectType::ObjectFunction => {
                let name = function_name(object)?;
                let before = cx.catalog.functions.len();
                cx.catalog.functions.retain(|f| f.name != name);
                if before == cx.catalog.functions.len() && !s.missing_ok {
                    return Err(ReplayError::new(format!(
                        "function {name}() does not exist"
                    )));
                }
            }
            ObjectType::ObjectTrigger => {
                // DROP TRIGGER name ON table: the object is [table..., trigger].
                let names = list_names(object);
                let (trigger, table) = names
                    .split_last()
                    .ok_or_else(|| ReplayError::new("DROP TRIGGER without a name"))?;
                let table_name = object_name(table)?;
                let table = cx.table_mut(&table_name)?;
                let before = table.triggers.len();
                table.triggers.retain(|t| &t.name != trigger);
                if before == table.triggers.len() && !s.missing_ok {
                    return Err(ReplayError::new(format!(
                        "trigger \"{trigger}\" for table \"{table_name}\" does not exist"
                    )));
                }
            }
            _ => return Ok(Applied::Unmodelled("DROP of an unmodelled object")),
        }
    }
    Ok(Applied::Schema)
}

pub(super) fn drop_type(
    cx: &mut Replay<'_>,
    name: &str,
    cascade: bool,
    missing_ok: bool,
) -> Result<()> {
    if cx.catalog.enum_type(name).is_none() {
        return if missing_ok {
            Ok(())
        } else {
            Err(ReplayError::new(format!("type \"{name}\" does not exist")))
        };
    }
    let users: Vec<(String, String)> = cx
        .catalog
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.data_type.enum_name() == Some(name))
                .map(move |c| (t.name.clone(), c.name.clone()))
        })
        .collect();
    if let Some((table, column)) = users.first()
        && !cascade
    {
        return Err(ReplayError::new(format!(
            "cannot drop type {name} because column {column} of table {table} depends on it"
        )));
    }
    for (table, column) in users {
        drop_column(cx, &table, &column, true)?;
    }
    cx.catalog.enums.retain(|e| e.name != name);
    Ok(())
}
