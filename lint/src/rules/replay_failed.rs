//! # replay-failed
//!
//! ## What it does
//! Reports SQL the linter cannot follow while it replays the migrations into a schema: a
//! statement that fails on the schema built by the statements before it (it names a table,
//! column, index or type that does not exist at that point, or creates one that already
//! exists), or the part of a statement that cannot be known before the migration runs, such as
//! `EXECUTE` of SQL a `DO` block computes at run time (reported at its line in the block). The
//! message names what could not be followed.
//!
//! The replay goes as far as it can: a statement that names several objects applies to the
//! ones it can, a table keeps what is known of it, types the linter does not know
//! (`citext`, `geometry(Point, 4326)`, ranges) are kept by name, `DO` blocks are read with
//! PostgreSQL's PL/pgSQL parser (their static SQL, `EXECUTE` of constants, and guards on the
//! system catalogs are followed), and objects in other schemas are followed through the
//! `search_path` (`search_path` in `lint.toml` says what the migrations' runner sets).
//!
//! ## Why
//! A statement that refers to a missing object fails when the migration runs, usually because
//! of a typo or because migrations are ordered wrongly. When something is only beyond what the
//! linter can know, the schema-state rules may miss a problem with the objects it touches, and
//! this finding says so instead of staying silent. Statements that only follow from an earlier
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
