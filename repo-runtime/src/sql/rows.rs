use std::fmt::Write as _;

use super::{
    ALLOWED, Preamble, Shape, all_columns, audit_insert, column_list, guard, ident, literal, live,
    result_columns, table_name, verdict_select,
};
use crate::AUDIT_TABLE;
use crate::table::{Cascade, ColumnMeta, TableMeta};

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
