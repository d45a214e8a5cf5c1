//! The async repositories (`*_async` methods of `#[derive(Repository)]`) on a real PostgreSQL:
//! over a tokio-postgres `Client` and `Transaction`, and over deadpool-postgres pooled
//! connections (whose statement cache prepares each by-key statement once per connection). The
//! same statements as the blocking methods: the same audit rows, encryption, refusals and errors.

use dental_schema::{Case, CasePatch, CaseStatus, NewCase, User};
use e2e::pg::TestDb;
use e2e::pools::{pool, runtime};
use postgres::Client;
use repo_runtime::{ActorRefusal, AuditKey, DataKey, Order, PageRequest, RepoError};
use serde_json::json;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// A database with the committed migrations and one acting user: [`e2e::repos::Fixture::parts`].
fn fixture(hint: &str) -> (TestDb, Client, AuditKey, DataKey, Uuid) {
    e2e::repos::fixture(hint, "actor").parts()
}

async fn connect(db: &TestDb) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&db.conn_string(), NoTls)
        .await
        .expect("connect");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A case with an (encrypted) title and tags, so the async paths carry both.
fn new_case(created_by: Uuid, number: &str) -> NewCase {
    NewCase {
        title: Some(format!("title of {number}")),
        tags: Some(json!(["async"])),
        ..e2e::repos::new_case(created_by, number)
    }
}

/// `(event_type, action, resource_id)` of every audit row, in write order.
fn audit(client: &mut Client) -> Vec<(String, String, Option<Uuid>)> {
    client
        .query(
            "SELECT event_type::text, action, resource_id FROM audit_logs ORDER BY id",
            &[],
        )
        .expect("audit")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// Every method on a tokio-postgres client: the rows as the blocking methods return them, one
/// audit row per call, the encrypted title stored as ciphertext and read back in clear.
#[test]
fn every_method_on_a_tokio_postgres_client() {
    let (db, mut client, key, data_key, actor_id) = fixture("async_client");
    let actor = key.actor(actor_id).with_data_key(&data_key);
    let rt = runtime();
    let (case, listed, found, tagged) = rt.block_on(async {
        let mut c = connect(&db).await;
        let case = Case::insert_async(&mut c, actor, &new_case(actor_id, "A-1"))
            .await
            .expect("insert");
        let got = Case::get_async(&mut c, actor, &case.id)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(got, case);
        let patch = CasePatch {
            status: Some(CaseStatus::InProgress),
            ..CasePatch::default()
        };
        let updated = Case::update_async(&mut c, actor, &case.id, &patch)
            .await
            .expect("update");
        assert_eq!(updated.status, CaseStatus::InProgress);
        let listed = Case::list_async(&mut c, actor, &PageRequest::first(10))
            .await
            .expect("list");
        let found = Case::find_by_status_async(
            &mut c,
            actor,
            &CaseStatus::InProgress,
            Order::Descending,
            &PageRequest::first(10),
        )
        .await
        .expect("find");
        let tagged = Case::find_by_tags_containing_async(
            &mut c,
            actor,
            &json!(["async"]),
            &PageRequest::first(10),
        )
        .await
        .expect("containing");
        Case::soft_delete_async(&mut c, actor, &case.id)
            .await
            .expect("soft delete");
        assert_eq!(
            Case::get_async(&mut c, actor, &case.id).await.expect("get"),
            None
        );
        Case::restore_async(&mut c, actor, &case.id)
            .await
            .expect("restore");
        Case::fetch_async(&mut c, actor, &case.id)
            .await
            .expect("fetch");
        (updated, listed, found, tagged)
    });
    assert_eq!(listed.items, vec![case.clone()]);
    assert_eq!(found.items, vec![case.clone()]);
    assert_eq!(tagged.items, vec![case.clone()]);
    let stored: String = client
        .query_one("SELECT title FROM cases WHERE id = $1", &[&case.id])
        .expect("title")
        .get(0);
    assert!(stored.starts_with("enc:v1:"), "stored in clear: {stored}");
    let expected: Vec<(String, String, Option<Uuid>)> = [
        ("data_create", "insert", Some(case.id)),
        ("data_access", "get", Some(case.id)),
        ("data_update", "update", Some(case.id)),
        ("data_access", "list", None),
        ("data_access", "find", None),
        ("data_access", "find", None),
        ("data_delete", "soft_delete", Some(case.id)),
        ("data_access", "get", Some(case.id)),
        ("data_update", "restore", Some(case.id)),
        ("data_access", "get", Some(case.id)),
    ]
    .iter()
    .map(|(e, a, id)| (e.to_string(), a.to_string(), *id))
    .collect();
    let seen = audit(&mut client);
    assert_eq!(
        seen.iter()
            .map(|(e, a, _)| (e.as_str(), a.as_str()))
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|(e, a, _)| (e.as_str(), a.as_str()))
            .collect::<Vec<_>>(),
        "one audit row per call"
    );
    // The sync and async methods write the same rows: the blocking insert audits alike.
    let mut same = new_case(actor_id, "S-1");
    same.title = None;
    let sync_case = Case::insert(&mut client, actor, &same).expect("sync insert");
    let last = audit(&mut client).pop().expect("row");
    assert_eq!(
        last,
        (
            "data_create".to_owned(),
            "insert".to_owned(),
            Some(sync_case.id)
        )
    );
    rt.block_on(async {
        let mut c = connect(&db).await;
        Case::hard_delete_async(&mut c, actor, &case.id)
            .await
            .expect("hard delete");
    });
    let last = audit(&mut client).pop().expect("row");
    assert_eq!(
        last,
        (
            "data_delete".to_owned(),
            "hard_delete".to_owned(),
            Some(case.id)
        )
    );
}

/// A tokio-postgres transaction: a failing call surfaces its own SQLSTATE (23505, not 25P02),
/// and the rollback takes the change and its audit row; a refused actor changes nothing.
#[test]
fn transactions_errors_and_refusals() {
    let (db, mut client, key, data_key, actor_id) = fixture("async_tx");
    let actor = key.actor(actor_id).with_data_key(&data_key);
    let before = audit(&mut client).len();
    let rt = runtime();
    rt.block_on(async {
        let mut c = connect(&db).await;
        let mut tx = c.transaction().await.expect("begin");
        Case::insert_async(&mut tx, actor, &new_case(actor_id, "T-1"))
            .await
            .expect("insert");
        let e = Case::insert_async(&mut tx, actor, &new_case(actor_id, "T-1"))
            .await
            .expect_err("duplicate case number");
        assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
            "{e:?}"
        );
        assert_eq!(e.http_status(), 409, "{e:?}");
        tx.rollback().await.expect("rollback");
        let stranger = key.actor(Uuid::new_v4()).with_data_key(&data_key);
        let e = Case::insert_async(&mut c, stranger, &new_case(actor_id, "T-2"))
            .await
            .expect_err("unknown actor");
        assert!(
            matches!(
                e,
                RepoError::ActorRefused {
                    reason: ActorRefusal::Unknown,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = User::list_async(&mut c, actor, &PageRequest::first(0))
            .await
            .expect_err("page of 0");
        assert!(matches!(e, RepoError::InvalidRequest { .. }), "{e:?}");
    });
    assert_eq!(audit(&mut client).len(), before, "nothing kept");
    let cases: i64 = client
        .query_one("SELECT count(*) FROM cases", &[])
        .expect("count")
        .get(0);
    assert_eq!(cases, 0);
}

/// Pooled connections: the by-key statements are prepared once per connection (deadpool's
/// statement cache), listings never; a pooled transaction uses the same cache; 8 tasks on a pool
/// of 4 connections insert 200 cases with one audit row each.
#[test]
fn pooled_connections_prepare_once_and_scale() {
    let (db, mut client, key, data_key, actor_id) = fixture("async_pool");
    let actor_key = key;
    let rt = runtime();
    let pool = pool(&db, 4);
    let cached = rt.block_on(async {
        let actor = actor_key.actor(actor_id).with_data_key(&data_key);
        let mut conn = pool.get().await.expect("pooled connection");
        for i in 0..3 {
            let case = Case::insert_async(&mut conn, actor, &new_case(actor_id, &format!("P-{i}")))
                .await
                .expect("insert");
            Case::fetch_async(&mut conn, actor, &case.id)
                .await
                .expect("fetch");
            Case::list_async(&mut conn, actor, &PageRequest::first(2))
                .await
                .expect("list");
        }
        let prepared: i64 = conn
            .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
            .await
            .expect("prepared")
            .get(0);
        let cached = conn.statement_cache.size();
        let mut tx = conn.transaction().await.expect("begin");
        let case = Case::insert_async(&mut tx, actor, &new_case(actor_id, "P-tx"))
            .await
            .expect("insert in a pooled transaction");
        tx.commit().await.expect("commit");
        assert_eq!(conn.statement_cache.size(), cached, "the same statement");
        assert!(case.title.is_some());
        (prepared, cached)
    });
    // insert and get (fetch), each prepared once; the listing is planned per call. (The
    // statement cache may hold the client's own type lookups besides.)
    assert!(cached.1 >= 2, "{cached:?}");
    assert!(
        cached.0 >= 2 && cached.0 <= cached.1 as i64 + 1,
        "{cached:?}"
    );
    let audit_before = audit(&mut client).len();
    let pool = std::sync::Arc::new(pool);
    let key = std::sync::Arc::new(actor_key);
    let data_key = std::sync::Arc::new(data_key);
    rt.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let (pool, key, data_key) = (pool.clone(), key.clone(), data_key.clone());
            tasks.push(tokio::spawn(async move {
                let actor = key.actor(actor_id).with_data_key(&data_key);
                for i in 0..25 {
                    let mut conn = pool.get().await.expect("pooled connection");
                    Case::insert_async(
                        &mut conn,
                        actor,
                        &new_case(actor_id, &format!("C-{t}-{i}")),
                    )
                    .await
                    .expect("insert");
                }
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
    });
    assert_eq!(audit(&mut client).len() - audit_before, 200);
    let cases: i64 = client
        .query_one(
            "SELECT count(*) FROM cases WHERE case_number LIKE 'C-%'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(cases, 200);
    drop(pool);
    drop(rt);
    drop(db);
}
