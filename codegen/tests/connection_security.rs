//! The `codegen` binary over TLS: `codegen db upgrade` applies migrations, and `codegen drift`
//! reads the live schema, with `sslmode=verify-full&sslrootcert=...` in `DATABASE_URL` (or
//! `--database-url`), against a throwaway server that accepts TCP connections only over TLS.
//! A wrong CA is refused with a message naming the server and not the password.

use std::path::PathBuf;

use e2e::pg::{self, CERT_HOST, TCP_PASSWORD};

mod common;

use common::{codegen, text};

/// A scratch project with a small schema and its first migration generated.
fn project(name: &str) -> PathBuf {
    let dir = common::project("tls", name);
    let generate = codegen(&dir, &[], None);
    assert!(generate.status.success(), "{}", text(&generate));
    dir
}

#[test]
fn db_upgrade_and_drift_over_verify_full() {
    let dir = project("upgrade");
    let tls = pg::tls_cluster();
    let db = tls.cluster().create_database("cli_tls_upgrade");
    let url = tls.verify_full_url(&db, tls.ca_cert(), "");

    let up = codegen(&dir, &["db", "upgrade"], Some(&url));
    assert!(
        up.status.success() && text(&up).contains("applied  0001_initial"),
        "{}",
        text(&up)
    );
    let applied: Vec<String> = db
        .connect()
        .query("SELECT id FROM codegen.migrations ORDER BY number", &[])
        .expect("read codegen.migrations")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(applied, ["0001_initial"]);
    assert!(
        db.connect()
            .query_one("SELECT to_regclass('public.notes') IS NOT NULL", &[])
            .expect("notes")
            .get::<_, bool>(0),
        "the migration ran"
    );

    let check = codegen(&dir, &["db", "check"], Some(&url));
    assert!(
        check.status.success() && text(&check).contains("pending migrations: 0"),
        "{}",
        text(&check)
    );
    assert!(!text(&check).contains(TCP_PASSWORD), "{}", text(&check));

    // `drift` connects through the same function (codegen's main.rs).
    let drift = codegen(&dir, &["drift", "--database-url", &url], None);
    assert_eq!(drift.status.code(), Some(0), "{}", text(&drift));
    assert!(
        text(&drift).contains("migrations vs database: no differences"),
        "{}",
        text(&drift)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_ca_is_refused_clearly() {
    let dir = project("wrong_ca");
    let tls = pg::tls_cluster();
    let db = tls.cluster().create_database("cli_tls_wrong_ca");
    let url = tls.verify_full_url(&db, tls.unrelated_ca_cert(), "");

    for args in [
        &["db", "upgrade"][..],
        &["drift", "--database-url", &url][..],
    ] {
        let out = codegen(&dir, args, Some(&url));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let message = text(&out);
        assert!(
            message.contains(&format!(
                "cannot connect to postgresql://postgres:***@{CERT_HOST}:{}/{}",
                tls.port(),
                db.name()
            )),
            "{args:?}: {message}"
        );
        assert!(
            message.contains("the server's certificate is not signed by a CA trusted here"),
            "{args:?}: {message}"
        );
        assert!(!message.contains(TCP_PASSWORD), "{args:?}: {message}");
    }
    let tables: i64 = db
        .connect()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'codegen')",
            &[],
        )
        .expect("count tables")
        .get(0);
    assert_eq!(tables, 0, "nothing was applied");
    let _ = std::fs::remove_dir_all(&dir);
}
