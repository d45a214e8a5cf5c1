//! The functions and triggers that enforce the tables' declared compliance properties
//! ([`TableFlags`]): append-only tables, retention, the right to erasure, data portability and
//! consent.
//!
//! They are derived from the flags alone, so the catalog `schema.yaml` lowers into and the one
//! replayed from the migrations that created them compare equal, and a changed declaration
//! becomes a `CREATE OR REPLACE FUNCTION` in the next migration. Each function body is
//! PL/pgSQL written for PostgreSQL 13 and later. The ones a role calls run as `SECURITY
//! DEFINER` with a pinned `search_path`: that is how a role without `DELETE` on `audit_logs` can
//! still purge expired rows, and only expired rows.
//!
//! Every one of them writes its own `audit_logs` row in the same transaction as its work. The
//! audit table's columns are a contract, checked when `schema.yaml` is loaded: `event_type` (an
//! enum with the event labels used here), `user_id` (uuid), `resource_type` (text), `action`
//! (text) and `details` (jsonb).

use crate::catalog::*;
use crate::ident::{derived_name, quote, quote_literal};
use crate::types::DataType;

/// The audit table every generated function writes to.
pub const AUDIT_TABLE: &str = "audit_logs";
/// Deletes expired rows of every table with `retention`.
pub const PURGE_FUNCTION: &str = "purge_expired_data";
/// Erases one data subject's personal data.
pub const ERASE_FUNCTION: &str = "erase_data_subject";
/// Exports everything held about one data subject as one JSON document.
pub const EXPORT_FUNCTION: &str = "export_data_subject";
/// The state of an actor (`active`, `inactive`, `deleted`, or NULL for no such user), read from
/// the table `audit_logs.user_id` references: the audited repositories check their actor with it,
/// so a role without `SELECT` on that table (it holds PII) can still act.
pub const ACTOR_FUNCTION: &str = "actor_state";
/// Creates the partitions ahead and drops the expired ones of every partitioned table.
pub const MAINTAIN_FUNCTION: &str = "maintain_partitions";
/// The functions a role can be allowed to call (`roles: {r: {execute: [...]}}`).
pub const CALLABLE_FUNCTIONS: [&str; 5] = [
    PURGE_FUNCTION,
    ERASE_FUNCTION,
    EXPORT_FUNCTION,
    ACTOR_FUNCTION,
    MAINTAIN_FUNCTION,
];
/// What a partition's name adds to its table's: `_p` and the lower bound as `YYYYMMDD`.
pub const PARTITION_SUFFIX_LEN: usize = "_p20260101".len();
/// The transaction-local setting with which the purge function lets append-only guards pass
/// expired rows. Setting it by hand needs `DELETE` on the table anyway, which no role has.
pub const PURGE_SETTING: &str = "codegen.retention_purge";
/// The `format` field of an export document; bump it when the shape changes.
pub const EXPORT_FORMAT: &str = "data-subject-export/1";
/// The prefix of an erased data-subject identifier: `erased:<primary key>`.
pub const ERASED_SUBJECT_PREFIX: &str = "erased:";
/// What a NOT NULL text column without a default holds after anonymisation.
pub const ERASED_TEXT: &str = "[erased]";
/// The stored form of an encrypted column starts with this (see `repo-runtime`).
pub const CIPHERTEXT_PREFIX: &str = "enc:v1:";

/// The audit event labels the generated functions write.
pub const AUDIT_EVENTS: [&str; 3] = ["data_retention_purge", "right_to_erasure", "data_access"];
/// The audit columns the generated functions write.
pub const AUDIT_COLUMNS: [&str; 5] = [
    "event_type",
    "user_id",
    "resource_type",
    "action",
    "details",
];

/// Search path of every `SECURITY DEFINER` function: without it, a caller could shadow a table
/// or operator with an object in a schema it controls.
pub const DEFINER_SEARCH_PATH: &str = "public, pg_temp";

/// The name of the append-only guard of `table`, both function and triggers.
pub fn append_only_name(table: &str) -> String {
    derived_name(&[table], "append_only")
}

/// The name of the consent guard of `table`, both function and trigger.
pub fn consent_guard_name(table: &str) -> String {
    derived_name(&[table], "require_consent")
}

/// The name of the check constraint that keeps plaintext out of an encrypted column.
pub fn encrypted_check_name(table: &str, column: &str) -> String {
    derived_name(&[table, column], "encrypted_check")
}

/// The check expression of an encrypted column: only ciphertext can be stored.
pub fn encrypted_check_expression(column: &str) -> String {
    format!(
        "starts_with({}, {})",
        quote(column),
        quote_literal(CIPHERTEXT_PREFIX)
    )
}

/// Adds the functions and triggers `catalog`'s flags call for. `execute` gives, per callable
/// function, the roles allowed to call it. Expects a valid catalog (`schema.yaml` checks the
/// declarations first); anything missing is skipped rather than guessed.
pub fn add_generated_objects(catalog: &mut Catalog, execute: &dyn Fn(&str) -> Vec<String>) {
    let mut functions = Vec::new();
    for t in &mut catalog.tables {
        if t.flags.append_only {
            // The guard lives beside its table, so tables of the same name in two schemas
            // each have their own.
            let name = append_only_name(&t.name);
            functions.push(append_only_function(t, &name));
            let function = QualifiedName::new(&t.schema, name.clone());
            t.triggers.push(Trigger {
                name: name.clone(),
                timing: TriggerTiming::Before,
                events: vec![TriggerEvent::Update, TriggerEvent::Delete],
                for_each_row: true,
                function: function.clone(),
            });
            t.triggers.push(Trigger {
                name: derived_name(&[&t.name], "no_truncate"),
                timing: TriggerTiming::Before,
                events: vec![TriggerEvent::Truncate],
                for_each_row: false,
                function,
            });
        }
    }
    let snapshot = catalog.clone();
    for t in &mut catalog.tables {
        if let Some(function) = consent_function(&snapshot, t) {
            t.triggers.push(Trigger {
                name: function.name.clone(),
                timing: TriggerTiming::Before,
                events: vec![TriggerEvent::Insert, TriggerEvent::Update],
                for_each_row: true,
                function: function.qualified_name(),
            });
            functions.push(function);
        }
    }
    for t in snapshot.tables.iter() {
        functions.extend(create_partitions_function(t));
    }
    functions.extend(maintain_function(&snapshot));
    functions.extend(purge_function(&snapshot));
    functions.extend(erase_function(&snapshot));
    functions.extend(export_function(&snapshot));
    functions.extend(actor_function(&snapshot));
    for mut f in functions {
        f.execute = execute(&f.name);
        f.execute.sort();
        f.execute.dedup();
        catalog.functions.push(f);
    }
}

fn plpgsql(
    name: String,
    arguments: Vec<FunctionArgument>,
    returns: &str,
    body: String,
) -> Function {
    Function {
        schema: DEFAULT_SCHEMA.to_string(),
        name,
        arguments,
        returns: returns.to_string(),
        language: "plpgsql".to_string(),
        body,
        security_definer: true,
        sql_standard_body: false,
        execute: Vec::new(),
    }
}

fn subject_arguments() -> Vec<FunctionArgument> {
    vec![
        FunctionArgument::input("subject", DataType::Text),
        FunctionArgument::input("actor", DataType::Uuid),
    ]
}

fn interval(r: &Retention) -> String {
    format!("interval {}", quote_literal(&r.period))
}

fn append_only_function(t: &Table, name: &str) -> Function {
    let mut body = String::from("\nBEGIN\n");
    let purge_hint = match &t.flags.retention {
        Some(r) => {
            body.push_str(&format!(
                "    -- Only the retention purge, and only for expired rows.\n    IF TG_OP = 'DELETE'\n        AND current_setting({}, true) = 'on'\n        AND OLD.{} < now() - {} THEN\n        RETURN OLD;\n    END IF;\n",
                quote_literal(PURGE_SETTING),
                quote(&r.column),
                interval(r),
            ));
            format!("Expired rows are removed only by {PURGE_FUNCTION}().")
        }
        None => "Rows are never removed.".to_string(),
    };
    body.push_str(&format!(
        "    RAISE EXCEPTION '% on {} is not allowed: the table is append-only', TG_OP\n        USING ERRCODE = 'insufficient_privilege',\n              HINT = {};\nEND;\n",
        t.display_name().replace('\'', "''"),
        quote_literal(&purge_hint),
    ));
    Function {
        schema: t.schema.clone(),
        name: name.to_string(),
        arguments: Vec::new(),
        returns: "trigger".to_string(),
        language: "plpgsql".to_string(),
        body,
        security_definer: false,
        sql_standard_body: false,
        execute: Vec::new(),
    }
}

/// The guard of a table with `requires_consent: <fk column>`.
fn consent_function(catalog: &Catalog, t: &Table) -> Option<Function> {
    let column = t.flags.requires_consent.as_ref()?;
    let fk = t
        .foreign_keys
        .iter()
        .find(|fk| fk.columns.len() == 1 && &fk.columns[0] == column)?;
    let target = catalog.table_named(&fk.ref_table)?;
    let consent = target.flags.consent.as_ref()?;
    let granted = consent_granted_predicate(target.column(consent)?)?;
    let col = quote(column);
    let body = format!(
        "\nBEGIN\n    IF TG_OP = 'UPDATE' AND NEW.{col} IS NOT DISTINCT FROM OLD.{col} THEN\n        RETURN NEW;\n    END IF;\n    -- FOR SHARE: a consent withdrawal waits until this row is committed, and vice versa.\n    IF NEW.{col} IS NOT NULL AND NOT EXISTS (\n        SELECT 1 FROM {target} WHERE {key} = NEW.{col} AND {granted} FOR SHARE\n    ) THEN\n        RAISE EXCEPTION '{table} needs consent: {target_text} % has no processing consent', NEW.{col}\n            USING ERRCODE = 'check_violation',\n                  HINT = {hint};\n    END IF;\n    RETURN NEW;\nEND;\n",
        target = target.sql_name(),
        key = quote(&fk.ref_columns[0]),
        granted = granted,
        table = t.display_name().replace('\'', "''"),
        target_text = target.display_name().replace('\'', "''"),
        hint = quote_literal(&format!(
            "Record consent in {}.{} first.",
            target.display_name(),
            consent
        )),
    );
    Some(Function {
        schema: t.schema.clone(),
        ..plpgsql(consent_guard_name(&t.name), Vec::new(), "trigger", body)
    })
}

/// The condition "this row has consent": a true boolean, or the enum label `granted`.
pub fn consent_granted_predicate(column: &Column) -> Option<String> {
    match &column.data_type {
        DataType::Boolean => Some(format!("{} IS TRUE", quote(&column.name))),
        DataType::Enum(_) => Some(format!(
            "{} = {}",
            quote(&column.name),
            quote_literal("granted")
        )),
        _ => None,
    }
}

/// Tables in the order their rows can be deleted without tripping a foreign key: referencing
/// tables before the tables they reference, ties (and cycles) by name, so the order never
/// depends on how `schema.yaml` happens to list them.
fn children_first(tables: Vec<&Table>) -> Vec<&Table> {
    let mut ordered: Vec<&Table> = Vec::new();
    let mut remaining = tables;
    remaining.sort_by(|a, b| a.display_name().cmp(&b.display_name()));
    while !remaining.is_empty() {
        let referenced_by_remaining = |t: &Table, others: &[&Table]| {
            others.iter().any(|o| {
                !o.is(&t.qualified_name()) && o.foreign_keys.iter().any(|fk| t.is(&fk.ref_table))
            })
        };
        let next = remaining
            .iter()
            .position(|t| !referenced_by_remaining(t, &remaining))
            .unwrap_or(0);
        ordered.push(remaining.remove(next));
    }
    ordered
}

fn purge_function(catalog: &Catalog) -> Option<Function> {
    let tables: Vec<&Table> = catalog
        .tables
        .iter()
        .filter(|t| t.flags.retention.is_some())
        .collect();
    if tables.is_empty() {
        return None;
    }
    let mut body = String::from(
        "\nDECLARE\n    v_deleted jsonb := '{}'::jsonb;\n    v_count bigint;\nBEGIN\n",
    );
    body.push_str(&format!(
        "    -- Lets the append-only guards pass expired rows, in this transaction only.\n    PERFORM set_config({}, 'on', true);\n",
        quote_literal(PURGE_SETTING)
    ));
    for t in children_first(tables) {
        let Some(r) = &t.flags.retention else {
            continue;
        };
        body.push_str(&format!(
            "    DELETE FROM {} WHERE {} < now() - {};\n    GET DIAGNOSTICS v_count = ROW_COUNT;\n    v_deleted := v_deleted || jsonb_build_object({}, v_count);\n",
            t.sql_name(),
            quote(&r.column),
            interval(r),
            quote_literal(&t.display_name()),
        ));
    }
    body.push_str(&format!(
        "    PERFORM set_config({}, 'off', true);\n    INSERT INTO {AUDIT_TABLE} (event_type, user_id, resource_type, action, details)\n    VALUES ('data_retention_purge', {PURGE_FUNCTION}.actor, NULL, 'purge',\n            jsonb_build_object('deleted', v_deleted));\n    RETURN v_deleted;\nEND;\n",
        quote_literal(PURGE_SETTING)
    ));
    Some(plpgsql(
        PURGE_FUNCTION.to_string(),
        vec![FunctionArgument::input("actor", DataType::Uuid)],
        "jsonb",
        body,
    ))
}

/// The name of the function that creates the partitions of `table` covering a time range.
pub fn create_partitions_name(table: &str) -> String {
    derived_name(&[table], "create_partitions")
}

/// `<table>_create_partitions(parent text, from_time timestamptz, to_time timestamptz)`: creates
/// the missing partitions of `parent` (the table itself, or the table being built to replace
/// it) from the one holding `from_time` to the one holding `to_time`, and returns their names.
/// Bounds are aligned in UTC (months to calendar months from 2000-01, days to days from Monday
/// 2000-01-03), so every call agrees on them whatever the session's time zone. Each partition is
/// created apart and attached (`SHARE UPDATE EXCLUSIVE` on the parent: reads and writes go on),
/// and gets the append-only `TRUNCATE` guard, which PostgreSQL does not clone from the parent.
fn create_partitions_function(t: &Table) -> Option<Function> {
    let p = t.flags.partitioning.as_ref()?;
    let step = p.step()?;
    let schema = quote_literal(&t.schema);
    let align = match step {
        PartitionStep::Months(1) => "date_trunc('month', v_utc)".to_string(),
        PartitionStep::Days(1) => "date_trunc('day', v_utc)".to_string(),
        PartitionStep::Months(n) => format!(
            "timestamp '2000-01-01' + make_interval(months => (floor(((extract(year FROM v_utc)::int - 2000) * 12 + extract(month FROM v_utc)::int - 1) / {n}::numeric) * {n})::int)"
        ),
        PartitionStep::Days(n) => format!(
            "timestamp '2000-01-03' + make_interval(days => (floor((v_utc::date - date '2000-01-03') / {n}::numeric) * {n})::int)"
        ),
    };
    let guard = if t.flags.append_only {
        format!(
            "            EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.%I()',\n                           {}, {schema}, v_name, {schema}, {});\n",
            quote_literal(&derived_name(&[&t.name], "no_truncate")),
            quote_literal(&append_only_name(&t.name)),
        )
    } else {
        String::new()
    };
    let body = format!(
        "\nDECLARE\n    v_utc timestamp := from_time AT TIME ZONE 'UTC';\n    v_at timestamp;\n    v_next timestamp;\n    v_name text;\n    v_created text[] := '{{}}';\nBEGIN\n    v_at := {align};\n    WHILE v_at <= to_time AT TIME ZONE 'UTC' LOOP\n        v_next := v_at + interval {interval};\n        v_name := {prefix} || to_char(v_at, 'YYYYMMDD');\n        IF to_regclass(format('%I.%I', {schema}, v_name)) IS NULL THEN\n            EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',\n                           {schema}, v_name, {schema}, parent);\n            EXECUTE format('ALTER TABLE %I.%I ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',\n                           {schema}, parent, {schema}, v_name,\n                           v_at AT TIME ZONE 'UTC', v_next AT TIME ZONE 'UTC');\n{guard}            v_created := v_created || v_name;\n        END IF;\n        v_at := v_next;\n    END LOOP;\n    RETURN v_created;\nEND;\n",
        interval = quote_literal(&p.interval),
        prefix = quote_literal(&format!("{}_p", t.name)),
    );
    Some(Function {
        schema: t.schema.clone(),
        name: create_partitions_name(&t.name),
        arguments: vec![
            FunctionArgument::input("parent", DataType::Text),
            FunctionArgument::input("from_time", DataType::Timestamptz(None)),
            FunctionArgument::input("to_time", DataType::Timestamptz(None)),
        ],
        returns: "text[]".to_string(),
        language: "plpgsql".to_string(),
        body,
        security_definer: false,
        sql_standard_body: false,
        execute: Vec::new(),
    })
}

/// The statement that creates the partitions a partitioned table needs now: the current one and
/// `ahead` more. `parent` is the table's name, or the name of the table built to replace it.
pub fn create_partitions_call(t: &Table, parent: &str, from: &str) -> Option<String> {
    let p = t.flags.partitioning.as_ref()?;
    Some(format!(
        "{}({}, {from}, now() + interval {} * {})",
        QualifiedName::new(&t.schema, create_partitions_name(&t.name)).sql(),
        quote_literal(parent),
        quote_literal(&p.interval),
        p.ahead
    ))
}

/// `maintain_partitions(actor uuid) RETURNS jsonb`: for every partitioned table, creates the
/// partitions up to `ahead` intervals from now and, when the table's `retention` counts from
/// the partition column, drops every partition whose whole range is past it, counting its rows
/// first (the partition is locked against inserts meanwhile). One `data_retention_purge` audit
/// row names what was created and dropped, with the row counts; the same is returned:
/// `{"created": {"audit_logs": [...]}, "dropped": {"audit_logs": [{"partition": ..., "rows": n, "before": ...}]}}`.
fn maintain_function(catalog: &Catalog) -> Option<Function> {
    let tables: Vec<&Table> = catalog
        .tables
        .iter()
        .filter(|t| t.flags.partitioning.is_some())
        .collect();
    if tables.is_empty() {
        return None;
    }
    let mut body = String::from(
        "\nDECLARE\n    v_created jsonb := '{}'::jsonb;\n    v_dropped jsonb := '{}'::jsonb;\n    v_list jsonb;\n    v_count bigint;\n    r record;\nBEGIN\n",
    );
    for t in tables {
        let Some(call) = create_partitions_call(t, &t.name, "now()") else {
            continue;
        };
        let shown = quote_literal(&t.display_name());
        body.push_str(&format!(
            "    v_created := v_created || jsonb_build_object({shown}, to_jsonb({call}));\n"
        ));
        let Some(r) = t.flags.retention.as_ref().filter(|r| {
            t.flags
                .partitioning
                .as_ref()
                .is_some_and(|p| p.column == r.column)
        }) else {
            continue;
        };
        body.push_str(&format!(
            "    v_list := '[]'::jsonb;\n    FOR r IN\n        SELECT c.oid::regclass AS partition, c.relname,\n               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']*)''\\)'))[1]::timestamptz AS upper_bound\n          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid\n         WHERE i.inhparent = {regclass}::regclass\n         ORDER BY c.relname\n    LOOP\n        CONTINUE WHEN r.upper_bound IS NULL OR r.upper_bound > now() - {interval};\n        -- Counted under a lock that keeps inserts out, so the audit row says what went.\n        EXECUTE format('LOCK TABLE %s IN SHARE MODE', r.partition);\n        EXECUTE format('SELECT count(*) FROM %s', r.partition) INTO v_count;\n        EXECUTE format('DROP TABLE %s', r.partition);\n        v_list := v_list || jsonb_build_object('partition', r.relname, 'before', r.upper_bound, 'rows', v_count);\n    END LOOP;\n    v_dropped := v_dropped || jsonb_build_object({shown}, v_list);\n",
            regclass = quote_literal(&t.sql_name()),
            interval = interval(r),
        ));
    }
    body.push_str(&format!(
        "    INSERT INTO {AUDIT_TABLE} (event_type, user_id, resource_type, action, details)\n    VALUES ('data_retention_purge', {MAINTAIN_FUNCTION}.actor, NULL, 'maintain',\n            jsonb_build_object('created', v_created, 'dropped', v_dropped));\n    RETURN jsonb_build_object('created', v_created, 'dropped', v_dropped);\nEND;\n"
    ));
    Some(plpgsql(
        MAINTAIN_FUNCTION.to_string(),
        vec![FunctionArgument::input("actor", DataType::Uuid)],
        "jsonb",
        body,
    ))
}

/// The data-subject table, its single-column primary key and subject column.
struct Subject<'c> {
    table: &'c Table,
    key: &'c str,
    column: &'c str,
}

fn subject(catalog: &Catalog) -> Option<Subject<'_>> {
    let table = catalog
        .tables
        .iter()
        .find(|t| t.flags.data_subject.is_some())?;
    let key = match table.primary_key.as_ref()?.columns.as_slice() {
        [key] => key.as_str(),
        _ => return None,
    };
    Some(Subject {
        table,
        key,
        column: table.flags.data_subject.as_deref()?,
    })
}

/// Tables holding a subject's data besides the subject table: `erasure` set and a
/// single-column foreign key to the subject table. Returns each with that column.
fn subject_children<'c>(catalog: &'c Catalog, subject: &Subject<'_>) -> Vec<(&'c Table, &'c str)> {
    let tables: Vec<&Table> = catalog
        .tables
        .iter()
        .filter(|t| !t.is(&subject.table.qualified_name()) && t.flags.erasure.is_some())
        .collect();
    children_first(tables)
        .into_iter()
        .filter_map(|t| {
            let fk = t.foreign_keys.iter().find(|fk| {
                subject.table.is(&fk.ref_table)
                    && fk.columns.len() == 1
                    && fk.ref_columns == [subject.key]
            })?;
            Some((t, fk.columns[0].as_str()))
        })
        .collect()
}

/// `SELECT ... INTO v_ids`: the primary keys of the subject's rows, locked against concurrent
/// changes for the rest of the transaction.
fn select_subject_rows(s: &Subject<'_>, function: &str) -> String {
    format!(
        "    SELECT coalesce(array_agg({key} ORDER BY {key}), '{{}}')\n      INTO v_ids\n      FROM (SELECT {key} FROM {table} WHERE {column} = {function}.subject FOR UPDATE) AS subject_rows;\n",
        key = quote(s.key),
        table = s.table.sql_name(),
        column = quote(s.column),
    )
}

/// The value an anonymised column gets: NULL when it may, its default when it has one, an
/// erased marker for text; the subject column names the row instead of the person.
pub fn anonymized_value(t: &Table, c: &Column, subject_key: Option<&str>) -> Option<String> {
    if t.flags.data_subject.as_deref() == Some(c.name.as_str()) {
        let key = subject_key?;
        return Some(format!(
            "{} || {}::text",
            quote_literal(ERASED_SUBJECT_PREFIX),
            quote(key)
        ));
    }
    if c.nullable {
        return Some("NULL".to_string());
    }
    if c.default.is_some() {
        return Some("DEFAULT".to_string());
    }
    c.data_type
        .is_text_like()
        .then(|| quote_literal(ERASED_TEXT))
}

fn erase_function(catalog: &Catalog) -> Option<Function> {
    let s = subject(catalog)?;
    let mut body = String::from(
        "\nDECLARE\n    v_ids uuid[];\n    v_rows jsonb := '{}'::jsonb;\n    v_count bigint;\nBEGIN\n",
    );
    body.push_str(&select_subject_rows(&s, ERASE_FUNCTION));
    let record = |body: &mut String, table: &str, verb: &str| {
        body.push_str(&format!(
            "    GET DIAGNOSTICS v_count = ROW_COUNT;\n    v_rows := v_rows || jsonb_build_object({}, jsonb_build_object({}, v_count));\n",
            quote_literal(table),
            quote_literal(verb)
        ));
    };
    for (t, column) in subject_children(catalog, &s) {
        match t.flags.erasure {
            Some(Erasure::Delete) => {
                body.push_str(&format!(
                    "    DELETE FROM {} WHERE {} = ANY (v_ids);\n",
                    t.sql_name(),
                    quote(column)
                ));
                record(&mut body, &t.display_name(), "deleted");
            }
            Some(Erasure::Anonymize) => {
                body.push_str(&anonymize(
                    t,
                    None,
                    &format!("{} = ANY (v_ids)", quote(column)),
                ));
                record(&mut body, &t.display_name(), "anonymized");
            }
            None => {}
        }
    }
    let where_subject = format!("{} = ANY (v_ids)", quote(s.key));
    match s.table.flags.erasure {
        Some(Erasure::Delete) => {
            body.push_str(&format!(
                "    DELETE FROM {} WHERE {where_subject};\n",
                s.table.sql_name()
            ));
            record(&mut body, &s.table.display_name(), "deleted");
        }
        _ => {
            body.push_str(&anonymize(s.table, Some(s.key), &where_subject));
            record(&mut body, &s.table.display_name(), "anonymized");
        }
    }
    body.push_str(&format!(
        "    INSERT INTO {AUDIT_TABLE} (event_type, user_id, resource_type, action, details)\n    VALUES ('right_to_erasure', {ERASE_FUNCTION}.actor, {}, 'erase',\n            jsonb_build_object('ids', to_jsonb(v_ids), 'rows', v_rows));\n    RETURN jsonb_build_object('ids', to_jsonb(v_ids), 'rows', v_rows);\nEND;\n",
        quote_literal(&s.table.display_name())
    ));
    Some(plpgsql(
        ERASE_FUNCTION.to_string(),
        subject_arguments(),
        "jsonb",
        body,
    ))
}

/// `UPDATE t SET <every PII/PHI column> = <anonymised value> WHERE ...`; soft-deletable rows are
/// also marked deleted, so erased rows leave the listings.
fn anonymize(t: &Table, subject_key: Option<&str>, condition: &str) -> String {
    let mut sets: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.sensitivity.is_sensitive())
        .filter_map(|c| {
            anonymized_value(t, c, subject_key).map(|v| format!("{} = {v}", quote(&c.name)))
        })
        .collect();
    if t.flags.soft_delete && t.column("deleted_at").is_some() {
        sets.push("deleted_at = coalesce(deleted_at, now())".to_string());
    }
    if sets.is_empty() {
        // Nothing personal in the row: count it, change nothing.
        return format!("    PERFORM 1 FROM {} WHERE {condition};\n", t.sql_name());
    }
    format!(
        "    UPDATE {}\n       SET {}\n     WHERE {condition};\n",
        t.sql_name(),
        sets.join(",\n           ")
    )
}

fn export_function(catalog: &Catalog) -> Option<Function> {
    let s = subject(catalog)?;
    let mut body = String::from("\nDECLARE\n    v_ids uuid[];\n    v_tables jsonb;\nBEGIN\n");
    body.push_str(&select_subject_rows(&s, EXPORT_FUNCTION).replace(" FOR UPDATE", " FOR SHARE"));
    let rows_of = |t: &Table, column: &str| {
        let key = match t.primary_key.as_ref().map(|pk| pk.columns.as_slice()) {
            Some([key]) => format!(" ORDER BY r.{}", quote(key)),
            _ => String::new(),
        };
        format!(
            "        {}, (SELECT coalesce(jsonb_agg(to_jsonb(r){key}), '[]'::jsonb) FROM {} AS r WHERE r.{} = ANY (v_ids))",
            quote_literal(&t.display_name()),
            t.sql_name(),
            quote(column)
        )
    };
    let mut parts = vec![rows_of(s.table, s.key)];
    let mut children = subject_children(catalog, &s);
    children.sort_by(|a, b| a.0.display_name().cmp(&b.0.display_name()));
    parts.extend(children.iter().map(|(t, column)| rows_of(t, column)));
    body.push_str(&format!(
        "    v_tables := jsonb_build_object(\n{}\n    );\n",
        parts.join(",\n")
    ));
    body.push_str(&format!(
        "    INSERT INTO {AUDIT_TABLE} (event_type, user_id, resource_type, action, details)\n    VALUES ('data_access', {EXPORT_FUNCTION}.actor, {}, 'export',\n            jsonb_build_object('ids', to_jsonb(v_ids),\n                               'rows', (SELECT jsonb_object_agg(key, jsonb_array_length(value)) FROM jsonb_each(v_tables))));\n    RETURN jsonb_build_object(\n        'format', {},\n        'subject', {EXPORT_FUNCTION}.subject,\n        'exported_at', now(),\n        'tables', v_tables\n    );\nEND;\n",
        quote_literal(&s.table.display_name()),
        quote_literal(EXPORT_FORMAT),
    ));
    Some(plpgsql(
        EXPORT_FUNCTION.to_string(),
        subject_arguments(),
        "jsonb",
        body,
    ))
}

/// The actor table: the one `audit_logs.user_id` references by its single-column primary key.
pub fn actor_table(catalog: &Catalog) -> Option<&Table> {
    let audit = catalog.table(AUDIT_TABLE)?;
    let fk = audit
        .foreign_keys
        .iter()
        .find(|fk| fk.columns == ["user_id"] && fk.ref_columns.len() == 1)?;
    let table = catalog.table_named(&fk.ref_table)?;
    (table.primary_key.as_ref()?.columns == fk.ref_columns).then_some(table)
}

/// `actor_state(actor)`: `deleted` when the actor's row is soft-deleted (a `deleted_at` column),
/// else `active` or `inactive` by its boolean `is_active` column (`active` without one), NULL
/// when there is no such row. It tells a caller no more than that (no PII), which is why roles
/// without `SELECT` on the actor table may call it.
fn actor_function(catalog: &Catalog) -> Option<Function> {
    let table = actor_table(catalog)?;
    let key = &table.primary_key.as_ref()?.columns[0];
    let key_type = table.column(key)?.data_type.clone();
    let mut cases = Vec::new();
    if table.column("deleted_at").is_some() {
        cases.push("WHEN a.deleted_at IS NOT NULL THEN 'deleted'".to_string());
    }
    if table
        .column("is_active")
        .is_some_and(|c| c.data_type == DataType::Boolean)
    {
        cases.push("WHEN a.is_active THEN 'active'".to_string());
        cases.push("ELSE 'inactive'".to_string());
    } else {
        cases.push("ELSE 'active'".to_string());
    }
    let body = format!(
        "\nBEGIN\n    RETURN (SELECT CASE {} END\n              FROM {} AS a\n             WHERE a.{} = {ACTOR_FUNCTION}.actor);\nEND;\n",
        cases.join(" "),
        table.sql_name(),
        quote(key),
    );
    Some(plpgsql(
        ACTOR_FUNCTION.to_string(),
        vec![FunctionArgument::input("actor", key_type)],
        "text",
        body,
    ))
}
