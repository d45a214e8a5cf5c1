//! The job queue on `jobs` (`repo_runtime::queue`): one audited statement claims the next
//! runnable job (pending, due, by priority) `FOR UPDATE SKIP LOCKED`, marks it processing and
//! counts the attempt; complete and fail (retry back-off, then failed) end it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dental_schema::{Job, JobStatus};
use e2e::pg::TestDb;
use postgres::Client;
use repo_runtime::{Actor, ActorRefusal, AuditKey, RepoError, queue};
use serde_json::json;
use uuid::Uuid;

/// Whom the queued jobs belong to: the case they are for and the user who queues and claims them.
#[derive(Clone, Copy)]
struct Owners {
    case_id: Uuid,
    actor_id: Uuid,
}

/// A database with an acting user and a case whose patient consented to processing.
fn fixture(hint: &str) -> (TestDb, Client, AuditKey, Owners) {
    let e2e::repos::WithActor {
        db,
        mut client,
        actor_id,
    } = e2e::repos::with_actor(hint, "worker");
    let case_id = e2e::repos::inserted_id(
        &mut client,
        "INSERT INTO cases (case_number, patient_id, created_by, processing_consent)
         VALUES ('Q-1', 'patient-q', $1, 'granted') RETURNING id",
        &[&actor_id],
    );
    let owners = Owners { case_id, actor_id };
    (db, client, e2e::repos::audit_key(), owners)
}

/// Queues a job directly (unaudited): `priority`, due `due_in_s` seconds from now.
fn enqueue(client: &mut Client, owners: Owners, priority: i16, due_in_s: f64) -> Uuid {
    client
        .query_one(
            "INSERT INTO jobs (case_id, created_by, job_type, priority, scheduled_at)
             VALUES ($1, $2, 'segmentation', $3, now() + $4 * interval '1 second') RETURNING id",
            &[&owners.case_id, &owners.actor_id, &priority, &due_in_s],
        )
        .expect("job")
        .get(0)
}

/// Fails `job` as a worker whose scanner timed out, with a back-off of 10 s.
fn fail_timed_out(client: &mut Client, actor: Actor<'_>, job: Uuid) -> Job {
    let back_off = Duration::from_secs(10);
    queue::fail::<Job, _>(client, actor, &job, "scanner timeout", back_off).expect("fail")
}

fn audit_actions(client: &mut Client) -> Vec<(String, String)> {
    client
        .query(
            "SELECT action, coalesce(changes->'status'->>'new', '') FROM audit_logs WHERE resource_type = 'jobs' ORDER BY id",
            &[],
        )
        .expect("audit")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Claims follow priority (highest first), then due time; jobs not yet due and jobs of other
/// statuses are left alone; failing puts a job back with back-off until its attempts are spent,
/// then it is failed; completing needs a processing job; each call writes one audit row.
#[test]
fn claims_by_priority_with_retry_back_off() {
    let (_db, mut client, key, owners) = fixture("queue_order");
    let low_old = enqueue(&mut client, owners, 0, -60.0);
    let high_new = enqueue(&mut client, owners, 5, -1.0);
    let high_old = enqueue(&mut client, owners, 5, -30.0);
    let _future = enqueue(&mut client, owners, 9, 3600.0);
    let actor = key.actor(owners.actor_id);

    let order: Vec<Uuid> = (0..3)
        .map(|_| {
            queue::claim::<Job, _>(&mut client, actor)
                .expect("claim")
                .expect("a runnable job")
                .id
        })
        .collect();
    assert_eq!(order, vec![high_old, high_new, low_old]);
    assert_eq!(
        queue::claim::<Job, _>(&mut client, actor).expect("claim"),
        None,
        "the only job left is not due"
    );

    let done =
        queue::complete::<Job, _>(&mut client, actor, &high_old, Some(&json!({"teeth": 28})))
            .expect("complete");
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.result, Some(json!({"teeth": 28})));
    assert!(done.finished_at.is_some());
    let again = queue::complete::<Job, _>(&mut client, actor, &high_old, None)
        .expect_err("already completed");
    assert!(matches!(again, RepoError::NotFound { .. }), "{again:?}");

    // high_new: three attempts (max_attempts 3), each failure backing off longer.
    let failed = fail_timed_out(&mut client, actor, high_new);
    assert_eq!(failed.status, JobStatus::Pending);
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.error.as_deref(), Some("scanner timeout"));
    let wait = (failed.scheduled_at - chrono::Utc::now()).num_milliseconds();
    assert!((8_000..=10_500).contains(&wait), "first back-off {wait} ms");
    for attempt in 2..=3 {
        client
            .execute(
                "UPDATE jobs SET scheduled_at = now() - interval '1 second' WHERE id = $1",
                &[&high_new],
            )
            .expect("make it due");
        let claimed = queue::claim::<Job, _>(&mut client, actor)
            .expect("claim")
            .expect("due again");
        assert_eq!(claimed.id, high_new);
        assert_eq!(claimed.attempts, attempt);
        let failed = fail_timed_out(&mut client, actor, high_new);
        if attempt < 3 {
            assert_eq!(failed.status, JobStatus::Pending);
            let wait = (failed.scheduled_at - chrono::Utc::now()).num_milliseconds();
            assert!(
                (18_000..=20_500).contains(&wait),
                "second back-off {wait} ms"
            );
        } else {
            assert_eq!(failed.status, JobStatus::Failed, "attempts spent");
            assert!(failed.finished_at.is_some());
        }
    }
    let audit = audit_actions(&mut client);
    let expected: Vec<(&str, &str)> = vec![
        ("claim", "processing"),
        ("claim", "processing"),
        ("claim", "processing"),
        ("complete", "completed"),
        ("fail", "pending"),
        ("claim", "processing"),
        ("fail", "pending"),
        ("claim", "processing"),
        ("fail", "failed"),
    ];
    assert_eq!(
        audit
            .iter()
            .map(|(a, s)| (a.as_str(), s.as_str()))
            .collect::<Vec<_>>(),
        expected
    );
    let errors_in_audit: i64 = client
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE changes::text LIKE '%scanner%' OR details::text LIKE '%scanner%'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(
        errors_in_audit, 0,
        "a worker's message stays out of the audit log"
    );

    // An actor who may not act claims nothing, and the job stays pending.
    client
        .execute(
            "UPDATE users SET is_active = false WHERE id = $1",
            &[&owners.actor_id],
        )
        .expect("deactivate");
    client
        .execute(
            "UPDATE jobs SET scheduled_at = now() - interval '1 second' WHERE id = $1",
            &[&low_old],
        )
        .expect("due");
    let refused = queue::claim::<Job, _>(&mut client, actor).expect_err("inactive");
    assert!(
        matches!(
            refused,
            RepoError::ActorRefused {
                reason: ActorRefusal::Inactive,
                ..
            }
        ),
        "{refused:?}"
    );
}

/// 8 concurrent workers (async, each on its own pooled connection) claim 10,000 jobs: each job
/// exactly once, all completed with one attempt, two audit rows each.
#[test]
fn eight_workers_claim_each_of_ten_thousand_jobs_exactly_once() {
    const JOBS: i64 = 10_000;
    const WORKERS: usize = 8;
    let (db, mut client, key, Owners { case_id, actor_id }) = fixture("queue_workers");
    client
        .execute(
            "INSERT INTO jobs (case_id, created_by, job_type, priority, scheduled_at)
             SELECT $1, $2, 'segmentation', (i % 7)::smallint, now() - (i % 100) * interval '1 second'
               FROM generate_series(1, $3::bigint) AS i",
            &[&case_id, &actor_id, &JOBS],
        )
        .expect("jobs");
    let pool = e2e::pools::pool(&db, WORKERS);
    let claimed: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let key = Arc::new(key);
    let rt = e2e::pools::runtime();
    let started = std::time::Instant::now();
    rt.block_on(async {
        let mut workers = Vec::new();
        for _ in 0..WORKERS {
            let (pool, key, claimed) = (pool.clone(), key.clone(), claimed.clone());
            workers.push(tokio::spawn(async move {
                let mut conn = pool.get().await.expect("connection");
                let actor = key.actor(actor_id);
                let mut mine = Vec::new();
                while let Some(job) = queue::claim_async::<Job, _>(&mut conn, actor)
                    .await
                    .expect("claim")
                {
                    assert_eq!(job.status, JobStatus::Processing);
                    assert_eq!(job.attempts, 1, "claimed twice: {}", job.id);
                    queue::complete_async::<Job, _>(&mut conn, actor, &job.id, None)
                        .await
                        .expect("complete");
                    mine.push(job.id);
                }
                claimed.lock().expect("lock").extend(mine);
            }));
        }
        for w in workers {
            w.await.expect("worker");
        }
    });
    let elapsed = started.elapsed();
    let claimed = claimed.lock().expect("lock").clone();
    let distinct: BTreeSet<Uuid> = claimed.iter().copied().collect();
    assert_eq!(claimed.len() as i64, JOBS, "claims");
    assert_eq!(distinct.len() as i64, JOBS, "each job once");
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'completed' AND attempts = 1), count(*) FROM jobs",
            &[],
        )
        .expect("jobs");
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (JOBS, JOBS));
    let audit = client
        .query_one(
            "SELECT count(*) FILTER (WHERE action = 'claim'), count(*) FILTER (WHERE action = 'complete'),
                    count(DISTINCT resource_id) FILTER (WHERE action = 'claim')
               FROM audit_logs WHERE resource_type = 'jobs'",
            &[],
        )
        .expect("audit");
    assert_eq!(
        (
            audit.get::<_, i64>(0),
            audit.get::<_, i64>(1),
            audit.get::<_, i64>(2)
        ),
        (JOBS, JOBS, JOBS)
    );
    eprintln!(
        "{JOBS} jobs claimed and completed by {WORKERS} workers in {:.1} s ({:.0} jobs/s)",
        elapsed.as_secs_f64(),
        JOBS as f64 / elapsed.as_secs_f64()
    );
    drop(pool);
    drop(rt);
}

/// The claim statement finds the next job through `jobs_queue_idx` (`(priority DESC,
/// scheduled_at) WHERE status = 'pending'`), not by scanning or sorting the table: with many
/// finished jobs and a few pending ones, and statistics gathered, the planner picks the index
/// on its own. EXPLAIN runs nothing: no job is claimed and no audit row written.
#[test]
fn the_claim_uses_the_queue_index() {
    let (_db, mut client, key, Owners { case_id, actor_id }) = fixture("queue_explain");
    client
        .execute(
            "INSERT INTO jobs (case_id, created_by, job_type, status, priority, scheduled_at)
             SELECT $1, $2, 'segmentation',
                    CASE WHEN n % 100 = 0 THEN 'pending' ELSE 'cancelled' END::job_status,
                    (n % 7)::smallint, now() - n * interval '1 second'
               FROM generate_series(1, 20000) AS n",
            &[&case_id, &actor_id],
        )
        .expect("jobs");
    client.batch_execute("ANALYZE jobs").expect("analyze");
    let before = audit_actions(&mut client).len();

    let plan = queue::explain_claim::<Job, _>(&mut client, key.actor(actor_id))
        .expect("plan")
        .join("\n");
    assert!(
        plan.contains("jobs_queue_idx"),
        "the queue index is not used:\n{plan}"
    );
    assert!(!plan.contains("Seq Scan on jobs"), "{plan}");
    assert!(
        !plan.contains("Sort"),
        "the index gives the order, nothing is sorted:\n{plan}"
    );
    assert_eq!(
        audit_actions(&mut client).len(),
        before,
        "EXPLAIN audits nothing"
    );
    let processing: i64 = client
        .query_one("SELECT count(*) FROM jobs WHERE status = 'processing'", &[])
        .expect("count")
        .get(0);
    assert_eq!(processing, 0, "EXPLAIN claims nothing");
}
