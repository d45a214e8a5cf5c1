//! A mixed application workload through the audited repositories of `dental-schema`, to run
//! while something else happens to the database (the migration runner applying a schema change:
//! `tests/tests/under_load.rs`, `benches/under_load.rs`).
//!
//! [`Load::start`] opens [`Config::connections`] worker connections, each looping over inserts,
//! updates and reads on all seven tables (every write and every read of a PHI table also writes
//! its `audit_logs` row, in the same statement; `audit_logs` itself has no repository and is read
//! with plain SQL into [`dental_schema::AuditLog`]), plus one long-running reader that comes and
//! goes: it opens a transaction, lists `cases`, `files` and `jobs`, holds the transaction for a
//! while ([`Reader::hold`]), ends it, pauses, and starts over. Half the workers use prepared
//! statements ([`repo_runtime::Prepared`]), half a plain client; each reconnects now and then, as
//! a pool recycles its connections, so a change only a new connection sees is seen.
//!
//! [`Load::stop`] returns a [`Record`]: every operation's start and latency (attribute them to a
//! time window with [`Record::latencies`]), every error with its SQLSTATE, and every acknowledged
//! write; [`Record::verify`] then checks that each acknowledged write is in the database with its
//! last acknowledged value and its audit rows (zero lost writes).

mod reader;
mod record;
pub mod schedule;
mod worker;

use reader::report;
pub use record::{Latencies, Verification};
use worker::Worker;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use repo_runtime::{AuditKey, DataKey};
use uuid::Uuid;

/// The seven tables of the schema, as the record names them.
pub const TABLES: [&str; 7] = [
    "users",
    "cases",
    "files",
    "jobs",
    "segments",
    "models",
    "audit_logs",
];

/// How the workload runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker connections running the mixed workload.
    pub connections: usize,
    /// The long-running reader, if any.
    pub reader: Option<Reader>,
    /// A worker closes its connection and opens a new one after this long (a pool's maximum
    /// connection lifetime); `None` keeps each connection for the whole run.
    pub reconnect_after: Option<Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            connections: 4,
            reader: Some(Reader::default()),
            reconnect_after: Some(Duration::from_secs(2)),
        }
    }
}

/// The long-running reader: a report that holds its transaction open.
#[derive(Debug, Clone)]
pub struct Reader {
    /// How long each transaction stays open: from the first to the second, in turn.
    pub hold: (Duration, Duration),
    /// The pause between two transactions.
    pub pause: Duration,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader {
            hold: (Duration::from_millis(1000), Duration::from_millis(2000)),
            pause: Duration::from_millis(700),
        }
    }
}

/// What an operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Insert,
    Update,
    Get,
    List,
    /// A read of the long-running reader, inside its long transaction.
    ReportRead,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Insert => "insert",
            Kind::Update => "update",
            Kind::Get => "get",
            Kind::List => "list",
            Kind::ReportRead => "report read",
        })
    }
}

/// One operation that succeeded: when it started (since the load started) and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub kind: Kind,
    pub table: &'static str,
    pub start: Duration,
    pub latency: Duration,
}

impl Op {
    /// Whether the operation ran at some time between `from` and `to` (both since the start).
    pub fn overlaps(&self, from: Duration, to: Duration) -> bool {
        self.start <= to && self.start + self.latency >= from
    }
}

/// One operation that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    pub kind: Kind,
    pub table: &'static str,
    pub start: Duration,
    pub latency: Duration,
    /// The SQLSTATE, when the server sent one.
    pub sqlstate: Option<String>,
    pub message: String,
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} at {:.3}s (after {:?}): [{}] {}",
            self.kind,
            self.table,
            self.start.as_secs_f64(),
            self.latency,
            self.sqlstate.as_deref().unwrap_or("no SQLSTATE"),
            self.message
        )
    }
}

/// A row the workload wrote and the database acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    /// The last acknowledged version of its version field (`v0` at insert, `v1` after the
    /// first update, ...).
    pub version: u32,
    /// Acknowledged writes (insert and updates): each wrote one audit row.
    pub writes: u32,
}

/// Everything the workload did.
#[derive(Debug, Default)]
pub struct Record {
    pub ops: Vec<Op>,
    pub errors: Vec<OpError>,
    /// Every acknowledged write, by table and id.
    pub acked: BTreeMap<(&'static str, Uuid), Acked>,
    /// Transactions the long-running reader completed.
    pub report_transactions: usize,
    /// How long the load ran.
    pub duration: Duration,
}

/// The workload, running.
#[derive(Debug)]
pub struct Load {
    started: Instant,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Record>>,
}

/// The audit key and data key every actor of the workload carries.
fn keys() -> &'static (AuditKey, DataKey) {
    static KEYS: std::sync::LazyLock<(AuditKey, DataKey)> = std::sync::LazyLock::new(|| {
        (
            AuditKey::new(&[0x4b; 32]).expect("audit key"),
            DataKey::new(&[0x2d; 32]).expect("data key"),
        )
    });
    &KEYS
}

impl Load {
    /// Starts the workload on the database `conn_string` (a libpq `key=value` string) names,
    /// whose schema is the committed one (the seven tables). `actor` is a `users.id` that acts
    /// for the long-running reader.
    ///
    /// # Panics
    ///
    /// If a connection cannot be opened or the first rows of a worker cannot be written.
    pub fn start(conn_string: &str, config: &Config) -> Load {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let base: postgres::Config = conn_string.parse().expect("connection string");
        let mut threads = Vec::new();
        for n in 0..config.connections {
            let mut worker = Worker::new(n, base.clone(), config.reconnect_after, started);
            let stop = Arc::clone(&stop);
            threads.push(
                thread::Builder::new()
                    .name(format!("load-worker-{n}"))
                    .spawn(move || worker.run(&stop))
                    .expect("spawn worker"),
            );
        }
        if let Some(reader) = config.reader.clone() {
            let mut config = base;
            config.application_name("load-report");
            let stop = Arc::clone(&stop);
            threads.push(
                thread::Builder::new()
                    .name("load-report".to_owned())
                    .spawn(move || report(&config, &reader, started, &stop))
                    .expect("spawn reader"),
            );
        }
        Load {
            started,
            stop,
            threads,
        }
    }

    /// Time since the load started: the clock of [`Op::start`].
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops every connection and returns what they did.
    ///
    /// # Panics
    ///
    /// If a worker thread panicked.
    pub fn stop(self) -> Record {
        self.stop.store(true, Ordering::SeqCst);
        let mut record = Record::default();
        for thread in self.threads {
            let part = thread.join().expect("a load thread panicked");
            record.ops.extend(part.ops);
            record.errors.extend(part.errors);
            record.acked.extend(part.acked);
            record.report_transactions += part.report_transactions;
        }
        record.duration = self.started.elapsed();
        record.ops.sort_by_key(|op| op.start);
        record.errors.sort_by_key(|e| e.start);
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms = Duration::from_millis;
        let latencies = Latencies::of((1..=200).rev().map(ms).collect());
        assert_eq!(
            latencies,
            Latencies {
                count: 200,
                p50: ms(100),
                p99: ms(198),
                max: ms(200),
            }
        );
        assert_eq!(Latencies::of(vec![ms(7)]).p99, ms(7));
        assert_eq!(Latencies::of(Vec::new()), Latencies::default());
    }

    #[test]
    fn an_operation_overlaps_a_window_it_started_before_or_ended_after() {
        let s = Duration::from_secs;
        let op = Op {
            kind: Kind::Get,
            table: "cases",
            start: s(10),
            latency: s(2),
        };
        assert!(op.overlaps(s(11), s(20)));
        assert!(op.overlaps(s(5), s(10)));
        assert!(op.overlaps(s(12), s(13)));
        assert!(!op.overlaps(s(13), s(20)));
        assert!(!op.overlaps(s(0), s(9)));
    }
}
