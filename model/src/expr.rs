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
