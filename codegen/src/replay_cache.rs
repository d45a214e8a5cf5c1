//! The state the committed migrations build, kept between runs: replaying a long history (the
//! first migration of a 1,000-table schema is a megabyte of SQL) is the largest fixed cost of a
//! run that changes one column, and its result depends on nothing but the scripts and the
//! replay code.
//!
//! The key is SHA-256 over a format number, the caller's identity of the replay code (the
//! binary: its version, size and modification time) and every up script in order, so any edit,
//! insertion or reordering of a migration, and any rebuilt `codegen`, misses. The state is
//! serialised with postcard. Anything unreadable is a miss, never an error; a miss replays. The
//! plan itself is still verified by replaying its scripts onto this state.
//!
//! Pure: the binary reads and writes the file (`.codegen-cache/history.bin`).

use migrate::history::MigrationFile;
use model::Catalog;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: String,
    state: Catalog,
}

/// The key of the state after `migrations`, for replay code identified by `code`.
pub fn key(migrations: &[MigrationFile], code: &str) -> String {
    let mut h = Sha256::new();
    h.update(FORMAT.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update((code.len() as u64).to_le_bytes());
    h.update(code.as_bytes());
    for m in migrations {
        h.update((m.id.len() as u64).to_le_bytes());
        h.update(m.id.as_bytes());
        h.update((m.up.len() as u64).to_le_bytes());
        h.update(m.up.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file's bytes for `state` under `key`.
pub fn encode(key: &str, state: &Catalog) -> Option<Vec<u8>> {
    // Serialised by reference: the catalog is not cloned.
    #[derive(Serialize)]
    struct EntryRef<'a> {
        format: u32,
        key: &'a str,
        state: &'a Catalog,
    }
    postcard::to_stdvec(&EntryRef {
        format: FORMAT,
        key,
        state,
    })
    .ok()
}

/// The state in `bytes` if they hold one for `key`.
pub fn decode(bytes: &[u8], key: &str) -> Option<Catalog> {
    let entry: Entry = postcard::from_bytes(bytes).ok()?;
    (entry.format == FORMAT && entry.key == key).then_some(entry.state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(number: u32, up: &str) -> MigrationFile {
        MigrationFile {
            number,
            id: format!("{number:04}_m"),
            up: up.to_string(),
            down: String::new(),
        }
    }

    #[test]
    fn a_state_comes_back_only_under_its_key() {
        let history = vec![
            m(1, "CREATE TABLE a (id uuid PRIMARY KEY, doc jsonb);"),
            m(2, "ALTER TABLE a ADD COLUMN note text;"),
        ];
        let state = migrate::history::replay(&history).expect("replays");
        let k = key(&history, "build 1");
        let bytes = encode(&k, &state).expect("encodes");
        assert_eq!(decode(&bytes, &k), Some(state));

        // Another build, an edited script, a reordered or a shorter history: other keys.
        let mut edited = history.clone();
        edited[1].up.push(' ');
        let mut reordered = history.clone();
        reordered.swap(0, 1);
        for other in [
            key(&history, "build 2"),
            key(&edited, "build 1"),
            key(&reordered, "build 1"),
            key(&history[..1], "build 1"),
        ] {
            assert_ne!(other, k);
            assert_eq!(decode(&bytes, &other), None);
        }
        // Damaged bytes are a miss.
        assert_eq!(decode(&bytes[..bytes.len() / 2], &k), None);
        assert_eq!(decode(b"", &k), None);
    }
}
