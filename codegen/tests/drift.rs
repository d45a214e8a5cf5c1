//! Drift detection on a real PostgreSQL 15: the database built by the committed migrations
//! introspects into the catalog that `schema.yaml` loads into and the migrations replay into,
//! and `codegen drift` names exactly one manual change made to it.

mod common;

use std::process::{Command, Output};

use common::text;
use e2e::pg::TestDb;
use e2e::schema::repo_root;
use migrate::history::{self, MigrationFile};
use model::Catalog;
use model::compare::{comparable, compare};

fn committed_migrations() -> Vec<MigrationFile> {
    e2e::migrations::committed().migrations
}

fn yaml_catalog() -> Catalog {
    e2e::schema::repo_catalog()
}

/// A fresh database migrated by the runner, as `codegen db upgrade` would: the runner's own
/// `codegen.migrations` table is there too, and drift must not see it.
fn migrated(hint: &str) -> TestDb {
    let db = e2e::pg::cluster().create_database(hint);
    let mut runner =
        migrate::runner::Runner::connect(&db.url(), committed_migrations()).expect("connect");
    let applied = runner.upgrade().expect("upgrade");
    assert!(!applied.is_empty());
    db
}

/// `codegen` run in the repository, without `DATABASE_URL`.
fn codegen(args: &[&str]) -> Output {
    common::codegen(repo_root(), args, None)
}

/// Everything but the check expressions and index predicates, which PostgreSQL prints in an
/// elaborated form (`(0)::double precision`, `'pending'::job_status`, BETWEEN expanded).
fn without_expressions(catalog: &Catalog) -> Catalog {
    let mut c = catalog.normalized();
    for t in &mut c.tables {
        t.checks.iter_mut().for_each(|k| k.expression.clear());
        for ix in &mut t.indexes {
            ix.predicate = ix.predicate.as_ref().map(|_| String::new());
        }
    }
    c
}

#[test]
fn the_migrated_database_introspects_into_the_yaml_and_replayed_catalogs() {
    let db = migrated("drift_introspect");
    let mut client = db.connect();
    let introspection =
        introspect::introspect_with_notes(&mut client, "public").expect("introspect");
    assert_eq!(introspection.notes, Vec::<String>::new());
    let live = introspection.catalog;
    let yaml = yaml_catalog();
    let replayed = history::replay(&committed_migrations()).expect("replay");
    assert_eq!(live.tables.len(), 8); // the seven of the seed, and encryption_keys

    // Table by table first, for a readable failure.
    let (live_c, yaml_c, replayed_c) =
        (comparable(&live), comparable(&yaml), comparable(&replayed));
    for (l, y) in live_c.tables.iter().zip(&yaml_c.tables) {
        assert_eq!(l, y, "table {}", y.name);
    }
    assert_eq!(live_c, yaml_c);
    assert_eq!(live_c, replayed_c);
    assert_eq!(compare(&yaml, &live), Vec::new());
    assert_eq!(compare(&replayed, &live), Vec::new());

    // Names, types, defaults, nullability, comments, flags, keys, indexes, triggers and functions
    // are equal as text; only check expressions and predicates need the comparable form.
    assert_eq!(without_expressions(&live), without_expressions(&yaml));
    assert_eq!(without_expressions(&live), without_expressions(&replayed));
    let jobs = live.table("jobs").expect("jobs");
    let queue = jobs
        .indexes
        .iter()
        .find(|i| i.name == "jobs_queue_idx")
        .expect("queue index");
    assert_eq!(
        queue.predicate.as_deref(),
        Some("status = 'pending'::job_status")
    );
    assert!(queue.keys[0].descending);
    assert_eq!(
        live.table("users")
            .and_then(|t| t.column("role"))
            .and_then(|c| c.default.as_deref()),
        Some("'operator'::user_role")
    );
}

#[test]
fn a_clean_database_has_no_drift() {
    let db = migrated("drift_clean");
    let output = codegen(&["drift", "--database-url", &db.url()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "schema.yaml vs migrations: no differences\n\
         migrations vs database: no differences\n\
         schema.yaml vs database: no differences\n\
         no drift: schema.yaml, migrations, database agree\n"
    );
    let without_database = codegen(&["drift"]);
    assert_eq!(
        without_database.status.code(),
        Some(0),
        "{}",
        text(&without_database)
    );
    assert!(
        text(&without_database).contains("schema.yaml vs migrations: no differences"),
        "{}",
        text(&without_database)
    );
}

/// Makes `change` on a fresh migrated database and checks that drift reports exactly one
/// difference, on the database side of both comparisons that involve it, with the expected
/// JSON; returns that difference.
fn drift_after(hint: &str, change: &str) -> serde_json::Value {
    let db = migrated(hint);
    db.connect().batch_execute(change).expect("manual change");
    let output = codegen(&["drift", "--database-url", &db.url(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&output)));
    assert_eq!(report["drift"], true);
    let comparisons = report["comparisons"].as_array().expect("comparisons");
    let pairs: Vec<(&str, &str)> = comparisons
        .iter()
        .map(|c| (c["a"].as_str().unwrap_or(""), c["b"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        pairs,
        [
            ("schema.yaml", "migrations"),
            ("migrations", "database"),
            ("schema.yaml", "database"),
        ]
    );
    assert_eq!(comparisons[0]["differences"], serde_json::json!([]));
    let from_migrations = comparisons[1]["differences"].as_array().expect("list");
    let from_yaml = comparisons[2]["differences"].as_array().expect("list");
    assert_eq!(from_migrations.len(), 1, "{report:#}");
    assert_eq!(from_migrations, from_yaml);

    // The text report names the same change and exits 1 too.
    let plain = codegen(&["drift", "--database-url", &db.url()]);
    assert_eq!(plain.status.code(), Some(1), "{}", text(&plain));
    let name = from_migrations[0]["name"].as_str().unwrap_or_default();
    let lines: Vec<String> = String::from_utf8_lossy(&plain.stdout)
        .lines()
        .filter(|l| l.starts_with("  - "))
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&plain));
    assert!(lines.iter().all(|l| l.contains(name)), "{}", text(&plain));
    from_migrations[0].clone()
}

#[test]
fn an_added_index_is_named() {
    let difference = drift_after(
        "drift_index",
        "CREATE INDEX cases_title_idx ON cases (title)",
    );
    assert_eq!(
        difference,
        serde_json::json!({
            "object": "index",
            "name": "cases.cases_title_idx",
            "change": "only_in_b",
            "property": null,
            "a": null,
            "b": "btree (title)",
        })
    );
}

#[test]
fn a_changed_default_is_named() {
    let difference = drift_after(
        "drift_default",
        "ALTER TABLE jobs ALTER COLUMN priority SET DEFAULT 5",
    );
    assert_eq!(
        difference,
        serde_json::json!({
            "object": "column",
            "name": "jobs.priority",
            "change": "differs",
            "property": "default",
            "a": "0",
            "b": "5",
        })
    );
}

#[test]
fn an_added_enum_value_is_named() {
    let difference = drift_after("drift_enum", "ALTER TYPE job_status ADD VALUE 'paused'");
    assert_eq!(
        difference,
        serde_json::json!({
            "object": "enum",
            "name": "job_status",
            "change": "differs",
            "property": "values",
            "a": "pending, processing, completed, failed, cancelled",
            "b": "pending, processing, completed, failed, cancelled, paused",
        })
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let db = migrated("drift_json");
    let output = codegen(&["drift", "--database-url", &db.url(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&report), ["comparisons", "drift", "states"]);
    assert_eq!(report["drift"], false);
    let states = report["states"].as_array().expect("states");
    let names: Vec<&str> = states.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["schema.yaml", "migrations", "database"]);
    for state in states {
        assert_eq!(keys(state), ["name", "source"]);
    }
    // The password-free URL names the database; the runner's table is not reported.
    assert!(
        states[2]["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("schema `public` of postgresql://")),
        "{report:#}"
    );
    for comparison in report["comparisons"].as_array().expect("comparisons") {
        assert_eq!(keys(comparison), ["a", "b", "differences"]);
        assert_eq!(comparison["differences"], serde_json::json!([]));
    }

    // A difference has exactly these keys (checked on a real one).
    db.connect()
        .batch_execute("COMMENT ON COLUMN users.email IS 'Contact address.'")
        .expect("comment");
    let output = codegen(&["drift", "--database-url", &db.url(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let differences = report["comparisons"][1]["differences"]
        .as_array()
        .expect("list");
    // The comment lost its `[pii]` tag: the text and the flag are both reported.
    let described: Vec<(String, String)> = differences
        .iter()
        .map(|d| {
            assert_eq!(keys(d), ["a", "b", "change", "name", "object", "property"]);
            (
                d["name"].as_str().unwrap_or_default().to_string(),
                d["property"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            ("users.email".to_string(), "comment".to_string()),
            ("users.email".to_string(), "pii".to_string()),
        ]
    );
}

#[test]
fn schema_yaml_changes_not_yet_generated_are_drift() {
    let dir = std::env::temp_dir().join(format!("codegen-drift-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let schema = dir.join("schema.yaml");
    std::fs::write(
        &schema,
        "tables:\n  notes:\n    columns:\n      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n      body: text\n",
    )
    .expect("schema");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_codegen"))
            .current_dir(&dir)
            .args(args)
            .env_remove("DATABASE_URL")
            .output()
            .expect("run codegen")
    };
    assert!(run(&[]).status.success());
    assert_eq!(run(&["drift"]).status.code(), Some(0));
    let edited = std::fs::read_to_string(&schema).expect("read")
        + "      title: { type: text, nullable: true }\n";
    std::fs::write(&schema, edited).expect("edit");
    let drift = run(&["drift"]);
    assert_eq!(drift.status.code(), Some(1), "{}", text(&drift));
    assert_eq!(
        String::from_utf8_lossy(&drift.stdout),
        "schema.yaml vs migrations: 1 difference\n  - column notes.title: only in schema.yaml (text)\n\
         drift: schema.yaml, migrations disagree\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreachable_database_is_an_error_naming_it_without_the_password() {
    let output = codegen(&[
        "drift",
        "--database-url",
        "postgresql://u:secret@127.0.0.1:1/x?connect_timeout=2",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let message = text(&output);
    assert!(
        message.contains("cannot connect to postgresql://u:***@127.0.0.1:1/x"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
    let missing_schema = codegen(&[
        "drift",
        "--database-url",
        &migrated("drift_no_schema").url(),
        "--db-schema",
        "nope",
    ]);
    assert_eq!(missing_schema.status.code(), Some(2));
    assert!(
        text(&missing_schema).contains("the database has no schema named `nope`"),
        "{}",
        text(&missing_schema)
    );
}
