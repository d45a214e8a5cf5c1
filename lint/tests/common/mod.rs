//! Shared helpers of the lint tests: fixtures split into migrations, and linting them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lint::{Config, Report, SourceFile};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture is one or more migrations: a line `-- migration: NAME` starts the next one.
pub fn split_fixture(name: &str, text: &str) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut current_name = name.to_string();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(next) = line.trim().strip_prefix("-- migration:") {
            files.push(SourceFile::new(current_name, std::mem::take(&mut current)));
            current_name = format!("{name}#{}", next.trim());
            continue;
        }
        current.push_str(line);
    }
    files.push(SourceFile::new(current_name, current));
    files
}

pub fn lint_files(files: Vec<SourceFile>) -> Report {
    lint::lint_sources(files, &Config::default(), 2)
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
