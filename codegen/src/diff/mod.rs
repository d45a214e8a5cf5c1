//! The difference between two catalogs, as ordered SQL changes.
//!
//! `diff(from, to)` compares the schema the committed migrations build (replayed with
//! PostgreSQL's parser) with the one `schema.yaml` declares. Objects are matched by name, and
//! constraints and indexes also by definition, so a renamed index is renamed rather than dropped
//! and rebuilt. Tables and columns are renamed only when `schema.yaml` says so with
//! `renamed_from`: a guessed rename could lose data, and a rename must never become drop + add.
//!
//! Every change is placed in a phase; the phases run in a fixed order and changes within a phase
//! are ordered by table and object name, so the output never depends on map iteration order.

use std::collections::{BTreeSet, HashMap};

use model::ident::{quote, quote_literal};
use model::yaml::declared_name;
use model::{Catalog, DataType, ForeignKey, Index, QualifiedName, RenameHints, Table};

mod constraints;
mod objects;
mod sequences;
mod tables;

/// The hints that still have work to do against `from`: a hint whose rename an earlier
/// migration already made is history, and must not be inverted into the down migration.
pub fn pending_renames(from: &Catalog, hints: &RenameHints) -> RenameHints {
    let table = |name: &str| from.table_named(&declared_name(name));
    let tables: Vec<(String, String)> = hints
        .tables
        .iter()
        .filter(|(before, after)| table(before).is_some() && table(after).is_none())
        .cloned()
        .collect();
    let columns = hints
        .columns
        .iter()
        .filter(|(name, before, after)| {
            let old_table = tables
                .iter()
                .find(|(_, a)| a == name)
                .map_or(name.as_str(), |(b, _)| b.as_str());
            table(old_table)
                .is_some_and(|t| t.column(before).is_some() && t.column(after).is_none())
        })
        .cloned()
        .collect();
    RenameHints { tables, columns }
}

/// Which migration file a change belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// `ALTER TYPE ... ADD VALUE`, committed before anything can use the new value: PostgreSQL
    /// refuses a new label in the transaction that added it ("unsafe use of new value").
    EnumValues,
    /// Everything else that runs in one transaction.
    Main,
    /// Tables rebuilt with their rows (a plain table becoming partitioned): outside a
    /// transaction, rows moved in batches, then swapped in (see [`crate::rebuild`]).
    Rebuild,
    /// `CREATE/DROP INDEX CONCURRENTLY` on existing tables, which cannot run in a transaction but
    /// does not block writes while the index builds.
    ConcurrentIndexes,
}

/// The order changes run in within a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// `CREATE SCHEMA`, before anything is created in them.
    Schemas,
    /// `CREATE EXTENSION IF NOT EXISTS` (and updates), before the types and indexes that use
    /// them.
    Extensions,
    Renames,
    Types,
    /// Roles the schema starts granting to, created when missing.
    Roles,
    Functions,
    DropForeignKeys,
    DropConstraints,
    DropTriggers,
    DropTables,
    CreateTables,
    /// A table rebuilt into a new shape with its rows ([`Part::Rebuild`]).
    Rebuild,
    Columns,
    DropColumns,
    Constraints,
    Indexes,
    Triggers,
    ForeignKeys,
    Comments,
    /// `GRANT`/`REVOKE`, once every object exists.
    Grants,
    Cleanup,
    /// `DROP EXTENSION`, once nothing of the schema uses them.
    DropExtensions,
    /// `DROP SCHEMA`, once everything in them is gone.
    DropSchemas,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub part: Part,
    pub phase: Phase,
    /// Tie-breaker within a phase: table then object name.
    pub sort_key: String,
    pub sql: String,
    /// A short slug for the migration name, such as `add_cases_due_at`.
    pub summary: String,
    /// Why this change can lose data, when it can.
    pub destructive: Option<String>,
}

/// A change the diff cannot express safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffError(pub String);

pub fn diff(
    from: &Catalog,
    to: &Catalog,
    hints: &RenameHints,
) -> Result<Vec<Change>, Vec<DiffError>> {
    diff_with(from, to, hints, false)
}

/// The diff for a down migration: it may re-add a dropped NOT NULL column without a default,
/// which works on an empty table and fails loudly otherwise (the dropped data is gone anyway).
pub fn diff_for_down(
    from: &Catalog,
    to: &Catalog,
    hints: &RenameHints,
) -> Result<Vec<Change>, Vec<DiffError>> {
    diff_with(from, to, hints, true)
}

fn diff_with(
    from: &Catalog,
    to: &Catalog,
    hints: &RenameHints,
    reverting: bool,
) -> Result<Vec<Change>, Vec<DiffError>> {
    let mut d = Differ {
        changes: Vec::new(),
        errors: Vec::new(),
        reverting,
        sequences: Vec::new(),
    };
    let mut old = d.apply_renames(from, to, hints).into_normalized();
    let new = to.normalized();
    d.serial_sequences(&mut old, &new);
    d.sequences = new.sequences.clone();
    d.schemas(&old, &new);
    // Not normalized: that forgets the versions asked for.
    d.extensions(from, to);
    d.enums(&old, &new);
    d.roles(&old, &new);
    d.functions(&old, &new);
    let existing: BTreeSet<QualifiedName> = old.tables.iter().map(Table::qualified_name).collect();
    let mut rebuilt: BTreeSet<QualifiedName> = BTreeSet::new();
    let order: HashMap<QualifiedName, usize> = creation_order(&new)
        .iter()
        .enumerate()
        .map(|(i, t)| (t.qualified_name(), i))
        .collect();
    // Tables by name: a schema has thousands.
    let index = |c: &Catalog| -> HashMap<QualifiedName, usize> {
        let mut map = HashMap::with_capacity(c.tables.len());
        for (i, t) in c.tables.iter().enumerate() {
            map.entry(t.qualified_name()).or_insert(i);
        }
        map
    };
    let (to_index, old_index, new_index) = (index(to), index(&old), index(&new));
    let in_to = |name: &QualifiedName| to_index.get(name).map(|&i| &to.tables[i]);
    let in_old = |name: &QualifiedName| old_index.get(name).map(|&i| &old.tables[i]);
    for t in &new.tables {
        let name = t.qualified_name();
        // Columns are created and added in the order the target declares them (`normalized`
        // sorts them by name, for comparison only); constraints and indexes stay sorted by name.
        let before = in_old(&name);
        // Both normalized: an unchanged table has nothing to alter (most of a large schema),
        // and is not copied.
        if before != Some(t) {
            let mut declared = t.clone();
            if let Some(original) = in_to(&name) {
                declared.columns = original.columns.clone();
            }
            match before {
                None => d.create_table(&declared, order.get(&name).copied().unwrap_or(0)),
                Some(o) if o.partition_by != declared.partition_by => {
                    d.rebuild_table(o, &declared, &old);
                    rebuilt.insert(name);
                    continue;
                }
                Some(o) => d.alter_table(o, &declared, &new),
            }
        }
        d.grants(before, t);
    }
    // Dropped in the reverse of the order they would be created in.
    let old_order = creation_order(&old);
    for (i, t) in old_order.iter().enumerate().rev() {
        if !new_index.contains_key(&t.qualified_name()) {
            d.drop_table(t, old_order.len() - i);
        }
    }
    // Foreign keys of new tables, and of existing ones that reference new tables, come last.
    for t in &new.tables {
        let name = t.qualified_name();
        if rebuilt.contains(&name) {
            continue;
        }
        let fresh = !existing.contains(&name);
        let old_fks: &[ForeignKey] = in_old(&name).map_or(&[], |o| &o.foreign_keys);
        for fk in &t.foreign_keys {
            if !old_fks.iter().any(|o| same_fk_def(o, fk)) {
                d.add_foreign_key(t, fk, fresh);
            }
        }
    }
    if d.errors.is_empty() {
        d.changes
            .sort_by(|a, b| (a.part, a.phase, &a.sort_key).cmp(&(b.part, b.phase, &b.sort_key)));
        Ok(d.changes)
    } else {
        Err(d.errors)
    }
}

struct Differ {
    changes: Vec<Change>,
    errors: Vec<DiffError>,
    /// Planning a down migration (see [`diff_for_down`]).
    reverting: bool,
    /// The target's sequences: a column that owns its `serial` sequence is created as
    /// `serial`.
    sequences: Vec<model::Sequence>,
}

impl Differ {
    fn push(
        &mut self,
        part: Part,
        phase: Phase,
        sort_key: impl Into<String>,
        sql: String,
        summary: impl Into<String>,
    ) {
        self.changes.push(Change {
            part,
            phase,
            sort_key: sort_key.into(),
            sql,
            summary: summary.into(),
            destructive: None,
        });
    }

    fn push_destructive(
        &mut self,
        phase: Phase,
        sort_key: impl Into<String>,
        sql: String,
        summary: impl Into<String>,
        why: String,
    ) {
        self.push(Part::Main, phase, sort_key, sql, summary);
        if let Some(last) = self.changes.last_mut() {
            last.destructive = Some(why);
        }
    }

    fn error(&mut self, message: String) {
        self.errors.push(DiffError(message));
    }

    /// Applies the hints to a copy of `from` (emitting the renames) so the rest of the diff can
    /// match everything by name.
    fn apply_renames(&mut self, from: &Catalog, to: &Catalog, hints: &RenameHints) -> Catalog {
        let mut old = from.clone();
        for (before, after) in &hints.tables {
            let (before_name, after_name) = (declared_name(before), declared_name(after));
            let has_before = old.table_named(&before_name).is_some();
            let has_after = old.table_named(&after_name).is_some();
            match (has_before, has_after) {
                // Already renamed by an earlier migration: the hint is history now.
                (false, true) => continue,
                (false, false) => {
                    self.error(format!("table `{after}` is `renamed_from: {before}`, but the migrations have no table `{before}`"));
                    continue;
                }
                (true, true) => {
                    self.error(format!(
                        "table `{after}` is `renamed_from: {before}`, but both tables exist already"
                    ));
                    continue;
                }
                (true, false) => {}
            }
            if to.table_named(&before_name).is_some() {
                self.error(format!(
                    "table `{after}` is `renamed_from: {before}`, but `{before}` is still declared"
                ));
                continue;
            }
            self.push(
                Part::Main,
                Phase::Renames,
                format!("0 {before}"),
                format!(
                    "ALTER TABLE {} RENAME TO {};",
                    before_name.sql(),
                    quote(&after_name.name)
                ),
                format!("rename_{before}_to_{after}"),
            );
            for s in &mut old.sequences {
                if let Some(owner) = s.owned_by.as_mut().filter(|o| o.table == before_name) {
                    owner.table = after_name.clone();
                }
            }
            for t in &mut old.tables {
                if t.is(&before_name) {
                    t.name = after_name.name.clone();
                }
                for fk in &mut t.foreign_keys {
                    if fk.ref_table == before_name {
                        fk.ref_table = after_name.clone();
                    }
                }
            }
        }
        for (table, before, after) in &hints.columns {
            let table_name = declared_name(table);
            let Some(t) = old.tables.iter_mut().find(|t| t.is(&table_name)) else {
                continue;
            };
            match (t.column(before).is_some(), t.column(after).is_some()) {
                (false, true) => continue,
                (false, false) => {
                    self.error(format!("column `{table}.{after}` is `renamed_from: {before}`, but the migrations have no column `{table}.{before}`"));
                    continue;
                }
                (true, true) => {
                    self.error(format!("column `{table}.{after}` is `renamed_from: {before}`, but both columns exist already"));
                    continue;
                }
                (true, false) => {}
            }
            if to
                .table_named(&table_name)
                .is_some_and(|t| t.column(before).is_some())
            {
                self.error(format!("column `{table}.{after}` is `renamed_from: {before}`, but `{before}` is still declared"));
                continue;
            }
            self.push(
                Part::Main,
                Phase::Renames,
                format!("1 {table} {before}"),
                format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    table_name.sql(),
                    quote(before),
                    quote(after)
                ),
                format!("rename_{table}_{before}_to_{after}"),
            );
            rename_column_in(&mut old, &table_name, before, after);
        }
        old
    }
}

/// Tables ordered so that a referenced table comes before the tables referencing it; among the
/// tables that are ready, the smallest name goes first. A cycle is broken at its smallest name.
pub fn creation_order(catalog: &Catalog) -> Vec<&Table> {
    // Kahn's algorithm over names: the smallest table whose referenced tables (other than
    // itself) are all placed comes next; on a cycle, the smallest remaining table.
    type Key<'a> = (&'a str, &'a str);
    let by_name: HashMap<Key<'_>, &Table> = catalog
        .tables
        .iter()
        .map(|t| ((t.schema.as_str(), t.name.as_str()), t))
        .collect();
    let mut waiting_for: HashMap<Key<'_>, usize> = HashMap::with_capacity(by_name.len());
    let mut dependents: HashMap<Key<'_>, Vec<Key<'_>>> = HashMap::new();
    for (&name, table) in &by_name {
        let mut targets: Vec<Key<'_>> = table
            .foreign_keys
            .iter()
            .map(|fk| (fk.ref_table.schema.as_str(), fk.ref_table.name.as_str()))
            .filter(|target| *target != name && by_name.contains_key(target))
            .collect();
        targets.sort_unstable();
        targets.dedup();
        waiting_for.insert(name, targets.len());
        for target in targets {
            dependents.entry(target).or_default().push(name);
        }
    }
    let mut remaining: BTreeSet<Key<'_>> = by_name.keys().copied().collect();
    let mut ready: BTreeSet<Key<'_>> = waiting_for
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| *k)
        .collect();
    let mut order = Vec::with_capacity(remaining.len());
    while let Some(next) = ready.pop_first().or_else(|| remaining.first().copied()) {
        remaining.remove(&next);
        order.push(by_name[&next]);
        for dependent in dependents.get(&next).into_iter().flatten() {
            if remaining.contains(dependent)
                && let Some(n) = waiting_for.get_mut(dependent)
            {
                *n -= 1;
                if *n == 0 {
                    ready.insert(*dependent);
                }
            }
        }
    }
    order
}

fn comment_on_type(name: &str, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON TYPE {} IS {};",
        quote(name),
        comment.map_or("NULL".to_string(), quote_literal)
    )
}

fn same_fk_def(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns == b.columns
        && a.ref_table == b.ref_table
        && a.ref_columns == b.ref_columns
        && a.on_delete == b.on_delete
        && a.on_update == b.on_update
}

/// Whether an expression printed by the deparser names `column` (identifiers are words there).
fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '"'))
        .any(|word| word.trim_matches('"') == column)
}

/// Whether two generation expressions are the same one, however PostgreSQL printed them.
fn same_expression(a: &str, b: &str) -> bool {
    a == b || model::compare::comparable_expression(a) == model::compare::comparable_expression(b)
}

/// The SQL that turns identity `old` of a column into `new`. `SET` clauses change the mode and
/// options in place, keeping the sequence where it is; an option going back to PostgreSQL's
/// default (or `CYCLE` off) cannot be said that way in terms the replay follows, so the identity
/// is dropped and added again and its new sequence moved past the values already in the table.
/// `SELECT setval(...)`: the identity sequence of a column that already holds values moved
/// past them (the largest for an ascending sequence, the smallest for a descending one), when
/// that value lies within the sequence's bounds; a no-op on an empty table. Replayed as a
/// statement that changes nothing modelled.
fn move_past_data(
    table: &str,
    raw_column: &str,
    identity: &model::Identity,
    data_type: &DataType,
) -> String {
    let o = &identity.options;
    let (type_min, type_max) = data_type.integer_range();
    let increment = o.increment.unwrap_or(1);
    let ascending = increment > 0;
    let min = o.min_value.unwrap_or(if ascending { 1 } else { type_min });
    let max = o.max_value.unwrap_or(if ascending { type_max } else { -1 });
    let start = o.start.unwrap_or(if ascending { min } else { max });
    let column = quote(raw_column);
    let (extreme, low, high) = if ascending {
        ("max", start, max)
    } else {
        ("min", min, start)
    };
    format!(
        "SELECT setval(pg_get_serial_sequence({}, {}), {extreme}({column})) FROM {table} HAVING {extreme}({column}) BETWEEN {low} AND {high};",
        quote_literal(table),
        quote_literal(raw_column),
    )
}

fn identity_change(
    table: &str,
    raw_column: &str,
    data_type: &DataType,
    old: &model::Identity,
    new: &model::Identity,
) -> String {
    let column = &quote(raw_column);
    let (o, n) = (&old.options, &new.options);
    let back_to_default = [
        (o.start, n.start),
        (o.increment, n.increment),
        (o.min_value, n.min_value),
        (o.max_value, n.max_value),
        (o.cache, n.cache),
    ]
    .iter()
    .any(|(before, after)| before.is_some() && after.is_none())
        || (o.cycle && !n.cycle);
    if back_to_default {
        return format!(
            "ALTER TABLE {table} ALTER COLUMN {column} DROP IDENTITY;\n\
             ALTER TABLE {table} ALTER COLUMN {column} ADD {};\n{}",
            model::compare::describe_identity(new),
            move_past_data(table, raw_column, new, data_type)
        );
    }
    let mut clauses = Vec::new();
    if old.always != new.always {
        clauses.push(if new.always {
            "SET GENERATED ALWAYS".to_string()
        } else {
            "SET GENERATED BY DEFAULT".to_string()
        });
    }
    for (name, before, after) in [
        ("START WITH", o.start, n.start),
        ("INCREMENT BY", o.increment, n.increment),
        ("MINVALUE", o.min_value, n.min_value),
        ("MAXVALUE", o.max_value, n.max_value),
        ("CACHE", o.cache, n.cache),
    ] {
        if let Some(value) = after.filter(|_| before != after) {
            clauses.push(format!("SET {name} {value}"));
        }
    }
    if n.cycle && !o.cycle {
        clauses.push("SET CYCLE".to_string());
    }
    format!(
        "ALTER TABLE {table} ALTER COLUMN {column} {};",
        clauses.join(" ")
    )
}

fn same_index_def(a: &Index, b: &Index) -> bool {
    a.method == b.method
        && a.unique == b.unique
        && a.keys == b.keys
        && a.include == b.include
        && a.predicate == b.predicate
}

fn rename_column_in(catalog: &mut Catalog, table: &QualifiedName, before: &str, after: &str) {
    let rename = |cols: &mut Vec<String>| {
        cols.iter_mut()
            .filter(|c| *c == before)
            .for_each(|c| *c = after.to_string())
    };
    for s in &mut catalog.sequences {
        if let Some(owner) = s.owned_by.as_mut()
            && owner.table == *table
            && owner.column == before
        {
            owner.column = after.to_string();
        }
    }
    for t in &mut catalog.tables {
        if t.is(table) {
            t.columns
                .iter_mut()
                .filter(|c| c.name == before)
                .for_each(|c| c.name = after.to_string());
            if let Some(pk) = &mut t.primary_key {
                rename(&mut pk.columns);
            }
            t.uniques.iter_mut().for_each(|u| rename(&mut u.columns));
            t.foreign_keys
                .iter_mut()
                .for_each(|f| rename(&mut f.columns));
            for ix in &mut t.indexes {
                ix.keys
                    .iter_mut()
                    .filter(|k| k.column == before)
                    .for_each(|k| k.column = after.to_string());
                rename(&mut ix.include);
            }
        }
        for fk in &mut t.foreign_keys {
            if fk.ref_table == *table {
                rename(&mut fk.ref_columns);
            }
        }
    }
}

/// Whether every value of `from` is a value of `to`, so the conversion cannot fail or lose data.
pub fn is_widening(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    match (from, to) {
        (SmallInt, Integer | BigInt | Numeric(None))
        | (Integer, BigInt | Numeric(None))
        | (BigInt, Numeric(None)) => true,
        (Real, DoublePrecision) => true,
        (Varchar(_) | Char(_), Text) => true,
        (Varchar(Some(a)), Varchar(Some(b))) => b >= a,
        (Varchar(Some(_)), Varchar(None)) => true,
        (Numeric(Some((p1, s1))), Numeric(Some((p2, s2)))) => {
            let (s1, s2) = (s1.unwrap_or(0), s2.unwrap_or(0));
            s2 >= s1 && p2 - s2 >= p1 - s1
        }
        (Numeric(Some(_)), Numeric(None)) => true,
        (Json, Jsonb) => true,
        _ => false,
    }
}
