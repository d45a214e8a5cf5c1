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
