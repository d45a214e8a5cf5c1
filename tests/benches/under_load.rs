//! The application's latency while the migration runner applies every evolution step, against
//! the same workload without migrations, in one run on one throwaway server.
//!
//! 1. **Baseline**: a database at the committed schema; the workload (`e2e::load`: N worker
//!    connections of inserts, updates and reads on the seven tables through the audited
//!    repositories, and a long-running report that comes and goes) runs for `--baseline-secs`.
//! 2. **Under migrations**: a fresh database at the same schema; the same workload while the
//!    runner (`migrate::runner::Runner`, default settings: lock timeout 250ms with retries)
//!    applies every migration of the `evolution` and `under_load` fixtures, one runner per
//!    migration, `--gap-ms` apart.
//!
//! Printed per migration: how long it took, the workload's operations that overlapped it, their
//! p50/p99/max latency as ratios to the baseline's over its whole run, and the errors among them;
//! then the same over all migrations together and over the whole run, with the lost writes of
//! each run (acknowledged writes missing afterwards, or missing their audit rows).
//!
//! Run: `cargo bench -p e2e --bench under_load` (`-- --connections N --baseline-secs S
//! --gap-ms G` to change it).

use std::time::Duration;

use e2e::load::schedule::Schedule;
use e2e::load::{Config, Latencies, Load, Record};
use e2e::pg;
use migrate::runner::Settings;

#[derive(Debug)]
struct Args {
    connections: usize,
    baseline: Duration,
    gap: Duration,
}

fn args() -> Args {
    let mut args = Args {
        connections: Config::default().connections,
        baseline: Duration::from_secs(20),
        gap: Duration::from_millis(200),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> u64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} takes a number"))
        };
        match arg.as_str() {
            "--connections" => {
                args.connections = usize::try_from(value("--connections")).expect("connections")
            }
            "--baseline-secs" => args.baseline = Duration::from_secs(value("--baseline-secs")),
            "--gap-ms" => args.gap = Duration::from_millis(value("--gap-ms")),
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            other => {
                panic!("unknown argument {other}; use --connections N --baseline-secs S --gap-ms G")
            }
        }
    }
    args
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn ratio(value: Duration, baseline: Duration) -> String {
    if baseline.is_zero() {
        return "-".to_owned();
    }
    format!("{:.2}x", value.as_secs_f64() / baseline.as_secs_f64())
}

fn row(label: &str, took: &str, l: &Latencies, base: &Latencies, errors: usize) {
    if l.count == 0 {
        println!(
            "{label:<58} {took:>8} {:>6} {:>7} {:>7} {:>7} {errors:>6}",
            0, "-", "-", "-"
        );
        return;
    }
    println!(
        "{label:<58} {took:>8} {:>6} {:>7} {:>7} {:>7} {errors:>6}",
        l.count,
        ratio(l.p50, base.p50),
        ratio(l.p99, base.p99),
        ratio(l.max, base.max),
    );
}

fn lost(record: &Record, db: &pg::TestDb) -> usize {
    let verification = record.verify(&mut db.connect()).expect("read back");
    assert_eq!(verification.rows, record.acked.len());
    verification.lost_writes()
}

fn main() {
    let args = args();
    let config = Config {
        connections: args.connections,
        ..Config::default()
    };
    let settings = Settings::default();
    let schedule = Schedule::new();
    let cluster = pg::cluster();

    eprintln!(
        "baseline: {} connections and a long report, {:?}, no migrations",
        args.connections, args.baseline
    );
    let db = cluster.create_database("bench_baseline");
    schedule.prepare(&db);
    let load = Load::start(&db.conn_string(), &config);
    std::thread::sleep(args.baseline);
    let baseline = load.stop();
    let baseline_lost = lost(&baseline, &db);
    drop(db);

    eprintln!(
        "under migrations: the same workload while the runner applies {} migrations",
        schedule.stages.len()
    );
    let db = cluster.create_database("bench_migrations");
    schedule.prepare(&db);
    let load = Load::start(&db.conn_string(), &config);
    std::thread::sleep(Duration::from_secs(1));
    let windows = schedule.apply(&db, &load, settings, args.gap);
    std::thread::sleep(Duration::from_secs(1));
    let record = load.stop();
    let record_lost = lost(&record, &db);

    let base = baseline.all_latencies();
    println!(
        "workload: {} worker connections (half with prepared statements, reconnecting every 2s) and one report holding a transaction on cases, files and jobs for 1-2s every ~2s; runner: lock timeout {:?}, default retries",
        args.connections, settings.lock_timeout
    );
    println!(
        "baseline (no migrations): {} operations in {:.1}s, p50 {} ms, p99 {} ms, max {} ms, {} errors, {} acknowledged writes, {} lost",
        base.count,
        baseline.duration.as_secs_f64(),
        ms(base.p50),
        ms(base.p99),
        ms(base.max),
        baseline.errors.len(),
        baseline.acked_writes(),
        baseline_lost
    );
    println!();
    println!(
        "{:<58} {:>8} {:>6} {:>7} {:>7} {:>7} {:>6}",
        "migration (ratios to the baseline)", "took ms", "ops", "p50", "p99", "max", "errors"
    );
    let mut during = Vec::new();
    for window in &windows {
        let stage = &schedule.stages[window.stage];
        let overlapping: Vec<Duration> = record
            .ops
            .iter()
            .filter(|op| op.overlaps(window.start, window.end))
            .map(|op| op.latency)
            .collect();
        during.extend(overlapping.iter().copied());
        let label = match &window.result {
            Ok(_) => stage.migration.id.clone(),
            Err(e) => format!("{} FAILED: {e}", stage.migration.id),
        };
        row(
            &label,
            &ms(window.end - window.start),
            &Latencies::of(overlapping),
            &base,
            record.errors_between(window.start, window.end),
        );
    }
    let took: Duration = windows.iter().map(|w| w.end - w.start).sum();
    let during_errors: usize = windows
        .iter()
        .map(|w| record.errors_between(w.start, w.end))
        .sum();
    println!();
    row(
        &format!("all {} migrations", windows.len()),
        &ms(took),
        &Latencies::of(during),
        &base,
        during_errors,
    );
    row(
        &format!("whole run ({:.1}s)", record.duration.as_secs_f64()),
        "",
        &record.all_latencies(),
        &base,
        record.errors.len(),
    );
    let applied = windows.iter().filter(|w| w.result.is_ok()).count();
    println!(
        "migrations applied: {applied} of {}; application errors: {}; acknowledged writes: {}; lost writes: {record_lost}",
        schedule.stages.len(),
        record.errors.len(),
        record.acked_writes()
    );
    for error in &record.errors {
        println!("  error: {error}");
    }
}
