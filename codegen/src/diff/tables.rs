//! Tables and columns: create, drop, rebuild with rows, alter column by column, grants.

use std::collections::BTreeSet;

use model::ident::{quote, quote_literal};
use model::{Catalog, Column, ForeignKey, Table, annotations};

use crate::sql;

use super::{
    Differ, Part, Phase, identity_change, is_widening, mentions, move_past_data, same_expression,
    same_fk_def, same_index_def,
};

impl Differ {
    /// Table privileges: what `old` lacks is granted, what `new` lacks is revoked.
    pub(super) fn grants(&mut self, old: Option<&Table>, new: &Table) {
        let old_grants: &[model::Grant] = old.map_or(&[], |o| &o.grants);
        let roles: BTreeSet<&str> = old_grants
            .iter()
            .chain(&new.grants)
            .map(|g| g.role.as_str())
            .collect();
        for role in roles {
            let before = old.map_or(&[][..], |o| o.privileges_of(role));
            let after = new.privileges_of(role);
            // Revokes sort before grants (the `0`/`1` in the key).
            let changes = [(0, "revoke", before, after), (1, "grant", after, before)];
            for (order, verb, holds, lacks) in changes {
                let privileges: Vec<model::Privilege> = holds
                    .iter()
                    .filter(|p| !lacks.contains(p))
                    .copied()
                    .collect();
                if !privileges.is_empty() {
                    self.push(
                        Part::Main,
                        Phase::Grants,
                        format!("{} {order} {role}", new.display_name()),
                        sql::table_privileges(new, role, &privileges, verb == "grant"),
                        format!("{verb}_{}", new.display_name()),
                    );
                }
            }
        }
    }

    /// A table whose rows must move into a new table (partitioning added or removed).
    pub(super) fn rebuild_table(&mut self, old: &Table, new: &Table, catalog: &Catalog) {
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
        if let Some(c) = old
            .columns
            .iter()
            .find(|c| model::serial_sequence(&catalog.sequences, old, c).is_some())
        {
            self.error(format!(
                "table `{shown}` cannot be rebuilt to change its partitioning: its serial column `{}` owns a sequence that would go with the old table; make it an integer with `identity` first",
                c.name
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

    pub(super) fn create_table(&mut self, t: &Table, position: usize) {
        let key = format!("{position:06}");
        let mut statements = vec![sql::create_table(t, &self.sequences)];
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

    pub(super) fn drop_foreign_key(&mut self, t: &Table, fk: &ForeignKey) {
        self.push(
            Part::Main,
            Phase::DropForeignKeys,
            format!("{} {}", t.display_name(), fk.name),
            sql::drop_constraint(t, &fk.name),
            format!("drop_{}", fk.name),
        );
    }

    pub(super) fn drop_table(&mut self, t: &Table, position: usize) {
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

    pub(super) fn alter_table(&mut self, old: &Table, new: &Table, catalog: &Catalog) {
        let table = new.sql_name();
        for c in &new.columns {
            match old.column(&c.name) {
                None => self.add_column(new, c),
                Some(o) => {
                    // A column dropped and added again with its new definition (`true`) has
                    // nothing else to change.
                    if !self.identity_and_generation(new, old, o, c, catalog) {
                        self.alter_column(new, o, c);
                    }
                }
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

    pub(super) fn add_column(&mut self, t: &Table, c: &Column) {
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
            sql::column_definition(c, 0, self.is_serial(t, c))
        )];
        statements.extend(sql::comment_on_column(t, c));
        let key = format!("{} {}", t.display_name(), c.name);
        let summary = format!("add_{}_{}", t.display_name(), c.name);
        let rewrite = if c.generated.is_some() {
            Some("a stored generated column: PostgreSQL computes it for every existing row")
        } else if c.identity.is_some() {
            Some("an identity column: PostgreSQL numbers every existing row")
        } else if self.is_serial(t, c) {
            Some("a serial column: PostgreSQL numbers every existing row")
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
    pub(super) fn identity_and_generation(
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
    pub(super) fn recreate_column(
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
                sql::column_definition(column, 0, self.is_serial(t, column))
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

    /// The changes of an existing column besides identity and generation: type, default,
    /// nullability, comment.
    pub(super) fn alter_column(&mut self, t: &Table, old: &Column, new: &Column) {
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
}
