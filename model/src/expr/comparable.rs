//! The comparable form of an expression: what PostgreSQL prints back for a stored expression and
//! how people write it, made to coincide (see [`comparable_expression`]).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AExprKind, BoolExprType, CoercionForm, Node, a_const};

use super::{deparse_expression, parse_expression};

/// A form of a SQL expression in which the ways PostgreSQL prints a stored expression back and
/// the ways it is usually written coincide: casts on literals are dropped (`(0)::double
/// precision` is `0`, `'pending'::job_status` is `'pending'`), and so are casts of a column to
/// a type values are implicitly widened to (`integer`, `bigint`, `numeric`, `double
/// precision`, `text`, `timestamp`, `timestamptz`), `a BETWEEN x AND y` is
/// `a >= x AND a <= y`, `a IN (x, y)` is `a = ANY (ARRAY[x, y])`, `LIKE` is `~~`, nested `AND`s
/// and `OR`s are flattened, `pg_catalog.` is dropped from function names, and parentheses are
/// the deparser's. For comparison only: it is not meant to be executed. Text that does not parse
/// is returned trimmed.
pub fn comparable_expression(text: &str) -> String {
    let Some(mut node) = parse_expression(text) else {
        return text.trim().to_string();
    };
    normalize(&mut node);
    node.node
        .as_ref()
        .and_then(deparse_expression)
        .unwrap_or_else(|| text.trim().to_string())
}

fn normalize_all(nodes: &mut [Node]) {
    nodes.iter_mut().for_each(normalize);
}

pub(super) fn normalize_boxed(node: &mut Option<Box<Node>>) {
    if let Some(n) = node {
        normalize(n);
    }
}

/// Normalizes the children first, then the node itself.
fn normalize(node: &mut Node) {
    let Some(inner) = node.node.as_mut() else {
        return;
    };
    match inner {
        NodeEnum::AExpr(e) => {
            normalize_boxed(&mut e.lexpr);
            normalize_boxed(&mut e.rexpr);
        }
        NodeEnum::BoolExpr(e) => normalize_all(&mut e.args),
        NodeEnum::TypeCast(e) => normalize_boxed(&mut e.arg),
        NodeEnum::FuncCall(e) => {
            normalize_all(&mut e.args);
            if e.funcname.len() == 2 && string_of(&e.funcname[0]) == Some("pg_catalog") {
                e.funcname.remove(0);
                e.funcformat = CoercionForm::CoerceExplicitCall as i32;
            }
        }
        NodeEnum::NullTest(e) => normalize_boxed(&mut e.arg),
        NodeEnum::BooleanTest(e) => normalize_boxed(&mut e.arg),
        NodeEnum::AArrayExpr(e) => normalize_all(&mut e.elements),
        NodeEnum::List(l) => normalize_all(&mut l.items),
        NodeEnum::CaseExpr(e) => {
            normalize_boxed(&mut e.arg);
            normalize_all(&mut e.args);
            normalize_boxed(&mut e.defresult);
        }
        NodeEnum::CaseWhen(e) => {
            normalize_boxed(&mut e.expr);
            normalize_boxed(&mut e.result);
        }
        NodeEnum::CoalesceExpr(e) => normalize_all(&mut e.args),
        NodeEnum::MinMaxExpr(e) => normalize_all(&mut e.args),
        NodeEnum::RowExpr(e) => normalize_all(&mut e.args),
        NodeEnum::SubLink(e) => normalize_boxed(&mut e.testexpr),
        NodeEnum::CollateClause(e) => normalize_boxed(&mut e.arg),
        NodeEnum::AIndirection(e) => normalize_boxed(&mut e.arg),
        _ => {}
    }
    if let Some(replacement) = rewrite(inner) {
        node.node = Some(replacement);
    }
}

fn string_of(node: &Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

fn string_node(text: &str) -> Node {
    Node {
        node: Some(NodeEnum::String(protobuf::String {
            sval: text.to_string(),
        })),
    }
}

fn wrap(node: NodeEnum) -> Node {
    Node { node: Some(node) }
}

fn operator(kind: AExprKind, name: &str, left: Node, right: Node) -> Node {
    wrap(NodeEnum::AExpr(Box::new(protobuf::AExpr {
        kind: kind as i32,
        name: vec![string_node(name)],
        lexpr: Some(Box::new(left)),
        rexpr: Some(Box::new(right)),
        ..Default::default()
    })))
}

fn bool_expr(op: BoolExprType, args: Vec<Node>) -> NodeEnum {
    NodeEnum::BoolExpr(Box::new(protobuf::BoolExpr {
        boolop: op as i32,
        args,
        ..Default::default()
    }))
}

const NUMERIC_TYPES: [&str; 6] = ["int2", "int4", "int8", "numeric", "float4", "float8"];

/// Types PostgreSQL implicitly casts narrower values to when an operator needs it.
const WIDENING_TARGETS: [&str; 7] = [
    "int4",
    "int8",
    "numeric",
    "float8",
    "text",
    "timestamp",
    "timestamptz",
];

/// The rewrite of one node whose children are already normalized, if it has one.
fn rewrite(node: &mut NodeEnum) -> Option<NodeEnum> {
    match node {
        // A literal with a cast: the literal. A numeric cast of a string (`'-1'::integer`, as
        // PostgreSQL prints negative numbers) gives the number. A column cast to a type its
        // value is implicitly widened to: the column (PostgreSQL prints the implicit casts it
        // adds to operator operands: `(tooth_number)::integer % 10` for a smallint).
        NodeEnum::TypeCast(cast) => {
            let target = cast
                .type_name
                .as_ref()
                .filter(|t| t.array_bounds.is_empty() && t.typmods.is_empty())
                .and_then(|t| t.names.last())
                .and_then(string_of)
                .unwrap_or_default()
                .to_string();
            let arg = cast.arg.as_ref().and_then(|a| a.node.as_ref());
            if let Some(column @ NodeEnum::ColumnRef(_)) = arg {
                return WIDENING_TARGETS
                    .contains(&target.as_str())
                    .then(|| column.clone());
            }
            let Some(NodeEnum::AConst(constant)) = arg else {
                return None;
            };
            let mut constant = constant.clone();
            let numeric = NUMERIC_TYPES.contains(&target.as_str());
            if let (true, Some(a_const::Val::Sval(s))) = (numeric, &constant.val) {
                let text = s.sval.trim().to_string();
                if let Ok(i) = text.parse::<i32>() {
                    constant.val = Some(a_const::Val::Ival(protobuf::Integer { ival: i }));
                } else if text.parse::<f64>().is_ok_and(f64::is_finite) {
                    constant.val = Some(a_const::Val::Fval(protobuf::Float { fval: text }));
                }
            }
            Some(NodeEnum::AConst(constant))
        }
        NodeEnum::AExpr(e) => {
            let kind = AExprKind::try_from(e.kind).unwrap_or(AExprKind::Undefined);
            let name = e
                .name
                .last()
                .and_then(string_of)
                .unwrap_or_default()
                .to_string();
            match kind {
                // `- 1` is the literal -1.
                AExprKind::AexprOp if name == "-" && e.lexpr.is_none() => {
                    let Some(NodeEnum::AConst(c)) = e.rexpr.as_ref().and_then(|r| r.node.as_ref())
                    else {
                        return None;
                    };
                    let val = match &c.val {
                        Some(a_const::Val::Ival(i)) => {
                            a_const::Val::Ival(protobuf::Integer { ival: -i.ival })
                        }
                        Some(a_const::Val::Fval(f)) if !f.fval.starts_with('-') => {
                            a_const::Val::Fval(protobuf::Float {
                                fval: format!("-{}", f.fval),
                            })
                        }
                        _ => return None,
                    };
                    Some(NodeEnum::AConst(protobuf::AConst {
                        val: Some(val),
                        ..c.clone()
                    }))
                }
                AExprKind::AexprBetween | AExprKind::AexprNotBetween => {
                    let subject = e.lexpr.as_deref()?.clone();
                    let Some(NodeEnum::List(bounds)) =
                        e.rexpr.as_ref().and_then(|r| r.node.as_ref())
                    else {
                        return None;
                    };
                    let [low, high] = bounds.items.as_slice() else {
                        return None;
                    };
                    let between = kind == AExprKind::AexprBetween;
                    let (low_op, high_op, op) = if between {
                        (">=", "<=", BoolExprType::AndExpr)
                    } else {
                        ("<", ">", BoolExprType::OrExpr)
                    };
                    Some(bool_expr(
                        op,
                        vec![
                            operator(AExprKind::AexprOp, low_op, subject.clone(), low.clone()),
                            operator(AExprKind::AexprOp, high_op, subject, high.clone()),
                        ],
                    ))
                }
                AExprKind::AexprIn => {
                    let subject = e.lexpr.as_deref()?.clone();
                    let Some(NodeEnum::List(items)) =
                        e.rexpr.as_ref().and_then(|r| r.node.as_ref())
                    else {
                        return None;
                    };
                    let array = wrap(NodeEnum::AArrayExpr(protobuf::AArrayExpr {
                        elements: items.items.clone(),
                        ..Default::default()
                    }));
                    let any = if name == "<>" {
                        AExprKind::AexprOpAll
                    } else {
                        AExprKind::AexprOpAny
                    };
                    operator(any, &name, subject, array).node
                }
                AExprKind::AexprLike | AExprKind::AexprIlike => {
                    e.kind = AExprKind::AexprOp as i32;
                    None
                }
                _ => None,
            }
        }
        NodeEnum::BoolExpr(e) => {
            let op = e.boolop;
            if op == BoolExprType::NotExpr as i32 {
                return None;
            }
            let mut flat = Vec::new();
            for arg in std::mem::take(&mut e.args) {
                match arg.node {
                    Some(NodeEnum::BoolExpr(inner)) if inner.boolop == op => {
                        flat.extend(inner.args)
                    }
                    other => flat.push(Node { node: other }),
                }
            }
            e.args = flat;
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_as_postgresql_prints_them_compare_equal_to_how_they_were_written() {
        // Written (schema.yaml), and as pg_get_expr / pg_get_constraintdef print them back.
        for (written, printed) in [
            (
                "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
                "((confidence IS NULL) OR ((confidence >= (0)::double precision) AND (confidence <= (1)::double precision)))",
            ),
            (
                "tooth_number IS NULL OR (tooth_number BETWEEN 11 AND 48 AND tooth_number % 10 BETWEEN 1 AND 8)",
                "((tooth_number IS NULL) OR ((tooth_number >= 11) AND (tooth_number <= 48) AND (((tooth_number)::integer % 10) >= 1) AND (((tooth_number)::integer % 10) <= 8)))",
            ),
            (
                "position('@' in email) > 1",
                "(POSITION(('@'::text) IN (email)) > 1)",
            ),
            (
                "jsonb_typeof(tags) = 'array'",
                "(jsonb_typeof(tags) = 'array'::text)",
            ),
            (
                "checksum ~ '^[0-9a-f]{64}$'",
                "(checksum ~ '^[0-9a-f]{64}$'::text)",
            ),
            ("status = 'pending'", "(status = 'pending'::job_status)"),
            (
                "status IN ('new', 'open')",
                "(status = ANY (ARRAY['new'::case_status, 'open'::case_status]))",
            ),
            ("name LIKE 'a%'", "(name ~~ 'a%'::text)"),
            ("x > -1", "(x > '-1'::integer)"),
            ("pg_catalog.now()", "now()"),
            ("'[]'", "'[]'::jsonb"),
        ] {
            assert_eq!(
                comparable_expression(written),
                comparable_expression(printed),
                "{written}  vs  {printed}"
            );
        }
    }

    #[test]
    fn different_expressions_stay_different() {
        for (a, b) in [
            ("x > 0", "x > 1"),
            ("x > 0", "x >= 0"),
            ("status = 'pending'", "status = 'paused'"),
            ("a AND b", "a OR b"),
            ("x BETWEEN 1 AND 2", "x NOT BETWEEN 1 AND 2"),
            ("'5'::text", "5"),
            ("x::date > '2020-01-01'", "x > '2020-01-01'"),
            ("now()", "clock_timestamp()"),
        ] {
            assert_ne!(
                comparable_expression(a),
                comparable_expression(b),
                "{a} vs {b}"
            );
        }
    }
}
