//! # suppression-without-reason
//!
//! ## What it does
//! Reports a `-- lint:ignore <rule>` or `-- lint:ignore-file <rule>` comment with no reason
//! after the rule name. The suppression still applies, so the report shows this one finding
//! instead of two.
//!
//! ## Why
//! A suppression is a decision ("the table has 200 rows", "retention decision RD-7"); without
//! the reason, reviewers cannot check it and nobody can tell later whether it still holds.
//!
//! ## Example
//! ```sql
//! -- lint:ignore drop-column
//! ALTER TABLE orders DROP COLUMN shipped_at;
//! ```
//!
//! ## Use instead
//! ```sql
//! -- lint:ignore drop-column no reader since release 2024.06
//! ALTER TABLE orders DROP COLUMN shipped_at;
//! ```

pub const NAME: &str = "suppression-without-reason";
