//! Audited insert throughput against the two ways of doing without the repository, on the same
//! throwaway server in the same run:
//!
//! - **audited**: `Case::insert`, the row and its `audit_logs` row in one statement, on a plain
//!   `Client` (the statement parsed and planned on every call, like `query_typed`) and on a
//!   `repo_runtime::Prepared` connection (prepared once, like a prepared statement);
//! - **raw**: one `INSERT ... RETURNING` of the same row, no audit (what auditing costs);
//! - **naive**: `BEGIN; INSERT; INSERT INTO audit_logs; COMMIT`, the obvious correct way
//!   (what one statement saves). Its audit row takes the column's default id, a random UUID, as
//!   a hand-written one would; the repository draws a time-ordered one (`audit_row_id`).
//!
//! Raw and naive are measured three ways: with `query_typed` (one round trip per statement and no
//! prepared statement, the mechanism the repository uses), with statements prepared once and
//! reused (the best case for them), and with `execute(&str)` (prepare and execute per call: two
//! round trips, what the `postgres` crate does by default). The audit row alone is measured too,
//! to show what it costs the server.
//!
//! Variants run interleaved in many short rounds (each variant `--rows` inserts per round), in a
//! new shuffled order every round, so that drift (autovacuum, table growth, a noisy neighbour on
//! the host) hits all alike and no variant always follows the same one (a variant ran faster
//! after a similar one). Rates are the median round of each variant; a ratio is the median of
//! the per-round ratios (each between two variants measured moments apart), printed with the
//! interquartile range of those ratios.
//!
//! Everything runs first over two paths to the same server: its Unix socket (round trip of tens of
//! microseconds, so server CPU dominates: the worst case for the audited statement, which does
//! two inserts' work in one round trip) and a TCP proxy in this process that holds each message
//! for `--delay-us` (default 100) before passing it on (thread sleeps overshoot: the measured
//! round trip is printed), a network round trip of about half a
//! millisecond as between an application server and its database in one data centre (where
//! round trips dominate, and one statement instead of four pays off).
//!
//! Last, the socket again on a durable server (fsync, synchronous_commit and full_page_writes
//! on, as PostgreSQL ships; the tests run without them): every commit then waits for its WAL
//! flush, a cost the audited statement, the raw INSERT and the naive transaction each pay once.
//!
//! Each path also prints a ceiling: the ratio to the naive (prepared) transaction that an
//! audited insert costing no more than the raw INSERT would reach, since the naive transaction
//! costs the audited insert plus three round trips. Where it is below 2x (a durable server,
//! whose commits wait for a WAL flush that costs more than those round trips), no one-statement
//! audited insert can reach 2x.
//!
//! Run: `cargo bench -p e2e --bench audited_insert` (`-- --rows N --lan-rows N --rounds R
//! --delay-us D` to change the size).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dental_schema::{Case, NewCase};
use e2e::bench::arg;
use e2e::pg;
use postgres::Client;
use postgres::types::{ToSql, Type};
use repo_runtime::{Actor, AuditKey, DataKey, Prepared};
use uuid::Uuid;

const INSERT_CASE: &str = "INSERT INTO cases (case_number, patient_id, created_by) VALUES ($1, $2, $3) \
     RETURNING id, case_number, patient_id, title, notes, status, priority, created_by, assigned_to, \
     due_at, tags, case_metadata, processing_consent, consent_recorded_at, created_at, updated_at, deleted_at";
const INSERT_AUDIT: &str = "INSERT INTO audit_logs (event_type, user_id, resource_type, resource_id, action) \
     VALUES ('data_create', $1, 'cases', $2, 'insert')";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Audited,
    AuditedPrepared,
    RawTyped,
    RawPrepared,
    RawText,
    NaiveTyped,
    NaivePrepared,
    NaiveText,
    AuditRowOnly,
}

impl Variant {
    const ALL: [Variant; 9] = [
        Variant::Audited,
        Variant::AuditedPrepared,
        Variant::RawTyped,
        Variant::RawPrepared,
        Variant::RawText,
        Variant::NaiveTyped,
        Variant::NaivePrepared,
        Variant::NaiveText,
        Variant::AuditRowOnly,
    ];

    fn label(self) -> &'static str {
        match self {
            Variant::Audited => "audited (Case::insert, one statement)",
            Variant::AuditedPrepared => "audited (Case::insert on a Prepared connection)",
            Variant::RawTyped => "raw INSERT (query_typed)",
            Variant::RawPrepared => "raw INSERT (prepared)",
            Variant::RawText => "raw INSERT (execute(&str): prepare + execute)",
            Variant::NaiveTyped => "BEGIN; INSERT; INSERT audit; COMMIT (query_typed)",
            Variant::NaivePrepared => "BEGIN; INSERT; INSERT audit; COMMIT (prepared)",
            Variant::NaiveText => "BEGIN; INSERT; INSERT audit; COMMIT (execute(&str))",
            Variant::AuditRowOnly => "audit_logs INSERT alone (prepared), for context",
        }
    }
}

struct Bench<'k> {
    db: Prepared<Client>,
    actor: Actor<'k>,
    insert_case: postgres::Statement,
    insert_audit: postgres::Statement,
    seq: u64,
}

impl Bench<'_> {
    fn insert(&mut self, variant: Variant) -> Result<(), Box<dyn std::error::Error>> {
        self.seq += 1;
        let case_number = format!("BENCH-{}", self.seq);
        let patient_id = format!("P-{}", self.seq);
        let actor_id = self.actor.user_id();
        match variant {
            Variant::Audited | Variant::AuditedPrepared => {
                let new = NewCase {
                    patient_id,
                    ..e2e::repos::new_case(actor_id, &case_number)
                };
                if variant == Variant::Audited {
                    Case::insert(self.db.client(), self.actor, &new)?;
                } else {
                    Case::insert(&mut self.db, self.actor, &new)?;
                }
            }
            Variant::RawTyped => {
                let params: [(&(dyn ToSql + Sync), Type); 3] = [
                    (&case_number, Type::TEXT),
                    (&patient_id, Type::TEXT),
                    (&actor_id, Type::UUID),
                ];
                self.db.client().query_typed(INSERT_CASE, &params)?;
            }
            Variant::RawPrepared => {
                self.db
                    .client()
                    .query(&self.insert_case, &[&case_number, &patient_id, &actor_id])?;
            }
            Variant::RawText => {
                self.db
                    .client()
                    .query(INSERT_CASE, &[&case_number, &patient_id, &actor_id])?;
            }
            Variant::NaiveText => {
                let mut tx = self.db.client().transaction()?;
                let row = tx.query(INSERT_CASE, &[&case_number, &patient_id, &actor_id])?;
                let id: Uuid = row.first().ok_or("no row")?.try_get(0)?;
                tx.execute(INSERT_AUDIT, &[&actor_id, &id])?;
                tx.commit()?;
            }
            Variant::AuditRowOnly => {
                let id = Uuid::from_u128(u128::from(self.seq));
                self.db
                    .client()
                    .execute(&self.insert_audit, &[&actor_id, &id])?;
            }
            Variant::NaiveTyped => {
                let mut tx = self.db.client().transaction()?;
                let params: [(&(dyn ToSql + Sync), Type); 3] = [
                    (&case_number, Type::TEXT),
                    (&patient_id, Type::TEXT),
                    (&actor_id, Type::UUID),
                ];
                let row = tx.query_typed(INSERT_CASE, &params)?;
                let id: Uuid = row.first().ok_or("no row")?.try_get(0)?;
                tx.query_typed(INSERT_AUDIT, &[(&actor_id, Type::UUID), (&id, Type::UUID)])?;
                tx.commit()?;
            }
            Variant::NaivePrepared => {
                let (insert_case, insert_audit) =
                    (self.insert_case.clone(), self.insert_audit.clone());
                let mut tx = self.db.client().transaction()?;
                let row = tx.query(&insert_case, &[&case_number, &patient_id, &actor_id])?;
                let id: Uuid = row.first().ok_or("no row")?.try_get(0)?;
                tx.execute(&insert_audit, &[&actor_id, &id])?;
                tx.commit()?;
            }
        }
        Ok(())
    }
}

fn median(xs: Vec<f64>) -> f64 {
    quartiles(xs).1
}

/// The lower quartile, median and upper quartile of `xs` (not empty).
fn quartiles(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    let at = |q: usize| xs[(xs.len() - 1) * q / 4];
    (at(1), at(2), at(3))
}

/// Round `round`'s order of the variants: a Fisher-Yates shuffle driven by a fixed-seed LCG, so
/// that every run measures the same sequence of orders.
fn shuffled(round: usize) -> Vec<usize> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ round as u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let mut order: Vec<usize> = (0..Variant::ALL.len()).collect();
    for k in (1..order.len()).rev() {
        order.swap(k, next() % (k + 1));
    }
    order
}

/// Copies `from` to `to`, holding each chunk for `delay` first: one direction of a slower link.
fn relay(mut from: impl Read, mut to: impl Write, delay: Duration) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        std::thread::sleep(delay);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

/// A TCP port that forwards to the server's Unix socket with `delay` added in each direction.
fn delayed_proxy(socket: PathBuf, delay: Duration) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = UnixStream::connect(&socket) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let (Ok(client_read), Ok(server_read)) = (client.try_clone(), server.try_clone())
            else {
                continue;
            };
            std::thread::spawn(move || relay(client_read, server, delay));
            std::thread::spawn(move || relay(server_read, client, delay));
        }
    });
    Ok(port)
}

/// The median time of a `SELECT 1` round trip.
fn round_trip(client: &mut Client) -> Result<Duration, postgres::Error> {
    let mut times = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        client.query_one("SELECT 1", &[])?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(Duration::from_secs_f64(median(times)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = arg("--rows", 50);
    let lan_rows = arg("--lan-rows", 20);
    let rounds = arg("--rounds", 100).max(1);
    let delay = Duration::from_micros(arg("--delay-us", 100) as u64);
    let db = pg::cluster().create_database("bench_audited_insert");
    let mut client = db.connect();
    e2e::migrations::apply_all(&mut client);
    let actor_id: Uuid = e2e::repos::insert_user(&mut client, "bench");
    let key = AuditKey::new(&[0x42; 32])?;
    // `cases` has encrypted columns: the repository needs the data key even when they are NULL.
    let data_key = DataKey::new(&[0x24; 32])?;
    let socket = pg::cluster()
        .socket_dir()
        .join(format!(".s.PGSQL.{}", pg::cluster().port()));
    let proxy_port = delayed_proxy(socket, delay)?;
    let proxied = Client::connect(
        &format!(
            "host=127.0.0.1 port={proxy_port} user=postgres dbname={}",
            db.name()
        ),
        postgres::NoTls,
    )?;
    let mut seq = 0;
    for (path, client, rows) in [
        ("Unix socket", client, rows),
        ("TCP with emulated network latency", proxied, lan_rows),
    ] {
        let actor = key.actor(actor_id).with_data_key(&data_key);
        let bench = run_path(path, client, actor, rows, rounds, seq)?;
        seq = bench.seq;
    }

    // The same socket with PostgreSQL's default durability: every commit waits for its WAL
    // flush, which the audited statement and the raw INSERT pay once and the naive
    // transaction once too (but behind three more round trips).
    make_durable(&mut pg::cluster().connect_admin())?;
    let mut durable = db.connect();
    let mut settings = Vec::new();
    for name in DURABILITY {
        let value: String = durable
            .query_one(&format!("SHOW {name}"), &[])?
            .try_get(0)?;
        settings.push(format!("{name}={value}"));
    }
    let actor = key.actor(actor_id).with_data_key(&data_key);
    run_path(
        &format!("Unix socket, durable server ({})", settings.join(", ")),
        durable,
        actor,
        rows,
        rounds,
        seq,
    )?;
    Ok(())
}

/// The settings the throwaway server turns off for test speed and PostgreSQL ships on.
const DURABILITY: [&str; 3] = ["fsync", "synchronous_commit", "full_page_writes"];

/// Turns [`DURABILITY`] back on in the bench's throwaway server; all three take effect on
/// reload, for new and existing sessions alike.
fn make_durable(admin: &mut Client) -> Result<(), Box<dyn std::error::Error>> {
    // One statement per call: ALTER SYSTEM refuses to run in the implicit transaction of a
    // multi-statement query.
    for name in DURABILITY {
        admin.batch_execute(&format!("ALTER SYSTEM SET {name} = on"))?;
    }
    admin.batch_execute("SELECT pg_reload_conf()")?;
    // The reload is asynchronous: wait until the server has applied it.
    for _ in 0..100 {
        let fsync: String = admin.query_one("SHOW fsync", &[])?.try_get(0)?;
        if fsync == "on" {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("the server did not turn fsync on within 2 s of pg_reload_conf()".into())
}

/// Measures every variant over one connection and prints the rates and ratios.
fn run_path<'k>(
    path: &str,
    mut client: Client,
    actor: Actor<'k>,
    rows: usize,
    rounds: usize,
    seq: u64,
) -> Result<Bench<'k>, Box<dyn std::error::Error>> {
    let rtt = round_trip(&mut client)?;
    let insert_case = client.prepare(INSERT_CASE)?;
    let insert_audit = client.prepare(INSERT_AUDIT)?;
    let mut bench = Bench {
        db: Prepared::new(client),
        actor,
        insert_case,
        insert_audit,
        seq,
    };

    // Warm-up: caches, the enum type lookups, the generic plans of the prepared statements.
    for variant in Variant::ALL {
        for _ in 0..rows.min(200) {
            bench.insert(variant)?;
        }
    }

    // per_second[round][variant]
    let mut per_second: Vec<Vec<f64>> = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut this_round = vec![0.0; Variant::ALL.len()];
        for i in shuffled(round) {
            let start = Instant::now();
            for _ in 0..rows {
                bench.insert(Variant::ALL[i])?;
            }
            let elapsed = start.elapsed().max(Duration::from_nanos(1));
            this_round[i] = rows as f64 / elapsed.as_secs_f64();
        }
        per_second.push(this_round);
    }
    let column = |i: usize| per_second.iter().map(|r| r[i]).collect::<Vec<f64>>();
    // Median and interquartile range of variant `a`'s rate over `b`'s, round by round.
    let ratio = |a: usize, b: usize| quartiles(per_second.iter().map(|r| r[a] / r[b]).collect());

    println!(
        "{path} (SELECT 1 round trip {} us): audited insert throughput, {rounds} rounds x {rows} rows per variant (median round):",
        rtt.as_micros()
    );
    for (i, variant) in Variant::ALL.iter().enumerate() {
        println!(
            "  {:<55} {:>9.0} rows/s",
            variant.label(),
            median(column(i))
        );
    }
    println!(
        "ratios (audited / other), median of the rounds' ratios [interquartile range]:\n  {:<55} {:>19} {:>19}",
        "", "plain Client", "Prepared"
    );
    let shown = |(q1, m, q3): (f64, f64, f64)| format!("{m:.2}x [{q1:.2}-{q3:.2}]");
    for (i, variant) in Variant::ALL.iter().enumerate().skip(2).take(6) {
        println!(
            "  vs {:<52} {:>19} {:>19}",
            variant.label(),
            shown(ratio(0, i)),
            shown(ratio(1, i))
        );
    }
    // How far any one-statement audited insert could go against the naive transaction here: the
    // naive one costs the audited one plus its three extra round trips, so with an audited
    // insert no slower than the raw INSERT the ratio is at most 1 + (naive - audited) / raw
    // (per-insert times). Below 2x, a commit (on a durable server, its WAL flush) costs more
    // than those round trips, and no audited insert reaches 2x.
    let at = |wanted: Variant| {
        Variant::ALL
            .iter()
            .position(|v| *v == wanted)
            .expect("listed")
    };
    let (audited, raw, naive) = (
        at(Variant::AuditedPrepared),
        at(Variant::RawPrepared),
        at(Variant::NaivePrepared),
    );
    let ceiling = quartiles(
        per_second
            .iter()
            .map(|r| 1.0 + (1.0 / r[naive] - 1.0 / r[audited]) * r[raw])
            .collect(),
    );
    println!(
        "  {:<55} {:>19} {:>19}",
        "ceiling vs naive (prepared), if as fast as raw (prepared)",
        "",
        shown(ceiling)
    );
    let audit_rows: i64 = bench
        .db
        .client()
        .query_one("SELECT count(*) FROM audit_logs", &[])?
        .try_get(0)?;
    println!("audit rows written so far: {audit_rows}\n");
    Ok(bench)
}
