//! `lint --database-url` over TLS: the live catalog is read with `sslmode=verify-full` against a
//! throwaway server that accepts TCP connections only over TLS, and a wrong CA is refused with a
//! message naming the server and not the password.

mod common;

use std::process::{Command, Output};

use e2e::pg::{self, CERT_HOST, TCP_PASSWORD};

fn lint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run lint")
}

#[test]
fn database_url_with_verify_full() {
    let tls = pg::tls_cluster();
    let db = tls.cluster().create_database("lint_tls");
    db.connect()
        .batch_execute("CREATE TABLE scans (id uuid PRIMARY KEY, meta jsonb)")
        .expect("create a table");

    let out = lint(&[
        "--database-url",
        &tls.verify_full_url(&db, tls.ca_cert(), ""),
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "one error expected: {stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    let rules = common::json_rules(&json);
    assert_eq!(rules, ["jsonb-needs-gin"], "{json}");
    assert!(!json.to_string().contains(TCP_PASSWORD), "{json}");

    let wrong = lint(&[
        "--database-url",
        &tls.verify_full_url(&db, tls.unrelated_ca_cert(), ""),
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        message.contains(&format!(
            "lint: cannot connect to postgresql://postgres:***@{CERT_HOST}:{}/{}",
            tls.port(),
            db.name()
        )) && message.contains("the server's certificate is not signed by a CA trusted here"),
        "{message}"
    );
    assert!(!message.contains(TCP_PASSWORD), "{message}");
}
