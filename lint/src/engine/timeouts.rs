//! `lock_timeout` and `statement_timeout` as a file's statements set them: `SET [SESSION |
//! LOCAL] name = value` (`TO`, `DEFAULT`), `RESET name`, `RESET ALL`, and `SELECT
//! set_config('name', 'value', is_local)`. A value of 0 (in any unit) turns the timeout off; `SET
//! LOCAL` outside a transaction block has no effect.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, VariableSetKind, a_const};

use crate::rules::{FileScope, Timeout};

/// Updates `scope` for a statement that may set a timeout.
pub(super) fn follow(node: &NodeEnum, scope: &mut FileScope) {
    match node {
        NodeEnum::VariableSetStmt(s) => {
            let kind = VariableSetKind::try_from(s.kind).unwrap_or(VariableSetKind::Undefined);
            let value = match kind {
                VariableSetKind::VarSetValue => {
                    s.args.first().and_then(constant).map(|v| nonzero(&v))
                }
                VariableSetKind::VarSetDefault | VariableSetKind::VarReset => Some(false),
                VariableSetKind::VarResetAll => {
                    scope.lock_timeout = Timeout::Unset;
                    scope.statement_timeout = Timeout::Unset;
                    return;
                }
                _ => None,
            };
            if let Some(set) = value {
                set_timeout(scope, &s.name, set, s.is_local);
            }
        }
        NodeEnum::SelectStmt(s) if s.from_clause.is_empty() => {
            for target in &s.target_list {
                let Some(NodeEnum::ResTarget(t)) = target.node.as_ref() else {
                    continue;
                };
                let Some(NodeEnum::FuncCall(f)) = t.val.as_deref().and_then(|v| v.node.as_ref())
                else {
                    continue;
                };
                let is_set_config = f.funcname.last().and_then(|n| match n.node.as_ref() {
                    Some(NodeEnum::String(s)) => Some(s.sval.eq_ignore_ascii_case("set_config")),
                    _ => None,
                }) == Some(true);
                if !is_set_config || f.args.len() != 3 {
                    continue;
                }
                let (Some(name), Some(value), Some(local)) = (
                    constant(&f.args[0]),
                    constant(&f.args[1]),
                    constant(&f.args[2]),
                ) else {
                    continue;
                };
                let local = matches!(local.as_str(), "true" | "t" | "on" | "1");
                set_timeout(scope, &name, nonzero(&value), local);
            }
        }
        _ => {}
    }
}

fn set_timeout(scope: &mut FileScope, name: &str, set: bool, local: bool) {
    let in_transaction = scope.in_transaction();
    let slot = if name.eq_ignore_ascii_case("lock_timeout") {
        &mut scope.lock_timeout
    } else if name.eq_ignore_ascii_case("statement_timeout") {
        &mut scope.statement_timeout
    } else {
        return;
    };
    *slot = match (set, local) {
        (false, _) => Timeout::Unset,
        (true, false) => Timeout::Session,
        (true, true) if in_transaction => Timeout::Local,
        // Outside a transaction block, SET LOCAL only warns.
        (true, true) => *slot,
    };
}

/// A constant argument as text (`'5s'`, `5000`, `true`).
fn constant(node: &protobuf::Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            a_const::Val::Ival(i) => Some(i.ival.to_string()),
            a_const::Val::Fval(f) => Some(f.fval.clone()),
            a_const::Val::Sval(s) => Some(s.sval.clone()),
            a_const::Val::Boolval(b) => Some(b.boolval.to_string()),
            a_const::Val::Bsval(_) => None,
        },
        NodeEnum::TypeCast(t) => t.arg.as_deref().and_then(constant),
        _ => None,
    }
}

/// Whether a timeout value is a timeout: not 0 in whatever unit (`0`, `'0s'`, `'0ms'`).
fn nonzero(value: &str) -> bool {
    let digits: String = value
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    match digits.parse::<f64>() {
        Ok(n) => n > 0.0,
        // Not a number: the server rejects it, or it is a unit-only oddity; take it as set.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(sql: &str, in_transaction: bool) -> (Timeout, Timeout) {
        let mut scope = FileScope {
            transactional_file: in_transaction,
            ..FileScope::default()
        };
        for st in model::replay::parse_script(sql).expect("parses") {
            follow(&st.node, &mut scope);
        }
        (scope.lock_timeout, scope.statement_timeout)
    }

    #[test]
    fn settings_as_the_server_reads_them() {
        use Timeout::*;
        assert_eq!(after("SET lock_timeout = '2s'", false), (Session, Unset));
        assert_eq!(after("SET lock_timeout TO 2000", false), (Session, Unset));
        assert_eq!(
            after("SET SESSION statement_timeout = '5min'", false),
            (Unset, Session)
        );
        assert_eq!(after("SET LOCAL lock_timeout = '2s'", true), (Local, Unset));
        assert_eq!(
            after("SET LOCAL lock_timeout = '2s'", false),
            (Unset, Unset)
        );
        assert_eq!(after("SET lock_timeout = 0", false), (Unset, Unset));
        assert_eq!(after("SET lock_timeout = '0ms'", false), (Unset, Unset));
        assert_eq!(
            after("SET lock_timeout = '2s'; RESET lock_timeout", false),
            (Unset, Unset)
        );
        assert_eq!(
            after(
                "SET lock_timeout = '2s'; SET lock_timeout TO DEFAULT",
                false
            ),
            (Unset, Unset)
        );
        assert_eq!(
            after(
                "SET lock_timeout = '2s'; SET statement_timeout = '1min'; RESET ALL",
                false
            ),
            (Unset, Unset)
        );
        assert_eq!(
            after("SELECT set_config('lock_timeout', '3s', false)", false),
            (Session, Unset)
        );
        assert_eq!(
            after("SELECT set_config('statement_timeout', '3s', true)", true),
            (Unset, Local)
        );
    }
}
