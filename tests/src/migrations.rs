//! The committed migrations under `generated/migrations/`, applied the way the runner applies
//! them: in order, each file in one transaction unless it is marked `-- codegen:no-transaction`.

use std::path::{Path, PathBuf};

use postgres::Client;

/// The directory of the committed migrations.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/migrations")
}

/// The committed migrations, as the runner reads them; panics naming the directory if they cannot
/// be read or are out of order.
pub fn committed() -> migrate::dir::History {
    migrate::dir::read(&dir()).unwrap_or_else(|e| panic!("{e}"))
}

/// Applies every committed up migration; panics naming the migration that fails.
pub fn apply_all(client: &mut Client) {
    for migration in committed().migrations {
        apply(client, &migration.id, &migration.up);
    }
}

/// Applies one migration script as the runner does (without recording it); panics naming `name`
/// and showing the script if it fails.
pub fn apply(client: &mut Client, name: &str, sql: &str) {
    let result = if sql.contains(migrate::NO_TRANSACTION_MARKER) {
        // One statement at a time: several in one simple query form an implicit transaction,
        // which CREATE INDEX CONCURRENTLY refuses.
        migrate::runner::split_statements(sql)
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
