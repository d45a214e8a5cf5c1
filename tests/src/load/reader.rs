//! The long-running reader that holds a transaction open.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use dental_schema::{Case, File, Job};
use postgres::{Client, NoTls};
use repo_runtime::{Actor, PageRequest, RepoError};
use uuid::Uuid;

use super::worker::describe;
use super::{Kind, Op, OpError, Reader, Record, keys};

/// One transaction of the long-running reader: it lists cases, files and jobs, then `hold`s the
/// transaction open before committing.
fn report_transaction(
    client: &mut Client,
    actor: Actor<'_>,
    started: Instant,
    record: &mut Record,
    hold: impl FnOnce(),
) -> Result<(), OpError> {
    let failed = |table: &'static str, start: Duration, latency: Duration, error: RepoError| {
        let (sqlstate, message) = describe(&error);
        OpError {
            kind: Kind::ReportRead,
            table,
            start,
            latency,
            sqlstate,
            message,
        }
    };
    let mut tx = client
        .transaction()
        .map_err(|e| failed("cases", started.elapsed(), Duration::ZERO, e.into()))?;
    for table in ["cases", "files", "jobs"] {
        let start = started.elapsed();
        let clock = Instant::now();
        let page = PageRequest::first(50);
        let outcome = match table {
            "cases" => Case::list(&mut tx, actor, &page).map(|_| ()),
            "files" => File::list(&mut tx, actor, &page).map(|_| ()),
            _ => Job::list(&mut tx, actor, &page).map(|_| ()),
        };
        let latency = clock.elapsed();
        outcome.map_err(|e| failed(table, start, latency, e))?;
        record.ops.push(Op {
            kind: Kind::ReportRead,
            table,
            start,
            latency,
        });
    }
    hold();
    let start = started.elapsed();
    tx.commit()
        .map_err(|e| failed("jobs", start, Duration::ZERO, e.into()))
}

/// The long-running reader: a transaction that lists cases, files and jobs, stays open for a
/// while, ends; a pause; again, until stopped.
pub(super) fn report(
    config: &postgres::Config,
    reader: &Reader,
    started: Instant,
    stop: &AtomicBool,
) -> Record {
    let mut record = Record::default();
    let (audit_key, data_key) = keys();
    let mut client = config.connect(NoTls).expect("load-report: connect");
    // It acts as a user of its own.
    let actor_id: Uuid = client
        .query_one(
            "INSERT INTO users (username, email) VALUES ('load-report', 'report@example.org')
             ON CONFLICT (username) DO UPDATE SET updated_at = now() RETURNING id",
            &[],
        )
        .expect("load-report: its user")
        .get(0);
    let actor = audit_key.actor(actor_id).with_data_key(data_key);
    let sleep_until_stopped = |how_long: Duration| {
        let until = Instant::now() + how_long;
        while !stop.load(Ordering::Relaxed) && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
    };
    let mut turn = 0u32;
    while !stop.load(Ordering::Relaxed) {
        if client.is_closed() {
            client = config.connect(NoTls).expect("load-report: reconnect");
        }
        let hold = if turn.is_multiple_of(2) {
            reader.hold.0
        } else {
            reader.hold.1
        };
        turn += 1;
        let result = report_transaction(&mut client, actor, started, &mut record, || {
            sleep_until_stopped(hold);
        });
        match result {
            Ok(()) => record.report_transactions += 1,
            Err(error) => record.errors.push(error),
        }
        sleep_until_stopped(reader.pause);
    }
    record
}
