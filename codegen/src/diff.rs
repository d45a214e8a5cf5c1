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
use model::{
    Catalog, Column, DataType, EnumType, ForeignKey, Index, QualifiedName, RenameHints, Table,
    annotations, sql_name,
};

use crate::sql;

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
    };
    let old = d.apply_renames(from, to, hints);
    let old = old.normalized();
    let new = to.normalized();
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
        let mut declared = t.clone();
        if let Some(original) = in_to(&name) {
            declared.columns = original.columns.clone();
        }
        match in_old(&name) {
            None => d.create_table(&declared, order.get(&name).copied().unwrap_or(0)),
            Some(o) if o.partition_by != declared.partition_by => {
                d.rebuild_table(o, &declared, &old);
                rebuilt.insert(name);
                continue;
            }
            // Both normalized: an unchanged table has nothing to alter (most of a large schema).
            Some(o) if o == t => {}
            Some(o) => d.alter_table(o, &declared, &new),
        }
        d.grants(in_old(&name), t);
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

    /// Schemas besides `public`: created before anything goes into them, dropped after
    /// everything in them is gone.
    fn schemas(&mut self, old: &Catalog, new: &Catalog) {
        for s in &new.schemas {
            let previous = old.schemas.iter().find(|o| o.name == s.name);
            if previous.is_none() {
                self.push(
                    Part::Main,
                    Phase::Schemas,
                    s.name.clone(),
                    sql::create_schema(s),
                    format!("create_schema_{}", s.name),
                );
            }
            if previous.map_or(s.comment.is_some(), |o| o.comment != s.comment) {
                self.push(
                    Part::Main,
                    Phase::Comments,
                    format!("0 {}", s.name),
                    sql::comment_on_schema(s),
                    format!("comment_schema_{}", s.name),
                );
            }
        }
        for s in &old.schemas {
            if !new.schemas.iter().any(|n| n.name == s.name) {
                self.push_destructive(
                    Phase::DropSchemas,
                    s.name.clone(),
                    sql::drop_schema(s),
                    format!("drop_schema_{}", s.name),
                    format!(
                        "drops schema `{}` (anything left in it that schema.yaml does not describe makes the migration fail)",
                        s.name
                    ),
                );
            }
        }
    }

    fn extensions(&mut self, old: &Catalog, new: &Catalog) {
        for e in &new.extensions {
            let summary = format!("create_extension_{}", e.name);
            match old.extensions.iter().find(|o| o.name == e.name) {
                None => self.push(
                    Part::Main,
                    Phase::Extensions,
                    e.name.clone(),
                    sql::create_extension(e),
                    summary,
                ),
                Some(o) => {
                    if o.schema != e.schema {
                        self.push(
                            Part::Main,
                            Phase::Extensions,
                            format!("{} 1", e.name),
                            sql::alter_extension_schema(e),
                            format!("move_extension_{}", e.name),
                        );
                    }
                    // PostgreSQL's extensions ship no downgrade scripts: a down migration keeps
                    // the version.
                    if e.version.is_some() && o.version != e.version && !self.reverting {
                        self.push(
                            Part::Main,
                            Phase::Extensions,
                            format!("{} 2", e.name),
                            sql::update_extension(e),
                            format!("update_extension_{}", e.name),
                        );
                    }
                }
            }
        }
        for e in &old.extensions {
            if !new.extensions.iter().any(|n| n.name == e.name) {
                self.push_destructive(
                    Phase::DropExtensions,
                    e.name.clone(),
                    sql::drop_extension(e),
                    format!("drop_extension_{}", e.name),
                    format!(
                        "drops extension `{}` with whatever it holds (the migration fails while anything else uses it)",
                        e.name
                    ),
                );
            }
        }
    }

    fn enums(&mut self, old: &Catalog, new: &Catalog) {
        for e in &new.enums {
            match old.enum_named(&e.qualified_name()) {
                None => {
                    self.push(
                        Part::Main,
                        Phase::Types,
                        e.qualified_name().display().into_owned(),
                        sql::create_enum(e),
                        format!("create_{}", e.qualified_name().display()),
                    );
                    if let Some(c) = &e.comment {
                        self.push(
                            Part::Main,
                            Phase::Comments,
                            e.qualified_name().display().into_owned(),
                            comment_on_type(&e.sql_name(), Some(c)),
                            format!("comment_{}", e.qualified_name().display()),
                        );
                    }
                }
                Some(o) => {
                    if o.values != e.values {
                        self.change_enum(o, e, new);
                    }
                    if o.comment != e.comment {
                        self.push(
                            Part::Main,
                            Phase::Comments,
                            e.qualified_name().display().into_owned(),
                            comment_on_type(&e.sql_name(), e.comment.as_deref()),
                            format!("comment_{}", e.qualified_name().display()),
                        );
                    }
                }
            }
        }
        for e in &old.enums {
            if new.enum_named(&e.qualified_name()).is_none() {
                self.push(
                    Part::Main,
                    Phase::Cleanup,
                    e.qualified_name().display().into_owned(),
                    sql::drop_enum(e),
                    format!("drop_{}", e.qualified_name().display()),
                );
            }
        }
    }

    /// Appends new labels in place when the old labels keep their order; otherwise rebuilds the
    /// type and converts every column through text.
    fn change_enum(&mut self, old: &EnumType, new: &EnumType, catalog: &Catalog) {
        let kept: Vec<&String> = new
            .values
            .iter()
            .filter(|v| old.values.contains(v))
            .collect();
        let order_kept =
            kept.len() == old.values.len() && kept.iter().zip(&old.values).all(|(a, b)| *a == b);
        if order_kept {
            let mut current: Vec<String> = old.values.clone();
            for (i, value) in new.values.iter().enumerate() {
                if current.contains(value) {
                    continue;
                }
                // Place it before the next label that exists already, or after the previous one.
                let position = match new.values[i + 1..].iter().find(|v| current.contains(v)) {
                    Some(next) => format!("BEFORE {}", quote_literal(next)),
                    None => format!("AFTER {}", quote_literal(&new.values[i - 1])),
                };
                let at = match new.values[i + 1..].iter().find(|v| current.contains(v)) {
                    Some(next) => current
                        .iter()
                        .position(|v| v == next)
                        .unwrap_or(current.len()),
                    None => current.len(),
                };
                current.insert(at, value.clone());
                self.push(
                    Part::EnumValues,
                    Phase::Types,
                    format!("{} {i:04}", new.qualified_name().display()),
                    format!(
                        "ALTER TYPE {} ADD VALUE {} {position};",
                        new.sql_name(),
                        quote_literal(value)
                    ),
                    format!("add_{}_{}", new.qualified_name().display(), value),
                );
            }
            return;
        }
        let removed: Vec<&String> = old
            .values
            .iter()
            .filter(|v| !new.values.contains(v))
            .collect();
        let temp = format!("{}__old", new.name);
        let temp_sql = sql_name(&new.schema, &temp);
        let mut statements = vec![
            format!("ALTER TYPE {} RENAME TO {};", new.sql_name(), quote(&temp)),
            sql::create_enum(new),
        ];
        for t in &catalog.tables {
            for c in &t.columns {
                if c.data_type.enum_name() != Some(&new.qualified_name()) {
                    continue;
                }
                let via = if matches!(c.data_type, DataType::Array(_)) {
                    "text[]"
                } else {
                    "text"
                };
                if c.default.is_some() {
                    statements.push(format!(
                        "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;",
                        t.sql_name(),
                        quote(&c.name)
                    ));
                }
                statements.push(format!(
                    "ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{via}::{};",
                    t.sql_name(),
                    quote(&c.name),
                    c.data_type,
                    quote(&c.name),
                    c.data_type
                ));
                if let Some(default) = &c.default {
                    statements.push(format!(
                        "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {default};",
                        t.sql_name(),
                        quote(&c.name)
                    ));
                }
            }
        }
        statements.push(format!("DROP TYPE {temp_sql};"));
        let sql = statements.join("\n");
        if removed.is_empty() {
            self.push(
                Part::Main,
                Phase::Columns,
                format!("0 {}", new.qualified_name().display()),
                sql,
                format!("reorder_{}", new.qualified_name().display()),
            );
        } else {
            let labels: Vec<String> = removed.iter().map(|v| format!("`{v}`")).collect();
            self.push_destructive(
                Phase::Columns,
                format!("0 {}", new.qualified_name().display()),
                sql,
                format!("change_{}", new.qualified_name().display()),
                format!(
                    "enum `{}` loses {} (rows holding them make the migration fail)",
                    new.qualified_name().display(),
                    labels.join(", ")
                ),
            );
        }
    }

    fn roles(&mut self, old: &Catalog, new: &Catalog) {
        let existing = old.roles();
        for role in new.roles() {
            if !existing.contains(&role) {
                self.push(
                    Part::Main,
                    Phase::Roles,
                    role,
                    sql::ensure_role(role),
                    format!("role_{role}"),
                );
            }
        }
    }

    fn functions(&mut self, old: &Catalog, new: &Catalog) {
        for f in &new.functions {
            // A new function starts with PostgreSQL's default privileges: EXECUTE for PUBLIC.
            let fresh = model::Function {
                execute: vec![model::PUBLIC.to_string()],
                ..f.clone()
            };
            let shown = f.qualified_name().display().into_owned();
            let previous = match old.function_named(&f.qualified_name()) {
                None => {
                    self.push(
                        Part::Main,
                        Phase::Functions,
                        shown.clone(),
                        sql::create_function(f),
                        format!("create_{shown}"),
                    );
                    fresh
                }
                // The signature identifies the function: changing it means a new function.
                Some(o) if o.arguments != f.arguments || o.returns != f.returns => {
                    self.push(
                        Part::Main,
                        Phase::Functions,
                        shown.clone(),
                        format!("{}\n{}", sql::drop_function(o), sql::create_function(f)),
                        format!("recreate_{shown}"),
                    );
                    fresh
                }
                Some(o) => {
                    let same_code = model::Function {
                        execute: o.execute.clone(),
                        ..f.clone()
                    };
                    if *o != same_code {
                        self.push(
                            Part::Main,
                            Phase::Functions,
                            shown.clone(),
                            sql::create_function(f).replacen(
                                "CREATE FUNCTION",
                                "CREATE OR REPLACE FUNCTION",
                                1,
                            ),
                            format!("replace_{shown}"),
                        );
                    }
                    o.clone()
                }
            };
            for role in &previous.execute {
                if !f.execute.contains(role) {
                    self.push(
                        Part::Main,
                        Phase::Grants,
                        format!("{shown} 0 {role}"),
                        sql::function_execute(f, role, false),
                        format!("revoke_{shown}"),
                    );
                }
            }
            for role in &f.execute {
                if !previous.execute.contains(role) {
                    self.push(
                        Part::Main,
                        Phase::Grants,
                        format!("{shown} 1 {role}"),
                        sql::function_execute(f, role, true),
                        format!("grant_{shown}"),
                    );
                }
            }
        }
        for f in &old.functions {
            if new.function_named(&f.qualified_name()).is_none() {
                self.push(
                    Part::Main,
                    Phase::Cleanup,
                    f.qualified_name().display().into_owned(),
                    sql::drop_function(f),
                    format!("drop_{}", f.qualified_name().display()),
                );
            }
        }
    }

    /// Table privileges: what `old` lacks is granted, what `new` lacks is revoked.
    fn grants(&mut self, old: Option<&Table>, new: &Table) {
        let old_grants: &[model::Grant] = old.map_or(&[], |o| &o.grants);
        let roles: BTreeSet<&str> = old_grants
            .iter()
            .chain(&new.grants)
            .map(|g| g.role.as_str())
            .collect();
        for role in roles {
            let before = old.map_or(&[][..], |o| o.privileges_of(role));
            let after = new.privileges_of(role);
            let revoked: Vec<model::Privilege> = before
                .iter()
                .filter(|p| !after.contains(p))
                .copied()
                .collect();
            let granted: Vec<model::Privilege> = after
                .iter()
                .filter(|p| !before.contains(p))
                .copied()
                .collect();
            if !revoked.is_empty() {
                self.push(
                    Part::Main,
                    Phase::Grants,
                    format!("{} 0 {role}", new.display_name()),
                    sql::table_privileges(new, role, &revoked, false),
                    format!("revoke_{}", new.display_name()),
                );
            }
            if !granted.is_empty() {
                self.push(
                    Part::Main,
                    Phase::Grants,
                    format!("{} 1 {role}", new.display_name()),
                    sql::table_privileges(new, role, &granted, true),
                    format!("grant_{}", new.display_name()),
                );
            }
        }
    }

    /// A table whose rows must move into a new table (partitioning added or removed).
    fn rebuild_table(&mut self, old: &Table, new: &Table, catalog: &Catalog) {
        let shown = new.display_name();
        let referenced_by: Vec<String> = catalog
            .tables
            .iter()
            .filter(|t| !t.is(&new.qualified_name()))
            .filter(|t| t.foreign_keys.iter().any(|fk| new.is(&fk.ref_table)))
            .map(|t| format!("`{}`", t.display_name()))
            .collect();
        if !referenced_by.is_empty() {
            self.error(format!(
                "table `{shown}` cannot be rebuilt to change its partitioning: {} reference it",
                referenced_by.join(", ")
            ));
            return;
        }
        match crate::rebuild::rebuild_table(old, new) {
            Ok(sql) => {
                let what = if new.partition_by.is_some() {
                    "partition"
                } else {
                    "unpartition"
                };
                self.push(
                    Part::Rebuild,
                    Phase::Rebuild,
                    shown.clone(),
                    sql,
                    format!("{what}_{shown}"),
                )
            }
            Err(why) => self.error(why),
        }
    }

    fn create_table(&mut self, t: &Table, position: usize) {
        let key = format!("{position:06}");
        let mut statements = vec![sql::create_table(t)];
        statements.extend(
            sql::folded_uniques(t)
                .into_iter()
                .map(|u| sql::add_unique(t, u)),
        );
        statements.extend(t.indexes.iter().map(|ix| sql::create_index(t, ix)));
        statements.extend(t.triggers.iter().map(|tr| sql::create_trigger(t, tr)));
        // A partitioned table takes rows only into its partitions: the current one and the
        // next `ahead` exist from the start (the maintenance function keeps it so).
        statements.extend(
            model::compliance::create_partitions_call(t, &t.name, "now()")
                .map(|call| format!("SELECT {call};")),
        );
        statements.extend(sql::comment_on_table(t));
        statements.extend(
            t.columns
                .iter()
                .filter_map(|c| sql::comment_on_column(t, c)),
        );
        self.push(
            Part::Main,
            Phase::CreateTables,
            key,
            statements.join("\n"),
            format!("create_{}", t.display_name()),
        );
    }

    fn drop_foreign_key(&mut self, t: &Table, fk: &ForeignKey) {
        self.push(
            Part::Main,
            Phase::DropForeignKeys,
            format!("{} {}", t.display_name(), fk.name),
            sql::drop_constraint(t, &fk.name),
            format!("drop_{}", fk.name),
        );
    }

    fn drop_table(&mut self, t: &Table, position: usize) {
        // Its own foreign keys go first, so dropped tables that reference each other drop in any order.
        for fk in t.foreign_keys.iter().filter(|fk| !t.is(&fk.ref_table)) {
            self.drop_foreign_key(t, fk);
        }
        self.push_destructive(
            Phase::DropTables,
            format!("{position:06}"),
            sql::drop_table(t),
            format!("drop_{}", t.display_name()),
            format!("drops table `{}` and all its rows", t.display_name()),
        );
    }

    fn alter_table(&mut self, old: &Table, new: &Table, catalog: &Catalog) {
        let table = new.sql_name();
        for c in &new.columns {
            match old.column(&c.name) {
                None => self.add_column(new, c),
                Some(o) => self.alter_column(new, old, o, c, catalog),
            }
        }
        for c in &old.columns {
            if new.column(&c.name).is_none() {
                self.push_destructive(
                    Phase::DropColumns,
                    format!("{} {}", new.display_name(), c.name),
                    format!("ALTER TABLE {table} DROP COLUMN {};", quote(&c.name)),
                    format!("drop_{}_{}", new.display_name(), c.name),
                    format!(
                        "drops column `{}.{}` and its data",
                        new.display_name(),
                        c.name
                    ),
                );
            }
        }
        if old.comment != new.comment || old.flags != new.flags {
            let text = annotations::table_comment(new.comment.as_deref(), &new.flags);
            self.push(
                Part::Main,
                Phase::Comments,
                new.display_name().into_owned(),
                format!(
                    "COMMENT ON TABLE {table} IS {};",
                    text.as_deref().map_or("NULL".to_string(), quote_literal)
                ),
                format!("comment_{}", new.display_name()),
            );
        }
        self.constraints(old, new);
        self.indexes(old, new);
        self.triggers(old, new);
        for fk in &old.foreign_keys {
            match new.foreign_keys.iter().find(|n| same_fk_def(fk, n)) {
                Some(n) if n.name != fk.name => self.rename_constraint(new, &fk.name, &n.name),
                Some(_) => {}
                None => self.drop_foreign_key(new, fk),
            }
        }
    }

    fn add_column(&mut self, t: &Table, c: &Column) {
        // Identity and generated columns compute their values for the rows already there.
        let computed = c.identity.is_some() || c.generated.is_some();
        if !c.nullable && c.default.is_none() && !computed && !self.reverting {
            self.error(format!(
                "new column `{}.{}` is NOT NULL without a default, which fails on a table with rows: give it a default, or add it nullable, backfill it, then make it NOT NULL in a later change",
                t.display_name(), c.name
            ));
            return;
        }
        let mut statements = vec![format!(
            "ALTER TABLE {} ADD COLUMN {};",
            t.sql_name(),
            sql::column_definition(c, 0)
        )];
        statements.extend(sql::comment_on_column(t, c));
        let key = format!("{} {}", t.display_name(), c.name);
        let summary = format!("add_{}_{}", t.display_name(), c.name);
        let rewrite = if c.generated.is_some() {
            Some("a stored generated column: PostgreSQL computes it for every existing row")
        } else if c.identity.is_some() {
            Some("an identity column: PostgreSQL numbers every existing row")
        } else {
            None
        };
        match rewrite {
            // Like a type change that is not a widening, the statement rewrites the whole table
            // and its indexes while reads and writes wait: it needs the same consent.
            Some(what) => self.push_destructive(
                Phase::Columns,
                key,
                statements.join("\n"),
                summary,
                format!(
                    "adds `{}.{}`, {what}, rewriting the table and its indexes under an ACCESS EXCLUSIVE lock",
                    t.display_name(),
                    c.name
                ),
            ),
            None => self.push(
                Part::Main,
                Phase::Columns,
                key,
                statements.join("\n"),
                summary,
            ),
        }
    }

    /// Identity and generation changes of an existing column, placed around the other column
    /// changes (sort keys `0` before the type change, `4` after NOT NULL): an identity is
    /// dropped before its default or nullability can change, and added once the column is NOT
    /// NULL without a default.
    fn identity_and_generation(
        &mut self,
        t: &Table,
        old_table: &Table,
        old: &Column,
        new: &Column,
        catalog: &Catalog,
    ) -> bool {
        let table = t.sql_name();
        let column = quote(&new.name);
        let key = format!("{} {}", t.display_name(), new.name);
        let shown = format!("{}.{}", t.display_name(), new.name);
        match (&old.identity, &new.identity) {
            (None, None) => {}
            (Some(_), None) => self.push(
                Part::Main,
                Phase::Columns,
                format!("{key} 0"),
                format!("ALTER TABLE {table} ALTER COLUMN {column} DROP IDENTITY;"),
                format!("drop_identity_{}_{}", t.display_name(), new.name),
            ),
            (None, Some(identity)) => self.push(
                Part::Main,
                Phase::Columns,
                format!("{key} 4"),
                format!(
                    "ALTER TABLE {table} ALTER COLUMN {column} ADD {};\n{}",
                    model::compare::describe_identity(identity),
                    move_past_data(&table, &new.name, identity, &new.data_type)
                ),
                format!("add_identity_{}_{}", t.display_name(), new.name),
            ),
            (Some(o), Some(n)) if o != n => {
                let sql = identity_change(&table, &new.name, &new.data_type, o, n);
                self.push(
                    Part::Main,
                    Phase::Columns,
                    format!("{key} 4"),
                    sql,
                    format!("alter_identity_{}_{}", t.display_name(), new.name),
                );
            }
            (Some(_), Some(_)) => {}
        }
        match (&old.generated, &new.generated) {
            (Some(_), None) => {
                self.push(
                    Part::Main,
                    Phase::Columns,
                    format!("{key} 0"),
                    format!("ALTER TABLE {table} ALTER COLUMN {column} DROP EXPRESSION;"),
                    format!("drop_expression_{}_{}", t.display_name(), new.name),
                );
                false
            }
            // PostgreSQL 15 cannot make a column generated, nor change its expression: the column
            // is dropped and added again, and what the drop takes along is put back.
            (None, Some(_)) => self.recreate_column(
                t,
                old_table,
                new,
                catalog,
                format!("replaces every value of `{shown}` by its generation expression, rewriting the table under an ACCESS EXCLUSIVE lock"),
            ),
            (Some(o), Some(n)) if !same_expression(o, n) => self.recreate_column(
                t,
                old_table,
                new,
                catalog,
                format!("recomputes generated column `{shown}` with its new expression, rewriting the table under an ACCESS EXCLUSIVE lock"),
            ),
            _ => false,
        }
    }

    /// `DROP COLUMN` and `ADD COLUMN` with the new definition, then whatever of the table the
    /// drop took along that stays (indexes, keys, checks, foreign keys naming the column). `false`
    /// (with an error) when other tables' foreign keys or the primary key use the column.
    fn recreate_column(
        &mut self,
        t: &Table,
        old_table: &Table,
        column: &Column,
        catalog: &Catalog,
        why: String,
    ) -> bool {
        let shown = format!("{}.{}", t.display_name(), column.name);
        let name = column.name.as_str();
        let uses = |cols: &[String]| cols.iter().any(|c| c == name);
        let referenced = catalog
            .incoming_foreign_keys(t)
            .any(|(_, fk)| uses(&fk.ref_columns));
        if referenced
            || old_table
                .primary_key
                .as_ref()
                .is_some_and(|pk| uses(&pk.columns))
        {
            self.error(format!(
                "`{shown}` would have to be dropped and added again, but it is part of the primary key or referenced by a foreign key"
            ));
            return true;
        }
        let mut statements = vec![
            format!("ALTER TABLE {} DROP COLUMN {};", t.sql_name(), quote(name)),
            format!(
                "ALTER TABLE {} ADD COLUMN {};",
                t.sql_name(),
                sql::column_definition(column, 0)
            ),
        ];
        statements.extend(sql::comment_on_column(t, column));
        for u in &t.uniques {
            if uses(&u.columns) && old_table.uniques.iter().any(|o| o.columns == u.columns) {
                statements.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
                    t.sql_name(),
                    quote(&u.name),
                    u.columns
                        .iter()
                        .map(|c| quote(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        for c in &t.checks {
            if mentions(&c.expression, name)
                && old_table
                    .checks
                    .iter()
                    .any(|o| o.expression == c.expression)
            {
                statements.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({});",
                    t.sql_name(),
                    quote(&c.name),
                    c.expression
                ));
            }
        }
        for ix in &t.indexes {
            let on_column = ix.keys.iter().any(|k| {
                k.column == name || k.expression.as_deref().is_some_and(|e| mentions(e, name))
            }) || uses(&ix.include)
                || ix.predicate.as_deref().is_some_and(|p| mentions(p, name));
            if on_column && old_table.indexes.iter().any(|o| same_index_def(o, ix)) {
                statements.push(sql::create_index(t, ix));
            }
        }
        for fk in &t.foreign_keys {
            if uses(&fk.columns) && old_table.foreign_keys.iter().any(|o| same_fk_def(o, fk)) {
                statements.push(sql::add_foreign_key(t, fk));
            }
        }
        self.push_destructive(
            Phase::Columns,
            format!("{} {} 1", t.display_name(), name),
            statements.join("\n"),
            format!("recreate_{}_{}", t.display_name(), name),
            why,
        );
        true
    }

    fn alter_column(
        &mut self,
        t: &Table,
        old_table: &Table,
        old: &Column,
        new: &Column,
        catalog: &Catalog,
    ) {
        if self.identity_and_generation(t, old_table, old, new, catalog) {
            // Dropped and added again with its new definition: nothing else to change.
            return;
        }
        let table = t.sql_name();
        let column = quote(&new.name);
        let key = format!("{} {}", t.display_name(), new.name);
        if old.data_type != new.data_type {
            let mut statements = Vec::new();
            if old.default.is_some() {
                statements.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT;"
                ));
            }
            statements.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE {} USING {column}::{};",
                new.data_type, new.data_type
            ));
            if let Some(default) = &new.default {
                statements.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};"
                ));
            }
            let summary = format!("alter_{}_{}_type", t.display_name(), new.name);
            if is_widening(&old.data_type, &new.data_type) {
                self.push(
                    Part::Main,
                    Phase::Columns,
                    format!("{key} 1"),
                    statements.join("\n"),
                    summary,
                );
            } else {
                self.push_destructive(
                    Phase::Columns,
                    format!("{key} 1"),
                    statements.join("\n"),
                    summary,
                    format!(
                        "changes `{}.{}` from `{}` to `{}`, which may not hold every value",
                        t.display_name(),
                        new.name,
                        old.data_type,
                        new.data_type
                    ),
                );
            }
        } else if old.default != new.default {
            let sql = match &new.default {
                Some(default) => {
                    format!("ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};")
                }
                None => format!("ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT;"),
            };
            self.push(
                Part::Main,
                Phase::Columns,
                format!("{key} 2"),
                sql,
                format!("default_{}_{}", t.display_name(), new.name),
            );
        }
        if old.nullable && !new.nullable {
            // A validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its full-table scan under
            // an exclusive lock; the scan happens in VALIDATE, which allows reads and writes.
            let check = quote(&model::ident::derived_name(
                &[&t.name, &new.name],
                "not_null",
            ));
            // With a default, existing NULLs take it: that is what the default says a missing
            // value is. Without one, VALIDATE reports the rows that need a value.
            let backfill = new.default.as_ref().map(|default| {
                format!("UPDATE {table} SET {column} = {default} WHERE {column} IS NULL;")
            });
            let sql = backfill.into_iter().chain([
                format!("ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID;"),
                format!("ALTER TABLE {table} VALIDATE CONSTRAINT {check};"),
                format!("ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;"),
                format!("ALTER TABLE {table} DROP CONSTRAINT {check};"),
            ])
            .collect::<Vec<_>>()
            .join("\n");
            self.push(
                Part::Main,
                Phase::Columns,
                format!("{key} 3"),
                sql,
                format!("require_{}_{}", t.display_name(), new.name),
            );
        } else if !old.nullable && new.nullable {
            self.push(
                Part::Main,
                Phase::Columns,
                format!("{key} 3"),
                format!("ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;"),
                format!("allow_null_{}_{}", t.display_name(), new.name),
            );
        }
        if old.comment != new.comment || old.sensitivity != new.sensitivity {
            let text = annotations::column_comment(new.comment.as_deref(), new.sensitivity);
            self.push(
                Part::Main,
                Phase::Comments,
                key,
                format!(
                    "COMMENT ON COLUMN {table}.{column} IS {};",
                    text.as_deref().map_or("NULL".to_string(), quote_literal)
                ),
                format!("comment_{}_{}", t.display_name(), new.name),
            );
        }
    }

    fn rename_constraint(&mut self, t: &Table, from: &str, to: &str) {
        self.push(
            Part::Main,
            Phase::Renames,
            format!("2 {} {from}", t.display_name()),
            format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
                t.sql_name(),
                quote(from),
                quote(to)
            ),
            format!("rename_{from}"),
        );
    }

    fn constraints(&mut self, old: &Table, new: &Table) {
        let key = |name: &str| format!("{} {name}", new.display_name());
        match (&old.primary_key, &new.primary_key) {
            (Some(o), Some(n)) if o.columns == n.columns => {
                if o.name != n.name {
                    self.rename_constraint(new, &o.name, &n.name);
                }
            }
            (o, n) => {
                if let Some(o) = o {
                    self.push(
                        Part::Main,
                        Phase::DropConstraints,
                        key(&o.name),
                        sql::drop_constraint(new, &o.name),
                        format!("drop_{}", o.name),
                    );
                }
                if let Some(n) = n {
                    let cols: Vec<String> = n.columns.iter().map(|c| quote(c)).collect();
                    self.push(
                        Part::Main,
                        Phase::Constraints,
                        key(&n.name),
                        format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({});",
                            new.sql_name(),
                            quote(&n.name),
                            cols.join(", ")
                        ),
                        format!("add_{}", n.name),
                    );
                }
            }
        }
        for u in &old.uniques {
            match new.uniques.iter().find(|n| n.columns == u.columns) {
                Some(n) if n.name != u.name => self.rename_constraint(new, &u.name, &n.name),
                Some(_) => {}
                None => self.push(
                    Part::Main,
                    Phase::DropConstraints,
                    key(&u.name),
                    sql::drop_constraint(new, &u.name),
                    format!("drop_{}", u.name),
                ),
            }
        }
        for u in &new.uniques {
            if !old.uniques.iter().any(|o| o.columns == u.columns) {
                let cols: Vec<String> = u.columns.iter().map(|c| quote(c)).collect();
                self.push(
                    Part::Main,
                    Phase::Constraints,
                    key(&u.name),
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
                        new.sql_name(),
                        quote(&u.name),
                        cols.join(", ")
                    ),
                    format!("add_{}", u.name),
                );
            }
        }
        for c in &old.checks {
            match new.checks.iter().find(|n| n.expression == c.expression) {
                Some(n) if n.name != c.name => self.rename_constraint(new, &c.name, &n.name),
                Some(_) => {}
                None => self.push(
                    Part::Main,
                    Phase::DropConstraints,
                    key(&c.name),
                    sql::drop_constraint(new, &c.name),
                    format!("drop_{}", c.name),
                ),
            }
        }
        for c in &new.checks {
            if !old.checks.iter().any(|o| o.expression == c.expression) {
                // NOT VALID first: the check then holds for new rows at once, and VALIDATE scans
                // the existing ones without blocking writes.
                let sql = format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {n} CHECK ({}) NOT VALID;\nALTER TABLE {t} VALIDATE CONSTRAINT {n};",
                    c.expression,
                    t = new.sql_name(),
                    n = quote(&c.name)
                );
                self.push(
                    Part::Main,
                    Phase::Constraints,
                    key(&c.name),
                    sql,
                    format!("add_{}", c.name),
                );
            }
        }
    }

    fn indexes(&mut self, old: &Table, new: &Table) {
        for ix in &old.indexes {
            match new.indexes.iter().find(|n| same_index_def(ix, n)) {
                Some(n) if n.name != ix.name => self.push(
                    Part::Main,
                    Phase::Renames,
                    format!("3 {}", model::display_name(&new.schema, &ix.name)),
                    format!(
                        "ALTER INDEX {} RENAME TO {};",
                        sql_name(&new.schema, &ix.name),
                        quote(&n.name)
                    ),
                    format!("rename_{}", ix.name),
                ),
                Some(_) => {}
                // PostgreSQL cannot drop a partitioned table's index concurrently; dropping it
                // is a catalog change on the parent and its partitions.
                None if new.partition_by.is_some() => self.push(
                    Part::Main,
                    Phase::DropConstraints,
                    format!("{} {}", new.display_name(), ix.name),
                    format!("DROP INDEX IF EXISTS {};", sql_name(&new.schema, &ix.name)),
                    format!("drop_{}", ix.name),
                ),
                // IF EXISTS: dropping a column in the main migration already took its indexes.
                None => self.push(
                    Part::ConcurrentIndexes,
                    Phase::DropConstraints,
                    format!("{} {}", new.display_name(), ix.name),
                    format!(
                        "DROP INDEX CONCURRENTLY IF EXISTS {};",
                        sql_name(&new.schema, &ix.name)
                    ),
                    format!("drop_{}", ix.name),
                ),
            }
        }
        for ix in &new.indexes {
            if !old.indexes.iter().any(|o| same_index_def(o, ix)) {
                if new.partition_by.is_some() {
                    self.error(format!(
                        "index `{}` on the partitioned table `{}`: PostgreSQL cannot build an index on a partitioned table concurrently, and building it in one statement blocks writes to every partition; codegen does not plan this yet (build it per partition with CREATE INDEX CONCURRENTLY and ALTER INDEX ... ATTACH PARTITION by hand)",
                        ix.name,
                        new.display_name()
                    ));
                    continue;
                }
                let sql = sql::create_index(new, ix).replacen(
                    " INDEX ",
                    " INDEX CONCURRENTLY IF NOT EXISTS ",
                    1,
                );
                self.push(
                    Part::ConcurrentIndexes,
                    Phase::Indexes,
                    format!("{} {}", new.display_name(), ix.name),
                    sql,
                    format!("add_{}", ix.name),
                );
            }
        }
    }

    fn triggers(&mut self, old: &Table, new: &Table) {
        for tr in &old.triggers {
            if !new.triggers.contains(tr) {
                self.push(
                    Part::Main,
                    Phase::DropTriggers,
                    format!("{} {}", new.display_name(), tr.name),
                    format!("DROP TRIGGER {} ON {};", quote(&tr.name), new.sql_name()),
                    format!("drop_{}", tr.name),
                );
            }
        }
        for tr in &new.triggers {
            if !old.triggers.contains(tr) {
                self.push(
                    Part::Main,
                    Phase::Triggers,
                    format!("{} {}", new.display_name(), tr.name),
                    sql::create_trigger(new, tr),
                    format!("add_{}", tr.name),
                );
            }
        }
    }

    fn add_foreign_key(&mut self, t: &Table, fk: &ForeignKey, fresh_table: bool) {
        let add = sql::add_foreign_key(t, fk);
        let sql = if fresh_table {
            add
        } else {
            // NOT VALID takes a brief lock only; VALIDATE checks existing rows without blocking writes.
            format!(
                "{} NOT VALID;\nALTER TABLE {} VALIDATE CONSTRAINT {};",
                add.trim_end_matches(';'),
                t.sql_name(),
                quote(&fk.name)
            )
        };
        self.push(
            Part::Main,
            Phase::ForeignKeys,
            format!("{} {}", t.display_name(), fk.name),
            sql,
            format!("add_{}", fk.name),
        );
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
