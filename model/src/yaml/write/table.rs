use std::fmt::Write as _;

use super::flags::Implied;
use super::scalar::{
    key, list, names, quoted, reference_text, yaml_default, yaml_identity, yaml_type,
};
use crate::catalog::{
    Catalog, CheckConstraint, FkAction, ForeignKey, IndexMethod, QualifiedName, Table,
};
use crate::ident::{check_identifier, derived_name, yaml_name, yaml_name_alone};

pub(super) struct Writer {
    pub(super) out: String,
    pub(super) warnings: Vec<String>,
    /// The indexes the loader adds, each with the warning naming it (by `warnings` position):
    /// the name is the loader's, looked up once the file is loaded (a derived name already taken
    /// in the schema gets a number).
    pub(super) added: Vec<AddedIndex>,
}

pub(super) struct AddedIndex {
    pub(super) table: QualifiedName,
    pub(super) columns: Vec<String>,
    pub(super) method: IndexMethod,
    pub(super) warning: usize,
    pub(super) guess: String,
}

impl AddedIndex {
    /// Puts the loader's name for the index into its warning.
    pub(super) fn name_in(&self, original: &Catalog, loaded: &Catalog, warnings: &mut [String]) {
        let (Some(before), Some(after)) = (
            original.table_named(&self.table),
            loaded.table_named(&self.table),
        ) else {
            return;
        };
        let added = after.indexes.iter().find(|ix| {
            ix.method == self.method
                && ix.predicate.is_none()
                && ix.keys.iter().map(|k| &k.column).eq(self.columns.iter())
                && !before.indexes.iter().any(|b| b.name == ix.name)
        });
        if let (Some(ix), Some(text)) = (added, warnings.get_mut(self.warning)) {
            *text = text.replace(&format!("`{}`", self.guess), &format!("`{}`", ix.name));
        }
    }
}

impl Writer {
    /// Warns about a name the format refuses; `object` names the object in the warning.
    pub(super) fn name(&mut self, object: &str, name: &str) {
        if let Err(why) = check_identifier(name) {
            self.warnings.push(format!(
                "{object}: schema.yaml refuses its name ({why}); rename it in the file and the database"
            ));
        }
    }

    pub(super) fn table(&mut self, catalog: &Catalog, t: &Table, implied: &Implied) {
        let shown = t.display_name().into_owned();
        self.name(&format!("table `{shown}`"), &t.name);
        let _ = writeln!(self.out, "  {}:", key(&t.qualified_name().yaml()));
        if let Some(comment) = &t.comment {
            let _ = writeln!(self.out, "    comment: {}", quoted(comment));
        }
        if implied.timestamps {
            self.out.push_str("    timestamps: true\n");
        }
        if implied.soft_delete {
            self.out.push_str("    soft_delete: true\n");
        }
        self.compliance(t);

        // Where each key and foreign key goes: on the column when the format can say it there
        // with the name the database has, else at table level.
        let single_pk = t
            .primary_key
            .as_ref()
            .filter(|pk| pk.columns.len() == 1)
            .map(|pk| pk.columns[0].clone());
        if let Some(pk) = &t.primary_key
            && pk.name != derived_name(&[&t.name], "pkey")
        {
            self.warnings.push(format!(
                "primary key `{}` of `{shown}` will be named `{}`: schema.yaml derives the name",
                pk.name,
                derived_name(&[&t.name], "pkey")
            ));
        }
        let unique_name = |columns: &[String]| {
            let parts: Vec<&str> = std::iter::once(t.name.as_str())
                .chain(columns.iter().map(String::as_str))
                .collect();
            derived_name(&parts, "key")
        };
        let mut column_uniques = Vec::new();
        let mut table_uniques = Vec::new();
        for u in &t.uniques {
            let derived = unique_name(&u.columns);
            if u.name != derived {
                self.warnings.push(format!(
                    "unique constraint `{shown}.{}` will be named `{derived}`: schema.yaml derives the name",
                    u.name
                ));
            }
            if u.columns.len() == 1 && !column_uniques.contains(&u.columns[0]) {
                column_uniques.push(u.columns[0].clone());
            } else {
                table_uniques.push(u);
            }
        }
        let mut column_fks: Vec<&ForeignKey> = Vec::new();
        let mut table_fks: Vec<&ForeignKey> = Vec::new();
        for fk in &t.foreign_keys {
            self.check_foreign_key(catalog, t, fk);
            let derived = fk.columns.len() == 1
                && fk.name == derived_name(&[&t.name, &fk.columns[0]], "fkey")
                && !column_fks.iter().any(|f| f.columns == fk.columns);
            if derived {
                column_fks.push(fk);
            } else {
                table_fks.push(fk);
            }
        }

        self.out.push_str("    columns:\n");
        for c in t.columns.iter().filter(|c| !implied.column(&c.name)) {
            self.name(&format!("column `{shown}.{}`", c.name), &c.name);
            // A serial column brings its sequence, NOT NULL and default with its type.
            let serial = super::omitted::written_as_serial(catalog, t, c)
                .then(|| crate::serial_name(&c.data_type))
                .flatten();
            let written_type = serial.map_or_else(|| yaml_type(&c.data_type), str::to_string);
            let mut fields = vec![format!("type: {}", quoted(&written_type))];
            // An identity column is NOT NULL by definition; the format refuses `nullable` there.
            if c.nullable && c.identity.is_none() {
                fields.push("nullable: true".to_string());
            }
            if let Some(default) = c.default.as_ref().filter(|_| serial.is_none()) {
                fields.push(format!(
                    "default: {}",
                    quoted(&yaml_default(catalog, c, default))
                ));
            }
            if let Some(identity) = &c.identity {
                fields.push(format!("identity: {}", yaml_identity(identity)));
            }
            if let Some(expression) = &c.generated {
                fields.push(format!("generated: {}", quoted(expression)));
            }
            if single_pk.as_deref() == Some(c.name.as_str()) {
                fields.push("primary_key: true".to_string());
            }
            if column_uniques.contains(&c.name) {
                fields.push("unique: true".to_string());
            }
            if let Some(fk) = column_fks.iter().find(|f| f.columns[0] == c.name) {
                fields.push(format!(
                    "references: {}",
                    quoted(&reference_text(catalog, fk))
                ));
                if fk.on_delete != FkAction::NoAction {
                    fields.push(format!("on_delete: {}", quoted(fk.on_delete.as_sql())));
                }
                if fk.on_update != FkAction::NoAction {
                    fields.push(format!("on_update: {}", quoted(fk.on_update.as_sql())));
                }
            }
            if c.sensitivity.pii {
                fields.push("pii: true".to_string());
            }
            if c.sensitivity.phi {
                fields.push("phi: true".to_string());
            }
            if c.sensitivity.encrypted {
                fields.push("encrypted: true".to_string());
            }
            if let Some(comment) = &c.comment {
                fields.push(format!("comment: {}", quoted(comment)));
            }
            let _ = writeln!(
                self.out,
                "      {}: {{ {} }}",
                key(&yaml_name_alone(&c.name)),
                fields.join(", ")
            );
        }

        if let Some(pk) = t.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
            let _ = writeln!(self.out, "    primary_key: {}", names(&pk.columns));
        }
        if !table_uniques.is_empty() {
            self.out.push_str("    unique:\n");
            for u in table_uniques {
                let _ = writeln!(self.out, "      - {}", names(&u.columns));
            }
        }
        // An encrypted column's ciphertext check comes back from `encrypted: true`.
        let written_checks: Vec<&CheckConstraint> = t
            .checks
            .iter()
            .filter(|check| {
                !t.columns.iter().any(|c| {
                    c.sensitivity.encrypted
                        && check.name == crate::compliance::encrypted_check_name(&t.name, &c.name)
                })
            })
            .collect();
        if !written_checks.is_empty() {
            self.out.push_str("    checks:\n");
            for check in written_checks {
                let name = self.check_key(t, check);
                let _ = writeln!(
                    self.out,
                    "      {}: {}",
                    key(&yaml_name_alone(&name)),
                    quoted(&check.expression)
                );
            }
        }
        if !table_fks.is_empty() {
            self.out.push_str("    foreign_keys:\n");
            for fk in table_fks {
                let mut fields = vec![
                    format!("name: {}", quoted(&yaml_name_alone(&fk.name))),
                    format!("columns: {}", names(&fk.columns)),
                    format!("references: {}", quoted(&fk.ref_table.yaml())),
                    format!("ref_columns: {}", names(&fk.ref_columns)),
                ];
                if fk.on_delete != FkAction::NoAction {
                    fields.push(format!("on_delete: {}", quoted(fk.on_delete.as_sql())));
                }
                if fk.on_update != FkAction::NoAction {
                    fields.push(format!("on_update: {}", quoted(fk.on_update.as_sql())));
                }
                let _ = writeln!(self.out, "      - {{ {} }}", fields.join(", "));
            }
        }
        self.indexes(t);
    }

    pub(super) fn indexes(&mut self, t: &Table) {
        // Duplicates, expression keys and other methods are left out already (see `omitted`).
        let shown = t.display_name().into_owned();
        if !t.indexes.is_empty() {
            self.out.push_str("    indexes:\n");
        }
        for ix in &t.indexes {
            self.name(&format!("index `{shown}.{}`", ix.name), &ix.name);
            let keys: Vec<String> = ix
                .keys
                .iter()
                .map(|k| {
                    let mut text = yaml_name(&k.column).into_owned();
                    if let Some(collation) = &k.collation {
                        text.push_str(" COLLATE ");
                        text.push_str(&crate::ident::quote(collation));
                    }
                    if let Some(opclass) = &k.opclass {
                        text.push(' ');
                        text.push_str(opclass);
                    }
                    if k.descending {
                        text.push_str(" DESC");
                    }
                    text
                })
                .collect();
            let mut fields = vec![
                format!("name: {}", quoted(&yaml_name_alone(&ix.name))),
                format!("columns: {}", list(&keys)),
            ];
            if ix.method != IndexMethod::Btree {
                fields.push(format!("using: {}", quoted(ix.method.as_sql())));
            }
            if ix.unique {
                fields.push("unique: true".to_string());
            }
            if !ix.include.is_empty() {
                fields.push(format!("include: {}", names(&ix.include)));
            }
            if let Some(predicate) = &ix.predicate {
                fields.push(format!("where: {}", quoted(predicate)));
            }
            let _ = writeln!(self.out, "      - {{ {} }}", fields.join(", "));
        }

        // What the loader would add because the database lacks it.
        for fk in &t.foreign_keys {
            if !t.has_index_leading_with(&fk.columns) {
                let parts: Vec<&str> = std::iter::once(t.name.as_str())
                    .chain(fk.columns.iter().map(String::as_str))
                    .collect();
                self.added.push(AddedIndex {
                    table: t.qualified_name(),
                    columns: fk.columns.clone(),
                    method: IndexMethod::Btree,
                    warning: self.warnings.len(),
                    guess: derived_name(&parts, "idx"),
                });
                self.warnings.push(format!(
                    "foreign key `{shown}.{}`: no index leads with ({}); loading this schema.yaml adds `{}`, so it will differ from the database until that index exists",
                    fk.name,
                    fk.columns.join(", "),
                    derived_name(&parts, "idx")
                ));
            }
        }
        for c in &t.columns {
            if c.data_type.is_jsonb() && !t.has_gin_index_on(&c.name) {
                self.added.push(AddedIndex {
                    table: t.qualified_name(),
                    columns: vec![c.name.clone()],
                    method: IndexMethod::Gin,
                    warning: self.warnings.len(),
                    guess: derived_name(&[&t.name, &c.name], "gin_idx"),
                });
                self.warnings.push(format!(
                    "JSONB column `{shown}.{}` has no GIN index; loading this schema.yaml adds `{}`, so it will differ from the database until that index exists",
                    c.name,
                    derived_name(&[&t.name, &c.name], "gin_idx")
                ));
            }
        }
    }

    /// The table's compliance keys, from its flags and grants.
    pub(super) fn compliance(&mut self, t: &Table) {
        let f = &t.flags;
        if f.append_only {
            self.out.push_str("    append_only: true\n");
        }
        if let Some(r) = &f.retention {
            let _ = writeln!(
                self.out,
                "    retention: {{ keep: {}, column: {} }}",
                quoted(&r.period),
                quoted(&yaml_name_alone(&r.column))
            );
        }
        if let Some(p) = &f.partitioning {
            let _ = writeln!(
                self.out,
                "    partitioning: {{ column: {}, interval: {}, ahead: {} }}",
                quoted(&yaml_name_alone(&p.column)),
                quoted(&p.interval),
                p.ahead
            );
        }
        let valued = [
            (
                "data_subject",
                f.data_subject.as_deref().map(yaml_name_alone),
            ),
            ("erasure", f.erasure.map(|e| e.as_str().into())),
            ("consent", f.consent.as_deref().map(yaml_name_alone)),
            (
                "requires_consent",
                f.requires_consent.as_deref().map(yaml_name_alone),
            ),
        ];
        for (name, value) in valued {
            if let Some(value) = value {
                let _ = writeln!(self.out, "    {name}: {}", quoted(&value));
            }
        }
        if !t.grants.is_empty() {
            self.out.push_str("    grants:\n");
            for g in &t.grants {
                let privileges: Vec<String> = g
                    .privileges
                    .iter()
                    .map(|p| p.as_str().to_string())
                    .collect();
                let _ = writeln!(self.out, "      {}: {}", key(&g.role), list(&privileges));
            }
        }
    }

    /// The `checks` key for a check constraint: its name without the `<table>_` prefix and
    /// `_check` suffix the format adds back.
    pub(super) fn check_key(&mut self, t: &Table, check: &CheckConstraint) -> String {
        let stripped = check
            .name
            .strip_prefix(&format!("{}_", t.name))
            .and_then(|rest| rest.strip_suffix("_check"))
            .filter(|k| !k.is_empty());
        if let Some(k) = stripped
            && derived_name(&[&t.name, k], "check") == check.name
        {
            return k.to_string();
        }
        let k = check
            .name
            .strip_suffix("_check")
            .filter(|k| !k.is_empty())
            .unwrap_or(&check.name)
            .to_string();
        self.warnings.push(format!(
            "check constraint `{}.{}` will be named `{}`: schema.yaml derives check names as <table>_<key>_check",
            t.display_name(),
            check.name,
            derived_name(&[&t.name, &k], "check")
        ));
        k
    }

    /// Warns about foreign keys the loader would refuse.
    pub(super) fn check_foreign_key(&mut self, catalog: &Catalog, t: &Table, fk: &ForeignKey) {
        let Some(target) = catalog.table_named(&fk.ref_table) else {
            return;
        };
        let mut wanted = fk.ref_columns.clone();
        wanted.sort();
        let is_key = |columns: &[String]| {
            let mut columns = columns.to_vec();
            columns.sort();
            columns == wanted
        };
        let referenceable = target.primary_key.iter().any(|pk| is_key(&pk.columns))
            || target.uniques.iter().any(|u| is_key(&u.columns))
            || target.indexes.iter().any(|ix| {
                ix.unique
                    && ix.predicate.is_none()
                    && ix.keys.iter().all(|k| k.expression.is_none())
                    && is_key(&ix.keys.iter().map(|k| k.column.clone()).collect::<Vec<_>>())
            });
        if !referenceable {
            self.warnings.push(format!(
                "foreign key `{}.{}` references ({}) of `{}`, which is backed by a unique index but no primary key or unique constraint; schema.yaml needs a constraint",
                t.display_name(),
                fk.name,
                fk.ref_columns.join(", "),
                target.display_name()
            ));
        }
        for (local, remote) in fk.columns.iter().zip(&fk.ref_columns) {
            if let (Some(l), Some(r)) = (t.column(local), target.column(remote))
                && !l.data_type.references_compatibly(&r.data_type)
            {
                self.warnings.push(format!(
                    "foreign key `{}.{}`: `{local}` is {} but `{}.{remote}` is {}; schema.yaml needs types PostgreSQL can compare",
                    t.display_name(),
                    fk.name,
                    l.data_type,
                    target.display_name(),
                    r.data_type
                ));
            }
        }
    }
}
