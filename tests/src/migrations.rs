//! The committed migrations under `generated/migrations/`, applied the way the runner applies
//! them: in order, each file in one transaction unless it is marked `-- codegen:no-transaction`.

use std::path::{Path, PathBuf};

use postgres::Client;

/// The directory of the committed migrations.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/migrations")
}

/// Every `*.up.sql` file, sorted by name (which is by id).
pub fn up_files() -> Vec<(String, String)> {
    let dir = dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".up.sql"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect()
}

/// Applies every committed up migration; panics naming the file that fails.
pub fn apply_all(client: &mut Client) {
    for (name, sql) in up_files() {
        apply(client, &name, &sql);
    }
}

/// Applies one migration script as the runner does (without recording it); panics naming `name`
/// and showing the script if it fails.
pub fn apply(client: &mut Client, name: &str, sql: &str) {
    let result = if sql.contains(codegen::migration::NO_TRANSACTION_MARKER) {
        // One statement at a time: several in one simple query form an implicit transaction,
        // which CREATE INDEX CONCURRENTLY refuses.
        codegen::runner::split_statements(sql)
            .iter()
            .try_for_each(|statement| client.batch_execute(statement))
    } else {
        client.transaction().and_then(|mut tx| {
            tx.batch_execute(sql)?;
            tx.commit()
        })
    };
    if let Err(e) = result {
        panic!("migration {name} failed: {e:?}\n{sql}");
    }
}
