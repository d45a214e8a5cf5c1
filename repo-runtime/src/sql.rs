//! The statements of the generated methods, as text. Pure functions of a [`TableMeta`], so they
//! are snapshot-tested without a database and run on a real one by the end-to-end tests.
//!
//! Every audited statement is one data-modifying `WITH` query: the change (or read) is one CTE,
//! the `audit_logs` insert another that reads the first, so PostgreSQL runs both or neither, in
//! one round trip. When the statement is audited, parameter `$1` is always the actor's user id and
//! `$2` the audit row's id: a time-ordered UUID (version 7) the repository draws, so that the
//! audit table, the one every audited statement inserts into, grows its primary key index at
//! the right edge instead of at a random leaf (see [`crate::audit_row_id`]).

use std::fmt::Write as _;

use crate::AUDIT_TABLE;
use crate::table::{ColumnMeta, TableMeta};

/// A quoted identifier. Always quoted: the derive has no keyword table, and quoting a plain
/// lower-case name changes nothing.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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

/// `INSERT INTO audit_logs (...) SELECT ... FROM "changed"`: one audit row per changed row.
fn audit_from_changed(
    meta: &TableMeta,
    event: &str,
    action: &str,
    changes: Option<&str>,
) -> String {
    let (changes_column, changes_value) = match changes {
        Some(expr) => (", \"changes\"", format!(", {expr}")),
        None => ("", String::new()),
    };
    format!(
        "INSERT INTO {audit} (\"id\", \"event_type\", \"user_id\", \"resource_type\", \"resource_id\", \"action\"{changes_column})\n    \
         SELECT $2, {event}, $1, {table}, \"changed\".{pk}, {action}{changes_value} FROM \"changed\"",
        audit = ident(AUDIT_TABLE),
        event = literal(event),
        table = literal(meta.table),
        pk = ident(meta.primary_key),
        action = literal(action),
    )
}

/// The live-row condition (`"deleted_at" IS NULL`), or nothing for tables without soft delete.
fn live(meta: &TableMeta, alias: Option<&str>) -> String {
    match meta.soft_delete {
        Some(col) => match alias {
            Some(a) => format!(" AND {}.{} IS NULL", ident(a), ident(col)),
            None => format!(" AND {} IS NULL", ident(col)),
        },
        None => String::new(),
    }
}

/// Insert: `$1` actor, `$2` audit row id, `$3..` the values of `columns`, in order. Columns left out take their
/// database defaults.
///
/// When `columns` include the primary key, its parameter is the id the row gets, so the audit
/// row is written from it, beside the insert: the insert is the statement itself and returns
/// the row directly. Otherwise the id comes from the database default and the audit row reads
/// it from the insert's `RETURNING` (a `"changed"` CTE, scanned once more for the result),
/// which costs the server more: a second scan of the whole row and another plan node to set up.
/// Both rows are written by one statement, so both or neither; the one difference: a `BEFORE
/// INSERT` trigger that skips the row (returns NULL) leaves the audit row of the attempt in the
/// first form (the method then fails with `NotFound`), and none in the second.
pub fn insert(meta: &TableMeta, columns: &[&str]) -> String {
    let values = if columns.is_empty() {
        "DEFAULT VALUES".to_owned()
    } else {
        let placeholders: Vec<String> = (0..columns.len()).map(|i| format!("${}", i + 3)).collect();
        format!(
            "({}) VALUES ({})",
            column_list(columns.iter().copied(), None),
            placeholders.join(", ")
        )
    };
    let table = ident(meta.table);
    let returning = all_columns(meta, None);
    if let Some(key) = columns.iter().position(|c| *c == meta.primary_key) {
        return format!(
            "WITH \"audit\" AS (\n    INSERT INTO {audit} (\"id\", \"event_type\", \"user_id\", \"resource_type\", \"resource_id\", \"action\")\n    \
             VALUES ($2, 'data_create', $1, {resource}, ${id}, 'insert')\n)\nINSERT INTO {table} {values}\nRETURNING {returning}",
            audit = ident(AUDIT_TABLE),
            resource = literal(meta.table),
            id = key + 3,
        );
    }
    format!(
        "WITH \"changed\" AS (\n    INSERT INTO {table} {values}\n    RETURNING {returning}\n), \"audit\" AS (\n    {audit}\n)\nSELECT * FROM \"changed\"",
        audit = audit_from_changed(meta, "data_create", "insert", None),
    )
}

/// Get a live row by id. Audited (tables with PHI): `$1` actor, `$2` audit row id, `$3` id, and
/// the audit row is written whether or not the row exists (`success` false when not). Otherwise
/// `$1` id.
pub fn get(meta: &TableMeta) -> String {
    let select = |id: &str| {
        format!(
            "SELECT {} FROM {} WHERE {} = {id}{}",
            all_columns(meta, None),
            ident(meta.table),
            ident(meta.primary_key),
            live(meta, None)
        )
    };
    if !meta.audits_reads() {
        return select("$1");
    }
    format!(
        "WITH \"found\" AS (\n    {found}\n), \"audit\" AS (\n    INSERT INTO {audit} (\"id\", \"event_type\", \"user_id\", \"resource_type\", \"resource_id\", \"action\", \"success\")\n    \
         VALUES ($2, 'data_access', $1, {table}, $3, 'get', EXISTS (SELECT 1 FROM \"found\"))\n)\nSELECT * FROM \"found\"",
        found = select("$3"),
        audit = ident(AUDIT_TABLE),
        table = literal(meta.table),
    )
}

/// How an audit `changes` entry shows a value of `column` read from `expr`: as JSON, or for
/// PII/PHI as `hmac-sha256:<hex>` of its text form, keyed with the pads in `$opad`/`$ipad`.
fn audit_value(column: &ColumnMeta, expr: &str, opad: usize, ipad: usize) -> String {
    if column.is_sensitive() {
        format!(
            "CASE WHEN {expr} IS NULL THEN 'null'::jsonb ELSE to_jsonb('hmac-sha256:' || encode(sha256(${opad} || sha256(${ipad} || convert_to({expr}::text, 'UTF8'))), 'hex')) END"
        )
    } else {
        format!("to_jsonb({expr})")
    }
}

/// Update the live row `$3` (`$1` actor, `$2` audit row id): `SET` each of `columns` to `$4..`,
/// in order. When one of them is PII/PHI, two more parameters follow: the audit key's outer and
/// inner HMAC pads.
///
/// The old values come from `FROM (SELECT ... FOR UPDATE) "before"`: `RETURNING` only sees the
/// new row, and the lock makes the old values the ones actually replaced. The audit row's
/// `changes` holds `{column: {old, new}}` for each column whose value really changed.
pub fn update(meta: &TableMeta, columns: &[&str]) -> String {
    let k = columns.len();
    let (opad, ipad) = (k + 4, k + 5);
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ${}", ident(c), i + 4))
        .collect();
    let before_columns = column_list(
        std::iter::once(meta.primary_key).chain(columns.iter().copied()),
        None,
    );
    let mut returning = all_columns(meta, Some("target"));
    for c in columns {
        let _ = write!(
            returning,
            ", \"before\".{} AS {}",
            ident(c),
            ident(&format!("before.{c}"))
        );
    }
    let mut changes = "'{}'::jsonb".to_owned();
    for c in columns {
        let meta_column = meta.column(c).copied().unwrap_or(ColumnMeta {
            name: "",
            pii: true,
            phi: true,
            encrypted: false,
        });
        let new = format!("\"changed\".{}", ident(c));
        let old = format!("\"changed\".{}", ident(&format!("before.{c}")));
        let _ = write!(
            changes,
            "\n        || CASE WHEN {old}::text IS DISTINCT FROM {new}::text THEN jsonb_build_object({name}, jsonb_build_object('old', {old_value}, 'new', {new_value})) ELSE '{{}}'::jsonb END",
            name = literal(c),
            old_value = audit_value(&meta_column, &old, opad, ipad),
            new_value = audit_value(&meta_column, &new, opad, ipad),
        );
    }
    format!(
        "WITH \"changed\" AS (\n    UPDATE {table} AS \"target\" SET {set}\n    \
         FROM (SELECT {before_columns} FROM {table} WHERE {pk} = $3{live} FOR UPDATE) AS \"before\"\n    \
         WHERE \"target\".{pk} = \"before\".{pk}\n    RETURNING {returning}\n), \"audit\" AS (\n    {audit}\n)\nSELECT {columns} FROM \"changed\"",
        table = ident(meta.table),
        set = set.join(", "),
        pk = ident(meta.primary_key),
        live = live(meta, None),
        audit = audit_from_changed(meta, "data_update", "update", Some(&changes)),
        columns = all_columns(meta, None),
    )
}

/// Soft-delete the live row `$3` (`$1` actor, `$2` audit row id): set its soft-delete column to `now()`.
/// `None` for a table without soft delete.
pub fn soft_delete(meta: &TableMeta) -> Option<String> {
    let col = meta.soft_delete?;
    let changes = format!(
        "jsonb_build_object({name}, jsonb_build_object('old', 'null'::jsonb, 'new', to_jsonb(\"changed\".{col})))",
        name = literal(col),
        col = ident(col),
    );
    Some(format!(
        "WITH \"changed\" AS (\n    UPDATE {table} SET {col} = now() WHERE {pk} = $3 AND {col} IS NULL\n    RETURNING {returning}\n), \"audit\" AS (\n    {audit}\n)\nSELECT * FROM \"changed\"",
        table = ident(meta.table),
        col = ident(col),
        pk = ident(meta.primary_key),
        returning = all_columns(meta, None),
        audit = audit_from_changed(meta, "data_delete", "soft_delete", Some(&changes)),
    ))
}

/// Restore the soft-deleted row `$3` (`$1` actor, `$2` audit row id). `None` for a table without soft delete.
pub fn restore(meta: &TableMeta) -> Option<String> {
    let col = meta.soft_delete?;
    let before = ident(&format!("before.{col}"));
    let changes = format!(
        "jsonb_build_object({name}, jsonb_build_object('old', to_jsonb(\"changed\".{before}), 'new', 'null'::jsonb))",
        name = literal(col),
    );
    Some(format!(
        "WITH \"changed\" AS (\n    UPDATE {table} AS \"target\" SET {col} = NULL\n    \
         FROM (SELECT {pk}, {col} FROM {table} WHERE {pk} = $3 AND {col} IS NOT NULL FOR UPDATE) AS \"before\"\n    \
         WHERE \"target\".{pk} = \"before\".{pk}\n    RETURNING {returning}, \"before\".{col} AS {before}\n), \"audit\" AS (\n    {audit}\n)\nSELECT {columns} FROM \"changed\"",
        table = ident(meta.table),
        col = ident(col),
        pk = ident(meta.primary_key),
        returning = all_columns(meta, Some("target")),
        audit = audit_from_changed(meta, "data_update", "restore", Some(&changes)),
        columns = all_columns(meta, None),
    ))
}

/// Delete the row `$3` for good (`$1` actor, `$2` audit row id), soft-deleted or not.
pub fn hard_delete(meta: &TableMeta) -> String {
    format!(
        "WITH \"changed\" AS (\n    DELETE FROM {table} WHERE {pk} = $3\n    RETURNING {pk}\n), \"audit\" AS (\n    {audit}\n)\nSELECT {pk} FROM \"changed\"",
        table = ident(meta.table),
        pk = ident(meta.primary_key),
        audit = audit_from_changed(meta, "data_delete", "hard_delete", None),
    )
}

/// The shape of a listing statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing<'a> {
    /// The number of key columns after which to start (`0`: from the beginning).
    pub after_arity: usize,
    /// Include soft-deleted rows.
    pub include_deleted: bool,
    /// A JSONB column the rows must contain the filter parameter in (`@>`).
    pub contains: Option<&'a str>,
}

/// A page of rows in `(sort key, primary key)` order. Parameters: `$1` actor and `$2` audit row id when the table
/// audits reads, then the cursor's key columns (if any), then the containment filter (if any),
/// then the limit. An audited listing writes one `data_access` row naming the ids returned.
pub fn list(meta: &TableMeta, listing: Listing<'_>) -> String {
    let audited = meta.audits_reads();
    let mut next = if audited { 3 } else { 1 };
    let mut param = || {
        let p = format!("${next}");
        next += 1;
        p
    };
    let order: Vec<&str> = meta
        .sort_key
        .into_iter()
        .chain([meta.primary_key])
        .collect();
    let order_list = column_list(order.iter().copied(), None);
    let mut conditions = Vec::new();
    if !listing.include_deleted
        && let Some(col) = meta.soft_delete
    {
        conditions.push(format!("{} IS NULL", ident(col)));
    }
    if listing.after_arity > 0 {
        let keys: Vec<String> = (0..listing.after_arity).map(|_| param()).collect();
        let columns = column_list(order.iter().copied().take(listing.after_arity), None);
        conditions.push(format!("({columns}) > ({})", keys.join(", ")));
    }
    let mut filter = None;
    if let Some(col) = listing.contains {
        let p = param();
        conditions.push(format!("{} @> {p}", ident(col)));
        filter = Some((col, p));
    }
    let limit = param();
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let select = format!(
        "SELECT {} FROM {}{where_clause} ORDER BY {order_list} LIMIT {limit}",
        all_columns(meta, None),
        ident(meta.table),
    );
    if !audited {
        return select;
    }
    let (action, filter_detail) = match filter {
        None => ("list", String::new()),
        Some((col, p)) => {
            let sensitive = meta.column(col).is_none_or(ColumnMeta::is_sensitive);
            // A filter on a PII/PHI column is itself sensitive: name the column, not the value.
            let value = if sensitive {
                "'\"[redacted]\"'::jsonb".to_owned()
            } else {
                p
            };
            (
                "find",
                format!(", 'column', {}, 'contains', {value}", literal(col)),
            )
        }
    };
    format!(
        "WITH \"found\" AS (\n    {select}\n), \"audit\" AS (\n    INSERT INTO {audit} (\"id\", \"event_type\", \"user_id\", \"resource_type\", \"action\", \"details\")\n    \
         SELECT $2, 'data_access', $1, {table}, {action}, jsonb_build_object('count', count(*), 'ids', COALESCE(jsonb_agg(\"found\".{pk} ORDER BY {order_found}), '[]'::jsonb){filter_detail}) FROM \"found\"\n)\n\
         SELECT * FROM \"found\" ORDER BY {order_list}",
        audit = ident(AUDIT_TABLE),
        table = literal(meta.table),
        action = literal(action),
        pk = ident(meta.primary_key),
        order_found = column_list(order.iter().copied(), Some("found")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: TableMeta = TableMeta {
        table: "cases",
        columns: &[
            ColumnMeta {
                name: "id",
                pii: false,
                phi: false,
                encrypted: false,
            },
            ColumnMeta {
                name: "title",
                pii: false,
                phi: true,
                encrypted: false,
            },
            ColumnMeta {
                name: "status",
                pii: false,
                phi: false,
                encrypted: false,
            },
            ColumnMeta {
                name: "tags",
                pii: false,
                phi: false,
                encrypted: false,
            },
            ColumnMeta {
                name: "created_at",
                pii: false,
                phi: false,
                encrypted: false,
            },
            ColumnMeta {
                name: "deleted_at",
                pii: false,
                phi: false,
                encrypted: false,
            },
        ],
        primary_key: "id",
        soft_delete: Some("deleted_at"),
        sort_key: Some("created_at"),
    };

    const MODELS: TableMeta = TableMeta {
        table: "models",
        columns: &[
            ColumnMeta {
                name: "id",
                pii: false,
                phi: false,
                encrypted: false,
            },
            ColumnMeta {
                name: "name",
                pii: false,
                phi: false,
                encrypted: false,
            },
        ],
        primary_key: "id",
        soft_delete: None,
        sort_key: None,
    };

    fn statements() -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("insert", insert(&CASES, &["title", "status"])),
            (
                "insert with the primary key",
                insert(&CASES, &["id", "title"]),
            ),
            ("insert all defaults", insert(&MODELS, &[])),
            ("get (audited)", get(&CASES)),
            ("get (not audited)", get(&MODELS)),
            ("update", update(&CASES, &["title", "status"])),
            ("hard delete", hard_delete(&CASES)),
            (
                "list first page",
                list(
                    &CASES,
                    Listing {
                        after_arity: 0,
                        include_deleted: false,
                        contains: None,
                    },
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
                    },
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
                    },
                ),
            ),
            (
                "list (not audited)",
                list(
                    &MODELS,
                    Listing {
                        after_arity: 1,
                        include_deleted: false,
                        contains: None,
                    },
                ),
            ),
        ];
        out.extend(soft_delete(&CASES).map(|s| ("soft delete", s)));
        out.extend(restore(&CASES).map(|s| ("restore", s)));
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

    #[test]
    fn tables_without_soft_delete_have_no_soft_delete_statements() {
        assert_eq!(soft_delete(&MODELS), None);
        assert_eq!(restore(&MODELS), None);
        assert!(
            !list(
                &MODELS,
                Listing {
                    after_arity: 0,
                    include_deleted: false,
                    contains: None
                }
            )
            .contains("IS NULL")
        );
    }

    #[test]
    fn sensitive_values_are_hashed_and_filters_on_them_redacted() {
        let sql = update(&CASES, &["title", "status"]);
        // `title` (PHI) goes through the keyed hash with the pads in $6/$7; `status` does not.
        assert!(
            sql.contains("sha256($6 || sha256($7 || convert_to(\"changed\".\"title\"::text"),
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
            },
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
        const SECRETS: TableMeta = TableMeta {
            table: "secrets",
            columns: &[
                ColumnMeta {
                    name: "id",
                    pii: false,
                    phi: false,
                    encrypted: false,
                },
                ColumnMeta {
                    name: "secret",
                    pii: false,
                    phi: false,
                    encrypted: true,
                },
            ],
            primary_key: "id",
            soft_delete: None,
            sort_key: None,
        };
        let sql = update(&SECRETS, &["secret"]);
        assert!(
            sql.contains("sha256($5 || sha256($6 || convert_to(\"changed\".\"secret\"::text"),
            "{sql}"
        );
        assert!(!sql.contains("to_jsonb(\"changed\".\"secret\")"), "{sql}");
    }

    #[test]
    fn identifiers_and_literals_are_escaped() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
