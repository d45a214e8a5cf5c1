//! Everything `codegen` writes, computed from the catalog. Pure: the binary does the I/O.

pub mod diff;
pub mod docs;
pub mod drift;
pub mod json_schema;
pub mod migration;
pub mod rebuild;
pub mod replay_cache;
pub mod rust;
pub mod sql;

use std::path::PathBuf;

use model::Catalog;

/// One file under the output directory (`generated/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to the output directory, with `/` separators.
    pub path: PathBuf,
    pub contents: String,
}

/// Every file generated from `catalog` except the migrations (which depend on the history too,
/// see `migrate::history` and [`migration::plan`]), in a stable order.
pub fn generate(catalog: &Catalog) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    files.extend(docs::generate(catalog));
    files.extend(rust::generate(catalog));
    files.extend(generate_rest(catalog));
    files
}

/// The files of [`generate`] that are neither docs nor the Rust crate (the JSON Schema of
/// `schema.yaml`, which depends on no catalog).
pub fn generate_rest(_catalog: &Catalog) -> Vec<GeneratedFile> {
    vec![GeneratedFile {
        path: PathBuf::from(json_schema::PATH),
        contents: json_schema::render(),
    }]
}
