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
use model::{
    Catalog, Column, DEFAULT_SCHEMA, DataType, EnumType, ForeignKey, Index, QualifiedName,
    RenameHints, Table, annotations,
};

use crate::sql;

/// The hints that still have work to do against `from`: a hint whose rename an earlier
/// migration already made is history, and must not be inverted into the down migration.
pub fn pending_renames(from: &Catalog, hints: &RenameHints) -> RenameHints {
    let tables: Vec<(String, String)> = hints
        .tables
        .iter()
        .filter(|(before, after)| from.table(before).is_some() && from.table(after).is_none())
        .cloned()
        .collect();
    let columns = hints
        .columns
        .iter()
        .filter(|(table, before, after)| {
            let old_table = tables
                .iter()
                .find(|(_, a)| a == table)
                .map_or(table.as_str(), |(b, _)| b.as_str());
            from.table(old_table)
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
    /// `CREATE/DROP INDEX CONCURRENTLY` on existing tables, which cannot run in a transaction but
    /// does not block writes while the index builds.
    ConcurrentIndexes,
}

/// The order changes run in within a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
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
    d.enums(&old, &new);
    d.roles(&old, &new);
    d.functions(&old, &new);
    let existing: BTreeSet<&str> = old.tables.iter().map(|t| t.name.as_str()).collect();
    let order: HashMap<&str, usize> = creation_order(&new)
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    for t in &new.tables {
        // Columns are created and added in the order the target declares them (`normalized`
        // sorts them by name, for comparison only); constraints and indexes stay sorted by name.
        let mut declared = t.clone();
        if let Some(original) = to.table(&t.name) {
            declared.columns = original.columns.clone();
        }
        match old.table(&t.name) {
            None => d.create_table(&declared, order.get(t.name.as_str()).copied().unwrap_or(0)),
            Some(o) => d.alter_table(o, &declared, &new),
        }
        d.grants(old.table(&t.name), t);
    }
    // Dropped in the reverse of the order they would be created in.
    let old_order = creation_order(&old);
    for (i, t) in old_order.iter().enumerate().rev() {
        if new.table(&t.name).is_none() {
            d.drop_table(t, old_order.len() - i);
        }
    }
    // Foreign keys of new tables, and of existing ones that reference new tables, come last.
    for t in &new.tables {
        let fresh = !existing.contains(t.name.as_str());
        let old_fks: &[ForeignKey] = old.table(&t.name).map_or(&[], |o| &o.foreign_keys);
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
            let has_before = old.table(before).is_some();
            let has_after = old.table(after).is_some();
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
            if to.table(before).is_some() {
                self.error(format!(
                    "table `{after}` is `renamed_from: {before}`, but `{before}` is still declared"
                ));
                continue;
            }
            self.push(
                Part::Main,
                Phase::Renames,
                format!("0 {before}"),
                format!("ALTER TABLE {} RENAME TO {};", quote(before), quote(after)),
                format!("rename_{before}_to_{after}"),
            );
            for t in &mut old.tables {
                if &t.name == before {
                    t.name = after.clone();
                }
                for fk in &mut t.foreign_keys {
                    if fk.ref_table.is(DEFAULT_SCHEMA, before) {
                        fk.ref_table = QualifiedName::public(after.clone());
                    }
                }
            }
        }
        for (table, before, after) in &hints.columns {
            let Some(t) = old.tables.iter_mut().find(|t| &t.name == table) else {
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
            if to.table(table).is_some_and(|t| t.column(before).is_some()) {
                self.error(format!("column `{table}.{after}` is `renamed_from: {before}`, but `{before}` is still declared"));
                continue;
            }
            self.push(
                Part::Main,
                Phase::Renames,
                format!("1 {table} {before}"),
                format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    quote(table),
                    quote(before),
                    quote(after)
                ),
                format!("rename_{table}_{before}_to_{after}"),
            );
            rename_column_in(&mut old, table, before, after);
        }
        old
    }

    fn enums(&mut self, old: &Catalog, new: &Catalog) {
        for e in &new.enums {
            match old.enum_type(&e.name) {
                None => {
                    self.push(
                        Part::Main,
                        Phase::Types,
                        e.name.clone(),
                        sql::create_enum(e),
                        format!("create_{}", e.name),
                    );
                    if let Some(c) = &e.comment {
                        self.push(
                            Part::Main,
                            Phase::Comments,
                            e.name.clone(),
                            comment_on_type(&e.name, Some(c)),
                            format!("comment_{}", e.name),
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
                            e.name.clone(),
                            comment_on_type(&e.name, e.comment.as_deref()),
                            format!("comment_{}", e.name),
                        );
                    }
                }
            }
        }
        for e in &old.enums {
            if new.enum_type(&e.name).is_none() {
                self.push(
                    Part::Main,
                    Phase::Cleanup,
                    e.name.clone(),
                    sql::drop_enum(e),
                    format!("drop_{}", e.name),
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
                    format!("{} {i:04}", new.name),
                    format!(
                        "ALTER TYPE {} ADD VALUE {} {position};",
                        quote(&new.name),
                        quote_literal(value)
                    ),
                    format!("add_{}_{}", new.name, value),
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
        let mut statements = vec![
            format!(
                "ALTER TYPE {} RENAME TO {};",
                quote(&new.name),
                quote(&temp)
            ),
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
                        quote(&t.name),
                        quote(&c.name)
                    ));
                }
                statements.push(format!(
                    "ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{via}::{};",
                    quote(&t.name),
                    quote(&c.name),
                    c.data_type,
                    quote(&c.name),
                    c.data_type
                ));
                if let Some(default) = &c.default {
                    statements.push(format!(
                        "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {default};",
                        quote(&t.name),
                        quote(&c.name)
                    ));
                }
            }
        }
        statements.push(format!("DROP TYPE {};", quote(&temp)));
        let sql = statements.join("\n");
        if removed.is_empty() {
            self.push(
                Part::Main,
                Phase::Columns,
                format!("0 {}", new.name),
                sql,
                format!("reorder_{}", new.name),
            );
        } else {
            let labels: Vec<String> = removed.iter().map(|v| format!("`{v}`")).collect();
            self.push_destructive(
                Phase::Columns,
                format!("0 {}", new.name),
                sql,
                format!("change_{}", new.name),
                format!(
                    "enum `{}` loses {} (rows holding them make the migration fail)",
                    new.name,
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
            let previous = match old.function(&f.name) {
                None => {
                    self.push(
                        Part::Main,
                        Phase::Functions,
                        f.name.clone(),
                        sql::create_function(f),
                        format!("create_{}", f.name),
                    );
                    fresh
                }
                // The signature identifies the function: changing it means a new function.
                Some(o) if o.arguments != f.arguments || o.returns != f.returns => {
                    self.push(
                        Part::Main,
                        Phase::Functions,
                        f.name.clone(),
                        format!("{}\n{}", sql::drop_function(o), sql::create_function(f)),
                        format!("recreate_{}", f.name),
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
                            f.name.clone(),
                            sql::create_function(f).replacen(
                                "CREATE FUNCTION",
                                "CREATE OR REPLACE FUNCTION",
                                1,
                            ),
                            format!("replace_{}", f.name),
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
                        format!("{} 0 {role}", f.name),
                        sql::function_execute(f, role, false),
                        format!("revoke_{}", f.name),
                    );
                }
            }
            for role in &f.execute {
                if !previous.execute.contains(role) {
                    self.push(
                        Part::Main,
                        Phase::Grants,
                        format!("{} 1 {role}", f.name),
                        sql::function_execute(f, role, true),
                        format!("grant_{}", f.name),
                    );
                }
            }
        }
        for f in &old.functions {
            if new.function(&f.name).is_none() {
                self.push(
                    Part::Main,
                    Phase::Cleanup,
                    f.name.clone(),
                    sql::drop_function(f),
                    format!("drop_{}", f.name),
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
                    format!("{} 0 {role}", new.name),
                    sql::table_privileges(new, role, &revoked, false),
                    format!("revoke_{}", new.name),
                );
            }
            if !granted.is_empty() {
                self.push(
                    Part::Main,
                    Phase::Grants,
                    format!("{} 1 {role}", new.name),
                    sql::table_privileges(new, role, &granted, true),
                    format!("grant_{}", new.name),
                );
            }
        }
    }

    fn create_table(&mut self, t: &Table, position: usize) {
        let key = format!("{position:06}");
        let mut statements = vec![sql::create_table(t)];
        statements.extend(t.indexes.iter().map(|ix| sql::create_index(t, ix)));
        statements.extend(t.triggers.iter().map(|tr| sql::create_trigger(t, tr)));
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
            format!("create_{}", t.name),
        );
    }

    fn drop_foreign_key(&mut self, t: &Table, fk: &ForeignKey) {
        self.push(
            Part::Main,
            Phase::DropForeignKeys,
            format!("{} {}", t.name, fk.name),
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
            format!("drop_{}", t.name),
            format!("drops table `{}` and all its rows", t.name),
        );
    }

    fn alter_table(&mut self, old: &Table, new: &Table, catalog: &Catalog) {
        let table = quote(&new.name);
        for c in &new.columns {
            match old.column(&c.name) {
                None => self.add_column(new, c),
                Some(o) => self.alter_column(new, o, c, catalog),
            }
        }
        for c in &old.columns {
            if new.column(&c.name).is_none() {
                self.push_destructive(
                    Phase::DropColumns,
                    format!("{} {}", new.name, c.name),
                    format!("ALTER TABLE {table} DROP COLUMN {};", quote(&c.name)),
                    format!("drop_{}_{}", new.name, c.name),
                    format!("drops column `{}.{}` and its data", new.name, c.name),
                );
            }
        }
        if old.comment != new.comment || old.flags != new.flags {
            let text = annotations::table_comment(new.comment.as_deref(), &new.flags);
            self.push(
                Part::Main,
                Phase::Comments,
                new.name.clone(),
                format!(
                    "COMMENT ON TABLE {table} IS {};",
                    text.as_deref().map_or("NULL".to_string(), quote_literal)
                ),
                format!("comment_{}", new.name),
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
        if !c.nullable && c.default.is_none() && !self.reverting {
            self.error(format!(
                "new column `{}.{}` is NOT NULL without a default, which fails on a table with rows: give it a default, or add it nullable, backfill it, then make it NOT NULL in a later change",
                t.name, c.name
            ));
            return;
        }
        let mut statements = vec![format!(
            "ALTER TABLE {} ADD COLUMN {};",
            quote(&t.name),
            sql::column_definition(c, 0)
        )];
        statements.extend(sql::comment_on_column(t, c));
        self.push(
            Part::Main,
            Phase::Columns,
            format!("{} {}", t.name, c.name),
            statements.join("\n"),
            format!("add_{}_{}", t.name, c.name),
        );
    }

    fn alter_column(&mut self, t: &Table, old: &Column, new: &Column, _catalog: &Catalog) {
        let table = quote(&t.name);
        let column = quote(&new.name);
        let key = format!("{} {}", t.name, new.name);
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
            let summary = format!("alter_{}_{}_type", t.name, new.name);
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
                        t.name, new.name, old.data_type, new.data_type
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
                format!("default_{}_{}", t.name, new.name),
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
                format!("require_{}_{}", t.name, new.name),
            );
        } else if !old.nullable && new.nullable {
            self.push(
                Part::Main,
                Phase::Columns,
                format!("{key} 3"),
                format!("ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;"),
                format!("allow_null_{}_{}", t.name, new.name),
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
                format!("comment_{}_{}", t.name, new.name),
            );
        }
    }

    fn rename_constraint(&mut self, t: &Table, from: &str, to: &str) {
        self.push(
            Part::Main,
            Phase::Renames,
            format!("2 {} {from}", t.name),
            format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
                quote(&t.name),
                quote(from),
                quote(to)
            ),
            format!("rename_{from}"),
        );
    }

    fn constraints(&mut self, old: &Table, new: &Table) {
        let key = |name: &str| format!("{} {name}", new.name);
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
                            quote(&new.name),
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
                        quote(&new.name),
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
                    t = quote(&new.name),
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
                    format!("3 {}", ix.name),
                    format!(
                        "ALTER INDEX {} RENAME TO {};",
                        quote(&ix.name),
                        quote(&n.name)
                    ),
                    format!("rename_{}", ix.name),
                ),
                Some(_) => {}
                // IF EXISTS: dropping a column in the main migration already took its indexes.
                None => self.push(
                    Part::ConcurrentIndexes,
                    Phase::DropConstraints,
                    format!("{} {}", new.name, ix.name),
                    format!("DROP INDEX CONCURRENTLY IF EXISTS {};", quote(&ix.name)),
                    format!("drop_{}", ix.name),
                ),
            }
        }
        for ix in &new.indexes {
            if !old.indexes.iter().any(|o| same_index_def(o, ix)) {
                let sql = sql::create_index(new, ix).replacen(
                    " INDEX ",
                    " INDEX CONCURRENTLY IF NOT EXISTS ",
                    1,
                );
                self.push(
                    Part::ConcurrentIndexes,
                    Phase::Indexes,
                    format!("{} {}", new.name, ix.name),
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
                    format!("{} {}", new.name, tr.name),
                    format!("DROP TRIGGER {} ON {};", quote(&tr.name), quote(&new.name)),
                    format!("drop_{}", tr.name),
                );
            }
        }
        for tr in &new.triggers {
            if !old.triggers.contains(tr) {
                self.push(
                    Part::Main,
                    Phase::Triggers,
                    format!("{} {}", new.name, tr.name),
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
                quote(&t.name),
                quote(&fk.name)
            )
        };
        self.push(
            Part::Main,
            Phase::ForeignKeys,
            format!("{} {}", t.name, fk.name),
            sql,
            format!("add_{}", fk.name),
        );
    }
}

/// Tables ordered so that a referenced table comes before the tables referencing it; among the
/// tables that are ready, the smallest name goes first. A cycle is broken at its smallest name.
pub fn creation_order(catalog: &Catalog) -> Vec<&Table> {
    let by_name: HashMap<(&str, &str), &Table> = catalog
        .tables
        .iter()
        .map(|t| ((t.schema.as_str(), t.name.as_str()), t))
        .collect();
    let mut remaining: BTreeSet<(&str, &str)> = by_name.keys().copied().collect();
    let mut order = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining.iter().copied().find(|name| {
            by_name[name].foreign_keys.iter().all(|fk| {
                let target = (fk.ref_table.schema.as_str(), fk.ref_table.name.as_str());
                target == *name || !remaining.contains(&target)
            })
        });
        // `remaining` is non-empty, so either a ready table or the smallest name exists.
        let Some(next) = ready.or_else(|| remaining.first().copied()) else {
            break;
        };
        remaining.remove(&next);
        order.push(by_name[&next]);
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

fn same_index_def(a: &Index, b: &Index) -> bool {
    a.method == b.method
        && a.unique == b.unique
        && a.keys == b.keys
        && a.include == b.include
        && a.predicate == b.predicate
}

fn rename_column_in(catalog: &mut Catalog, table: &str, before: &str, after: &str) {
    let rename = |cols: &mut Vec<String>| {
        cols.iter_mut()
            .filter(|c| *c == before)
            .for_each(|c| *c = after.to_string())
    };
    for t in &mut catalog.tables {
        if t.name == table {
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
            if fk.ref_table.is(DEFAULT_SCHEMA, table) {
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
