//! An introspected catalog written back as a `schema.yaml` that `codegen` turns into the same
//! database.
//!
//! The YAML format has conveniences the catalog has already expanded, and things it cannot say
//! at all; [`to_schema_yaml`] maps one onto the other and accounts for every gap:
//!
//! - What the format cannot say is left out, each object once, in [`SchemaYaml::left_out`] (see
//!   [`omitted`]): extensions with names the format refuses, domains (their columns are written with the base type), composite
//!   types, sequences (a `serial` column's default with them), views, partitioned tables and
//!   partitions, tables that inherit, tables without a primary key, columns of types the format
//!   cannot spell, expression indexes and indexes of other methods, triggers and functions other
//!   than the ones `timestamps` and the compliance keys generate, enum comments, privileges of
//!   roles the format cannot declare. The file is written from the catalog without them.
//! - `timestamps: true` is written only when the table has exactly what that flag generates
//!   (`created_at`/`updated_at` as `schema.yaml` declares them, the `<table>_set_updated_at`
//!   trigger and the `set_updated_at()` function); `soft_delete: true` only when the table
//!   carries the flag and exactly the `deleted_at` column it adds. Otherwise the columns are
//!   written out and the flag left off.
//! - Schemas besides `public` go under `schemas`, their tables and enums as `schema.name`;
//!   identity and generated columns as `identity` and `generated`.
//! - Every index is written with its `name`, so names round-trip. The loader adds an index to a
//!   foreign key no index leads with, and a GIN index to a JSONB column that has none; a database
//!   that lacks them cannot be written as a `schema.yaml` that loads back without them, and each
//!   case is a warning ([`SchemaYaml::warnings`]), as are names the format derives (primary keys,
//!   unique and check constraints) when the database's differ; foreign keys keep theirs through
//!   the table-level `name`.
//!
//! Strings are always written double-quoted and escaped, so no comment, default or label can be
//! misread as YAML. Finally the text is loaded back with [`model::load_schema`] and compared with
//! the catalog without what was left out ([`SchemaYaml::round_trip`]).

pub mod omitted;

use std::fmt::Write as _;

use model::catalog::*;
use model::compare::{Difference, compare};
use model::expr::literal_label;
use model::ident::{
    check_identifier, derived_name, is_bare, quote_literal, yaml_name, yaml_name_alone,
};
use model::types::DataType;
use model::yaml::SET_UPDATED_AT;

pub use omitted::{LeftOut, Omitted};

/// A written `schema.yaml` and what it cannot reproduce.
#[derive(Debug, Clone)]
pub struct SchemaYaml {
    pub text: String,
    /// What the file leaves out because the format cannot say it, each object once, in a fixed
    /// order.
    pub left_out: Vec<LeftOut>,
    /// Why the file, loaded, still differs from the catalog without what is left out (names the
    /// format derives, indexes the loader adds), one line each, in table order.
    pub warnings: Vec<String>,
    /// `text` loaded back and compared with the catalog without what is left out (`a` is that
    /// catalog, `b` the file): empty when the file reproduces it exactly; `Err` with the
    /// loader's report when the file does not load (a name the format refuses).
    pub round_trip: Result<Vec<Difference>, String>,
}

impl SchemaYaml {
    /// Every line to tell the reader: what is left out, then the warnings.
    pub fn messages(&self) -> impl Iterator<Item = &str> {
        self.left_out
            .iter()
            .map(|l| l.reason.as_str())
            .chain(self.warnings.iter().map(String::as_str))
    }
}

/// The functions and triggers the compliance declarations and `timestamps` of `catalog`
/// generate: its `set_updated_at` triggers and functions kept, and the compliance objects its
/// flags stand for added.
fn declared(catalog: &Catalog) -> Catalog {
    let mut declared = catalog.clone();
    declared
        .functions
        .retain(|f| f.qualified_name().is(DEFAULT_SCHEMA, SET_UPDATED_AT));
    for t in &mut declared.tables {
        t.triggers
            .retain(|tr| tr.function.is(DEFAULT_SCHEMA, SET_UPDATED_AT));
    }
    let execute_of = |name: &str| {
        catalog
            .function(name)
            .map(|f| f.execute.clone())
            .unwrap_or_default()
    };
    model::compliance::add_generated_objects(&mut declared, &execute_of);
    declared
}

/// Writes `catalog` as `schema.yaml`. `source` is named in the header comment (e.g. the
/// database schemas it was read from).
pub fn to_schema_yaml(catalog: &Catalog, source: &str) -> SchemaYaml {
    let reference = Reference::new();
    let generated = declared(catalog);
    let timestamp_tables = catalog
        .tables
        .iter()
        .filter(|t| reference.implied(catalog, t).timestamps)
        .count();
    let kept_trigger = |catalog: &Catalog, t: &Table, tr: &Trigger| {
        let timestamps = reference.implied(catalog, t).timestamps
            && tr.name == derived_name(&[&t.name], SET_UPDATED_AT);
        let compliance = !tr.function.is(DEFAULT_SCHEMA, SET_UPDATED_AT)
            && generated
                .table_named(&t.qualified_name())
                .is_some_and(|d| d.triggers.contains(tr));
        timestamps || compliance
    };
    let kept_function = |_: &Catalog, f: &Function| {
        if f.qualified_name().is(DEFAULT_SCHEMA, SET_UPDATED_AT) {
            reference.function.as_ref() == Some(f) && timestamp_tables > 0
        } else {
            generated.function_named(&f.qualified_name()) == Some(f)
        }
    };
    let left_out = omitted::plan(catalog, &kept_trigger, &kept_function);
    let catalog = &omitted::without(catalog, &left_out);

    let mut w = Writer {
        out: String::new(),
        warnings: Vec::new(),
        added: Vec::new(),
    };
    let _ = writeln!(
        w.out,
        "# Written by `codegen introspect` from {source}.\n# Every key is documented in docs/schema-format.md."
    );
    let plans: Vec<(&Table, Implied)> = catalog
        .tables
        .iter()
        .map(|t| (t, reference.implied(catalog, t)))
        .collect();

    if !catalog.schemas.is_empty() {
        w.out.push_str("\nschemas:\n");
        for s in &catalog.schemas {
            w.name(&format!("schema `{}`", s.name), &s.name);
            match &s.comment {
                Some(comment) => {
                    let _ = writeln!(
                        w.out,
                        "  {}: {{ comment: {} }}",
                        key(&yaml_name_alone(&s.name)),
                        quoted(comment)
                    );
                }
                None => {
                    let _ = writeln!(w.out, "  {}: {{}}", key(&yaml_name_alone(&s.name)));
                }
            }
        }
    }

    if !catalog.extensions.is_empty() {
        w.out.push_str("\nextensions:\n");
        for e in &catalog.extensions {
            if e.schema == DEFAULT_SCHEMA {
                let _ = writeln!(w.out, "  {}: {{}}", key(&e.name));
            } else {
                let _ = writeln!(
                    w.out,
                    "  {}: {{ schema: {} }}",
                    key(&e.name),
                    quoted(&e.schema)
                );
            }
        }
    }

    let roles = catalog.roles();
    if !roles.is_empty() {
        w.out.push_str("\nroles:\n");
        for role in roles {
            w.name(&format!("role `{role}`"), role);
            let callable: Vec<String> = model::compliance::CALLABLE_FUNCTIONS
                .iter()
                .filter(|f| {
                    catalog
                        .function(f)
                        .is_some_and(|f| f.execute.iter().any(|r| r == role))
                })
                .map(|f| f.to_string())
                .collect();
            if callable.is_empty() {
                let _ = writeln!(w.out, "  {}: {{}}", key(role));
            } else {
                let _ = writeln!(w.out, "  {}: {{ execute: {} }}", key(role), list(&callable));
            }
        }
    }

    if !catalog.enums.is_empty() {
        w.out.push_str("\nenums:\n");
        for e in &catalog.enums {
            w.name(&format!("enum `{}`", e.name), &e.name);
            let values: Vec<String> = e.values.iter().map(|v| quoted(v)).collect();
            let _ = writeln!(
                w.out,
                "  {}: [{}]",
                key(&e.qualified_name().yaml()),
                values.join(", ")
            );
        }
    }

    w.out.push_str("\ntables:");
    if plans.is_empty() {
        w.out.push_str(" {}");
        w.warnings
            .push("the schema has no tables, and schema.yaml needs at least one".to_string());
    }
    w.out.push('\n');
    for (i, (table, implied)) in plans.iter().enumerate() {
        if i > 0 {
            w.out.push('\n');
        }
        if table.flags.soft_delete && !implied.soft_delete {
            w.warnings.push(format!(
                "table `{}` is flagged soft_delete, but its `deleted_at` column is not the one `soft_delete: true` adds (timestamptz, nullable, no default, the standard comment); the flag is left out",
                table.display_name()
            ));
        }
        w.table(catalog, table, implied);
    }

    let round_trip = match model::load_schema("schema.yaml", &w.out) {
        Ok(loaded) => {
            for added in &w.added {
                added.name_in(catalog, &loaded, &mut w.warnings);
            }
            Ok(compare(catalog, &loaded))
        }
        Err(errors) => Err(errors.to_string()),
    };
    SchemaYaml {
        text: w.out,
        left_out,
        warnings: w.warnings,
        round_trip,
    }
}

/// What `timestamps: true` and `soft_delete: true` generate, taken from the loader itself so the
/// two can never disagree.
struct Reference {
    created_at: Option<Column>,
    updated_at: Option<Column>,
    deleted_at: Option<Column>,
    trigger: Option<Trigger>,
    function: Option<Function>,
}

/// Which flags a table is written with; their columns and trigger are then left out.
#[derive(Debug, Default)]
struct Implied {
    timestamps: bool,
    soft_delete: bool,
}

impl Implied {
    fn column(&self, name: &str) -> bool {
        (self.timestamps && (name == "created_at" || name == "updated_at"))
            || (self.soft_delete && name == "deleted_at")
    }
}

impl Reference {
    fn new() -> Reference {
        let template = "tables:\n  t:\n    timestamps: true\n    soft_delete: true\n    columns:\n      id: { type: uuid, primary_key: true }\n";
        let catalog = model::load_schema("template.yaml", template).unwrap_or_default();
        let table = catalog.tables.first();
        let column = |name: &str| table.and_then(|t| t.column(name)).cloned();
        Reference {
            created_at: column("created_at"),
            updated_at: column("updated_at"),
            deleted_at: column("deleted_at"),
            trigger: table.and_then(|t| t.triggers.first()).cloned(),
            function: catalog.function(SET_UPDATED_AT).cloned(),
        }
    }

    fn implied(&self, catalog: &Catalog, table: &Table) -> Implied {
        let same = |name: &str, reference: &Option<Column>| {
            reference.is_some() && table.column(name) == reference.as_ref()
        };
        let trigger_name = derived_name(&[&table.name], SET_UPDATED_AT);
        let trigger_matches = match (
            table.triggers.iter().find(|t| t.name == trigger_name),
            &self.trigger,
        ) {
            (Some(t), Some(r)) => {
                t.timing == r.timing && t.events == r.events && t.function == r.function
            }
            _ => false,
        };
        let timestamps = same("created_at", &self.created_at)
            && same("updated_at", &self.updated_at)
            && trigger_matches
            && self.function.is_some()
            && catalog.function(SET_UPDATED_AT) == self.function.as_ref();
        Implied {
            timestamps,
            soft_delete: table.flags.soft_delete && same("deleted_at", &self.deleted_at),
        }
    }
}

struct Writer {
    out: String,
    warnings: Vec<String>,
    /// The indexes the loader adds, each with the warning naming it (by `warnings` position):
    /// the name is the loader's, looked up once the file is loaded (a derived name already taken
    /// in the schema gets a number).
    added: Vec<AddedIndex>,
}

struct AddedIndex {
    table: QualifiedName,
    columns: Vec<String>,
    method: IndexMethod,
    warning: usize,
    guess: String,
}

impl AddedIndex {
    /// Puts the loader's name for the index into its warning.
    fn name_in(&self, original: &Catalog, loaded: &Catalog, warnings: &mut [String]) {
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
    fn name(&mut self, object: &str, name: &str) {
        if let Err(why) = check_identifier(name) {
            self.warnings.push(format!(
                "{object}: schema.yaml refuses its name ({why}); rename it in the file and the database"
            ));
        }
    }

    fn table(&mut self, catalog: &Catalog, t: &Table, implied: &Implied) {
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
            let mut fields = vec![format!("type: {}", quoted(&yaml_type(&c.data_type)))];
            // An identity column is NOT NULL by definition; the format refuses `nullable` there.
            if c.nullable && c.identity.is_none() {
                fields.push("nullable: true".to_string());
            }
            if let Some(default) = &c.default {
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
                        && check.name == model::compliance::encrypted_check_name(&t.name, &c.name)
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

    fn indexes(&mut self, t: &Table) {
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
                        text.push_str(&model::ident::quote(collation));
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
    fn compliance(&mut self, t: &Table) {
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
    fn check_key(&mut self, t: &Table, check: &CheckConstraint) -> String {
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
    fn check_foreign_key(&mut self, catalog: &Catalog, t: &Table, fk: &ForeignKey) {
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

/// A default as `schema.yaml` writes it: an enum column's `'label'::enum` as the bare label
/// (the loader turns it back into the same literal), anything else as the expression.
fn yaml_default(catalog: &Catalog, column: &Column, default: &str) -> String {
    if let DataType::Enum(name) = &column.data_type {
        let label = literal_label(default).filter(|l| {
            is_bare(l)
                && catalog
                    .enum_named(name)
                    .is_some_and(|e| e.values.contains(l))
                && default == format!("{}::{}", quote_literal(l), name.sql())
        });
        if let Some(label) = label {
            return label;
        }
    }
    default.to_string()
}

/// A type as `schema.yaml` spells it: built-in types in their canonical form, enums by their
/// name (`schema.name` outside public, never quoted), a domain as its base type.
fn yaml_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Enum(name) => name.yaml(),
        DataType::Array(element) => format!("{}[]", yaml_type(element)),
        DataType::Domain { base, .. } => yaml_type(base),
        other => other.to_string(),
    }
}

/// `identity: always`, or the mapping with the options that are not PostgreSQL's defaults.
fn yaml_identity(identity: &Identity) -> String {
    let mode = if identity.always {
        "always"
    } else {
        "by default"
    };
    let o = &identity.options;
    let mut fields = vec![format!("generated: {}", quoted(mode))];
    for (name, value) in [
        ("start", o.start),
        ("increment", o.increment),
        ("min", o.min_value),
        ("max", o.max_value),
        ("cache", o.cache),
    ] {
        if let Some(value) = value {
            fields.push(format!("{name}: {value}"));
        }
    }
    if o.cycle {
        fields.push("cycle: true".to_string());
    }
    if fields.len() == 1 {
        quoted(mode)
    } else {
        format!("{{ {} }}", fields.join(", "))
    }
}

/// A column-level `references`: the table (`table` or `schema.table`) when the key is its primary
/// key, else with the column; spelled out in full (`schema.table.column`, `public.table.column`)
/// where the loader would read the shorter text as something else.
fn reference_text(catalog: &Catalog, fk: &ForeignKey) -> String {
    let target = &fk.ref_table;
    let shown = target.yaml();
    let to_key = catalog
        .table_named(target)
        .and_then(|r| r.primary_key.as_ref())
        .is_some_and(|pk| pk.columns == fk.ref_columns);
    let declared = |schema: &str| catalog.has_schema(schema) && schema != DEFAULT_SCHEMA;
    if to_key {
        // `a.b` is a column of public table `a` unless schema `a` has a table `b` or is declared.
        return shown;
    }
    let column = yaml_name(&fk.ref_columns[0]);
    if target.is_public() {
        // `t.c` reads as table `c` of schema `t` when that schema is declared.
        if declared(&target.name) {
            format!("public.{shown}.{column}")
        } else {
            format!("{shown}.{column}")
        }
    } else {
        format!("{shown}.{column}")
    }
}

/// A mapping key: plain when it is a plain identifier (or two, joined by a dot) YAML cannot read
/// as anything else.
fn key(name: &str) -> String {
    const SPECIAL: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let plain_part = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    let plain = parts.len() <= 2 && parts.iter().all(|p| plain_part(p)) && !SPECIAL.contains(&name);
    if plain {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// A YAML double-quoted scalar: `"` and `\` escaped, and every control or line-breaking
/// character written as an escape.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let code = u32::from(c);
                if code <= 0xFFFF {
                    let _ = write!(out, "\\u{code:04x}");
                } else {
                    let _ = write!(out, "\\U{code:08x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A list of names, each as `schema.yaml` writes a name standing alone ([`yaml_name_alone`]).
fn names(items: &[String]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|i| yaml_name_alone(i).into_owned())
        .collect();
    list(&items)
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| quoted(i)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(yaml: &str) -> (Catalog, SchemaYaml) {
        let catalog = model::load_schema("in.yaml", yaml).unwrap_or_else(|e| panic!("{e}"));
        let written = to_schema_yaml(&catalog, "a test");
        (catalog, written)
    }

    #[test]
    fn strings_are_quoted_so_yaml_cannot_misread_them() {
        assert_eq!(quoted("plain"), "\"plain\"");
        assert_eq!(quoted("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
        assert_eq!(
            quoted("line\nbreak\ttab\u{7}"),
            "\"line\\nbreak\\ttab\\u0007\""
        );
        assert_eq!(key("id"), "id");
        assert_eq!(key("yes"), "\"yes\"");
        assert_eq!(key("Mixed"), "\"Mixed\"");
    }

    #[test]
    fn a_schema_written_back_loads_into_the_same_catalog() {
        let (catalog, written) = round_trip(
            r##"
enums:
  mood: [happy, "it's complicated", "yes", "#hash: colon"]
tables:
  people:
    comment: "People: \"quoted\", #not a YAML comment"
    timestamps: true
    soft_delete: true
    columns:
      id: { type: uuid, primary_key: true, default: gen_random_uuid() }
      email: { type: varchar(255), unique: true, pii: true, comment: "Contact: e-mail\nsecond line" }
      mood: { type: mood, default: "yes" }
      moods: { type: "mood[]", nullable: true }
      boss_id: { type: uuid, nullable: true, references: people, on_delete: set null }
      settings: { type: jsonb, default: "'{}'::jsonb", index: false }
      score: { type: "numeric(10,2)", default: "0" }
    checks:
      score_positive: "score >= 0"
    indexes:
      - { name: people_settings_path_idx, columns: [settings jsonb_path_ops], using: gin }
      - { name: people_recent_idx, columns: [created_at DESC], include: [email], where: "deleted_at IS NULL" }
  memberships:
    columns:
      person_id: { type: uuid, references: people, on_delete: cascade }
      team: text
      since: { type: date, default: CURRENT_DATE }
    primary_key: [person_id, team]
    unique:
      - [team, since]
    foreign_keys: []
"##,
        );
        assert_eq!(written.warnings, Vec::<String>::new(), "{}", written.text);
        assert_eq!(written.round_trip, Ok(Vec::new()), "{}", written.text);
        let loaded = model::load_schema("out.yaml", &written.text)
            .unwrap_or_else(|e| panic!("{e}\n{}", written.text));
        assert_eq!(
            loaded.normalized(),
            catalog.normalized(),
            "{}",
            written.text
        );
        assert!(
            written.text.contains("    timestamps: true\n"),
            "{}",
            written.text
        );
        assert!(
            written.text.contains("    soft_delete: true\n"),
            "{}",
            written.text
        );
        assert!(
            written
                .text
                .contains("mood: { type: \"mood\", default: \"yes\" }"),
            "{}",
            written.text
        );
        assert!(
            written
                .text
                .contains("primary_key: [\"person_id\", \"team\"]"),
            "{}",
            written.text
        );
    }

    #[test]
    fn flags_are_written_only_for_exactly_what_they_generate() {
        let (mut catalog, _) = round_trip(
            "tables:\n  t:\n    timestamps: true\n    soft_delete: true\n    columns:\n      id: { type: uuid, primary_key: true }\n",
        );
        let t = &mut catalog.tables[0];
        t.columns
            .iter_mut()
            .filter(|c| c.name == "updated_at")
            .for_each(|c| c.comment = Some("Changed.".into()));
        t.columns
            .iter_mut()
            .filter(|c| c.name == "deleted_at")
            .for_each(|c| c.data_type = DataType::Timestamp(None));
        let written = to_schema_yaml(&catalog, "a test");
        assert!(
            !written.text.contains("timestamps: true"),
            "{}",
            written.text
        );
        assert!(written.text.contains("updated_at: "), "{}", written.text);
        // The trigger and its function cannot be said any more: left out.
        let left_out: Vec<&Omitted> = written.left_out.iter().map(|l| &l.what).collect();
        assert_eq!(
            left_out,
            [
                &Omitted::Trigger {
                    table: QualifiedName::public("t"),
                    name: "t_set_updated_at".into()
                },
                &Omitted::Function {
                    name: QualifiedName::public("set_updated_at"),
                    signature: "()".into()
                },
            ]
        );
        let messages: Vec<&str> = written.messages().collect();
        assert!(
            messages[0].starts_with("trigger `t.t_set_updated_at` is left out"),
            "{messages:?}"
        );
        // The soft_delete flag is written off, so the file differs there (and says so).
        assert!(
            written.warnings.join("\n").contains("flagged soft_delete"),
            "{messages:?}"
        );
        let differences = written.round_trip.expect("loads");
        let properties: Vec<(&str, Option<&str>)> = differences
            .iter()
            .map(|d| (d.name.as_str(), d.property.as_deref()))
            .collect();
        assert_eq!(
            properties,
            [("t", Some("soft_delete")), ("t", Some("flags"))],
            "{differences:?}"
        );
    }

    #[test]
    fn indexes_the_loader_would_add_are_reported() {
        let (mut catalog, _) = round_trip(
            "tables:\n  a:\n    columns:\n      id: { type: uuid, primary_key: true }\n  b:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a_id: { type: uuid, references: a }\n      doc: jsonb\n",
        );
        let b = catalog
            .tables
            .iter_mut()
            .find(|t| t.name == "b")
            .expect("b");
        assert_eq!(b.indexes.len(), 2, "{:?}", b.indexes);
        b.indexes.clear();
        b.checks.push(CheckConstraint {
            name: "positive".into(),
            expression: "doc IS NOT NULL".into(),
        });
        let written = to_schema_yaml(&catalog, "a test");
        let warnings = written.warnings.join("\n");
        assert!(
            warnings
                .contains("no index leads with (a_id); loading this schema.yaml adds `b_a_id_idx`"),
            "{warnings}"
        );
        assert!(warnings.contains("adds `b_doc_gin_idx`"), "{warnings}");
        assert!(
            warnings.contains("will be named `b_positive_check`"),
            "{warnings}"
        );
        let differences = written.round_trip.expect("loads");
        let names: Vec<&str> = differences.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "b.b_positive_check",
                "b.positive",
                "b.b_a_id_idx",
                "b.b_doc_gin_idx"
            ],
            "{differences:?}"
        );
    }

    #[test]
    fn what_the_format_cannot_say_is_left_out_with_what_depends_on_it() {
        let (mut catalog, _) = round_trip(
            "enums:\n  mood: [ok]\ntables:\n  a:\n    columns:\n      id: { type: uuid, primary_key: true }\n      shape: { type: text, unique: true }\n      n: integer\n    checks:\n      shape_set: \"shape <> ''\"\n    indexes:\n      - { name: a_shape_n_idx, columns: [n, shape] }\n      - { name: a_n_idx, columns: [n] }\n  b:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a_shape: { type: text, references: a.shape }\n      n: integer\n  c:\n    columns:\n      key: { type: text, primary_key: true }\n  d:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
        );
        let a = QualifiedName::public("a");
        let b = QualifiedName::public("b");
        let c = QualifiedName::public("c");
        let d = QualifiedName::public("d");
        {
            let t = catalog.tables.iter_mut().find(|t| t.is(&a)).expect("a");
            // A type the format cannot spell, used by a unique constraint, a check, an index and
            // the foreign key of another table; a duplicate index; a default from a sequence; a
            // grant to PUBLIC.
            t.columns[1].data_type = DataType::Other("point".into());
            t.columns[2].default = Some("nextval('a_n_seq'::regclass)".into());
            let mut twin = t.indexes[1].clone();
            twin.name = "a_n_again_idx".into();
            t.indexes.push(twin);
            t.set_privileges(PUBLIC, &[Privilege::Select], true);
        }
        {
            let t = catalog.tables.iter_mut().find(|t| t.is(&c)).expect("c");
            t.columns[0].data_type = DataType::Unknown;
        }
        {
            let t = catalog.tables.iter_mut().find(|t| t.is(&d)).expect("d");
            t.primary_key = None;
        }
        catalog.enums[0].comment = Some("How it feels.".into());
        let written = to_schema_yaml(&catalog, "a test");
        let left_out: Vec<&Omitted> = written.left_out.iter().map(|l| &l.what).collect();
        let named = |table: &QualifiedName, name: &str| (table.clone(), name.to_string());
        let (ta, shape) = named(&a, "shape");
        assert_eq!(
            left_out,
            [
                &Omitted::EnumComment(QualifiedName::public("mood")),
                &Omitted::Table(d.clone()),
                &Omitted::Table(c.clone()),
                &Omitted::Column {
                    table: ta.clone(),
                    column: shape
                },
                &Omitted::ColumnDefault {
                    table: a.clone(),
                    column: "n".into()
                },
                &Omitted::Unique {
                    table: a.clone(),
                    name: "a_shape_key".into()
                },
                &Omitted::Check {
                    table: a.clone(),
                    name: "a_shape_set_check".into()
                },
                &Omitted::Index {
                    table: a.clone(),
                    name: "a_shape_n_idx".into()
                },
                &Omitted::Index {
                    table: a.clone(),
                    name: "a_n_again_idx".into()
                },
                &Omitted::Grant {
                    table: a.clone(),
                    role: PUBLIC.into()
                },
                &Omitted::ForeignKey {
                    table: b.clone(),
                    name: "b_a_shape_fkey".into()
                },
            ],
            "{:#?}",
            written.left_out
        );
        // Each names something of the catalog; without them the file reproduces it.
        let mut expected = catalog.clone();
        for l in &written.left_out {
            assert!(l.what.remove_from(&mut expected), "{l:?}");
        }
        assert_eq!(written.round_trip, Ok(Vec::new()), "{}", written.text);
        assert_eq!(written.warnings, Vec::<String>::new(), "{}", written.text);
        let loaded = model::load_schema("out.yaml", &written.text).expect("loads");
        assert_eq!(loaded.normalized(), expected.normalized());
    }
}
