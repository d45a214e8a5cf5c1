//! Proof under load (issue 18, item 5): the runner applies every step of the `evolution` fixture
//! and of the `under_load` fixture (expand-only changes of the application's own seven tables)
//! while an application compiled for the committed schema works on the database from several
//! connections, and a long-running report comes and goes, holding locks the runner needs.
//!
//! Asserted: every migration applied; zero application errors; zero lost writes (every
//! acknowledged write is there with its last value and its audit rows); and no application
//! operation that overlapped a migration took longer than the lock timeout plus a second (the
//! runner gives up on a lock after its lock timeout, so a query queued behind it waits at most
//! that long; the second is room for a busy machine, since a timed assertion must not be flaky —
//! the measured figures are in `benches/under_load.rs`).

use std::time::Duration;

use e2e::load::schedule::Schedule;
use e2e::load::{Config, Kind, Load, TABLES};
use e2e::pg;
use migrate::runner::Settings;

#[test]
fn every_step_applies_under_load_with_no_error_no_lost_write_and_no_stall() {
    let schedule = Schedule::new();
    let db = pg::cluster().create_database("under_load");
    schedule.prepare(&db);
    let settings = Settings::default();

    let load = Load::start(&db.conn_string(), &Config::default());
    std::thread::sleep(Duration::from_millis(500));
    let windows = schedule.apply(&db, &load, settings, Duration::from_millis(100));
    std::thread::sleep(Duration::from_millis(500));
    let record = load.stop();

    // Every migration applied, each by its own runner.
    for window in &windows {
        let stage = &schedule.stages[window.stage];
        assert_eq!(
            window.result.as_ref(),
            Ok(&vec![stage.migration.id.clone()]),
            "{} ({} step {})",
            stage.migration.id,
            stage.fixture,
            stage.step
        );
    }
    assert_eq!(windows.len(), schedule.stages.len());
    let recorded: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM codegen.migrations", &[])
        .expect("history")
        .get(0);
    assert_eq!(
        usize::try_from(recorded).expect("count"),
        schedule.base.len() + schedule.stages.len()
    );
    for fixture in ["evolution", "under_load"] {
        assert!(
            schedule.stages.iter().any(|s| s.fixture == fixture),
            "{fixture} has steps"
        );
    }

    // The application kept working, on every table, and the report came and went.
    for table in TABLES {
        for kind in [Kind::Insert, Kind::Update, Kind::Get] {
            if table == "audit_logs" && kind != Kind::Get {
                continue;
            }
            assert!(
                record
                    .ops
                    .iter()
                    .any(|op| op.table == table && op.kind == kind),
                "no {kind} on {table} succeeded"
            );
        }
    }
    assert!(
        record.report_transactions >= 3,
        "{} report transactions",
        record.report_transactions
    );

    // Zero application errors.
    let errors: Vec<String> = record.errors.iter().map(ToString::to_string).collect();
    assert!(
        errors.is_empty(),
        "{} application errors:\n{}",
        errors.len(),
        errors.join("\n")
    );

    // Zero lost writes.
    let verification = record.verify(&mut db.connect()).expect("read back");
    assert_eq!(verification.rows, record.acked.len());
    assert!(
        verification.rows > 100,
        "{} rows written",
        verification.rows
    );
    assert_eq!(verification.lost_writes(), 0, "{verification:#?}");

    // No operation waited much longer than the lock timeout because of the runner.
    let bound = settings.lock_timeout + Duration::from_secs(1);
    for window in &windows {
        let stage = &schedule.stages[window.stage];
        let latencies = record.latencies(window.start, window.end);
        assert!(
            latencies.max <= bound,
            "while {} ran ({:?}), an application operation took {:?} (bound {bound:?}): {latencies:?}",
            stage.migration.id,
            window.end - window.start,
            latencies.max
        );
    }
}
