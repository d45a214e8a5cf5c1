//! Functions and triggers.

use pg_query::NodeEnum;
use pg_query::protobuf;

use super::ast::{data_type, object_name, relation_name, string_value, strings};
use super::{Applied, Replay, ReplayError, Result};
use crate::catalog::*;

pub(super) fn create_function(
    cx: &mut Replay<'_>,
    s: &protobuf::CreateFunctionStmt,
) -> Result<Applied> {
    let name = object_name(&strings(&s.funcname))?;
    let mut arguments = Vec::new();
    for p in &s.parameters {
        let Some(NodeEnum::FunctionParameter(p)) = p.node.as_ref() else {
            return Ok(Applied::Unmodelled("function parameter form"));
        };
        let mode = protobuf::FunctionParameterMode::try_from(p.mode);
        let plain_in = matches!(
            mode,
            Ok(protobuf::FunctionParameterMode::FuncParamIn
                | protobuf::FunctionParameterMode::FuncParamDefault)
        );
        if !plain_in || p.defexpr.is_some() || p.name.is_empty() {
            return Ok(Applied::Unmodelled(
                "function with OUT, VARIADIC, unnamed or defaulted parameters",
            ));
        }
        arguments.push(FunctionArgument {
            name: p.name.clone(),
            data_type: data_type(cx.catalog, p.arg_type.as_ref())?,
        });
    }
    let mut language = String::new();
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
                    Some(NodeEnum::List(list)) => list
                        .items
                        .first()
                        .and_then(string_value)
                        .map(str::to_string),
                    _ => None,
                })
            }
            _ => {}
        }
    }
    let returns = match &s.return_type {
        Some(t) => {
            let names = strings(&t.names);
            names.last().cloned().unwrap_or_default()
        }
        None => String::new(),
    };
    let mut function = Function {
        name: name.clone(),
        arguments,
        returns,
        language,
        body: body.unwrap_or_default(),
        security_definer,
        // PostgreSQL grants EXECUTE on a new function to PUBLIC.
        execute: vec![PUBLIC.to_string()],
    };
    match cx.catalog.functions.iter_mut().find(|f| f.name == name) {
        // CREATE OR REPLACE keeps the privileges.
        Some(existing) if s.replace => {
            function.execute = std::mem::take(&mut existing.execute);
            *existing = function;
        }
        Some(_) => {
            return Err(ReplayError::new(format!(
                "function \"{name}\" already exists"
            )));
        }
        None => cx.catalog.functions.push(function),
    }
    Ok(Applied::Schema)
}

pub(super) fn create_trigger(cx: &mut Replay<'_>, s: &protobuf::CreateTrigStmt) -> Result<Applied> {
    // Bits of PostgreSQL's pg_trigger.tgtype.
    const BEFORE: i32 = 1 << 1;
    const INSERT: i32 = 1 << 2;
    const DELETE: i32 = 1 << 3;
    const UPDATE: i32 = 1 << 4;
    const TRUNCATE: i32 = 1 << 5;
    const INSTEAD: i32 = 1 << 6;
    if s.timing & INSTEAD != 0
        || s.when_clause.is_some()
        || !s.columns.is_empty()
        || !s.args.is_empty()
    {
        return Ok(Applied::Unmodelled("trigger form"));
    }
    let table_name = relation_name(s.relation.as_ref())?;
    let function = object_name(&strings(&s.funcname))?;
    let mut events = Vec::new();
    for (bit, event) in [
        (INSERT, TriggerEvent::Insert),
        (UPDATE, TriggerEvent::Update),
        (DELETE, TriggerEvent::Delete),
        (TRUNCATE, TriggerEvent::Truncate),
    ] {
        if s.events & bit != 0 {
            events.push(event);
        }
    }
    let timing = if s.timing & BEFORE != 0 {
        TriggerTiming::Before
    } else {
        TriggerTiming::After
    };
    let table = cx.table_mut(&table_name)?;
    let trigger = Trigger {
        name: s.trigname.clone(),
        timing,
        events,
        for_each_row: s.row,
        function,
    };
    match table.triggers.iter_mut().find(|t| t.name == s.trigname) {
        Some(existing) if s.replace => *existing = trigger,
        Some(_) => {
            return Err(ReplayError::new(format!(
                "trigger \"{}\" for relation \"{table_name}\" already exists",
                s.trigname
            )));
        }
        None => table.triggers.push(trigger),
    }
    Ok(Applied::Schema)
}
