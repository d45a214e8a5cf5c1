//! `CREATE INDEX`.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, SortByDir};

use super::ast::{column_mut, expression, relation_name, strings};
use super::{Applied, Replay, ReplayError, Result};
use crate::catalog::*;
use crate::ident::derived_name;

pub(super) fn create_index(cx: &mut Replay<'_>, s: &protobuf::IndexStmt) -> Result<Applied> {
    let table_name = relation_name(s.relation.as_ref())?;
    let method = if s.access_method.is_empty() {
        IndexMethod::Btree
    } else {
        IndexMethod::parse(&s.access_method).ok_or_else(|| {
            ReplayError::new(format!("unsupported index method {}", s.access_method))
        })?
    };
    let mut keys = Vec::new();
    for param in &s.index_params {
        let Some(NodeEnum::IndexElem(e)) = param.node.as_ref() else {
            continue;
        };
        if e.name.is_empty() {
            return Ok(Applied::Unmodelled("expression index"));
        }
        let opclass = strings(&e.opclass);
        keys.push(IndexKey {
            column: e.name.clone(),
            opclass: opclass.last().cloned(),
            descending: SortByDir::try_from(e.ordering) == Ok(SortByDir::SortbyDesc),
        });
    }
    let include = s
        .index_including_params
        .iter()
        .filter_map(|p| match p.node.as_ref() {
            Some(NodeEnum::IndexElem(e)) => Some(e.name.clone()),
            _ => None,
        })
        .collect();
    let predicate = match s.where_clause.as_deref() {
        Some(w) => Some(expression(Some(w))?),
        None => None,
    };
    let name = if s.idxname.is_empty() {
        let parts: Vec<&str> = std::iter::once(table_name.as_str())
            .chain(keys.iter().map(|k| k.column.as_str()))
            .collect();
        derived_name(&parts, "idx")
    } else {
        s.idxname.clone()
    };
    if cx.index_exists(&name) {
        if s.if_not_exists {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "relation \"{name}\" already exists"
        )));
    }
    let table = cx.table_mut(&table_name)?;
    for key in &keys {
        column_mut(table, &key.column)?;
    }
    table.indexes.push(Index {
        name,
        method,
        unique: s.unique,
        keys,
        include,
        predicate,
    });
    Ok(Applied::Schema)
}
