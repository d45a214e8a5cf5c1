//! Reading the parse tree: names, types, expressions and constraint codes.

use std::cell::RefCell;
use std::collections::HashMap;

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ConstrType};

use super::names::FastHash;
use super::{ReplayError, Result, Session};
use crate::catalog::*;
use crate::expr::deparse_expression;
use crate::types::DataType;

pub(super) fn string_value(node: &protobuf::Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

pub(super) fn strings(nodes: &[protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(string_value)
        .map(str::to_string)
        .collect()
}

/// A possibly qualified name list (`[name]`, `[schema, name]`, `[database, schema, name]`) as
/// schema and name; the schema is empty when the name is unqualified.
pub(super) fn split_name(names: &[String]) -> (String, String) {
    match names {
        [] => (String::new(), String::new()),
        [name] => (String::new(), name.clone()),
        [.., schema, name] => (schema.clone(), name.clone()),
    }
}

pub(super) fn list_names(node: &protobuf::Node) -> Vec<String> {
    match node.node.as_ref() {
        Some(NodeEnum::List(list)) => strings(&list.items),
        Some(NodeEnum::String(s)) => vec![s.sval.clone()],
        _ => Vec::new(),
    }
}

pub(super) fn column_mut<'t>(table: &'t mut Table, name: &str) -> Result<&'t mut Column> {
    let table_name = table.name.clone();
    table
        .columns
        .iter_mut()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            ReplayError::new(format!(
                "column \"{name}\" of relation \"{table_name}\" does not exist"
            ))
        })
}

/// Types whose name is a `serial` pseudo-type, with the integer type it stands for.
pub(super) fn serial_type(t: &protobuf::TypeName) -> Option<DataType> {
    if !t.typmods.is_empty() || !t.array_bounds.is_empty() {
        return None;
    }
    let names = strings(&t.names);
    let name = match names.as_slice() {
        [name] => name.as_str(),
        [schema, name] if schema == "pg_catalog" => name.as_str(),
        _ => return None,
    };
    crate::catalog::serial_integer(name)
}

/// The model type of a parsed type name (`character varying(20)`, `public.status[]`,
/// `geometry(Point, 4326)`). Built-in types come first, as `pg_catalog` is searched first; then
/// the catalog's enums, domains, composite types and tables (a table's row type), in the
/// type's schema or through the `search_path`. Anything else is a named type,
/// [`DataType::Other`], in a lenient session, and an error in a strict one.
pub(super) fn resolve_type(
    catalog: &Catalog,
    session: &Session,
    t: &protobuf::TypeName,
    lenient: bool,
) -> Result<DataType> {
    // The name's parts borrowed: most columns are a built-in type, found without allocating.
    let mut parts = t.names.iter().filter_map(string_value);
    let (schema, base) = match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, None) => ("", name),
        (Some(schema), Some(name), None) => (schema, name),
        (Some(_), Some(schema), Some(name)) => (schema, name),
        _ => ("", ""),
    };
    let element = resolve_element(catalog, session, t, schema, base, lenient)?;
    if t.array_bounds.is_empty() {
        Ok(element)
    } else {
        Ok(DataType::Array(Box::new(element)))
    }
}

fn resolve_element(
    catalog: &Catalog,
    session: &Session,
    t: &protobuf::TypeName,
    schema: &str,
    base: &str,
    lenient: bool,
) -> Result<DataType> {
    // `char` written bare is `pg_catalog.bpchar` to the parser; a bare `char` name is the quoted
    // `"char"`, PostgreSQL's one-byte internal type.
    if schema.is_empty() && base == "char" && t.typmods.is_empty() {
        return Ok(DataType::Other("\"char\"".to_string()));
    }
    let builtin_schema = schema.is_empty() || schema == "pg_catalog";
    // The usual column: a bare built-in name, looked up without building its text.
    if builtin_schema
        && t.typmods.is_empty()
        && let Ok(known) = builtin_type(base)
    {
        return Ok(known);
    }
    let modifiers = typmods(&t.typmods);
    // `interval` carries a field mask as its modifier; the model has no interval fields.
    let text = match &modifiers {
        Some(m) if !m.is_empty() && base != "interval" => format!("{base}({})", m.join(",")),
        _ => base.to_string(),
    };
    let builtin = if builtin_schema {
        modifiers.map(|_| builtin_type(&text))
    } else {
        None
    };
    if let Some(Ok(known)) = &builtin {
        return Ok(known.clone());
    }
    if schema != "pg_catalog" {
        let schemas: Vec<&str> = if schema.is_empty() {
            session.path().collect()
        } else {
            vec![schema]
        };
        for s in schemas {
            let name = QualifiedName::new(s, base);
            if catalog.enum_named(&name).is_some() {
                return Ok(DataType::Enum(name));
            }
            if let Some(d) = catalog.domain_named(&name) {
                return Ok(DataType::Domain {
                    base: Box::new(d.base.clone()),
                    name,
                });
            }
            if catalog.composite_named(&name).is_some() || session.table(catalog, &name).is_some() {
                return Ok(DataType::Composite(name));
            }
        }
    }
    let why = match builtin {
        Some(Err(e)) => e.to_string(),
        _ => crate::types::TypeError::Unknown(text.clone()).to_string(),
    };
    if lenient {
        let shown = if schema.is_empty() || schema == DEFAULT_SCHEMA || schema == "pg_catalog" {
            text
        } else {
            format!("{schema}.{text}")
        };
        return Ok(DataType::Other(shown));
    }
    Err(ReplayError::new(format!(
        "unsupported type `{text}`: {why}"
    )))
}

/// The modifiers of a type as text (`255`, `Point`, `4326`); `None` when one cannot be read.
fn typmods(nodes: &[protobuf::Node]) -> Option<Vec<String>> {
    nodes
        .iter()
        .map(|m| match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(protobuf::a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                Some(protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
                Some(protobuf::a_const::Val::Fval(f)) => Some(f.fval.clone()),
                _ => None,
            },
            Some(NodeEnum::ColumnRef(c)) => {
                let parts = strings(&c.fields);
                (!parts.is_empty()).then(|| parts.join("."))
            }
            _ => None,
        })
        .collect()
}

/// [`DataType::parse`] of a built-in type (no enum), remembered for the few texts a history
/// spells over and over (`uuid`, `numeric(10,2)`).
fn builtin_type(text: &str) -> std::result::Result<DataType, crate::types::TypeError> {
    thread_local! {
        static PARSED: RefCell<HashMap<String, std::result::Result<DataType, crate::types::TypeError>, FastHash>> =
            RefCell::default();
    }
    if let Some(known) = PARSED.with(|p| p.borrow().get(text).cloned()) {
        return known;
    }
    let parsed = DataType::parse(text, &|_| None);
    PARSED.with(|p| p.borrow_mut().insert(text.to_string(), parsed.clone()));
    parsed
}

pub(super) fn expression(node: Option<&protobuf::Node>) -> Result<String> {
    node.and_then(|n| n.node.as_ref())
        .and_then(deparse_expression)
        .ok_or_else(|| ReplayError::new("cannot print expression back"))
}

pub(super) fn fk_action(code: &str) -> FkAction {
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

pub(super) fn contype(c: &protobuf::Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}
