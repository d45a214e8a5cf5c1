//! Enum types: `CREATE TYPE ... AS ENUM`, `ALTER TYPE ... ADD/RENAME VALUE`.

use pg_query::protobuf;

use super::ast::{object_name, strings};
use super::{Applied, Replay, ReplayError, Result};
use crate::catalog::*;

pub(super) fn create_enum(cx: &mut Replay<'_>, s: &protobuf::CreateEnumStmt) -> Result<Applied> {
    let name = object_name(&strings(&s.type_name))?;
    if cx.catalog.enum_type(&name).is_some() || cx.find_table(&name).is_some() {
        return Err(ReplayError::new(format!("type \"{name}\" already exists")));
    }
    cx.catalog.enums.push(EnumType {
        name,
        values: strings(&s.vals),
        comment: None,
    });
    Ok(Applied::Schema)
}

pub(super) fn alter_enum(cx: &mut Replay<'_>, s: &protobuf::AlterEnumStmt) -> Result<Applied> {
    let name = object_name(&strings(&s.type_name))?;
    let e = cx
        .catalog
        .enums
        .iter_mut()
        .find(|e| e.name == name)
        .ok_or_else(|| ReplayError::new(format!("type \"{name}\" does not exist")))?;
    if !s.old_val.is_empty() {
        let value = e
            .values
            .iter_mut()
            .find(|v| **v == s.old_val)
            .ok_or_else(|| {
                ReplayError::new(format!("\"{}\" is not an existing enum label", s.old_val))
            })?;
        *value = s.new_val.clone();
        return Ok(Applied::Schema);
    }
    if e.values.contains(&s.new_val) {
        if s.skip_if_new_val_exists {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "enum label \"{}\" already exists",
            s.new_val
        )));
    }
    let at = if s.new_val_neighbor.is_empty() {
        e.values.len()
    } else {
        let i = e
            .values
            .iter()
            .position(|v| *v == s.new_val_neighbor)
            .ok_or_else(|| {
                ReplayError::new(format!(
                    "\"{}\" is not an existing enum label",
                    s.new_val_neighbor
                ))
            })?;
        if s.new_val_is_after { i + 1 } else { i }
    };
    e.values.insert(at, s.new_val.clone());
    Ok(Applied::Schema)
}
