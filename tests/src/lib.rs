//! End-to-end test support: a throwaway PostgreSQL cluster for the tests in `tests/tests/`, the
//! committed migrations, the schema fixtures planned step by step (shared with codegen's tests), and
//! an application workload to run migrations under.

pub mod bench;
pub mod fixtures;
pub mod load;
pub mod migrations;
pub mod pg;
pub mod pools;
pub mod repos;
pub mod rng;
pub mod schema;

/// `docs/repositories.md`, whose examples compile as doctests (`cargo test -p e2e --doc`).
#[doc = include_str!("../../docs/repositories.md")]
pub mod repositories_guide {}
