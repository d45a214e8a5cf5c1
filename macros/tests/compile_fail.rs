//! Misuses of `#[derive(Repository)]` fail to compile with an error at the offending attribute
//! or field (expected output in `ui/*.stderr`; `TRYBUILD=overwrite` after an intended change),
//! and a correct struct compiles.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
