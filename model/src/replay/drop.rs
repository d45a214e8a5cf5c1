//! `DROP` of every modelled kind of object. A statement that names several objects drops each
//! one it can: in a lenient session an object the replay does not know is a note, not a reason
//! to keep the others.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, DropBehavior, ObjectType};

use super::ast::{list_names, split_name, strings};
use super::routines::find_functions;
use super::sequences::find_sequence;
use super::tables::drop_table;
use super::types::{drop_type, find_type};
use super::views::find_view;
use super::{Applied, Replay, ReplayError, Result, does_not_exist, settle};
use crate::catalog::*;

pub(super) fn drop(cx: &mut Replay<'_>, s: &protobuf::DropStmt) -> Result<Applied> {
    let cascade = DropBehavior::try_from(s.behavior) == Ok(DropBehavior::DropCascade);
    let kind = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
    let modelled = matches!(
        kind,
        ObjectType::ObjectTable
            | ObjectType::ObjectIndex
            | ObjectType::ObjectType
            | ObjectType::ObjectDomain
            | ObjectType::ObjectFunction
            | ObjectType::ObjectProcedure
            | ObjectType::ObjectRoutine
            | ObjectType::ObjectTrigger
            | ObjectType::ObjectSequence
            | ObjectType::ObjectView
            | ObjectType::ObjectMatview
            | ObjectType::ObjectSchema
            | ObjectType::ObjectExtension
    );
    if !modelled {
        return Ok(Applied::Unmodelled("DROP of an unmodelled object"));
    }
    // Failures are notes while something else of the statement applies; when nothing does, the
    // statement failed.
    let mut failures = Vec::new();
    let mut applied = 0;
    for object in &s.objects {
        match drop_one(cx, kind, object, cascade) {
            Ok(true) => applied += 1,
            Ok(false) if s.missing_ok => applied += 1,
            Ok(false) => failures.push(missing(kind, object)),
            Err(e) => failures.push(e),
        }
    }
    settle(cx, applied, failures)?;
    Ok(Applied::Schema)
}

/// Drops one object; `false` when there is none of that name.
fn drop_one(
    cx: &mut Replay<'_>,
    kind: ObjectType,
    object: &protobuf::Node,
    cascade: bool,
) -> Result<bool> {
    let names = match object.node.as_ref() {
        Some(NodeEnum::TypeName(t)) => strings(&t.names),
        _ => list_names(object),
    };
    let (schema, name) = split_name(&names);
    match kind {
        ObjectType::ObjectTable => {
            let Some(table) = cx.find_table(&schema, &name) else {
                return Ok(false);
            };
            drop_table(cx, table, cascade)?;
        }
        ObjectType::ObjectIndex => {
            if let Some(table) = cx.index_owner(&schema, &name) {
                let t = &mut cx.catalog.tables[table];
                let before = t.indexes.len();
                t.indexes.retain(|i| i.name != name);
                if before == t.indexes.len() {
                    return Err(ReplayError::new(format!(
                        "cannot drop index {name} because constraint {name} on table {} requires it",
                        t.display_name()
                    )));
                }
            } else {
                // An index of a materialized view.
                let schemas = cx.lookup_schemas(&schema);
                let view = cx.catalog.views.iter_mut().find(|v| {
                    schemas.contains(&v.schema) && v.indexes.iter().any(|i| i.name == name)
                });
                match view {
                    Some(v) => v.indexes.retain(|i| i.name != name),
                    None => return Ok(false),
                }
            }
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => {
            let Some(at) = find_type(cx, &schema, &name) else {
                return Ok(false);
            };
            drop_type(cx, at, cascade)?;
        }
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            let Some(NodeEnum::ObjectWithArgs(o)) = object.node.as_ref() else {
                return Err(ReplayError::new("expected a function name"));
            };
            let mut found = find_functions(cx, o);
            if found.is_empty() {
                return Ok(false);
            }
            if found.len() > 1 {
                let error = ReplayError::new(format!(
                    "function name \"{}\" is not unique",
                    display_name(&schema, &name)
                ));
                cx.soft(error)?;
            }
            found.sort_unstable();
            for at in found.into_iter().rev() {
                cx.catalog.functions.remove(at);
            }
        }
        ObjectType::ObjectTrigger => {
            // DROP TRIGGER name ON table: the object is [table..., trigger].
            let (trigger, relation) = names
                .split_last()
                .ok_or_else(|| ReplayError::new("DROP TRIGGER without a name"))?;
            let (schema, table_name) = split_name(relation);
            let Some(table) = cx.find_table(&schema, &table_name) else {
                if find_view(cx, &schema, &table_name).is_some() {
                    return Ok(true);
                }
                return Err(does_not_exist("relation", &schema, &table_name));
            };
            let t = &mut cx.catalog.tables[table];
            let before = t.triggers.len();
            t.triggers.retain(|x| &x.name != trigger);
            if before == t.triggers.len() {
                return Ok(false);
            }
        }
        ObjectType::ObjectSequence => {
            let Some(at) = find_sequence(cx, &schema, &name) else {
                return Ok(false);
            };
            cx.catalog.sequences.remove(at);
        }
        ObjectType::ObjectView | ObjectType::ObjectMatview => {
            let Some(at) = find_view(cx, &schema, &name) else {
                return Ok(false);
            };
            let view = cx.catalog.views.remove(at);
            if cascade {
                super::views::drop_dependent_views(cx, &view.qualified_name());
            }
        }
        ObjectType::ObjectSchema => {
            let Some(at) = cx.catalog.schemas.iter().position(|s| s.name == name) else {
                return Ok(name == DEFAULT_SCHEMA && drop_schema_contents(cx, &name, cascade));
            };
            drop_schema_contents(cx, &name, cascade);
            cx.catalog.schemas.remove(at);
        }
        ObjectType::ObjectExtension => {
            let before = cx.catalog.extensions.len();
            cx.catalog.extensions.retain(|e| e.name != name);
            if before == cx.catalog.extensions.len() {
                return Ok(false);
            }
        }
        _ => {}
    }
    Ok(true)
}

/// Empties a schema (`DROP SCHEMA ... CASCADE`); without `cascade` the schema must be empty
/// already, as far as the model knows. Always `true` (a schema of that name was there).
fn drop_schema_contents(cx: &mut Replay<'_>, schema: &str, cascade: bool) -> bool {
    if !cascade {
        return true;
    }
    let c = &mut *cx.catalog;
    c.tables.retain(|t| t.schema != schema);
    for t in &mut c.tables {
        t.foreign_keys.retain(|fk| fk.ref_table.schema != schema);
    }
    c.enums.retain(|e| e.schema != schema);
    c.domains.retain(|d| d.schema != schema);
    c.composite_types.retain(|t| t.schema != schema);
    c.sequences.retain(|s| s.schema != schema);
    c.functions.retain(|f| f.schema != schema);
    c.views.retain(|v| v.schema != schema);
    c.extensions.retain(|e| e.schema != schema);
    cx.session.reset();
    true
}

/// What PostgreSQL says when a `DROP` without `IF EXISTS` names nothing.
fn missing(kind: ObjectType, object: &protobuf::Node) -> ReplayError {
    let names = match object.node.as_ref() {
        Some(NodeEnum::TypeName(t)) => strings(&t.names),
        Some(NodeEnum::ObjectWithArgs(o)) => strings(&o.objname),
        _ => list_names(object),
    };
    let (schema, name) = split_name(&names);
    let what = match kind {
        ObjectType::ObjectTable => "table",
        ObjectType::ObjectIndex => "index",
        ObjectType::ObjectType | ObjectType::ObjectDomain => "type",
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            "function"
        }
        ObjectType::ObjectTrigger => "trigger",
        ObjectType::ObjectSequence => "sequence",
        ObjectType::ObjectView => "view",
        ObjectType::ObjectMatview => "materialized view",
        ObjectType::ObjectSchema => "schema",
        ObjectType::ObjectExtension => "extension",
        _ => "object",
    };
    does_not_exist(what, &schema, &name)
}
