//! Everything `codegen` writes, computed from the catalog. Pure: the binary does the I/O.

pub mod migration;
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

/// Every file generated from `catalog`, in a stable order.
pub fn generate(catalog: &Catalog) -> Vec<GeneratedFile> {
    let initial = migration::initial(catalog);
    vec![
        GeneratedFile {
            path: PathBuf::from(format!("migrations/{}.up.sql", initial.id)),
            contents: initial.render_up(),
        },
        GeneratedFile {
            path: PathBuf::from(format!("migrations/{}.down.sql", initial.id)),
            contents: initial.render_down(),
        },
    ]
}
