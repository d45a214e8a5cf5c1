//! `COMMENT ON`: descriptions, and the flags carried at their end (see [`crate::annotations`]).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ObjectType};

use super::ast::{column_mut, list_names, object_name, strings};
use super::{Applied, Replay, ReplayError, Result};
use crate::annotations;

pub(super) fn comment(cx: &mut Replay<'_>, s: &protobuf::CommentStmt) -> Result<Applied> {
    let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let object = s
        .object
        .as_deref()
        .ok_or_else(|| ReplayError::new("COMMENT without an object"))?;
    let text = (!s.comment.is_empty()).then(|| s.comment.clone());
    match kind {
        ObjectType::ObjectTable => {
            let name = object_name(&list_names(object))?;
            let table = cx.table_mut(&name)?;
            let (description, flags) = text
                .as_deref()
                .map(annotations::parse_table_comment)
                .unwrap_or_default();
            table.comment = description;
            table.flags = flags;
        }
        ObjectType::ObjectColumn => {
            let names = list_names(object);
            let (column, table) = names
                .split_last()
                .ok_or_else(|| ReplayError::new("COMMENT ON COLUMN without a name"))?;
            let table_name = object_name(table)?;
            let col = column_mut(cx.table_mut(&table_name)?, column)?;
            let (description, sensitivity) = text
                .as_deref()
                .map(annotations::parse_column_comment)
                .unwrap_or_default();
            col.comment = description;
            col.sensitivity = sensitivity;
        }
        ObjectType::ObjectType => {
            let name = match object.node.as_ref() {
                Some(NodeEnum::TypeName(t)) => object_name(&strings(&t.names))?,
                _ => object_name(&list_names(object))?,
            };
            cx.catalog
                .enums
                .iter_mut()
                .find(|e| e.name == name)
                .ok_or_else(|| ReplayError::new(format!("type \"{name}\" does not exist")))?
                .comment = text;
        }
        _ => return Ok(Applied::Unmodelled("COMMENT on an unmodelled object")),
    }
    Ok(Applied::Schema)
}
