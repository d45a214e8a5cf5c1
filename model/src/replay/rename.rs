//! `ALTER ... RENAME` of every modelled kind of object.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ObjectType};

use super::ast::{column_mut, object_name, relation_name, strings};
use super::{Applied, Replay, ReplayError, Result};
use crate::types::DataType;

pub(super) fn rename(cx: &mut Replay<'_>, s: &protobuf::RenameStmt) -> Result<Applied> {
    let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
    match kind {
        ObjectType::ObjectTable => {
            let old = relation_name(s.relation.as_ref())?;
            if cx.find_table(&s.newname).is_some() {
                return Err(ReplayError::new(format!(
                    "relation \"{}\" already exists",
                    s.newname
                )));
            }
            cx.table_mut(&old)?.name = s.newname.clone();
            for table in &mut cx.catalog.tables {
                for fk in &mut table.foreign_keys {
                    if fk.ref_table == old {
                        fk.ref_table = s.newname.clone();
                    }
                }
            }
        }
        ObjectType::ObjectColumn => {
            let table_name = relation_name(s.relation.as_ref())?;
            let (old, new) = (s.subname.clone(), s.newname.clone());
            let table = cx.table_mut(&table_name)?;
            if table.column(&new).is_some() {
                return Err(ReplayError::new(format!(
                    "column \"{new}\" of relation \"{table_name}\" already exists"
                )));
            }
            column_mut(table, &old)?.name = new.clone();
            let rename_in = |cols: &mut Vec<String>| {
                for c in cols.iter_mut() {
                    if *c == old {
                        *c = new.clone();
                    }
                }
            };
            if let Some(pk) = &mut table.primary_key {
                rename_in(&mut pk.columns);
            }
            table
                .uniques
                .iter_mut()
                .for_each(|u| rename_in(&mut u.columns));
            table
                .foreign_keys
                .iter_mut()
                .for_each(|f| rename_in(&mut f.columns));
            for ix in &mut table.indexes {
                ix.keys
                    .iter_mut()
                    .filter(|k| k.column == old)
                    .for_each(|k| k.column = new.clone());
                rename_in(&mut ix.include);
            }
            for table in &mut cx.catalog.tables {
                for fk in &mut table.foreign_keys {
                    if fk.ref_table == table_name {
                        rename_in(&mut fk.ref_columns);
                    }
                }
            }
        }
        ObjectType::ObjectIndex => {
            let old = relation_name(s.relation.as_ref())?;
            let index = cx
                .catalog
                .tables
                .iter_mut()
                .flat_map(|t| t.indexes.iter_mut())
                .find(|i| i.name == old)
                .ok_or_else(|| ReplayError::new(format!("relation \"{old}\" does not exist")))?;
            index.name = s.newname.clone();
        }
        ObjectType::ObjectTabconstraint => {
            let table_name = relation_name(s.relation.as_ref())?;
            let table = cx.table_mut(&table_name)?;
            let (old, new) = (&s.subname, &s.newname);
            let mut found = false;
            if let Some(pk) = table.primary_key.as_mut().filter(|pk| &pk.name == old) {
                pk.name = new.clone();
                found = true;
            }
            for name in table
                .uniques
                .iter_mut()
                .map(|u| &mut u.name)
                .chain(table.checks.iter_mut().map(|c| &mut c.name))
                .chain(table.foreign_keys.iter_mut().map(|f| &mut f.name))
            {
                if name == old {
                    *name = new.clone();
                    found = true;
                }
            }
            if !found {
                return Err(ReplayError::new(format!(
                    "constraint \"{old}\" for table \"{table_name}\" does not exist"
                )));
            }
        }
        ObjectType::ObjectType => {
            let old = match s.object.as_deref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::List(list)) => object_name(&strings(&list.items))?,
                _ => return Err(ReplayError::new("unsupported ALTER TYPE RENAME")),
            };
            let new = s.newname.clone();
            cx.catalog
                .enums
                .iter_mut()
                .find(|e| e.name == old)
                .ok_or_else(|| ReplayError::new(format!("type \"{old}\" does not exist")))?
                .name = new.clone();
            for column in cx
                .catalog
                .tables
                .iter_mut()
                .flat_map(|t| t.columns.iter_mut())
            {
                rename_enum_in(&mut column.data_type, &old, &new);
            }
        }
        ObjectType::ObjectTrigger => {
            let table_name = relation_name(s.relation.as_ref())?;
            let table = cx.table_mut(&table_name)?;
            table
                .triggers
                .iter_mut()
                .find(|t| t.name == s.subname)
                .ok_or_else(|| {
                    ReplayError::new(format!("trigger \"{}\" does not exist", s.subname))
                })?
                .name = s.newname.clone();
        }
        _ => return Ok(Applied::Unmodelled("RENAME of an unmodelled object")),
    }
    Ok(Applied::Schema)
}

fn rename_enum_in(data_type: &mut DataType, old: &str, new: &str) {
    match data_type {
        DataType::Enum(name) if name == old => *name = new.to_string(),
        DataType::Array(element) => rename_enum_in(element, old, new),
        _ => {}
    }
}
