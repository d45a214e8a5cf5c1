//! Connection security on real servers: `pgconn::connect` (the one connect function of the
//! runner, `codegen drift`/`introspect`, `lint --database-url` and the repositories) against a
//! throwaway cluster with TLS (`hostssl` only, certificate for `localhost` from a CA made at
//! start) and one without TLS, in every `sslmode`.

use std::path::PathBuf;

use e2e::pg::{self, CERT_HOST, TCP_PASSWORD, TcpCluster, TestDb};
use migrate::runner::Runner;
use pgconn::{ConnectError, ErrorKind};
use postgres::Client;
use repo_runtime::{AuditKey, PageRequest};
use uuid::Uuid;

/// Whether the session of `client` is encrypted, as the server sees it.
fn ssl_in_use(client: &mut Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("query pg_stat_ssl")
        .get(0)
}

fn connect(conninfo: &str) -> Client {
    pgconn::connect(conninfo).unwrap_or_else(|e| panic!("{e}"))
}

fn failure(conninfo: &str) -> ConnectError {
    match pgconn::connect(conninfo) {
        Ok(_) => panic!(
            "connected, but should not have: {}",
            pgconn::redact(conninfo)
        ),
        Err(e) => {
            // Shown with `--nocapture`, to read the messages as a user would.
            eprintln!("{e}\n");
            e
        }
    }
}

fn tls() -> &'static TcpCluster {
    pg::tls_cluster()
}

fn plain() -> &'static TcpCluster {
    pg::plain_tcp_cluster()
}

/// A URL for `localhost` (the certificate's name) that skips the name lookup.
fn localhost_url(cluster: &TcpCluster, db: &TestDb, params: &str) -> String {
    cluster.url(CERT_HOST, db, &format!("hostaddr=127.0.0.1&{params}"))
}

fn ca() -> String {
    tls().ca_cert().display().to_string()
}

/// A CA certificate that did not sign the test servers' certificates.
fn unrelated_ca() -> PathBuf {
    tls().unrelated_ca_cert().to_path_buf()
}

/// Every message must name the connection and never show the password.
fn assert_names_the_connection(e: &ConnectError, db: &TestDb, port: u16, sslmode: &str) {
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "port={port} dbname={} user=postgres sslmode={sslmode}",
            db.name()
        )),
        "the message names port, database, user and sslmode: {text}"
    );
    assert!(
        !text.contains(TCP_PASSWORD),
        "the password must not be printed: {text}"
    );
}

#[test]
fn verify_full_with_the_ca_connects_encrypted() {
    let db = tls().cluster().create_database("tls_verify_full");
    let url = tls().verify_full_url(&db, tls().ca_cert(), "");
    let mut client = connect(&url);
    assert!(ssl_in_use(&mut client), "verify-full must encrypt");
    let version: String = client
        .query_one(
            "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("tls version")
        .get(0);
    assert!(version.starts_with("TLSv1."), "{version}");

    // The same in libpq's key=value form.
    let kv = format!(
        "host={CERT_HOST} hostaddr=127.0.0.1 port={} user=postgres password={TCP_PASSWORD} \
         dbname={} sslmode=verify-full sslrootcert='{}'",
        tls().port(),
        db.name(),
        ca()
    );
    assert!(ssl_in_use(&mut connect(&kv)));
}

#[test]
fn require_encrypts_without_checking_the_certificate() {
    let db = tls().cluster().create_database("tls_require");
    // No CA and a host name the certificate does not carry: require does not authenticate.
    let url = tls().url("127.0.0.1", &db, "sslmode=require");
    assert!(ssl_in_use(&mut connect(&url)), "require must encrypt");
}

#[test]
fn verify_full_with_a_wrong_ca_fails_clearly() {
    let db = tls().cluster().create_database("tls_wrong_ca");
    let wrong = unrelated_ca();
    let url = tls().verify_full_url(&db, &wrong, "");
    let e = failure(&url);
    assert_eq!(e.kind(), ErrorKind::CertificateRejected, "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "the server's certificate is not signed by a CA trusted here (sslrootcert={})",
            wrong.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "set sslrootcert to the PEM file of the CA that signed the server's certificate"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("(host={CERT_HOST} hostaddr=127.0.0.1 port=")),
        "{text}"
    );
    assert_names_the_connection(&e, &db, tls().port(), "verify-full");

    // With a root certificate given, require and verify-ca check the chain too (as libpq does).
    for mode in ["require", "verify-ca"] {
        let url = localhost_url(
            tls(),
            &db,
            &format!("sslmode={mode}&sslrootcert={}", wrong.display()),
        );
        let e = failure(&url);
        assert_eq!(e.kind(), ErrorKind::CertificateRejected, "{mode}: {e}");
    }

    // Without sslrootcert, verify-full trusts the system's CAs, which did not sign a test CA.
    let e = failure(&localhost_url(tls(), &db, "sslmode=verify-full"));
    assert_eq!(e.kind(), ErrorKind::CertificateRejected, "{e}");
    assert!(
        e.to_string()
            .contains("trusted here (the system's trusted CA certificates)"),
        "{e}"
    );
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let db = tls().cluster().create_database("tls_host_name");
    // The certificate names `localhost` only; connect by address.
    let full = tls().url(
        "127.0.0.1",
        &db,
        &format!("sslmode=verify-full&sslrootcert={}", ca()),
    );
    let e = failure(&full);
    assert_eq!(e.kind(), ErrorKind::CertificateRejected, "{e}");
    assert!(
        e.to_string()
            .contains("the server's certificate is not valid for the host name connected to"),
        "{e}"
    );
    assert!(
        e.to_string().contains("sslmode=verify-ca"),
        "the hint names the way out: {e}"
    );
    assert_names_the_connection(&e, &db, tls().port(), "verify-full");

    let ca_only = tls().url(
        "127.0.0.1",
        &db,
        &format!("sslmode=verify-ca&sslrootcert={}", ca()),
    );
    assert!(ssl_in_use(&mut connect(&ca_only)), "verify-ca must encrypt");
}

#[test]
fn requiring_tls_from_a_server_without_it_fails_clearly() {
    let db = plain().cluster().create_database("plain_require");
    for mode in ["require", "verify-ca", "verify-full"] {
        let url = plain().url(
            "127.0.0.1",
            &db,
            &format!("sslmode={mode}&sslrootcert={}", ca()),
        );
        let e = failure(&url);
        assert_eq!(e.kind(), ErrorKind::TlsNotSupported, "{mode}: {e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!(
                "the server does not support TLS (it declined the SSL request), and sslmode={mode} requires it"
            )),
            "{text}"
        );
        assert!(
            text.contains("enable TLS on the server (ssl = on")
                && text.contains("set sslmode=disable"),
            "{text}"
        );
        assert!(text.contains("(host=127.0.0.1 port="), "{text}");
        assert_names_the_connection(&e, &db, plain().port(), mode);
    }
}

#[test]
fn disable_and_prefer_work() {
    let plain_db = plain().cluster().create_database("plain_disable_prefer");
    for params in ["sslmode=disable", "sslmode=prefer", ""] {
        let mut client = connect(&plain().url("127.0.0.1", &plain_db, params));
        assert!(
            !ssl_in_use(&mut client),
            "`{params}` on a server without TLS"
        );
    }
    let tls_db = tls().cluster().create_database("tls_disable_prefer");
    // prefer (also the default) encrypts when the server offers TLS.
    for params in ["sslmode=prefer", ""] {
        let mut client = connect(&tls().url("127.0.0.1", &tls_db, params));
        assert!(ssl_in_use(&mut client), "`{params}` on a server with TLS");
    }
    // disable does not, and the server's hostssl line turns it away: say so.
    let e = failure(&tls().url("127.0.0.1", &tls_db, "sslmode=disable"));
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("no pg_hba.conf entry") && text.contains("no encryption"),
        "{text}"
    );
    assert!(
        text.contains(
            "the server accepts this connection only over TLS (a hostssl line in pg_hba.conf)"
        ),
        "{text}"
    );
    assert_names_the_connection(&e, &tls_db, tls().port(), "disable");
}

#[test]
fn prefer_retries_without_tls_when_the_handshake_fails() {
    let db = tls().cluster().create_database("tls_prefer_fallback");
    // A CA that does not match makes the handshake fail; prefer then tries unencrypted, which
    // this server refuses. Both attempts are in the message.
    let url = tls().url(
        "127.0.0.1",
        &db,
        &format!("sslmode=prefer&sslrootcert={}", unrelated_ca().display()),
    );
    let e = failure(&url);
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    let text = e.to_string();
    assert!(text.contains("no encryption"), "{text}");
    assert!(
        text.contains("(a TLS connection failed first: the server's certificate is not signed by a CA trusted here"),
        "{text}"
    );
}

#[test]
fn allow_encrypts_only_when_the_server_insists() {
    let tls_db = tls().cluster().create_database("tls_allow");
    assert!(ssl_in_use(&mut connect(&tls().url(
        "127.0.0.1",
        &tls_db,
        "sslmode=allow"
    ))));
    let plain_db = plain().cluster().create_database("plain_allow");
    assert!(!ssl_in_use(&mut connect(&plain().url(
        "127.0.0.1",
        &plain_db,
        "sslmode=allow"
    ))));
}

#[test]
fn sslmode_does_not_apply_to_unix_sockets() {
    // As in libpq: PostgreSQL never encrypts Unix-socket connections, so sslmode is ignored there.
    let db = pg::cluster().create_database("unix_sslmode");
    for mode in ["require", "verify-full"] {
        let mut client = connect(&format!("{} sslmode={mode}", db.conn_string()));
        assert!(!ssl_in_use(&mut client), "{mode}");
    }
}

/// Whether the server sees the session named `application_name` as encrypted.
fn session_encrypted(cluster: &TcpCluster, application_name: &str) -> Option<bool> {
    cluster
        .cluster()
        .connect_admin()
        .query_opt(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = $1",
            &[&application_name],
        )
        .expect("pg_stat_ssl")
        .map(|row| row.get(0))
}

#[test]
fn the_runner_and_the_repositories_work_over_verify_full() {
    let db = tls().cluster().create_database("tls_runner_repo");
    let app = format!("runner_{}", db.name());
    let url = tls().verify_full_url(&db, tls().ca_cert(), &format!("application_name={app}"));
    let migrations = e2e::migrations::committed().migrations;
    let count = migrations.len();
    let mut runner = Runner::connect(&url, migrations).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        session_encrypted(tls(), &app),
        Some(true),
        "the runner's session is encrypted"
    );
    let applied = runner.upgrade().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied.len(), count, "{applied:?}");
    drop(runner);

    // An application opens its connection with repo_runtime::connect, the same function.
    let mut client = repo_runtime::connect(&url).unwrap_or_else(|e| panic!("{e}"));
    assert!(ssl_in_use(&mut client));
    let actor_id: Uuid = client
        .query_one(
            "INSERT INTO users (username, email) VALUES ('tls-actor', 'tls@example.org') RETURNING id",
            &[],
        )
        .expect("insert a user")
        .get(0);
    let key = AuditKey::new(&[0x5a; 32]).expect("key");
    let page = dental_schema::User::list(&mut client, key.actor(actor_id), &PageRequest::first(10))
        .expect("list users over TLS");
    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![actor_id]
    );

    // And a runner pointed at the wrong CA refuses, naming the server.
    let wrong = tls().verify_full_url(&db, &unrelated_ca(), "");
    let err = Runner::connect(&wrong, Vec::new()).expect_err("wrong CA");
    assert!(err.contains("not signed by a CA trusted here"), "{err}");
    assert!(!err.contains(TCP_PASSWORD), "{err}");
}
