//! The statements of the generated methods, as text. Pure functions of a [`TableMeta`], so they
//! are snapshot-tested without a database and run on a real one by the end-to-end tests; the
//! one place statements are built, whatever runs them.
//!
//! Every statement is one query whose parts see one snapshot and succeed or fail together:
//!
//! - `"guard"`: the verdict on the caller, computed first. `"actor"` is the acting user's state
//!   in [`crate::ACTOR_TABLE`] (`active`, `inactive`, `deleted`, or NULL for no such user), read
//!   through [`crate::ACTOR_FUNCTION`], which roles without `SELECT` on that table may call;
//!   `"key"` is whether the actor's data key has the check value stored in
//!   [`crate::KEY_CHECK_TABLE`] (NULL when none is stored yet), or `true` when the statement
//!   handles no encrypted column. Every other part only acts when the actor is `active` and the
//!   key is `true` ([`ALLOWED`], a one-time filter), so a refused call changes, reads and audits
//!   nothing.
//! - the change (or read), and the `audit_logs` row(s) written from it: a data-modifying `WITH`
//!   query, so both happen or neither.
//! - the result: `"guard" LEFT JOIN` the rows, so there is always at least one row, whose last
//!   two columns are the verdict ([`VERDICT_COLUMNS`]); rows whose primary key is NULL are the
//!   padding of an empty result. The table's columns come first, in order, those of a type the
//!   client does not know by OID (enums) as `text` (see [`crate::ColumnTypes`]).
//!
//! Parameters: see [`Preamble`]; each statement's own follow.
//!
//! Row locks: an update or restore reads the row it changes `FOR NO KEY UPDATE` (the lock a
//! plain `UPDATE` of non-key columns takes), which does not conflict with the `FOR KEY SHARE`
//! lock every foreign key check takes on the referenced row; `FOR UPDATE` did, so two
//! transactions each adding a file to a case and then updating the case deadlocked.

use crate::table::TableMeta;
use crate::{ACTOR_FUNCTION, AUDIT_TABLE, ENCRYPTED_FORMAT, KEY_CHECK_TABLE};

mod keys;
mod list;
mod queue;
mod rows;

pub use keys::{register_key_check, sample_encrypted, stored_key_check};
pub use list::{Listing, list, listing_order};
pub use queue::{claim, complete, fail};
pub use rows::{get, hard_delete, insert, restore, soft_delete, update};

/// A quoted identifier. Always quoted: the derive has no keyword table, and quoting a plain
/// lower-case name changes nothing.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table name, `schema.table` quoted part by part (table names hold no dot otherwise).
pub fn table_name(name: &str) -> String {
    name.split('.').map(ident).collect::<Vec<_>>().join(".")
}

/// A string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Which statement of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    Insert,
    Get,
    Update,
    SoftDelete,
    Restore,
    HardDelete,
    List,
}

/// The parameters every statement starts with: `$1` the actor's user id; when the statement is
/// audited, `$2` the audit row's id (a time-ordered UUID drawn by the repository, see
/// [`crate::audit_row_id`]), `$3` the client's address (`inet`), `$4` its user agent and `$5` the
/// request id (`text`), each NULL when the actor does not carry it; when the statement handles
/// encrypted columns, then the data key's check value (`text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Preamble {
    /// The statement writes an audit row.
    pub audited: bool,
    /// The statement reads or writes encrypted columns, so it checks the data key.
    pub key_checked: bool,
}

impl Preamble {
    /// The preamble of statement `shape` of `meta`'s table.
    pub fn of(meta: &TableMeta, shape: Shape) -> Preamble {
        Preamble {
            audited: match shape {
                Shape::Get | Shape::List => meta.audits_reads(),
                _ => true,
            },
            // A hard delete returns no encrypted value and writes none.
            key_checked: shape != Shape::HardDelete && meta.first_encrypted().is_some(),
        }
    }

    /// How many parameters the preamble takes.
    pub fn len(&self) -> usize {
        1 + if self.audited { 4 } else { 0 } + usize::from(self.key_checked)
    }

    /// Always false: there is always the actor.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The number of the statement's first own parameter.
    fn first_own(&self) -> usize {
        self.len() + 1
    }

    fn key_check(&self) -> Option<String> {
        self.key_checked
            .then(|| format!("${}", if self.audited { 6 } else { 2 }))
    }
}

/// The names of the verdict columns every statement ends with.
pub const VERDICT_COLUMNS: [&str; 2] = ["repo.actor", "repo.key"];

/// The condition every part that acts is under: the guard's verdict is yes. Uncorrelated, so
/// PostgreSQL evaluates it once (a one-time filter) before touching the table.
pub const ALLOWED: &str =
    "EXISTS (SELECT FROM \"guard\" WHERE \"guard\".\"actor\" = 'active' AND \"guard\".\"key\")";

/// The `"guard"` part (see the module docs). The actor's state is checked here, in the same
/// statement, so no request can act for a user deactivated a moment earlier by another.
fn guard(preamble: Preamble) -> String {
    let key = match preamble.key_check() {
        Some(param) => format!(
            "(SELECT \"keys\".\"check_value\" = {param} FROM {table} AS \"keys\" WHERE \"keys\".\"format\" = {format})",
            table = table_name(KEY_CHECK_TABLE),
            format = literal(ENCRYPTED_FORMAT),
        ),
        None => "true".to_owned(),
    };
    format!(
        "\"guard\" AS (\n    SELECT {actor}($1) AS \"actor\",\n           {key} AS \"key\"\n)",
        actor = table_name(ACTOR_FUNCTION),
    )
}

/// `SELECT <columns>, <verdict> FROM "guard" LEFT JOIN <source> ON true`: the result.
fn verdict_select(columns: &str, source: &str) -> String {
    format!(
        "SELECT {columns}, \"guard\".\"actor\" AS {actor}, \"guard\".\"key\" AS {key}\nFROM \"guard\" LEFT JOIN {source} ON true",
        actor = ident(VERDICT_COLUMNS[0]),
        key = ident(VERDICT_COLUMNS[1]),
    )
}

/// `"a", "b", ...` with each column qualified by `alias` when given.
fn column_list<'a>(columns: impl IntoIterator<Item = &'a str>, alias: Option<&str>) -> String {
    columns
        .into_iter()
        .map(|c| match alias {
            Some(a) => format!("{}.{}", ident(a), ident(c)),
            None => ident(c),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn all_columns(meta: &TableMeta, alias: Option<&str>) -> String {
    column_list(meta.columns.iter().map(|c| c.name), alias)
}

/// The table's columns as the result returns them, from `source`: in order, those marked in
/// `as_text` cast to `text` under their own name.
fn result_columns(meta: &TableMeta, as_text: &[bool], source: &str) -> String {
    meta.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let column = format!("{}.{}", ident(source), ident(c.name));
            if as_text.get(i).copied().unwrap_or(false) {
                format!("{column}::text AS {}", ident(c.name))
            } else {
                column
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One audit row per row of `from`: `INSERT INTO audit_logs (...) SELECT ... FROM <from>`.
/// `resource` is the row's id, `extra` more (column, value) pairs; the request columns come from
/// the preamble.
fn audit_insert(
    event: &str,
    table: &str,
    resource: Option<&str>,
    action: &str,
    extra: &[(&str, &str)],
    from: &str,
) -> String {
    let mut columns = vec!["id", "event_type", "user_id", "resource_type"];
    let mut values = vec![
        "$2".to_owned(),
        literal(event),
        "$1".to_owned(),
        literal(table),
    ];
    if let Some(resource) = resource {
        columns.push("resource_id");
        values.push(resource.to_owned());
    }
    columns.push("action");
    values.push(literal(action));
    for (column, value) in extra {
        columns.push(column);
        values.push((*value).to_owned());
    }
    columns.extend(["ip_address", "user_agent", "request_id"]);
    values.extend(["$3", "$4", "$5"].map(str::to_owned));
    format!(
        "INSERT INTO {audit} ({columns})\n    SELECT {values} FROM {from}",
        audit = table_name(AUDIT_TABLE),
        columns = column_list(columns, None),
        values = values.join(", "),
    )
}

/// The live-row condition (`"deleted_at" IS NULL`), or nothing for tables without soft delete.
fn live(meta: &TableMeta) -> String {
    match meta.soft_delete {
        Some(col) => format!(" AND {} IS NULL", ident(col)),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Cascade, ColumnMeta};

    const fn column(name: &'static str, phi: bool, encrypted: bool) -> ColumnMeta {
        ColumnMeta {
            name,
            pii: false,
            phi,
            encrypted,
        }
    }

    /// A column that is neither PHI nor encrypted.
    const fn plain(name: &'static str) -> ColumnMeta {
        column(name, false, false)
    }

    /// `parent`'s soft delete reaching `table` through `column` (which references `id`).
    const fn cascade(table: &'static str, column: &'static str, parent: &'static str) -> Cascade {
        Cascade {
            table,
            key: "id",
            column,
            parent,
        }
    }

    const CASES: TableMeta = TableMeta {
        table: "cases",
        columns: &[
            plain("id"),
            column("title", true, false),
            plain("status"),
            plain("tags"),
            plain("created_at"),
            plain("deleted_at"),
        ],
        primary_key: "id",
        soft_delete: Some("deleted_at"),
        sort_key: Some("created_at"),
        cascade: &[
            cascade("files", "case_id", "cases"),
            cascade("segments", "case_id", "cases"),
            cascade("segments", "file_id", "files"),
        ],
    };
    /// `status` is an enum: returned as text.
    const CASES_TEXT: &[bool] = &[false, false, true, false, false, false];

    /// A page of `models` after a cursor: a table without PHI, soft delete or sort key.
    fn models_page() -> String {
        list(
            &MODELS,
            Listing {
                after_arity: 1,
                include_deleted: false,
                contains: None,
                ..Listing::default()
            },
            &[],
        )
    }

    const MODELS: TableMeta = TableMeta {
        table: "models",
        columns: &[plain("id"), plain("name")],
        primary_key: "id",
        soft_delete: None,
        sort_key: None,
        cascade: &[],
    };

    const JOBS: TableMeta = TableMeta {
        table: "jobs",
        columns: &[
            plain("id"),
            plain("status"),
            plain("priority"),
            plain("attempts"),
            plain("max_attempts"),
            plain("scheduled_at"),
            plain("started_at"),
            plain("finished_at"),
            plain("error"),
            plain("result"),
            plain("created_at"),
        ],
        primary_key: "id",
        soft_delete: None,
        sort_key: Some("created_at"),
        cascade: &[],
    };
    /// `status` is an enum: returned as text.
    const JOBS_TEXT: &[bool] = &[
        false, true, false, false, false, false, false, false, false, false, false,
    ];

    const SECRETS: TableMeta = TableMeta {
        table: "secrets",
        columns: &[plain("id"), column("secret", false, true)],
        primary_key: "id",
        soft_delete: None,
        sort_key: None,
        cascade: &[],
    };

    fn statements() -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("insert", insert(&CASES, &["title", "status"], CASES_TEXT)),
            (
                "insert with the primary key",
                insert(&CASES, &["id", "title"], CASES_TEXT),
            ),
            ("insert all defaults", insert(&MODELS, &[], &[])),
            ("insert encrypted", insert(&SECRETS, &["secret"], &[])),
            ("get (audited)", get(&CASES, CASES_TEXT)),
            ("get (not audited)", get(&MODELS, &[])),
            ("update", update(&CASES, &["title", "status"], CASES_TEXT)),
            ("hard delete with its cascade", hard_delete(&CASES)),
            ("hard delete", hard_delete(&MODELS)),
            ("queue claim", claim(&JOBS, JOBS_TEXT)),
            ("queue complete", complete(&JOBS, JOBS_TEXT)),
            ("queue fail", fail(&JOBS, JOBS_TEXT)),
            (
                "list first page",
                list(
                    &CASES,
                    Listing {
                        after_arity: 0,
                        include_deleted: false,
                        contains: None,
                        ..Listing::default()
                    },
                    CASES_TEXT,
                ),
            ),
            (
                "list after, with deleted",
                list(
                    &CASES,
                    Listing {
                        after_arity: 2,
                        include_deleted: true,
                        contains: None,
                        ..Listing::default()
                    },
                    CASES_TEXT,
                ),
            ),
            (
                "find",
                list(
                    &CASES,
                    Listing {
                        after_arity: 2,
                        include_deleted: false,
                        contains: Some("tags"),
                        ..Listing::default()
                    },
                    CASES_TEXT,
                ),
            ),
            ("list (not audited)", models_page()),
            (
                "find by an indexed column, newest first",
                list(
                    &CASES,
                    Listing {
                        after_arity: 2,
                        equals: Some("status"),
                        descending: true,
                        ..Listing::default()
                    },
                    CASES_TEXT,
                ),
            ),
            (
                "find by a PHI column",
                list(
                    &CASES,
                    Listing {
                        equals: Some("title"),
                        ..Listing::default()
                    },
                    CASES_TEXT,
                ),
            ),
            ("register the key check", register_key_check()),
            ("the stored key check", stored_key_check()),
            ("a stored encrypted value", sample_encrypted(&SECRETS)),
        ];
        out.extend(soft_delete(&CASES, CASES_TEXT).map(|s| ("soft delete", s)));
        out.extend(restore(&CASES, CASES_TEXT).map(|s| ("restore", s)));
        out
    }

    #[test]
    fn snapshot_of_the_statements() {
        let text: String = statements()
            .iter()
            .map(|(name, sql)| format!("-- {name}\n{sql};\n\n"))
            .collect();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn every_statement_parses_with_postgres_own_parser() {
        for (name, sql) in statements() {
            let parsed = pg_query::parse(&sql, 0).unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
            assert_eq!(parsed.protobuf.stmts.len(), 1, "{name}");
        }
    }

    /// Every statement but the key check's own: the guard comes first, every part that acts is
    /// under its verdict, and the result ends with the verdict columns.
    #[test]
    fn every_statement_is_guarded_and_ends_with_the_verdict() {
        for (name, sql) in statements() {
            if !sql.starts_with("WITH") {
                continue;
            }
            assert!(sql.starts_with("WITH \"guard\" AS ("), "{name}: {sql}");
            assert!(sql.contains(ALLOWED), "{name}: {sql}");
            assert!(
                sql.contains("\"guard\".\"key\" AS \"repo.key\"\nFROM \"guard\" LEFT JOIN"),
                "{name}: {sql}"
            );
        }
    }

    /// The lock an update or restore takes on the row it changes does not conflict with the
    /// `FOR KEY SHARE` of foreign key checks.
    #[test]
    fn updates_lock_their_row_for_no_key_update() {
        for sql in [
            update(&CASES, &["status"], CASES_TEXT),
            restore(&CASES, CASES_TEXT).expect("soft delete"),
        ] {
            assert!(sql.contains(" FOR NO KEY UPDATE) AS \"before\""), "{sql}");
            assert!(!sql.contains(" FOR UPDATE"), "{sql}");
        }
    }

    #[test]
    fn the_preamble_numbers_the_shared_parameters() {
        let audited_keyed = Preamble::of(&SECRETS, Shape::Insert);
        assert_eq!(audited_keyed.len(), 6);
        assert_eq!(audited_keyed.key_check().as_deref(), Some("$6"));
        let read = Preamble::of(&SECRETS, Shape::Get);
        assert_eq!((read.audited, read.len()), (false, 2));
        assert_eq!(read.key_check().as_deref(), Some("$2"));
        let delete = Preamble::of(&SECRETS, Shape::HardDelete);
        assert_eq!((delete.key_checked, delete.len()), (false, 5));
        assert!(get(&SECRETS, &[]).contains("WHERE \"id\" = $3"));
        assert_eq!(Preamble::of(&MODELS, Shape::List).len(), 1);
        assert!(models_page().contains("(\"id\") > ($2)"));
    }

    #[test]
    fn enums_are_returned_as_text_under_their_name() {
        let sql = get(&CASES, CASES_TEXT);
        assert!(
            sql.contains("\"found\".\"status\"::text AS \"status\""),
            "{sql}"
        );
        assert!(sql.contains("\"found\".\"title\","), "{sql}");
    }

    #[test]
    fn a_cascade_deletes_and_audits_each_table_after_its_parents() {
        let sql = hard_delete(&CASES);
        let files = sql.find("\"cascade.files\" AS").expect("files");
        let segments = sql.find("\"cascade.segments\" AS").expect("segments");
        assert!(files < segments, "{sql}");
        assert!(
            sql.contains(
                "DELETE FROM \"segments\" WHERE \"case_id\" IN (SELECT \"id\" FROM \"changed\") OR \"file_id\" IN (SELECT \"id\" FROM \"cascade.files\")"
            ),
            "{sql}"
        );
        assert!(
            sql.contains("SELECT 'files' AS \"table\", \"id\" AS \"id\" FROM \"cascade.files\" UNION ALL SELECT 'segments'"),
            "{sql}"
        );
        assert!(!hard_delete(&MODELS).contains("cascade"));
    }

    #[test]
    fn tables_without_soft_delete_have_no_soft_delete_statements() {
        assert_eq!(soft_delete(&MODELS, &[]), None);
        assert_eq!(restore(&MODELS, &[]), None);
        assert!(
            !list(
                &MODELS,
                Listing {
                    after_arity: 0,
                    include_deleted: false,
                    contains: None,
                    ..Listing::default()
                },
                &[]
            )
            .contains("IS NULL")
        );
    }

    #[test]
    fn sensitive_values_are_hashed_and_filters_on_them_redacted() {
        let sql = update(&CASES, &["title", "status"], CASES_TEXT);
        // $6 is the id, $7 and $8 the values: `title` (PHI) goes through the keyed hash with the
        // pads in $9/$10; `status` does not.
        assert!(
            sql.contains("sha256($9 || sha256($10 || convert_to(\"changed\".\"title\"::text"),
            "{sql}"
        );
        assert!(!sql.contains("convert_to(\"changed\".\"status\""), "{sql}");
        assert!(sql.contains("to_jsonb(\"changed\".\"status\")"), "{sql}");
        let find_phi = list(
            &CASES,
            Listing {
                after_arity: 0,
                include_deleted: false,
                contains: Some("title"),
                ..Listing::default()
            },
            CASES_TEXT,
        );
        assert!(
            find_phi.contains("'contains', '\"[redacted]\"'::jsonb"),
            "{find_phi}"
        );
    }

    /// An encrypted column is sensitive without being pii or phi: its stored text (the
    /// ciphertext) reaches the audit log only as a keyed hash.
    #[test]
    fn encrypted_columns_are_hashed_in_the_audit_log() {
        let sql = update(&SECRETS, &["secret"], &[]);
        // $6 the check value, $7 the id, $8 the value, $9/$10 the pads.
        assert!(
            sql.contains("sha256($9 || sha256($10 || convert_to(\"changed\".\"secret\"::text"),
            "{sql}"
        );
        assert!(!sql.contains("to_jsonb(\"changed\".\"secret\")"), "{sql}");
    }

    #[test]
    fn identifiers_and_literals_are_escaped() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(table_name("storage.objects"), "\"storage\".\"objects\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
