//! Fuzzes the linter's entry point: arbitrary bytes, split into migration files at `\x00\x00`,
//! optionally led by a `lint.toml` (`#!toml` line), linted in order and rendered in every
//! format (see `src/entries.rs`). Any panic is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lint_fuzz::lint_entry(data));
