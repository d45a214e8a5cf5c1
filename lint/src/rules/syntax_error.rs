//! # syntax-error
//!
//! ## What it does
//! Reports a statement that PostgreSQL's own parser (libpg_query, the PostgreSQL 18 grammar)
//! rejects, at the token where parsing fails, with the parser's message. The statements around
//! it are still linted.
//!
//! ## Why
//! The migration would fail when it is deployed. The linter never stops at broken SQL: every
//! other file and statement is still checked, so one typo does not hide other problems.
//!
//! ## Example
//! ```sql
//! CREATE TABLE notes (id uuid PRIMARY KEY,);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE notes (id uuid PRIMARY KEY);
//! ```

pub const NAME: &str = "syntax-error";
