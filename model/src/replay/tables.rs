//! `CREATE TABLE`, `ALTER TABLE` and their columns and constraints; dropping and renaming tables
//! and columns.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType, DropBehavior, ObjectType};

use super::ast::{column_mut, contype, data_type, expression, fk_action, relation_name, strings};
use super::{Applied, Replay, ReplayError, Result};
use crate::catalog::*;
use crate::ident::derived_name;

// ---------------------------------------------------------------------------------------------
// CREATE TABLE / ALTER TABLE

pub(super) fn create_table(cx: &mut Replay<'_>, s: &protobuf::CreateStmt) -> Result<Applied> {
    let name = relation_name(s.relation.as_ref())?;
    if cx.find_table(&name).is_some() {
        if s.if_not_exists {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "relation \"{name}\" already exists"
        )));
    }
    if !s.inh_relations.is_empty() || s.partspec.is_some() || s.partbound.is_some() {
        return Err(ReplayError::new(format!(
            "table \"{name}\": inheritance and partitioning are not modelled"
        )));
    }
    let columns = s
        .table_elts
        .iter()
        .filter(|e| matches!(e.node, Some(NodeEnum::ColumnDef(_))))
        .count();
    cx.catalog.tables.push(Table {
        name: name.clone(),
        comment: None,
        columns: Vec::with_capacity(columns),
        primary_key: None,
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        triggers: Vec::new(),
        grants: Vec::new(),
        flags: TableFlags::default(),
    });
    let result = (|| {
        for element in &s.table_elts {
            match element.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => add_column(cx, &name, c)?,
                Some(NodeEnum::Constraint(c)) => add_constraint(cx, &name, c, None)?,
                _ => {
                    return Err(ReplayError::new(format!(
                        "table \"{name}\": unsupported table element"
                    )));
                }
            }
        }
        Ok(Applied::Schema)
    })();
    if result.is_err() {
        cx.catalog.tables.retain(|t| t.name != name);
    }
    result
}

pub(super) fn add_column(
    cx: &mut Replay<'_>,
    table_name: &str,
    c: &protobuf::ColumnDef,
) -> Result<()> {
    let data_type = data_type(cx.catalog, c.type_name.as_ref())?;
    let table = cx.table_mut(table_name)?;
    if table.column(&c.colname).is_some() {
        return Err(ReplayError::new(format!(
            "column \"{}\" of relation \"{table_name}\" already exists",
            c.colname
        )));
    }
    let default = match c.raw_default.as_deref() {
        Some(d) => Some(expression(Some(d))?),
        None => None,
    };
    table.columns.push(Column {
        name: c.colname.clone(),
        data_type,
        nullable: !c.is_not_null,
        default,
        comment: None,
        sensitivity: Sensitivity::default(),
    });
    for constraint in &c.constraints {
        if let Some(NodeEnum::Constraint(k)) = constraint.node.as_ref() {
            add_constraint(cx, table_name, k, Some(&c.colname))?;
        }
    }
    Ok(())
}

/// Adds a table or column constraint. `column` is set for a column constraint, whose key
/// columns are implied.
pub(super) fn add_constraint(
    cx: &mut Replay<'_>,
    table_name: &str,
    c: &protobuf::Constraint,
    column: Option<&str>,
) -> Result<()> {
    let keys = |list: &[protobuf::Node]| -> Vec<String> {
        let named = strings(list);
        if named.is_empty() {
            column.map(|c| vec![c.to_string()]).unwrap_or_default()
        } else {
            named
        }
    };
    let name_or = |suffix: &str, columns: &[String]| -> String {
        if c.conname.is_empty() {
            let parts: Vec<&str> = std::iter::once(table_name)
                .chain(columns.iter().map(String::as_str))
                .collect();
            derived_name(&parts, suffix)
        } else {
            c.conname.clone()
        }
    };
    match contype(c) {
        ConstrType::ConstrNotnull => {
            let column = column.ok_or_else(|| ReplayError::new("NOT NULL without a column"))?;
            column_mut(cx.table_mut(table_name)?, column)?.nullable = false;
        }
        ConstrType::ConstrNull => {
            let column = column.ok_or_else(|| ReplayError::new("NULL without a column"))?;
            column_mut(cx.table_mut(table_name)?, column)?.nullable = true;
        }
        ConstrType::ConstrDefault => {
            let column = column.ok_or_else(|| ReplayError::new("DEFAULT without a column"))?;
            let default = expression(c.raw_expr.as_deref())?;
            column_mut(cx.table_mut(table_name)?, column)?.default = Some(default);
        }
        ConstrType::ConstrPrimary => {
            // `PRIMARY KEY USING INDEX idx` turns an existing unique index into the key.
            let adopted = adopt_index(cx, table_name, c)?;
            let columns = adopted.clone().unwrap_or_else(|| keys(&c.keys));
            let name = if !c.conname.is_empty() {
                c.conname.clone()
            } else if adopted.is_some() {
                c.indexname.clone()
            } else {
                derived_name(&[table_name], "pkey")
            };
            let table = cx.table_mut(table_name)?;
            if table.primary_key.is_some() {
                return Err(ReplayError::new(format!(
                    "multiple primary keys for table \"{table_name}\" are not allowed"
                )));
            }
            for col in &columns {
                column_mut(table, col)?.nullable = false;
            }
            table.primary_key = Some(PrimaryKey { name, columns });
        }
        ConstrType::ConstrUnique => {
            let adopted = adopt_index(cx, table_name, c)?;
            let columns = adopted.clone().unwrap_or_else(|| keys(&c.keys));
            let name = match adopted {
                Some(_) if c.conname.is_empty() => c.indexname.clone(),
                _ => name_or("key", &columns),
            };
            let table = cx.table_mut(table_name)?;
            for col in &columns {
                column_mut(table, col)?;
            }
            table.uniques.push(UniqueConstraint { name, columns });
        }
        ConstrType::ConstrCheck => {
            let expression = expression(c.raw_expr.as_deref())?;
            let name = if c.conname.is_empty() {
                derived_name(
                    &[table_name, column.unwrap_or("")]
                        .iter()
                        .copied()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>(),
                    "check",
                )
            } else {
                c.conname.clone()
            };
            cx.table_mut(table_name)?
                .checks
                .push(CheckConstraint { name, expression });
        }
        ConstrType::ConstrForeign => {
            let columns = keys(&c.fk_attrs);
            let ref_table = relation_name(c.pktable.as_ref())?;
            let ref_columns = match strings(&c.pk_attrs) {
                cols if !cols.is_empty() => cols,
                _ => cx
                    .find_table(&ref_table)
                    .and_then(|t| t.primary_key.as_ref())
                    .map(|pk| pk.columns.clone())
                    .ok_or_else(|| {
                        ReplayError::new(format!(
                            "there is no primary key for referenced table \"{ref_table}\""
                        ))
                    })?,
            };
            if cx.find_table(&ref_table).is_none() && ref_table != table_name {
                return Err(ReplayError::new(format!(
                    "relation \"{ref_table}\" does not exist"
                )));
            }
            let name = name_or("fkey", &columns);
            let table = cx.table_mut(table_name)?;
            for col in &columns {
                column_mut(table, col)?;
            }
            table.foreign_keys.push(ForeignKey {
                name,
                columns,
                ref_table,
                ref_columns,
                on_delete: fk_action(&c.fk_del_action),
                on_update: fk_action(&c.fk_upd_action),
            });
        }
        // Deferrability attributes and the like do not change the model.
        ConstrType::ConstrAttrDeferrable
        | ConstrType::ConstrAttrNotDeferrable
        | ConstrType::ConstrAttrDeferred
        | ConstrType::ConstrAttrImmediate => {}
        other => {
            return Err(ReplayError::new(format!(
                "unsupported constraint {other:?}"
            )));
        }
    }
    Ok(())
}

/// For `UNIQUE USING INDEX idx` / `PRIMARY KEY USING INDEX idx`: removes the index from the
/// table (PostgreSQL makes it the constraint's own index, renamed to the constraint) and returns
/// its key columns. `None` for a constraint that builds its own index.
pub(super) fn adopt_index(
    cx: &mut Replay<'_>,
    table_name: &str,
    c: &protobuf::Constraint,
) -> Result<Option<Vec<String>>> {
    if c.indexname.is_empty() {
        return Ok(None);
    }
    let table = cx.table_mut(table_name)?;
    let at = table
        .indexes
        .iter()
        .position(|ix| ix.name == c.indexname)
        .ok_or_else(|| {
            ReplayError::new(format!(
                "index \"{}\" for table \"{table_name}\" does not exist",
                c.indexname
            ))
        })?;
    let index = &table.indexes[at];
    if !index.unique || index.predicate.is_some() || index.method != IndexMethod::Btree {
        return Err(ReplayError::new(format!(
            "index \"{}\" is not a unique, non-partial btree index",
            c.indexname
        )));
    }
    let index = table.indexes.remove(at);
    Ok(Some(index.keys.into_iter().map(|k| k.column).collect()))
}

pub(super) fn alter_table(cx: &mut Replay<'_>, s: &protobuf::AlterTableStmt) -> Result<Applied> {
    if ObjectType::try_from(s.objtype) != Ok(ObjectType::ObjectTable) {
        return Ok(Applied::Unmodelled("ALTER of a non-table relation"));
    }
    let name = relation_name(s.relation.as_ref())?;
    if cx.find_table(&name).is_none() {
        if s.missing_ok {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "relation \"{name}\" does not exist"
        )));
    }
    let mut unmodelled = None;
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
            continue;
        };
        let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
        match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
            AlterTableType::AtAddColumn => {
                let Some(NodeEnum::ColumnDef(c)) = def else {
                    return Err(ReplayError::new("ADD COLUMN without a column"));
                };
                if cmd.missing_ok
                    && cx
                        .find_table(&name)
                        .and_then(|t| t.column(&c.colname))
                        .is_some()
                {
                    continue;
                }
                add_column(cx, &name, c)?;
            }
            AlterTableType::AtDropColumn => {
                let table = cx.table_mut(&name)?;
                if table.column(&cmd.name).is_none() {
                    if cmd.missing_ok {
                        continue;
                    }
                    column_mut(table, &cmd.name)?;
                }
                let cascade = DropBehavior::try_from(cmd.behavior) == Ok(DropBehavior::DropCascade);
                drop_column(cx, &name, &cmd.name, cascade)?;
            }
            AlterTableType::AtAlterColumnType => {
                let Some(NodeEnum::ColumnDef(c)) = def else {
                    return Err(ReplayError::new("ALTER COLUMN TYPE without a type"));
                };
                let new_type = data_type(cx.catalog, c.type_name.as_ref())?;
                column_mut(cx.table_mut(&name)?, &cmd.name)?.data_type = new_type;
            }
            AlterTableType::AtSetNotNull => {
                column_mut(cx.table_mut(&name)?, &cmd.name)?.nullable = false
            }
            AlterTableType::AtDropNotNull => {
                column_mut(cx.table_mut(&name)?, &cmd.name)?.nullable = true
            }
            AlterTableType::AtColumnDefault => {
                let default = match cmd.def.as_deref() {
                    Some(d) => Some(expression(Some(d))?),
                    None => None,
                };
                column_mut(cx.table_mut(&name)?, &cmd.name)?.default = default;
            }
            AlterTableType::AtAddConstraint => {
                let Some(NodeEnum::Constraint(c)) = def else {
                    return Err(ReplayError::new("ADD CONSTRAINT without a constraint"));
                };
                add_constraint(cx, &name, c, None)?;
            }
            AlterTableType::AtDropConstraint => {
                let table = cx.table_mut(&name)?;
                if !drop_constraint(table, &cmd.name) && !cmd.missing_ok {
                    return Err(ReplayError::new(format!(
                        "constraint \"{}\" of relation \"{name}\" does not exist",
                        cmd.name
                    )));
                }
            }
            // Validation turns NOT VALID into valid; the model already holds the constraint.
            AlterTableType::AtValidateConstraint => {}
            _ => unmodelled = Some("ALTER TABLE subcommand"),
        }
    }
    Ok(unmodelled.map_or(Applied::Schema, Applied::Unmodelled))
}

fn drop_constraint(table: &mut Table, name: &str) -> bool {
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
    before
        != (
            table.primary_key.is_some(),
            table.uniques.len(),
            table.checks.len(),
            table.foreign_keys.len(),
        )
}

/// Drops a column and what depends on it, as PostgreSQL does: indexes and constraints on it go
/// with it; foreign keys of other tables that reference it need CASCADE.
pub(super) fn drop_column(
    cx: &mut Replay<'_>,
    table_name: &str,
    column: &str,
    cascade: bool,
) -> Result<()> {
    let referenced_by: Vec<(String, String)> = cx
        .catalog
        .tables
        .iter()
        .flat_map(|t| {
            t.foreign_keys
                .iter()
                .filter(|fk| {
                    fk.ref_table == table_name && fk.ref_columns.iter().any(|c| c == column)
                })
                .map(move |fk| (t.name.clone(), fk.name.clone()))
        })
        .filter(|(t, _)| t != table_name)
        .collect();
    if !referenced_by.is_empty() && !cascade {
        return Err(ReplayError::new(format!(
            "cannot drop column {column} of table {table_name} because constraint {} on table {} depends on it",
            referenced_by[0].1, referenced_by[0].0
        )));
    }
    for (t, fk) in referenced_by {
        cx.table_mut(&t)?.foreign_keys.retain(|f| f.name != fk);
    }
    let table = cx.table_mut(table_name)?;
    let uses = |cols: &[String]| cols.iter().any(|c| c == column);
    table.columns.retain(|c| c.name != column);
    if table
        .primary_key
        .as_ref()
        .is_some_and(|pk| uses(&pk.columns))
    {
        table.primary_key = None;
    }
    table.uniques.retain(|u| !uses(&u.columns));
    table.foreign_keys.retain(|f| !uses(&f.columns));
    table
        .indexes
        .retain(|ix| !ix.keys.iter().any(|k| k.column == column) && !uses(&ix.include));
    // A check constraint that mentions the column goes too; a textual test is enough here
    // because the expression was printed by the deparser with identifiers as words.
    table.checks.retain(|c| !mentions(&c.expression, column));
    Ok(())
}

fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '"'))
        .any(|word| word.trim_matches('"') == column)
}

pub(super) fn drop_table(
    cx: &mut Replay<'_>,
    name: &str,
    cascade: bool,
    missing_ok: bool,
) -> Result<()> {
    if cx.find_table(name).is_none() {
        return if missing_ok {
            Ok(())
        } else {
            Err(ReplayError::new(format!("table \"{name}\" does not exist")))
        };
    }
    let dependents: Vec<(String, String)> = cx
        .catalog
        .tables
        .iter()
        .filter(|t| t.name != name)
        .flat_map(|t| {
            t.foreign_keys
                .iter()
                .filter(|fk| fk.ref_table == name)
                .map(move |fk| (t.name.clone(), fk.name.clone()))
        })
        .collect();
    if let Some((table, fk)) = dependents.first()
        && !cascade
    {
        return Err(ReplayError::new(format!(
            "cannot drop table {name} because constraint {fk} on table {table} depends on it"
        )));
    }
    for (table, fk) in dependents {
        cx.table_mut(&table)?.foreign_keys.retain(|f| f.name != fk);
    }
    cx.catalog.tables.retain(|t| t.name != name);
    Ok(())
}
