//! End-to-end test support: a throwaway PostgreSQL cluster for the tests in `tests/tests/`.

pub mod migrations;
pub mod pg;
