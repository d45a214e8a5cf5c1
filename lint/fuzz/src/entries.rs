//! What the fuzz targets run, one function per target, shared with the regression test
//! `lint/tests/fuzz_corpus.rs` (which includes this file by path and runs every seed corpus
//! file and every file in `lint/fuzz/regressions/` through it, without libFuzzer). Only `lint`,
//! `model`, `pgparse`, `pg_query` and `std` are used here, all of them dependencies of the lint
//! crate's tests too.
//!
//! Every function panics exactly when the target should report a crash.
//!
//! Inputs are read as lossy UTF-8: the linter and the loader take strings (the binary reads
//! files the same way), so invalid bytes only become U+FFFD.

use lint::layout::{self, Layout};
use lint::render::{Format, render};
use lint::{Config, SourceFile};

/// Separates migration files in a `lint_entry` input.
pub const FILE_SEPARATOR: &str = "\0\0";

/// A `lint_entry` input that starts with this line carries a `lint.toml` as its first part
/// (up to the first [`FILE_SEPARATOR`]): the search_path, layout, transaction assumption and
/// rule levels the files are linted with. A config the linter refuses is linted with the
/// defaults, as the binary would not run at all.
pub const CONFIG_HEADER: &str = "#!toml\n";

/// `lint_entry`: arbitrary bytes (lossily UTF-8) as migration files, linted in order and
/// rendered in every format.
///
/// - Files are split at [`FILE_SEPARATOR`] and named `0000.sql`, `0001.sql`, ...
/// - With a [`CONFIG_HEADER`], the first part is a `lint.toml`. Its `layout`, when it names
///   one, prepares every file as that tool runs it (up part only, its transaction); without
///   one, each file's layout is recognised from its name and text as for a single file on the
///   command line.
/// - Parsing and replay run on the calling thread (`threads = 1`): no thread is spawned, and
///   nothing is read or written (the binary's cache is not used).
/// - Findings must lie inside their file, and a layout's up part must keep every line and
///   column of the file.
/// - The report is rendered as human text, JSON and GitHub annotations, not as SARIF (see
///   [`lint_entry_with_sarif`]).
pub fn lint_entry(data: &[u8]) {
    lint_and_render(data, &[Format::Human, Format::Json, Format::Github]);
}

/// [`lint_entry`], also rendering SARIF: what the corpus regression test runs. The fuzz loop
/// leaves SARIF out because its driver part, the same for every input, is most of a small
/// input's time: `render::sarif::value` rebuilds every rule's entry on each call, and each
/// `Rule::summary()`/`Rule::doc()` re-extracts the documentation from the rule's source (70%
/// of the time on a 24-byte input, 60% while fuzzing). The part that depends on the input
/// (positions through `Report::range`, messages) is what the other formats exercise as well.
pub fn lint_entry_with_sarif(data: &[u8]) {
    lint_and_render(
        data,
        &[Format::Human, Format::Json, Format::Github, Format::Sarif],
    );
}

fn lint_and_render(data: &[u8], formats: &[Format]) {
    let text = String::from_utf8_lossy(data);
    let (config, body) = match text.strip_prefix(CONFIG_HEADER) {
        Some(rest) => {
            let (toml, body) = rest.split_once(FILE_SEPARATOR).unwrap_or((rest, ""));
            (Config::parse(toml).unwrap_or_default(), body)
        }
        None => (Config::default(), &*text),
    };
    let files: Vec<SourceFile> = body
        .split(FILE_SEPARATOR)
        .enumerate()
        .map(|(i, part)| {
            let path = format!("{i:04}.sql");
            let layout = config
                .layout
                .unwrap_or_else(|| layout::detect_file(&path, part));
            if layout == Layout::Plain {
                return SourceFile::new(path, part);
            }
            let migration = layout::prepare(layout, &path, part, None);
            // Blanked, never cut: every character but a line break becomes a space, so
            // lines and columns (counted in characters) are the file's own.
            let shape = |t: &str| (t.chars().count(), t.matches('\n').count());
            assert_eq!(
                shape(&migration.text),
                shape(part),
                "{layout:?} blanks, never cuts: {part:?}"
            );
            SourceFile::new(migration.path, migration.text).in_layout(layout, migration.transaction)
        })
        .collect();
    let report = lint::lint_sources(files, &config, 1);
    for finding in &report.findings {
        let f = &finding.finding;
        let source = &report.files[f.file];
        assert!(
            f.start <= f.end && f.end <= source.text.len(),
            "finding outside its file: {f:?}"
        );
    }
    for &format in formats {
        let _ = render(&report, format, true);
    }
}

/// `yaml_loader`: arbitrary bytes (lossily UTF-8) as `schema.yaml`, loaded with and without
/// rename hints. The two loads must agree, errors must render in both forms, and the hints of
/// a loaded schema must invert twice to themselves.
pub fn yaml_loader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match model::load_schema_with_renames("schema.yaml", &text) {
        Ok((catalog, hints)) => {
            assert_eq!(hints.inverted().inverted(), hints, "{text:?}");
            let again = model::load_schema("schema.yaml", &text);
            assert!(again.is_ok_and(|c| c == catalog), "{text:?}");
        }
        Err(errors) => {
            let _ = errors.to_short_string();
            let _ = errors.to_string();
        }
    }
}

/// `parse_equals_pg_query`: `pgparse` (the linter's parser, the workspace's only `unsafe`
/// code) against `pg_query::parse`: for any text, the two return the same tree or the same
/// error.
pub fn parse_equals_pg_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ours = pgparse::parse(&text).map_err(|e| e.to_string());
    let theirs = pg_query::parse(&text, 0)
        .map(|parsed| parsed.protobuf)
        .map_err(|e| e.to_string());
    // The one known difference: libpg_query's protobuf encoder checks PostgreSQL's stack
    // allowance (100 kB) and, with AddressSanitizer's larger frames, runs out of it on ordinary
    // statements; pgparse has no encoder and returns the tree.
    if ours.is_ok()
        && theirs
            .as_ref()
            .is_err_and(|e| e.contains("stack depth limit exceeded"))
    {
        return;
    }
    assert_eq!(ours, theirs, "{text:?}");
}
