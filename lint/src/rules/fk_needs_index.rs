//! # fk-needs-index
//!
//! ## What it does
//! Checks, on the schema after each migration, that every foreign key has an index whose
//! leading key columns are exactly the foreign key's columns (in any order within that
//! prefix). The index must be a valid, non-partial btree index on the referencing table; a
//! primary key or unique constraint counts; `INCLUDE` columns do not.
//!
//! ## Why
//! When a referenced row is deleted or its key updated, PostgreSQL looks up the referencing
//! rows. Without such an index that lookup is a sequential scan of the referencing table, run
//! while holding row locks: deleting one user can scan every file, job and segment. Joins
//! along the foreign key suffer the same way. PostgreSQL does not create this index for you.
//!
//! The finding is reported at the statement that created the foreign key (or at the end of the
//! file whose drop removed the index), and it disappears when a later migration adds the
//! index, so adding the foreign key in one migration and its index concurrently in the next
//! lints clean.
//!
//! ## Example
//! ```sql
//! CREATE TABLE files (id uuid PRIMARY KEY, case_id uuid NOT NULL REFERENCES cases (id));
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE files (id uuid PRIMARY KEY, case_id uuid NOT NULL REFERENCES cases (id));
//! CREATE INDEX files_case_id_idx ON files (case_id);
//! ```

use model::{Catalog, Table};

use super::{Problem, list};

pub const NAME: &str = "fk-needs-index";

pub fn check(table: &Table, catalog: &Catalog, out: &mut Vec<Problem>) {
    for fk in &table.foreign_keys {
        if table.has_index_leading_with(&fk.columns)
            || (table.partition_of.is_some() && catalog.has_index_leading_with(table, &fk.columns))
        {
            continue;
        }
        let shown = table.display_name();
        // `concat` rather than `format!`: the text is made again after every statement that
        // touches the table.
        let index = model::ident::derived_name(
            &std::iter::once(table.name.as_str())
                .chain(fk.columns.iter().map(String::as_str))
                .collect::<Vec<_>>(),
            "idx",
        );
        let columns = fk
            .columns
            .iter()
            .map(|c| super::quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Problem {
            rule: NAME,
            table: shown.clone().into_owned(),
            columns: fk.columns.clone(),
            message: [
                "foreign key `",
                &fk.name,
                "` on `",
                &shown,
                "` (",
                &list(&fk.columns),
                ") has no index leading with its columns",
            ]
            .concat(),
            help: [
                "CREATE INDEX CONCURRENTLY ",
                &index,
                " ON ",
                &super::sql_name(table),
                " (",
                &columns,
                ");",
            ]
            .concat(),
        });
    }
}
