//! `DO` blocks: they run when the migration runs, so the SQL they execute is schema change like
//! any other statement. The body is read with PostgreSQL's PL/pgSQL parser (through pg_query)
//! and its statements are replayed in order:
//!
//! - static SQL, and `EXECUTE` of a constant string (or of constants joined with `||`);
//! - `IF` guards on the system catalogs (`IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname
//!   = 'mood')`, `information_schema.columns`, `to_regclass(...) IS NULL`, ...) are answered
//!   from the replayed schema; a guard the replay cannot answer is taken to let the guarded
//!   statements run, which is what a migration written that way is for;
//! - statements inside a block with an `EXCEPTION` handler may fail without a note (the handler
//!   is there for that);
//! - loops run their body once.
//!
//! `EXECUTE` of a string computed at run time (`format(...)`, variables) cannot be replayed: it
//! is a note at its line. Function bodies are not read: they are not schema change until called.

use pg_query::NodeEnum;
use pg_query::protobuf;
use serde_json::Value;

use super::ast::{split_name, string_value, strings};
use super::{Applied, Location, Replay, ReplayError, Result};

pub(super) fn do_block(cx: &mut Replay<'_>, s: &protobuf::DoStmt) -> Result<Applied> {
    let mut body = None;
    let mut literal = -1;
    let mut language = "plpgsql".to_string();
    for arg in &s.args {
        let Some(NodeEnum::DefElem(d)) = arg.node.as_ref() else {
            continue;
        };
        match d.defname.as_str() {
            "as" => {
                body = d.arg.as_deref().and_then(string_value).map(str::to_string);
                literal = d.location;
            }
            "language" => {
                language = d
                    .arg
                    .as_deref()
                    .and_then(string_value)
                    .unwrap_or_default()
                    .to_lowercase();
            }
            _ => {}
        }
    }
    let Some(body) = body else {
        return Ok(Applied::NoSchemaChange("DO"));
    };
    if language != "plpgsql" {
        return Ok(Applied::Unmodelled("DO block in another language"));
    }
    // The body in a function the PL/pgSQL parser accepts, with a dollar quote the body does not
    // contain; its line numbers count from the body's first line.
    let mut tag = String::from("$do$");
    let mut n = 0;
    while body.contains(&tag) {
        n += 1;
        tag = format!("$do{n}$");
    }
    let function = format!(
        "CREATE FUNCTION pg_temp.do_block() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}"
    );
    let parsed = match pg_query::parse_plpgsql(&function) {
        Ok(parsed) => parsed,
        Err(e) => {
            cx.soft(ReplayError::new(format!(
                "cannot read the DO block's PL/pgSQL: {e}"
            )))?;
            return Ok(Applied::Schema);
        }
    };
    let action = parsed
        .get(0)
        .and_then(|f| f.get("PLpgSQL_function"))
        .and_then(|f| f.get("action"));
    let block = Block {
        literal,
        handled: false,
    };
    if let Some(action) = action {
        block.statement(cx, action)?;
    }
    Ok(Applied::Schema)
}

/// Where the statements being replayed are: the body's literal (for notes' lines), and whether
/// an `EXCEPTION` handler catches their failures.
#[derive(Clone, Copy)]
struct Block {
    literal: i32,
    handled: bool,
}

/// How a statement of a block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    /// It failed inside a handled block: the block stops and is undone.
    Failed,
}

impl Block {
    fn at(&self, line: usize) -> Option<Location> {
        (self.literal >= 0).then_some(Location {
            literal: self.literal,
            line,
        })
    }

    /// A failure at `line`: under an exception handler the block stops; otherwise a note (or
    /// the error, in a strict session) and the block goes on.
    fn fail(&self, cx: &mut Replay<'_>, error: ReplayError, line: usize) -> Result<Flow> {
        if self.handled {
            return Ok(Flow::Failed);
        }
        cx.soft(ReplayError {
            at: error.at.or(self.at(line)),
            ..error
        })?;
        Ok(Flow::Continue)
    }

    fn statements(&self, cx: &mut Replay<'_>, list: Option<&Value>) -> Result<Flow> {
        for statement in list.and_then(Value::as_array).into_iter().flatten() {
            if self.statement(cx, statement)? == Flow::Failed {
                return Ok(Flow::Failed);
            }
        }
        Ok(Flow::Continue)
    }

    fn statement(&self, cx: &mut Replay<'_>, statement: &Value) -> Result<Flow> {
        let Some((kind, s)) = statement.as_object().and_then(|o| o.iter().next()) else {
            return Ok(Flow::Continue);
        };
        let line = s.get("lineno").and_then(Value::as_u64).unwrap_or(1) as usize;
        match kind.as_str() {
            "PLpgSQL_stmt_block" if s.get("exceptions").is_some() => {
                // A block with a handler is a subtransaction: when a statement fails, everything
                // the block did is undone and the handler runs instead (its statements are not
                // replayed: handlers recover from errors, they do not build schema).
                let before = (cx.catalog.clone(), cx.session.notes.len());
                let saved = std::mem::replace(&mut cx.session.in_handler, true);
                let inner = Block {
                    handled: true,
                    ..*self
                };
                let flow = inner.statements(cx, s.get("body"));
                cx.session.in_handler = saved;
                if flow? == Flow::Failed {
                    *cx.catalog = before.0;
                    cx.session.notes.truncate(before.1);
                    cx.session.reset();
                }
                Ok(Flow::Continue)
            }
            "PLpgSQL_stmt_block" => self.statements(cx, s.get("body")),
            "PLpgSQL_stmt_execsql" => {
                let query = expr_query(s.get("sqlstmt"));
                self.run_sql(cx, &query, line)
            }
            "PLpgSQL_stmt_dynexecute" => {
                let expr = expr_query(s.get("query"));
                let computed = || {
                    ReplayError::new(format!(
                        "EXECUTE of SQL computed at run time is not replayed: {}",
                        shorten(&expr)
                    ))
                };
                match executed_sql(&expr) {
                    Executed::Constant(sql) => self.run_sql(cx, &sql, line),
                    Executed::Template(sql) => match template_effect(&sql) {
                        Some(statements) => self.run_nodes(cx, statements, line),
                        None => self.fail(cx, computed(), line),
                    },
                    Executed::Opaque => self.fail(cx, computed(), line),
                }
            }
            "PLpgSQL_stmt_if" => match guard(cx, &expr_query(s.get("cond"))) {
                Some(false) => {
                    for elsif in s
                        .get("elsif_list")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let Some(e) = elsif.get("PLpgSQL_if_elsif") else {
                            continue;
                        };
                        if guard(cx, &expr_query(e.get("cond"))) != Some(false) {
                            return self.statements(cx, e.get("stmts"));
                        }
                    }
                    self.statements(cx, s.get("else_body"))
                }
                // True, or a guard the replay cannot answer: the guarded DDL runs.
                _ => self.statements(cx, s.get("then_body")),
            },
            "PLpgSQL_stmt_case" => {
                // The first branch, as for a guard the replay cannot answer.
                let first = s
                    .get("case_when_list")
                    .and_then(Value::as_array)
                    .and_then(|l| l.first())
                    .and_then(|w| w.get("PLpgSQL_case_when"))
                    .and_then(|w| w.get("stmts"));
                self.statements(cx, first)
            }
            "PLpgSQL_stmt_loop"
            | "PLpgSQL_stmt_while"
            | "PLpgSQL_stmt_fori"
            | "PLpgSQL_stmt_fors"
            | "PLpgSQL_stmt_forc"
            | "PLpgSQL_stmt_foreach_a"
            | "PLpgSQL_stmt_dynfors" => self.statements(cx, s.get("body")),
            // Assignments, PERFORM, RAISE, RETURN, GET DIAGNOSTICS, ...: no schema change.
            _ => Ok(Flow::Continue),
        }
    }

    /// Replays SQL the block executes, statement by statement.
    fn run_sql(&self, cx: &mut Replay<'_>, sql: &str, line: usize) -> Result<Flow> {
        let parsed = match pgparse::parse(sql) {
            Ok(parsed) => parsed,
            Err(e) => {
                return self.fail(
                    cx,
                    ReplayError::new(format!("the DO block's SQL does not parse: {e}")),
                    line,
                );
            }
        };
        let nodes = parsed
            .stmts
            .into_iter()
            .filter_map(|raw| raw.stmt.and_then(|s| s.node))
            .collect();
        self.run_nodes(cx, nodes, line)
    }

    fn run_nodes(&self, cx: &mut Replay<'_>, nodes: Vec<NodeEnum>, line: usize) -> Result<Flow> {
        for node in nodes {
            if let Err(e) = cx.statement(&node)
                && self.fail(cx, e, line)? == Flow::Failed
            {
                return Ok(Flow::Failed);
            }
        }
        Ok(Flow::Continue)
    }
}

/// The SQL text of a `PLpgSQL_expr`.
fn expr_query(expr: Option<&Value>) -> String {
    expr.and_then(|e| e.get("PLpgSQL_expr"))
        .and_then(|e| e.get("query"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// What an `EXECUTE` runs, as far as its expression says.
enum Executed {
    /// String constants only (`'...'`, `$$...$$`, `E'...'`, joined with `||`).
    Constant(String),
    /// Constants around values computed at run time (variables, `quote_ident(...)`, the
    /// arguments of `format('...%I...', ...)`), each computed value written as [`HOLE`].
    Template(String),
    /// Nothing of the text is known (`EXECUTE some_variable`).
    Opaque,
}

/// Stands for a value computed at run time in an [`Executed::Template`]: an identifier, so the
/// template parses wherever a name (a role, a table) goes.
const HOLE: &str = "pg_replay_run_time_value";

fn executed_sql(expr: &str) -> Executed {
    let Ok(parsed) = pgparse::parse(&format!("SELECT {expr}")) else {
        return Executed::Opaque;
    };
    let target = parsed
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| match s.node.as_ref() {
            Some(NodeEnum::SelectStmt(select)) => select.target_list.first(),
            _ => None,
        })
        .and_then(|t| match t.node.as_ref() {
            Some(NodeEnum::ResTarget(target)) => target.val.as_deref(),
            _ => None,
        });
    let Some(target) = target else {
        return Executed::Opaque;
    };
    /// The text, and whether all of it is constant; `None` when nothing of it is known.
    fn text(node: &protobuf::Node) -> Option<(String, bool)> {
        match node.node.as_ref()? {
            NodeEnum::AConst(c) => match &c.val {
                Some(protobuf::a_const::Val::Sval(s)) => Some((s.sval.clone(), true)),
                _ => None,
            },
            NodeEnum::AExpr(e) if e.name.last().and_then(string_value) == Some("||") => {
                let part = |n: Option<&protobuf::Node>| {
                    n.and_then(text)
                        .unwrap_or_else(|| (HOLE.to_string(), false))
                };
                let (l, lc) = part(e.lexpr.as_deref());
                let (r, rc) = part(e.rexpr.as_deref());
                Some((l + &r, lc && rc))
            }
            NodeEnum::TypeCast(t) => text(t.arg.as_deref()?),
            NodeEnum::FuncCall(f)
                if strings(&f.funcname).last().map(String::as_str) == Some("format") =>
            {
                let (template, constant) = text(f.args.first()?)?;
                let arguments: Vec<Option<String>> = f.args[1..]
                    .iter()
                    .map(|a| text(a).filter(|(_, c)| *c).map(|(v, _)| v))
                    .collect();
                let (filled, complete) = fill_format(&template, &arguments);
                Some((filled, constant && complete))
            }
            _ => None,
        }
    }
    match text(target) {
        Some((sql, true)) => Executed::Constant(sql),
        Some((sql, false)) => Executed::Template(sql),
        None => Executed::Opaque,
    }
}

/// A `format()` template filled as PostgreSQL fills it (`%I` quoted as an identifier, `%L` as
/// a literal, `%s` as is, `%2$I` by position), with [`HOLE`] for each argument not known before
/// run time; and whether every argument was known.
fn fill_format(template: &str, arguments: &[Option<String>]) -> (String, bool) {
    let mut out = String::new();
    let mut complete = true;
    let mut next = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // `n$` picks the argument; flags and width are not kept.
        let mut digits = String::new();
        while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
            digits.push(d);
            chars.next();
        }
        if chars.peek() == Some(&'$') {
            chars.next();
            if let Ok(position) = digits.parse::<usize>() {
                next = position.saturating_sub(1);
            }
        }
        while chars
            .peek()
            .is_some_and(|c| matches!(c, '-' | '*') || c.is_ascii_digit())
        {
            chars.next();
        }
        let conversion = chars.next();
        let value = arguments.get(next).cloned().flatten();
        next += 1;
        match (value, conversion) {
            (Some(v), Some('I')) => out.push_str(&crate::ident::quote(&v)),
            (Some(v), Some('L')) => out.push_str(&crate::ident::quote_literal(&v)),
            (Some(v), _) => out.push_str(&v),
            (None, _) => {
                complete = false;
                out.push_str(HOLE);
            }
        }
    }
    (out, complete)
}

/// The statements of an `EXECUTE`d template to replay, or `None` when a value computed at run
/// time names an object or shapes a definition. Statements that only concern roles (creating
/// them, granting to them, owners) are left out: the model keeps no role names it could not
/// know. The others replay as written when their computed values sit where they change nothing
/// modelled (a string literal, say).
fn template_effect(sql: &str) -> Option<Vec<NodeEnum>> {
    let parsed = pgparse::parse(sql).ok()?;
    let mut replay = Vec::new();
    for raw in parsed.stmts {
        let Some(node) = raw.stmt.and_then(|s| s.node) else {
            continue;
        };
        let holed = |n: &NodeEnum| format!("{n:?}").contains(HOLE);
        match &node {
            NodeEnum::CreateRoleStmt(_)
            | NodeEnum::AlterRoleStmt(_)
            | NodeEnum::AlterRoleSetStmt(_)
            | NodeEnum::DropRoleStmt(_)
            | NodeEnum::GrantRoleStmt(_)
            | NodeEnum::AlterOwnerStmt(_)
            | NodeEnum::AlterDefaultPrivilegesStmt(_) => {}
            NodeEnum::GrantStmt(g)
                if !g.objects.iter().any(|o| o.node.as_ref().is_some_and(holed)) => {}
            // `ALTER TABLE ... OWNER TO role`.
            NodeEnum::AlterTableStmt(a)
                if a.cmds.iter().all(|c| {
                    matches!(c.node.as_ref(), Some(NodeEnum::AlterTableCmd(cmd))
                        if cmd.subtype == protobuf::AlterTableType::AtChangeOwner as i32)
                }) && !a
                    .relation
                    .as_ref()
                    .is_some_and(|r| r.relname == HOLE || r.schemaname == HOLE) => {}
            other if holed(other) => return None,
            _ => replay.push(node),
        }
    }
    Some(replay)
}

/// The value of an `IF` condition on the system catalogs, answered from the replayed schema;
/// `None` when the replay cannot tell.
fn guard(cx: &mut Replay<'_>, condition: &str) -> Option<bool> {
    let parsed = pgparse::parse(&format!("SELECT ({condition})")).ok()?;
    let Some(NodeEnum::SelectStmt(select)) = parsed.stmts.first()?.stmt.as_ref()?.node.as_ref()
    else {
        return None;
    };
    let Some(NodeEnum::ResTarget(target)) = select.target_list.first()?.node.as_ref() else {
        return None;
    };
    truth(cx, target.val.as_deref()?)
}

fn truth(cx: &mut Replay<'_>, node: &protobuf::Node) -> Option<bool> {
    use protobuf::{BoolExprType, NullTestType, SubLinkType};
    match node.node.as_ref()? {
        NodeEnum::BoolExpr(b) => {
            let values: Vec<Option<bool>> = b.args.iter().map(|a| truth(cx, a)).collect();
            match BoolExprType::try_from(b.boolop).ok()? {
                BoolExprType::NotExpr => values.first().copied().flatten().map(|v| !v),
                BoolExprType::AndExpr => {
                    if values.contains(&Some(false)) {
                        Some(false)
                    } else {
                        values.into_iter().collect::<Option<Vec<_>>>().map(|_| true)
                    }
                }
                BoolExprType::OrExpr => {
                    if values.contains(&Some(true)) {
                        Some(true)
                    } else {
                        values
                            .into_iter()
                            .collect::<Option<Vec<_>>>()
                            .map(|_| false)
                    }
                }
                _ => None,
            }
        }
        NodeEnum::SubLink(s)
            if SubLinkType::try_from(s.sub_link_type).ok()? == SubLinkType::ExistsSublink =>
        {
            match s.subselect.as_deref()?.node.as_ref()? {
                NodeEnum::SelectStmt(q) => catalog_query(cx, q),
                _ => None,
            }
        }
        // `to_regclass('name') IS [NOT] NULL`, `to_regtype(...)`.
        NodeEnum::NullTest(t) => {
            let NodeEnum::FuncCall(f) = t.arg.as_deref()?.node.as_ref()? else {
                return None;
            };
            let function = strings(&f.funcname).last()?.clone();
            let argument = literal(f.args.first()?)?;
            let names: Vec<String> = argument
                .split('.')
                .map(|s| s.trim_matches('"').to_string())
                .collect();
            let (schema, name) = split_name(&names);
            let exists = match function.as_str() {
                "to_regclass" => {
                    cx.relation_exists(&cx.creation_schema(&schema), &name)
                        || cx.find_table(&schema, &name).is_some()
                }
                "to_regtype" => super::types::find_type(cx, &schema, &name).is_some(),
                "to_regnamespace" => cx.catalog.has_schema(&name),
                _ => return None,
            };
            let is_null = NullTestType::try_from(t.nulltesttype).ok()? == NullTestType::IsNull;
            Some(if is_null { !exists } else { exists })
        }
        _ => None,
    }
}

/// `EXISTS (SELECT ... FROM <catalog> WHERE name = '...' AND ...)`: whether the replayed schema
/// has such an object.
fn catalog_query(cx: &mut Replay<'_>, q: &protobuf::SelectStmt) -> Option<bool> {
    let mut relations = Vec::new();
    for item in &q.from_clause {
        collect_relations(item, &mut relations);
    }
    let mut facts: Vec<(String, String)> = Vec::new();
    if let Some(w) = q.where_clause.as_deref() {
        equalities(w, &mut facts);
    }
    let fact = |names: &[&str]| {
        facts
            .iter()
            .find(|(column, _)| names.contains(&column.as_str()))
            .map(|(_, v)| v.clone())
    };
    let schema = fact(&[
        "nspname",
        "table_schema",
        "schemaname",
        "schema_name",
        "constraint_schema",
    ])
    .unwrap_or_default();
    let main = relations.first()?.as_str();
    Some(match main {
        "pg_type" => {
            let name = fact(&["typname"])?;
            if let Some(label) = fact(&["enumlabel"]) {
                let at = super::types::find_type(cx, &schema, &name)?;
                match at {
                    super::types::TypeAt::Enum(i) => cx.catalog.enums[i].values.contains(&label),
                    _ => false,
                }
            } else {
                super::types::find_type(cx, &schema, &name).is_some()
                    || cx.find_table(&schema, &name).is_some()
            }
        }
        "pg_enum" => {
            let label = fact(&["enumlabel"])?;
            let name = fact(&["typname"]);
            cx.catalog
                .enums
                .iter()
                .any(|e| name.as_ref().is_none_or(|n| *n == e.name) && e.values.contains(&label))
        }
        "pg_class" => {
            let name = fact(&["relname"])?;
            let schemas = if schema.is_empty() {
                cx.lookup_schemas("")
            } else {
                vec![schema.clone()]
            };
            schemas.iter().any(|s| cx.relation_exists(s, &name))
        }
        "pg_tables" | "tables" => {
            let name = fact(&["tablename", "table_name"])?;
            match fact(&["column_name", "attname"]) {
                Some(_) => return None,
                None => cx.find_table(&schema, &name).is_some(),
            }
        }
        "columns" | "pg_attribute" => {
            let table = fact(&["table_name", "relname"])?;
            let column = fact(&["column_name", "attname"])?;
            let at = cx.find_table(&schema, &table)?;
            cx.catalog.tables[at].column(&column).is_some()
        }
        "pg_constraint" | "table_constraints" => {
            let name = fact(&["conname", "constraint_name"])?;
            cx.catalog.tables.iter().any(|t| {
                (schema.is_empty() || t.schema == schema)
                    && (t.checks.iter().any(|c| c.name == name)
                        || t.foreign_keys.iter().any(|f| f.name == name)
                        || t.uniques.iter().any(|u| u.name == name)
                        || t.primary_key.as_ref().is_some_and(|p| p.name == name)
                        || t.indexes.iter().any(|i| i.name == name))
            })
        }
        "pg_indexes" => {
            let name = fact(&["indexname"])?;
            let schemas = if schema.is_empty() {
                cx.lookup_schemas("")
            } else {
                vec![schema.clone()]
            };
            schemas.iter().any(|s| cx.index_owner(s, &name).is_some())
        }
        "pg_namespace" | "schemata" => cx.catalog.has_schema(&fact(&["nspname", "schema_name"])?),
        "pg_extension" => {
            let name = fact(&["extname"])?;
            cx.catalog.extensions.iter().any(|e| e.name == name)
        }
        "pg_proc" | "routines" => {
            let name = fact(&["proname", "routine_name"])?;
            cx.catalog.functions.iter().any(|f| f.name == name)
        }
        "pg_trigger" | "triggers" => {
            let name = fact(&["tgname", "trigger_name"])?;
            cx.catalog
                .tables
                .iter()
                .any(|t| t.triggers.iter().any(|tr| tr.name == name))
        }
        "pg_views" | "views" | "pg_matviews" => {
            let name = fact(&["viewname", "table_name", "matviewname"])?;
            cx.catalog.views.iter().any(|v| v.name == name)
        }
        "pg_sequences" | "sequences" => {
            let name = fact(&["sequencename", "sequence_name"])?;
            cx.catalog.sequences.iter().any(|s| s.name == name)
        }
        // Roles, settings and the like are not in the schema.
        _ => return None,
    })
}

fn collect_relations(item: &protobuf::Node, out: &mut Vec<String>) {
    match item.node.as_ref() {
        Some(NodeEnum::RangeVar(r)) => out.push(r.relname.clone()),
        Some(NodeEnum::JoinExpr(j)) => {
            for side in [j.larg.as_deref(), j.rarg.as_deref()].into_iter().flatten() {
                collect_relations(side, out);
            }
        }
        _ => {}
    }
}

/// `column = 'literal'` facts of a `WHERE` clause (through `AND`s, joins' conditions aside).
fn equalities(node: &protobuf::Node, out: &mut Vec<(String, String)>) {
    match node.node.as_ref() {
        Some(NodeEnum::BoolExpr(b)) if b.boolop == protobuf::BoolExprType::AndExpr as i32 => {
            for a in &b.args {
                equalities(a, out);
            }
        }
        Some(NodeEnum::AExpr(e)) if e.name.last().and_then(string_value) == Some("=") => {
            let (Some(l), Some(r)) = (e.lexpr.as_deref(), e.rexpr.as_deref()) else {
                return;
            };
            for (column, value) in [(l, r), (r, l)] {
                if let (Some(c), Some(v)) = (column_name(column), literal(value)) {
                    out.push((c, v));
                }
            }
        }
        _ => {}
    }
}

fn column_name(node: &protobuf::Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::ColumnRef(c) => c.fields.last().and_then(string_value).map(str::to_string),
        NodeEnum::TypeCast(t) => column_name(t.arg.as_deref()?),
        _ => None,
    }
}

fn literal(node: &protobuf::Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::AConst(c) => match &c.val {
            Some(protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::TypeCast(t) => literal(t.arg.as_deref()?),
        _ => None,
    }
}

fn shorten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        format!("{}...", one_line.chars().take(57).collect::<String>())
    } else {
        one_line
    }
}
