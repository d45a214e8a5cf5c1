//! Tests of the throwaway-cluster harness itself (`e2e::pg`).

use std::sync::Barrier;
use std::thread;

use e2e::pg::{self, TestDb};
use postgres::{Client, NoTls};

/// Whether a table named `name` exists in the `public` schema of `client`'s database.
fn table_exists(client: &mut Client, name: &str) -> bool {
    client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1)",
            &[&name],
        )
        .expect("query pg_tables")
        .get(0)
}

fn database_exists(name: &str) -> bool {
    pg::cluster()
        .connect_admin()
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
            &[&name],
        )
        .expect("query pg_database")
        .get(0)
}

#[test]
fn server_is_postgres_15() {
    let db = pg::cluster().create_database("server_version");
    let version: String = db
        .connect()
        .query_one("SHOW server_version", &[])
        .expect("SHOW server_version")
        .get(0);
    assert!(version.starts_with("15"), "server_version is {version:?}");
}

/// The speed settings come from `postgresql.conf`, not the command line, so that a process
/// can turn durability back on (as the audited insert benchmark does).
#[test]
fn durability_is_off_in_the_configuration_file() {
    let mut admin = pg::cluster().connect_admin();
    let setting = |client: &mut Client, name: &str| -> (String, String) {
        let row = client
            .query_one(
                "SELECT setting, source FROM pg_settings WHERE name = $1",
                &[&name],
            )
            .expect("pg_settings");
        (row.get(0), row.get(1))
    };
    for name in ["fsync", "synchronous_commit", "full_page_writes"] {
        assert_eq!(
            setting(&mut admin, name),
            ("off".to_owned(), "configuration file".to_owned()),
            "{name}"
        );
    }
}

#[test]
fn cluster_is_private_and_tools_are_there() {
    let cluster = pg::cluster();
    assert!(cluster.socket_dir().starts_with(std::env::temp_dir()));
    assert!(
        cluster
            .socket_dir()
            .join(format!(".s.PGSQL.{}", cluster.port()))
            .exists(),
        "no socket file in {}",
        cluster.socket_dir().display()
    );
    assert!(cluster.bin_dir().join("pg_dump").is_file());
    // Unix socket only: no TCP listener.
    let listen: String = cluster
        .connect_admin()
        .query_one("SHOW listen_addresses", &[])
        .expect("SHOW listen_addresses")
        .get(0);
    assert_eq!(listen, "");
}

#[test]
fn concurrent_databases_are_distinct_and_isolated() {
    const THREADS: usize = 8;
    let barrier = Barrier::new(THREADS);
    let dbs: Vec<TestDb> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let db = pg::cluster().create_database(&format!("isolated {i}"));
                    // Each database gets a table of its own.
                    db.connect()
                        .batch_execute(&format!("CREATE TABLE only_in_{i} (id int)"))
                        .expect("create table");
                    db
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("creating thread panicked"))
            .collect()
    });

    let mut names: Vec<&str> = dbs.iter().map(TestDb::name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), THREADS, "database names collide: {names:?}");

    for (i, db) in dbs.iter().enumerate() {
        let mut client = db.connect();
        for j in 0..THREADS {
            assert_eq!(
                table_exists(&mut client, &format!("only_in_{j}")),
                i == j,
                "table only_in_{j} in database {} (made for thread {i})",
                db.name()
            );
        }
    }
}

#[test]
fn database_is_dropped_with_its_test_db() {
    let db = pg::cluster().create_database("dropped");
    let name = db.name().to_owned();
    // An open connection must not keep the database alive (DROP ... WITH (FORCE)).
    let mut open = db.connect();
    open.batch_execute("CREATE TABLE t (id int)")
        .expect("create table");
    assert!(database_exists(&name), "{name} missing before drop");
    drop(db);
    assert!(!database_exists(&name), "{name} still exists after drop");
    assert!(
        open.batch_execute("SELECT 1").is_err(),
        "connection survived DROP DATABASE"
    );
}

#[test]
fn url_and_conn_string_work_with_the_postgres_crate() {
    let db = pg::cluster().create_database("url");
    let url = db.url();
    assert!(url.starts_with("postgresql://"), "{url}");
    for target in [url, db.conn_string()] {
        let mut client =
            Client::connect(&target, NoTls).unwrap_or_else(|e| panic!("connect to {target}: {e}"));
        let current: String = client
            .query_one("SELECT current_database()", &[])
            .expect("current_database()")
            .get(0);
        assert_eq!(current, db.name(), "via {target}");
    }
    assert_eq!(db.url(), pg::cluster().url(db.name()));
    assert_eq!(db.conn_string(), pg::cluster().conn_string(db.name()));
}
