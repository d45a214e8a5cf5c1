//! User-defined types: enums (`CREATE TYPE ... AS ENUM`, `ALTER TYPE ... ADD/RENAME VALUE`),
//! domains (`CREATE/ALTER DOMAIN`) and composite types (`CREATE TYPE ... AS (...)`,
//! `ALTER TYPE ... ADD/DROP/ALTER ATTRIBUTE`).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType};

use super::ast::{contype, expression, split_name, strings};
use super::columns::column_type;
use super::{Applied, Replay, ReplayError, Result, does_not_exist};
use crate::catalog::*;
use crate::ident::pg_unique_name;
use crate::types::DataType;

/// A user-defined type of the catalog, by position in its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeAt {
    Enum(usize),
    Domain(usize),
    Composite(usize),
}

/// The user type `schema.name` (`schema` empty: through the `search_path`).
pub(super) fn find_type(cx: &Replay<'_>, schema: &str, name: &str) -> Option<TypeAt> {
    cx.lookup_schemas(schema).iter().find_map(|s| {
        let is = |sc: &str, n: &str| sc == s && n == name;
        let c = &cx.catalog;
        c.enums
            .iter()
            .position(|e| is(&e.schema, &e.name))
            .map(TypeAt::Enum)
            .or_else(|| {
                c.domains
                    .iter()
                    .position(|d| is(&d.schema, &d.name))
                    .map(TypeAt::Domain)
            })
            .or_else(|| {
                c.composite_types
                    .iter()
                    .position(|t| is(&t.schema, &t.name))
                    .map(TypeAt::Composite)
            })
    })
}

/// The qualified name of a new type written as `names`, or the error when the name is taken (by
/// a type, or by a table, whose row type has its name).
fn new_type_name(cx: &mut Replay<'_>, names: &[String]) -> Result<QualifiedName> {
    let (schema, name) = split_name(names);
    let schema = cx.creation_schema(&schema);
    if find_type(cx, &schema, &name).is_some() || cx.find_table(&schema, &name).is_some() {
        return Err(ReplayError::new(format!(
            "type \"{}\" already exists",
            display_name(&schema, &name)
        )));
    }
    Ok(QualifiedName::new(schema, name))
}

pub(super) fn create_enum(cx: &mut Replay<'_>, s: &protobuf::CreateEnumStmt) -> Result<Applied> {
    let name = new_type_name(cx, &strings(&s.type_name))?;
    cx.catalog.enums.push(EnumType {
        schema: name.schema,
        name: name.name,
        values: strings(&s.vals),
        comment: None,
    });
    Ok(Applied::Schema)
}

pub(super) fn alter_enum(cx: &mut Replay<'_>, s: &protobuf::AlterEnumStmt) -> Result<Applied> {
    let (schema, name) = split_name(&strings(&s.type_name));
    let Some(TypeAt::Enum(at)) = find_type(cx, &schema, &name) else {
        return Err(does_not_exist("type", &schema, &name));
    };
    let e = &mut cx.catalog.enums[at];
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

pub(super) fn create_domain(
    cx: &mut Replay<'_>,
    s: &protobuf::CreateDomainStmt,
) -> Result<Applied> {
    let name = new_type_name(cx, &strings(&s.domainname))?;
    let base = match &s.type_name {
        Some(t) => column_type(cx, t)?,
        None => return Err(ReplayError::new("CREATE DOMAIN without a type")),
    };
    let mut domain = Domain {
        schema: name.schema,
        name: name.name,
        base,
        nullable: true,
        default: None,
        checks: Vec::new(),
        comment: None,
    };
    for constraint in &s.constraints {
        if let Some(NodeEnum::Constraint(c)) = constraint.node.as_ref() {
            domain_constraint(&mut domain, c)?;
        }
    }
    cx.catalog.domains.push(domain);
    Ok(Applied::Schema)
}

fn domain_constraint(domain: &mut Domain, c: &protobuf::Constraint) -> Result<()> {
    match contype(c) {
        ConstrType::ConstrNotnull => domain.nullable = false,
        ConstrType::ConstrNull => domain.nullable = true,
        ConstrType::ConstrDefault => domain.default = Some(expression(c.raw_expr.as_deref())?),
        ConstrType::ConstrCheck => {
            let name = if c.conname.is_empty() {
                pg_unique_name(&domain.name, None, "check", |n| {
                    domain.checks.iter().any(|k| k.name == n)
                })
            } else {
                c.conname.clone()
            };
            domain.checks.push(CheckConstraint {
                name,
                expression: expression(c.raw_expr.as_deref())?,
            });
        }
        _ => {}
    }
    Ok(())
}

/// `ALTER DOMAIN`: default, NOT NULL, and adding or dropping a constraint.
pub(super) fn alter_domain(cx: &mut Replay<'_>, s: &protobuf::AlterDomainStmt) -> Result<Applied> {
    let (schema, name) = split_name(&strings(&s.type_name));
    let Some(TypeAt::Domain(at)) = find_type(cx, &schema, &name) else {
        if s.missing_ok {
            return Ok(Applied::Schema);
        }
        return Err(does_not_exist("type", &schema, &name));
    };
    let domain = &mut cx.catalog.domains[at];
    let def = s.def.as_deref().and_then(|d| d.node.as_ref());
    match s.subtype.as_str() {
        "T" => {
            domain.default = match s.def.as_deref() {
                Some(d) => Some(expression(Some(d))?),
                None => None,
            }
        }
        "N" => domain.nullable = true,
        "O" => domain.nullable = false,
        "C" => {
            if let Some(NodeEnum::Constraint(c)) = def {
                domain_constraint(domain, c)?;
            }
        }
        "X" => {
            let before = domain.checks.len();
            domain.checks.retain(|c| c.name != s.name);
            if before == domain.checks.len() && !s.missing_ok {
                return Err(ReplayError::new(format!(
                    "constraint \"{}\" of domain \"{}\" does not exist",
                    s.name, domain.name
                )));
            }
        }
        // VALIDATE CONSTRAINT and the rest change nothing modelled.
        _ => {}
    }
    Ok(Applied::Schema)
}

pub(super) fn create_composite(
    cx: &mut Replay<'_>,
    s: &protobuf::CompositeTypeStmt,
) -> Result<Applied> {
    let r = s
        .typevar
        .as_ref()
        .ok_or_else(|| ReplayError::new("CREATE TYPE without a name"))?;
    let name = new_type_name(
        cx,
        &[r.schemaname.clone(), r.relname.clone()]
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>(),
    )?;
    let mut attributes = Vec::new();
    for element in &s.coldeflist {
        if let Some(NodeEnum::ColumnDef(c)) = element.node.as_ref()
            && let Some(t) = &c.type_name
        {
            attributes.push(CompositeAttribute {
                name: c.colname.clone(),
                data_type: column_type(cx, t)?,
            });
        }
    }
    cx.catalog.composite_types.push(CompositeType {
        schema: name.schema,
        name: name.name,
        attributes,
        comment: None,
    });
    Ok(Applied::Schema)
}

/// `ALTER TYPE composite ADD/DROP/ALTER ATTRIBUTE` (parsed as an `ALTER TABLE` on a type).
pub(super) fn alter_composite(
    cx: &mut Replay<'_>,
    s: &protobuf::AlterTableStmt,
) -> Result<Applied> {
    let r = s
        .relation
        .as_ref()
        .ok_or_else(|| ReplayError::new("ALTER TYPE without a name"))?;
    let Some(TypeAt::Composite(at)) = find_type(cx, &r.schemaname, &r.relname) else {
        return Err(does_not_exist("type", &r.schemaname, &r.relname));
    };
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
            continue;
        };
        let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
        match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
            AlterTableType::AtAddColumn => {
                if let Some(NodeEnum::ColumnDef(c)) = def
                    && let Some(t) = &c.type_name
                {
                    let data_type = column_type(cx, t)?;
                    cx.catalog.composite_types[at]
                        .attributes
                        .push(CompositeAttribute {
                            name: c.colname.clone(),
                            data_type,
                        });
                }
            }
            AlterTableType::AtDropColumn => cx.catalog.composite_types[at]
                .attributes
                .retain(|a| a.name != cmd.name),
            AlterTableType::AtAlterColumnType => {
                if let Some(NodeEnum::ColumnDef(c)) = def
                    && let Some(t) = &c.type_name
                {
                    let data_type = column_type(cx, t)?;
                    if let Some(a) = cx.catalog.composite_types[at]
                        .attributes
                        .iter_mut()
                        .find(|a| a.name == cmd.name)
                    {
                        a.data_type = data_type;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Applied::Schema)
}

/// Drops the type at `at`. The columns of that type go with it under `cascade` (or in a
/// lenient session, which notes it); otherwise they make the drop fail.
pub(super) fn drop_type(cx: &mut Replay<'_>, at: TypeAt, cascade: bool) -> Result<()> {
    let name = match at {
        TypeAt::Enum(i) => cx.catalog.enums[i].qualified_name(),
        TypeAt::Domain(i) => cx.catalog.domains[i].qualified_name(),
        TypeAt::Composite(i) => {
            let t = &cx.catalog.composite_types[i];
            QualifiedName::new(&t.schema, &t.name)
        }
    };
    let users: Vec<(usize, String)> = cx
        .catalog
        .tables
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.columns
                .iter()
                .filter(|c| c.data_type.uses_type(&name))
                .map(move |c| (i, c.name.clone()))
        })
        .collect();
    if let Some((table, column)) = users.first()
        && !cascade
    {
        let table = cx.catalog.tables[*table].display_name().into_owned();
        cx.soft(ReplayError::new(format!(
            "cannot drop type {} because column {column} of table {table} depends on it",
            name.display()
        )))?;
    }
    // Dropped from the end, so positions stay valid.
    for (table, column) in users.into_iter().rev() {
        super::tables::drop_column(cx, table, &column, true)?;
    }
    match at {
        TypeAt::Enum(i) => {
            cx.catalog.enums.remove(i);
        }
        TypeAt::Domain(i) => {
            cx.catalog.domains.remove(i);
        }
        TypeAt::Composite(i) => {
            cx.catalog.composite_types.remove(i);
        }
    }
    Ok(())
}

/// Renames the type `old` to `new` wherever a column, a domain or a composite type uses it.
pub(super) fn rename_type_uses(catalog: &mut Catalog, old: &QualifiedName, new: &QualifiedName) {
    fn rename_in(t: &mut DataType, old: &QualifiedName, new: &QualifiedName) {
        match t {
            DataType::Enum(n) | DataType::Composite(n) if n == old => *n = new.clone(),
            DataType::Domain { name, base } => {
                if name == old {
                    *name = new.clone();
                }
                rename_in(base, old, new);
            }
            DataType::Array(element) => rename_in(element, old, new),
            _ => {}
        }
    }
    for c in catalog.tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
        rename_in(&mut c.data_type, old, new);
    }
    for d in &mut catalog.domains {
        rename_in(&mut d.base, old, new);
    }
    for a in catalog
        .composite_types
        .iter_mut()
        .flat_map(|t| t.attributes.iter_mut())
    {
        rename_in(&mut a.data_type, old, new);
    }
    for v in catalog.views.iter_mut().flat_map(|v| v.columns.iter_mut()) {
        rename_in(&mut v.data_type, old, new);
    }
}
