//! Audited insert through the async repositories on a deadpool-postgres pool against the blocking
//! `Prepared` path, on the same throwaway server in the same run (its Unix socket):
//!
//! - **sync**: `Case::insert` on one `repo_runtime::Prepared` connection, one insert after
//!   another on the main thread;
//! - **async**: `Case::insert_async` on one pooled connection (statements prepared once in the
//!   pool's statement cache), one after another in a task spawned on a multi-threaded tokio
//!   runtime with two workers, as an axum handler runs;
//! - **async, one thread**: the same on a current-thread runtime with a pool of its own, where
//!   the task and its connection's I/O task share a thread as the blocking client's do: what is
//!   left of the gap once no wake-up crosses threads;
//! - **async, N connections**: N tasks on the multi-threaded runtime, each inserting its share on
//!   its own pooled connection.
//!
//! Every path sends one statement per insert (the audit row is written by the same statement):
//! one round trip each, prepared once per connection, no type lookups.
//!
//! Rounds are short and interleaved, the order rotating every round, so each variant of a round
//! runs under the same load from the rest of the host; round 0 warms up. Each rate is the median
//! over the rounds; each ratio is the median of the per-round ratios, with the middle half of
//! them (25th to 75th percentile) as its spread. Beside each rate, the CPU time per insert of
//! this process (all its threads) and of the server's backends: where the time goes when the
//! ratio moves with the host's load (two cores shared with the server and everything else here).
//!
//! Run: `cargo bench -p e2e --bench async_insert` (`-- --rows N --rounds R --connections C`;
//! `--only sync|async|one-thread|many` runs one variant, to trace or profile it).

use std::sync::Arc;
use std::time::Instant;

use deadpool_postgres::Pool;
use dental_schema::{Case, NewCase};
use e2e::pg;
use repo_runtime::{AuditKey, DataKey, Prepared};
use tokio::runtime::Runtime;
use uuid::Uuid;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(name: &str, default: usize) -> usize {
    arg(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} needs a whole number, not {v}"))
    })
}

/// The CPU time the threads of process `pid` (`self` for this one) have used so far, in seconds:
/// the first field of each thread's `schedstat`, in nanoseconds. Threads that ended are not
/// counted; the bench's runtimes and the server's backends live as long as the bench.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    let nanoseconds: u64 = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanoseconds as f64 / 1e9
}

/// The `q`-quantile of `xs` (nearest rank).
fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    xs[((xs.len() - 1) as f64 * q).round() as usize]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Sync,
    Async,
    OneThread,
    Many,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::Sync,
        Variant::Async,
        Variant::OneThread,
        Variant::Many,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Sync => "sync",
            Variant::Async => "async",
            Variant::OneThread => "one-thread",
            Variant::Many => "many",
        }
    }
}

/// What every insert needs: the acting user and the keys.
#[derive(Clone)]
struct Inserts {
    actor_id: Uuid,
    key: Arc<AuditKey>,
    data_key: Arc<DataKey>,
}

impl Inserts {
    /// Inserts one case per number on `pool`'s connections, `tasks` tasks sharing the numbers.
    async fn on_pool(&self, pool: &Pool, numbers: Vec<String>, tasks: usize) {
        let per_task = numbers.len().div_ceil(tasks);
        let mut numbers = numbers.into_iter();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let share: Vec<String> = numbers.by_ref().take(per_task).collect();
                let (pool, this) = (pool.clone(), self.clone());
                tokio::spawn(async move {
                    let actor = this.key.actor(this.actor_id).with_data_key(&this.data_key);
                    let mut conn = pool.get().await.expect("connection");
                    for number in share {
                        let case = e2e::repos::new_case(this.actor_id, &number);
                        Case::insert_async(&mut conn, actor, &case)
                            .await
                            .expect("insert");
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("task");
        }
    }

    fn on_prepared(&self, db: &mut Prepared<postgres::Client>, numbers: Vec<String>) {
        let actor = self.key.actor(self.actor_id).with_data_key(&self.data_key);
        for number in numbers {
            let case: NewCase = e2e::repos::new_case(self.actor_id, &number);
            Case::insert(db, actor, &case).expect("insert");
        }
    }
}

fn runtime(workers: Option<usize>) -> Runtime {
    let mut builder = match workers {
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
        None => tokio::runtime::Builder::new_current_thread(),
    };
    builder.enable_all().build().expect("runtime")
}

fn main() {
    let rows = number("--rows", 250);
    let rounds = number("--rounds", 40);
    let connections = number("--connections", 4);
    assert!(
        rows > 0 && rounds > 0 && connections > 0,
        "--rows, --rounds and --connections need at least 1"
    );
    let only = arg("--only").map(|name| {
        Variant::ALL
            .into_iter()
            .find(|v| v.name() == name)
            .unwrap_or_else(|| panic!("--only takes sync, async, one-thread or many, not {name}"))
    });
    let variants: Vec<Variant> = match only {
        Some(v) => vec![v],
        None => Variant::ALL.to_vec(),
    };

    let db = pg::cluster().create_database("bench_async_insert");
    let mut setup = db.connect();
    e2e::migrations::apply_all(&mut setup);
    let inserts = Inserts {
        actor_id: e2e::repos::insert_user(&mut setup, "bench"),
        key: Arc::new(e2e::repos::audit_key()),
        data_key: Arc::new(e2e::repos::data_key()),
    };
    let mut prepared = Prepared::new(db.connect());
    let (shared, one_thread) = (runtime(Some(2)), runtime(None));
    let shared_pool = e2e::pools::pool(&db, connections);
    let one_thread_pool = e2e::pools::pool(&db, 1);

    let mut counter = 0usize;
    let mut numbers = |n: usize| -> Vec<String> {
        (0..n)
            .map(|_| {
                counter += 1;
                format!("B-{counter}")
            })
            .collect()
    };
    // rates[variant][round]
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); Variant::ALL.len()];
    // CPU seconds per variant over the counted rounds: this process, the server's backends.
    let (mut client_cpu, mut server_cpu) = ([0.0f64; 4], [0.0f64; 4]);
    let mut backends: Vec<String> = Vec::new();
    let server = |backends: &[String]| backends.iter().map(|p| cpu_seconds(p)).sum::<f64>();
    for round in 0..=rounds {
        for step in 0..variants.len() {
            let variant = variants[(round + step) % variants.len()];
            let batch = numbers(rows);
            let (client_before, server_before) = (cpu_seconds("self"), server(&backends));
            let started = Instant::now();
            match variant {
                Variant::Sync => inserts.on_prepared(&mut prepared, batch),
                Variant::Async => shared.block_on(inserts.on_pool(&shared_pool, batch, 1)),
                Variant::OneThread => {
                    one_thread.block_on(inserts.on_pool(&one_thread_pool, batch, 1))
                }
                Variant::Many => shared.block_on(inserts.on_pool(&shared_pool, batch, connections)),
            }
            let rate = rows as f64 / started.elapsed().as_secs_f64();
            if round > 0 {
                rates[variant as usize].push(rate);
                client_cpu[variant as usize] += cpu_seconds("self") - client_before;
                server_cpu[variant as usize] += server(&backends) - server_before;
            }
        }
        if round == 0 {
            // Every connection of the bench is open now; the setup connection stays idle.
            backends = setup
                .query(
                    "SELECT pid::text FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    &[],
                )
                .expect("backends")
                .iter()
                .map(|row| row.get(0))
                .collect();
        }
    }

    println!("audited insert (Case::insert), {rows} rows per variant and round, {rounds} rounds:");
    let label = |v: Variant| match v {
        Variant::Sync => "sync Prepared, 1 connection".to_owned(),
        Variant::Async => "async pool, 1 connection".to_owned(),
        Variant::OneThread => "async pool, 1 connection, one thread".to_owned(),
        Variant::Many => format!("async pool, {connections} connections"),
    };
    println!(
        "  {:<40} {:>8} {:>12} {:>12}",
        "", "rows/s", "client CPU", "server CPU"
    );
    let per_insert = |seconds: f64| format!("{:.1} us", seconds * 1e6 / (rows * rounds) as f64);
    for &v in &variants {
        println!(
            "  {:<40} {:>8.0} {:>12} {:>12}",
            label(v),
            quantile(&rates[v as usize], 0.5),
            per_insert(client_cpu[v as usize]),
            per_insert(server_cpu[v as usize]),
        );
    }
    let ratio = |name: &str, over: Variant, under: Variant| {
        let per_round: Vec<f64> = rates[over as usize]
            .iter()
            .zip(&rates[under as usize])
            .map(|(a, b)| a / b)
            .collect();
        if !per_round.is_empty() {
            println!(
                "  {name:<40} {:>7.2}x (middle half {:.2}-{:.2}x)",
                quantile(&per_round, 0.5),
                quantile(&per_round, 0.25),
                quantile(&per_round, 0.75),
            );
        }
    };
    ratio("async / sync", Variant::Async, Variant::Sync);
    ratio("async one thread / sync", Variant::OneThread, Variant::Sync);
    ratio(
        &format!("async {connections} connections / 1"),
        Variant::Many,
        Variant::Async,
    );
    drop((shared_pool, one_thread_pool));
    drop((shared, one_thread));
}
