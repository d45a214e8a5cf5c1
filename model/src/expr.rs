//! SQL expressions embedded in the schema (defaults, predicates, checks), checked with
//! PostgreSQL's own parser so that a typo or an injected statement never reaches a migration.

use pg_query::NodeEnum;

/// Checks that `text` is exactly one SQL value expression.
pub fn check_expression(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the expression is empty".to_string());
    }
    // Parenthesised so that the text cannot close the expression early and append clauses
    // without the parse tree showing it.
    let wrapped = format!("SELECT ({text})");
    let parsed = pg_query::parse(&wrapped, 0).map_err(|e| match e {
        pg_query::Error::Parse(message) => message,
        other => other.to_string(),
    })?;
    let statements = &parsed.protobuf.stmts;
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
    let parsed = match pg_query::parse(&format!("SELECT ({text})"), 0) {
        Ok(parsed) => parsed,
        Err(_) => return text.trim().to_string(),
    };
    let target = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| match s.node.as_ref() {
            Some(NodeEnum::SelectStmt(select)) => select.target_list.first().and_then(|t| match t
                .node
                .as_ref()
            {
                Some(NodeEnum::ResTarget(target)) => {
                    target.val.as_deref().and_then(|v| v.node.clone())
                }
                _ => None,
            }),
            _ => None,
        });
    match target.and_then(|node| deparse_expression(&node)) {
        Some(text) => text,
        None => text.trim().to_string(),
    }
}

/// Prints an expression node back as SQL, by wrapping it in `SELECT <expr>` (the deparser only
/// accepts whole statements).
pub fn deparse_expression(node: &NodeEnum) -> Option<String> {
    use pg_query::protobuf::{Node, ResTarget, SelectStmt};
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

/// The first column an expression refers to, if any (defaults may not refer to columns).
/// Call on a text that [`check_expression`] accepted.
pub fn referenced_column(text: &str) -> Option<String> {
    let parsed = pg_query::parse(&format!("SELECT ({text})"), 0).ok()?;
    parsed
        .protobuf
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

    #[test]
    fn column_references() {
        assert_eq!(referenced_column("now()"), None);
        assert_eq!(referenced_column("lower(name) || 'x'"), Some("name".into()));
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
