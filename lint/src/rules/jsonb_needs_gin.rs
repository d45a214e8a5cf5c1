//! # jsonb-needs-gin
//!
//! ## What it does
//! Checks, on the schema after each migration, that every `jsonb` column has a GIN index with
//! that column as one of its key columns (any operator class, `jsonb_path_ops` included).
//!
//! ## Why
//! JSONB columns here hold metadata that the application filters on (`@>`, `?`, `@?`).
//! Without a GIN index each such query scans the whole table. The project's rule is that every
//! JSONB column is indexed from the start, because adding the index later to a large table
//! takes a long `CREATE INDEX CONCURRENTLY`.
//!
//! ## Example
//! ```sql
//! CREATE TABLE jobs (id uuid PRIMARY KEY, parameters jsonb NOT NULL DEFAULT '{}');
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE TABLE jobs (id uuid PRIMARY KEY, parameters jsonb NOT NULL DEFAULT '{}');
//! CREATE INDEX jobs_parameters_gin_idx ON jobs USING gin (parameters);
//! ```

use model::{Catalog, Table};

use super::Problem;

pub const NAME: &str = "jsonb-needs-gin";

pub fn check(table: &Table, catalog: &Catalog, out: &mut Vec<Problem>) {
    let inherits = table.partition_of.is_some() || !table.inherits.is_empty();
    for column in &table.columns {
        if !column.data_type.is_jsonb() || table.has_gin_index_on(&column.name) {
            continue;
        }
        // A partition's (or child's) inherited column is its parent's to index.
        if inherits && catalog.is_inherited_column(table, &column.name) {
            continue;
        }
        let shown = table.display_name();
        out.push(Problem {
            rule: NAME,
            table: shown.clone().into_owned(),
            columns: vec![column.name.clone()],
            // `concat` rather than `format!`: the text is made again after every statement that
            // touches the table.
            message: [
                "jsonb column `",
                &shown,
                ".",
                &column.name,
                "` has no GIN index",
            ]
            .concat(),
            help: [
                "CREATE INDEX CONCURRENTLY ",
                &model::ident::derived_name(&[&table.name, &column.name], "gin_idx"),
                " ON ",
                &super::sql_name(table),
                " USING gin (",
                &super::quote(&column.name),
                ");",
            ]
            .concat(),
        });
    }
}
