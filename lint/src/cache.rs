//! The replay cache: the linter's whole state after a prefix of the migration chain, keyed by
//! a hash of that chain, so that re-linting a long history where only the newest file changed
//! parses and replays only that file.
//!
//! Key of the state after file k: SHA-256 over the key after file k-1, the file's path, its
//! bytes, its layout and transaction (plus the linter version and the configuration that changes findings), like a
//! migration checksum chain: editing, inserting or reordering any earlier file changes every
//! later key. A cache holds the states after the last two files of the run that wrote it, so
//! both "newest file edited" and "one file added" find their prefix. Serialised with postcard
//! (a compact binary serde format: JSON made reading and writing a 5,000-table state cost more
//! than replaying it); anything unreadable is a miss, never an error.

use std::collections::BTreeMap;

use model::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use model::replay::Session;

use crate::engine::{FileRecord, Linter, Pending, ProblemKey};
use crate::source::SourceFile;

const FORMAT: u32 = 3;

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
    /// The replay session's `search_path` after the files (a migration may have set it).
    search_path: Vec<String>,
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
        h.update([
            u8::from(config.runner.sets_lock_timeout),
            u8::from(config.runner.sets_statement_timeout),
        ]);
        for schema in &config.search_path {
            h.update((schema.len() as u64).to_le_bytes());
            h.update(schema.as_bytes());
        }
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
            // How the file runs changes its findings as much as its text does.
            h.update(f.layout.name().as_bytes());
            h.update([0]);
            h.update(f.transaction.name().as_bytes());
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
        // The format number comes first: another format is a miss without reading further.
        let (format, _) = postcard::take_from_bytes::<u32>(bytes).ok()?;
        if format != FORMAT {
            return None;
        }
        postcard::from_bytes(bytes).ok()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
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
            session: Session::lenient(best.search_path.clone()),
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
        search_path: linter.session.search_path().to_vec(),
    }
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

    fn project_history() -> Vec<SourceFile> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../generated/migrations");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("generated/migrations")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).expect("migration");
                SourceFile::new(p.display().to_string(), text)
            })
            .collect()
    }

    #[test]
    fn the_cache_reads_back_what_it_wrote_and_restores_the_same_report() {
        let files = project_history();
        assert!(files.len() >= 2, "the project has several migrations");
        let config = Config::default();
        let (report, cache, reused) = lint_cached(files.clone(), &config, 1, None);
        assert_eq!(reused, 0);
        let bytes = cache.to_bytes();
        let back = Cache::parse(&bytes).expect("reads back");
        assert_eq!(back.to_bytes(), bytes);
        let (again, _, reused) = lint_cached(files.clone(), &config, 1, Some(&back));
        assert_eq!(reused, files.len());
        assert_eq!(again.findings, report.findings);
    }

    #[test]
    fn a_cache_that_does_not_read_back_is_a_miss() {
        let files = project_history();
        let (_, cache, _) = lint_cached(files, &Config::default(), 1, None);
        let bytes = cache.to_bytes();
        assert!(Cache::parse(b"").is_none());
        assert!(Cache::parse(b"{\"format\":1,\"checkpoints\":[]}").is_none());
        assert!(Cache::parse(&bytes[..bytes.len() / 2]).is_none());
        let mut other_format = bytes.clone();
        other_format[0] = other_format[0].wrapping_add(1);
        assert!(Cache::parse(&other_format).is_none());
    }
}
