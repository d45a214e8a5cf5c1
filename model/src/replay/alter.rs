//! `ALTER TABLE` and its subcommands. Column changes reach the table's partitions and the
//! tables inheriting from it, as on the server, unless the statement says `ONLY`.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, DropBehavior, ObjectType};

use super::ast::{column_mut, expression};
use super::columns::{add_column, column_type};
use super::constraints::{add_constraint, drop_constraint};
use super::sequences::sequence_clauses;
use super::tables::{descendants, drop_column, partition_bound};
use super::{Applied, Replay, ReplayError, Result, does_not_exist, settle};
use crate::catalog::*;

pub(super) fn alter_table(cx: &mut Replay<'_>, s: &protobuf::AlterTableStmt) -> Result<Applied> {
    match ObjectType::try_from(s.objtype) {
        Ok(ObjectType::ObjectTable) => {}
        Ok(ObjectType::ObjectType) => return super::types::alter_composite(cx, s),
        // Indexes, views, sequences: storage, ownership and the like, which the model does
        // not hold.
        Ok(
            ObjectType::ObjectIndex
            | ObjectType::ObjectView
            | ObjectType::ObjectMatview
            | ObjectType::ObjectSequence,
        ) => return Ok(Applied::Schema),
        _ => return Ok(Applied::Unmodelled("ALTER of a foreign table")),
    }
    let r = s
        .relation
        .as_ref()
        .ok_or_else(|| ReplayError::new("ALTER TABLE without a table"))?;
    let Some(table) = cx.find_table(&r.schemaname, &r.relname) else {
        if s.missing_ok {
            return Ok(Applied::Schema);
        }
        return Err(does_not_exist("relation", &r.schemaname, &r.relname));
    };
    let recurse = r.inh;
    // Each subcommand on its own: in a lenient session one that cannot be followed does not
    // stop the others.
    let mut failures = Vec::new();
    let mut applied = 0;
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
            continue;
        };
        match subcommand(cx, table, cmd, recurse) {
            Ok(()) => applied += 1,
            Err(e) if cx.lenient() => failures.push(e),
            Err(e) => return Err(e),
        }
    }
    settle(cx, applied, failures)?;
    Ok(Applied::Schema)
}

fn subcommand(
    cx: &mut Replay<'_>,
    table: usize,
    cmd: &protobuf::AlterTableCmd,
    recurse: bool,
) -> Result<()> {
    let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
    let kind = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
    // The table and, for column changes, its partitions and children.
    let mut targets = vec![table];
    let propagates = matches!(
        kind,
        AlterTableType::AtAddColumn
            | AlterTableType::AtDropColumn
            | AlterTableType::AtAlterColumnType
            | AlterTableType::AtSetNotNull
            | AlterTableType::AtDropNotNull
            | AlterTableType::AtColumnDefault
    );
    if propagates && recurse && cx.may_have_children(table) {
        targets.extend(descendants(cx.catalog, table));
    }
    for (n, &t) in targets.iter().enumerate() {
        let is_child = n > 0;
        match kind {
            AlterTableType::AtAddColumn => {
                let Some(NodeEnum::ColumnDef(c)) = def else {
                    return Err(ReplayError::new("ADD COLUMN without a column"));
                };
                let exists = cx.catalog.tables[t].column(&c.colname).is_some();
                // A child may have the column already: the server merges them.
                if exists && (cmd.missing_ok || is_child) {
                    continue;
                }
                add_column(cx, t, c)?;
            }
            AlterTableType::AtDropColumn => {
                if cx.catalog.tables[t].column(&cmd.name).is_none() {
                    if cmd.missing_ok || is_child {
                        continue;
                    }
                    column_mut(&mut cx.catalog.tables[t], &cmd.name)?;
                }
                let cascade = DropBehavior::try_from(cmd.behavior) == Ok(DropBehavior::DropCascade);
                drop_column(cx, t, &cmd.name, cascade)?;
            }
            AlterTableType::AtAlterColumnType => {
                let Some(NodeEnum::ColumnDef(c)) = def else {
                    return Err(ReplayError::new("ALTER COLUMN TYPE without a type"));
                };
                let type_name = c
                    .type_name
                    .as_ref()
                    .ok_or_else(|| ReplayError::new("ALTER COLUMN TYPE without a type"))?;
                let new_type = column_type(cx, type_name)?;
                column_mut(&mut cx.catalog.tables[t], &cmd.name)?.data_type = new_type;
            }
            AlterTableType::AtSetNotNull => {
                column_mut(&mut cx.catalog.tables[t], &cmd.name)?.nullable = false;
            }
            AlterTableType::AtDropNotNull => {
                column_mut(&mut cx.catalog.tables[t], &cmd.name)?.nullable = true;
            }
            AlterTableType::AtColumnDefault => {
                let default = match cmd.def.as_deref() {
                    Some(d) => Some(expression(Some(d))?),
                    None => None,
                };
                column_mut(&mut cx.catalog.tables[t], &cmd.name)?.default = default;
            }
            AlterTableType::AtAddConstraint => {
                let Some(NodeEnum::Constraint(c)) = def else {
                    return Err(ReplayError::new("ADD CONSTRAINT without a constraint"));
                };
                add_constraint(cx, t, c, None)?;
            }
            AlterTableType::AtDropConstraint => {
                let found = drop_constraint(&mut cx.catalog.tables[t], &cmd.name);
                if !found && !cmd.missing_ok {
                    return Err(ReplayError::new(format!(
                        "constraint \"{}\" of relation \"{}\" does not exist",
                        cmd.name,
                        cx.catalog.tables[t].display_name()
                    )));
                }
            }
            AlterTableType::AtAddIdentity => {
                let Some(NodeEnum::Constraint(c)) = def else {
                    return Err(ReplayError::new("ADD GENERATED without an identity"));
                };
                add_constraint(cx, t, c, Some(&cmd.name))?;
            }
            AlterTableType::AtSetIdentity => {
                let options = match def {
                    Some(NodeEnum::List(list)) => list.items.clone(),
                    _ => Vec::new(),
                };
                let clauses = sequence_clauses(&options);
                let column = column_mut(&mut cx.catalog.tables[t], &cmd.name)?;
                let data_type = column.data_type.clone();
                let identity = column.identity.as_mut().ok_or_else(|| {
                    ReplayError::new(format!("column \"{}\" is not an identity column", cmd.name))
                })?;
                clauses.apply_to(&mut identity.options);
                identity.options = identity.options.without_defaults(&data_type);
                if let Some(always) = clauses.always {
                    identity.always = always;
                }
            }
            AlterTableType::AtDropIdentity => {
                let column = column_mut(&mut cx.catalog.tables[t], &cmd.name)?;
                if column.identity.take().is_none() && !cmd.missing_ok {
                    return Err(ReplayError::new(format!(
                        "column \"{}\" is not an identity column",
                        cmd.name
                    )));
                }
            }
            AlterTableType::AtDropExpression => {
                column_mut(&mut cx.catalog.tables[t], &cmd.name)?.generated = None;
            }
            AlterTableType::AtAttachPartition => {
                let Some(NodeEnum::PartitionCmd(p)) = def else {
                    return Err(ReplayError::new("ATTACH PARTITION without a partition"));
                };
                let r = p
                    .name
                    .as_ref()
                    .ok_or_else(|| ReplayError::new("ATTACH PARTITION without a partition"))?;
                let partition = cx
                    .find_table(&r.schemaname, &r.relname)
                    .ok_or_else(|| does_not_exist("relation", &r.schemaname, &r.relname))?;
                let bound = match &p.bound {
                    Some(b) => partition_bound(b)?,
                    None => "DEFAULT".to_string(),
                };
                let parent = cx.catalog.tables[t].qualified_name();
                cx.session.names.parent_added(&parent);
                cx.catalog.tables[partition].partition_of = Some(PartitionOf { parent, bound });
            }
            AlterTableType::AtDetachPartition | AlterTableType::AtDetachPartitionFinalize => {
                if let Some(NodeEnum::PartitionCmd(p)) = def
                    && let Some(r) = &p.name
                    && let Some(partition) = cx.find_table(&r.schemaname, &r.relname)
                {
                    cx.catalog.tables[partition].partition_of = None;
                }
            }
            AlterTableType::AtAddInherit => {
                let Some(NodeEnum::RangeVar(p)) = def else {
                    return Err(ReplayError::new("INHERIT without a table"));
                };
                let parent = cx
                    .find_table(&p.schemaname, &p.relname)
                    .ok_or_else(|| does_not_exist("relation", &p.schemaname, &p.relname))?;
                let parent = cx.catalog.tables[parent].qualified_name();
                cx.session.names.parent_added(&parent);
                cx.catalog.tables[t].inherits.push(parent);
            }
            AlterTableType::AtDropInherit => {
                if let Some(NodeEnum::RangeVar(p)) = def {
                    cx.catalog.tables[t].inherits.retain(|q| {
                        !(q.name == p.relname
                            && (p.schemaname.is_empty() || q.schema == p.schemaname))
                    });
                }
            }
            // Validation turns NOT VALID into valid; the model already holds the constraint.
            // The rest (storage parameters, row-level security, ownership, replica identity,
            // triggers enabled or not, statistics, clustering, logged or not, ...) changes
            // nothing the model holds.
            _ => {}
        }
    }
    Ok(())
}
