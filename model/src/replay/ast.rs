//! Reading the parse tree: names, types, expressions and constraint codes.

use std::cell::RefCell;
use std::collections::HashMap;

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ConstrType};

use super::names::FastHash;
use super::{ReplayError, Result};
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

/// The unqualified name of a possibly schema-qualified object; only `public` (or none) is modelled.
pub(super) fn object_name(names: &[String]) -> Result<String> {
    match names {
        [name] => Ok(name.clone()),
        [schema, name] if schema == "public" => Ok(name.clone()),
        [schema, name] => Err(ReplayError::new(format!(
            "`{schema}.{name}`: only the public schema is modelled"
        ))),
        _ => Err(ReplayError::new(format!(
            "unsupported qualified name `{}`",
            names.join(".")
        ))),
    }
}

pub(super) fn relation_name(relation: Option<&protobuf::RangeVar>) -> Result<String> {
    let r = relation.ok_or_else(|| ReplayError::new("statement names no table"))?;
    if !r.schemaname.is_empty() && r.schemaname != "public" {
        return Err(ReplayError::new(format!(
            "`{}.{}`: only the public schema is modelled",
            r.schemaname, r.relname
        )));
    }
    Ok(r.relname.clone())
}

pub(super) fn list_names(node: &protobuf::Node) -> Vec<String> {
    match node.node.as_ref() {
        Some(NodeEnum::List(list)) => strings(&list.items),
        Some(NodeEnum::String(s)) => vec![s.sval.clone()],
        _ => Vec::new(),
    }
}

pub(super) fn function_name(object: &protobuf::Node) -> Result<String> {
    match object.node.as_ref() {
        Some(NodeEnum::ObjectWithArgs(o)) => object_name(&strings(&o.objname)),
        _ => Err(ReplayError::new("expected a function name")),
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

/// The model type of a parsed type name (`character varying(20)`, `public.status[]`).
pub fn data_type(catalog: &Catalog, type_name: Option<&protobuf::TypeName>) -> Result<DataType> {
    let t = type_name.ok_or_else(|| ReplayError::new("column without a type"))?;
    let is_enum = |n: &str| catalog.enum_type(n).is_some();
    let mut names = t.names.iter().filter_map(string_value);
    let qualified;
    let base = match (names.next(), names.next(), names.next()) {
        (Some("pg_catalog" | "public"), Some(name), None) | (Some(name), None, None) => name,
        _ => {
            qualified = object_name(&strings(&t.names))?;
            qualified.as_str()
        }
    };
    // The usual column: a bare type name, looked up without building its text.
    if t.typmods.is_empty() && t.array_bounds.is_empty() {
        return parse_type(base, &is_enum)
            .map_err(|e| ReplayError::new(format!("unsupported type `{base}`: {e}")));
    }
    let base = base.to_string();
    let mut modifiers = Vec::new();
    for m in &t.typmods {
        match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(protobuf::a_const::Val::Ival(i)) => modifiers.push(i.ival.to_string()),
                _ => return Err(ReplayError::new("unsupported type modifier")),
            },
            _ => return Err(ReplayError::new("unsupported type modifier")),
        }
    }
    // `interval` carries a field mask as its modifier; the model has no interval fields.
    let mut text = if modifiers.is_empty() || base == "interval" {
        base
    } else {
        format!("{base}({})", modifiers.join(","))
    };
    if !t.array_bounds.is_empty() {
        text.push_str("[]");
    }
    parse_type(&text, &is_enum)
        .map_err(|e| ReplayError::new(format!("unsupported type `{text}`: {e}")))
}

/// [`DataType::parse`], remembered for the few texts a history spells over and over (`uuid`,
/// `numeric(10,2)`). Only texts whose result cannot depend on the catalog are remembered: no
/// array, no space (so the text is its own normal form), and not an enum's name, which `parse`
/// asks first.
pub(super) fn parse_type(
    text: &str,
    is_enum: &dyn Fn(&str) -> bool,
) -> std::result::Result<DataType, crate::types::TypeError> {
    thread_local! {
        static PARSED: RefCell<HashMap<String, DataType, FastHash>> = RefCell::default();
    }
    if text.contains(|c: char| c == '[' || c.is_whitespace()) || is_enum(text) {
        return DataType::parse(text, is_enum);
    }
    if let Some(known) = PARSED.with(|p| p.borrow().get(text).cloned()) {
        return Ok(known);
    }
    let parsed = DataType::parse(text, is_enum)?;
    PARSED.with(|p| p.borrow_mut().insert(text.to_string(), parsed.clone()));
    Ok(parsed)
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
