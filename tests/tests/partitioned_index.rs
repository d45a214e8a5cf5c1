//! A new index on the partitioned audit log, from a schema.yaml edit to PostgreSQL 15: codegen
//! writes `CREATE INDEX IF NOT EXISTS ... ON ONLY audit_logs` in a migration that runs outside a
//! transaction (PostgreSQL cannot build a partitioned table's index concurrently, and a plain
//! CREATE INDEX would block audited writes on every partition until the last one is indexed),
//! and the runner builds each partition's index concurrently and attaches it, so the parent's
//! becomes valid. A run interrupted after some partitions is resumed without building them twice;
//! partitions created later get the index from PostgreSQL; the down migration removes it all.

use codegen::migration::{PlanOptions, plan};
use e2e::{migrations, pg, schema};
use migrate::history::MigrationFile;
use migrate::runner::Runner;
use model::RenameHints;
use postgres::Client;

const INDEX: &str = "audit_logs_request_id_idx";

/// The committed migrations and the next one, planned from schema.yaml with an index on
/// `audit_logs.request_id` added, as `codegen` plans it.
fn with_new_index() -> (Vec<MigrationFile>, MigrationFile) {
    let text = schema::repo_schema_text();
    let edited = text.replacen(
        "request_id: { type: text, nullable: true,",
        "request_id: { type: text, nullable: true, index: true,",
        1,
    );
    assert_ne!(edited, text, "schema.yaml declares audit_logs.request_id");
    let files = migrations::committed().migrations;
    let planned = plan(
        &schema::repo_catalog(),
        &schema::load(&edited),
        &RenameHints::default(),
        &PlanOptions {
            name: Some("audit_request_index".to_string()),
            first_number: u32::try_from(files.len() + 1).expect("few migrations"),
            allow_destructive: false,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(planned.len(), 1, "{planned:#?}");
    let m = &planned[0];
    assert!(!m.transactional, "{}", m.up);
    assert!(
        m.up.contains(&format!(
            "CREATE INDEX IF NOT EXISTS {INDEX} ON ONLY audit_logs (request_id);"
        )),
        "{}",
        m.up
    );
    let next = MigrationFile {
        number: u32::try_from(files.len() + 1).expect("few migrations"),
        id: m.id.clone(),
        up: m.up.clone(),
        down: m.down.clone(),
    };
    (files, next)
}

/// The partitions of `audit_logs`, by name.
fn partitions(client: &mut Client) -> Vec<String> {
    client
        .query(
            "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
              WHERE h.inhparent = 'audit_logs'::regclass ORDER BY c.relname",
            &[],
        )
        .expect("the query runs")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Each partition's indexes on `request_id` alone: (partition, index, valid, attached to the
/// parent's index).
fn request_id_indexes(client: &mut Client) -> Vec<(String, String, bool, bool)> {
    client
        .query(
            "SELECT t.relname, i.relname, x.indisvalid,
                    EXISTS (SELECT 1 FROM pg_inherits h
                             WHERE h.inhrelid = i.oid AND h.inhparent = to_regclass($1))
               FROM pg_index x
               JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid
               JOIN pg_inherits p ON p.inhrelid = t.oid AND p.inhparent = 'audit_logs'::regclass
              WHERE pg_get_indexdef(i.oid) LIKE '%(request_id)'
              ORDER BY t.relname, i.relname",
            &[&INDEX],
        )
        .expect("the query runs")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

fn parent_index_valid(client: &mut Client) -> Option<bool> {
    client
        .query_opt(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
            &[&INDEX],
        )
        .expect("the query runs")
        .map(|r| r.get(0))
}

#[test]
fn an_index_on_the_partitioned_audit_log_is_built_per_partition_and_attached() {
    let (files, next) = with_new_index();
    let db = pg::cluster().create_database("partitioned_index");
    Runner::connect(&db.url(), files.clone())
        .expect("connect")
        .upgrade()
        .expect("the committed migrations");
    let mut client = db.connect();
    // Rows in every partition: the current month and the three ahead.
    client
        .batch_execute(
            "INSERT INTO audit_logs (\"timestamp\", event_type, request_id)
             SELECT date_trunc('month', now()) + (i % 4) * interval '1 month' + i * interval '1 second',
                    'data_access', 'req-' || i
               FROM generate_series(1, 4000) AS i",
        )
        .expect("audit rows");
    let parts = partitions(&mut client);
    assert_eq!(parts.len(), 4, "{parts:?}");

    // An earlier run that stopped after the first partition: the parent's index exists (invalid)
    // and the first partition's is built and attached.
    let first = &parts[0];
    client
        .batch_execute(&format!(
            "CREATE INDEX IF NOT EXISTS {INDEX} ON ONLY audit_logs (request_id);
             CREATE INDEX {first}_request_id_idx ON {first} (request_id);
             ALTER INDEX {INDEX} ATTACH PARTITION {first}_request_id_idx;"
        ))
        .expect("the interrupted run's work");
    assert_eq!(parent_index_valid(&mut client), Some(false));

    let mut all = files.clone();
    all.push(next);
    let mut runner = Runner::connect(&db.url(), all).expect("connect");
    let applied = runner.upgrade().expect("the index migration");
    assert_eq!(applied.len(), 1, "{applied:?}");

    assert_eq!(parent_index_valid(&mut client), Some(true));
    let expected: Vec<(String, String, bool, bool)> = parts
        .iter()
        .map(|p| (p.clone(), format!("{p}_request_id_idx"), true, true))
        .collect();
    assert_eq!(request_id_indexes(&mut client), expected);
    // The planner uses them.
    let plan: Vec<String> = client
        .query(
            "EXPLAIN (COSTS OFF) SELECT * FROM audit_logs WHERE request_id = 'req-7'",
            &[],
        )
        .expect("explain")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        plan.iter().any(|line| line.contains("request_id_idx")),
        "{plan:#?}"
    );

    // A partition made later gets its index from PostgreSQL.
    client
        .batch_execute(
            "CREATE TABLE audit_logs_later PARTITION OF audit_logs
               FOR VALUES FROM ('2090-01-01') TO ('2090-02-01')",
        )
        .expect("a later partition");
    let later: Vec<_> = request_id_indexes(&mut client)
        .into_iter()
        .filter(|(table, ..)| table == "audit_logs_later")
        .collect();
    assert_eq!(later.len(), 1, "{later:?}");
    assert!(later[0].2 && later[0].3, "{later:?}");

    runner.downgrade(1).expect("the down migration");
    assert_eq!(parent_index_valid(&mut client), None);
    assert_eq!(request_id_indexes(&mut client), Vec::new());
}
