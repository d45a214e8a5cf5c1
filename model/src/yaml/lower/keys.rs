//! Primary and foreign keys: column lists, referenced tables and keys, actions.

use crate::catalog::*;
use crate::diagnostics::{Diagnostic, Pos, did_you_mean, suggest};
use crate::ident::{derived_name, parse_name_path, shown_path, yaml_name};
use crate::yaml::read::{ColumnDecl, ForeignKeyDecl, Sp, TableDecl};

use super::{Lowering, Shells, declared_name, flag};

impl Lowering<'_> {
    pub(super) fn primary_key(&mut self, decl: &TableDecl, table: &mut Table) {
        let flagged: Vec<&ColumnDecl> = decl
            .columns
            .iter()
            .filter(|c| flag(&c.primary_key))
            .collect();
        let columns = match (&decl.primary_key, flagged.as_slice()) {
            (Some(list), []) => {
                let columns = self.column_list(table, &list.value, list.pos, "the primary key");
                for c in &columns {
                    if let Some(column) = table.columns.iter_mut().find(|col| &col.name == c) {
                        column.nullable = false;
                    }
                }
                columns
            }
            (None, [_, ..]) => flagged.iter().map(|c| c.name.value.clone()).collect(),
            (Some(list), [_, ..]) => {
                self.error(list.pos, "the primary key is declared both here and with `primary_key: true` on a column; keep one");
                return;
            }
            (None, []) => {
                self.errors.push(
                    Diagnostic::new(decl.name.pos, format!("table `{}` has no primary key", decl.name.value))
                        .with_help("add `primary_key: true` to a column, e.g. `id: {type: uuid, primary_key: true, default: gen_random_uuid()}`"),
                );
                return;
            }
        };
        if !columns.is_empty() {
            table.primary_key = Some(PrimaryKey {
                name: derived_name(&[&table.name], "pkey"),
                columns,
            });
        }
    }

    /// Resolves a list of column names, reporting unknown and repeated ones.
    pub(super) fn column_list(
        &mut self,
        table: &Table,
        names: &[Sp<String>],
        pos: Pos,
        what: &str,
    ) -> Vec<String> {
        if names.is_empty() {
            self.error(pos, format!("{what} needs at least one column"));
        }
        let mut out: Vec<String> = Vec::new();
        for name in names {
            if out.contains(&name.value) {
                self.error(
                    name.pos,
                    format!("column `{}` is listed twice in {what}", name.value),
                );
            } else if self.known_column(table, name) {
                out.push(name.value.clone());
            }
        }
        if out.len() == names.len() {
            out
        } else {
            Vec::new()
        }
    }

    pub(super) fn known_column(&mut self, table: &Table, name: &Sp<String>) -> bool {
        if table.column(&name.value).is_some() {
            return true;
        }
        let mut d = Diagnostic::new(
            name.pos,
            format!("table `{}` has no column `{}`", table.name, name.value),
        );
        if let Some(s) = suggest(&name.value, table.columns.iter().map(|c| c.name.as_str())) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.errors.push(d);
        false
    }

    pub(super) fn foreign_keys(
        &mut self,
        table: &mut Table,
        decl: &TableDecl,
        tables: &Shells<'_>,
    ) {
        for column in &decl.columns {
            let Some(target) = &column.references else {
                if let Some(action) = column.on_delete.as_ref().or(column.on_update.as_ref()) {
                    self.error(
                        action.pos,
                        format!(
                            "column `{}` has a referential action but no `references`",
                            column.name.value
                        ),
                    );
                }
                continue;
            };
            // `table`, `table.column`, `schema.table`, `schema.table.column`: two parts name a
            // table of that schema when there is one (or the schema is declared), else a column.
            let help = "write `table`, `table.column`, `schema.table` or `schema.table.column`; a name holding a dot, white space or a quote goes in double quotes (`\"my.table\".\"my column\"`)";
            let parts = match parse_name_path(&target.value) {
                Ok(parts) => parts,
                Err(why) => {
                    self.errors
                        .push(Diagnostic::new(target.pos, why).with_help(help));
                    continue;
                }
            };
            let exists = |q: &QualifiedName| table.is(q) || tables.get(q).is_some();
            let (ref_table, ref_column) = match parts.as_slice() {
                [t] => (QualifiedName::public(t.clone()), None),
                [a, b] => {
                    let in_schema = QualifiedName::new(a.clone(), b.clone());
                    let column_of = QualifiedName::public(a.clone());
                    if exists(&in_schema) && exists(&column_of) {
                        let (a, b) = (yaml_name(a), yaml_name(b));
                        self.errors.push(
                            Diagnostic::new(target.pos, format!("`references: {}` is ambiguous: table `{a}.{b}`, or column `{b}` of table `{a}`", target.value))
                                .with_help(format!("write `{a}.{b}.<column>` for the first, `public.{a}.{b}` for the second")),
                        );
                        continue;
                    }
                    if exists(&in_schema) || (!exists(&column_of) && self.schemas.contains(a)) {
                        (in_schema, None)
                    } else {
                        (column_of, Some(b.clone()))
                    }
                }
                [schema, t, c] => (
                    QualifiedName::new(schema.clone(), t.clone()),
                    Some(c.clone()),
                ),
                _ => {
                    self.errors.push(
                        Diagnostic::new(
                            target.pos,
                            format!("cannot read `references: {}`", target.value),
                        )
                        .with_help(help),
                    );
                    continue;
                }
            };
            let fk = ForeignKeyDecl {
                pos: target.pos,
                columns: vec![column.name.clone()],
                references: Some(Sp {
                    value: ref_table.yaml(),
                    pos: target.pos,
                }),
                ref_columns: ref_column
                    .map(|c| Sp {
                        value: c,
                        pos: target.pos,
                    })
                    .into_iter()
                    .collect(),
                on_delete: column.on_delete.clone(),
                on_update: column.on_update.clone(),
                name: None,
            };
            self.foreign_key(table, &fk, tables);
        }
        for fk in &decl.foreign_keys {
            self.foreign_key(table, fk, tables);
        }
    }

    pub(super) fn foreign_key(
        &mut self,
        table: &mut Table,
        decl: &ForeignKeyDecl,
        tables: &Shells<'_>,
    ) {
        let columns = self.column_list(table, &decl.columns, decl.pos, "a foreign key");
        let Some(target_name) = &decl.references else {
            self.error(decl.pos, "a foreign key needs `references: <table>`");
            return;
        };
        // A self-reference sees the table being built, which already has its columns.
        let wanted = match parse_name_path(&target_name.value).as_deref() {
            Ok([_] | [_, _]) => declared_name(&target_name.value),
            Ok(_) => {
                self.errors.push(
                    Diagnostic::new(
                        target_name.pos,
                        format!("{} is not a table name", shown_path(&target_name.value)),
                    )
                    .with_help("write `table`, or `schema.table` for a table outside public"),
                );
                return;
            }
            Err(why) => {
                self.error(target_name.pos, why);
                return;
            }
        };
        let target = if table.is(&wanted) {
            Some(&*table)
        } else {
            tables.get(&wanted)
        };
        let Some(target) = target else {
            let written = wanted.yaml();
            let mut d = Diagnostic::new(
                target_name.pos,
                format!(
                    "foreign key references unknown table {}",
                    shown_path(&written)
                ),
            );
            let names: Vec<String> = tables
                .tables
                .iter()
                .map(|t| t.qualified_name().yaml())
                .collect();
            if let Some(s) = suggest(&written, names.iter().map(String::as_str)) {
                d = d.with_help(did_you_mean(s));
            }
            self.errors.push(d);
            return;
        };
        let target_shown = target.display_name().into_owned();
        let shown = table.display_name().into_owned();
        let ref_columns: Vec<String> = if decl.ref_columns.is_empty() {
            match &target.primary_key {
                Some(pk) => pk.columns.clone(),
                None => {
                    self.error(target_name.pos, format!("table `{target_shown}` has no primary key to reference; name the column as `{target_shown}.<column>`"));
                    return;
                }
            }
        } else {
            let target = target.clone();
            self.column_list(
                &target,
                &decl.ref_columns,
                target_name.pos,
                "the referenced columns",
            )
        };
        if columns.is_empty() || ref_columns.is_empty() {
            return;
        }
        if columns.len() != ref_columns.len() {
            self.error(
                decl.pos,
                format!(
                    "foreign key has {} column(s) but references {} column(s)",
                    columns.len(),
                    ref_columns.len()
                ),
            );
            return;
        }
        let mut sorted_ref = ref_columns.clone();
        sorted_ref.sort();
        let is_key = |cols: &[String]| {
            let mut cols = cols.to_vec();
            cols.sort();
            cols == sorted_ref
        };
        // A unique index PostgreSQL accepts as the referenced key: not partial, plain columns.
        let unique_index = tables.get(&target.qualified_name()).is_some_and(|shell| {
            shell.indexes.iter().any(|ix| {
                ix.unique
                    && ix.predicate.is_none()
                    && ix.keys.iter().all(|k| k.expression.is_none())
                    && is_key(&ix.keys.iter().map(|k| k.column.clone()).collect::<Vec<_>>())
            })
        });
        let referenceable = target.primary_key.iter().any(|pk| is_key(&pk.columns))
            || target.uniques.iter().any(|u| is_key(&u.columns))
            || unique_index;
        if !referenceable {
            self.errors.push(
                Diagnostic::new(
                    target_name.pos,
                    format!(
                        "`{target_shown}({})` is neither a primary key nor unique, so it cannot be referenced",
                        ref_columns.join(", ")
                    ),
                )
                .with_help("reference the primary key, or declare the referenced columns unique"),
            );
            return;
        }
        for (local, remote) in columns.iter().zip(&ref_columns) {
            let (Some(lc), Some(rc)) = (table.column(local), target.column(remote)) else {
                continue;
            };
            if !lc.data_type.references_compatibly(&rc.data_type) {
                let at = decl
                    .columns
                    .iter()
                    .find(|c| &c.value == local)
                    .map_or(decl.pos, |c| c.pos);
                self.error(at, format!(
                    "foreign key column `{shown}.{local}` is `{}` but references `{target_shown}.{remote}` of type `{}`",
                    lc.data_type, rc.data_type
                ));
                return;
            }
        }
        let on_delete = self.action(decl.on_delete.as_ref());
        let on_update = self.action(decl.on_update.as_ref());
        for (action, sp) in [(on_delete, &decl.on_delete), (on_update, &decl.on_update)] {
            if action == FkAction::SetNull {
                for c in &columns {
                    if table.column(c).is_some_and(|col| !col.nullable) {
                        let at = sp.as_ref().map_or(decl.pos, |s| s.pos);
                        self.error(
                            at,
                            format!("`set null` on column `{shown}.{c}`, which is not nullable"),
                        );
                    }
                }
            }
        }
        let name = match &decl.name {
            Some(n) => {
                self.identifier(n);
                n.value.clone()
            }
            None => {
                let parts: Vec<&str> = std::iter::once(table.name.as_str())
                    .chain(columns.iter().map(String::as_str))
                    .collect();
                derived_name(&parts, "fkey")
            }
        };
        table.foreign_keys.push(ForeignKey {
            name,
            columns,
            ref_table: target.qualified_name(),
            ref_columns,
            on_delete,
            on_update,
        });
    }

    pub(super) fn action(&mut self, text: Option<&Sp<String>>) -> FkAction {
        let Some(text) = text else {
            return FkAction::default();
        };
        FkAction::parse(&text.value).unwrap_or_else(|| {
            let options: Vec<&str> = FkAction::ALL.iter().map(|a| a.as_sql()).collect();
            self.errors.push(
                Diagnostic::new(
                    text.pos,
                    format!("unknown referential action `{}`", text.value),
                )
                .with_help(format!("expected one of: {}", options.join(", "))),
            );
            FkAction::default()
        })
    }
}
