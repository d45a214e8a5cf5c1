//! `CREATE INDEX`, on tables and materialized views, with expression keys and PostgreSQL's
//! names for unnamed indexes.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, SortByDir};

use super::ast::{expression, strings};
use super::tables::{RelationKind, claim_relation_name};
use super::{Applied, Replay, ReplayError, Result, does_not_exist};
use crate::catalog::*;
use crate::ident::{pg_name_addition, pg_unique_name};

pub(super) fn create_index(cx: &mut Replay<'_>, s: &protobuf::IndexStmt) -> Result<Applied> {
    let r = s
        .relation
        .as_ref()
        .ok_or_else(|| ReplayError::new("CREATE INDEX without a table"))?;
    let method = if s.access_method.is_empty() {
        IndexMethod::Btree
    } else {
        IndexMethod::of_sql(&s.access_method)
    };
    let mut keys = Vec::new();
    for param in &s.index_params {
        if let Some(NodeEnum::IndexElem(e)) = param.node.as_ref() {
            keys.push(index_key(e)?);
        }
    }
    let include: Vec<String> = s
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
    let table = cx.find_table(&r.schemaname, &r.relname);
    let view = match table {
        Some(_) => None,
        None => super::views::find_view(cx, &r.schemaname, &r.relname),
    };
    let (schema, relation) = match (table, view) {
        (Some(t), _) => {
            let t = &cx.catalog.tables[t];
            (t.schema.clone(), t.name.clone())
        }
        (None, Some(v)) => {
            let v = &cx.catalog.views[v];
            (v.schema.clone(), v.name.clone())
        }
        (None, None) => return Err(does_not_exist("relation", &r.schemaname, &r.relname)),
    };
    let name = if s.idxname.is_empty() {
        let mut columns = key_names(&s.index_params);
        columns.extend(include.iter().cloned());
        let addition = pg_name_addition(columns.iter().map(String::as_str));
        let label = if s.primary {
            "pkey"
        } else if s.isconstraint {
            "key"
        } else {
            "idx"
        };
        pg_unique_name(&relation, Some(&addition), label, |candidate| {
            cx.relation_exists(&schema, candidate)
        })
    } else {
        s.idxname.clone()
    };
    if !claim_relation_name(cx, &schema, &name, s.if_not_exists, RelationKind::Index)? {
        return Ok(Applied::Schema);
    }
    let index = Index {
        name: name.clone(),
        method,
        unique: s.unique,
        keys,
        include,
        predicate,
    };
    match (table, view) {
        (Some(t), _) => {
            let missing: Vec<String> = index
                .keys
                .iter()
                .filter(|k| k.expression.is_none())
                .map(|k| k.column.clone())
                .chain(index.include.iter().cloned())
                .filter(|c| cx.catalog.tables[t].column(c).is_none())
                .collect();
            if let Some(column) = missing.first() {
                // The index is kept in a lenient session: the server had the column.
                let table_name = cx.catalog.tables[t].display_name().into_owned();
                cx.soft(ReplayError::new(format!(
                    "column \"{column}\" of relation \"{table_name}\" does not exist"
                )))?;
            }
            cx.catalog.tables[t].indexes.push(index);
            cx.session.names.index_added(cx.catalog, t, &name);
        }
        (None, Some(v)) => cx.catalog.views[v].indexes.push(index),
        (None, None) => {}
    }
    Ok(Applied::Schema)
}

/// One key of an index: a column or an expression, with its operator class and order.
pub(super) fn index_key(e: &protobuf::IndexElem) -> Result<IndexKey> {
    let opclass = strings(&e.opclass).last().cloned();
    // `COLLATE "default"` is the column's own.
    let collation = strings(&e.collation)
        .last()
        .filter(|c| c.as_str() != "default")
        .cloned();
    let descending = SortByDir::try_from(e.ordering) == Ok(SortByDir::SortbyDesc);
    if e.name.is_empty() {
        let expression = expression(e.expr.as_deref())?;
        Ok(IndexKey {
            column: String::new(),
            expression: Some(expression),
            opclass,
            collation,
            descending,
        })
    } else {
        Ok(IndexKey {
            opclass,
            collation,
            descending,
            ..IndexKey::on(&e.name)
        })
    }
}

/// The names PostgreSQL gives an index's key columns (`ChooseIndexColumnNames`): a column's
/// name, an expression's as a result column would be named (`lower` for `lower(email)`, `expr`
/// when it has none), numbered to keep them apart.
fn key_names(params: &[protobuf::Node]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for param in params {
        let Some(NodeEnum::IndexElem(e)) = param.node.as_ref() else {
            continue;
        };
        let base = if !e.indexcolname.is_empty() {
            e.indexcolname.clone()
        } else if !e.name.is_empty() {
            e.name.clone()
        } else {
            e.expr
                .as_deref()
                .and_then(super::views::figure_column_name)
                .unwrap_or_else(|| "expr".to_string())
        };
        let mut name = base.clone();
        let mut n = 0;
        while out.contains(&name) {
            n += 1;
            name = format!("{base}{n}");
        }
        out.push(name);
    }
    out
}
