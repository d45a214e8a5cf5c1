//! Columns: their type (`serial` expanded as PostgreSQL expands it), default, identity and
//! generation, and the constraints written on them.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ConstrType};

use super::ast::{column_mut, contype, expression, resolve_type, serial_type};
use super::constraints::add_constraint;
use super::sequences::{self, sequence_options};
use super::{Replay, ReplayError, Result};
use crate::catalog::*;
use crate::types::DataType;

/// Adds a column to the table at `table` (a position in the catalog's tables), with the
/// constraints written on it.
pub(super) fn add_column(cx: &mut Replay<'_>, table: usize, c: &protobuf::ColumnDef) -> Result<()> {
    if cx.catalog.tables[table].column(&c.colname).is_some() {
        let t = &cx.catalog.tables[table];
        return Err(ReplayError::new(format!(
            "column \"{}\" of relation \"{}\" already exists",
            c.colname,
            t.display_name()
        )));
    }
    let Some(type_name) = c.type_name.as_ref() else {
        return Err(ReplayError::new(format!(
            "column \"{}\" has no type",
            c.colname
        )));
    };
    let serial = serial_type(type_name);
    let data_type = match &serial {
        Some(integer) => integer.clone(),
        None => column_type(cx, type_name)?,
    };
    let default = match c.raw_default.as_deref() {
        Some(d) => Some(expression(Some(d))?),
        None => None,
    };
    cx.catalog.tables[table].columns.push(Column {
        nullable: !c.is_not_null,
        default,
        ..Column::new(&c.colname, data_type.clone())
    });
    if serial.is_some() {
        // What PostgreSQL does for `serial`: an integer column, NOT NULL, defaulting to the
        // next value of a sequence the column owns.
        let (schema, name) = {
            let t = &cx.catalog.tables[table];
            (t.schema.clone(), t.name.clone())
        };
        let default = sequences::create_owned(cx, &schema, &name, &c.colname, data_type);
        let column = column_mut(&mut cx.catalog.tables[table], &c.colname)?;
        column.default = Some(default);
        column.nullable = false;
    }
    for constraint in &c.constraints {
        if let Some(NodeEnum::Constraint(k)) = constraint.node.as_ref() {
            let applied = add_constraint(cx, table, k, Some(&c.colname));
            if let Err(e) = applied {
                cx.soft(e)?;
            }
        }
    }
    Ok(())
}

/// A column's type: a lenient session takes any type (an unknown one is a named type), a
/// strict one only the types the model knows.
pub(super) fn column_type(cx: &Replay<'_>, t: &protobuf::TypeName) -> Result<DataType> {
    resolve_type(cx.catalog, cx.session, t, cx.lenient())
}

/// Applies a constraint that only a column can have (NOT NULL, NULL, DEFAULT, identity,
/// generated). `false` when `c` is another kind.
pub(super) fn column_constraint(
    cx: &mut Replay<'_>,
    table: usize,
    column: &str,
    c: &protobuf::Constraint,
) -> Result<bool> {
    let kind = contype(c);
    let col = column_mut(&mut cx.catalog.tables[table], column)?;
    match kind {
        ConstrType::ConstrNotnull => col.nullable = false,
        ConstrType::ConstrNull => col.nullable = true,
        ConstrType::ConstrDefault => col.default = Some(expression(c.raw_expr.as_deref())?),
        ConstrType::ConstrIdentity => {
            col.identity = Some(Identity {
                always: c.generated_when == "a",
                options: sequence_options(&c.options)
                    .0
                    .without_defaults(&col.data_type),
            });
            col.nullable = false;
        }
        ConstrType::ConstrGenerated => {
            col.generated = Some(expression(c.raw_expr.as_deref())?);
        }
        _ => return Ok(false),
    }
    Ok(true)
}
