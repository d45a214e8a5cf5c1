use super::{
    ALLOWED, Preamble, all_columns, audit_insert, guard, ident, result_columns, table_name,
    verdict_select,
};
use crate::table::TableMeta;

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
