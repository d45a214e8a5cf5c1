//! Lock levels of single commands (PostgreSQL's `AlterTableGetLockLevel` and friends) and
//! the facts about types and functions that decide whether a change rewrites a table.

use pg_query::protobuf::{self, AlterTableType, ConstrType};
use pg_query::{NodeEnum, NodeRef};

use super::LockMode;
use super::nodes::{cmd_constraint, contype, string_value, strings};
use crate::types::DataType;

/// Built-in functions whose volatility is VOLATILE (`pg_proc.provolatile = 'v'`) and that
/// appear in column defaults: a column added with such a default is filled row by row, which
/// rewrites the table.
pub const VOLATILE_BUILTINS: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "gen_random_bytes",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setval",
];

/// The names of the `serial` pseudo-types: a column added with one is filled from `nextval()`.
pub const SERIAL_TYPES: &[&str] = &[
    "serial",
    "serial4",
    "bigserial",
    "serial8",
    "smallserial",
    "serial2",
];

/// Whether PostgreSQL changes a column of type `from` into `to` without rewriting or scanning
/// the table.
pub fn binary_compatible(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let wider = |a: &Option<u32>, b: &Option<u32>| match (a, b) {
        (_, None) => true,
        (Some(a), Some(b)) => b >= a,
        (None, Some(_)) => false,
    };
    match (from, to) {
        _ if from == to => true,
        (Varchar(a), Varchar(b)) => wider(a, b),
        (Varchar(_), Text) | (Text, Varchar(None)) => true,
        (Numeric(_), Numeric(None)) => true,
        (Numeric(Some((p, s))), Numeric(Some((q, t)))) => {
            q >= p && s.unwrap_or(0) == t.unwrap_or(0)
        }
        (Timestamp(a), Timestamp(b)) | (Timestamptz(a), Timestamptz(b)) | (Time(a), Time(b)) => {
            wider(a, b)
        }
        _ => false,
    }
}

/// The level `CREATE INDEX` takes on its table: `SHARE` (writes wait for the whole build), or
/// `SHARE UPDATE EXCLUSIVE` with `CONCURRENTLY`.
pub fn create_index_mode(concurrent: bool) -> LockMode {
    if concurrent {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::Share
    }
}

/// The level `DROP INDEX` takes on the index's table: `ACCESS EXCLUSIVE`, or `SHARE UPDATE
/// EXCLUSIVE` with `CONCURRENTLY`.
pub fn drop_index_mode(concurrent: bool) -> LockMode {
    if concurrent {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::AccessExclusive
    }
}

/// Whether `REINDEX` runs `CONCURRENTLY` (`(CONCURRENTLY)` or `(CONCURRENTLY true)`).
pub(super) fn reindex_concurrently(s: &protobuf::ReindexStmt) -> bool {
    s.params.iter().any(|p| match p.node.as_ref() {
        Some(NodeEnum::DefElem(d)) => {
            d.defname == "concurrently"
                && d.arg
                    .as_deref()
                    .and_then(string_value)
                    .is_none_or(|v| v != "false")
        }
        _ => false,
    })
}

/// The `CONCURRENTLY` operation a statement is, if any: each takes `SHARE UPDATE EXCLUSIVE`,
/// which blocks neither reads nor writes, and PostgreSQL refuses each inside a transaction
/// block (so the linter and the runner's no-transaction scripts both ask here).
pub fn concurrent_operation(node: &NodeEnum) -> Option<&'static str> {
    match node {
        NodeEnum::IndexStmt(s) if s.concurrent => Some("CREATE INDEX CONCURRENTLY"),
        NodeEnum::DropStmt(s) if s.concurrent => Some("DROP INDEX CONCURRENTLY"),
        NodeEnum::ReindexStmt(s) if reindex_concurrently(s) => Some("REINDEX CONCURRENTLY"),
        NodeEnum::AlterTableStmt(s) => {
            let detaches = s.cmds.iter().any(|c| match c.node.as_ref() {
                Some(NodeEnum::AlterTableCmd(cmd)) => matches!(
                    cmd.def.as_deref().and_then(|d| d.node.as_ref()),
                    Some(NodeEnum::PartitionCmd(p)) if p.concurrent
                ),
                _ => false,
            });
            detaches.then_some("DETACH PARTITION CONCURRENTLY")
        }
        _ => None,
    }
}

/// The level of one `ALTER TABLE` subcommand on the altered table (PostgreSQL's
/// `AlterTableGetLockLevel`); the statement takes the strongest of its subcommands'.
pub fn alter_table_cmd_mode(cmd: &protobuf::AlterTableCmd) -> LockMode {
    use AlterTableType::*;
    use LockMode::*;
    let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
    match subtype {
        // Trigger firing affects writes only.
        AtEnableTrig | AtEnableAlwaysTrig | AtEnableReplicaTrig | AtEnableTrigAll
        | AtEnableTrigUser | AtDisableTrig | AtDisableTrigAll | AtDisableTrigUser => {
            ShareRowExclusive
        }
        AtAddConstraint | AtReAddConstraint => match cmd_constraint(cmd).map(contype) {
            // Adds triggers to both tables: at least CREATE TRIGGER's level.
            Some(ConstrType::ConstrForeign) => ShareRowExclusive,
            _ => AccessExclusive,
        },
        // Planner statistics and maintenance strategy: no change to what queries return.
        AtSetStatistics
        | AtClusterOn
        | AtDropCluster
        | AtSetOptions
        | AtResetOptions
        | AtValidateConstraint
        | AtAttachPartition
        | AtDetachPartitionFinalize => ShareUpdateExclusive,
        AtDetachPartition => match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
            Some(NodeEnum::PartitionCmd(p)) if p.concurrent => ShareUpdateExclusive,
            _ => AccessExclusive,
        },
        AtSetRelOptions | AtResetRelOptions => reloptions_mode(cmd),
        _ => AccessExclusive,
    }
}

/// `SET (...)` / `RESET (...)` of storage parameters: `SHARE UPDATE EXCLUSIVE` for the
/// parameters that only tune vacuum, fill factor and the planner, `ACCESS EXCLUSIVE` for the
/// others (PostgreSQL's `AlterTableGetRelOptionsLockLevel`).
pub(super) fn reloptions_mode(cmd: &protobuf::AlterTableCmd) -> LockMode {
    const EXCLUSIVE: &[&str] = &[
        "user_catalog_table",
        "security_barrier",
        "security_invoker",
        "check_option",
        "fastupdate",
        "buffering",
    ];
    let Some(NodeEnum::List(list)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) else {
        return LockMode::AccessExclusive;
    };
    let mut mode = LockMode::ShareUpdateExclusive;
    for item in &list.items {
        if let Some(NodeEnum::DefElem(d)) = item.node.as_ref()
            && (EXCLUSIVE.contains(&d.defname.as_str()) || !d.defnamespace.is_empty())
        {
            mode = LockMode::AccessExclusive;
        }
    }
    mode
}

/// Whether a statement of this kind only ever takes locks that block neither reads nor writes
/// (queries, DML, `SET`, transaction control, `COPY`, ...): a cheap test before
/// [`statement_locks`].
pub fn never_blocks(node: &NodeEnum) -> bool {
    matches!(
        node,
        NodeEnum::SelectStmt(_)
            | NodeEnum::InsertStmt(_)
            | NodeEnum::UpdateStmt(_)
            | NodeEnum::DeleteStmt(_)
            | NodeEnum::MergeStmt(_)
            | NodeEnum::CopyStmt(_)
            | NodeEnum::VariableSetStmt(_)
            | NodeEnum::VariableShowStmt(_)
            | NodeEnum::TransactionStmt(_)
            | NodeEnum::GrantStmt(_)
            | NodeEnum::GrantRoleStmt(_)
            | NodeEnum::CreateFunctionStmt(_)
            | NodeEnum::CreateEnumStmt(_)
            | NodeEnum::AlterEnumStmt(_)
            | NodeEnum::CreateSchemaStmt(_)
            | NodeEnum::CreateExtensionStmt(_)
            | NodeEnum::CreateSeqStmt(_)
            | NodeEnum::CreateDomainStmt(_)
            | NodeEnum::CompositeTypeStmt(_)
            | NodeEnum::ViewStmt(_)
            | NodeEnum::CreateTableAsStmt(_)
            | NodeEnum::ExplainStmt(_)
            | NodeEnum::NotifyStmt(_)
            | NodeEnum::CreateRoleStmt(_)
            | NodeEnum::AlterRoleStmt(_)
            | NodeEnum::AlterDefaultPrivilegesStmt(_)
    )
}

/// Whether an expression calls a built-in volatile function ([`VOLATILE_BUILTINS`]).
pub(super) fn calls_volatile(expr: &NodeEnum) -> bool {
    volatile_builtin_call(expr).is_some()
}

/// The first built-in volatile function ([`VOLATILE_BUILTINS`]) an expression calls, by its
/// name in lower case; `is_volatile` says which other functions are volatile (a function
/// created by the migrations without `IMMUTABLE` or `STABLE`).
pub fn volatile_call(expr: &NodeEnum, is_volatile: impl Fn(&str) -> bool) -> Option<String> {
    expr.nodes()
        .into_iter()
        .find_map(|(node, _, _, _)| match node {
            NodeRef::FuncCall(f) => {
                let names = strings(&f.funcname);
                let name = names.last()?.to_lowercase();
                let builtin = names.len() == 1 || names[0] == "pg_catalog" || names[0] == "public";
                ((builtin && VOLATILE_BUILTINS.contains(&name.as_str())) || is_volatile(&name))
                    .then_some(name)
            }
            _ => None,
        })
}

pub(super) fn volatile_builtin_call(expr: &NodeEnum) -> Option<String> {
    volatile_call(expr, |_| false)
}
