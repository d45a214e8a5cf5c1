//! The HTTP create-case path (`POST /cases`: Basic sign-in with its audit row, a transaction
//! under `SET LOCAL ROLE`, the audited insert, JSON both ways, over TCP) against the direct
//! async repository insert (`Case::insert_async` on a pooled connection), on the same throwaway
//! server in the same run, with N concurrent clients each:
//!
//! - **direct**: N tokio tasks, each inserting one case after another on its own pooled
//!   connection;
//! - **http**: N threads, each a keep-alive HTTP client posting one case after another to the
//!   service binary (pool of N connections).
//!
//! Each rate is requests per second over the round; latencies are per request, p99 over every
//! request of the rounds. Variants alternate in rounds; the ratios (http / direct) are what to
//! read, the absolute numbers depend on the host (two cores shared with the server here). The
//! users' password hash has a minimal Argon2id cost, so the sign-in's hashing does not hide the
//! rest; `--argon2-default` uses the service's default cost instead.
//!
//! Run: `cargo bench -p dental-service --bench http_create` (`-- --requests R --rounds K
//! --clients 1,4,16 --argon2-default`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use deadpool_postgres::Pool;
use dental_schema::{Case, NewCase};
use e2e::bench::{self, median};
use e2e::pg;
use repo_runtime::{AuditKey, DataKey};
use support::Service;
use uuid::Uuid;

const AUDIT_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const DATA_KEY: &str = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

/// The text after `name` on the command line.
fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn p99(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[(xs.len() * 99 / 100).min(xs.len() - 1)]
}

fn new_case(created_by: Uuid, number: &str) -> NewCase {
    NewCase {
        title: Some(format!("title {number}")),
        ..e2e::repos::new_case(created_by, number)
    }
}

fn body(number: &str) -> String {
    serde_json::json!({
        "case_number": number,
        "patient_id": format!("p-{number}"),
        "title": format!("title {number}"),
    })
    .to_string()
}

/// N tasks on their own pooled connections, `per_client` inserts each: (elapsed, latencies).
fn direct(
    rt: &tokio::runtime::Runtime,
    pool: &Pool,
    keys: &Arc<(AuditKey, DataKey)>,
    actor_id: Uuid,
    numbers: Vec<Vec<String>>,
) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let latencies = rt.block_on(async {
        let tasks: Vec<_> = numbers
            .into_iter()
            .map(|numbers| {
                let (pool, keys) = (pool.clone(), keys.clone());
                tokio::spawn(async move {
                    let actor = keys.0.actor(actor_id).with_data_key(&keys.1);
                    let mut conn = pool.get().await.expect("connection");
                    let mut latencies = Vec::with_capacity(numbers.len());
                    for number in numbers {
                        let one = Instant::now();
                        Case::insert_async(&mut conn, actor, &new_case(actor_id, &number))
                            .await
                            .expect("insert");
                        latencies.push(one.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("task"));
        }
        all
    });
    (started.elapsed(), latencies)
}

/// N threads with a keep-alive client each, `per_client` posts each: (elapsed, latencies).
fn http(
    service: &Service,
    authorization: &str,
    numbers: Vec<Vec<String>>,
) -> (Duration, Vec<Duration>) {
    let url = format!("{}/cases", service.base);
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let threads: Vec<_> = numbers
            .into_iter()
            .map(|numbers| {
                let url = &url;
                scope.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(60)))
                        .build()
                        .into();
                    let mut latencies = Vec::with_capacity(numbers.len());
                    for number in numbers {
                        let one = Instant::now();
                        let mut response = agent
                            .post(url)
                            .header("authorization", authorization)
                            .content_type("application/json")
                            .send(body(&number))
                            .expect("POST /cases");
                        let status = response.status().as_u16();
                        let text = response.body_mut().read_to_string().expect("body");
                        assert_eq!(status, 201, "POST /cases: {text}");
                        latencies.push(one.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("client thread"))
            .collect()
    });
    (started.elapsed(), latencies)
}

fn main() {
    let requests = bench::arg("--requests", 200);
    let rounds = bench::arg("--rounds", 5);
    let clients: Vec<usize> = text_arg("--clients")
        .unwrap_or_else(|| "1,4,16".to_string())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("--clients: whole numbers, comma-separated")
        })
        .collect();
    let argon2_default = std::env::args().any(|a| a == "--argon2-default");

    let db = pg::cluster().create_database("bench_http_create");
    let mut setup = db.connect();
    e2e::migrations::apply_all(&mut setup);
    let (memory, iterations) = if argon2_default {
        (
            dental_service::auth::DEFAULT_MEMORY_KIB,
            dental_service::auth::DEFAULT_ITERATIONS,
        )
    } else {
        (64, 1)
    };
    let hash = dental_service::auth::hash_password("bench-pw", memory, iterations).expect("hash");
    let actor_id: Uuid = setup
        .query_one(
            "INSERT INTO users (username, email, password_hash, role)
             VALUES ('bench', 'bench@example.org', $1, 'operator') RETURNING id",
            &[&hash],
        )
        .expect("user")
        .get(0);
    let authorization = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("bench:bench-pw")
    );
    let keys = Arc::new((
        AuditKey::new(&[0x5a; 32]).expect("audit key"),
        DataKey::new(&[0x3c; 32]).expect("data key"),
    ));
    let rt = e2e::pools::runtime();
    let mut counter = 0usize;
    let mut numbers = |n: usize, per_client: usize| -> Vec<Vec<String>> {
        (0..n)
            .map(|_| {
                (0..per_client)
                    .map(|_| {
                        counter += 1;
                        format!("H-{counter}")
                    })
                    .collect()
            })
            .collect()
    };

    println!(
        "create a case, {requests} requests per round and client count, {rounds} rounds (+1 warm-up), Argon2id m={memory} KiB t={iterations}:"
    );
    println!(
        "  clients   direct req/s   http req/s   http/direct   direct p99   http p99   p99 ratio"
    );
    for &n in &clients {
        let pool = e2e::pools::pool(&db, n);
        let pool_size = n.to_string();
        let service = Service::start(
            &db.url(),
            &[
                ("AUDIT_HMAC_KEY", AUDIT_KEY),
                ("DATA_ENCRYPTION_KEY", DATA_KEY),
                ("POOL_MAX_SIZE", pool_size.as_str()),
            ],
        );
        let per_client = requests.div_ceil(n);
        let (mut direct_rates, mut http_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut direct_latencies, mut http_latencies) = (Vec::new(), Vec::new());
        for round in 0..=rounds {
            // Alternate which goes first, so neither always meets a warmer cache.
            let mut order = [0, 1];
            if round % 2 == 1 {
                order.reverse();
            }
            let mut rates = [0.0f64; 2];
            for variant in order {
                let batch = numbers(n, per_client);
                let (elapsed, latencies) = if variant == 0 {
                    direct(&rt, &pool, &keys, actor_id, batch)
                } else {
                    http(&service, &authorization, batch)
                };
                rates[variant] = (n * per_client) as f64 / elapsed.as_secs_f64();
                if round > 0 {
                    if variant == 0 {
                        direct_latencies.extend(latencies);
                    } else {
                        http_latencies.extend(latencies);
                    }
                }
            }
            if round > 0 {
                direct_rates.push(rates[0]);
                http_rates.push(rates[1]);
                ratios.push(rates[1] / rates[0]);
            }
        }
        let (direct_p99, http_p99) = (p99(direct_latencies), p99(http_latencies));
        println!(
            "  {n:>7}   {:>12.0}   {:>10.0}   {:>10.2}x   {:>8.2} ms   {:>6.2} ms   {:>8.2}x",
            median(direct_rates),
            median(http_rates),
            median(ratios),
            direct_p99.as_secs_f64() * 1e3,
            http_p99.as_secs_f64() * 1e3,
            http_p99.as_secs_f64() / direct_p99.as_secs_f64(),
        );
        drop(service);
        drop(pool);
    }
    drop(rt);
}
