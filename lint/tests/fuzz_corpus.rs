//! The fuzz targets' seed corpora and found crashes, run in CI without libFuzzer: every file in
//! `lint/fuzz/corpus/<target>/` and `lint/fuzz/regressions/<target>/` goes through the very
//! function the target `<target>` fuzzes (`lint/fuzz/src/entries.rs`, included here by path).
//! A failing file is named with its panic message; all of them are reported at once. (The
//! `lint_entry` files are also rendered as SARIF here, which the fuzz loop leaves out for
//! speed: see `lint_entry_with_sarif`.)
//!
//! The `lint_entry` corpus (SQL) also goes through `parse_equals_pg_query`.

#[allow(dead_code)]
#[path = "../fuzz/src/entries.rs"]
mod entries;

use std::path::{Path, PathBuf};

type Entry = fn(&[u8]);

/// Each target's function, and the corpora it runs besides its own.
const TARGETS: &[(&str, Entry, &[&str])] = &[
    ("lint_entry", entries::lint_entry_with_sarif, &[]),
    ("yaml_loader", entries::yaml_loader, &[]),
    (
        "parse_equals_pg_query",
        entries::parse_equals_pg_query,
        &["lint_entry"],
    ),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir` (none when it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn run(target: &str) -> (usize, Vec<String>) {
    let (_, entry, also) = TARGETS
        .iter()
        .find(|(name, _, _)| *name == target)
        .expect("a known target");
    let mut dirs = vec![
        fuzz_dir().join("corpus").join(target),
        fuzz_dir().join("regressions").join(target),
    ];
    dirs.extend(also.iter().map(|t| fuzz_dir().join("corpus").join(t)));
    let mut ran = 0;
    let mut failures = Vec::new();
    for path in dirs.iter().flat_map(|d| files(d)) {
        let data = std::fs::read(&path).expect("readable corpus file");
        ran += 1;
        if let Err(payload) = std::panic::catch_unwind(|| entry(&data)) {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", path.display()));
        }
    }
    (ran, failures)
}

fn check(target: &str) {
    let (ran, failures) = run(target);
    assert!(
        ran > 0,
        "no corpus for {target} in {}",
        fuzz_dir().display()
    );
    assert!(
        failures.is_empty(),
        "{target}: {} of {ran} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn lint_entry_corpus() {
    check("lint_entry");
}

#[test]
fn yaml_loader_corpus() {
    check("yaml_loader");
}

#[test]
fn parse_equals_pg_query_corpus() {
    check("parse_equals_pg_query");
}

/// Every target has a seed corpus and a test above, and every directory under `corpus/` and
/// `regressions/` belongs to a target.
#[test]
fn every_target_is_covered() {
    let manifest =
        std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("lint/fuzz/Cargo.toml");
    let mut bins: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "lint-fuzz")
        .collect();
    let mut known: Vec<&str> = TARGETS.iter().map(|(name, _, _)| *name).collect();
    bins.sort_unstable();
    known.sort_unstable();
    assert_eq!(bins, known, "targets in lint/fuzz/Cargo.toml");
    for kind in ["corpus", "regressions"] {
        let Ok(dirs) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            continue;
        };
        for dir in dirs.filter_map(Result::ok) {
            let name = dir.file_name().to_string_lossy().into_owned();
            assert!(
                known.contains(&name.as_str()),
                "{kind}/{name}: no such target"
            );
        }
    }
}
