//! The HIPAA/GDPR features `schema.yaml` declares, on a real PostgreSQL 15 with the committed
//! migrations: role grants (checked with `SET ROLE` against the declaration, privilege by
//! privilege), the append-only audit trail, retention purge, right to erasure, data export,
//! consent before processing, and the ciphertext-only guard of encrypted columns.

use std::path::Path;

use e2e::{migrations, pg};
use model::{Catalog, Privilege};
use postgres::error::SqlState;
use postgres::{Client, GenericClient};
use serde_json::Value;
use uuid::Uuid;

const ROLES: [&str; 3] = ["admin", "operator", "service"];

fn declared() -> Catalog {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.yaml");
    let text = std::fs::read_to_string(&path).expect("read schema.yaml");
    model::load_schema("schema.yaml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn database(hint: &str) -> (pg::TestDb, Client) {
    let db = pg::cluster().create_database(hint);
    let mut client = db.connect();
    migrations::apply_all(&mut client);
    (db, client)
}

/// Runs `sql` as `role` in a transaction that is rolled back; the SQLSTATE of the failure.
fn as_role(client: &mut Client, role: &str, sql: &str) -> Result<(), SqlState> {
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute(&format!("SET LOCAL ROLE {role}"))
        .expect("set role");
    let result = tx.batch_execute(sql).map_err(|e| {
        e.code()
            .cloned()
            .unwrap_or_else(|| panic!("no SQLSTATE: {e}"))
    });
    tx.rollback().expect("rollback");
    result
}

fn user(client: &mut impl GenericClient, name: &str) -> Uuid {
    client
        .query_one(
            "INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org') RETURNING id",
            &[&name],
        )
        .expect("insert user")
        .get(0)
}

/// A case of `patient` with every PHI column holding `marker`, consent granted, a file, a job
/// and a segment that also carry the marker. Returns the case id.
fn patient_case(client: &mut Client, actor: Uuid, patient: &str, marker: &str, n: u32) -> Uuid {
    let case: Uuid = client
        .query_one(
            "INSERT INTO cases (case_number, patient_id, title, notes, created_by, case_metadata, processing_consent)
             VALUES ($1, $2, 'enc:v1:' || $3, 'enc:v1:' || $3, $4, jsonb_build_object('referral', $3), 'granted')
             RETURNING id",
            &[&format!("CASE-{n}"), &patient, &marker, &actor],
        )
        .expect("insert case")
        .get(0);
    let file: Uuid = client
        .query_one(
            "INSERT INTO files (case_id, uploaded_by, filename, file_type, mime_type, size_bytes, checksum, storage_uri, file_metadata)
             VALUES ($1, $2, $3 || '.stl', 'stl', 'model/stl', 10, repeat('a', 64), 's3://b/k', jsonb_build_object('PatientName', $3))
             RETURNING id",
            &[&case, &actor, &marker],
        )
        .expect("insert file")
        .get(0);
    let job: Uuid = client
        .query_one(
            "INSERT INTO jobs (case_id, file_id, created_by, job_type, parameters)
             VALUES ($1, $2, $3, 'segmentation', jsonb_build_object('note', $4::text)) RETURNING id",
            &[&case, &file, &actor, &marker],
        )
        .expect("insert job")
        .get(0);
    client
        .execute(
            "INSERT INTO segments (case_id, file_id, created_by_job, segment_type, label)
             VALUES ($1, $2, $3, 'tooth', $4)",
            &[&case, &file, &job, &marker],
        )
        .expect("insert segment");
    case
}

/// Rows of every table of the public schema whose text form contains `needle`, as
/// `table: count` for the tables with any.
fn occurrences(client: &mut Client, needle: &str) -> Vec<String> {
    let tables: Vec<String> = client
        .query(
            // Partitioned tables as one (their partitions are not listed apart).
            "SELECT relname::text FROM pg_class
              WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition
              ORDER BY 1",
            &[],
        )
        .expect("list tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut found = Vec::new();
    for table in tables {
        let n: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM {table} t WHERE strpos(t::text, $1) > 0"),
                &[&needle],
            )
            .expect("search")
            .get(0);
        if n > 0 {
            found.push(format!("{table}: {n}"));
        }
    }
    found
}

fn audit_events(client: &mut Client, event: &str) -> Vec<(Option<Uuid>, Option<String>, Value)> {
    client
        .query(
            "SELECT user_id, action, details FROM audit_logs WHERE event_type = $1::text::audit_event_type ORDER BY \"timestamp\"",
            &[&event],
        )
        .expect("audit rows")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[test]
fn each_role_can_do_exactly_what_schema_yaml_grants() {
    let catalog = declared();
    let (_db, mut client) = database("roles");
    let statements = [
        (Privilege::Select, "SELECT 1 FROM {t} LIMIT 1"),
        // Privileges are checked before any row is touched: a role with the privilege gets past
        // the check (and may then hit a NOT NULL constraint), one without gets 42501.
        (Privilege::Insert, "INSERT INTO {t} DEFAULT VALUES"),
        (Privilege::Update, "UPDATE {t} SET id = DEFAULT WHERE false"),
        (Privilege::Delete, "DELETE FROM {t} WHERE false"),
        (Privilege::Truncate, "TRUNCATE {t}"),
    ];
    let mut checked = 0;
    for t in &catalog.tables {
        for role in ROLES {
            for (privilege, template) in statements {
                let sql = template.replace("{t}", &model::ident::quote(&t.name));
                let granted = t.privileges_of(role).contains(&privilege);
                let outcome = as_role(&mut client, role, &sql);
                let denied = outcome.as_ref().err() == Some(&SqlState::INSUFFICIENT_PRIVILEGE);
                assert_eq!(
                    denied,
                    !granted,
                    "{role} {} on {}: declared {granted}, got {outcome:?}",
                    privilege.as_str(),
                    t.name
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        catalog.tables.len() * ROLES.len() * statements.len()
    );

    // The default matrix of the issue, spelled out so that a schema.yaml edit weakening it fails.
    let can = |table: &str, role: &str, p: Privilege| {
        catalog
            .table(table)
            .is_some_and(|t| t.privileges_of(role).contains(&p))
    };
    for t in ["users", "cases", "files", "jobs", "segments", "models"] {
        for p in [
            Privilege::Select,
            Privilege::Insert,
            Privilege::Update,
            Privilege::Delete,
        ] {
            assert!(can(t, "admin", p), "admin manages {t}");
        }
    }
    for t in ["cases", "files", "jobs", "segments"] {
        assert!(can(t, "operator", Privilege::Update), "operator works {t}");
        assert!(
            !can(t, "service", Privilege::Delete),
            "service never deletes {t}"
        );
    }
    assert!(!can("users", "operator", Privilege::Delete));
    for t in ["cases", "files"] {
        assert!(can(t, "service", Privilege::Select), "service reads {t}");
    }
    for t in ["jobs", "segments", "models"] {
        assert!(can(t, "service", Privilege::Insert), "service writes {t}");
    }
    for role in ROLES {
        for p in [Privilege::Update, Privilege::Delete, Privilege::Truncate] {
            assert!(
                !can("audit_logs", role, p),
                "{role} cannot rewrite the audit trail"
            );
        }
    }
}

#[test]
fn the_audit_trail_is_append_only_even_for_its_owner() {
    let (_db, mut client) = database("append_only");
    let actor = user(&mut client, "auditor");
    client
        .execute(
            "INSERT INTO audit_logs (event_type, user_id, action) VALUES ('login_success', $1, 'login')",
            &[&actor],
        )
        .expect("insert is allowed");
    // The test connects as the superuser that owns the table: only the trigger stops it.
    for sql in [
        "UPDATE audit_logs SET action = 'forged'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
    ] {
        let error = client.batch_execute(sql).expect_err(sql);
        assert_eq!(
            error.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}"
        );
        let message = error.as_db_error().map(|e| e.message().to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("append-only")),
            "{sql}: {message:?}"
        );
    }
    // The purge's switch does not let a row younger than the retention period go.
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL codegen.retention_purge = 'on'")
        .expect("set");
    let error = tx
        .batch_execute("DELETE FROM audit_logs")
        .expect_err("young rows stay");
    assert_eq!(error.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    drop(tx);
    for role in ROLES {
        assert_eq!(
            as_role(&mut client, role, "UPDATE audit_logs SET action = 'x'"),
            Err(SqlState::INSUFFICIENT_PRIVILEGE),
            "{role}"
        );
    }
    let rows: i64 = client
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE action = 'login'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(rows, 1);
}

#[test]
fn the_retention_purge_deletes_expired_rows_only_and_audits_the_counts() {
    let (_db, mut client) = database("retention");
    let actor = user(&mut client, "retention");
    // audit_logs is partitioned by month: rows from seven years ago need their partitions, which
    // a fresh database does not have (the owner creates them, as for imported history).
    client
        .execute(
            "SELECT audit_logs_create_partitions('audit_logs', now() - interval '7 years 1 month', now())",
            &[],
        )
        .expect("partitions for old rows");
    client
        .execute(
            "INSERT INTO audit_logs (event_type, user_id, action, \"timestamp\") VALUES
               ('data_access', $1, 'old', now() - interval '7 years 1 day'),
               ('data_access', $1, 'recent', now() - interval '6 years 364 days')",
            &[&actor],
        )
        .expect("audit rows");
    client
        .execute(
            "INSERT INTO cases (case_number, patient_id, created_by, deleted_at) VALUES
               ('EXPIRED', 'p1', $1, now() - interval '91 days'),
               ('RECENT', 'p2', $1, now() - interval '89 days'),
               ('LIVE', 'p3', $1, NULL)",
            &[&actor],
        )
        .expect("cases");

    assert_eq!(
        as_role(&mut client, "operator", "SELECT purge_expired_data(NULL)"),
        Err(SqlState::INSUFFICIENT_PRIVILEGE),
        "operator may not purge"
    );
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL ROLE service").expect("role");
    let deleted: Value = tx
        .query_one("SELECT purge_expired_data($1)", &[&actor])
        .expect("the service role purges")
        .get(0);
    tx.commit().expect("commit");
    assert_eq!(
        deleted,
        serde_json::json!({"audit_logs": 1, "cases": 1, "files": 0, "segments": 0})
    );
    let cases: Vec<String> = client
        .query("SELECT case_number FROM cases ORDER BY 1", &[])
        .expect("cases")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(cases, ["LIVE", "RECENT"]);
    let actions: Vec<Option<String>> = client
        .query(
            "SELECT action FROM audit_logs WHERE event_type = 'data_access'",
            &[],
        )
        .expect("audit")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actions, [Some("recent".to_string())]);
    let events = audit_events(&mut client, "data_retention_purge");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, Some(actor));
    assert_eq!(events[0].2["deleted"], deleted);
    // The switch is off again once the purge is done.
    let error = client
        .batch_execute("DELETE FROM audit_logs")
        .expect_err("append-only again");
    assert_eq!(error.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
}

#[test]
fn erasure_removes_every_trace_of_one_patient_and_nothing_else() {
    let (_db, mut client) = database("erasure");
    let actor = user(&mut client, "dpo");
    let erased = [
        patient_case(&mut client, actor, "PAT-ERASE-1", "MARK-ERASE-7f3a", 1),
        patient_case(&mut client, actor, "PAT-ERASE-1", "MARK-ERASE-7f3a", 2),
    ];
    let kept = patient_case(&mut client, actor, "PAT-KEEP-2", "MARK-KEEP-91c4", 3);
    let before_kept = occurrences(&mut client, "MARK-KEEP-91c4");
    assert_eq!(
        before_kept,
        ["cases: 1", "files: 1", "jobs: 1", "segments: 1"]
    );
    assert!(!occurrences(&mut client, "PAT-ERASE-1").is_empty());

    assert_eq!(
        as_role(
            &mut client,
            "operator",
            "SELECT erase_data_subject('PAT-ERASE-1', NULL)"
        ),
        Err(SqlState::INSUFFICIENT_PRIVILEGE),
        "only admin erases"
    );
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL ROLE admin").expect("role");
    let result: Value = tx
        .query_one("SELECT erase_data_subject('PAT-ERASE-1', $1)", &[&actor])
        .expect("erase")
        .get(0);
    tx.commit().expect("commit");

    assert_eq!(
        result["rows"],
        serde_json::json!({
            "cases": {"anonymized": 2}, "files": {"deleted": 2},
            "jobs": {"deleted": 2}, "segments": {"deleted": 2}
        })
    );
    for needle in ["MARK-ERASE-7f3a", "PAT-ERASE-1"] {
        assert_eq!(
            occurrences(&mut client, needle),
            Vec::<String>::new(),
            "{needle}"
        );
    }
    assert_eq!(occurrences(&mut client, "MARK-KEEP-91c4"), before_kept);
    let kept_patient: String = client
        .query_one("SELECT patient_id FROM cases WHERE id = $1", &[&kept])
        .expect("kept")
        .get(0);
    assert_eq!(kept_patient, "PAT-KEEP-2");
    for id in erased {
        let row = client
            .query_one(
                "SELECT patient_id, title, notes, case_metadata, deleted_at IS NOT NULL FROM cases WHERE id = $1",
                &[&id],
            )
            .expect("anonymized case stays");
        assert_eq!(row.get::<_, String>(0), format!("erased:{id}"));
        assert_eq!(row.get::<_, Option<String>>(1), None);
        assert_eq!(row.get::<_, Option<String>>(2), None);
        assert_eq!(row.get::<_, Value>(3), serde_json::json!({}));
        assert!(row.get::<_, bool>(4), "marked deleted");
    }
    let events = audit_events(&mut client, "right_to_erasure");
    assert_eq!(events.len(), 1, "one erasure event");
    assert_eq!(events[0].0, Some(actor));
    let mut ids: Vec<String> = erased.iter().map(Uuid::to_string).collect();
    ids.sort();
    assert_eq!(events[0].2["ids"], serde_json::json!(ids));
}

#[test]
fn export_returns_one_documented_document_and_is_audited() {
    let (_db, mut client) = database("export");
    let actor = user(&mut client, "clerk");
    let case = patient_case(&mut client, actor, "PAT-EXPORT", "MARK-EXPORT", 1);
    patient_case(&mut client, actor, "PAT-OTHER", "MARK-OTHER", 2);

    assert_eq!(
        as_role(
            &mut client,
            "service",
            "SELECT export_data_subject('PAT-EXPORT', NULL)"
        ),
        Err(SqlState::INSUFFICIENT_PRIVILEGE),
        "workers do not export"
    );
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL ROLE operator").expect("role");
    let document: Value = tx
        .query_one("SELECT export_data_subject('PAT-EXPORT', $1)", &[&actor])
        .expect("export")
        .get(0);
    tx.commit().expect("commit");

    let mut keys: Vec<&str> = document
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["exported_at", "format", "subject", "tables"]);
    assert_eq!(document["format"], model::compliance::EXPORT_FORMAT);
    assert_eq!(document["subject"], "PAT-EXPORT");
    let tables = document["tables"].as_object().expect("tables");
    let mut names: Vec<&str> = tables.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["cases", "files", "jobs", "segments"]);
    for (name, rows) in tables {
        let rows = rows.as_array().expect("rows");
        assert_eq!(rows.len(), 1, "{name}");
        assert!(rows[0].to_string().contains("MARK-EXPORT"), "{name}");
        assert!(!rows[0].to_string().contains("MARK-OTHER"), "{name}");
    }
    assert_eq!(tables["cases"][0]["id"], case.to_string());
    let events = audit_events(&mut client, "data_access");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1.as_deref(), Some("export"));
    assert_eq!(
        events[0].2["rows"],
        serde_json::json!({"cases": 1, "files": 1, "jobs": 1, "segments": 1})
    );
    assert!(
        !events[0].2.to_string().contains("PAT-EXPORT"),
        "the audit row names case ids, not the patient"
    );
}

#[test]
fn jobs_cannot_be_queued_for_a_case_without_consent() {
    let (_db, mut client) = database("consent");
    let actor = user(&mut client, "operator1");
    let case: Uuid = client
        .query_one(
            "INSERT INTO cases (case_number, patient_id, created_by) VALUES ('C1', 'p', $1) RETURNING id",
            &[&actor],
        )
        .expect("case")
        .get(0);
    let insert_job = "INSERT INTO jobs (case_id, created_by, job_type) VALUES ($1, $2, 'segmentation') RETURNING id";
    for consent in ["pending", "withdrawn"] {
        client
            .execute(
                "UPDATE cases SET processing_consent = $1::text::consent_status WHERE id = $2",
                &[&consent, &case],
            )
            .expect("set consent");
        let error = client
            .query_one(insert_job, &[&case, &actor])
            .expect_err(consent);
        assert_eq!(error.code(), Some(&SqlState::CHECK_VIOLATION), "{consent}");
    }
    client
        .execute(
            "UPDATE cases SET processing_consent = 'granted', consent_recorded_at = now() WHERE id = $1",
            &[&case],
        )
        .expect("grant");
    // As the worker role, through the SECURITY DEFINER guard.
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL ROLE service").expect("role");
    let job: Uuid = tx
        .query_one(insert_job, &[&case, &actor])
        .expect("queued with consent")
        .get(0);
    tx.commit().expect("commit");

    // Moving a job onto a case without consent is refused too; finishing it is not.
    let other: Uuid = client
        .query_one(
            "INSERT INTO cases (case_number, patient_id, created_by) VALUES ('C2', 'q', $1) RETURNING id",
            &[&actor],
        )
        .expect("case")
        .get(0);
    let error = client
        .execute(
            "UPDATE jobs SET case_id = $1 WHERE id = $2",
            &[&other, &job],
        )
        .expect_err("no consent on the target case");
    assert_eq!(error.code(), Some(&SqlState::CHECK_VIOLATION));
    client
        .execute(
            "UPDATE cases SET processing_consent = 'withdrawn' WHERE id = $1",
            &[&case],
        )
        .expect("withdraw");
    client
        .execute(
            "UPDATE jobs SET status = 'cancelled' WHERE id = $1",
            &[&job],
        )
        .expect("a job can still be cancelled after withdrawal");
}

#[test]
fn encrypted_columns_refuse_plaintext() {
    let (_db, mut client) = database("encrypted_check");
    let actor = user(&mut client, "writer");
    for column in ["title", "notes"] {
        let error = client
            .execute(
                &format!("INSERT INTO cases (case_number, patient_id, created_by, {column}) VALUES ('X', 'p', $1, 'plain words')"),
                &[&actor],
            )
            .expect_err(column);
        assert_eq!(error.code(), Some(&SqlState::CHECK_VIOLATION), "{column}");
    }
    client
        .execute(
            "INSERT INTO cases (case_number, patient_id, created_by, title) VALUES ('Y', 'p', $1, 'enc:v1:AAAA')",
            &[&actor],
        )
        .expect("ciphertext is accepted");
}

/// The Rust entry points: the export decrypts what the repository encrypted, refuses to run
/// (and audits nothing) without the data key; erasure and purge return what the functions do.
#[test]
fn repository_entry_points_decrypt_exports_and_need_the_data_key() {
    use dental_schema::{Case, NewCase};
    use repo_runtime::{AuditKey, DataKey, RepoError, Table, compliance};

    let (_db, mut client) = database("entry_points");
    let actor_id = user(&mut client, "clinic");
    let audit_key = AuditKey::new(&[0x21; 32]).expect("audit key");
    let data_key = DataKey::new(&[0x42; 32]).expect("data key");
    let actor = audit_key.actor(actor_id).with_data_key(&data_key);
    let new = NewCase {
        patient_id: "PAT-RUST".to_owned(),
        title: Some("MARK-TITLE-secret".to_owned()),
        notes: Some("MARK-NOTES-secret".to_owned()),
        ..e2e::repos::new_case(actor_id, "E-1")
    };
    Case::insert(&mut client, actor, &new).expect("insert");
    assert!(
        occurrences(&mut client, "MARK-TITLE").is_empty(),
        "stored encrypted"
    );

    let without_key = audit_key.actor(actor_id);
    let refused =
        compliance::export_data_subject(&mut client, without_key, "PAT-RUST", &[&Case::META])
            .expect_err("no data key");
    assert!(
        matches!(refused, RepoError::Encryption { .. }),
        "{refused:?}"
    );
    assert!(
        audit_events(&mut client, "data_access").is_empty(),
        "nothing exported, nothing audited"
    );

    let document = compliance::export_data_subject(&mut client, actor, "PAT-RUST", &[&Case::META])
        .expect("export");
    let case = &document["tables"]["cases"][0];
    assert_eq!(case["title"], "MARK-TITLE-secret");
    assert_eq!(case["notes"], "MARK-NOTES-secret");
    assert_eq!(audit_events(&mut client, "data_access").len(), 1);

    let erased = compliance::erase_data_subject(&mut client, actor, "PAT-RUST").expect("erase");
    assert_eq!(
        erased["rows"]["cases"],
        serde_json::json!({"anonymized": 1})
    );
    assert!(occurrences(&mut client, "PAT-RUST").is_empty());

    let purged = compliance::purge_expired_data(&mut client, actor).expect("purge");
    assert_eq!(
        purged["cases"], 0,
        "the erased case is soft-deleted, not yet expired"
    );
}
