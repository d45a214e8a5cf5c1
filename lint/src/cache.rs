//! The replay cache: the linter's whole state after a prefix of the migration chain, keyed by
//! a hash of that chain, so that re-linting a long history where only the newest file changed
//! parses and replays only that file.
//!
//! Key of the state after file k: SHA-256 over the key after file k-1, the file's path and its
//! bytes (plus the linter version and the configuration that changes findings), like a
//! migration checksum chain: editing, inserting or reordering any earlier file changes every
//! later key. A cache holds the states after the last two files of the run that wrote it, so
//! both "newest file edited" and "one file added" find their prefix. Serialised as JSON;
//! anything unreadable is a miss, never an error.

use std::collections::BTreeMap;

use model::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::engine::{FileRecord, Linter, Pending, ProblemKey};
use crate::source::SourceFile;

const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Chain key after the `files`-th file.
    pub key: String,
    pub files: usize,
    /// Kept as a catalog (serialised with the rest, not first converted to a JSON tree): a
    /// 5,000-table history made that conversion slower than replaying it.
    state: Catalog,
    pending: Vec<(ProblemKey, Pending)>,
    records: Vec<FileRecord>,
    volatile_functions: Vec<String>,
    poisoned: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cache {
    format: u32,
    pub checkpoints: Vec<Checkpoint>,
}

/// The chain key after each file: `keys[k]` covers `files[..=k]`.
pub fn chain_keys(files: &[SourceFile], config: &Config) -> Vec<String> {
    let mut previous = {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(FORMAT.to_le_bytes());
        h.update(config.postgres_version.to_le_bytes());
        h.update([u8::from(config.assume_in_transaction)]);
        hex(&h.finalize())
    };
    files
        .iter()
        .map(|f| {
            let mut h = Sha256::new();
            h.update(previous.as_bytes());
            h.update((f.path.len() as u64).to_le_bytes());
            h.update(f.path.as_bytes());
            h.update((f.text.len() as u64).to_le_bytes());
            h.update(f.text.as_bytes());
            previous = hex(&h.finalize());
            previous.clone()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cache {
    pub fn parse(bytes: &[u8]) -> Option<Cache> {
        let cache: Cache = serde_json::from_slice(bytes).ok()?;
        (cache.format == FORMAT).then_some(cache)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The linter restored at the longest cached prefix of `keys`, if any.
    pub fn restore(&self, keys: &[String], config: &Config) -> Option<Linter> {
        let best = self
            .checkpoints
            .iter()
            .filter(|c| c.files >= 1 && keys.get(c.files - 1) == Some(&c.key))
            .max_by_key(|c| c.files)?;
        Some(Linter {
            config: config.clone(),
            state: best.state.clone(),
            pending: best.pending.iter().cloned().collect::<BTreeMap<_, _>>(),
            files: best.records.clone(),
            volatile_functions: best.volatile_functions.iter().cloned().collect(),
            poisoned: best.poisoned.iter().cloned().collect(),
            names: Default::default(),
            memo: Default::default(),
        })
    }
}

/// The linter's state after its files, under the chain key of its last file.
pub fn checkpoint(linter: &Linter, key: &str) -> Checkpoint {
    let mut volatile: Vec<String> = linter.volatile_functions.iter().cloned().collect();
    volatile.sort();
    let mut poisoned: Vec<String> = linter.poisoned.iter().cloned().collect();
    poisoned.sort();
    Checkpoint {
        key: key.to_string(),
        files: linter.files.len(),
        state: linter.state.clone(),
        pending: linter
            .pending
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        records: linter.files.clone(),
        volatile_functions: volatile,
        poisoned,
    }
}

// ---------------------------------------------------------------------------------------------
// The catalog as JSON, through the model's serde derives.

pub fn catalog_to_json(c: &Catalog) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

/// `None` for anything that does not read back (an older format): a cache miss.
pub fn catalog_from_json(v: &Value) -> Option<Catalog> {
    Catalog::deserialize(v).ok()
}

/// Lints `files`, starting from the longest prefix `cache` holds; returns the report and the
/// cache to store for the next run.
pub fn lint_cached(
    files: Vec<SourceFile>,
    config: &Config,
    threads: usize,
    cache: Option<&Cache>,
) -> (crate::Report, Cache, usize) {
    let keys = chain_keys(&files, config);
    let mut linter = cache
        .and_then(|c| c.restore(&keys, config))
        .unwrap_or_else(|| Linter::new(config.clone()));
    let reused = linter.files.len();
    let mut checkpoints = Vec::new();
    if files.len() >= 2 {
        // The state before the last file, then after it.
        let before_last = files.len() - 1;
        if reused < before_last {
            linter.lint_all(&files[..before_last], threads);
        }
        if linter.files.len() == before_last && before_last > 0 {
            checkpoints.push(checkpoint(&linter, &keys[before_last - 1]));
        }
    }
    linter.lint_all(&files, threads);
    if let Some(last) = keys.last() {
        checkpoints.push(checkpoint(&linter, last));
    }
    let report = linter.finish(files);
    (
        report,
        Cache {
            format: FORMAT,
            checkpoints,
        },
        reused,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_survives_json() {
        let (catalog, _) =
            model::load_schema_with_renames("schema.yaml", include_str!("../../schema.yaml"))
                .expect("the project schema loads");
        let back = catalog_from_json(&catalog_to_json(&catalog)).expect("reads back");
        assert_eq!(back, catalog);
    }
}
