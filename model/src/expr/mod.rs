//! SQL expressions embedded in the schema (defaults, predicates, checks), checked with
//! PostgreSQL's own parser so that a typo or an injected statement never reaches a migration.

mod comparable;
mod sql_body;

use pg_query::NodeEnum;
use pg_query::protobuf::a_const;

pub use comparable::comparable_expression;
pub use sql_body::{canonical_sql_body, comparable_sql_body, sql_body_text};

/// Checks that `text` is exactly one SQL value expression.
pub fn check_expression(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the expression is empty".to_string());
    }
    // Parenthesised so that the text cannot close the expression early and append clauses
    // without the parse tree showing it.
    let wrapped = format!("SELECT ({text})");
    let parsed = pgparse::parse(&wrapped).map_err(|e| match e {
        pg_query::Error::Parse(message) => message,
        other => other.to_string(),
    })?;
    let statements = &parsed.stmts;
    let single_select = match statements.as_slice() {
        [statement] => match statement.stmt.as_ref().and_then(|s| s.node.as_ref()) {
            Some(NodeEnum::SelectStmt(select)) => {
                select.target_list.len() == 1
                    && select.from_clause.is_empty()
                    && select.where_clause.is_none()
                    && select.group_clause.is_empty()
                    && select.having_clause.is_none()
                    && select.sort_clause.is_empty()
                    && select.limit_count.is_none()
                    && select.with_clause.is_none()
                    && select.op == pg_query::protobuf::SetOperation::SetopNone as i32
            }
            _ => false,
        },
        _ => false,
    };
    if single_select {
        Ok(())
    } else {
        Err("expected a single SQL expression, found more than one clause or statement".to_string())
    }
}

/// The canonical text of an expression: PostgreSQL's parse tree printed back by its deparser, so
/// `NOW( )`, `now()` and `(now())` are one expression wherever they were written (YAML, replayed
/// SQL). Call on a text that [`check_expression`] accepted; other text is returned trimmed.
pub fn canonical(text: &str) -> String {
    parse_expression(text)
        .and_then(|node| node.node.as_ref().and_then(deparse_expression))
        .unwrap_or_else(|| text.trim().to_string())
}

/// The parse tree of one expression (parsed as `SELECT (text)`), `None` when it does not parse
/// as one.
fn parse_expression(text: &str) -> Option<pg_query::protobuf::Node> {
    let parsed = pgparse::parse(&format!("SELECT ({text})")).ok()?;
    let statement = parsed.stmts.into_iter().next()?.stmt?.node?;
    let NodeEnum::SelectStmt(select) = statement else {
        return None;
    };
    match select.target_list.into_iter().next()?.node? {
        NodeEnum::ResTarget(target) => target.val.map(|v| *v),
        _ => None,
    }
}

/// Prints an expression node back as SQL, by wrapping it in `SELECT <expr>` (the deparser only
/// accepts whole statements).
pub fn deparse_expression(node: &NodeEnum) -> Option<String> {
    use pg_query::protobuf::{Node, ResTarget, SelectStmt};
    if let Some(text) = print_simple(node) {
        return Some(text);
    }
    let target = ResTarget {
        val: Some(Box::new(Node {
            node: Some(node.clone()),
        })),
        ..Default::default()
    };
    let select = SelectStmt {
        target_list: vec![Node {
            node: Some(NodeEnum::ResTarget(Box::new(target))),
        }],
        limit_option: pg_query::protobuf::LimitOption::Default as i32,
        op: pg_query::protobuf::SetOperation::SetopNone as i32,
        ..Default::default()
    };
    let text = NodeEnum::SelectStmt(Box::new(select))
        .deparse(Default::default())
        .ok()?;
    text.strip_prefix("SELECT ").map(str::to_string)
}

/// A statement (a view's query, say) as PostgreSQL's deparser prints it: the same query written
/// with other whitespace, case or parentheses prints the same. Text that does not parse is
/// returned with its whitespace collapsed.
pub fn canonical_statement(text: &str) -> String {
    let trimmed = text.trim().trim_end_matches(';');
    match pgparse::parse(trimmed)
        .ok()
        .and_then(|p| p.deparse(Default::default()).ok())
    {
        Some(printed) => printed,
        None => trimmed.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Functions without arguments whose name the deparser prints as is (no keyword, nothing to
/// quote): the usual volatile defaults.
const PLAIN_FUNCTIONS: &[&str] = &[
    "now",
    "gen_random_uuid",
    "uuid_generate_v4",
    "clock_timestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "random",
];

/// Type names the deparser prints as is after `::`.
const PLAIN_TYPES: &[&str] = &["jsonb", "uuid", "text", "citext", "inet"];

/// The deparser's text for the commonest column defaults (constants, `now()`, `'{}'::jsonb`),
/// printed here: the deparser costs a protobuf encoding and a C call per expression, which
/// dominated replaying a long history. `None` for anything else, which the deparser prints. A
/// test holds both equal.
fn print_simple(node: &NodeEnum) -> Option<String> {
    use pg_query::protobuf::CoercionForm;
    match node {
        NodeEnum::AConst(c) => print_const(c),
        NodeEnum::FuncCall(f)
            if f.args.is_empty()
                && f.agg_order.is_empty()
                && f.agg_filter.is_none()
                && f.over.is_none()
                && !f.agg_within_group
                && !f.agg_star
                && !f.agg_distinct
                && !f.func_variadic
                && f.funcformat == CoercionForm::CoerceExplicitCall as i32 =>
        {
            match f.funcname.as_slice() {
                [name] => match name.node.as_ref() {
                    Some(NodeEnum::String(s)) if PLAIN_FUNCTIONS.contains(&s.sval.as_str()) => {
                        Some(format!("{}()", s.sval))
                    }
                    _ => None,
                },
                _ => None,
            }
        }
        NodeEnum::TypeCast(t) => {
            let type_name = t.type_name.as_ref()?;
            let arg = match t.arg.as_deref()?.node.as_ref()? {
                // Numbers get parentheses in some cases; strings never.
                NodeEnum::AConst(c) if matches!(c.val, Some(a_const::Val::Sval(_))) => {
                    print_const(c)?
                }
                _ => return None,
            };
            if type_name.setof
                || type_name.pct_type
                || !type_name.typmods.is_empty()
                || !type_name.array_bounds.is_empty()
            {
                return None;
            }
            match type_name.names.as_slice() {
                [name] => match name.node.as_ref() {
                    Some(NodeEnum::String(s)) if PLAIN_TYPES.contains(&s.sval.as_str()) => {
                        Some(format!("{arg}::{}", s.sval))
                    }
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// A constant as the deparser prints it (`deparseValue`): strings with doubled quotes, and the
/// `E'...'` form with doubled backslashes when there is a backslash.
fn print_const(c: &pg_query::protobuf::AConst) -> Option<String> {
    if c.isnull {
        return Some("NULL".to_string());
    }
    Some(match c.val.as_ref()? {
        a_const::Val::Ival(i) => i.ival.to_string(),
        a_const::Val::Fval(f) => f.fval.clone(),
        a_const::Val::Boolval(b) => if b.boolval { "true" } else { "false" }.to_string(),
        a_const::Val::Sval(s) => {
            let mut out = String::with_capacity(s.sval.len() + 3);
            if s.sval.contains('\\') {
                out.push('E');
            }
            out.push('\'');
            for ch in s.sval.chars() {
                if ch == '\'' || ch == '\\' {
                    out.push(ch);
                }
                out.push(ch);
            }
            out.push('\'');
            out
        }
        a_const::Val::Bsval(_) => return None,
    })
}

/// The first column an expression refers to, if any (defaults may not refer to columns).
/// Call on a text that [`check_expression`] accepted.
pub fn referenced_column(text: &str) -> Option<String> {
    let parsed = pgparse::parse(&format!("SELECT ({text})")).ok()?;
    parsed
        .nodes()
        .into_iter()
        .find_map(|(node, _, _, _)| match node {
            pg_query::NodeRef::ColumnRef(column) => Some(
                column
                    .fields
                    .iter()
                    .filter_map(|f| match f.node.as_ref() {
                        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join("."),
            ),
            _ => None,
        })
}

/// Every column an expression refers to, once each, in order of appearance (the last part of a
/// qualified reference). Call on a text that [`check_expression`] accepted.
pub fn referenced_columns(text: &str) -> Vec<String> {
    names_in_order(text, |node| match node {
        pg_query::NodeRef::ColumnRef(column) => match column.fields.last()?.node.as_ref() {
            Some(NodeEnum::String(s)) => Some((column.location, s.sval.clone())),
            _ => None,
        },
        _ => None,
    })
}

/// Every function an expression calls, by its name as written (`tok`, `util.tok`), once each, in
/// order of appearance. Empty when the text does not parse.
pub fn called_functions(text: &str) -> Vec<String> {
    names_in_order(text, |node| match node {
        pg_query::NodeRef::FuncCall(call) => {
            let name: Vec<String> = call
                .funcname
                .iter()
                .filter_map(|f| match f.node.as_ref() {
                    Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                    _ => None,
                })
                .collect();
            Some((call.location, name.join(".")))
        }
        _ => None,
    })
}

/// The names `pick` finds in the nodes of an expression (each with its place in the text), once
/// each, in order of appearance. Empty when the text does not parse.
fn names_in_order(
    text: &str,
    pick: impl Fn(pg_query::NodeRef<'_>) -> Option<(i32, String)>,
) -> Vec<String> {
    let Ok(parsed) = pgparse::parse(&format!("SELECT ({text})")) else {
        return Vec::new();
    };
    let mut found: Vec<(i32, String)> = parsed
        .nodes()
        .into_iter()
        .filter_map(|(node, _, _, _)| pick(node))
        .collect();
    found.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, name) in found {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The enum label a default names, if it is a plain literal (`'pending'`, `'pending'::job_status`).
pub fn literal_label(text: &str) -> Option<String> {
    let text = text.trim();
    let literal = match text.split_once("::") {
        Some((literal, _cast)) => literal.trim(),
        None => text,
    };
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_single_expressions() {
        for ok in [
            "now()",
            "'{}'::jsonb",
            "0",
            "gen_random_uuid()",
            "status = 'open' AND deleted_at IS NULL",
            "x IN (1, 2)",
        ] {
            assert_eq!(check_expression(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_broken_and_smuggled_sql() {
        for bad in [
            "",
            "now(",
            "1); DROP TABLE users; SELECT (1",
            "1), (2",
            "1) FROM users WHERE (true",
            "1) UNION SELECT (2",
        ] {
            assert!(check_expression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_text_is_the_same_however_written() {
        assert_eq!(canonical("NOW( )"), canonical("now()"));
        assert_eq!(canonical("(now())"), "now()");
        assert_eq!(canonical("'{}'::jsonb"), "'{}'::jsonb");
        assert_eq!(canonical("a>0 and b<1"), canonical("(a > 0) AND (b < 1)"));
        assert_eq!(canonical("status = 'pending'"), "status = 'pending'");
    }

    /// The deparser's own output, without the shortcut.
    fn deparsed_by_postgres(text: &str) -> (NodeEnum, String) {
        use pg_query::protobuf::{Node, ResTarget, SelectStmt};
        let parsed = pgparse::parse(&format!("SELECT {text}")).expect("parses");
        let Some(NodeEnum::SelectStmt(select)) =
            parsed.stmts[0].stmt.as_ref().and_then(|s| s.node.clone())
        else {
            panic!("not a select: {text}");
        };
        let Some(NodeEnum::ResTarget(target)) = select.target_list[0].node.clone() else {
            panic!("no target: {text}");
        };
        let node = target.val.and_then(|v| v.node).expect("an expression");
        let select = SelectStmt {
            target_list: vec![Node {
                node: Some(NodeEnum::ResTarget(Box::new(ResTarget {
                    val: Some(Box::new(Node {
                        node: Some(node.clone()),
                    })),
                    ..Default::default()
                }))),
            }],
            limit_option: pg_query::protobuf::LimitOption::Default as i32,
            op: pg_query::protobuf::SetOperation::SetopNone as i32,
            ..Default::default()
        };
        let text = NodeEnum::SelectStmt(Box::new(select))
            .deparse(Default::default())
            .expect("deparses");
        (
            node,
            text.strip_prefix("SELECT ").expect("prefix").to_string(),
        )
    }

    #[test]
    fn the_shortcut_prints_what_the_deparser_prints() {
        for simple in [
            "now()",
            "gen_random_uuid()",
            "uuid_generate_v4()",
            "clock_timestamp()",
            "random()",
            "'{}'",
            "'new'",
            "''",
            "'it''s'",
            "E'back\\\\slash'",
            "E'both\\\\ and '' quote'",
            "'ünïcödé'",
            "0",
            "-1",
            "42",
            "2147483647",
            "3.14",
            "-2.5",
            "1e10",
            "true",
            "false",
            "NULL",
            "'{}'::jsonb",
            "'x'::text",
            "'a''b'::text",
            "'00000000-0000-0000-0000-000000000000'::uuid",
            "'10.0.0.1'::inet",
        ] {
            let (node, postgres) = deparsed_by_postgres(simple);
            assert_eq!(
                print_simple(&node).as_deref(),
                Some(postgres.as_str()),
                "{simple}"
            );
        }
        // Left to the deparser: keywords, arguments, casts it rewrites, other node kinds.
        for other in [
            "now(1)",
            "pg_catalog.now()",
            "\"left\"()",
            "count(*)",
            "'t'::boolean",
            "1::int",
            "(-1)::jsonb",
            "'x'::job_status",
            "'{}'::jsonb[]",
            "'[]'::json",
            "'a'::varchar(3)",
            "CURRENT_TIMESTAMP",
            "b'101'",
            "1 + 1",
        ] {
            let (node, _) = deparsed_by_postgres(other);
            assert_eq!(print_simple(&node), None, "{other}");
        }
    }

    #[test]
    fn column_references() {
        assert_eq!(referenced_column("now()"), None);
        assert_eq!(referenced_column("lower(name) || 'x'"), Some("name".into()));
        assert_eq!(
            referenced_columns("price * quantity + t.price - coalesce(tax, 0)"),
            ["price", "quantity", "tax"]
        );
        assert!(referenced_columns("now()").is_empty());
    }

    #[test]
    fn enum_labels() {
        assert_eq!(literal_label("'pending'"), Some("pending".into()));
        assert_eq!(
            literal_label("'pending'::job_status"),
            Some("pending".into())
        );
        assert_eq!(literal_label("'it''s'"), Some("it's".into()));
        assert_eq!(literal_label("now()"), None);
    }
}
