//! An introspected catalog written back as a `schema.yaml` that `codegen` turns into the same
//! database.
//!
//! The YAML format has conveniences the catalog has already expanded, and a few things it cannot
//! say at all; [`to_schema_yaml`] maps one onto the other and explains every gap:
//!
//! - `timestamps: true` is written only when the table has exactly what that flag generates
//!   (`created_at`/`updated_at` as `schema.yaml` declares them, the `<table>_set_updated_at`
//!   trigger and the `set_updated_at()` function); `soft_delete: true` only when the table
//!   carries the flag and exactly the `deleted_at` column it adds. Otherwise the columns are
//!   written out and the flag left off.
//! - Every index is written with its `name`, so names round-trip. The loader adds an index to a
//!   foreign key no index leads with, and a GIN index to a JSONB column that has none; a database
//!   that lacks them cannot be written as a `schema.yaml` that loads back without them, and each
//!   case is reported.
//! - Names the format derives (primary keys, unique and check constraints) are reported when the
//!   database's differ; foreign keys keep theirs through the table-level `name`.
//! - Triggers and functions other than the `timestamps` ones, and enum comments, have no place
//!   in the format and are reported.
//!
//! Strings are always written double-quoted and escaped, so no comment, default or label can be
//! misread as YAML. Finally the text is loaded back with [`model::load_schema`] and compared with
//! the catalog ([`SchemaYaml::round_trip`]).

use std::fmt::Write as _;

use model::catalog::*;
use model::compare::{Difference, compare};
use model::expr::literal_label;
use model::ident::{check_plain, derived_name, quote_literal};
use model::types::DataType;
use model::yaml::SET_UPDATED_AT;

/// A written `schema.yaml` and what it cannot reproduce.
#[derive(Debug, Clone)]
pub struct SchemaYaml {
    pub text: String,
    /// Why the file differs from the catalog, one line each, in table order.
    pub warnings: Vec<String>,
    /// `text` loaded back and compared with the catalog (`a` is the catalog, `b` the file):
    /// empty when the file reproduces the database exactly; `Err` with the loader's report when
    /// the file does not load (a table without a primary key, a name the format refuses).
    pub round_trip: Result<Vec<Difference>, String>,
}

/// Writes `catalog` as `schema.yaml`. `source` is named in the header comment (e.g. the
/// database schema it was read from).
pub fn to_schema_yaml(catalog: &Catalog, source: &str) -> SchemaYaml {
    let reference = Reference::new();
    let mut w = Writer {
        out: String::new(),
        warnings: Vec::new(),
    };
    let _ = writeln!(
        w.out,
        "# Written by `codegen introspect` from {source}.\n# Every key is documented in docs/schema-format.md."
    );

    let mut timestamp_tables = 0;
    let plans: Vec<(&Table, Implied)> = catalog
        .tables
        .iter()
        .map(|t| {
            let implied = reference.implied(catalog, t, &mut w.warnings);
            if implied.timestamps {
                timestamp_tables += 1;
            }
            (t, implied)
        })
        .collect();

    // What the compliance declarations generate: the flags are written below, and the functions
    // and triggers come back from them. Anything else is left out, with a warning.
    let mut declared = catalog.clone();
    declared.functions.retain(|f| f.name == SET_UPDATED_AT);
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
    let generated_function = |f: &Function| declared.function(&f.name) == Some(f);

    for function in &catalog.functions {
        let generated = (function.name == SET_UPDATED_AT
            && reference.function.as_ref() == Some(function)
            && timestamp_tables > 0)
            || (function.name != SET_UPDATED_AT && generated_function(function));
        if !generated {
            w.warnings.push(format!(
                "function `{}()` is left out: schema.yaml has no functions (only the `{SET_UPDATED_AT}()` that `timestamps: true` creates and the ones its compliance keys generate)",
                function.name
            ));
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
                    catalog.function(f).is_some_and(|f| {
                        generated_function(f) && f.execute.iter().any(|r| r == role)
                    })
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
            let _ = writeln!(w.out, "  {}: [{}]", key(&e.name), values.join(", "));
            if let Some(comment) = &e.comment {
                w.warnings.push(format!(
                    "enum `{}`: its comment ({comment:?}) is left out: schema.yaml has no enum comments",
                    e.name
                ));
            }
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
        w.table(catalog, table, implied, &declared);
    }

    let round_trip = match model::load_schema("schema.yaml", &w.out) {
        Ok(loaded) => Ok(compare(catalog, &loaded)),
        Err(errors) => Err(errors.to_string()),
    };
    SchemaYaml {
        text: w.out,
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

    fn implied(&self, catalog: &Catalog, table: &Table, warnings: &mut Vec<String>) -> Implied {
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
        let deleted_at = same("deleted_at", &self.deleted_at);
        if table.flags.soft_delete && !deleted_at {
            warnings.push(format!(
                "table `{}` is flagged soft_delete, but its `deleted_at` column is not the one `soft_delete: true` adds (timestamptz, nullable, no default, the standard comment); the flag is left out",
                table.name
            ));
        }
        Implied {
            timestamps,
            soft_delete: table.flags.soft_delete && deleted_at,
        }
    }
}

struct Writer {
    out: String,
    warnings: Vec<String>,
}

impl Writer {
    /// Warns about a name the format refuses; `object` names the object in the warning.
    fn name(&mut self, object: &str, name: &str) {
        if let Err(why) = check_plain(name) {
            self.warnings.push(format!(
                "{object}: schema.yaml refuses its name ({why}); rename it in the file and the database"
            ));
        }
    }

    fn table(&mut self, catalog: &Catalog, t: &Table, implied: &Implied, declared: &Catalog) {
        self.name(&format!("table `{}`", t.name), &t.name);
        let _ = writeln!(self.out, "  {}:", key(&t.name));
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

        let trigger_name = derived_name(&[&t.name], SET_UPDATED_AT);
        let generated_triggers: &[Trigger] = declared.table(&t.name).map_or(&[], |d| &d.triggers);
        for trigger in &t.triggers {
            let generated = !trigger.function.is(DEFAULT_SCHEMA, SET_UPDATED_AT)
                && generated_triggers.contains(trigger);
            let implied_trigger = implied.timestamps && trigger.name == trigger_name;
            if !(implied_trigger || generated) {
                self.warnings.push(format!(
                    "trigger `{}.{}` is left out: schema.yaml has no triggers (only the one `timestamps: true` creates)",
                    t.name, trigger.name
                ));
            }
        }

        // Where each key and foreign key goes: on the column when the format can say it there
        // with the name the database has, else at table level.
        let single_pk = t
            .primary_key
            .as_ref()
            .filter(|pk| pk.columns.len() == 1)
            .map(|pk| pk.columns[0].clone());
        match &t.primary_key {
            None => self.warnings.push(format!(
                "table `{}` has no primary key; schema.yaml requires one, so the file does not load until one is declared",
                t.name
            )),
            Some(pk) if pk.name != derived_name(&[&t.name], "pkey") => {
                self.warnings.push(format!(
                    "primary key `{}` of `{}` will be named `{}`: schema.yaml derives the name",
                    pk.name,
                    t.name,
                    derived_name(&[&t.name], "pkey")
                ));
            }
            Some(_) => {}
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
                    "unique constraint `{}.{}` will be named `{derived}`: schema.yaml derives the name",
                    t.name, u.name
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
            self.name(&format!("column `{}.{}`", t.name, c.name), &c.name);
            let mut fields = vec![format!("type: {}", quoted(&yaml_type(&c.data_type)))];
            if c.nullable {
                fields.push("nullable: true".to_string());
            }
            if let Some(default) = &c.default {
                fields.push(format!(
                    "default: {}",
                    quoted(&yaml_default(catalog, c, default))
                ));
            }
            if single_pk.as_deref() == Some(c.name.as_str()) {
                fields.push("primary_key: true".to_string());
            }
            if column_uniques.contains(&c.name) {
                fields.push("unique: true".to_string());
            }
            if let Some(fk) = column_fks.iter().find(|f| f.columns[0] == c.name) {
                let target_pk = catalog
                    .table_named(&fk.ref_table)
                    .and_then(|r| r.primary_key.as_ref())
                    .map(|pk| pk.columns.clone());
                let target = if target_pk.as_ref() == Some(&fk.ref_columns) {
                    fk.ref_table.name.clone()
                } else {
                    format!("{}.{}", fk.ref_table.name, fk.ref_columns[0])
                };
                fields.push(format!("references: {}", quoted(&target)));
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
                key(&c.name),
                fields.join(", ")
            );
        }

        if let Some(pk) = t.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
            let _ = writeln!(self.out, "    primary_key: {}", list(&pk.columns));
        }
        if !table_uniques.is_empty() {
            self.out.push_str("    unique:\n");
            for u in table_uniques {
                let _ = writeln!(self.out, "      - {}", list(&u.columns));
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
                    key(&name),
                    quoted(&check.expression)
                );
            }
        }
        if !table_fks.is_empty() {
            self.out.push_str("    foreign_keys:\n");
            for fk in table_fks {
                let mut fields = vec![
                    format!("name: {}", quoted(&fk.name)),
                    format!("columns: {}", list(&fk.columns)),
                    format!("references: {}", quoted(&fk.ref_table.name)),
                    format!("ref_columns: {}", list(&fk.ref_columns)),
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
        // The loader refuses two indexes with one definition: the first is kept.
        let mut kept: Vec<&Index> = Vec::new();
        for ix in &t.indexes {
            let same = kept.iter().find(|k| {
                k.method == ix.method
                    && k.keys == ix.keys
                    && k.include == ix.include
                    && k.predicate == ix.predicate
                    && k.unique == ix.unique
            });
            match same {
                Some(first) => self.warnings.push(format!(
                    "index `{}.{}` is left out: it duplicates `{}`, and schema.yaml refuses duplicate indexes (drop one of them in the database)",
                    t.name, ix.name, first.name
                )),
                None => kept.push(ix),
            }
        }
        if !kept.is_empty() {
            self.out.push_str("    indexes:\n");
        }
        for ix in &kept {
            self.name(&format!("index `{}.{}`", t.name, ix.name), &ix.name);
            let keys: Vec<String> = ix
                .keys
                .iter()
                .map(|k| {
                    let mut text = k.column.clone();
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
                format!("name: {}", quoted(&ix.name)),
                format!("columns: {}", list(&keys)),
            ];
            if ix.method != IndexMethod::Btree {
                fields.push(format!("using: {}", quoted(ix.method.as_sql())));
            }
            if ix.unique {
                fields.push("unique: true".to_string());
            }
            if !ix.include.is_empty() {
                fields.push(format!("include: {}", list(&ix.include)));
            }
            if let Some(predicate) = &ix.predicate {
                fields.push(format!("where: {}", quoted(predicate)));
            }
            let _ = writeln!(self.out, "      - {{ {} }}", fields.join(", "));
        }

        // What the loader would add because the database lacks it.
        let mut with_kept = t.clone();
        with_kept.indexes = kept.into_iter().cloned().collect();
        for fk in &t.foreign_keys {
            if !with_kept.has_index_leading_with(&fk.columns) {
                let parts: Vec<&str> = std::iter::once(t.name.as_str())
                    .chain(fk.columns.iter().map(String::as_str))
                    .collect();
                self.warnings.push(format!(
                    "foreign key `{}.{}`: no index leads with ({}); loading this schema.yaml adds `{}`, so it will differ from the database until that index exists",
                    t.name,
                    fk.name,
                    fk.columns.join(", "),
                    derived_name(&parts, "idx")
                ));
            }
        }
        for c in &t.columns {
            if c.data_type.is_jsonb() && !with_kept.has_gin_index_on(&c.name) {
                self.warnings.push(format!(
                    "JSONB column `{}.{}` has no GIN index; loading this schema.yaml adds `{}`, so it will differ from the database until that index exists",
                    t.name,
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
                quoted(&r.column)
            );
        }
        let valued = [
            ("data_subject", f.data_subject.as_deref()),
            ("erasure", f.erasure.map(model::Erasure::as_str)),
            ("consent", f.consent.as_deref()),
            ("requires_consent", f.requires_consent.as_deref()),
        ];
        for (name, value) in valued {
            if let Some(value) = value {
                let _ = writeln!(self.out, "    {name}: {}", quoted(value));
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
            t.name,
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
            || target.uniques.iter().any(|u| is_key(&u.columns));
        if !referenceable {
            self.warnings.push(format!(
                "foreign key `{}.{}` references ({}) of `{}`, which is backed by a unique index but no primary key or unique constraint; schema.yaml needs a constraint",
                t.name,
                fk.name,
                fk.ref_columns.join(", "),
                target.name
            ));
        }
        for (local, remote) in fk.columns.iter().zip(&fk.ref_columns) {
            if let (Some(l), Some(r)) = (t.column(local), target.column(remote))
                && l.data_type != r.data_type
            {
                self.warnings.push(format!(
                    "foreign key `{}.{}`: `{local}` is {} but `{}.{remote}` is {}; schema.yaml needs the same type on both sides",
                    t.name, fk.name, l.data_type, target.name, r.data_type
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
            check_plain(l).is_ok()
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
/// bare name (never quoted).
fn yaml_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Enum(name) => name.name.clone(),
        DataType::Array(element) => format!("{}[]", yaml_type(element)),
        other => other.to_string(),
    }
}

/// A mapping key: plain when it is a plain identifier YAML cannot read as anything else.
fn key(name: &str) -> String {
    const SPECIAL: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !SPECIAL.contains(&name);
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
        // The trigger and the soft_delete flag cannot be said any more.
        let warnings = written.warnings.join("\n");
        assert!(
            warnings.contains("trigger `t.t_set_updated_at` is left out"),
            "{warnings}"
        );
        assert!(warnings.contains("flagged soft_delete"), "{warnings}");
        assert!(
            warnings.contains("function `set_updated_at()` is left out"),
            "{warnings}"
        );
        let differences = written.round_trip.expect("loads");
        assert!(
            differences
                .iter()
                .any(|d| d.name == "t.t_set_updated_at" && d.b.is_none()),
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
}
