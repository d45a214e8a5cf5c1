//! Loading `schema.yaml` into the catalog.
//!
//! The YAML is parsed with `marked-yaml`, which keeps the line and column of every node, and then
//! read by hand rather than through serde: serde stops at the first error and forgets positions,
//! while a schema author wants every problem at once, each pointing at the offending key or value.

mod compliance;
mod lower;
mod read;
pub mod write;

pub use compliance::parse_period;
pub use lower::{SET_UPDATED_AT, declared_name};
pub use read::{
    COLUMN_KEYS, EXTENSION_KEYS, FOREIGN_KEY_KEYS, IDENTITY_KEYS, INDEX_KEYS, PARTITIONING_KEYS,
    RETENTION_KEYS, ROLE_KEYS, SCHEMA_KEYS, TABLE_KEYS, TOP_KEYS,
};

use marked_yaml::{LoadError, LoaderOptions, Marker, Node};

use crate::catalog::Catalog;
use crate::diagnostics::{Diagnostic, Pos, SourceErrors};

/// Loads a schema from YAML text. `path` is only used to name the file in errors.
pub fn load_schema(path: &str, text: &str) -> Result<Catalog, SourceErrors> {
    load_schema_with_renames(path, text).map(|(catalog, _)| catalog)
}

/// Checks an extension's name as `extensions:` takes it: what `CREATE EXTENSION` finds in the
/// server's extension directory, lower-case letters, digits, `_` and `-` (`uuid-ossp`), at most
/// 63 bytes.
pub fn check_extension_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= crate::ident::MAX_IDENTIFIER_BYTES
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not an extension name schema.yaml takes (lower-case letters, digits, `_` and `-`)"
        ))
    }
}

/// `renamed_from` hints from `schema.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenameHints {
    /// `(old, new)` table names.
    pub tables: Vec<(String, String)>,
    /// `(table, old, new)`; `table` is the table's new name.
    pub columns: Vec<(String, String, String)>,
}

impl RenameHints {
    /// The hints that undo these ones, for the down migration.
    pub fn inverted(&self) -> RenameHints {
        RenameHints {
            tables: self
                .tables
                .iter()
                .map(|(old, new)| (new.clone(), old.clone()))
                .collect(),
            columns: self
                .columns
                .iter()
                .map(|(table, old, new)| {
                    let old_table = self
                        .tables
                        .iter()
                        .find(|(_, n)| n == table)
                        .map_or(table.clone(), |(o, _)| o.clone());
                    (old_table, new.clone(), old.clone())
                })
                .collect(),
        }
    }
}

/// Loads a schema and its `renamed_from` hints, which are not part of the schema but of the
/// change that leads to it.
pub fn load_schema_with_renames(
    path: &str,
    text: &str,
) -> Result<(Catalog, RenameHints), SourceErrors> {
    let fail = |diagnostics: Vec<Diagnostic>| SourceErrors::new(path, text, diagnostics);
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    let root = match marked_yaml::parse_yaml_with_options(0, text, options) {
        Ok(Node::Mapping(map)) => map,
        Ok(_) => {
            return Err(fail(vec![Diagnostic::new(
                Pos { line: 1, column: 1 },
                "expected a mapping at the top level",
            )]));
        }
        Err(e) => return Err(fail(vec![load_error(&e, text)])),
    };
    let mut errors = Vec::new();
    let decl = read::read_schema(&root, &mut errors);
    if decl.tables.is_empty() && errors.is_empty() {
        errors.push(
            Diagnostic::new(Pos { line: 1, column: 1 }, "the schema declares no tables")
                .with_help("add a `tables:` mapping"),
        );
    }
    let catalog = lower::lower(&decl, &mut errors);
    let renames = lower::renames(&decl, &mut errors);
    if errors.is_empty() {
        Ok((catalog, renames))
    } else {
        Err(fail(errors))
    }
}

fn load_error(error: &LoadError, text: &str) -> Diagnostic {
    let at = |m: &Marker| Pos {
        line: m.line(),
        column: m.column(),
    };
    match error {
        LoadError::TopLevelMustBeMapping(m) => {
            let message = if text.trim().is_empty() {
                "the schema file is empty"
            } else {
                "expected a mapping at the top level"
            };
            Diagnostic::new(at(m), message).with_help("start with `tables:`")
        }
        LoadError::TopLevelMustBeSequence(m) => {
            Diagnostic::new(at(m), "expected a mapping at the top level")
        }
        LoadError::UnexpectedAnchor(m) => Diagnostic::new(
            at(m),
            "YAML anchors and aliases are not supported in a schema",
        ),
        LoadError::MappingKeyMustBeScalar(m) => {
            Diagnostic::new(at(m), "mapping keys must be plain names")
        }
        LoadError::UnexpectedTag(m) => {
            Diagnostic::new(at(m), "YAML tags are not supported in a schema")
        }
        LoadError::ScanError(m, e) => {
            Diagnostic::new(at(m), format!("invalid YAML: {}", scan_message(e)))
        }
        LoadError::DuplicateKey(inner) => {
            let first = inner.prev_key.span().start().map(at).unwrap_or_default();
            let second = inner.key.span().start().map(at).unwrap_or_default();
            Diagnostic::new(second, format!("duplicate key `{}`", inner.key.as_str()))
                .with_first("first declared", first)
        }
    }
}

/// The scanner's message without the position it appends (we report the position ourselves).
fn scan_message(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    match text.find(" at byte ").or_else(|| text.find(" at line ")) {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}
