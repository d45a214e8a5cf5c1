//! Fuzzes `pgparse` (the linter's parser, the workspace's only `unsafe` code) against
//! `pg_query::parse`: for any text, the two return the same tree or the same error (see
//! `src/entries.rs`). Any difference, or a crash, is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lint_fuzz::parse_equals_pg_query(data));
