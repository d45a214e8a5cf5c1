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
//! misread as YAML. Finally the text is loaded back with [`crate::load_schema`] and compared with
//! the catalog without what was left out ([`SchemaYaml::round_trip`]).

mod flags;
pub mod omitted;
mod scalar;
mod table;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use crate::catalog::*;
use crate::compare::{Difference, compare};
use crate::ident::{derived_name, yaml_name_alone};
use crate::yaml::SET_UPDATED_AT;

use flags::{Implied, Reference};
pub use omitted::{LeftOut, Omitted};
use scalar::{key, list, quoted};
use table::Writer;

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
    crate::compliance::add_generated_objects(&mut declared, &execute_of);
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
            let callable: Vec<String> = crate::compliance::CALLABLE_FUNCTIONS
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

    let round_trip = match crate::load_schema("schema.yaml", &w.out) {
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
