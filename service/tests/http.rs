//! The service over HTTP, with a real client, against a throwaway PostgreSQL: `/health` when the
//! database is current, behind, edited or unreachable; `/config` without secrets; unknown paths;
//! many concurrent requests; a graceful stop.

mod support;

use std::time::Duration;

use e2e::pg;
use support::{Service, migrate};

#[test]
fn health_is_200_with_the_details_when_the_database_is_current() {
    let db = pg::cluster().create_database("service_current");
    migrate(&db, None);
    let service = Service::start(&db.url(), &[]);
    let (status, body, _) = service.get("/health");
    assert_eq!(status, 200, "{body:#}");
    let last = e2e::migrations::committed()
        .migrations
        .last()
        .map(|m| m.id.clone())
        .expect("a migration");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "reachable");
    assert_eq!(body["current_migration"], last.as_str());
    assert_eq!(body["expected_migration"], last.as_str());
    assert_eq!(body["pending"], 0);
    assert_eq!(body["checksums"], "ok");
    assert_eq!(body["problems"], serde_json::json!([]));
    assert!(
        body["server_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("15")),
        "{body:#}"
    );
    assert!(
        body["round_trip_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{body:#}"
    );
}

#[test]
fn health_is_503_when_the_database_is_behind_or_edited() {
    let total = e2e::migrations::committed().migrations.len();
    let db = pg::cluster().create_database("service_behind");
    migrate(&db, Some(total - 1));
    let service = Service::start(&db.url(), &[]);
    let (status, body, _) = service.get("/health");
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "reachable");
    assert_eq!(body["pending"], 1);
    assert!(
        body["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("behind: 1 migration(s) pending")
                && p.contains("codegen db upgrade")),
        "{body:#}"
    );

    db.connect()
        .batch_execute("UPDATE codegen.migrations SET checksum = repeat('0', 64) WHERE number = 1")
        .expect("tamper");
    let (status, body, _) = service.get("/health");
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["checksums"], "mismatch");
    assert!(
        body["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("was edited")),
        "{body:#}"
    );
}

#[test]
fn health_is_503_within_seconds_when_the_database_cannot_be_reached() {
    // Nothing listens there: a socket directory without a server.
    let url = "postgresql://app:s3cret-pw@%2Fnonexistent-socket-dir:5432/dental";
    let service = Service::start(url, &[("HEALTH_TIMEOUT_MS", "2000")]);
    let (status, body, took) = service.get("/health");
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["database"], "unreachable");
    assert_eq!(body["checksums"], "unknown");
    let problem = body["problems"][0].as_str().unwrap_or_default().to_string();
    assert!(
        problem.contains("cannot get a database connection to postgresql://app:")
            && problem.contains("nonexistent-socket-dir"),
        "{problem}"
    );
    assert!(!body.to_string().contains("s3cret-pw"), "{body:#}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn config_shows_the_effective_settings_and_hides_secrets() {
    let db = pg::cluster().create_database("service_config");
    let url = format!("{}?password=s3cret-pw", db.url());
    let audit_key = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";
    let data_key = "da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a0da7a";
    let service = Service::start(
        &url,
        &[
            ("AUDIT_HMAC_KEY", audit_key),
            ("DATA_ENCRYPTION_KEY", data_key),
            ("POOL_MAX_SIZE", "7"),
        ],
    );
    let (status, body, _) = service.get("/config");
    assert_eq!(status, 200, "{body:#}");
    let text = body.to_string();
    for secret in ["s3cret-pw", "5ec7e75ec7e7", "da7a0da7a0da"] {
        assert!(!text.contains(secret), "{secret} shown: {body:#}");
    }
    assert_eq!(body["audit_hmac_key"], "set");
    assert_eq!(body["data_encryption_key"], "set");
    assert_eq!(body["pool_max_size"], 7);
    assert_eq!(body["host"], "127.0.0.1");
    assert!(
        body["database_url"]
            .as_str()
            .is_some_and(|u| u.contains(db.name())),
        "{body:#}"
    );
}

#[test]
fn unknown_paths_are_404_in_json() {
    let db = pg::cluster().create_database("service_404");
    let service = Service::start(&db.url(), &[]);
    let (status, body, _) = service.get("/patients?name=Jane");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not found");
    assert_eq!(body["path"], "/patients");
}

#[test]
fn a_hundred_concurrent_health_checks_all_answer() {
    let db = pg::cluster().create_database("service_concurrent");
    migrate(&db, None);
    let service = Service::start(&db.url(), &[("POOL_MAX_SIZE", "4")]);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..100)
            .map(|_| scope.spawn(|| service.get("/health").0))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    });
    assert_eq!(statuses, vec![200; 100]);
}

#[test]
fn sigterm_stops_the_service_cleanly() {
    let db = pg::cluster().create_database("service_stop");
    let service = Service::start(&db.url(), &[]);
    assert_eq!(service.get("/config").0, 200);
    assert!(service.terminate(), "exit status after SIGTERM");
}

#[test]
fn bad_settings_stop_the_service_with_a_message() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dental-service"))
        .env("PORT", "eighty")
        .output()
        .expect("run the service");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("PORT=`eighty` is not a whole number"),
        "{output:?}"
    );
}
