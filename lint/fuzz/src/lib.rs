//! The fuzz targets' entries (see `entries.rs`), a library so that the targets and the
//! corpus regression test (`lint/tests/fuzz_corpus.rs`) run the same code.

mod entries;

pub use entries::*;
