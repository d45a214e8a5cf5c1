//! Table and column constraints: keys, checks, foreign keys, exclusion constraints, and
//! dropping them.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ConstrType};

use super::ast::{column_mut, contype, expression, fk_action, strings};
use super::columns::column_constraint;
use super::{Replay, ReplayError, Result, does_not_exist};
use crate::catalog::*;
use crate::ident::{pg_name_addition, pg_unique_name};

/// Adds a table or column constraint to the table at `table`. `column` is set for a column
/// constraint, whose key columns are implied.
pub(super) fn add_constraint(
    cx: &mut Replay<'_>,
    table: usize,
    c: &protobuf::Constraint,
    column: Option<&str>,
) -> Result<()> {
    if let Some(column) = column
        && column_constraint(cx, table, column, c)?
    {
        return Ok(());
    }
    let keys = |list: &[protobuf::Node]| -> Vec<String> {
        let named = strings(list);
        if named.is_empty() {
            column.map(|c| vec![c.to_string()]).unwrap_or_default()
        } else {
            named
        }
    };
    match contype(c) {
        ConstrType::ConstrPrimary => {
            // `PRIMARY KEY USING INDEX idx` turns an existing unique index into the key.
            let adopted = adopt_index(cx, table, c)?;
            let columns = adopted.clone().unwrap_or_else(|| keys(&c.keys));
            let name = if !c.conname.is_empty() {
                c.conname.clone()
            } else if adopted.is_some() {
                c.indexname.clone()
            } else {
                relation_name_for(cx, table, None, "pkey")
            };
            let t = &cx.catalog.tables[table];
            if t.primary_key.is_some() {
                let error = ReplayError::new(format!(
                    "multiple primary keys for table \"{}\" are not allowed",
                    t.display_name()
                ));
                // The server took the new key, so the old one was gone: replaced, noted.
                if !cx.assume_applied() {
                    return Err(error);
                }
                cx.soft(ReplayError::new(format!(
                    "{}; the earlier key is replaced by this one",
                    error.message
                )))?;
            }
            let t = &mut cx.catalog.tables[table];
            t.primary_key = Some(PrimaryKey {
                name: name.clone(),
                columns: columns.clone(),
            });
            for col in &columns {
                column_mut(t, col)?.nullable = false;
            }
            cx.session.names.index_added(cx.catalog, table, &name);
        }
        ConstrType::ConstrUnique => {
            let adopted = adopt_index(cx, table, c)?;
            let columns = adopted.clone().unwrap_or_else(|| keys(&c.keys));
            let name = match adopted {
                Some(_) if c.conname.is_empty() => c.indexname.clone(),
                _ if !c.conname.is_empty() => c.conname.clone(),
                _ => {
                    let addition = pg_name_addition(columns.iter().map(String::as_str));
                    relation_name_for(cx, table, Some(&addition), "key")
                }
            };
            let t = &mut cx.catalog.tables[table];
            t.uniques.push(UniqueConstraint {
                name: name.clone(),
                columns: columns.clone(),
            });
            cx.session.names.index_added(cx.catalog, table, &name);
            let t = &mut cx.catalog.tables[table];
            for col in &columns {
                column_mut(t, col)?;
            }
        }
        ConstrType::ConstrCheck => {
            let expression = expression(c.raw_expr.as_deref())?;
            let name = if c.conname.is_empty() {
                // PostgreSQL names a check after the one column it uses, if it uses one.
                let mut used = Vec::new();
                if let Some(e) = c.raw_expr.as_deref() {
                    column_refs(e, &mut used);
                }
                used.sort();
                used.dedup();
                let single = match (column, used.as_slice()) {
                    (Some(col), _) => Some(col.to_string()),
                    (None, [only]) => Some(only.clone()),
                    _ => None,
                };
                constraint_name_for(cx, table, single.as_deref(), "check")
            } else {
                c.conname.clone()
            };
            cx.catalog.tables[table]
                .checks
                .push(CheckConstraint { name, expression });
        }
        ConstrType::ConstrForeign => add_foreign_key(cx, table, c, keys(&c.fk_attrs))?,
        ConstrType::ConstrExclusion => {
            // An exclusion constraint is enforced by an index of its method (GiST, usually).
            let mut index_keys = Vec::new();
            for pair in &c.exclusions {
                let Some(NodeEnum::List(pair)) = pair.node.as_ref() else {
                    continue;
                };
                if let Some(NodeEnum::IndexElem(e)) =
                    pair.items.first().and_then(|n| n.node.as_ref())
                {
                    index_keys.push(super::indexes::index_key(e)?);
                }
            }
            let method = if c.access_method.is_empty() {
                IndexMethod::Btree
            } else {
                IndexMethod::of_sql(&c.access_method)
            };
            let name = if c.conname.is_empty() {
                let addition = pg_name_addition(index_keys.iter().map(|k| k.column.as_str()));
                relation_name_for(cx, table, Some(&addition), "excl")
            } else {
                c.conname.clone()
            };
            let predicate = match c.where_clause.as_deref() {
                Some(w) => Some(expression(Some(w))?),
                None => None,
            };
            let position = table;
            cx.catalog.tables[table].indexes.push(Index {
                name: name.clone(),
                method,
                unique: false,
                keys: index_keys,
                include: Vec::new(),
                predicate,
            });
            cx.session.names.index_added(cx.catalog, position, &name);
        }
        // Deferrability attributes and the like do not change the model.
        ConstrType::ConstrAttrDeferrable
        | ConstrType::ConstrAttrNotDeferrable
        | ConstrType::ConstrAttrDeferred
        | ConstrType::ConstrAttrImmediate => {}
        other => {
            return Err(ReplayError::new(format!(
                "constraint {other:?} without a column"
            )));
        }
    }
    Ok(())
}

/// `FOREIGN KEY (columns) REFERENCES ...` on the table at `table`. A lenient session keeps a
/// foreign key to a table it does not know (the server had it): the referencing side, which is
/// what `fk-needs-index` checks, is known.
fn add_foreign_key(
    cx: &mut Replay<'_>,
    table: usize,
    c: &protobuf::Constraint,
    columns: Vec<String>,
) -> Result<()> {
    let pk = c
        .pktable
        .as_ref()
        .ok_or_else(|| ReplayError::new("FOREIGN KEY without a referenced table"))?;
    let referenced = cx.find_table(&pk.schemaname, &pk.relname);
    let ref_table = match referenced {
        Some(i) => cx.catalog.tables[i].qualified_name(),
        None if !cx.assume_applied() => {
            return Err(does_not_exist("relation", &pk.schemaname, &pk.relname));
        }
        None => {
            cx.soft(ReplayError::new(format!(
                "{}; the foreign key is kept",
                does_not_exist("relation", &pk.schemaname, &pk.relname).message
            )))?;
            QualifiedName::new(cx.creation_schema(&pk.schemaname), &pk.relname)
        }
    };
    let ref_columns = match strings(&c.pk_attrs) {
        cols if !cols.is_empty() => cols,
        _ => match referenced.map(|i| &cx.catalog.tables[i]) {
            Some(t) => match &t.primary_key {
                Some(key) => key.columns.clone(),
                None => {
                    let message = format!(
                        "there is no primary key for referenced table \"{}\"",
                        t.display_name()
                    );
                    cx.soft(ReplayError::new(message))?;
                    Vec::new()
                }
            },
            // Already noted: the table is unknown, so is its key.
            None => Vec::new(),
        },
    };
    let name = if c.conname.is_empty() {
        let addition = pg_name_addition(columns.iter().map(String::as_str));
        constraint_name_for(cx, table, Some(&addition), "fkey")
    } else {
        c.conname.clone()
    };
    let missing: Vec<String> = columns
        .iter()
        .filter(|col| cx.catalog.tables[table].column(col).is_none())
        .cloned()
        .collect();
    cx.session.names.foreign_key_added(table, &ref_table);
    let t = &mut cx.catalog.tables[table];
    t.foreign_keys.push(ForeignKey {
        name,
        columns,
        ref_table,
        ref_columns,
        on_delete: fk_action(&c.fk_del_action),
        on_update: fk_action(&c.fk_upd_action),
    });
    if let Some(col) = missing.first() {
        let table_name = t.display_name().into_owned();
        cx.soft(ReplayError::new(format!(
            "column \"{col}\" referenced in foreign key constraint does not exist in \"{table_name}\""
        )))?;
    }
    Ok(())
}

/// The names of the columns an expression refers to, in order of appearance.
fn column_refs(node: &protobuf::Node, out: &mut Vec<String>) {
    use pg_query::NodeRef;
    let Some(inner) = node.node.as_ref() else {
        return;
    };
    if let NodeEnum::ColumnRef(c) = inner
        && let Some(name) = c.fields.last().and_then(super::ast::string_value)
    {
        out.push(name.to_string());
    }
    for (n, _, _, _) in inner.nodes() {
        if let NodeRef::ColumnRef(c) = n
            && let Some(name) = c.fields.last().and_then(super::ast::string_value)
        {
            out.push(name.to_string());
        }
    }
}

/// A name for an index-backed constraint of the table at `table`, free in the relation
/// namespace of its schema, as PostgreSQL chooses it.
fn relation_name_for(
    cx: &mut Replay<'_>,
    table: usize,
    addition: Option<&str>,
    label: &str,
) -> String {
    let (schema, name) = {
        let t = &cx.catalog.tables[table];
        (t.schema.clone(), t.name.clone())
    };
    pg_unique_name(&name, addition, label, |candidate| {
        cx.relation_exists(&schema, candidate)
    })
}

/// A name for a constraint of the table at `table` that no other constraint of it has.
fn constraint_name_for(
    cx: &Replay<'_>,
    table: usize,
    addition: Option<&str>,
    label: &str,
) -> String {
    let t = &cx.catalog.tables[table];
    pg_unique_name(&t.name, addition, label, |candidate| {
        t.checks.iter().any(|c| c.name == candidate)
            || t.foreign_keys.iter().any(|f| f.name == candidate)
            || t.uniques.iter().any(|u| u.name == candidate)
            || t.primary_key.as_ref().is_some_and(|p| p.name == candidate)
    })
}

/// For `UNIQUE USING INDEX idx` / `PRIMARY KEY USING INDEX idx`: removes the index from the
/// table (PostgreSQL makes it the constraint's own index, renamed to the constraint) and returns
/// its key columns. `None` for a constraint that builds its own index.
fn adopt_index(
    cx: &mut Replay<'_>,
    table: usize,
    c: &protobuf::Constraint,
) -> Result<Option<Vec<String>>> {
    if c.indexname.is_empty() {
        return Ok(None);
    }
    let t = &mut cx.catalog.tables[table];
    let at = t
        .indexes
        .iter()
        .position(|ix| ix.name == c.indexname)
        .ok_or_else(|| {
            ReplayError::new(format!(
                "index \"{}\" for table \"{}\" does not exist",
                c.indexname,
                t.display_name()
            ))
        })?;
    let index = &t.indexes[at];
    if !index.unique
        || index.predicate.is_some()
        || index.method != IndexMethod::Btree
        || index.keys.iter().any(|k| k.expression.is_some())
    {
        return Err(ReplayError::new(format!(
            "index \"{}\" is not a unique, non-partial btree index of columns",
            c.indexname
        )));
    }
    let index = t.indexes.remove(at);
    Ok(Some(index.keys.into_iter().map(|k| k.column).collect()))
}

/// Removes the constraint `name` from a table; `false` when it has none of that name.
pub(super) fn drop_constraint(table: &mut Table, name: &str) -> bool {
    let before = (
        table.primary_key.is_some(),
        table.uniques.len(),
        table.checks.len(),
        table.foreign_keys.len(),
    );
    if table.primary_key.as_ref().is_some_and(|pk| pk.name == name) {
        table.primary_key = None;
    }
    table.uniques.retain(|u| u.name != name);
    table.checks.retain(|c| c.name != name);
    table.foreign_keys.retain(|f| f.name != name);
    let after = (
        table.primary_key.is_some(),
        table.uniques.len(),
        table.checks.len(),
        table.foreign_keys.len(),
    );
    if before != after {
        return true;
    }
    // An exclusion constraint is modelled as its (non-btree) index.
    let indexes = table.indexes.len();
    table
        .indexes
        .retain(|i| i.name != name || i.method == IndexMethod::Btree);
    indexes != table.indexes.len()
}
