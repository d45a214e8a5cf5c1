//! # replay-failed
//!
//! ## What it does
//! Reports a statement that cannot be applied to the schema replayed from the earlier
//! statements: it names a table, column, index or type that does not exist at that point, or
//! creates one that already exists, or uses something the model does not cover (another schema
//! than `public`, an unsupported column type). The message says which.
//!
//! ## Why
//! A statement that refers to a missing object fails when the migration runs, usually because
//! of a typo or because migrations are ordered wrongly. When the statement is only outside the
//! model, the schema-state rules may miss a problem with the objects it touches, and this
//! finding says so instead of staying silent. Statements that only follow from an earlier
//! failure (a table whose `CREATE` could not be replayed) are not reported again.
//!
//! ## Example
//! ```sql
//! CREATE INDEX files_case_id_idx ON file (case_id);  -- the table is `files`
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE INDEX files_case_id_idx ON files (case_id);
//! ```

pub const NAME: &str = "replay-failed";
