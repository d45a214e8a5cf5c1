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

pub mod schedule;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use dental_schema::{
    AuditEventType, AuditLog, Case, CasePatch, CasePriority, ConsentStatus, File, FilePatch,
    FileType, Job, JobPatch, JobType, Model, ModelPatch, ModelType, NewCase, NewFile, NewJob,
    NewModel, NewSegment, NewUser, Segment, SegmentPatch, SegmentType, User, UserPatch,
};
use postgres::{Client, NoTls};
use repo_runtime::{Actor, AuditKey, DataKey, Executor, PageRequest, Prepared, RepoError};
use serde_json::json;
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

/// Latency figures of a set of operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latencies {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latencies {
    pub fn of(mut latencies: Vec<Duration>) -> Latencies {
        if latencies.is_empty() {
            return Latencies::default();
        }
        latencies.sort_unstable();
        let at = |q: f64| {
            let rank = (q * latencies.len() as f64).ceil() as usize;
            latencies[rank.clamp(1, latencies.len()) - 1]
        };
        Latencies {
            count: latencies.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: latencies[latencies.len() - 1],
        }
    }
}

/// What [`Record::verify`] found missing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Acknowledged rows checked.
    pub rows: usize,
    /// Acknowledged rows absent, or holding an older version than the last acknowledged one:
    /// `(table, id, expected version, found)`.
    pub lost: Vec<(&'static str, Uuid, String, Option<String>)>,
    /// Rows with fewer `insert`/`update` audit rows than acknowledged writes:
    /// `(table, id, acknowledged writes, audit rows)`.
    pub missing_audit: Vec<(&'static str, Uuid, u32, i64)>,
}

impl Verification {
    pub fn lost_writes(&self) -> usize {
        self.lost.len() + self.missing_audit.len()
    }
}

/// The SQL expression reading a table's version field as text.
fn version_expression(table: &str) -> &'static str {
    match table {
        "users" => "full_name",
        "cases" => "tags->>0",
        "files" => "processing_metadata->>'v'",
        "jobs" => "parameters->>'v'",
        "segments" => "properties->>'v'",
        "models" => "metrics->>'v'",
        other => panic!("no version field in {other}"),
    }
}

impl Record {
    /// Latencies of the operations that ran at some time between `from` and `to` (since the
    /// load started), the long reader's included.
    pub fn latencies(&self, from: Duration, to: Duration) -> Latencies {
        Latencies::of(
            self.ops
                .iter()
                .filter(|op| op.overlaps(from, to))
                .map(|op| op.latency)
                .collect(),
        )
    }

    /// Latencies of every operation.
    pub fn all_latencies(&self) -> Latencies {
        Latencies::of(self.ops.iter().map(|op| op.latency).collect())
    }

    /// Errors of operations that ran at some time between `from` and `to`.
    pub fn errors_between(&self, from: Duration, to: Duration) -> usize {
        self.errors
            .iter()
            .filter(|e| e.start <= to && e.start + e.latency >= from)
            .count()
    }

    /// Acknowledged writes (inserts and updates).
    pub fn acked_writes(&self) -> u64 {
        self.acked.values().map(|a| u64::from(a.writes)).sum()
    }

    /// Reads back every acknowledged row: present, with its last acknowledged version, and with
    /// at least one `insert`/`update` audit row per acknowledged write.
    pub fn verify(&self, client: &mut Client) -> Result<Verification, postgres::Error> {
        let mut verification = Verification::default();
        for table in TABLES.into_iter().filter(|t| *t != "audit_logs") {
            let ids: Vec<Uuid> = self
                .acked
                .keys()
                .filter(|(t, _)| *t == table)
                .map(|(_, id)| *id)
                .collect();
            let found: BTreeMap<Uuid, Option<String>> = client
                .query(
                    &format!(
                        "SELECT id, {} FROM {table} WHERE id = ANY($1)",
                        version_expression(table)
                    ),
                    &[&ids],
                )?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            let audited: BTreeMap<Uuid, i64> = client
                .query(
                    "SELECT resource_id, count(*) FROM audit_logs
                      WHERE resource_type = $1 AND resource_id = ANY($2)
                        AND action IN ('insert', 'update')
                      GROUP BY resource_id",
                    &[&table, &ids],
                )?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            for id in ids {
                let acked = &self.acked[&(table, id)];
                let expected = format!("v{}", acked.version);
                verification.rows += 1;
                match found.get(&id) {
                    Some(Some(value)) if *value == expected => {}
                    other => {
                        verification
                            .lost
                            .push((table, id, expected, other.cloned().flatten()))
                    }
                }
                let audit_rows = audited.get(&id).copied().unwrap_or(0);
                if audit_rows < i64::from(acked.writes) {
                    verification
                        .missing_audit
                        .push((table, id, acked.writes, audit_rows));
                }
            }
        }
        Ok(verification)
    }
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

/// What an operation's error was, with its SQLSTATE (errors carry no row data, so the whole
/// chain is safe to keep).
fn describe(error: &RepoError) -> (Option<String>, String) {
    let sqlstate = error.code().map(|c| c.code().to_owned());
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    (sqlstate, message)
}

/// A small deterministic random number generator (xorshift64*), one per worker.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())])
    }
}

/// A worker's connection: prepared statements or a plain client.
enum Conn {
    Plain(Client),
    Prepared(Prepared<Client>),
}

impl Conn {
    fn executor(&mut self) -> &mut dyn Executor {
        match self {
            Conn::Plain(client) => client,
            Conn::Prepared(prepared) => prepared,
        }
    }

    fn client(&mut self) -> &mut Client {
        match self {
            Conn::Plain(client) => client,
            Conn::Prepared(prepared) => prepared.client(),
        }
    }
}

/// The operations a worker chooses from, with their weights.
const MIX: [(Kind, &str, usize); 22] = [
    (Kind::Insert, "users", 1),
    (Kind::Update, "users", 2),
    (Kind::Get, "users", 2),
    (Kind::Insert, "cases", 6),
    (Kind::Update, "cases", 8),
    (Kind::Get, "cases", 10),
    (Kind::List, "cases", 3),
    (Kind::Insert, "files", 5),
    (Kind::Update, "files", 6),
    (Kind::Get, "files", 6),
    (Kind::Insert, "jobs", 5),
    (Kind::Update, "jobs", 6),
    (Kind::Get, "jobs", 4),
    (Kind::List, "jobs", 2),
    (Kind::Insert, "segments", 4),
    (Kind::Update, "segments", 4),
    (Kind::Get, "segments", 3),
    (Kind::Insert, "models", 2),
    (Kind::Update, "models", 2),
    (Kind::Get, "models", 2),
    (Kind::Get, "audit_logs", 4),
    (Kind::List, "audit_logs", 1),
];

/// One worker connection and the rows it wrote (it updates and reads only its own rows, so the
/// last acknowledged value of each is known).
struct Worker {
    n: usize,
    config: postgres::Config,
    reconnect_after: Option<Duration>,
    started: Instant,
    conn: Option<(Conn, Instant)>,
    rng: Rng,
    sequence: u64,
    users: Vec<Uuid>,
    cases: Vec<Uuid>,
    files: Vec<(Uuid, Uuid)>,
    jobs: Vec<(Uuid, Uuid)>,
    segments: Vec<Uuid>,
    models: Vec<Uuid>,
    record: Record,
}

/// The result of one operation: the id of the row it wrote, if it wrote one.
type Outcome = Result<Option<Uuid>, RepoError>;

impl Worker {
    fn new(
        n: usize,
        mut config: postgres::Config,
        reconnect_after: Option<Duration>,
        started: Instant,
    ) -> Worker {
        config.application_name(&format!("load-worker-{n}"));
        Worker {
            n,
            config,
            reconnect_after,
            started,
            conn: None,
            rng: Rng(0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9)),
            sequence: 0,
            users: Vec::new(),
            cases: Vec::new(),
            files: Vec::new(),
            jobs: Vec::new(),
            segments: Vec::new(),
            models: Vec::new(),
            record: Record::default(),
        }
    }

    fn connect(&self) -> Conn {
        let client = self
            .config
            .connect(NoTls)
            .unwrap_or_else(|e| panic!("load-worker-{}: cannot connect: {e}", self.n));
        if self.n.is_multiple_of(2) {
            Conn::Prepared(Prepared::new(client))
        } else {
            Conn::Plain(client)
        }
    }

    /// The connection, opened (again) when there is none, it broke, or it is due for recycling.
    fn conn(&mut self) -> &mut Conn {
        let expired = match &mut self.conn {
            None => true,
            Some((conn, opened)) => {
                conn.client().is_closed()
                    || self
                        .reconnect_after
                        .is_some_and(|after| opened.elapsed() >= after)
            }
        };
        if expired {
            self.conn = None;
            self.conn = Some((self.connect(), Instant::now()));
        }
        &mut self.conn.as_mut().expect("connected").0
    }

    fn next_name(&mut self, what: &str) -> String {
        self.sequence += 1;
        format!("{what}-{}-{}", self.n, self.sequence)
    }

    fn run(&mut self, stop: &AtomicBool) -> Record {
        // The worker's first user, who acts for it, is written directly (unaudited, as an
        // administrator would create the account); every later row goes through the repositories.
        let name = self.next_name("actor");
        let actor: Uuid = self
            .conn()
            .client()
            .query_one(
                "INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org') RETURNING id",
                &[&name],
            )
            .unwrap_or_else(|e| panic!("load-worker-{}: its user: {e}", self.n))
            .get(0);
        self.users.push(actor);
        // Every kind of row exists before the mix starts, so each operation has something to act on.
        for (kind, table) in [
            (Kind::Insert, "users"),
            (Kind::Insert, "cases"),
            (Kind::Insert, "files"),
            (Kind::Insert, "jobs"),
            (Kind::Insert, "segments"),
            (Kind::Insert, "models"),
        ] {
            self.timed(kind, table);
        }
        let total: usize = MIX.iter().map(|(_, _, w)| w).sum();
        while !stop.load(Ordering::Relaxed) {
            let mut draw = self.rng.below(total);
            let (kind, table) = MIX
                .iter()
                .find_map(|&(kind, table, weight)| {
                    if draw < weight {
                        Some((kind, table))
                    } else {
                        draw -= weight;
                        None
                    }
                })
                .unwrap_or((Kind::Get, "cases"));
            self.timed(kind, table);
        }
        std::mem::take(&mut self.record)
    }

    /// Runs one operation, recording its latency or its error, and the write it acknowledged.
    fn timed(&mut self, kind: Kind, table: &'static str) {
        // Connecting is not part of the operation.
        self.conn();
        let start = self.started.elapsed();
        let clock = Instant::now();
        let outcome = self.operation(kind, table);
        let latency = clock.elapsed();
        match outcome {
            Ok(written) => {
                self.record.ops.push(Op {
                    kind,
                    table,
                    start,
                    latency,
                });
                if let Some(id) = written {
                    let acked = self.record.acked.entry((table, id)).or_insert(Acked {
                        version: 0,
                        writes: 0,
                    });
                    if kind == Kind::Update {
                        acked.version += 1;
                    }
                    acked.writes += 1;
                }
            }
            Err(error) => {
                let (sqlstate, message) = describe(&error);
                self.record.errors.push(OpError {
                    kind,
                    table,
                    start,
                    latency,
                    sqlstate,
                    message,
                });
            }
        }
    }

    /// The next version of a row this worker owns.
    fn next_version(&self, table: &'static str, id: Uuid) -> String {
        format!(
            "v{}",
            self.record.acked.get(&(table, id)).map_or(0, |a| a.version) + 1
        )
    }

    fn operation(&mut self, kind: Kind, table: &'static str) -> Outcome {
        let (audit_key, data_key) = keys();
        let user = self.users[self.rng.below(self.users.len())];
        let actor = audit_key.actor(user).with_data_key(data_key);
        match (kind, table) {
            (Kind::Insert, "users") => self.insert_user(actor),
            (Kind::Insert, "cases") => self.insert_case(actor),
            (Kind::Insert, "files") => self.insert_file(actor),
            (Kind::Insert, "jobs") => self.insert_job(actor),
            (Kind::Insert, "segments") => self.insert_segment(actor),
            (Kind::Insert, "models") => self.insert_model(actor),
            (Kind::Update, _) => self.update(actor, table),
            (Kind::Get, "audit_logs") => self.read_audit(),
            (Kind::List, "audit_logs") => self.list_audit(),
            (Kind::Get, _) => self.get(actor, table),
            (Kind::List, _) => self.list(actor, table),
            _ => Ok(None),
        }
    }

    fn insert_user(&mut self, actor: Actor<'_>) -> Outcome {
        let name = self.next_name("user");
        let new = NewUser {
            id: None,
            username: name.clone(),
            email: format!("{name}@example.org"),
            full_name: Some("v0".to_owned()),
            password_hash: None,
            role: None,
            is_active: None,
            last_login: None,
        };
        let user = User::insert(self.conn().executor(), actor, &new)?;
        self.users.push(user.id);
        Ok(Some(user.id))
    }

    fn insert_case(&mut self, actor: Actor<'_>) -> Outcome {
        let number = self.next_name("case");
        let new = NewCase {
            id: None,
            case_number: number.clone(),
            patient_id: format!("patient-{number}"),
            title: Some(format!("scan of {number}")),
            notes: None,
            status: None,
            priority: None,
            created_by: actor.user_id(),
            assigned_to: None,
            due_at: None,
            tags: Some(json!(["v0"])),
            case_metadata: None,
            processing_consent: Some(ConsentStatus::Granted),
            consent_recorded_at: Some(chrono::Utc::now()),
        };
        let case = Case::insert(self.conn().executor(), actor, &new)?;
        self.cases.push(case.id);
        Ok(Some(case.id))
    }

    fn insert_file(&mut self, actor: Actor<'_>) -> Outcome {
        let Some(case_id) = self.rng.pick(&self.cases) else {
            return self.insert_case(actor);
        };
        let name = self.next_name("scan");
        let new = NewFile {
            id: None,
            case_id,
            uploaded_by: actor.user_id(),
            filename: format!("{name}.stl"),
            file_type: FileType::Stl,
            mime_type: "model/stl".to_owned(),
            size_bytes: 1024,
            checksum: format!("{:064x}", self.rng.next()),
            storage_uri: format!("s3://scans/{name}"),
            status: None,
            tags: None,
            file_metadata: None,
            processing_metadata: Some(json!({"v": "v0"})),
        };
        let file = File::insert(self.conn().executor(), actor, &new)?;
        self.files.push((file.id, case_id));
        Ok(Some(file.id))
    }

    fn insert_job(&mut self, actor: Actor<'_>) -> Outcome {
        let Some((file_id, case_id)) = self.rng.pick(&self.files) else {
            return self.insert_file(actor);
        };
        let new = NewJob {
            id: None,
            case_id,
            file_id: Some(file_id),
            created_by: actor.user_id(),
            job_type: JobType::Segmentation,
            status: None,
            priority: Some(i16::try_from(self.rng.below(10)).unwrap_or(0)),
            attempts: None,
            max_attempts: None,
            parameters: Some(json!({"v": "v0"})),
            result: None,
            error: None,
            scheduled_at: None,
            started_at: None,
            finished_at: None,
        };
        let job = Job::insert(self.conn().executor(), actor, &new)?;
        self.jobs.push((job.id, file_id));
        Ok(Some(job.id))
    }

    fn insert_segment(&mut self, actor: Actor<'_>) -> Outcome {
        let Some((job_id, file_id)) = self.rng.pick(&self.jobs) else {
            return self.insert_job(actor);
        };
        let case_id = self
            .files
            .iter()
            .find(|(file, _)| *file == file_id)
            .map(|(_, case)| *case)
            .expect("the job's file is this worker's");
        let new = NewSegment {
            id: None,
            case_id,
            file_id,
            created_by_job: Some(job_id),
            segment_type: SegmentType::Tooth,
            tooth_number: Some(11),
            label: None,
            confidence: Some(0.9),
            properties: Some(json!({"v": "v0"})),
            segment_metadata: None,
            bounding_box: None,
            mesh_data: None,
        };
        let segment = Segment::insert(self.conn().executor(), actor, &new)?;
        self.segments.push(segment.id);
        Ok(Some(segment.id))
    }

    fn insert_model(&mut self, actor: Actor<'_>) -> Outcome {
        let version = self.next_name("version");
        let new = NewModel {
            id: None,
            case_id: self.rng.pick(&self.cases),
            model_name: "segmenter".to_owned(),
            model_version: version.clone(),
            model_type: ModelType::Segmentation,
            description: None,
            framework: Some("onnx".to_owned()),
            artifact_uri: format!("s3://models/{version}"),
            is_active: None,
            metrics: Some(json!({"v": "v0"})),
            model_metadata: None,
        };
        let model = Model::insert(self.conn().executor(), actor, &new)?;
        self.models.push(model.id);
        Ok(Some(model.id))
    }

    fn update(&mut self, actor: Actor<'_>, table: &'static str) -> Outcome {
        let id = match table {
            "users" => self.rng.pick(&self.users),
            "cases" => self.rng.pick(&self.cases),
            "files" => self.rng.pick(&self.files).map(|(id, _)| id),
            "jobs" => self.rng.pick(&self.jobs).map(|(id, _)| id),
            "segments" => self.rng.pick(&self.segments),
            "models" => self.rng.pick(&self.models),
            other => panic!("no update of {other}"),
        };
        let Some(id) = id else {
            return Ok(None);
        };
        let version = self.next_version(table, id);
        let value = json!({"v": version});
        let priorities = [CasePriority::Low, CasePriority::Normal, CasePriority::High];
        let priority = self.rng.pick(&priorities);
        let client = self.conn().executor();
        match table {
            "users" => {
                let patch = UserPatch {
                    full_name: Some(Some(version)),
                    last_login: Some(Some(chrono::Utc::now())),
                    ..UserPatch::default()
                };
                User::update(client, actor, &id, &patch).map(|_| ())
            }
            "cases" => {
                let patch = CasePatch {
                    tags: Some(json!([version])),
                    priority,
                    notes: Some(Some("reviewed".to_owned())),
                    ..CasePatch::default()
                };
                Case::update(client, actor, &id, &patch).map(|_| ())
            }
            "files" => {
                let patch = FilePatch {
                    processing_metadata: Some(value),
                    ..FilePatch::default()
                };
                File::update(client, actor, &id, &patch).map(|_| ())
            }
            "jobs" => {
                let patch = JobPatch {
                    parameters: Some(value),
                    ..JobPatch::default()
                };
                Job::update(client, actor, &id, &patch).map(|_| ())
            }
            "segments" => {
                let patch = SegmentPatch {
                    properties: Some(value),
                    ..SegmentPatch::default()
                };
                Segment::update(client, actor, &id, &patch).map(|_| ())
            }
            _ => {
                let patch = ModelPatch {
                    metrics: Some(value),
                    ..ModelPatch::default()
                };
                Model::update(client, actor, &id, &patch).map(|_| ())
            }
        }?;
        Ok(Some(id))
    }

    /// Reads one of this worker's rows back; a row it wrote that is not there is an error.
    fn get(&mut self, actor: Actor<'_>, table: &'static str) -> Outcome {
        let id = match table {
            "users" => self.rng.pick(&self.users),
            "cases" => self.rng.pick(&self.cases),
            "files" => self.rng.pick(&self.files).map(|(id, _)| id),
            "jobs" => self.rng.pick(&self.jobs).map(|(id, _)| id),
            "segments" => self.rng.pick(&self.segments),
            "models" => self.rng.pick(&self.models),
            other => panic!("no get of {other}"),
        };
        let Some(id) = id else {
            return Ok(None);
        };
        let client = self.conn().executor();
        let found = match table {
            "users" => User::get(client, actor, &id)?.is_some(),
            "cases" => Case::get(client, actor, &id)?.is_some(),
            "files" => File::get(client, actor, &id)?.is_some(),
            "jobs" => Job::get(client, actor, &id)?.is_some(),
            "segments" => Segment::get(client, actor, &id)?.is_some(),
            _ => Model::get(client, actor, &id)?.is_some(),
        };
        if found {
            Ok(None)
        } else {
            Err(RepoError::NotFound { table, id })
        }
    }

    fn list(&mut self, actor: Actor<'_>, table: &'static str) -> Outcome {
        let client = self.conn().executor();
        match table {
            "cases" => {
                Case::list(client, actor, &PageRequest::first(20))?;
            }
            _ => {
                Job::list(client, actor, &PageRequest::first(20))?;
            }
        }
        Ok(None)
    }

    /// The audit rows of one of this worker's rows (`audit_logs` has no repository: it is read
    /// as an operator's audit screen would, into the generated `AuditLog`).
    fn read_audit(&mut self) -> Outcome {
        let Some(id) = self.rng.pick(&self.cases) else {
            return Ok(None);
        };
        let rows = audit_rows(
            self.conn().client(),
            "WHERE resource_id = $1 ORDER BY timestamp",
            &[&id],
        )?;
        if rows
            .iter()
            .any(|r| r.event_type == AuditEventType::DataCreate)
        {
            Ok(None)
        } else {
            Err(RepoError::NotFound {
                table: "audit_logs",
                id,
            })
        }
    }

    fn list_audit(&mut self) -> Outcome {
        let user = self.rng.pick(&self.users).unwrap_or_else(Uuid::nil);
        audit_rows(
            self.conn().client(),
            "WHERE user_id = $1 ORDER BY timestamp DESC LIMIT 20",
            &[&user],
        )?;
        Ok(None)
    }
}

/// Rows of `audit_logs` as the generated [`AuditLog`].
fn audit_rows(
    client: &mut Client,
    condition: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<AuditLog>, postgres::Error> {
    let rows = client.query(
        &format!(
            "SELECT id, timestamp, event_type, user_id, resource_type, resource_id, action, success,
                    ip_address, user_agent, changes, details, request_id
               FROM audit_logs {condition}"
        ),
        params,
    )?;
    rows.iter()
        .map(|r| {
            Ok(AuditLog {
                id: r.try_get(0)?,
                timestamp: r.try_get(1)?,
                event_type: r.try_get(2)?,
                user_id: r.try_get(3)?,
                resource_type: r.try_get(4)?,
                resource_id: r.try_get(5)?,
                action: r.try_get(6)?,
                success: r.try_get(7)?,
                ip_address: r.try_get(8)?,
                user_agent: r.try_get(9)?,
                changes: r.try_get(10)?,
                details: r.try_get(11)?,
                request_id: r.try_get(12)?,
            })
        })
        .collect()
}

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
fn report(
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
