//! Relations defined by a query: views, materialized views, `CREATE TABLE AS` and `SELECT
//! INTO`. Their columns are named as PostgreSQL names a query's result columns; their types
//! follow where the query says them (a column of a known table, a literal, a cast, a few
//! well-known functions) and are [`DataType::Unknown`] elsewhere.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ObjectType, SetOperation};

use super::ast::{string_value, strings};
use super::tables::{RelationKind, claim_relation_name, created_relation};
use super::{Applied, Replay, ReplayError, Result};
use crate::catalog::*;
use crate::types::DataType;

pub(super) fn create_view(cx: &mut Replay<'_>, s: &protobuf::ViewStmt) -> Result<Applied> {
    let (r, schema) = created_relation(cx, s.view.as_ref(), "CREATE VIEW")?;
    let Some(NodeEnum::SelectStmt(select)) = s.query.as_deref().and_then(|q| q.node.as_ref())
    else {
        return Err(ReplayError::new("CREATE VIEW without a query"));
    };
    let mut columns = query_columns(cx, select);
    rename_columns(&mut columns, &strings(&s.aliases));
    let view = View {
        schema: schema.clone(),
        name: r.relname.clone(),
        materialized: false,
        columns,
        query: print_query(select),
        indexes: Vec::new(),
        comment: None,
        depends_on: dependencies(cx, select),
    };
    match find_view(cx, &schema, &r.relname) {
        Some(at) if s.replace => {
            let existing = &mut cx.catalog.views[at];
            let comment = existing.comment.take();
            *existing = View { comment, ..view };
        }
        _ => {
            if claim_relation_name(cx, &schema, &r.relname, false, RelationKind::View)? {
                cx.catalog.views.push(view);
            }
        }
    }
    Ok(Applied::Schema)
}

pub(super) fn create_table_as(
    cx: &mut Replay<'_>,
    s: &protobuf::CreateTableAsStmt,
) -> Result<Applied> {
    let into = s
        .into
        .as_deref()
        .ok_or_else(|| ReplayError::new("CREATE TABLE AS without a name"))?;
    let materialized = ObjectType::try_from(s.objtype) == Ok(ObjectType::ObjectMatview);
    let select = match s.query.as_deref().and_then(|q| q.node.as_ref()) {
        Some(NodeEnum::SelectStmt(select)) => Some(select.as_ref()),
        _ => None,
    };
    into_relation(cx, into, select, materialized, s.if_not_exists)
}

/// `SELECT ... INTO t`, and `SELECT set_config('search_path', ...)` (what `pg_dump` writes);
/// any other `SELECT` changes no schema.
pub(super) fn select(cx: &mut Replay<'_>, s: &protobuf::SelectStmt) -> Result<Applied> {
    if let Some(into) = s.into_clause.as_deref() {
        return into_relation(cx, into, Some(s), false, false);
    }
    for target in &s.target_list {
        let Some(NodeEnum::ResTarget(t)) = target.node.as_ref() else {
            continue;
        };
        let Some(NodeEnum::FuncCall(f)) = t.val.as_deref().and_then(|v| v.node.as_ref()) else {
            continue;
        };
        if strings(&f.funcname).last().map(String::as_str) != Some("set_config") {
            continue;
        }
        let constant = |n: Option<&protobuf::Node>| match n.and_then(|n| n.node.as_ref()) {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
                _ => None,
            },
            _ => None,
        };
        if constant(f.args.first()).as_deref() == Some("search_path")
            && let Some(value) = constant(f.args.get(1))
        {
            let schemas = super::schemas::split_search_path(&value);
            super::schemas::set_search_path(cx, schemas);
        }
    }
    Ok(Applied::NoSchemaChange("SELECT"))
}

/// The table (or materialized view) an `INTO` clause creates from a query.
fn into_relation(
    cx: &mut Replay<'_>,
    into: &protobuf::IntoClause,
    select: Option<&protobuf::SelectStmt>,
    materialized: bool,
    if_not_exists: bool,
) -> Result<Applied> {
    let (r, schema) = created_relation(cx, into.rel.as_ref(), "CREATE TABLE AS")?;
    let kind = if materialized {
        RelationKind::View
    } else {
        RelationKind::Table
    };
    if !claim_relation_name(cx, &schema, &r.relname, if_not_exists, kind)? {
        return Ok(Applied::Schema);
    }
    let mut columns = select.map(|s| query_columns(cx, s)).unwrap_or_default();
    rename_columns(&mut columns, &strings(&into.col_names));
    if materialized {
        let depends_on = select.map(|s| dependencies(cx, s)).unwrap_or_default();
        cx.catalog.views.push(View {
            schema,
            name: r.relname.clone(),
            materialized: true,
            columns,
            query: select.map(print_query).unwrap_or_default(),
            indexes: Vec::new(),
            comment: None,
            depends_on,
        });
    } else {
        let mut table = Table::new(schema, &r.relname);
        table.columns = columns
            .into_iter()
            .map(|c| Column::new(c.name, c.data_type))
            .collect();
        cx.catalog.tables.push(table);
    }
    Ok(Applied::Schema)
}

/// The position of view `schema.name` (`schema` empty: through the `search_path`).
pub(super) fn find_view(cx: &Replay<'_>, schema: &str, name: &str) -> Option<usize> {
    cx.lookup_schemas(schema).iter().find_map(|s| {
        cx.catalog
            .views
            .iter()
            .position(|v| v.name == name && v.schema == *s)
    })
}

/// The tables and views a query reads (common table expressions aside), resolved as the server
/// resolves them when the view is created.
fn dependencies(cx: &Replay<'_>, select: &protobuf::SelectStmt) -> Vec<QualifiedName> {
    let node = NodeEnum::SelectStmt(Box::new(select.clone()));
    let mut ctes = Vec::new();
    let mut out: Vec<QualifiedName> = Vec::new();
    for (n, _, _, _) in node.nodes() {
        match n {
            pg_query::NodeRef::CommonTableExpr(c) => ctes.push(c.ctename.clone()),
            pg_query::NodeRef::RangeVar(r) => {
                if r.schemaname.is_empty() && ctes.contains(&r.relname) {
                    continue;
                }
                let found = cx.lookup_schemas(&r.schemaname).into_iter().find_map(|s| {
                    let name = QualifiedName::new(s, &r.relname);
                    (cx.session.table(cx.catalog, &name).is_some()
                        || cx.catalog.view_named(&name).is_some())
                    .then_some(name)
                });
                if let Some(name) = found
                    && !out.contains(&name)
                {
                    out.push(name);
                }
            }
            _ => {}
        }
    }
    out
}

/// Drops the views that read `relation`, and those reading them, recursively (`DROP ...
/// CASCADE`).
pub(super) fn drop_dependent_views(cx: &mut Replay<'_>, relation: &QualifiedName) {
    let mut gone = vec![relation.clone()];
    while let Some(name) = gone.pop() {
        let (dropped, kept): (Vec<View>, Vec<View>) = std::mem::take(&mut cx.catalog.views)
            .into_iter()
            .partition(|v| v.depends_on.contains(&name));
        cx.catalog.views = kept;
        gone.extend(dropped.iter().map(View::qualified_name));
    }
}

/// Column names given in the statement override the query's, in order.
fn rename_columns(columns: &mut [ViewColumn], names: &[String]) {
    for (column, name) in columns.iter_mut().zip(names) {
        column.name.clone_from(name);
    }
}

fn print_query(select: &protobuf::SelectStmt) -> String {
    NodeEnum::SelectStmt(Box::new(select.clone()))
        .deparse(Default::default())
        .unwrap_or_default()
}

/// The relations a query reads, by the name it calls them, with their columns.
type Scope = Vec<(String, Vec<ViewColumn>)>;

/// The result columns of a query.
fn query_columns(cx: &Replay<'_>, s: &protobuf::SelectStmt) -> Vec<ViewColumn> {
    if SetOperation::try_from(s.op).is_ok_and(|op| op != SetOperation::SetopNone) {
        return s
            .larg
            .as_deref()
            .map(|l| query_columns(cx, l))
            .unwrap_or_default();
    }
    let mut scope: Scope = Vec::new();
    if let Some(with) = &s.with_clause {
        for cte in &with.ctes {
            if let Some(NodeEnum::CommonTableExpr(c)) = cte.node.as_ref()
                && let Some(NodeEnum::SelectStmt(q)) =
                    c.ctequery.as_deref().and_then(|q| q.node.as_ref())
            {
                let mut columns = query_columns(cx, q);
                rename_columns(&mut columns, &strings(&c.aliascolnames));
                scope.push((c.ctename.clone(), columns));
            }
        }
    }
    for item in &s.from_clause {
        from_item(cx, item, &mut scope);
    }
    if let Some(first) = s.values_lists.first()
        && let Some(NodeEnum::List(row)) = first.node.as_ref()
    {
        return row
            .items
            .iter()
            .enumerate()
            .map(|(i, v)| ViewColumn {
                name: format!("column{}", i + 1),
                data_type: infer(cx, &scope, v),
            })
            .collect();
    }
    let mut out = Vec::new();
    for target in &s.target_list {
        let Some(NodeEnum::ResTarget(t)) = target.node.as_ref() else {
            continue;
        };
        let Some(value) = t.val.as_deref() else {
            continue;
        };
        if let Some(NodeEnum::ColumnRef(c)) = value.node.as_ref()
            && matches!(
                c.fields.last().and_then(|f| f.node.as_ref()),
                Some(NodeEnum::AStar(_))
            )
        {
            let relation = c.fields.first().and_then(string_value);
            for (name, columns) in &scope {
                if relation.is_none_or(|r| r == name) {
                    out.extend(columns.iter().cloned());
                }
            }
            continue;
        }
        let name = if t.name.is_empty() {
            figure_column_name(value).unwrap_or_else(|| "?column?".to_string())
        } else {
            t.name.clone()
        };
        out.push(ViewColumn {
            name,
            data_type: infer(cx, &scope, value),
        });
    }
    out
}

fn from_item(cx: &Replay<'_>, item: &protobuf::Node, scope: &mut Scope) {
    match item.node.as_ref() {
        Some(NodeEnum::RangeVar(r)) => {
            let mut columns = relation_columns(cx, r);
            let name = match &r.alias {
                Some(alias) => {
                    rename_columns(&mut columns, &strings(&alias.colnames));
                    alias.aliasname.clone()
                }
                None => r.relname.clone(),
            };
            scope.push((name, columns));
        }
        Some(NodeEnum::JoinExpr(j)) => {
            for side in [j.larg.as_deref(), j.rarg.as_deref()].into_iter().flatten() {
                from_item(cx, side, scope);
            }
        }
        Some(NodeEnum::RangeSubselect(sub)) => {
            if let Some(NodeEnum::SelectStmt(q)) =
                sub.subquery.as_deref().and_then(|q| q.node.as_ref())
            {
                let mut columns = query_columns(cx, q);
                let name = match &sub.alias {
                    Some(alias) => {
                        rename_columns(&mut columns, &strings(&alias.colnames));
                        alias.aliasname.clone()
                    }
                    None => String::new(),
                };
                scope.push((name, columns));
            }
        }
        _ => {}
    }
}

/// The columns of a table, view or CTE a query names (none when it is unknown).
fn relation_columns(cx: &Replay<'_>, r: &protobuf::RangeVar) -> Vec<ViewColumn> {
    let schemas = cx.lookup_schemas(&r.schemaname);
    for s in &schemas {
        let name = QualifiedName::new(s, &r.relname);
        if let Some(t) = cx.session.table(cx.catalog, &name) {
            return t
                .columns
                .iter()
                .map(|c| ViewColumn {
                    name: c.name.clone(),
                    data_type: c.data_type.clone(),
                })
                .collect();
        }
        if let Some(v) = cx.catalog.view_named(&name) {
            return v.columns.clone();
        }
    }
    Vec::new()
}

/// The type of a result expression, where the query says it.
fn infer(cx: &Replay<'_>, scope: &Scope, node: &protobuf::Node) -> DataType {
    use protobuf::a_const::Val;
    match node.node.as_ref() {
        Some(NodeEnum::ColumnRef(c)) => {
            let fields: Vec<&str> = c.fields.iter().filter_map(string_value).collect();
            let (relation, column) = match fields.as_slice() {
                [column] => (None, *column),
                [.., relation, column] => (Some(*relation), *column),
                [] => return DataType::Unknown,
            };
            scope
                .iter()
                .filter(|(name, _)| relation.is_none_or(|r| r == name))
                .find_map(|(_, columns)| columns.iter().find(|c| c.name == column))
                .map_or(DataType::Unknown, |c| c.data_type.clone())
        }
        Some(NodeEnum::TypeCast(t)) => match &t.type_name {
            Some(type_name) => cx.session.data_type(cx.catalog, type_name),
            None => DataType::Unknown,
        },
        Some(NodeEnum::AConst(c)) => match &c.val {
            Some(Val::Ival(_)) => DataType::Integer,
            Some(Val::Fval(_)) => DataType::Numeric(None),
            Some(Val::Sval(_)) => DataType::Text,
            Some(Val::Boolval(_)) => DataType::Boolean,
            _ => DataType::Unknown,
        },
        Some(NodeEnum::CoalesceExpr(e)) => first_known(cx, scope, &e.args),
        Some(NodeEnum::MinMaxExpr(e)) => first_known(cx, scope, &e.args),
        Some(NodeEnum::CaseExpr(e)) => {
            let results: Vec<protobuf::Node> = e
                .args
                .iter()
                .filter_map(|w| match w.node.as_ref() {
                    Some(NodeEnum::CaseWhen(w)) => w.result.as_deref().cloned(),
                    _ => None,
                })
                .chain(e.defresult.as_deref().cloned())
                .collect();
            first_known(cx, scope, &results)
        }
        Some(NodeEnum::BoolExpr(_) | NodeEnum::NullTest(_) | NodeEnum::BooleanTest(_)) => {
            DataType::Boolean
        }
        Some(NodeEnum::SqlvalueFunction(f)) => {
            use protobuf::SqlValueFunctionOp as Op;
            match Op::try_from(f.op) {
                Ok(Op::SvfopCurrentDate) => DataType::Date,
                Ok(Op::SvfopCurrentTimestamp | Op::SvfopCurrentTimestampN) => {
                    DataType::Timestamptz(None)
                }
                Ok(Op::SvfopLocaltimestamp | Op::SvfopLocaltimestampN) => DataType::Timestamp(None),
                _ => DataType::Unknown,
            }
        }
        Some(NodeEnum::FuncCall(f)) => {
            let name = strings(&f.funcname).last().cloned().unwrap_or_default();
            match name.as_str() {
                "now" | "clock_timestamp" | "statement_timestamp" | "transaction_timestamp" => {
                    DataType::Timestamptz(None)
                }
                "count" | "row_number" | "rank" | "dense_rank" => DataType::BigInt,
                "gen_random_uuid" | "uuid_generate_v4" => DataType::Uuid,
                "lower" | "upper" | "concat" | "concat_ws" | "btrim" | "ltrim" | "rtrim"
                | "substr" | "substring" | "replace" | "format" | "string_agg" => DataType::Text,
                "jsonb_build_object" | "jsonb_build_array" | "jsonb_agg" | "jsonb_object_agg"
                | "to_jsonb" | "jsonb_set" | "jsonb_strip_nulls" => DataType::Jsonb,
                "json_build_object" | "json_build_array" | "json_agg" | "to_json" => DataType::Json,
                "array_agg" => match f.args.first() {
                    Some(arg) => match infer(cx, scope, arg) {
                        DataType::Unknown => DataType::Unknown,
                        element => DataType::Array(Box::new(element)),
                    },
                    None => DataType::Unknown,
                },
                "min" | "max" | "first_value" | "last_value" | "lag" | "lead" => f
                    .args
                    .first()
                    .map_or(DataType::Unknown, |a| infer(cx, scope, a)),
                _ => DataType::Unknown,
            }
        }
        Some(NodeEnum::AExpr(e)) => {
            let operator = e.name.last().and_then(string_value).unwrap_or_default();
            let left = || {
                e.lexpr
                    .as_deref()
                    .map_or(DataType::Unknown, |l| infer(cx, scope, l))
            };
            match operator {
                "->" | "#>" | "-" | "#-" if left().is_jsonb() => DataType::Jsonb,
                "->>" | "#>>" => DataType::Text,
                "=" | "<>" | "<" | ">" | "<=" | ">=" | "@>" | "<@" | "?" | "~~" | "~" => {
                    DataType::Boolean
                }
                _ => DataType::Unknown,
            }
        }
        _ => DataType::Unknown,
    }
}

fn first_known(cx: &Replay<'_>, scope: &Scope, nodes: &[protobuf::Node]) -> DataType {
    nodes
        .iter()
        .map(|n| infer(cx, scope, n))
        .find(|t| *t != DataType::Unknown)
        .unwrap_or(DataType::Unknown)
}

/// The name PostgreSQL gives a result column written without `AS` (`FigureColname`): a
/// column's own name, a function's name, `case`, `coalesce`, ...; `None` for `?column?`.
pub(super) fn figure_column_name(node: &protobuf::Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::ColumnRef(c) => c.fields.last().and_then(string_value).map(str::to_string),
        NodeEnum::FuncCall(f) => strings(&f.funcname).last().cloned(),
        NodeEnum::TypeCast(t) => t.arg.as_deref().and_then(figure_column_name).or_else(|| {
            t.type_name
                .as_ref()
                .and_then(|n| strings(&n.names).last().cloned())
        }),
        NodeEnum::AIndirection(i) => i
            .indirection
            .iter()
            .rev()
            .find_map(|n| string_value(n).map(str::to_string))
            .or_else(|| i.arg.as_deref().and_then(figure_column_name)),
        NodeEnum::CaseExpr(_) => Some("case".to_string()),
        NodeEnum::CoalesceExpr(_) => Some("coalesce".to_string()),
        NodeEnum::NullIfExpr(_) => Some("nullif".to_string()),
        NodeEnum::MinMaxExpr(m) => Some(
            if m.op == protobuf::MinMaxOp::IsGreatest as i32 {
                "greatest"
            } else {
                "least"
            }
            .to_string(),
        ),
        NodeEnum::AArrayExpr(_) => Some("array".to_string()),
        NodeEnum::RowExpr(_) => Some("row".to_string()),
        NodeEnum::CollateClause(c) => c.arg.as_deref().and_then(figure_column_name),
        _ => None,
    }
}
