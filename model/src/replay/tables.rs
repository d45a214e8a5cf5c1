//! `CREATE TABLE` (with `LIKE`, `INHERITS`, `PARTITION BY` and `PARTITION OF`), and dropping
//! tables and columns with what depends on them.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, PartitionStrategy as PgStrategy};

use super::ast::expression;
use super::columns::add_column;
use super::constraints::add_constraint;
use super::{Applied, Replay, ReplayError, Result, does_not_exist};
use crate::catalog::*;
use crate::ident::{pg_name_addition, pg_unique_name};

/// The schema temporary tables live in: they are dropped at the end of the session, so no rule
/// looks at them, but later statements of the session can use them.
pub const TEMP_SCHEMA: &str = "pg_temp";

pub(super) fn create_table(cx: &mut Replay<'_>, s: &protobuf::CreateStmt) -> Result<Applied> {
    let (r, schema) = created_relation(cx, s.relation.as_ref(), "CREATE TABLE")?;
    if !claim_relation_name(
        cx,
        &schema,
        &r.relname,
        s.if_not_exists,
        RelationKind::Table,
    )? {
        return Ok(Applied::Schema);
    }
    let mut table = Table::new(&schema, &r.relname);
    let parents = parents(cx, s)?;
    if let Some(bound) = &s.partbound {
        // A partition has its parent's columns.
        if let Some(parent) = parents.first() {
            // A partition takes the parent's columns, but neither identities nor comments.
            table.columns = cx.catalog.tables[*parent]
                .columns
                .iter()
                .map(|c| Column {
                    identity: None,
                    comment: None,
                    sensitivity: Sensitivity::default(),
                    ..c.clone()
                })
                .collect();
            table.partition_of = Some(PartitionOf {
                parent: cx.catalog.tables[*parent].qualified_name(),
                bound: partition_bound(bound)?,
            });
        }
    } else {
        for &parent in &parents {
            let p = &cx.catalog.tables[parent];
            for column in &p.columns {
                if table.column(&column.name).is_none() {
                    table.columns.push(Column {
                        identity: None,
                        comment: None,
                        ..column.clone()
                    });
                }
            }
            table.checks.extend(p.checks.iter().cloned());
            table.inherits.push(p.qualified_name());
        }
    }
    if let Some(spec) = &s.partspec {
        table.partition_by = Some(partition_by(spec)?);
    }
    cx.catalog.tables.push(table);
    let position = cx.catalog.tables.len() - 1;
    let result = table_elements(cx, position, &s.table_elts);
    if result.is_err() {
        // Nothing of a failed CREATE TABLE stays (a lenient session only fails on what makes the
        // whole statement meaningless).
        cx.catalog.tables.remove(position);
        cx.session.reset();
    }
    result.map(|()| Applied::Schema)
}

/// The kinds of relation that share one namespace in a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RelationKind {
    Table,
    Index,
    Sequence,
    View,
}

/// The relation a `statement` (e.g. "CREATE TABLE") creates, and the schema it goes into.
pub(super) fn created_relation<'r>(
    cx: &Replay<'_>,
    relation: Option<&'r protobuf::RangeVar>,
    statement: &str,
) -> Result<(&'r protobuf::RangeVar, String)> {
    let r = relation.ok_or_else(|| ReplayError::new(format!("{statement} without a name")))?;
    Ok((r, cx.new_relation_schema(r)))
}

/// Makes room for a new relation `schema.name` of `kind`: `Ok(false)` when the name is taken
/// and `IF NOT EXISTS` makes the statement a no-op. A lenient session replaces an existing
/// relation of the same kind (the server accepted the statement, so what the replay holds under
/// that name is stale) and notes it.
pub(super) fn claim_relation_name(
    cx: &mut Replay<'_>,
    schema: &str,
    name: &str,
    if_not_exists: bool,
    kind: RelationKind,
) -> Result<bool> {
    let table = cx.find_table(schema, name);
    let index = cx.index_owner(schema, name);
    let sequence = cx
        .catalog
        .sequences
        .iter()
        .position(|s| s.name == name && s.schema == schema);
    let view = cx
        .catalog
        .views
        .iter()
        .position(|v| v.name == name && v.schema == schema);
    let existing = match (table, index, sequence, view) {
        (Some(_), ..) => RelationKind::Table,
        (_, Some(_), ..) => RelationKind::Index,
        (_, _, Some(_), _) => RelationKind::Sequence,
        (.., Some(_)) => RelationKind::View,
        (None, None, None, None) => return Ok(true),
    };
    if if_not_exists {
        return Ok(false);
    }
    let error = ReplayError::new(format!(
        "relation \"{}\" already exists",
        display_name(schema, name)
    ));
    if !cx.assume_applied() || existing != kind {
        return Err(error);
    }
    cx.soft(ReplayError::new(format!(
        "{}; the earlier one is replaced by this one",
        error.message
    )))?;
    match (table, index, sequence, view) {
        (Some(t), ..) => {
            cx.catalog.tables.remove(t);
        }
        (_, Some(t), ..) => cx.catalog.tables[t].indexes.retain(|i| i.name != name),
        (_, _, Some(s), _) => {
            cx.catalog.sequences.remove(s);
        }
        (.., Some(v)) => {
            cx.catalog.views.remove(v);
        }
        _ => {}
    }
    cx.session.reset();
    Ok(true)
}

/// The tables a `CREATE TABLE` inherits from or is a partition of, as positions.
fn parents(cx: &mut Replay<'_>, s: &protobuf::CreateStmt) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for parent in &s.inh_relations {
        let Some(NodeEnum::RangeVar(p)) = parent.node.as_ref() else {
            continue;
        };
        match cx.find_table(&p.schemaname, &p.relname) {
            Some(i) => out.push(i),
            None => cx.soft(does_not_exist("relation", &p.schemaname, &p.relname))?,
        }
    }
    Ok(out)
}

/// Columns, constraints and `LIKE` clauses of a new table, in order. In a lenient session a
/// part that cannot be applied is a note and the rest still applies.
fn table_elements(cx: &mut Replay<'_>, table: usize, elements: &[protobuf::Node]) -> Result<()> {
    for element in elements {
        let applied = match element.node.as_ref() {
            // In `PARTITION OF` and typed tables, a column definition without a type adds
            // constraints or a default to an inherited column.
            Some(NodeEnum::ColumnDef(c)) if c.type_name.is_none() => column_options(cx, table, c),
            Some(NodeEnum::ColumnDef(c)) => add_column(cx, table, c),
            Some(NodeEnum::Constraint(c)) => add_constraint(cx, table, c, None),
            Some(NodeEnum::TableLikeClause(like)) => like_clause(cx, table, like),
            _ => Err(ReplayError::new("unsupported table element")),
        };
        if let Err(e) = applied {
            cx.soft(e)?;
        }
    }
    Ok(())
}

/// `column WITH OPTIONS ...`: constraints on a column the table already has.
fn column_options(cx: &mut Replay<'_>, table: usize, c: &protobuf::ColumnDef) -> Result<()> {
    for constraint in &c.constraints {
        if let Some(NodeEnum::Constraint(k)) = constraint.node.as_ref() {
            add_constraint(cx, table, k, Some(&c.colname))?;
        }
    }
    Ok(())
}

/// Bits of `LIKE ... INCLUDING ...` (PostgreSQL's `CREATE_TABLE_LIKE_*`).
const LIKE_COMMENTS: u32 = 1 << 0;
const LIKE_CONSTRAINTS: u32 = 1 << 2;
const LIKE_DEFAULTS: u32 = 1 << 3;
const LIKE_GENERATED: u32 = 1 << 4;
const LIKE_IDENTITY: u32 = 1 << 5;
const LIKE_INDEXES: u32 = 1 << 6;

/// `LIKE source [INCLUDING ...]`: the source's columns (with NOT NULL), and what the options
/// ask for: defaults, identity, generation, comments, check constraints, and indexes (the
/// primary key, unique constraints and indexes, renamed after the new table). Foreign keys are
/// never copied.
fn like_clause(cx: &mut Replay<'_>, table: usize, like: &protobuf::TableLikeClause) -> Result<()> {
    let r = like
        .relation
        .as_ref()
        .ok_or_else(|| ReplayError::new("LIKE without a table"))?;
    let source = cx
        .find_table(&r.schemaname, &r.relname)
        .ok_or_else(|| does_not_exist("relation", &r.schemaname, &r.relname))?;
    let source = cx.catalog.tables[source].clone();
    let has = |bit: u32| like.options & bit != 0;
    let mut columns = Vec::new();
    for c in &source.columns {
        if cx.catalog.tables[table].column(&c.name).is_some() {
            continue;
        }
        columns.push(Column {
            default: c.default.clone().filter(|_| has(LIKE_DEFAULTS)),
            identity: c.identity.clone().filter(|_| has(LIKE_IDENTITY)),
            generated: c.generated.clone().filter(|_| has(LIKE_GENERATED)),
            comment: c.comment.clone().filter(|_| has(LIKE_COMMENTS)),
            sensitivity: if has(LIKE_COMMENTS) {
                c.sensitivity
            } else {
                Sensitivity::default()
            },
            ..Column::new(&c.name, c.data_type.clone())
        });
        if let Some(last) = columns.last_mut() {
            last.nullable = c.nullable;
        }
    }
    cx.catalog.tables[table].columns.extend(columns);
    if has(LIKE_CONSTRAINTS) {
        cx.catalog.tables[table]
            .checks
            .extend(source.checks.clone());
    }
    if has(LIKE_INDEXES) {
        let (schema, name) = {
            let t = &cx.catalog.tables[table];
            (t.schema.clone(), t.name.clone())
        };
        // Names chosen for this table are taken too, before the table holds them.
        let mut chosen: Vec<String> = Vec::new();
        let mut fresh = |cx: &mut Replay<'_>, addition: Option<&str>, label: &str| {
            let candidate = pg_unique_name(&name, addition, label, |candidate| {
                chosen.iter().any(|c| c == candidate) || cx.relation_exists(&schema, candidate)
            });
            chosen.push(candidate.clone());
            candidate
        };
        let primary_key = source.primary_key.as_ref().map(|pk| PrimaryKey {
            name: fresh(cx, None, "pkey"),
            columns: pk.columns.clone(),
        });
        let mut uniques = Vec::new();
        for u in &source.uniques {
            let addition = pg_name_addition(u.columns.iter().map(String::as_str));
            uniques.push(UniqueConstraint {
                name: fresh(cx, Some(&addition), "key"),
                columns: u.columns.clone(),
            });
        }
        let mut indexes = Vec::new();
        for ix in &source.indexes {
            let addition = pg_name_addition(ix.keys.iter().map(|k| {
                if k.expression.is_some() {
                    "expr"
                } else {
                    k.column.as_str()
                }
            }));
            indexes.push(Index {
                name: fresh(cx, Some(&addition), "idx"),
                ..ix.clone()
            });
        }
        let t = &mut cx.catalog.tables[table];
        if t.primary_key.is_none() {
            t.primary_key = primary_key;
        }
        t.uniques.extend(uniques);
        t.indexes.extend(indexes);
        cx.session.reset();
    }
    Ok(())
}

fn partition_by(spec: &protobuf::PartitionSpec) -> Result<PartitionBy> {
    let strategy = match PgStrategy::try_from(spec.strategy) {
        Ok(PgStrategy::List) => PartitionStrategy::List,
        Ok(PgStrategy::Hash) => PartitionStrategy::Hash,
        _ => PartitionStrategy::Range,
    };
    let mut keys = Vec::new();
    for param in &spec.part_params {
        let Some(NodeEnum::PartitionElem(e)) = param.node.as_ref() else {
            continue;
        };
        if e.name.is_empty() {
            keys.push(format!("({})", expression(e.expr.as_deref())?));
        } else {
            keys.push(e.name.clone());
        }
    }
    Ok(PartitionBy { strategy, keys })
}

/// A partition bound as SQL: `FOR VALUES FROM (...) TO (...)`, `FOR VALUES IN (...)`,
/// `FOR VALUES WITH (MODULUS m, REMAINDER r)` or `DEFAULT`.
pub(super) fn partition_bound(b: &protobuf::PartitionBoundSpec) -> Result<String> {
    if b.is_default {
        return Ok("DEFAULT".to_string());
    }
    let list = |nodes: &[protobuf::Node]| -> Result<String> {
        let values: Result<Vec<String>> = nodes.iter().map(|n| expression(Some(n))).collect();
        Ok(values?.join(", "))
    };
    Ok(match b.strategy.as_str() {
        "l" => format!("FOR VALUES IN ({})", list(&b.listdatums)?),
        "h" => format!(
            "FOR VALUES WITH (MODULUS {}, REMAINDER {})",
            b.modulus, b.remainder
        ),
        _ => format!(
            "FOR VALUES FROM ({}) TO ({})",
            list(&b.lowerdatums)?,
            list(&b.upperdatums)?
        ),
    })
}

/// Drops the table at `table` and what goes with it: the sequences its columns own, its
/// partitions, and (with `cascade`, or in a lenient session, which notes it) the foreign keys
/// of other tables that reference it.
pub(super) fn drop_table(cx: &mut Replay<'_>, table: usize, cascade: bool) -> Result<()> {
    let name = cx.catalog.tables[table].qualified_name();
    let what = format!("table {}", name.display());
    drop_foreign_keys_into(cx, &name, None, cascade, &what)?;
    cx.catalog
        .sequences
        .retain(|s| s.owned_by.as_ref().is_none_or(|owner| owner.table != name));
    let may_have_children = cx.may_have_children(table);
    let partitions: Vec<QualifiedName> = if may_have_children {
        cx.catalog
            .tables
            .iter()
            .filter(|t| t.partition_of.as_ref().is_some_and(|p| p.parent == name))
            .map(Table::qualified_name)
            .collect()
    } else {
        Vec::new()
    };
    cx.session.names.removing_table(cx.catalog, table);
    cx.catalog.tables.remove(table);
    if may_have_children {
        for t in &mut cx.catalog.tables {
            t.inherits.retain(|p| *p != name);
        }
    }
    if cascade {
        super::views::drop_dependent_views(cx, &name);
    }
    for partition in partitions {
        if let Some(i) = cx.find_table(&partition.schema, &partition.name) {
            drop_table(cx, i, true)?;
        }
    }
    Ok(())
}

/// Removes the foreign keys of other tables that reference `table` (those using `column` when
/// one is given), as dropping `what` does: it takes `cascade` to do so on the server, so
/// without it a lenient session notes the drop would have failed (the replay's state is stale)
/// and a strict one fails.
fn drop_foreign_keys_into(
    cx: &mut Replay<'_>,
    table: &QualifiedName,
    column: Option<&str>,
    cascade: bool,
    what: &str,
) -> Result<()> {
    cx.session.names.sync(cx.catalog);
    // The tables that may reference it, from the name index: scanning every table's keys for
    // each of thousands of dropped tables was quadratic.
    let candidates: Vec<usize> = cx
        .session
        .names
        .may_reference(cx.catalog, &table.schema, &table.name)
        .unwrap_or_else(|| (0..cx.catalog.tables.len()).collect());
    let tables = &cx.catalog.tables;
    let referencing: Vec<(usize, String)> = candidates
        .into_iter()
        .map(|i| (i, &tables[i]))
        .filter(|(_, t)| !t.is(table))
        .flat_map(|(i, t)| {
            t.foreign_keys
                .iter()
                .filter(|fk| {
                    fk.ref_table == *table
                        && column.is_none_or(|c| fk.ref_columns.iter().any(|r| r == c))
                })
                .map(move |fk| (i, fk.name.clone()))
        })
        .collect();
    if let Some((holder, fk)) = referencing.first()
        && !cascade
    {
        let holder = cx.catalog.tables[*holder].display_name().into_owned();
        cx.soft(ReplayError::new(format!(
            "cannot drop {what} because constraint {fk} on table {holder} depends on it"
        )))?;
    }
    for (holder, fk) in referencing {
        cx.catalog.tables[holder]
            .foreign_keys
            .retain(|f| f.name != fk);
    }
    Ok(())
}

/// The tables that take schema changes of the table at `table` along: its partitions and the
/// tables inheriting from it, recursively (`ALTER TABLE` without `ONLY`).
pub(super) fn descendants(catalog: &Catalog, table: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut queue = vec![catalog.tables[table].qualified_name()];
    while let Some(parent) = queue.pop() {
        for (i, t) in catalog.tables.iter().enumerate() {
            let child = t.partition_of.as_ref().is_some_and(|p| p.parent == parent)
                || t.inherits.contains(&parent);
            if child && !out.contains(&i) {
                out.push(i);
                queue.push(t.qualified_name());
            }
        }
    }
    out
}

/// Drops a column and what depends on it, as PostgreSQL does: indexes, constraints and owned
/// sequences on it go with it; foreign keys of other tables that reference it need CASCADE (a
/// lenient session drops them and notes it).
pub(super) fn drop_column(
    cx: &mut Replay<'_>,
    table: usize,
    column: &str,
    cascade: bool,
) -> Result<()> {
    let name = cx.catalog.tables[table].qualified_name();
    let what = format!("column {column} of table {}", name.display());
    drop_foreign_keys_into(cx, &name, Some(column), cascade, &what)?;
    cx.catalog.sequences.retain(|s| {
        s.owned_by
            .as_ref()
            .is_none_or(|owner| !(owner.table == name && owner.column == column))
    });
    let t = &mut cx.catalog.tables[table];
    let uses = |cols: &[String]| cols.iter().any(|c| c == column);
    t.columns.retain(|c| c.name != column);
    if t.primary_key.as_ref().is_some_and(|pk| uses(&pk.columns)) {
        t.primary_key = None;
    }
    t.uniques.retain(|u| !uses(&u.columns));
    t.foreign_keys.retain(|f| !uses(&f.columns));
    t.indexes.retain(|ix| {
        !ix.keys.iter().any(|k| {
            k.column == column || k.expression.as_deref().is_some_and(|e| mentions(e, column))
        }) && !uses(&ix.include)
            && !ix.predicate.as_deref().is_some_and(|p| mentions(p, column))
    });
    // A check constraint that mentions the column goes too; a textual test is enough here
    // because the expression was printed by the deparser with identifiers as words.
    t.checks.retain(|c| !mentions(&c.expression, column));
    Ok(())
}

pub(super) fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '"'))
        .any(|word| word.trim_matches('"') == column)
}
