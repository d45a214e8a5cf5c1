//! Functions and procedures (identified by schema, name and input argument types, so overloads
//! are distinct), and triggers.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, FunctionParameterMode};

use super::ast::{expression, split_name, string_value, strings};
use super::{Applied, Replay, ReplayError, Result, does_not_exist};
use crate::catalog::*;
use crate::types::DataType;

pub(super) fn create_function(
    cx: &mut Replay<'_>,
    s: &protobuf::CreateFunctionStmt,
) -> Result<Applied> {
    let (schema, name) = split_name(&strings(&s.funcname));
    let schema = cx.creation_schema(&schema);
    let mut arguments = Vec::new();
    for p in &s.parameters {
        let Some(NodeEnum::FunctionParameter(p)) = p.node.as_ref() else {
            continue;
        };
        let data_type = match &p.arg_type {
            Some(t) => cx.session.data_type(cx.catalog, t),
            None => DataType::Unknown,
        };
        let default = match p.defexpr.as_deref() {
            Some(d) => Some(expression(Some(d))?),
            None => None,
        };
        arguments.push(FunctionArgument {
            name: p.name.clone(),
            data_type,
            mode: argument_mode(p.mode),
            default,
        });
    }
    let mut language = if s.sql_body.is_some() {
        "sql".to_string()
    } else {
        String::new()
    };
    let mut body = None;
    let mut security_definer = false;
    for option in &s.options {
        let Some(NodeEnum::DefElem(d)) = option.node.as_ref() else {
            continue;
        };
        let arg = d.arg.as_deref();
        match d.defname.as_str() {
            "language" => language = arg.and_then(string_value).unwrap_or_default().to_string(),
            "security" => {
                security_definer = matches!(
                    arg.and_then(|a| a.node.as_ref()),
                    Some(NodeEnum::Boolean(b)) if b.boolval
                )
            }
            "as" => {
                body = arg.and_then(|a| match a.node.as_ref() {
                    Some(NodeEnum::List(list)) => {
                        let parts = strings(&list.items);
                        Some(parts.join(", "))
                    }
                    Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                    _ => None,
                })
            }
            _ => {}
        }
    }
    // A SQL-standard body (`RETURN ...`, `BEGIN ATOMIC ... END`) replaces `AS '...'`.
    let sql_standard_body = s.sql_body.is_some();
    if let Some(sql_body) = s.sql_body.as_deref() {
        body = Some(crate::expr::sql_body_text(sql_body).ok_or_else(|| {
            ReplayError::new("a SQL-standard function body that does not print back")
        })?);
    }
    let returns = if s.is_procedure {
        String::new()
    } else {
        return_type(cx, s)
    };
    let mut function = Function {
        schema,
        name,
        arguments,
        returns,
        language,
        body: body.unwrap_or_default(),
        security_definer,
        sql_standard_body,
        // PostgreSQL grants EXECUTE on a new function to PUBLIC.
        execute: vec![PUBLIC.to_string()],
    };
    let signature = function.signature_types();
    let existing = cx.catalog.functions.iter_mut().find(|f| {
        f.name == function.name && f.schema == function.schema && f.signature_types() == signature
    });
    match existing {
        // CREATE OR REPLACE keeps the privileges.
        Some(existing) if s.replace => {
            function.execute = std::mem::take(&mut existing.execute);
            *existing = function;
        }
        Some(_) => {
            return Err(ReplayError::new(format!(
                "function \"{}\" already exists with the same argument types",
                display_name(&function.schema, &function.name)
            )));
        }
        None => cx.catalog.functions.push(function),
    }
    Ok(Applied::Schema)
}

fn argument_mode(mode: i32) -> ArgumentMode {
    match FunctionParameterMode::try_from(mode) {
        Ok(FunctionParameterMode::FuncParamOut) => ArgumentMode::Out,
        Ok(FunctionParameterMode::FuncParamInout) => ArgumentMode::InOut,
        Ok(FunctionParameterMode::FuncParamVariadic) => ArgumentMode::Variadic,
        Ok(FunctionParameterMode::FuncParamTable) => ArgumentMode::Table,
        _ => ArgumentMode::In,
    }
}

/// The return type as SQL: `trigger`, `SETOF jobs`, `TABLE(...)` (written as its columns),
/// `void`.
fn return_type(cx: &Replay<'_>, s: &protobuf::CreateFunctionStmt) -> String {
    let Some(t) = &s.return_type else {
        // OUT parameters and no RETURNS: the one OUT parameter's type, or `record`.
        let outs: Vec<String> = s
            .parameters
            .iter()
            .filter_map(|p| match p.node.as_ref() {
                Some(NodeEnum::FunctionParameter(p))
                    if matches!(
                        argument_mode(p.mode),
                        ArgumentMode::Out | ArgumentMode::InOut
                    ) =>
                {
                    Some(
                        p.arg_type
                            .as_ref()
                            .map_or(DataType::Unknown, |t| cx.session.data_type(cx.catalog, t)),
                    )
                }
                _ => None,
            })
            .map(|t| t.to_string())
            .collect();
        return match outs.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            _ => "record".to_string(),
        };
    };
    let table_columns: Vec<String> = s
        .parameters
        .iter()
        .filter_map(|p| match p.node.as_ref() {
            Some(NodeEnum::FunctionParameter(p))
                if argument_mode(p.mode) == ArgumentMode::Table =>
            {
                let data_type = p
                    .arg_type
                    .as_ref()
                    .map_or(DataType::Unknown, |t| cx.session.data_type(cx.catalog, t));
                Some(format!("{} {data_type}", crate::ident::quote(&p.name)))
            }
            _ => None,
        })
        .collect();
    if !table_columns.is_empty() {
        return format!("TABLE({})", table_columns.join(", "));
    }
    // Trigger and pseudo-type names are kept as written (`trigger`, `void`, `record`).
    let names = strings(&t.names);
    let plain = match names.as_slice() {
        [name] | [_, name] if t.typmods.is_empty() && t.array_bounds.is_empty() => matches!(
            name.as_str(),
            "trigger" | "void" | "record" | "event_trigger" | "internal"
        )
        .then(|| name.clone()),
        _ => None,
    };
    let text = plain.unwrap_or_else(|| cx.session.data_type(cx.catalog, t).to_string());
    if t.setof {
        format!("SETOF {text}")
    } else {
        text
    }
}

/// The functions an `ObjectWithArgs` names (`f(int, text)`, or `f` alone when its argument
/// list is left out), as positions: one with argument types, every overload without them.
pub(super) fn find_functions(cx: &Replay<'_>, object: &protobuf::ObjectWithArgs) -> Vec<usize> {
    let (schema, name) = split_name(&strings(&object.objname));
    let wanted: Option<Vec<String>> = (!object.args_unspecified).then(|| {
        object
            .objargs
            .iter()
            .filter_map(|a| match a.node.as_ref() {
                Some(NodeEnum::TypeName(t)) => {
                    Some(cx.session.data_type(cx.catalog, t).to_string())
                }
                _ => None,
            })
            .collect()
    });
    for s in cx.lookup_schemas(&schema) {
        let found: Vec<usize> = cx
            .catalog
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name == name && f.schema == s)
            .filter(|(_, f)| match &wanted {
                Some(types) => f.signature_types() == format!("({})", types.join(", ")),
                None => true,
            })
            .map(|(i, _)| i)
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// The function a name refers to for a trigger: the first one of that name through the
/// `search_path`, or (not created by the migrations, say by an extension) the name as written.
fn trigger_function(cx: &Replay<'_>, names: &[String]) -> QualifiedName {
    let (schema, name) = split_name(names);
    cx.lookup_schemas(&schema)
        .into_iter()
        .find(|s| {
            cx.catalog
                .functions
                .iter()
                .any(|f| f.name == name && f.schema == *s)
        })
        .map(|s| QualifiedName::new(s, &name))
        .unwrap_or_else(|| QualifiedName::new(cx.creation_schema(&schema), &name))
}

pub(super) fn create_trigger(cx: &mut Replay<'_>, s: &protobuf::CreateTrigStmt) -> Result<Applied> {
    let r = s
        .relation
        .as_ref()
        .ok_or_else(|| ReplayError::new("CREATE TRIGGER without a table"))?;
    let Some(table) = cx.find_table(&r.schemaname, &r.relname) else {
        // `INSTEAD OF` triggers belong to views, whose triggers are not modelled.
        if s.timing & tgtype::INSTEAD != 0
            || super::views::find_view(cx, &r.schemaname, &r.relname).is_some()
        {
            return Ok(Applied::Unmodelled("trigger on a view"));
        }
        return Err(does_not_exist("relation", &r.schemaname, &r.relname));
    };
    // The model holds a trigger's timing, events, level and function; a `WHEN` condition,
    // `UPDATE OF` columns and arguments are not kept (a strict replay refuses them).
    if !cx.lenient() && (s.when_clause.is_some() || !s.columns.is_empty() || !s.args.is_empty()) {
        return Ok(Applied::Unmodelled("trigger form"));
    }
    let function = trigger_function(cx, &strings(&s.funcname));
    let events = TriggerEvent::from_tgtype(s.events);
    let timing = TriggerTiming::from_tgtype(s.timing);
    let t = &mut cx.catalog.tables[table];
    let trigger = Trigger {
        name: s.trigname.clone(),
        timing,
        events,
        for_each_row: s.row,
        function,
    };
    match t.triggers.iter_mut().find(|x| x.name == s.trigname) {
        Some(existing) if s.replace => *existing = trigger,
        Some(_) => {
            return Err(ReplayError::new(format!(
                "trigger \"{}\" for relation \"{}\" already exists",
                s.trigname,
                t.display_name()
            )));
        }
        None => t.triggers.push(trigger),
    }
    Ok(Applied::Schema)
}
