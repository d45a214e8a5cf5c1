//! Incremental migrations and the runner on a real PostgreSQL: the evolution fixtures applied one
//! step at a time match a fresh install of the final schema, every down restores the previous
//! schema exactly, renames keep data, and the runner is safe under concurrency, failure and
//! tampering.

use std::collections::BTreeMap;
use std::path::Path;

use e2e::pg::{self, TestDb};
use migrate::history::MigrationFile;
use migrate::runner::Runner;
use postgres::Client;

/// The evolution fixtures, each planned from the replayed previous steps: `(step, migrations)`.
fn evolution() -> Vec<(String, Vec<MigrationFile>)> {
    let mut number = 0;
    e2e::fixtures::evolve("evolution")
        .into_iter()
        .map(|step| {
            let files = step
                .migrations
                .into_iter()
                .map(|m| {
                    number += 1;
                    MigrationFile {
                        number,
                        id: m.id,
                        up: m.up,
                        down: m.down,
                    }
                })
                .collect();
            (step.name, files)
        })
        .collect()
}

fn all_files(evolution: &[(String, Vec<MigrationFile>)]) -> Vec<MigrationFile> {
    evolution
        .iter()
        .flat_map(|(_, files)| files.clone())
        .collect()
}

fn runner(db: &TestDb, files: Vec<MigrationFile>) -> Runner {
    Runner::connect(&db.url(), files).unwrap_or_else(|e| panic!("{e}"))
}

/// The public schema as the server sees it, in a form two databases can be compared by:
/// columns by name (PostgreSQL appends added columns, so their order differs by history),
/// constraints and indexes by their definitions, enums with their labels in order.
fn schema_snapshot(client: &mut Client) -> BTreeMap<String, String> {
    let queries = [
        (
            "column",
            "SELECT c.relname || '.' || a.attname,
                    format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                    || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
                    || coalesce(' COMMENT ' || col_description(c.oid, a.attnum), '')
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
               LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
              WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped",
        ),
        (
            "constraint",
            "SELECT conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
        ),
        (
            "index",
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
        ),
        (
            "enum",
            "SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
               FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
              WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname",
        ),
        (
            "trigger",
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal",
        ),
        (
            "table",
            "SELECT relname, coalesce(obj_description(oid, 'pg_class'), '')
               FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
        ),
        (
            "function",
            "SELECT proname, pg_get_functiondef(oid) || ' ACL ' || coalesce(
                        (SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(coalesce(proacl, acldefault('f', proowner))) a), '')
               FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
        ),
        (
            "privileges",
            // Sorted (an ACL lists grants in the order they were made), and a NULL ACL read as the
            // default it stands for.
            "SELECT relname, coalesce(
                        (SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(coalesce(relacl, acldefault('r', relowner))) a), '')
               FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
        ),
    ];
    let mut out = BTreeMap::new();
    for (kind, query) in queries {
        for row in client.query(query, &[]).unwrap_or_else(|e| panic!("{e:?}")) {
            let (name, def): (String, String) = (row.get(0), row.get(1));
            out.insert(format!("{kind} {name}"), def);
        }
    }
    out
}

fn assert_same_schema(
    actual: &BTreeMap<String, String>,
    expected: &BTreeMap<String, String>,
    context: &str,
) {
    let mut problems = Vec::new();
    for (k, v) in expected {
        match actual.get(k) {
            None => problems.push(format!("missing {k}: {v}")),
            Some(a) if a != v => {
                problems.push(format!("differs {k}:\n    got      {a}\n    expected {v}"))
            }
            Some(_) => {}
        }
    }
    for (k, v) in actual {
        if !expected.contains_key(k) {
            problems.push(format!("unexpected {k}: {v}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{context}:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn incremental_path_equals_fresh_install_and_keeps_data() {
    let evolution = evolution();
    let db = pg::cluster().create_database("incremental");
    let mut client = db.connect();
    let mut applied = Vec::new();
    for (step, files) in &evolution {
        applied.extend(files.iter().cloned());
        let done = runner(&db, applied.clone())
            .upgrade()
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        assert_eq!(done.len(), files.len(), "{step}");
        // Data that later steps must carry through: a customer, an order with a note, an invoice.
        if step.starts_with("01") {
            client
                .batch_execute(
                    "INSERT INTO customers (id, email, name) VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.org', NULL);
                     INSERT INTO orders (id, customer_id, note) VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 'keep me');
                     INSERT INTO orders (id, customer_id) VALUES ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001');
                     INSERT INTO invoices (order_id, amount) VALUES ('00000000-0000-0000-0000-000000000002', 12.50);",
                )
                .expect("seed data");
        }
    }
    // The rename kept the rows and the values.
    let remark: String = client
        .query_one(
            "SELECT remark FROM orders WHERE id = '00000000-0000-0000-0000-000000000002'",
            &[],
        )
        .expect("renamed column")
        .get(0);
    assert_eq!(remark, "keep me");
    // NULL notes were backfilled with the default when the column became NOT NULL.
    let backfilled: String = client
        .query_one(
            "SELECT remark FROM orders WHERE id = '00000000-0000-0000-0000-000000000003'",
            &[],
        )
        .expect("backfilled")
        .get(0);
    assert_eq!(backfilled, "");
    let incremental = schema_snapshot(&mut client);

    // A fresh install of the final schema.
    let (name, text) = {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../codegen/tests/fixtures/evolution/11_compliance_changes.yaml");
        (
            "final".to_string(),
            std::fs::read_to_string(dir).expect("final fixture"),
        )
    };
    let (target, _) =
        model::load_schema_with_renames(&name, &text).unwrap_or_else(|e| panic!("{e}"));
    let fresh_migration = codegen::migration::initial(&target);
    let fresh_db = pg::cluster().create_database("fresh");
    let files = vec![MigrationFile {
        number: 1,
        id: fresh_migration.id,
        up: fresh_migration.up,
        down: fresh_migration.down,
    }];
    runner(&fresh_db, files).upgrade().expect("fresh install");
    let fresh = schema_snapshot(&mut fresh_db.connect());
    assert_same_schema(&incremental, &fresh, "incremental vs fresh install");
}

#[test]
fn every_down_restores_the_previous_schema() {
    let files = all_files(&evolution());
    let db = pg::cluster().create_database("downs");
    let mut client = db.connect();
    let mut snapshots = vec![schema_snapshot(&mut client)];
    for i in 1..=files.len() {
        runner(&db, files[..i].to_vec())
            .upgrade()
            .unwrap_or_else(|e| panic!("{}: {e}", files[i - 1].id));
        snapshots.push(schema_snapshot(&mut client));
    }
    let mut all = runner(&db, files.clone());
    for i in (0..files.len()).rev() {
        let reverted = all
            .downgrade(1)
            .unwrap_or_else(|e| panic!("down of {}: {e}", files[i].id));
        assert_eq!(reverted, [files[i].id.clone()]);
        assert_same_schema(
            &schema_snapshot(&mut client),
            &snapshots[i],
            &format!("after reverting {}", files[i].id),
        );
    }
    assert_eq!(all.current().expect("current"), None);
}

#[test]
fn replayed_catalog_matches_what_the_server_built() {
    // Replay the whole history in memory, render it as a fresh install, and compare that
    // install with the incrementally built database: the in-memory model is the server's.
    let files = all_files(&evolution());
    let db = pg::cluster().create_database("replay_vs_server");
    runner(&db, files.clone()).upgrade().expect("upgrade");
    let replayed = migrate::history::replay(&files).expect("replay");
    let from_model = codegen::migration::initial(&replayed);
    let model_db = pg::cluster().create_database("replay_model");
    runner(
        &model_db,
        vec![MigrationFile {
            number: 1,
            id: from_model.id,
            up: from_model.up,
            down: from_model.down,
        }],
    )
    .upgrade()
    .expect("install replayed model");
    assert_same_schema(
        &schema_snapshot(&mut db.connect()),
        &schema_snapshot(&mut model_db.connect()),
        "server vs replayed model",
    );
}

#[test]
fn concurrent_upgrades_apply_each_migration_once() {
    let files = all_files(&evolution());
    let db = pg::cluster().create_database("concurrent");
    let url = db.url();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let files = files.clone();
            let url = url.clone();
            std::thread::spawn(move || Runner::connect(&url, files).and_then(|mut r| r.upgrade()))
        })
        .collect();
    let results: Vec<Vec<String>> = handles
        .into_iter()
        .map(|h| h.join().expect("thread").expect("upgrade"))
        .collect();
    let total: usize = results.iter().map(Vec::len).sum();
    assert_eq!(
        total,
        files.len(),
        "each migration applied exactly once across runners: {results:?}"
    );
    let recorded: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM codegen.migrations", &[])
        .expect("count")
        .get(0);
    assert_eq!(recorded, i64::try_from(files.len()).expect("small"));
}

#[test]
fn a_failing_migration_leaves_the_previous_version() {
    let files = all_files(&evolution());
    let db = pg::cluster().create_database("failing");
    runner(&db, files[..2].to_vec())
        .upgrade()
        .expect("first two");
    let broken = MigrationFile {
        number: 3,
        id: "0003_broken".to_string(),
        up: "CREATE TABLE half_done (id int);\nALTER TABLE customers ADD COLUMN x int;\nSELECT 1 / 0;\n".to_string(),
        down: "DROP TABLE half_done;\n".to_string(),
    };
    let mut with_broken = files[..2].to_vec();
    with_broken.push(broken);
    let mut r = runner(&db, with_broken);
    let err = r.upgrade().expect_err("division by zero");
    assert!(
        err.contains("0003_broken.up.sql failed and was rolled back")
            && err.contains("division by zero"),
        "{err}"
    );
    assert_eq!(r.current().expect("current"), Some(files[1].id.clone()));
    let exists: bool = db
        .connect()
        .query_one("SELECT to_regclass('half_done') IS NOT NULL", &[])
        .expect("q")
        .get(0);
    assert!(
        !exists,
        "the failed migration's first statement must be rolled back"
    );
}

#[test]
fn a_tampered_applied_migration_is_refused() {
    let files = all_files(&evolution());
    let db = pg::cluster().create_database("tampered");
    runner(&db, files[..1].to_vec()).upgrade().expect("apply");
    let mut tampered = files[..2].to_vec();
    tampered[0].up.push_str("\n-- a harmless-looking edit\n");
    let err = runner(&db, tampered).upgrade().expect_err("refused");
    assert!(err.contains("was edited after being applied"), "{err}");
    assert_eq!(
        runner(&db, files).current().expect("current"),
        Some("0001_initial".to_string())
    );
}

#[test]
fn status_history_and_reset() {
    let files = all_files(&evolution());
    let db = pg::cluster().create_database("status");
    let mut r = runner(&db, files.clone());
    let status = r.status().expect("status");
    assert!(status.server_version.starts_with("15"));
    assert_eq!((status.current, status.pending), (None, files.len()));
    r.upgrade().expect("upgrade");
    let history = r.history().expect("history");
    assert!(
        history
            .iter()
            .all(|h| h.applied.as_ref().is_some_and(|a| a.checksum == h.checksum))
    );
    db.connect()
        .batch_execute("INSERT INTO customers (email) VALUES ('x@example.org')")
        .expect("row");
    let reapplied = r.reset().expect("reset");
    assert_eq!(reapplied.len(), files.len());
    let rows: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM customers", &[])
        .expect("count")
        .get(0);
    assert_eq!(rows, 0, "reset drops the data");
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let err = Runner::connect(
        "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2",
        Vec::new(),
    )
    .expect_err("down");
    assert!(
        err.contains("cannot connect to postgresql://nobody:***@127.0.0.1:1/none"),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "the password must not be printed: {err}"
    );
}
