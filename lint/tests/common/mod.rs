//! Shared helpers of the lint tests: fixtures split into migrations, and linting them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lint::{Config, Report, SourceFile};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture is one or more migrations: a line `-- migration: NAME` starts the next one.
///
/// A first line `-- fixture-layout: <layout>` makes every file one of that migration tool's
/// (its bookkeeping table, say); the line stays in the text, so positions are the fixture's.
pub fn split_fixture(name: &str, text: &str) -> Vec<SourceFile> {
    let layout = text
        .lines()
        .next()
        .and_then(|l| l.trim().strip_prefix("-- fixture-layout:"))
        .map(|l| {
            lint::layout::Layout::from_name(l.trim())
                .unwrap_or_else(|| panic!("{name}: no layout {l:?}"))
        });
    let file = |path: String, text: String| {
        let mut file = SourceFile::new(path, text);
        if let Some(layout) = layout {
            file.layout = layout;
        }
        file
    };
    let mut files = Vec::new();
    let mut current_name = name.to_string();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(next) = line.trim().strip_prefix("-- migration:") {
            files.push(file(current_name, std::mem::take(&mut current)));
            current_name = format!("{name}#{}", next.trim());
            continue;
        }
        current.push_str(line);
    }
    files.push(file(current_name, current));
    files
}

pub fn lint_files(files: Vec<SourceFile>) -> Report {
    lint::lint_sources(files, &Config::default(), 2)
}

/// The configuration of a rule's fixtures: the default, except that the timeouts count as set
/// by the runner for every other rule, so each rule's snapshots show that rule.
pub fn fixture_config(rule: &str) -> Config {
    let mut config = Config::default();
    if rule != lint::rules::require_lock_timeout::NAME
        && rule != lint::rules::require_statement_timeout::NAME
    {
        config.runner.sets_lock_timeout = true;
        config.runner.sets_statement_timeout = true;
    }
    config
}

/// The repository's own `lint.toml`, as `cargo run -p lint -- generated/migrations` reads it.
pub fn project_config() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lint.toml");
    let text = std::fs::read_to_string(&path).expect("the repository's lint.toml");
    Config::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

pub fn lint_text(sql: &str) -> Report {
    lint_files(split_fixture("test.sql", sql))
}

/// `rule line:column` for each finding, for compact assertions.
pub fn summary(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|r| {
            let (start, _) = report.range(&r.finding);
            format!(
                "{} {}:{}:{}",
                r.finding.rule, report.files[r.finding.file].path, start.line, start.column
            )
        })
        .collect()
}

pub fn rules_of(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|r| r.finding.rule.clone())
        .collect()
}

/// The files at `paths`, read as the linter takes them: named by their file names.
pub fn read_sources(paths: &[PathBuf]) -> Vec<SourceFile> {
    paths
        .iter()
        .map(|p| {
            SourceFile::new(
                p.file_name().expect("name").to_string_lossy(),
                std::fs::read_to_string(p).expect("read"),
            )
        })
        .collect()
}

/// The rule of every diagnostic of a JSON report, in report order.
pub fn json_rules(json: &serde_json::Value) -> Vec<&str> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["rule"].as_str())
        .collect()
}
