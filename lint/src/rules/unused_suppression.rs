//! # unused-suppression
//!
//! ## What it does
//! Reports a `-- lint:ignore` or `-- lint:ignore-file` comment that suppresses nothing: the rule
//! it names reports nothing on the next statement (or in the file), it names no rule, or there
//! is no statement after it.
//!
//! ## Why
//! A stale suppression hides the next real finding of that rule on that statement, and its
//! reason misleads readers about what the migration does. Suppressions are kept honest by
//! removing them as soon as they are no longer needed.
//!
//! ## Example
//! ```sql
//! -- lint:ignore drop-table the table is empty
//! CREATE INDEX CONCURRENTLY files_checksum_idx ON files (checksum);
//! ```
//!
//! ## Use instead
//! Remove the comment, or move it above the statement it is meant for.

pub const NAME: &str = "unused-suppression";
