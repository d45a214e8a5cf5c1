//! Small readers of pg_query's parse tree that the lock walk shares.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ConstrType};

pub(super) fn string_value(node: &protobuf::Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

pub(super) fn strings(nodes: &[protobuf::Node]) -> Vec<&str> {
    nodes.iter().filter_map(string_value).collect()
}

pub(super) fn contype(c: &protobuf::Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}

pub(super) fn cmd_constraint(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::Constraint> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::Constraint(c)) => Some(c),
        _ => None,
    }
}

pub(super) fn cmd_column(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::ColumnDef> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::ColumnDef(c)) => Some(c),
        _ => None,
    }
}

pub(super) fn column_constraints(
    c: &protobuf::ColumnDef,
) -> impl Iterator<Item = &protobuf::Constraint> {
    c.constraints.iter().filter_map(|n| match n.node.as_ref() {
        Some(NodeEnum::Constraint(k)) => Some(k.as_ref()),
        _ => None,
    })
}

/// The `[schema, ] name` at the end of a name list; `drop` names dropped off the end first (the
/// column of `COMMENT ON COLUMN`, the trigger of `DROP TRIGGER`).
pub(super) fn names_of(node: &protobuf::Node, drop: usize) -> Vec<&str> {
    let mut names = match node.node.as_ref() {
        Some(NodeEnum::List(list)) => strings(&list.items),
        Some(NodeEnum::String(s)) => vec![s.sval.as_str()],
        _ => Vec::new(),
    };
    names.truncate(names.len().saturating_sub(drop));
    names
}

pub(super) fn split<'n>(names: &[&'n str]) -> Option<(&'n str, &'n str)> {
    match names {
        [] => None,
        [name] => Some(("", name)),
        [.., schema, name] => Some((schema, name)),
    }
}

/// The column names of an INSERT's column list or an UPDATE's SET list.
pub(super) fn target_names(list: &[protobuf::Node]) -> Vec<&str> {
    list.iter()
        .filter_map(|c| match c.node.as_ref() {
            Some(NodeEnum::ResTarget(t)) => Some(t.name.as_str()),
            _ => None,
        })
        .collect()
}

pub(super) fn range_var(n: &protobuf::Node) -> Option<&protobuf::RangeVar> {
    match n.node.as_ref() {
        Some(NodeEnum::RangeVar(r)) => Some(r),
        _ => None,
    }
}
