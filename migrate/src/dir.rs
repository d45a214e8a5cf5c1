//! Reading a migrations directory (`generated/migrations/`): the `NNNN_name.{up,down}.sql` files
//! and the integrity file, checked for order by [`history::collect`].

use std::path::Path;

use crate::history::{self, MigrationFile, SUM_FILE};

/// A migrations directory as read: its migrations in order, and the integrity file's text if the
/// directory has one. A directory that does not exist reads as an empty history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub migrations: Vec<MigrationFile>,
    pub sum: Option<String>,
}

/// Reads `dir`. Errors name the directory or file and what is wrong with it.
pub fn read(dir: &Path) -> Result<History, String> {
    let mut entries = Vec::new();
    let mut sum = None;
    match std::fs::read_dir(dir) {
        Ok(listing) => {
            for entry in listing {
                let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?;
                let name = entry.file_name().to_string_lossy().to_string();
                let path = entry.path();
                let read = || {
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
                };
                if name == SUM_FILE {
                    sum = Some(read()?);
                } else if name.ends_with(".sql") {
                    entries.push((name, read()?));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot list `{}`: {e}", dir.display())),
    }
    let migrations = history::collect(&entries).map_err(|errors| {
        format!(
            "the migrations in `{}` are not in order:\n  - {}",
            dir.display(),
            errors.join("\n  - ")
        )
    })?;
    Ok(History { migrations, sum })
}
