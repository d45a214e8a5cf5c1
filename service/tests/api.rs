//! The API over HTTP, with a real client, against a throwaway PostgreSQL: cases and jobs through
//! the audited repositories, HTTP Basic sign-in against `users` (Argon2id), one login audit row
//! and one audit row per call with no planted PHI/PII in clear, JSON 4xx for the client's
//! mistakes, the database role's grants enforced through `SET LOCAL ROLE`, 100 concurrent calls.

mod support;

use std::collections::BTreeMap;

use base64::Engine as _;
use e2e::pg::{self, TestDb};
use serde_json::{Value, json};
use support::{Service, migrate};

const AUDIT_KEY: &str = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";
const DATA_KEY: &str = "da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a";
/// Planted in every PHI/PII value the tests send: it must never reach `audit_logs` in clear.
const MARKER: &str = "PHIMARK3R";

/// A migrated database, a user per role (password `<name>-pw`), and the service on it.
struct Api {
    db: TestDb,
    service: Service,
}

impl Api {
    fn start(hint: &str, env: &[(&str, &str)]) -> Api {
        let db = pg::cluster().create_database(hint);
        migrate(&db, None);
        let mut client = db.connect();
        for (name, role) in [("olivia", "operator"), ("sam", "service"), ("ada", "admin")] {
            add_user(&mut client, name, role, true);
        }
        add_user(&mut client, "ivan", "operator", false);
        let mut all = vec![
            ("AUDIT_HMAC_KEY", AUDIT_KEY),
            ("DATA_ENCRYPTION_KEY", DATA_KEY),
        ];
        all.extend_from_slice(env);
        let service = Service::start(&db.url(), &all);
        Api { db, service }
    }

    /// A call as `user` (password `<user>-pw`) with the request id `request_id`.
    fn call(
        &self,
        user: &str,
        method: &str,
        path: &str,
        request_id: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let text = body.map(Value::to_string);
        let (status, json, headers) = self.service.send(
            method,
            path,
            &[
                ("authorization", basic(user, &format!("{user}-pw"))),
                ("x-request-id", request_id.to_string()),
            ],
            text.as_deref(),
        );
        assert_eq!(
            headers.get("x-request-id").and_then(|v| v.to_str().ok()),
            Some(request_id),
            "{method} {path}: the request id is echoed"
        );
        (status, json)
    }

    /// `(event_type, action, success)` of each audit row, by request id.
    fn audit_by_request(&self) -> BTreeMap<String, Vec<(String, String, bool)>> {
        let mut rows: BTreeMap<String, Vec<(String, String, bool)>> = BTreeMap::new();
        for row in self
            .db
            .connect()
            .query(
                "SELECT coalesce(request_id, ''), event_type::text, coalesce(action, ''), success
                 FROM audit_logs ORDER BY timestamp, id",
                &[],
            )
            .expect("audit rows")
        {
            rows.entry(row.get(0))
                .or_default()
                .push((row.get(1), row.get(2), row.get(3)));
        }
        rows
    }

    /// Every planted marker found in `audit_logs`, whatever the column.
    fn markers_in_audit(&self, markers: &[&str]) -> Vec<String> {
        let mut client = self.db.connect();
        markers
            .iter()
            .filter(|m| {
                let found: i64 = client
                    .query_one(
                        "SELECT count(*) FROM audit_logs a WHERE strpos(a::text, $1) > 0",
                        &[&m.to_string()],
                    )
                    .expect("search")
                    .get(0);
                found > 0
            })
            .map(|m| (*m).to_string())
            .collect()
    }
}

fn add_user(client: &mut postgres::Client, name: &str, role: &str, active: bool) {
    // A cheap Argon2id cost: the tests sign in hundreds of times; the service reads the cost
    // from the hash.
    let hash = dental_service::auth::hash_password(&format!("{name}-pw"), 64, 1).expect("hash");
    client
        .execute(
            "INSERT INTO users (username, email, password_hash, role, is_active)
             VALUES ($1, $1 || '@example.org', $2, $3::text::user_role, $4)",
            &[&name, &hash, &role, &active],
        )
        .expect("user");
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn new_case(number: &str) -> Value {
    json!({
        "case_number": number,
        "patient_id": format!("patient-{MARKER}-{number}"),
        "title": format!("title {MARKER}"),
        "case_metadata": { "referral": MARKER },
        "processing_consent": "granted",
    })
}

fn assert_json_error(status: u16, body: &Value, expected: u16, what: &str) {
    assert_eq!(status, expected, "{what}: {body:#}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: a JSON error body: {body:#}"
    );
    assert_eq!(body["status"], expected, "{what}: {body:#}");
}

/// Create, get, list by status page by page (both orders), update, soft delete: each call one
/// login row and one audit row of its own, and no planted PHI in clear in the audit log.
#[test]
fn cases_create_get_list_update_and_delete() {
    let api = Api::start("api_cases", &[]);
    let mut ids = Vec::new();
    for n in 0..3 {
        let (status, case) = api.call(
            "olivia",
            "POST",
            "/cases",
            &format!("create-{n}"),
            Some(&new_case(&format!("C-{n}"))),
        );
        assert_eq!(status, 201, "{case:#}");
        assert_eq!(case["status"], "new");
        assert_eq!(case["title"], format!("title {MARKER}"), "decrypted");
        ids.push(case["id"].as_str().expect("id").to_string());
    }
    let (status, case) = api.call("olivia", "GET", &format!("/cases/{}", ids[1]), "get", None);
    assert_eq!(status, 200, "{case:#}");
    assert_eq!(case["case_number"], "C-1");

    // Two pages of two, oldest first, then newest first.
    let mut listed = Vec::new();
    let mut path = "/cases?status=new&limit=2".to_string();
    for page in 0.. {
        let (status, body) = api.call("olivia", "GET", &path, &format!("list-{page}"), None);
        assert_eq!(status, 200, "{body:#}");
        for item in body["items"].as_array().expect("items") {
            listed.push(item["id"].as_str().expect("id").to_string());
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/cases?status=new&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed, ids, "oldest first, every case once");
    let (status, body) = api.call(
        "olivia",
        "GET",
        "/cases?status=new&order=desc&limit=1",
        "list-desc",
        None,
    );
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["items"][0]["id"], ids[2].as_str(), "newest first");

    let (status, case) = api.call(
        "olivia",
        "PATCH",
        &format!("/cases/{}", ids[0]),
        "update",
        Some(
            &json!({ "status": "in_progress", "notes": format!("notes {MARKER}"), "title": null }),
        ),
    );
    assert_eq!(status, 200, "{case:#}");
    assert_eq!(case["status"], "in_progress");
    assert_eq!(case["title"], Value::Null, "null clears");
    assert_eq!(case["notes"], format!("notes {MARKER}"));

    let (status, body) = api.call(
        "olivia",
        "DELETE",
        &format!("/cases/{}", ids[0]),
        "delete",
        None,
    );
    assert_eq!(status, 204, "{body:#}");
    let (status, body) = api.call(
        "olivia",
        "GET",
        &format!("/cases/{}", ids[0]),
        "get-deleted",
        None,
    );
    assert_json_error(status, &body, 404, "a soft-deleted case");

    let audit = api.audit_by_request();
    let expected_api_rows = [
        ("create-0", "data_create"),
        ("create-1", "data_create"),
        ("create-2", "data_create"),
        ("get", "data_access"),
        ("list-0", "data_access"),
        ("list-1", "data_access"),
        ("list-desc", "data_access"),
        ("update", "data_update"),
        ("delete", "data_delete"),
        ("get-deleted", "data_access"),
    ];
    for (request, event) in expected_api_rows {
        let rows = audit.get(request).cloned().unwrap_or_default();
        assert_eq!(
            rows.len(),
            2,
            "{request}: the login row and one row: {rows:?}"
        );
        assert_eq!(rows[0].0, "login_success", "{request}: {rows:?}");
        assert_eq!(rows[1].0, event, "{request}: {rows:?}");
    }
    assert_eq!(audit.len(), expected_api_rows.len(), "{audit:#?}");
    assert_eq!(api.markers_in_audit(&[MARKER]), Vec::<String>::new());
}

/// Enqueue, claim, complete, fail (back to pending with its attempt counted), and a claim when
/// nothing is runnable.
#[test]
fn jobs_enqueue_claim_complete_and_fail() {
    let api = Api::start("api_jobs", &[]);
    let (status, case) = api.call("olivia", "POST", "/cases", "case", Some(&new_case("J-1")));
    assert_eq!(status, 201, "{case:#}");
    let case_id = case["id"].as_str().expect("id").to_string();

    let mut jobs = Vec::new();
    for (n, priority) in [(0, 1), (1, 5)] {
        let (status, job) = api.call(
            "sam",
            "POST",
            "/jobs",
            &format!("enqueue-{n}"),
            Some(&json!({ "case_id": case_id, "job_type": "segmentation", "priority": priority })),
        );
        assert_eq!(status, 201, "{job:#}");
        assert_eq!(job["status"], "pending");
        jobs.push(job["id"].as_str().expect("id").to_string());
    }
    let (status, claimed) = api.call("sam", "POST", "/jobs/claim", "claim-0", None);
    assert_eq!(status, 200, "{claimed:#}");
    assert_eq!(
        claimed["job"]["id"],
        jobs[1].as_str(),
        "highest priority first"
    );
    assert_eq!(claimed["job"]["status"], "processing");
    assert_eq!(claimed["job"]["attempts"], 1);
    let (status, done) = api.call(
        "sam",
        "POST",
        &format!("/jobs/{}/complete", jobs[1]),
        "complete",
        Some(&json!({ "result": { "teeth": 28 } })),
    );
    assert_eq!(status, 200, "{done:#}");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["result"], json!({ "teeth": 28 }));

    let (status, claimed) = api.call("sam", "POST", "/jobs/claim", "claim-1", None);
    assert_eq!(status, 200, "{claimed:#}");
    assert_eq!(claimed["job"]["id"], jobs[0].as_str());
    let (status, failed) = api.call(
        "sam",
        "POST",
        &format!("/jobs/{}/fail", jobs[0]),
        "fail",
        Some(&json!({ "error": "scanner timeout", "backoff_seconds": 60 })),
    );
    assert_eq!(status, 200, "{failed:#}");
    assert_eq!(failed["status"], "pending", "retried later");
    assert_eq!(failed["attempts"], 1);

    let (status, none) = api.call("sam", "POST", "/jobs/claim", "claim-none", None);
    assert_eq!(status, 200, "{none:#}");
    assert_eq!(none["job"], Value::Null, "the failed job is not due yet");
    let (status, body) = api.call(
        "sam",
        "POST",
        &format!("/jobs/{}/complete", jobs[1]),
        "complete-again",
        None,
    );
    assert_json_error(status, &body, 404, "completing a completed job");

    let audit = api.audit_by_request();
    for (request, rows) in &audit {
        // A claim that finds nothing runnable, a completion of a job that is not processing:
        // nothing changed, no row of their own (a read that finds nothing is audited; these
        // are writes).
        let expected = if ["claim-none", "complete-again"].contains(&request.as_str()) {
            1
        } else {
            2
        };
        assert_eq!(
            rows.len(),
            expected,
            "{request}: the login row and its own: {rows:?}"
        );
        let login = if request == "case" {
            "login_success"
        } else {
            "client_authentication"
        };
        assert_eq!(rows[0].0, login, "{request}: {rows:?}");
    }
    assert_eq!(audit.len(), 9, "{audit:#?}");
}

/// The client's mistakes are 4xx with a JSON body, never a 500; failed sign-ins are audited
/// without the name or the password in clear.
#[test]
fn client_mistakes_are_4xx_json() {
    let api = Api::start("api_errors", &[]);
    let (status, case) = api.call("olivia", "POST", "/cases", "case", Some(&new_case("E-1")));
    assert_eq!(status, 201, "{case:#}");
    let case_id = case["id"].as_str().expect("id").to_string();
    let (status, no_consent) = api.call(
        "olivia",
        "POST",
        "/cases",
        "case-2",
        Some(&json!({ "case_number": "E-2", "patient_id": "p-2" })),
    );
    assert_eq!(status, 201, "{no_consent:#}");
    let no_consent_id = no_consent["id"].as_str().expect("id").to_string();

    // Authentication.
    let (status, body, headers) = api.service.send("GET", "/cases?status=new", &[], None);
    assert_json_error(status, &body, 401, "no credentials");
    assert!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic ")),
        "{headers:?}"
    );
    let email = format!("{}@example.org", MARKER.to_lowercase());
    let password = format!("pw-{MARKER}");
    for (what, authorization) in [
        ("wrong password", basic("olivia", &password)),
        ("unknown email", basic(&email, &password)),
        ("inactive user", basic("ivan", "ivan-pw")),
        ("not Basic", "Bearer abc".to_string()),
        ("not base64", "Basic !!!".to_string()),
    ] {
        let (status, body, headers) = api.service.send(
            "GET",
            "/cases?status=new",
            &[("authorization", authorization)],
            None,
        );
        assert_json_error(status, &body, 401, what);
        assert!(headers.contains_key("www-authenticate"), "{what}");
    }
    let failures: i64 = api
        .db
        .connect()
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE event_type = 'login_failure' AND NOT success",
            &[],
        )
        .expect("failures")
        .get(0);
    assert_eq!(failures, 5, "each failed attempt is audited");
    assert_eq!(
        api.markers_in_audit(&[MARKER, &MARKER.to_lowercase(), &email]),
        Vec::<String>::new(),
        "no name or password in clear"
    );

    // Requests.
    let unknown = uuid::Uuid::new_v4();
    let mistakes: Vec<(&str, &str, String, Option<Value>, u16)> = vec![
        ("bad JSON", "POST", "/cases".into(), Some(json!("{")), 400),
        (
            "wrong type",
            "POST",
            "/cases".into(),
            Some(json!({ "case_number": 7 })),
            400,
        ),
        (
            "unknown field",
            "POST",
            "/cases".into(),
            Some(json!({ "case_number": "E-3", "patient_id": "p", "created_by": unknown })),
            400,
        ),
        ("no body", "POST", "/cases".into(), None, 400),
        (
            "duplicate number",
            "POST",
            "/cases".into(),
            Some(new_case("E-1")),
            409,
        ),
        ("unknown id", "GET", format!("/cases/{unknown}"), None, 404),
        ("not a uuid", "GET", "/cases/42".into(), None, 400),
        (
            "unknown status",
            "GET",
            "/cases?status=lost".into(),
            None,
            400,
        ),
        ("no status", "GET", "/cases".into(), None, 400),
        (
            "page size 0",
            "GET",
            "/cases?status=new&limit=0".into(),
            None,
            400,
        ),
        (
            "forged cursor",
            "GET",
            "/cases?status=new&cursor=abc".into(),
            None,
            400,
        ),
        (
            "empty patch",
            "PATCH",
            format!("/cases/{case_id}"),
            Some(json!({})),
            400,
        ),
        (
            "bad enum in patch",
            "PATCH",
            format!("/cases/{case_id}"),
            Some(json!({ "status": "lost" })),
            400,
        ),
        (
            "update unknown",
            "PATCH",
            format!("/cases/{unknown}"),
            Some(json!({ "status": "completed" })),
            404,
        ),
        (
            "delete unknown",
            "DELETE",
            format!("/cases/{unknown}"),
            None,
            404,
        ),
        (
            "job without consent",
            "POST",
            "/jobs".into(),
            Some(json!({ "case_id": no_consent_id, "job_type": "thumbnail" })),
            422,
        ),
        (
            "job of an unknown case",
            "POST",
            "/jobs".into(),
            Some(json!({ "case_id": unknown, "job_type": "thumbnail" })),
            // The consent trigger finds no consenting case before the foreign key is checked.
            422,
        ),
        (
            "complete unknown job",
            "POST",
            format!("/jobs/{unknown}/complete"),
            None,
            404,
        ),
        (
            "fail without error",
            "POST",
            format!("/jobs/{unknown}/fail"),
            Some(json!({})),
            400,
        ),
        (
            "back-off too long",
            "POST",
            format!("/jobs/{unknown}/fail"),
            Some(json!({ "error": "x", "backoff_seconds": 1u64 << 40 })),
            400,
        ),
        ("method", "PUT", "/jobs/claim".into(), None, 405),
    ];
    for (what, method, path, body, expected) in &mistakes {
        // "bad JSON" sends the text `{`, not the JSON string.
        let text = match body {
            Some(Value::String(raw)) => Some(raw.clone()),
            Some(value) => Some(value.to_string()),
            None => None,
        };
        let (status, response, _) = api.service.send(
            method,
            path,
            &[("authorization", basic("olivia", "olivia-pw"))],
            text.as_deref(),
        );
        assert_json_error(status, &response, *expected, what);
    }
}

/// Each request runs under the database role of the user's role: a `service` account may read
/// a case and queue a job, but creating, changing or deleting a case is refused by the grants
/// (403), not by the service; an admin may.
#[test]
fn the_database_role_of_the_user_is_enforced() {
    let api = Api::start("api_roles", &[]);
    let (status, case) = api.call("olivia", "POST", "/cases", "case", Some(&new_case("R-1")));
    assert_eq!(status, 201, "{case:#}");
    let id = case["id"].as_str().expect("id").to_string();

    let (status, body) = api.call(
        "sam",
        "POST",
        "/cases",
        "sam-create",
        Some(&new_case("R-2")),
    );
    assert_json_error(status, &body, 403, "service creates a case");
    let (status, body) = api.call(
        "sam",
        "PATCH",
        &format!("/cases/{id}"),
        "sam-update",
        Some(&json!({ "status": "completed" })),
    );
    assert_json_error(status, &body, 403, "service updates a case");
    let (status, body) = api.call("sam", "DELETE", &format!("/cases/{id}"), "sam-delete", None);
    assert_json_error(status, &body, 403, "service deletes a case");
    let (status, body) = api.call("sam", "GET", &format!("/cases/{id}"), "sam-get", None);
    assert_eq!(status, 200, "service reads a case: {body:#}");

    let (status, body) = api.call("ada", "DELETE", &format!("/cases/{id}"), "ada-delete", None);
    assert_eq!(status, 204, "admin deletes a case: {body:#}");

    let refused: i64 = api
        .db
        .connect()
        .query_one("SELECT count(*) FROM cases WHERE case_number = 'R-2'", &[])
        .expect("count")
        .get(0);
    assert_eq!(refused, 0, "nothing written by a refused call");
    let audit = api.audit_by_request();
    for request in ["sam-create", "sam-update", "sam-delete"] {
        let rows = &audit[request];
        assert_eq!(
            rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["client_authentication"],
            "{request}: only the sign-in, the refused change left nothing"
        );
    }
}

/// 100 concurrent creates through the default pool (16 connections) all succeed, each with its
/// two audit rows.
#[test]
fn a_hundred_concurrent_api_calls_all_succeed() {
    let api = Api::start("api_concurrent", &[]);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..100)
            .map(|n| {
                let api = &api;
                scope.spawn(move || {
                    let number = format!("P-{n}");
                    api.call(
                        "olivia",
                        "POST",
                        "/cases",
                        &number,
                        Some(&new_case(&number)),
                    )
                    .0
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    });
    assert_eq!(statuses, vec![201; 100]);
    let audit = api.audit_by_request();
    assert_eq!(audit.len(), 100);
    assert!(audit.values().all(|rows| rows.len() == 2), "{audit:#?}");
}

/// Without the repositories' keys the API answers 503 in JSON (health and config still work).
#[test]
fn without_keys_the_api_is_unavailable() {
    let db = pg::cluster().create_database("api_no_keys");
    migrate(&db, None);
    let service = Service::start(&db.url(), &[]);
    let (status, body, _) = service.send(
        "GET",
        "/cases?status=new",
        &[("authorization", basic("olivia", "olivia-pw"))],
        None,
    );
    assert_json_error(status, &body, 503, "no keys");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("AUDIT_HMAC_KEY")),
        "{body:#}"
    );
}

/// A verified sign-in is remembered for a few minutes (Argon2 once, not on every call), but
/// never past a change of the account: a new password hash refuses the old password at once,
/// and so does deactivating the account.
#[test]
fn a_remembered_sign_in_follows_the_account() {
    let api = Api::start("api_remembered", &[]);
    let list = |request_id: &str| {
        api.call("olivia", "GET", "/cases?status=new", request_id, None)
            .0
    };
    assert_eq!(list("first"), 200);
    assert_eq!(list("remembered"), 200);
    let set_password = |password: &str| {
        let hash = dental_service::auth::hash_password(password, 64, 1).expect("hash");
        api.db
            .connect()
            .execute(
                "UPDATE users SET password_hash = $1 WHERE username = 'olivia'",
                &[&hash],
            )
            .expect("new password");
    };
    set_password("another-pw");
    assert_eq!(list("old-password"), 401, "the old password after a change");
    set_password("olivia-pw");
    assert_eq!(list("set-back"), 200);
    assert_eq!(list("set-back-remembered"), 200);
    api.db
        .connect()
        .execute(
            "UPDATE users SET is_active = false WHERE username = 'olivia'",
            &[],
        )
        .expect("deactivate");
    assert_eq!(list("deactivated"), 401, "a deactivated account");
    let audit = api.audit_by_request();
    assert_eq!(audit["old-password"][0].0, "login_failure");
    assert_eq!(audit["deactivated"][0].0, "login_failure");
    assert_eq!(audit["remembered"][0].0, "login_success", "still audited");
}
