//! SQL-standard function bodies (`RETURN expression` and `BEGIN ATOMIC ... END`, PostgreSQL 14
//! on), which PostgreSQL parses when the function is created and prints back elaborated
//! (`pg_get_function_sqlbody`): their canonical text, as the deparser prints the parse tree, and
//! their comparable form, in which the written and the printed body coincide.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, Node};

/// What the deparser writes before the body of the function that carries it here.
const HEADER: &str = "CREATE FUNCTION f() ";

/// The canonical text of a body given as its parse tree (`CreateFunctionStmt.sql_body`):
/// `RETURN (n + 1)`, `BEGIN ATOMIC SELECT 1; END`.
pub fn sql_body_text(body: &Node) -> Option<String> {
    let statement = protobuf::CreateFunctionStmt {
        funcname: vec![Node {
            node: Some(NodeEnum::String(protobuf::String {
                sval: "f".to_string(),
            })),
        }],
        sql_body: Some(Box::new(body.clone())),
        ..Default::default()
    };
    let text = NodeEnum::CreateFunctionStmt(Box::new(statement))
        .deparse(Default::default())
        .ok()?;
    text.strip_prefix(HEADER).map(|b| b.trim().to_string())
}

/// The parse tree of a body written as text, `None` when the text is not one body.
fn parse_body(text: &str) -> Option<Node> {
    let parsed = pgparse::parse(&format!("{HEADER}{text}")).ok()?;
    let [statement] = parsed.stmts.as_slice() else {
        return None;
    };
    match statement.stmt.as_ref()?.node.as_ref()? {
        NodeEnum::CreateFunctionStmt(s) if s.options.is_empty() && s.parameters.is_empty() => {
            s.sql_body.as_deref().cloned()
        }
        _ => None,
    }
}

/// The canonical text of a body written as text (as `pg_get_function_sqlbody` prints it, say):
/// the same as [`sql_body_text`] of its parse tree. Text that is not one body is returned with
/// its whitespace collapsed.
pub fn canonical_sql_body(text: &str) -> String {
    parse_body(text)
        .and_then(|body| sql_body_text(&body))
        .unwrap_or_else(|| collapse(text))
}

/// The form of a body in which the way it was written and the way PostgreSQL prints it back
/// coincide: every expression in its [`comparable_expression`](super::comparable_expression)
/// form, and the output names PostgreSQL gives a `SELECT`'s columns dropped. For comparison
/// only.
pub fn comparable_sql_body(text: &str) -> String {
    let Some(mut body) = parse_body(text) else {
        return collapse(text);
    };
    match body.node.as_mut() {
        Some(NodeEnum::ReturnStmt(r)) => super::comparable::normalize_boxed(&mut r.returnval),
        // `BEGIN ATOMIC`: a list holding the list of statements.
        Some(NodeEnum::List(outer)) => {
            for inner in &mut outer.items {
                if let Some(NodeEnum::List(statements)) = inner.node.as_mut() {
                    statements.items.iter_mut().for_each(comparable_statement);
                }
            }
        }
        _ => {}
    }
    sql_body_text(&body).unwrap_or_else(|| collapse(text))
}

fn comparable_statement(statement: &mut Node) {
    match statement.node.as_mut() {
        Some(NodeEnum::ReturnStmt(r)) => super::comparable::normalize_boxed(&mut r.returnval),
        Some(NodeEnum::SelectStmt(s)) => {
            for target in &mut s.target_list {
                if let Some(NodeEnum::ResTarget(t)) = target.node.as_mut() {
                    t.name.clear();
                    super::comparable::normalize_boxed(&mut t.val);
                }
            }
            super::comparable::normalize_boxed(&mut s.where_clause);
        }
        _ => {}
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written_body(sql: &str) -> String {
        let parsed = pgparse::parse(sql).expect("parses");
        let Some(NodeEnum::CreateFunctionStmt(s)) =
            parsed.stmts[0].stmt.as_ref().and_then(|s| s.node.as_ref())
        else {
            panic!("not CREATE FUNCTION");
        };
        sql_body_text(s.sql_body.as_deref().expect("a body")).expect("deparses")
    }

    #[test]
    fn a_return_body_prints_canonically() {
        let body = written_body(
            "CREATE FUNCTION add_one(n int) RETURNS int LANGUAGE sql IMMUTABLE RETURN n+1",
        );
        assert_eq!(body, "RETURN n + 1");
        assert_eq!(canonical_sql_body("RETURN (n + 1)"), "RETURN n + 1");
    }

    #[test]
    fn a_begin_atomic_body_prints_canonically() {
        let body = written_body(
            "CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2 ; END",
        );
        assert_eq!(body, "BEGIN ATOMIC SELECT 1; SELECT 2; END");
        assert_eq!(
            canonical_sql_body("BEGIN ATOMIC\n SELECT 1;\n SELECT 2;\nEND"),
            body
        );
    }

    /// PostgreSQL 15's `pg_get_function_sqlbody` for the bodies as written.
    #[test]
    fn the_printed_body_compares_equal_to_the_written_one() {
        for (written, printed) in [
            (
                "RETURN CAST(value AS state_kind)",
                "RETURN (value)::state_kind",
            ),
            (
                "RETURN lower(t) || upper(u) || 'x'",
                "RETURN ((lower(t) || upper(u)) || 'x'::text)",
            ),
            (
                "BEGIN ATOMIC SELECT CASE WHEN v IS NULL THEN NULL \
                 ELSE v::timestamp AT TIME ZONE 'UTC' END; END",
                "BEGIN ATOMIC\n SELECT\n         CASE\n             WHEN (v IS NULL) THEN \
                 NULL::timestamp with time zone\n             ELSE ((v)::timestamp without time \
                 zone AT TIME ZONE 'UTC'::text)\n         END AS timezone;\nEND",
            ),
        ] {
            assert_eq!(
                comparable_sql_body(written),
                comparable_sql_body(printed),
                "{written}"
            );
        }
        assert_ne!(
            comparable_sql_body("RETURN n + 1"),
            comparable_sql_body("RETURN n + 2")
        );
    }

    #[test]
    fn text_that_is_no_body_is_kept_collapsed() {
        assert_eq!(canonical_sql_body("SELECT  1"), "SELECT 1");
        assert_eq!(comparable_sql_body("RETURN ("), "RETURN (");
    }
}
