//! What hangs on a table: constraints (renamed, added, dropped, validated), indexes, triggers,
//! foreign keys.

use model::ident::quote;
use model::{ForeignKey, Table, sql_name};

use crate::sql::{self, IndexBuild};

use super::{Differ, Part, Phase, same_index_def};

impl Differ {
    pub(super) fn rename_constraint(&mut self, t: &Table, from: &str, to: &str) {
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

    pub(super) fn constraints(&mut self, old: &Table, new: &Table) {
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

    pub(super) fn indexes(&mut self, old: &Table, new: &Table) {
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
                // PostgreSQL cannot build a partitioned table's index concurrently: the parent's
                // is made alone, and the runner builds and attaches each partition's.
                let build = if new.partition_by.is_some() {
                    IndexBuild::ParentOnly
                } else {
                    IndexBuild::Concurrently
                };
                let sql = sql::create_index_as(new, ix, build);
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

    pub(super) fn triggers(&mut self, old: &Table, new: &Table) {
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

    pub(super) fn add_foreign_key(&mut self, t: &Table, fk: &ForeignKey, fresh_table: bool) {
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
