//! The migration linter: SQL migrations are replayed, file by file, into the shared catalog
//! (`model::replay`, the same replay the migration diff uses), and every statement and every
//! resulting schema state is checked.
//!
//! - [`registry`] lists every rule; each rule is one file in `rules/` whose doc comment is its
//!   documentation (`lint --explain RULE`).
//! - [`engine`] walks the files: statement rules see the state before each statement, schema-state
//!   rules the state after each file, and every finding is reported where its problem began.
//! - [`layout`] knows migration tools' directory layouts: which files are up-migrations, in
//!   which order, which part of each, and whether each runs in a transaction.
//! - [`render`] prints a [`Report`] as human text, JSON, SARIF or GitHub annotations.
//!
//! Pure library: no file, terminal or network I/O (that is `main.rs`); inputs are strings.

pub mod cache;
pub mod config;
pub mod engine;
pub mod finding;
pub mod layout;
pub mod parse;
pub mod registry;
pub mod render;
pub mod rules;
pub mod source;
pub mod suppress;

pub use config::Config;
pub use engine::{Linter, lint_catalog, lint_sources};
pub use finding::{Finding, Report, Severity};
pub use source::SourceFile;
