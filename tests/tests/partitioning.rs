//! The time-partitioned audit log on PostgreSQL 15: a database with a plain `audit_logs` full of
//! rows (eight years of them) is moved onto the partitioned table by the committed migrations,
//! through the runner, while an application keeps writing audit rows; nothing is lost, and
//! afterwards the append-only guards and grants hold on every partition, the maintenance
//! function creates partitions ahead and drops expired ones (audited), the retention purge still
//! works, and the down migration moves the rows back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use e2e::{migrations, pg};
use migrate::runner::Runner;
use postgres::error::SqlState;
use postgres::types::FromSqlOwned;
use postgres::{Client, NoTls};
use serde_json::Value;
use uuid::Uuid;

/// Rows spread over eight years, one every ~4.2 hours: 96 months of partitions, 12+ expired.
const ROWS: i64 = 16_000;

/// The migrations up to the one that partitions `audit_logs` (which is the first to declare it).
fn split_at_partitioning() -> (Vec<migrate::history::MigrationFile>, usize) {
    let files = migrations::committed().migrations;
    let first = files
        .iter()
        .position(|m| {
            m.up.contains("CREATE FUNCTION audit_logs_create_partitions")
        })
        .expect("a committed migration partitions audit_logs");
    (files, first)
}

/// Every row's content, in key order: equal before and after the move means nothing changed.
fn fingerprint(client: &mut Client, filter: &str) -> (i64, String) {
    let row = client
        .query_one(
            &format!(
                "SELECT count(*), coalesce(md5(string_agg(
                        concat_ws('|', id, \"timestamp\", event_type, user_id, resource_type, resource_id,
                                  action, success, ip_address, user_agent, request_id, changes, details),
                        ',' ORDER BY id)), '')
                   FROM audit_logs {filter}"
            ),
            &[],
        )
        .expect("fingerprint");
    (row.get(0), row.get(1))
}

/// The one value `sql` returns.
fn value<T: FromSqlOwned>(client: &mut Client, sql: &str) -> T {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .get(0)
}

/// `pg_class.relkind` of `public.audit_logs`: `r` a plain table, `p` a partitioned one.
fn audit_logs_kind(client: &mut Client) -> u8 {
    let kind: i8 = value(
        client,
        "SELECT relkind::\"char\" FROM pg_class WHERE relname = 'audit_logs' AND relnamespace = 'public'::regnamespace",
    );
    kind as u8
}

fn sqlstate(result: Result<u64, postgres::Error>) -> Option<SqlState> {
    result
        .err()
        .map(|e| e.code().cloned().expect("a server error"))
}

#[test]
fn a_plain_audit_log_with_rows_is_partitioned_without_losing_a_row() {
    let db = pg::cluster().create_database("partition_audit");
    let (files, first) = split_at_partitioning();
    let mut before = Runner::connect(&db.url(), files[..first].to_vec()).expect("connect");
    before
        .upgrade()
        .expect("the migrations before partitioning");
    let mut client = db.connect();
    assert_eq!(audit_logs_kind(&mut client), b'r', "a plain table before");

    let actor: Uuid = value(
        &mut client,
        "INSERT INTO users (username, email) VALUES ('auditor', 'auditor@example.org') RETURNING id",
    );
    // Eight years of rows, newest now, each column holding something (NULLs included).
    client
        .execute(
            &format!(
                "INSERT INTO audit_logs (\"timestamp\", event_type, user_id, resource_type, resource_id, action,
                                         success, ip_address, user_agent, request_id, changes, details)
                 SELECT now() - (i * interval '8 years' / {ROWS}),
                        (enum_range(NULL::audit_event_type))[1 + i % 9],
                        CASE WHEN i % 3 = 0 THEN NULL ELSE $1::uuid END,
                        'cases', md5(i::text)::uuid, 'get', i % 5 <> 0,
                        CASE WHEN i % 2 = 0 THEN '10.0.0.1'::inet END, 'agent ' || i, 'req-' || i,
                        CASE WHEN i % 4 = 0 THEN jsonb_build_object('n', i) END, jsonb_build_object('i', i)
                   FROM generate_series(0, {ROWS} - 1) AS i"
            ),
            &[&actor],
        )
        .expect("eight years of audit rows");
    let original = fingerprint(&mut client, "");
    assert_eq!(original.0, ROWS);

    // The application keeps writing audit rows while the rows move, as `operator` does.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let writing = Arc::clone(&writing);
        let conn = db.conn_string();
        std::thread::spawn(move || {
            let mut app = Client::connect(&conn, NoTls).expect("connect the application");
            app.batch_execute("SET ROLE operator").expect("set role");
            let mut written = Vec::new();
            while writing.load(Ordering::Relaxed) || written.len() < 20 {
                let id = Uuid::new_v4();
                match app.execute(
                    "INSERT INTO audit_logs (id, event_type, action, details) VALUES ($1, 'data_access', 'during', '{}')",
                    &[&id],
                ) {
                    Ok(_) => written.push(id),
                    Err(e) => panic!("an audit insert failed during the migration: {e:?}"),
                }
            }
            written
        })
    };
    let mut runner = Runner::connect(&db.url(), files.clone()).expect("connect");
    let applied = runner.upgrade().expect("the partitioning migrations");
    assert!(applied.len() >= 2, "{applied:?}");
    writing.store(false, Ordering::Relaxed);
    let written = writer.join().expect("the writer");

    assert_eq!(
        audit_logs_kind(&mut client),
        b'p',
        "a partitioned table after"
    );
    let key: String = value(
        &mut client,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'audit_logs_pkey'",
    );
    assert_eq!(key, "PRIMARY KEY (id, \"timestamp\")");
    assert_eq!(
        fingerprint(&mut client, "WHERE action IS DISTINCT FROM 'during'"),
        original,
        "every row that was there, unchanged"
    );
    let ids: Vec<Uuid> = client
        .query("SELECT id FROM audit_logs WHERE action = 'during'", &[])
        .expect("the query runs")
        .iter()
        .map(|r| r.get(0))
        .collect();
    for id in &written {
        assert!(
            ids.contains(id),
            "the row {id} written during the move is there"
        );
    }
    assert_eq!(ids.len(), written.len());
    // Nothing of the move is left behind.
    let leftovers: i64 = value(
        &mut client,
        "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'audit_logs%rebuild%')
                  + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'audit_logs_rebuild%')",
    );
    assert_eq!(leftovers, 0);

    let partitions: Vec<String> = client
        .query(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'audit_logs'::regclass ORDER BY 1",
            &[],
        )
        .expect("the query runs")
        .iter()
        .map(|r| r.get(0))
        .collect();
    // Eight years of months, the current one and three ahead.
    assert!(partitions.len() >= 8 * 12 + 4, "{}", partitions.len());
    let ahead: bool = value(
        &mut client,
        "SELECT to_regclass('audit_logs_p' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months', 'YYYYMMDD')) IS NOT NULL",
    );
    assert!(ahead, "three months ahead are ready: {partitions:?}");

    // The guarantees hold on every partition, touched directly, even by the owner.
    for p in [&partitions[0], &partitions[partitions.len() / 2]] {
        assert_eq!(
            sqlstate(client.execute(&format!("UPDATE {p} SET action = 'x'"), &[])),
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
            "UPDATE on {p}"
        );
        assert_eq!(
            sqlstate(client.execute(&format!("DELETE FROM {p}"), &[])),
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
            "DELETE on {p}"
        );
        assert_eq!(
            sqlstate(client.execute(&format!("TRUNCATE {p}"), &[])),
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
            "TRUNCATE on {p}"
        );
        for role in ["admin", "operator", "service"] {
            let mut tx = client.transaction().expect("begin");
            tx.batch_execute(&format!("SET LOCAL ROLE {role}"))
                .expect("set role");
            assert_eq!(
                sqlstate(tx.execute(&format!("SELECT 1 FROM {p}"), &[])),
                Some(SqlState::INSUFFICIENT_PRIVILEGE),
                "{role} reads {p} directly"
            );
            tx.rollback().expect("rollback");
        }
    }
    // Through the parent, the declared grants: admin reads, operator only inserts.
    {
        let mut tx = client.transaction().expect("begin");
        tx.batch_execute("SET LOCAL ROLE operator")
            .expect("set role");
        assert_eq!(
            sqlstate(tx.execute("SELECT 1 FROM audit_logs", &[])),
            Some(SqlState::INSUFFICIENT_PRIVILEGE)
        );
        tx.rollback().expect("rollback");
    }
    // A row outside every partition is refused rather than lost.
    assert_eq!(
        sqlstate(client.execute(
            "INSERT INTO audit_logs (\"timestamp\", event_type) VALUES (now() + interval '10 years', 'data_access')",
            &[]
        )),
        Some(SqlState::CHECK_VIOLATION)
    );

    // Maintenance: expired months are dropped whole, with their row counts in the audit row.
    let expired_full_months: i64 = value(&mut client, "SELECT count(*) FROM audit_logs
              WHERE \"timestamp\" < date_trunc('month', (now() - interval '7 years') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'");
    assert!(expired_full_months > 0);
    let mut maintainer = Runner::connect(&db.url(), files.clone()).expect("connect");
    let report: Value = serde_json::from_str(
        &maintainer
            .maintain_partitions(Some(&actor.to_string()))
            .expect("maintain"),
    )
    .expect("the query runs");
    let dropped = report["dropped"]["audit_logs"].as_array().expect("dropped");
    assert!(dropped.len() >= 11, "{report}");
    let dropped_rows: i64 = dropped
        .iter()
        .map(|d| d["rows"].as_i64().expect("a count"))
        .sum();
    assert_eq!(dropped_rows, expired_full_months, "{report}");
    let remaining = fingerprint(&mut client, "").0;
    let during = i64::try_from(written.len()).expect("fits");
    // Plus the maintenance's own audit row.
    assert_eq!(remaining, ROWS + during - expired_full_months + 1);
    let audit: Value = client
        .query_one(
            "SELECT details FROM audit_logs WHERE event_type = 'data_retention_purge' AND action = 'maintain' AND user_id = $1",
            &[&actor],
        )
        .expect("one audit row for the maintenance")
        .get(0);
    assert_eq!(audit["dropped"], report["dropped"]);
    // Nothing is created twice; the next call has nothing to drop.
    let again: Value =
        serde_json::from_str(&maintainer.maintain_partitions(None).expect("maintain"))
            .expect("JSON");
    assert_eq!(again["created"]["audit_logs"], serde_json::json!([]));
    assert_eq!(again["dropped"]["audit_logs"], serde_json::json!([]));
    // The row purge still takes the expired rows of the month the cutoff falls in.
    let purged: Value = serde_json::from_str(
        &maintainer
            .purge_expired_data(Some(&actor.to_string()))
            .expect("the query runs"),
    )
    .expect("the query runs");
    assert!(
        purged["audit_logs"].as_i64().expect("a count") > 0,
        "{purged}"
    );
    let expired_left: i64 = value(
        &mut client,
        "SELECT count(*) FROM audit_logs WHERE \"timestamp\" < now() - interval '7 years'",
    );
    assert_eq!(expired_left, 0);

    // A partition the maintenance creates carries the guards too.
    let last_month: String = value(
        &mut client,
        "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months', 'YYYYMMDD')",
    );
    client
        .batch_execute(&format!("DROP TABLE audit_logs_p{last_month}"))
        .expect("set role");
    let created: Value =
        serde_json::from_str(&maintainer.maintain_partitions(None).expect("maintain"))
            .expect("JSON");
    let newest = created["created"]["audit_logs"][0]
        .as_str()
        .expect("the dropped month is created again")
        .to_string();
    assert_eq!(
        sqlstate(client.execute(&format!("TRUNCATE {newest}"), &[])),
        Some(SqlState::INSUFFICIENT_PRIVILEGE)
    );

    // Down: the rows move back into a plain table.
    let kept = fingerprint(&mut client, "");
    runner.downgrade(1).expect("the rebuild's down migration");
    assert_eq!(audit_logs_kind(&mut client), b'r');
    assert_eq!(fingerprint(&mut client, ""), kept);
}

#[test]
fn a_fresh_install_has_the_current_partitions_and_the_maintenance_is_callable_by_service() {
    let db = pg::cluster().create_database("partition_fresh");
    let mut client = db.connect();
    migrations::apply_all(&mut client);
    let count: i64 = value(
        &mut client,
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass",
    );
    assert_eq!(count, 4, "the current month and three ahead");
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL ROLE service")
        .expect("set role");
    let report: Value = tx
        .query_one("SELECT maintain_partitions(NULL)", &[])
        .expect("service may run the maintenance")
        .get(0);
    assert_eq!(report["created"]["audit_logs"], serde_json::json!([]));
    tx.rollback().expect("rollback");
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL ROLE operator")
        .expect("set role");
    assert_eq!(
        tx.query_one("SELECT maintain_partitions(NULL)", &[])
            .err()
            .and_then(|e| e.code().cloned()),
        Some(SqlState::INSUFFICIENT_PRIVILEGE)
    );
}

/// There is no DEFAULT partition (docs/schema-format.md#partitioning says why): a row whose
/// partition is missing, as after maintenance that did not run, is refused, and accepted once
/// `maintain_partitions` has run again.
#[test]
fn a_row_without_its_partition_is_refused_until_the_maintenance_creates_it() {
    let db = pg::cluster().create_database("partition_catch_up");
    let mut client = db.connect();
    migrations::apply_all(&mut client);
    let current: String = client
        .query_one(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'audit_logs'::regclass ORDER BY c.relname LIMIT 1",
            &[],
        )
        .expect("the partitions")
        .get(0);
    client
        .batch_execute(&format!("DROP TABLE {current}"))
        .expect("drop the current month's partition");
    let insert = "INSERT INTO audit_logs (\"timestamp\", event_type) VALUES (now(), 'data_access')";
    assert_eq!(
        sqlstate(client.execute(insert, &[])),
        Some(SqlState::CHECK_VIOLATION)
    );
    let report: Value = client
        .query_one("SELECT maintain_partitions(NULL)", &[])
        .expect("maintain")
        .get(0);
    assert_eq!(
        report["created"]["audit_logs"],
        serde_json::json!([current])
    );
    assert_eq!(client.execute(insert, &[]).expect("accepted now"), 1);
}
