//! `codegen db upgrade` on a database the application is using: the runner waits for a lock at
//! most its lock timeout, steps back and retries (naming who blocks it), so queries queued behind
//! it never wait for the blocker; it gives up after its retry budget with nothing half-applied;
//! bad timeouts are refused; `--dry-run` and `db status --format json` tell a deploy what would
//! happen and where the database is. Run against a throwaway PostgreSQL (`e2e::pg`).

mod common;

use std::time::{Duration, Instant};

use common::runner::{LatencyProbe, Project, blocker, column_exists, recorded};
use common::text;

const CREATE_CASES: (&str, &str) = (
    "CREATE TABLE cases (id integer PRIMARY KEY, status text NOT NULL);\nINSERT INTO cases SELECT g, 'open' FROM generate_series(1, 100) g;\n",
    "DROP TABLE cases;\n",
);
const ADD_NOTE: (&str, &str) = (
    "ALTER TABLE cases ADD COLUMN note text;\n",
    "ALTER TABLE cases DROP COLUMN note;\n",
);

#[test]
fn a_blocked_step_retries_names_the_blocker_and_never_stalls_the_application() {
    let project = Project::new("locks-retry", &[CREATE_CASES]);
    project.upgrade_ok(&[]);
    project.add(&[CREATE_CASES, ADD_NOTE]);

    // A long report holds a read lock on `cases` for three seconds.
    let mut report = blocker(&project.db, "long-report");
    report
        .batch_execute("BEGIN; SELECT count(*) FROM cases;")
        .expect("report starts");
    let report_pid: i32 = report
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    let probe = LatencyProbe::start(&project.db, "SELECT count(*) FROM cases");
    let runner = project.spawn(&["db", "upgrade", "--lock-timeout", "200ms"]);
    std::thread::sleep(Duration::from_secs(3));
    report.batch_execute("COMMIT").expect("report ends");
    let output = common::runner::wait(runner, Duration::from_secs(60));
    let latencies = probe.stop();

    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(
        all.contains("gave up waiting for a lock after 200ms"),
        "each retry is reported:\n{all}"
    );
    assert!(
        all.contains(&format!(
            "blocked by pid {report_pid} (application `long-report`"
        )) && all.contains("AccessExclusiveLock on cases"),
        "the blocker and the lock are named:\n{all}"
    );
    assert!(column_exists(&project.db, "cases", "note"), "{all}");
    assert_eq!(recorded(&project.db), ["0001_step", "0002_step"]);
    // Without a lock timeout every query on `cases` queues behind the runner until the report
    // ends (3 s). With it, a query waits at most about one lock timeout (200 ms) per attempt;
    // the bound leaves room for a slow machine, and stays far below the blocker's 3 s.
    assert!(
        latencies.count >= 10,
        "the application kept querying: {latencies:?}"
    );
    assert!(
        latencies.max < Duration::from_millis(1_500),
        "an application query waited {:?} behind the runner: {latencies:?}",
        latencies.max
    );
}

#[test]
fn a_blocker_that_never_ends_exhausts_the_budget_with_nothing_applied() {
    let project = Project::new("locks-budget", &[CREATE_CASES]);
    project.upgrade_ok(&[]);
    project.add(&[
        CREATE_CASES,
        (
            "ALTER TABLE cases ADD COLUMN note text;\nALTER TABLE cases ADD COLUMN summary text;\n",
            "ALTER TABLE cases DROP COLUMN summary;\nALTER TABLE cases DROP COLUMN note;\n",
        ),
    ]);
    let mut export = blocker(&project.db, "nightly-export");
    export
        .batch_execute("BEGIN; SELECT count(*) FROM cases;")
        .expect("export starts");
    let export_pid: i32 = export
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    let started = Instant::now();
    let output = project.run(&[
        "db",
        "upgrade",
        "--lock-timeout",
        "100ms",
        "--lock-retry-budget",
        "2s",
    ]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(started.elapsed() < Duration::from_secs(30), "{all}");
    assert!(
        all.contains("0002_step.up.sql could not take its locks")
            && all.contains(&format!("pid {export_pid} (application `nightly-export`"))
            && all.contains("Nothing of it is applied")
            && all.contains("pg_terminate_backend")
            && all.contains("--lock-retry-budget"),
        "the message names the blocker and what to do:\n{all}"
    );
    assert!(!column_exists(&project.db, "cases", "note"), "{all}");
    assert_eq!(recorded(&project.db), ["0001_step"]);
    export.batch_execute("COMMIT").expect("export ends");
    project.upgrade_ok(&[]);
    assert!(column_exists(&project.db, "cases", "summary"));
}

#[test]
fn bad_timeouts_are_refused_before_connecting() {
    let project = Project::new("locks-bad-flags", &[CREATE_CASES]);
    for (args, env, expected) in [
        (
            vec!["db", "upgrade", "--lock-timeout", "0"],
            None,
            "waits for locks forever",
        ),
        (
            vec!["db", "upgrade", "--lock-timeout", "soon"],
            None,
            "`soon` is not a duration",
        ),
        (
            vec!["db", "upgrade"],
            Some(("CODEGEN_LOCK_TIMEOUT", "0ms")),
            "waits for locks forever",
        ),
        (
            vec!["db", "upgrade", "--statement-timeout=-5s"],
            None,
            "is not a duration",
        ),
        (
            vec!["db", "upgrade", "--lock-retry-budget", "forever"],
            None,
            "`forever` is not a duration",
        ),
    ] {
        let output = project.run_with_env(&args, env);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains(expected), "{args:?} {env:?}: {all}");
    }
    assert!(recorded(&project.db).is_empty(), "nothing ran");
}

#[test]
fn a_migration_header_overrides_the_lock_timeout_and_a_bad_one_is_refused() {
    let project = Project::new("locks-header", &[CREATE_CASES]);
    project.upgrade_ok(&[]);
    project.add(&[
        CREATE_CASES,
        (
            "-- codegen:lock-timeout 0\nALTER TABLE cases ADD COLUMN note text;\n",
            "ALTER TABLE cases DROP COLUMN note;\n",
        ),
    ]);
    let output = project.run(&["db", "upgrade"]);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(
        all.contains("0002_step.up.sql: line 1: `-- codegen:lock-timeout 0`")
            && all.contains("waits for locks forever"),
        "{all}"
    );
    project.add(&[
        CREATE_CASES,
        (
            "-- codegen:lock-timeout 1s\nALTER TABLE cases ADD COLUMN note text;\n",
            "ALTER TABLE cases DROP COLUMN note;\n",
        ),
    ]);
    let mut report = blocker(&project.db, "report");
    report
        .batch_execute("BEGIN; SELECT count(*) FROM cases;")
        .expect("report starts");
    let runner = project.spawn(&["db", "upgrade", "--lock-timeout", "100ms"]);
    std::thread::sleep(Duration::from_millis(2_500));
    report.batch_execute("COMMIT").expect("report ends");
    let output = common::runner::wait(runner, Duration::from_secs(60));
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(
        all.contains("gave up waiting for a lock after 1s") && !all.contains("after 100ms"),
        "the header's 1s wins over the flag's 100ms:\n{all}"
    );
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let project = Project::new("locks-dry-run", &[CREATE_CASES]);
    project.upgrade_ok(&[]);
    project.add(&[
        CREATE_CASES,
        ADD_NOTE,
        (
            "-- codegen:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS cases_status_idx ON cases (status);\n",
            "-- codegen:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS cases_status_idx;\n",
        ),
    ]);
    let output = project.run(&["db", "upgrade", "--dry-run", "--lock-timeout", "300ms"]);
    let plan = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{}", text(&output));
    let expected_order = [
        "-- 0002_step.up.sql: one transaction",
        "BEGIN;",
        "SET LOCAL lock_timeout = '300ms'; SET LOCAL statement_timeout = '60000ms';",
        "-- line 1: locks ACCESS EXCLUSIVE on cases (blocks reads and writes), changes the catalog",
        "ALTER TABLE cases ADD COLUMN note text;",
        "COMMIT;",
        "-- 0003_step.up.sql: outside a transaction",
        "locks SHARE UPDATE EXCLUSIVE on cases (blocks neither reads nor writes), builds an index",
        "SET lock_timeout = '0'; SET statement_timeout = '0';",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_status_idx ON cases (status);",
    ];
    let mut from = 0;
    for line in expected_order {
        let at = plan[from..]
            .find(line)
            .unwrap_or_else(|| panic!("`{line}` missing or out of order in:\n{plan}"));
        from += at + line.len();
    }
    assert_eq!(
        recorded(&project.db),
        ["0001_step"],
        "a dry run applies nothing"
    );
    assert!(!column_exists(&project.db, "cases", "note"));

    let output = project.run(&["db", "downgrade", "--dry-run"]);
    let plan = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        plan.contains("-- 0001_step.down.sql: one transaction")
            && plan.contains("DROP TABLE cases;"),
        "{plan}"
    );
    assert_eq!(recorded(&project.db), ["0001_step"]);
}

#[test]
fn status_as_json_tells_a_deploy_where_the_database_is() {
    let project = Project::new("locks-status", &[CREATE_CASES]);
    project.upgrade_ok(&[]);
    project.add(&[CREATE_CASES, ADD_NOTE]);
    let output = project.run(&["db", "status", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("status is JSON");
    assert_eq!(status["current"], "0001_step");
    assert_eq!(status["checksums"], "ok");
    assert_eq!(status["applied"][0]["id"], "0001_step");
    assert_eq!(status["pending"][0]["id"], "0002_step");
    assert_eq!(
        status["pending"][0]["checksum"].as_str().map(str::len),
        Some(64)
    );
    assert_eq!(status["interrupted"], serde_json::json!([]));
    assert_eq!(status["invalid_indexes"], serde_json::json!([]));
    assert_eq!(status["problems"], serde_json::json!([]));
    assert!(
        status["server_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("15"))
    );

    let output = project.run(&["db", "check"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("pending migrations: 1"));
}

#[test]
fn an_unreachable_database_is_exit_2_naming_it() {
    let project = Project::new("locks-unreachable", &[CREATE_CASES]);
    let url = "postgresql://nobody:secret@127.0.0.1:1/nowhere?connect_timeout=2";
    for args in [
        vec!["db", "status", "--format", "json"],
        vec!["db", "upgrade", "--dry-run"],
        vec!["db", "check"],
    ] {
        let output = project.run_with_url(&args, url);
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {all}");
        assert!(
            all.contains("127.0.0.1") && !all.contains("secret"),
            "{all}"
        );
    }
}
