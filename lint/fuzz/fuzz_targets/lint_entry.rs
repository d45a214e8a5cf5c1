//! Fuzzes the linter's entry point: arbitrary bytes, split into migration files at `\x00\x00`,
//! linted in order and rendered in every format. Any panic is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lint::render::{Format, render};
use lint::{Config, SourceFile};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let files: Vec<SourceFile> = text
        .split("\0\0")
        .enumerate()
        .map(|(i, part)| SourceFile::new(format!("{i:04}.sql"), part))
        .collect();
    let report = lint::lint_sources(files, &Config::default(), 1);
    for format in [Format::Human, Format::Json, Format::Sarif, Format::Github] {
        let _ = render(&report, format, true);
    }
});
