//! `COMMENT ON`: descriptions, and the flags carried at their end (see [`crate::annotations`]).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ObjectType};

use super::ast::{column_mut, list_names, split_name, strings};
use super::types::{TypeAt, find_type};
use super::{Applied, Replay, ReplayError, Result, does_not_exist};
use crate::annotations;

pub(super) fn comment(cx: &mut Replay<'_>, s: &protobuf::CommentStmt) -> Result<Applied> {
    let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let object = s
        .object
        .as_deref()
        .ok_or_else(|| ReplayError::new("COMMENT without an object"))?;
    let text = (!s.comment.is_empty()).then(|| s.comment.clone());
    let names = match object.node.as_ref() {
        Some(NodeEnum::TypeName(t)) => strings(&t.names),
        _ => list_names(object),
    };
    match kind {
        ObjectType::ObjectTable => {
            let (schema, name) = split_name(&names);
            let Some(table) = cx.find_table(&schema, &name) else {
                return Err(does_not_exist("relation", &schema, &name));
            };
            let table = &mut cx.catalog.tables[table];
            let (description, flags) = text
                .as_deref()
                .map(annotations::parse_table_comment)
                .unwrap_or_default();
            table.comment = description;
            table.flags = flags;
        }
        ObjectType::ObjectColumn => {
            let (column, relation) = names
                .split_last()
                .ok_or_else(|| ReplayError::new("COMMENT ON COLUMN without a name"))?;
            let (schema, name) = split_name(relation);
            let Some(table) = cx.find_table(&schema, &name) else {
                // A view's or composite type's column.
                if super::views::find_view(cx, &schema, &name).is_some()
                    || find_type(cx, &schema, &name).is_some()
                {
                    return Ok(Applied::Schema);
                }
                return Err(does_not_exist("relation", &schema, &name));
            };
            let col = column_mut(&mut cx.catalog.tables[table], column)?;
            let (description, sensitivity) = text
                .as_deref()
                .map(annotations::parse_column_comment)
                .unwrap_or_default();
            col.comment = description;
            col.sensitivity = sensitivity;
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => {
            let (schema, name) = split_name(&names);
            match find_type(cx, &schema, &name) {
                Some(TypeAt::Enum(i)) => cx.catalog.enums[i].comment = text,
                Some(TypeAt::Domain(i)) => cx.catalog.domains[i].comment = text,
                Some(TypeAt::Composite(i)) => cx.catalog.composite_types[i].comment = text,
                None => return Err(does_not_exist("type", &schema, &name)),
            }
        }
        ObjectType::ObjectSchema => {
            let name = names.last().cloned().unwrap_or_default();
            if let Some(schema) = cx.catalog.schemas.iter_mut().find(|s| s.name == name) {
                schema.comment = text;
            }
        }
        ObjectType::ObjectView | ObjectType::ObjectMatview => {
            let (schema, name) = split_name(&names);
            let Some(view) = super::views::find_view(cx, &schema, &name) else {
                return Err(does_not_exist("relation", &schema, &name));
            };
            cx.catalog.views[view].comment = text;
        }
        _ => return Ok(Applied::Unmodelled("COMMENT on an unmodelled object")),
    }
    Ok(Applied::Schema)
}
