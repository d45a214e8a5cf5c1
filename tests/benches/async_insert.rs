//! Audited insert through the async repositories on a deadpool-postgres pool against the blocking
//! `Prepared` path, on the same throwaway server in the same run (its Unix socket):
//!
//! - **sync prepared**: `Case::insert` on one `repo_runtime::Prepared` connection, one insert after
//!   another;
//! - **async pooled, 1 connection**: `Case::insert_async` on one pooled connection (statements
//!   prepared once in the pool's statement cache), one after another, on a tokio runtime;
//! - **async pooled, N connections**: N tasks each inserting on its own pooled connection.
//!
//! Variants run interleaved in short rounds, in a rotating order, and each rate is the median
//! round; ratios are per connection (async 1 / sync) and the scaling (N / 1). With two CPU cores
//! shared with the server, scaling past two connections measures the host, not the pool.
//!
//! Run: `cargo bench -p e2e --bench async_insert` (`-- --rows N --rounds R --connections C`).

use std::sync::Arc;
use std::time::Instant;

use dental_schema::{Case, NewCase};
use e2e::bench::{arg, median};
use e2e::pg;
use repo_runtime::{AuditKey, DataKey, Prepared};
use uuid::Uuid;

fn new_case(created_by: Uuid, number: String) -> NewCase {
    e2e::repos::new_case(created_by, &number)
}

fn main() {
    let rows = arg("--rows", 300);
    let rounds = arg("--rounds", 9);
    let connections = arg("--connections", 4);
    let db = pg::cluster().create_database("bench_async_insert");
    let mut setup = db.connect();
    e2e::migrations::apply_all(&mut setup);
    let actor_id: Uuid = e2e::repos::insert_user(&mut setup, "bench");
    let key = Arc::new(AuditKey::new(&[0x5a; 32]).expect("key"));
    let data_key = Arc::new(DataKey::new(&[0x3c; 32]).expect("data key"));
    let mut sync = Prepared::new(db.connect());
    let pool = e2e::pools::pool(&db, connections);
    let rt = e2e::pools::runtime();
    let mut counter = 0usize;
    let mut next = || {
        counter += 1;
        format!("B-{counter}")
    };
    let (mut sync_rates, mut one_rates, mut many_rates) = (Vec::new(), Vec::new(), Vec::new());
    let (mut per_connection, mut scaling) = (Vec::new(), Vec::new());
    for round in 0..=rounds {
        let mut rates = [0.0f64; 3];
        for step in 0..3 {
            let variant = (round + step) % 3;
            let started = Instant::now();
            let inserted = match variant {
                0 => {
                    let actor = key.actor(actor_id).with_data_key(&data_key);
                    for _ in 0..rows {
                        Case::insert(&mut sync, actor, &new_case(actor_id, next()))
                            .expect("insert");
                    }
                    rows
                }
                1 => {
                    let numbers: Vec<String> = (0..rows).map(|_| next()).collect();
                    rt.block_on(async {
                        let actor = key.actor(actor_id).with_data_key(&data_key);
                        let mut conn = pool.get().await.expect("connection");
                        for number in numbers {
                            Case::insert_async(&mut conn, actor, &new_case(actor_id, number))
                                .await
                                .expect("insert");
                        }
                    });
                    rows
                }
                _ => {
                    let batches: Vec<Vec<String>> = (0..connections)
                        .map(|_| (0..rows).map(|_| next()).collect())
                        .collect();
                    rt.block_on(async {
                        let tasks: Vec<_> = batches
                            .into_iter()
                            .map(|numbers| {
                                let (pool, key, data_key) =
                                    (pool.clone(), key.clone(), data_key.clone());
                                tokio::spawn(async move {
                                    let actor = key.actor(actor_id).with_data_key(&data_key);
                                    let mut conn = pool.get().await.expect("connection");
                                    for number in numbers {
                                        Case::insert_async(
                                            &mut conn,
                                            actor,
                                            &new_case(actor_id, number),
                                        )
                                        .await
                                        .expect("insert");
                                    }
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.expect("task");
                        }
                    });
                    rows * connections
                }
            };
            rates[variant] = inserted as f64 / started.elapsed().as_secs_f64();
        }
        // Round 0 warms up (connections, prepared statements, caches).
        if round > 0 {
            sync_rates.push(rates[0]);
            one_rates.push(rates[1]);
            many_rates.push(rates[2]);
            per_connection.push(rates[1] / rates[0]);
            scaling.push(rates[2] / rates[1]);
        }
    }
    println!("audited insert (Case::insert), {rows} rows per round, {rounds} rounds, Unix socket:");
    println!(
        "  sync Prepared, 1 connection:      {:>8.0} rows/s",
        median(sync_rates)
    );
    println!(
        "  async pool, 1 connection:         {:>8.0} rows/s",
        median(one_rates)
    );
    println!(
        "  async pool, {connections} connections:        {:>8.0} rows/s",
        median(many_rates)
    );
    println!(
        "  async / sync per connection:      {:>8.2}x (median of per-round ratios)",
        median(per_connection)
    );
    println!(
        "  async {connections} connections / 1:         {:>8.2}x",
        median(scaling)
    );
    drop(pool);
    drop(rt);
}
