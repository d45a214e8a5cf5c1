//! The partitioned audit log against the plain one it replaces, on the same throwaway server in
//! the same run: two databases, one at the migrations before `audit_logs` was partitioned and one
//! at all of them, each filled with the same synthetic audit rows spread evenly over eight years.
//!
//! - **retention purge**: the plain table's `purge_expired_data()` (row-by-row deletion of the
//!   rows older than seven years) against `maintain_partitions()` (whole months dropped) followed
//!   by `purge_expired_data()` for the month the cutoff falls in; time, and the table's size on
//!   disk (all partitions, indexes and TOAST) before and after, without a `VACUUM` in between, as
//!   a production purge leaves it;
//! - **audited insert throughput**: `Case::insert` (the case row and its audit row in one
//!   statement) on each database, in interleaved rounds (a new order every round, so drift hits
//!   both alike); the median rate per database and the median of the per-round ratios (target:
//!   partitioned at least 0.9x plain);
//! - **one resource's audit rows in the last 30 days**: time of the query on each, and the
//!   partitioned plan, which shows the partitions pruned (only the last month or two scanned).
//!
//! Run: `cargo bench -p e2e --bench audit_partitions` (`-- --rows N` audit rows per database,
//! default 1,000,000; `--inserts N --rounds R` for the throughput part). With 1,000,000 rows it
//! takes a few minutes on two cores.

use std::time::Instant;

use dental_schema::{Case, NewCase};
use e2e::bench::{arg, median};
use e2e::pg;
use migrate::runner::Runner;
use postgres::Client;
use repo_runtime::{Actor, AuditKey, DataKey};
use uuid::Uuid;

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// The audit table's size: for a partitioned table, the sum over its partitions.
fn size(client: &mut Client) -> Result<i64, postgres::Error> {
    Ok(client
        .query_one(
            "SELECT CASE WHEN c.relkind = 'p'
                         THEN (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(c.oid))::bigint
                         ELSE pg_total_relation_size(c.oid) END
               FROM pg_class c WHERE c.oid = 'audit_logs'::regclass",
            &[],
        )?
        .get(0))
}

struct Database {
    label: &'static str,
    /// Kept for the run: the database is dropped with it.
    _db: pg::TestDb,
    client: Client,
    actor: Uuid,
}

fn database(label: &'static str, partitioned: bool, rows: usize) -> Result<Database, String> {
    let db = pg::cluster().create_database(&format!("bench_audit_{label}"));
    let mut files = e2e::migrations::committed().migrations;
    if !partitioned {
        let first = files
            .iter()
            .position(|m| {
                m.up.contains("CREATE FUNCTION audit_logs_create_partitions")
            })
            .ok_or("no committed migration partitions audit_logs")?;
        files.truncate(first);
    }
    Runner::connect(&db.url(), files)?.upgrade()?;
    let mut client = db.connect();
    let actor: Uuid = e2e::repos::insert_user(&mut client, "bench");
    if partitioned {
        // Eight years of months (a fresh database has the current one and those ahead only).
        client
            .execute(
                "SELECT audit_logs_create_partitions('audit_logs', now() - interval '8 years', now())",
                &[],
            )
            .map_err(|e| format!("{e:?}"))?;
    }
    let started = Instant::now();
    // The same rows in both: resources of 2,000 cases, ten event kinds, details as the
    // repositories write them; the newest now, the oldest eight years ago.
    client
        .execute(
            &format!(
                "INSERT INTO audit_logs (\"timestamp\", event_type, user_id, resource_type, resource_id, action,
                                         request_id, changes, details)
                 SELECT now() - (i * interval '8 years' / {rows}),
                        (enum_range(NULL::audit_event_type))[1 + i % 9], $1, 'cases',
                        md5((i % 2000)::text)::uuid, 'get', 'req-' || i,
                        CASE WHEN i % 4 = 0 THEN jsonb_build_object('status', jsonb_build_object('old', 'new', 'new', 'in_progress')) END,
                        jsonb_build_object('request', i)
                   FROM generate_series(0, {rows} - 1) AS i"
            ),
            &[&actor],
        )
        .map_err(|e| format!("{e:?}"))?;
    client
        .batch_execute("VACUUM ANALYZE audit_logs")
        .map_err(|e| format!("{e:?}"))?;
    eprintln!(
        "{label}: {rows} audit rows loaded in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(Database {
        label,
        _db: db,
        client,
        actor,
    })
}

fn audited_insert(client: &mut Client, actor: Actor<'_>, seq: u64) -> Result<(), String> {
    let new = NewCase {
        patient_id: format!("P-{seq}"),
        ..e2e::repos::new_case(actor.user_id(), &format!("BENCH-{seq}"))
    };
    Case::insert(client, actor, &new)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = arg("--rows", 1_000_000);
    let inserts = arg("--inserts", 200);
    let rounds = arg("--rounds", 30).max(1);
    println!("audit_logs, plain vs partitioned by month: {rows} rows over eight years each\n");
    let mut plain = database("plain", false, rows)?;
    let mut partitioned = database("partitioned", true, rows)?;

    // 1. One resource's audit rows in the last 30 days.
    // The cutoff is a parameter, as an application passes it: the planner then prunes the
    // partitions while planning (with `now() - interval` it plans all and prunes at run time).
    let query = "SELECT * FROM audit_logs
                  WHERE resource_type = 'cases' AND resource_id = md5('7')::uuid
                    AND \"timestamp\" > $1
                  ORDER BY \"timestamp\" DESC";
    let since = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86_400);
    println!("one resource's audit rows in the last 30 days:");
    let mut times = Vec::new();
    for d in [&mut plain, &mut partitioned] {
        let mut samples = Vec::new();
        let mut found = 0;
        for _ in 0..20 {
            let started = Instant::now();
            found = d.client.query(query, &[&since])?.len();
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let ms = median(samples);
        println!("  {:<12} {found} rows, median {ms:.2} ms", d.label);
        times.push(ms);
    }
    println!("  ratio partitioned/plain: {:.2}x", times[1] / times[0]);
    let cutoff: String = partitioned
        .client
        .query_one("SELECT ($1::timestamptz)::text", &[&since])?
        .get(0);
    let plan: Vec<String> = partitioned
        .client
        .query(
            &format!(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {}",
                // EXPLAIN takes no parameters: the same cutoff, as a literal.
                query.replace("$1", &format!("'{cutoff}'::timestamptz"))
            ),
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let partitions: i64 = partitioned
        .client
        .query_one(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass",
            &[],
        )?
        .get(0);
    let scanned = plan
        .iter()
        .filter(|l| l.contains(" on audit_logs_p"))
        .count();
    println!("  partitioned plan: {scanned} of {partitions} partitions scanned (the rest pruned):");
    for line in &plan {
        println!("    {line}");
    }

    // 2. Audited insert throughput, interleaved rounds.
    let key = AuditKey::new(&[0x42; 32])?;
    let data_key = DataKey::new(&[0x24; 32])?;
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut ratios = Vec::new();
    let mut seq = 0u64;
    for round in 0..rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut this = [0.0; 2];
        for i in order {
            let d = if i == 0 { &mut plain } else { &mut partitioned };
            let actor = key.actor(d.actor).with_data_key(&data_key);
            let started = Instant::now();
            for _ in 0..inserts {
                seq += 1;
                audited_insert(&mut d.client, actor, seq)?;
            }
            this[i] = inserts as f64 / started.elapsed().as_secs_f64();
            rates[i].push(this[i]);
        }
        ratios.push(this[1] / this[0]);
    }
    // The audit row alone, prepared once: what the table itself costs per insert.
    let mut raw: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let d = if i == 0 { &mut plain } else { &mut partitioned };
            let statement = d.client.prepare(
                "INSERT INTO audit_logs (event_type, user_id, resource_type, resource_id, action)
                 VALUES ('data_create', $1, 'cases', $2, 'insert')",
            )?;
            let started = Instant::now();
            for _ in 0..inserts {
                d.client.execute(&statement, &[&d.actor, &Uuid::new_v4()])?;
            }
            raw[i].push(inserts as f64 / started.elapsed().as_secs_f64());
        }
    }
    println!(
        "\naudit row INSERT alone (prepared), {rounds} rounds of {inserts}: plain {:.0}/s, partitioned {:.0}/s ({:.2}x)",
        median(raw[0].clone()),
        median(raw[1].clone()),
        median(raw[1].clone()) / median(raw[0].clone())
    );
    println!(
        "\naudited inserts (Case::insert, case + audit row in one statement), {rounds} rounds of {inserts}:"
    );
    println!("  plain        median {:.0}/s", median(rates[0].clone()));
    println!("  partitioned  median {:.0}/s", median(rates[1].clone()));
    let ratio = median(ratios);
    println!(
        "  ratio partitioned/plain: {ratio:.2}x (target >= 0.90x: {})",
        if ratio >= 0.9 { "met" } else { "NOT met" }
    );

    // 3. The retention purge.
    println!("\nretention purge of the rows older than seven years (no VACUUM afterwards):");
    let mut purge_times = Vec::new();
    let before = size(&mut plain.client)?;
    let started = Instant::now();
    let deleted: String = plain
        .client
        .query_one("SELECT purge_expired_data($1)::text", &[&plain.actor])?
        .get(0);
    let plain_time = started.elapsed();
    let after = size(&mut plain.client)?;
    println!(
        "  plain: row deletion {:.2}s {deleted}; size {} -> {}",
        plain_time.as_secs_f64(),
        megabytes(before),
        megabytes(after)
    );
    purge_times.push(plain_time);
    let before = size(&mut partitioned.client)?;
    let started = Instant::now();
    let report: serde_json::Value = partitioned
        .client
        .query_one("SELECT maintain_partitions($1)", &[&partitioned.actor])?
        .get(0);
    let drop_time = started.elapsed();
    let dropped = &report["dropped"]["audit_logs"];
    let dropped_rows: i64 = dropped
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["rows"].as_i64()).sum())
        .unwrap_or(0);
    let started = Instant::now();
    let rest: String = partitioned
        .client
        .query_one("SELECT purge_expired_data($1)::text", &[&partitioned.actor])?
        .get(0);
    let rest_time = started.elapsed();
    let after = size(&mut partitioned.client)?;
    println!(
        "  partitioned: {} partitions dropped ({dropped_rows} rows) in {:.2}s, then the cutoff month's rows {:.2}s {rest}; size {} -> {}",
        dropped.as_array().map_or(0, Vec::len),
        drop_time.as_secs_f64(),
        rest_time.as_secs_f64(),
        megabytes(before),
        megabytes(after)
    );
    purge_times.push(drop_time + rest_time);
    println!(
        "  purge time partitioned/plain: {:.2}x (below 1: dropping partitions is faster; it wins as months grow, row deletion grows with the rows)",
        purge_times[1].as_secs_f64() / purge_times[0].as_secs_f64().max(1e-6)
    );
    Ok(())
}
