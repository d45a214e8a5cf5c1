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

use std::fmt::Write as _;

use crate::table::{Cascade, ColumnMeta, TableMeta};
use crate::{ACTOR_FUNCTION, AUDIT_TABLE, ENCRYPTED_FORMAT, KEY_CHECK_TABLE};

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

/// Insert (see [`Preamble`]; the own parameters are the values of `columns`, in order). Columns
/// left out take their database defaults; `as_text` marks the columns returned as text.
///
/// When `columns` include the primary key, its parameter is the id the row gets, so the audit
/// row is written from it, beside the insert, instead of from the insert's `RETURNING` (which
/// costs the server a second scan of the whole row). Both rows are written by one statement, so
/// both or neither; the one difference: a `BEFORE INSERT` trigger that skips the row (returns
/// NULL) leaves the audit row of the attempt in the first form (the method then fails with
/// `NotFound`), and none in the second.
pub fn insert(meta: &TableMeta, columns: &[&str], as_text: &[bool]) -> String {
    let preamble = Preamble::of(meta, Shape::Insert);
    let first = preamble.first_own();
    // `INSERT ... SELECT ... WHERE` rather than `VALUES`, which cannot be conditional; with no
    // column at all, a row of zero columns takes every default.
    let (target, values) = if columns.is_empty() {
        (String::new(), String::new())
    } else {
        let placeholders: Vec<String> = (0..columns.len())
            .map(|i| format!("${}", first + i))
            .collect();
        (
            format!(" ({})", column_list(columns.iter().copied(), None)),
            format!(" {}", placeholders.join(", ")),
        )
    };
    let table = table_name(meta.table);
    let pk = ident(meta.primary_key);
    let changed = format!(
        "\"changed\" AS (\n    INSERT INTO {table}{target} SELECT{values} WHERE {ALLOWED}\n    RETURNING {returning}\n)",
        returning = all_columns(meta, None),
    );
    let audit = match columns.iter().position(|c| *c == meta.primary_key) {
        Some(key) => audit_insert(
            "data_create",
            meta.table,
            Some(&format!("${}", first + key)),
            "insert",
            &[],
            &format!("\"guard\" WHERE {ALLOWED}"),
        ),
        None => audit_insert(
            "data_create",
            meta.table,
            Some(&format!("\"changed\".{pk}")),
            "insert",
            &[],
            "\"changed\"",
        ),
    };
    format!(
        "WITH {guard}, {changed}, \"audit\" AS (\n    {audit}\n)\n{result}",
        guard = guard(preamble),
        result = verdict_select(&result_columns(meta, as_text, "changed"), "\"changed\""),
    )
}

/// Get a live row by id (own parameter: the id). Audited (tables with PHI): the audit row is
/// written whether or not the row exists (`success` false when not).
pub fn get(meta: &TableMeta, as_text: &[bool]) -> String {
    let preamble = Preamble::of(meta, Shape::Get);
    let id = format!("${}", preamble.first_own());
    let found = format!(
        "\"found\" AS (\n    SELECT {columns} FROM {table} WHERE {pk} = {id}{live} AND {ALLOWED}\n)",
        columns = all_columns(meta, None),
        table = table_name(meta.table),
        pk = ident(meta.primary_key),
        live = live(meta),
    );
    let audit = if preamble.audited {
        format!(
            ", \"audit\" AS (\n    {}\n)",
            audit_insert(
                "data_access",
                meta.table,
                Some(&id),
                "get",
                &[("success", "EXISTS (SELECT FROM \"found\")")],
                &format!("\"guard\" WHERE {ALLOWED}"),
            )
        )
    } else {
        String::new()
    };
    format!(
        "WITH {guard}, {found}{audit}\n{result}",
        guard = guard(preamble),
        result = verdict_select(&result_columns(meta, as_text, "found"), "\"found\""),
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

/// Update the live row (own parameters: its id, then the new values of `columns`, in order;
/// when one of them is PII/PHI, two more follow: the audit key's outer and inner HMAC pads).
///
/// The old values come from `FROM (SELECT ... FOR NO KEY UPDATE) "before"`: `RETURNING` only
/// sees the new row, and the lock makes the old values the ones actually replaced. The audit
/// row's `changes` holds `{column: {old, new}}` for each column whose value really changed.
pub fn update(meta: &TableMeta, columns: &[&str], as_text: &[bool]) -> String {
    let preamble = Preamble::of(meta, Shape::Update);
    let id = preamble.first_own();
    let k = columns.len();
    let (opad, ipad) = (id + k + 1, id + k + 2);
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = ${}", ident(c), id + 1 + i))
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
        "WITH {guard}, \"changed\" AS (\n    UPDATE {table} AS \"target\" SET {set}\n    \
         FROM (SELECT {before_columns} FROM {table} WHERE {pk} = ${id}{live} AND {ALLOWED} FOR NO KEY UPDATE) AS \"before\"\n    \
         WHERE \"target\".{pk} = \"before\".{pk}\n    RETURNING {returning}\n), \"audit\" AS (\n    {audit}\n)\n{result}",
        guard = guard(preamble),
        table = table_name(meta.table),
        set = set.join(", "),
        pk = ident(meta.primary_key),
        live = live(meta),
        audit = audit_insert(
            "data_update",
            meta.table,
            Some(&format!("\"changed\".{}", ident(meta.primary_key))),
            "update",
            &[("changes", &changes)],
            "\"changed\"",
        ),
        result = verdict_select(&result_columns(meta, as_text, "changed"), "\"changed\""),
    )
}

/// Soft-delete the live row (own parameter: its id): set its soft-delete column to `now()`.
/// `None` for a table without soft delete.
pub fn soft_delete(meta: &TableMeta, as_text: &[bool]) -> Option<String> {
    let col = meta.soft_delete?;
    let preamble = Preamble::of(meta, Shape::SoftDelete);
    let changes = format!(
        "jsonb_build_object({name}, jsonb_build_object('old', 'null'::jsonb, 'new', to_jsonb(\"changed\".{col})))",
        name = literal(col),
        col = ident(col),
    );
    Some(format!(
        "WITH {guard}, \"changed\" AS (\n    UPDATE {table} SET {col} = now() WHERE {pk} = ${id} AND {col} IS NULL AND {ALLOWED}\n    \
         RETURNING {returning}\n), \"audit\" AS (\n    {audit}\n)\n{result}",
        guard = guard(preamble),
        table = table_name(meta.table),
        col = ident(col),
        pk = ident(meta.primary_key),
        id = preamble.first_own(),
        returning = all_columns(meta, None),
        audit = audit_insert(
            "data_delete",
            meta.table,
            Some(&format!("\"changed\".{}", ident(meta.primary_key))),
            "soft_delete",
            &[("changes", &changes)],
            "\"changed\"",
        ),
        result = verdict_select(&result_columns(meta, as_text, "changed"), "\"changed\""),
    ))
}

/// Restore the soft-deleted row (own parameter: its id). `None` for a table without soft delete.
pub fn restore(meta: &TableMeta, as_text: &[bool]) -> Option<String> {
    let col = meta.soft_delete?;
    let preamble = Preamble::of(meta, Shape::Restore);
    let before = ident(&format!("before.{col}"));
    let changes = format!(
        "jsonb_build_object({name}, jsonb_build_object('old', to_jsonb(\"changed\".{before}), 'new', 'null'::jsonb))",
        name = literal(col),
    );
    Some(format!(
        "WITH {guard}, \"changed\" AS (\n    UPDATE {table} AS \"target\" SET {col} = NULL\n    \
         FROM (SELECT {pk}, {col} FROM {table} WHERE {pk} = ${id} AND {col} IS NOT NULL AND {ALLOWED} FOR NO KEY UPDATE) AS \"before\"\n    \
         WHERE \"target\".{pk} = \"before\".{pk}\n    RETURNING {returning}, \"before\".{col} AS {before}\n), \"audit\" AS (\n    {audit}\n)\n{result}",
        guard = guard(preamble),
        table = table_name(meta.table),
        col = ident(col),
        pk = ident(meta.primary_key),
        id = preamble.first_own(),
        returning = all_columns(meta, Some("target")),
        audit = audit_insert(
            "data_update",
            meta.table,
            Some(&format!("\"changed\".{}", ident(meta.primary_key))),
            "restore",
            &[("changes", &changes)],
            "\"changed\"",
        ),
        result = verdict_select(&result_columns(meta, as_text, "changed"), "\"changed\""),
    ))
}

/// The name of the part deleting the cascaded rows of `table`.
fn cascade_part(table: &str) -> String {
    ident(&format!("cascade.{table}"))
}

/// Delete the row for good (own parameter: its id), soft-deleted or not, with the rows its
/// foreign keys' `ON DELETE CASCADE` would remove ([`TableMeta::cascade`]): those are deleted
/// explicitly, each table after the ones its rows refer to, so that every removed row gets its
/// `data_delete` audit row (`action` `hard_delete`, `details` naming the row whose deletion
/// removed it). The audit rows of cascaded rows take the column's default id. The result is the
/// primary key of the deleted row, then the verdict.
pub fn hard_delete(meta: &TableMeta) -> String {
    let preamble = Preamble::of(meta, Shape::HardDelete);
    let id = preamble.first_own();
    let pk = ident(meta.primary_key);
    let mut parts = vec![
        guard(preamble),
        format!(
            "\"changed\" AS (\n    DELETE FROM {table} WHERE {pk} = ${id} AND {ALLOWED}\n    RETURNING {pk}\n)",
            table = table_name(meta.table),
        ),
    ];
    // Each table's part, in the order the groups come: the deleted keys of a parent are read
    // from its part's RETURNING, which also makes the parent's part run first.
    let mut tables: Vec<&Cascade> = Vec::new();
    for edge in meta.cascade {
        if !tables.iter().any(|t| t.table == edge.table) {
            tables.push(edge);
        }
    }
    for child in &tables {
        let conditions: Vec<String> = meta
            .cascade
            .iter()
            .filter(|e| e.table == child.table)
            .filter_map(|e| {
                let (part, key) = if e.parent == meta.table {
                    ("\"changed\"".to_owned(), pk.clone())
                } else {
                    // The derive places every parent's group before its children's.
                    let parent = tables.iter().find(|p| p.table == e.parent)?;
                    (cascade_part(parent.table), ident(parent.key))
                };
                Some(format!("{} IN (SELECT {key} FROM {part})", ident(e.column)))
            })
            .collect();
        parts.push(format!(
            "{name} AS (\n    DELETE FROM {table} WHERE {conditions}\n    RETURNING {key}\n)",
            name = cascade_part(child.table),
            table = table_name(child.table),
            conditions = if conditions.is_empty() {
                "false".to_owned()
            } else {
                conditions.join(" OR ")
            },
            key = ident(child.key),
        ));
    }
    parts.push(format!(
        "\"audit\" AS (\n    {}\n)",
        audit_insert(
            "data_delete",
            meta.table,
            Some(&format!("\"changed\".{pk}")),
            "hard_delete",
            &[],
            "\"changed\"",
        )
    ));
    if !tables.is_empty() {
        let removed: Vec<String> = tables
            .iter()
            .map(|t| {
                format!(
                    "SELECT {name} AS \"table\", {key} AS \"id\" FROM {part}",
                    name = literal(t.table),
                    key = ident(t.key),
                    part = cascade_part(t.table),
                )
            })
            .collect();
        let details = format!(
            "jsonb_build_object('cascade_from', jsonb_build_object('table', {table}, 'id', ${id}))",
            table = literal(meta.table),
        );
        parts.push(format!(
            "\"audit.cascade\" AS (\n    INSERT INTO {audit} (\"event_type\", \"user_id\", \"resource_type\", \"resource_id\", \"action\", \"details\", \"ip_address\", \"user_agent\", \"request_id\")\n    \
             SELECT 'data_delete', $1, \"removed\".\"table\", \"removed\".\"id\", 'hard_delete', {details}, $3, $4, $5\n    \
             FROM ({removed}) AS \"removed\"\n)",
            audit = table_name(AUDIT_TABLE),
            removed = removed.join(" UNION ALL "),
        ));
    }
    format!(
        "WITH {}\n{}",
        parts.join(", "),
        verdict_select(&format!("\"changed\".{pk}"), "\"changed\"")
    )
}

/// The shape of a listing statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Listing<'a> {
    /// The number of key columns after which to start (`0`: from the beginning).
    pub after_arity: usize,
    /// Include soft-deleted rows.
    pub include_deleted: bool,
    /// A JSONB column the rows must contain the filter parameter in (`@>`).
    pub contains: Option<&'a str>,
    /// A column the rows must equal the parameter in (`=`): a finder by an indexed column.
    pub equals: Option<&'a str>,
    /// Newest first: the listing order reversed (`DESC`), resumed before the cursor.
    pub descending: bool,
}

/// The columns a listing of `meta` is ordered by: the sort key, if any, then the primary key.
pub fn listing_order(meta: &TableMeta) -> Vec<&'static str> {
    meta.sort_key
        .into_iter()
        .chain([meta.primary_key])
        .collect()
}

/// A page of rows in `(sort key, primary key)` order, or its reverse. Own parameters: the value
/// an equality finder compares with (if any), the cursor's key columns (if any), then the
/// containment filter (if any), then the limit. An audited listing writes one
/// `data_access` row naming the ids returned.
pub fn list(meta: &TableMeta, listing: Listing<'_>, as_text: &[bool]) -> String {
    let preamble = Preamble::of(meta, Shape::List);
    let mut next = preamble.first_own();
    let mut param = || {
        let p = format!("${next}");
        next += 1;
        p
    };
    let order = listing_order(meta);
    let direction = if listing.descending { " DESC" } else { "" };
    let ordered = |alias: Option<&str>| {
        order
            .iter()
            .map(|c| match alias {
                Some(a) => format!("{}.{}{direction}", ident(a), ident(c)),
                None => format!("{}{direction}", ident(c)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut conditions = Vec::new();
    if !listing.include_deleted
        && let Some(col) = meta.soft_delete
    {
        conditions.push(format!("{} IS NULL", ident(col)));
    }
    let mut equals = None;
    if let Some(col) = listing.equals {
        let p = param();
        conditions.push(format!("{} = {p}", ident(col)));
        equals = Some((col, p));
    }
    if listing.after_arity > 0 {
        let keys: Vec<String> = (0..listing.after_arity).map(|_| param()).collect();
        let columns = column_list(order.iter().copied().take(listing.after_arity), None);
        let comparison = if listing.descending { "<" } else { ">" };
        conditions.push(format!("({columns}) {comparison} ({})", keys.join(", ")));
    }
    let mut filter = None;
    if let Some(col) = listing.contains {
        let p = param();
        conditions.push(format!("{} @> {p}", ident(col)));
        filter = Some((col, p));
    }
    conditions.push(ALLOWED.to_owned());
    let limit = param();
    let found = format!(
        "\"found\" AS (\n    SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {limit}\n)",
        all_columns(meta, None),
        table_name(meta.table),
        conditions.join(" AND "),
        ordered(None),
    );
    let audit = if preamble.audited {
        // A value compared with a PII/PHI column is itself sensitive: name the column, not it.
        let shown = |col: &str, p: String| {
            if meta.column(col).is_none_or(ColumnMeta::is_sensitive) {
                "'\"[redacted]\"'::jsonb".to_owned()
            } else {
                p
            }
        };
        let mut action = "list";
        let mut detail = String::new();
        if let Some((col, p)) = equals {
            action = "find";
            let value = if meta.column(col).is_none_or(ColumnMeta::is_sensitive) {
                shown(col, p)
            } else {
                format!("to_jsonb({p})")
            };
            detail.push_str(&format!(", 'column', {}, 'equals', {value}", literal(col)));
        }
        if let Some((col, p)) = filter {
            action = "find";
            detail.push_str(&format!(
                ", 'column', {}, 'contains', {}",
                literal(col),
                shown(col, p)
            ));
        }
        if listing.descending {
            detail.push_str(", 'order', 'descending'");
        }
        let details = format!(
            "jsonb_build_object('count', count(*), 'ids', COALESCE(jsonb_agg(\"found\".{pk} ORDER BY {order_found}), '[]'::jsonb){detail})",
            pk = ident(meta.primary_key),
            order_found = ordered(Some("found")),
        );
        format!(
            ", \"audit\" AS (\n    {}\n)",
            audit_insert(
                "data_access",
                meta.table,
                None,
                action,
                &[("details", &details)],
                // One row of counts even for an empty page, none when refused.
                &format!("\"found\" HAVING {ALLOWED}"),
            )
        )
    } else {
        String::new()
    };
    format!(
        "WITH {guard}, {found}{audit}\n{result} ORDER BY {order_result}",
        guard = guard(preamble),
        result = verdict_select(&result_columns(meta, as_text, "found"), "\"found\""),
        order_result = ordered(Some("found")),
    )
}

/// The queue statements' preamble: audited, no key check (a queue table with encrypted columns
/// would need the key; `jobs` has none, and the claim fails on such a table with a key error).
fn queue_preamble(meta: &TableMeta) -> Preamble {
    Preamble {
        audited: true,
        key_checked: meta.first_encrypted().is_some(),
    }
}

/// Claims the next runnable row of a job queue table (no own parameters): among the rows whose
/// `status` is `pending`, whose `scheduled_at` has come and which have attempts left
/// (`attempts < max_attempts`), the first by `priority` (highest first), then `scheduled_at`
/// (the order of a `(priority DESC, scheduled_at) WHERE status = 'pending'` index), locked
/// `FOR UPDATE SKIP LOCKED` so concurrent workers each take another row; it becomes
/// `processing`, its `attempts` grows by one and `started_at` is now, with one `data_update`
/// audit row (action `claim`). No row when nothing is runnable.
///
/// The queue table's columns are a contract: `status` (an enum with `pending`, `processing`,
/// `completed`, `failed`), `priority`, `scheduled_at`, `attempts`, `max_attempts`,
/// `started_at`, `finished_at`, `error` (text) and `result` (jsonb).
pub fn claim(meta: &TableMeta, as_text: &[bool]) -> String {
    let pk = ident(meta.primary_key);
    let table = table_name(meta.table);
    let changes = "jsonb_build_object('status', jsonb_build_object('old', 'pending', 'new', 'processing'), \
                   'attempts', jsonb_build_object('old', \"changed\".\"attempts\" - 1, 'new', \"changed\".\"attempts\"))";
    let next = format!(
        "\"next\" AS (\n    SELECT {pk} FROM {table}\n     \
         WHERE \"status\" = 'pending' AND \"scheduled_at\" <= now() AND \"attempts\" < \"max_attempts\" AND {ALLOWED}\n     \
         ORDER BY \"priority\" DESC, \"scheduled_at\"\n     LIMIT 1\n     FOR UPDATE SKIP LOCKED\n), "
    );
    let update = format!(
        "UPDATE {table} AS \"t\" SET \"status\" = 'processing', \"attempts\" = \"t\".\"attempts\" + 1, \
         \"started_at\" = now(), \"finished_at\" = NULL\n      FROM \"next\" WHERE \"t\".{pk} = \"next\".{pk}\n    "
    );
    queue_statement(
        meta,
        as_text,
        queue_preamble(meta),
        &next,
        &update,
        "claim",
        changes,
    )
}

/// Completes a claimed row (own parameters: its id, then the result, `jsonb`): a `processing`
/// row becomes `completed` with `finished_at` now; one `data_update` audit row (action
/// `complete`). No row when the row is not `processing`.
pub fn complete(meta: &TableMeta, as_text: &[bool]) -> String {
    let preamble = queue_preamble(meta);
    let first = preamble.first_own();
    let pk = ident(meta.primary_key);
    let changes =
        "jsonb_build_object('status', jsonb_build_object('old', 'processing', 'new', 'completed'))";
    let update = format!(
        "UPDATE {table} AS \"t\" SET \"status\" = 'completed', \"finished_at\" = now(), \"result\" = ${result_param}, \"error\" = NULL\n    \
         WHERE \"t\".{pk} = ${first} AND \"t\".\"status\" = 'processing' AND {ALLOWED}\n    ",
        table = table_name(meta.table),
        result_param = first + 1,
    );
    queue_statement(meta, as_text, preamble, "", &update, "complete", changes)
}

/// Fails a claimed row (own parameters: its id, the error message, `text`, and the back-off in
/// milliseconds, `float8`): a `processing` row with attempts left goes back to `pending`,
/// `scheduled_at` put off by the back-off doubled per attempt made before
/// (`backoff * 2^(attempts-1)`, at most a day); one without becomes `failed` with `finished_at` now. The error is kept
/// in the row, not in the audit row (`data_update`, action `fail`, the status change only: a
/// worker's message may quote patient data).
pub fn fail(meta: &TableMeta, as_text: &[bool]) -> String {
    let preamble = queue_preamble(meta);
    let first = preamble.first_own();
    let pk = ident(meta.primary_key);
    let changes = "jsonb_build_object('status', jsonb_build_object('old', 'processing', 'new', \"changed\".\"status\"::text))";
    let retry = "\"t\".\"attempts\" < \"t\".\"max_attempts\"";
    let update = format!(
        "UPDATE {table} AS \"t\" SET\n        \
         -- The ELSE is never taken: it gives the CASE the column's (enum) type.\n        \
         \"status\" = CASE WHEN {retry} THEN 'pending' WHEN true THEN 'failed' ELSE \"t\".\"status\" END,\n        \
         \"scheduled_at\" = CASE WHEN {retry} THEN now() + least(${backoff} * power(2, \"t\".\"attempts\" - 1), 86400000) * interval '1 millisecond' ELSE \"t\".\"scheduled_at\" END,\n        \
         \"finished_at\" = CASE WHEN {retry} THEN NULL ELSE now() END,\n        \
         \"error\" = ${error}\n    \
         WHERE \"t\".{pk} = ${first} AND \"t\".\"status\" = 'processing' AND {ALLOWED}\n    ",
        table = table_name(meta.table),
        error = first + 1,
        backoff = first + 2,
    );
    queue_statement(meta, as_text, preamble, "", &update, "fail", changes)
}

/// What the queue statements share: the actor guard, `before` (more CTEs, each ending in
/// `, `), the row changed by `update` (an UPDATE up to its RETURNING), one `data_update` audit
/// row with `action` and `changes`, and the changed row as the result.
fn queue_statement(
    meta: &TableMeta,
    as_text: &[bool],
    preamble: Preamble,
    before: &str,
    update: &str,
    action: &str,
    changes: &str,
) -> String {
    let pk = ident(meta.primary_key);
    format!(
        "WITH {guard}, {before}\"changed\" AS (\n    {update}RETURNING {returning}\n), \"audit\" AS (\n    {audit}\n)\n{result}",
        guard = guard(preamble),
        returning = all_columns(meta, Some("t")),
        audit = audit_insert(
            "data_update",
            meta.table,
            Some(&format!("\"changed\".{pk}")),
            action,
            &[("changes", changes)],
            "\"changed\"",
        ),
        result = verdict_select(&result_columns(meta, as_text, "changed"), "\"changed\""),
    )
}

/// Records the data key's check value when the database has none yet (parameter `$1`); one
/// that is already stored stays, so the first key to write is the database's key.
pub fn register_key_check() -> String {
    format!(
        "INSERT INTO {table} (\"format\", \"check_value\") VALUES ({format}, $1) ON CONFLICT (\"format\") DO NOTHING",
        table = table_name(KEY_CHECK_TABLE),
        format = literal(ENCRYPTED_FORMAT),
    )
}

/// The check value stored for the current format (no row when none is).
pub fn stored_key_check() -> String {
    format!(
        "SELECT \"check_value\" FROM {table} WHERE \"format\" = {format}",
        table = table_name(KEY_CHECK_TABLE),
        format = literal(ENCRYPTED_FORMAT),
    )
}

/// One row holding a stored value of `meta`'s encrypted columns, if any row has one: what a key
/// must decrypt before it is recorded as the database's.
pub fn sample_encrypted(meta: &TableMeta) -> String {
    let encrypted: Vec<&str> = meta
        .columns
        .iter()
        .filter(|c| c.encrypted)
        .map(|c| c.name)
        .collect();
    format!(
        "SELECT {} FROM {} WHERE {} LIMIT 1",
        column_list(encrypted.iter().copied(), None),
        table_name(meta.table),
        encrypted
            .iter()
            .map(|c| format!("{} IS NOT NULL", ident(c)))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn column(name: &'static str, phi: bool, encrypted: bool) -> ColumnMeta {
        ColumnMeta {
            name,
            pii: false,
            phi,
            encrypted,
        }
    }

    const CASES: TableMeta = TableMeta {
        table: "cases",
        columns: &[
            column("id", false, false),
            column("title", true, false),
            column("status", false, false),
            column("tags", false, false),
            column("created_at", false, false),
            column("deleted_at", false, false),
        ],
        primary_key: "id",
        soft_delete: Some("deleted_at"),
        sort_key: Some("created_at"),
        cascade: &[
            Cascade {
                table: "files",
                key: "id",
                column: "case_id",
                parent: "cases",
            },
            Cascade {
                table: "segments",
                key: "id",
                column: "case_id",
                parent: "cases",
            },
            Cascade {
                table: "segments",
                key: "id",
                column: "file_id",
                parent: "files",
            },
        ],
    };
    /// `status` is an enum: returned as text.
    const CASES_TEXT: &[bool] = &[false, false, true, false, false, false];

    const MODELS: TableMeta = TableMeta {
        table: "models",
        columns: &[column("id", false, false), column("name", false, false)],
        primary_key: "id",
        soft_delete: None,
        sort_key: None,
        cascade: &[],
    };

    const JOBS: TableMeta = TableMeta {
        table: "jobs",
        columns: &[
            column("id", false, false),
            column("status", false, false),
            column("priority", false, false),
            column("attempts", false, false),
            column("max_attempts", false, false),
            column("scheduled_at", false, false),
            column("started_at", false, false),
            column("finished_at", false, false),
            column("error", false, false),
            column("result", false, false),
            column("created_at", false, false),
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
        columns: &[column("id", false, false), column("secret", false, true)],
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
            (
                "list (not audited)",
                list(
                    &MODELS,
                    Listing {
                        after_arity: 1,
                        include_deleted: false,
                        contains: None,
                        ..Listing::default()
                    },
                    &[],
                ),
            ),
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
        assert!(
            list(
                &MODELS,
                Listing {
                    after_arity: 1,
                    include_deleted: false,
                    contains: None,
                    ..Listing::default()
                },
                &[]
            )
            .contains("(\"id\") > ($2)")
        );
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
