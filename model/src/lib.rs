//! The shared model of a PostgreSQL schema, and the loaders that build it.
//!
//! `codegen`, `macros` and `lint` depend on this crate and never on each other. Everything here is
//! pure: no file or network I/O, so every function can be tested with strings.

pub mod annotations;
pub mod catalog;
pub mod compare;
pub mod compliance;
pub mod diagnostics;
pub mod expr;
pub mod ident;
pub mod locks;
pub mod replay;
pub mod sql;
pub mod types;
pub mod yaml;

pub use catalog::*;
pub use diagnostics::{Diagnostic, Pos, SourceErrors};
pub use types::DataType;
pub use yaml::{RenameHints, load_schema, load_schema_with_renames};
