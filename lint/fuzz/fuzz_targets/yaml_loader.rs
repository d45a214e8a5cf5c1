//! Fuzzes the `schema.yaml` loader: arbitrary bytes loaded with and without rename hints, and
//! the errors rendered (see `src/entries.rs`). Any panic is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lint_fuzz::yaml_loader(data));
