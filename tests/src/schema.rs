//! The repository's own `schema.yaml` and what codegen's tests read from generated output: one
//! copy of the paths and loaders every test file needs.

use std::path::Path;

use codegen::GeneratedFile;
use model::Catalog;

/// The workspace root (where `schema.yaml` and `generated/` live).
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The text of the repository's `schema.yaml`.
pub fn repo_schema_text() -> String {
    std::fs::read_to_string(repo_root().join("schema.yaml")).expect("read schema.yaml")
}

/// A schema.yaml text loaded as `schema.yaml`; panics with every error it reports.
pub fn load(text: &str) -> Catalog {
    model::load_schema("schema.yaml", text).unwrap_or_else(|errors| panic!("{errors}"))
}

/// Two tables that reference each other (`a.b_id`, `b.a_id`), one of them also itself
/// (`a.parent_id`): the hard case for creating and linking tables, which tests extend.
pub const CYCLIC_TABLES: &str = "tables:
  a:
    columns:
      id: { type: uuid, primary_key: true }
      b_id: { type: uuid, nullable: true, references: b }
      parent_id: { type: uuid, nullable: true, references: a, on_delete: set null }
  b:
    columns:
      id: { type: uuid, primary_key: true }
      a_id: { type: uuid, references: a, on_delete: cascade }
";

/// A schema.yaml text split at its `tables:` section: what comes before it, and each table's
/// block (its name's line and every more indented one), in order.
pub fn table_blocks(text: &str) -> (&str, Vec<String>) {
    let (head, tables) = text.split_once("\ntables:\n").expect("a tables section");
    let mut blocks: Vec<String> = Vec::new();
    for line in tables.lines() {
        if line.starts_with("  ") && !line.starts_with("   ") {
            blocks.push(String::new());
        }
        if let Some(block) = blocks.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    (head, blocks)
}

/// The repository's `schema.yaml`, loaded.
pub fn repo_catalog() -> Catalog {
    load(&repo_schema_text())
}

/// The contents of the generated file at `path`; panics listing the paths generated instead.
pub fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == Path::new(path))
        .map(|f| f.contents.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {path} in {:?}",
                files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
}

/// Asserts that the generated `text` contains `expected`; the message shows both.
#[track_caller]
pub fn assert_has(text: &str, expected: &str) {
    assert!(
        text.contains(expected),
        "{expected:?} is missing from:\n{text}"
    );
}
