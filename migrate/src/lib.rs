//! Migrations as committed and as applied: the history under `generated/migrations/` (file names,
//! the integrity file, the no-transaction marker, the replay into the previous schema) and the
//! runner that applies it to a database. The generator, `codegen --check`, `codegen db` and the
//! end-to-end tests all read migrations through this crate, so they agree on what a history is.
//!
//! `history` is pure; `dir` reads a migrations directory; `runner` is the database I/O.

pub mod dir;
pub mod duration;
pub mod history;
pub mod runner;

pub use history::{Directives, MigrationFile, NO_TRANSACTION_MARKER, SUM_FILE};
