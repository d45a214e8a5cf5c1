//! # soft-delete-needs-deleted-at
//!
//! ## What it does
//! Checks, on the schema after each migration, that a table whose comment carries the
//! `[soft_delete]` flag has a nullable `deleted_at` column of type `timestamptz` (or
//! `timestamp`).
//!
//! ## Why
//! The flag tells the repositories, the audit scrubbing and the docs that rows of this table
//! are never deleted, only marked: reads filter on `deleted_at IS NULL`, and erasure requests
//! are tracked through it. A flagged table without the column breaks every one of them at run
//! time; a `NOT NULL` one cannot mark a live row.
//!
//! ## Example
//! ```sql
//! CREATE TABLE cases (id uuid PRIMARY KEY);
//! COMMENT ON TABLE cases IS 'Patient cases. [soft_delete]';
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE cases (id uuid PRIMARY KEY, deleted_at timestamptz);
//! COMMENT ON TABLE cases IS 'Patient cases. [soft_delete]';
//! ```

use model::{Catalog, DataType, Table};

use super::Problem;

pub const NAME: &str = "soft-delete-needs-deleted-at";

pub fn check(table: &Table, _catalog: &Catalog, out: &mut Vec<Problem>) {
    if !table.flags.soft_delete {
        return;
    }
    let message = match table.column("deleted_at") {
        None => format!(
            "table `{}` is flagged [soft_delete] but has no `deleted_at` column",
            table.display_name()
        ),
        Some(c)
            if !matches!(
                c.data_type,
                DataType::Timestamptz(_) | DataType::Timestamp(_)
            ) =>
        {
            format!(
                "`{}.deleted_at` is `{}`; soft delete needs a timestamp",
                table.display_name(),
                c.data_type
            )
        }
        Some(c) if !c.nullable => format!(
            "`{}.deleted_at` is NOT NULL, so no row can be live",
            table.display_name()
        ),
        Some(_) => return,
    };
    out.push(Problem {
        rule: NAME,
        table: table.display_name().into_owned(),
        columns: vec!["deleted_at".into()],
        message,
        help: format!(
            "ALTER TABLE {} ADD COLUMN deleted_at timestamptz;",
            super::sql_name(table)
        ),
    });
}
