//! Fuzzes `pgparse` (the linter's parser, the workspace's only `unsafe` code) against
//! `pg_query::parse`: for any text, the two return the same tree or the same error. Any
//! difference, or a crash, is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ours = pgparse::parse(&text).map_err(|e| e.to_string());
    let theirs = pg_query::parse(&text, 0)
        .map(|parsed| parsed.protobuf)
        .map_err(|e| e.to_string());
    assert_eq!(ours, theirs, "{text:?}");
});
