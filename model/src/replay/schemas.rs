//! Schemas (`CREATE SCHEMA`, with the objects it creates), extensions, and the session's
//! `search_path` (`SET`, `RESET`, `set_config`).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, VariableSetKind};

use super::ast::string_value;
use super::{Applied, Replay, ReplayError, Result};
use crate::catalog::*;

pub(super) fn create_schema(
    cx: &mut Replay<'_>,
    s: &protobuf::CreateSchemaStmt,
) -> Result<Applied> {
    // `CREATE SCHEMA AUTHORIZATION role` names the schema after the role.
    let name = if s.schemaname.is_empty() {
        s.authrole
            .as_ref()
            .map(|r| r.rolename.clone())
            .unwrap_or_default()
    } else {
        s.schemaname.clone()
    };
    if cx.catalog.has_schema(&name) {
        if s.if_not_exists {
            return Ok(Applied::Schema);
        }
        let error = ReplayError::new(format!("schema \"{name}\" already exists"));
        if !cx.assume_applied() || name == DEFAULT_SCHEMA {
            return Err(error);
        }
        cx.soft(error)?;
    } else {
        cx.catalog.schemas.push(Schema {
            name: name.clone(),
            comment: None,
        });
    }
    // Objects created inside `CREATE SCHEMA` go into it, whatever the search_path says.
    if !s.schema_elts.is_empty() {
        let saved = std::mem::replace(&mut cx.session.search_path, vec![name]);
        let mut result = Ok(());
        for element in &s.schema_elts {
            if let Some(node) = element.node.as_ref()
                && let Err(e) = cx.statement(node)
            {
                result = cx.soft(e);
                if result.is_err() {
                    break;
                }
            }
        }
        cx.session.search_path = saved;
        result?;
    }
    Ok(Applied::Schema)
}

pub(super) fn create_extension(
    cx: &mut Replay<'_>,
    s: &protobuf::CreateExtensionStmt,
) -> Result<Applied> {
    if cx.catalog.extensions.iter().any(|e| e.name == s.extname) {
        if s.if_not_exists {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "extension \"{}\" already exists",
            s.extname
        )));
    }
    let mut schema = None;
    let mut version = None;
    for option in &s.options {
        if let Some(NodeEnum::DefElem(d)) = option.node.as_ref() {
            let value = d.arg.as_deref().and_then(string_value).map(str::to_string);
            match d.defname.as_str() {
                "schema" => schema = value,
                "new_version" => version = value,
                _ => {}
            }
        }
    }
    let schema = match schema {
        Some(s) => s,
        None => cx.creation_schema(""),
    };
    cx.catalog.extensions.push(Extension {
        name: s.extname.clone(),
        schema,
        version,
    });
    Ok(Applied::Schema)
}

/// `ALTER EXTENSION name UPDATE [TO version]`: the version asked for (without `TO`, the default
/// one, which is no particular version).
pub(super) fn alter_extension(
    cx: &mut Replay<'_>,
    s: &protobuf::AlterExtensionStmt,
) -> Result<Applied> {
    // One the history did not create (installed beforehand) is not modelled.
    let Some(extension) = cx
        .catalog
        .extensions
        .iter_mut()
        .find(|e| e.name == s.extname)
    else {
        return Ok(Applied::Unmodelled("ALTER EXTENSION"));
    };
    extension.version = s
        .options
        .iter()
        .find_map(|option| match option.node.as_ref() {
            Some(NodeEnum::DefElem(d)) if d.defname == "new_version" => {
                d.arg.as_deref().and_then(string_value).map(str::to_string)
            }
            _ => None,
        });
    Ok(Applied::Schema)
}

/// `SET search_path ...`, `RESET search_path`, `SET LOCAL ...`: the session's `search_path`
/// follows (a `LOCAL` setting is taken as lasting: migrations run one transaction per file and
/// the setting matters for the statements after it). Other settings change nothing modelled.
pub(super) fn set(cx: &mut Replay<'_>, s: &protobuf::VariableSetStmt) -> Result<Applied> {
    let kind = VariableSetKind::try_from(s.kind).unwrap_or(VariableSetKind::Undefined);
    let search_path = s.name.eq_ignore_ascii_case("search_path");
    match kind {
        VariableSetKind::VarSetValue if search_path => {
            let schemas: Vec<String> = s
                .args
                .iter()
                .filter_map(|a| match a.node.as_ref() {
                    Some(NodeEnum::AConst(c)) => match &c.val {
                        Some(protobuf::a_const::Val::Sval(v)) => Some(v.sval.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .flat_map(|v| split_search_path(&v))
                .collect();
            set_search_path(cx, schemas);
        }
        VariableSetKind::VarSetDefault | VariableSetKind::VarReset if search_path => {
            set_search_path(cx, vec!["$user".to_string(), DEFAULT_SCHEMA.to_string()]);
        }
        VariableSetKind::VarResetAll => {
            set_search_path(cx, vec!["$user".to_string(), DEFAULT_SCHEMA.to_string()]);
        }
        _ => {}
    }
    Ok(Applied::NoSchemaChange("SET"))
}

pub(super) fn set_search_path(cx: &mut Replay<'_>, schemas: Vec<String>) {
    cx.session.search_path = schemas;
}

/// `a, "B c", public` as the schema names it lists (a value of `set_config` or one list item of
/// `SET` may hold several).
pub(super) fn split_search_path(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            c if !quoted && c.is_whitespace() => {}
            c if !quoted => current.extend(c.to_lowercase()),
            c => current.push(c),
        }
    }
    out.push(current);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}
