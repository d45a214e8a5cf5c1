//! A throwaway PostgreSQL 15 cluster per test process, one database per test.
//!
//! The first call to [`cluster()`] runs `initdb` into a fresh directory under
//! [`std::env::temp_dir()`] and starts a server that listens on a private Unix
//! socket only, so it cannot collide with (or depend on) any server someone
//! started by hand. `initdb` costs about a second, which is why the cluster is
//! shared by all tests of a process while each test gets its own database via
//! [`Cluster::create_database`].
//!
//! The server is stopped and its directories removed by an `atexit` handler
//! when the test process exits. Directories left behind by processes that died
//! without running it (killed, aborted) are swept up by the next start.
//!
//! PostgreSQL refuses to run as root, so when the tests run as root the server
//! binaries are run as the `postgres` OS user through `runuser`.
//!
//! For the connection-security tests, [`tls_cluster()`] and [`plain_tcp_cluster()`]
//! start further clusters of the same kind that also listen on TCP (127.0.0.1),
//! with and without TLS (module `tcp`).
//!
//! Environment:
//! - `PG_BIN_DIR`: directory holding `initdb`, `pg_ctl`, `postgres`, `pg_dump`,
//!   ...; defaults to `/usr/lib/postgresql/15/bin` (Debian's `postgresql-15`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::{Client, NoTls};

mod crash;
mod names;
mod server;
mod sys;
mod tcp;

use names::{conninfo_value, database_name, percent_encode, quote_ident, shell_quote};
use server::{
    bin_dir, cluster_dirs, create_base_dir, init_data_dir, log_tail, server_user, start_server,
    sweep_stale_dirs,
};
pub use tcp::{CERT_HOST, TCP_PASSWORD, TcpCluster, plain_tcp_cluster, tls_cluster};

/// Where Debian's `postgresql-15` package installs the server binaries.
const DEFAULT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// Prefix of the per-process directories under the temp dir; the pid follows it
/// so a later run can tell whether the owner is still alive.
const DIR_PREFIX: &str = "e2e-pg-";
/// Both the OS user the server runs as (when we are root) and the superuser role
/// that `initdb -U` creates.
const SUPERUSER: &str = "postgres";
/// How long to keep retrying the first connection after `pg_ctl start -w`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// PostgreSQL identifiers are truncated beyond this many bytes (NAMEDATALEN - 1).
const MAX_IDENT_LEN: usize = 63;
/// `sun_path` is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH_LEN: usize = 107;

/// The throwaway PostgreSQL cluster of this test process; get it with [`cluster()`].
#[derive(Debug)]
pub struct Cluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    endpoint: Endpoint,
    /// The server's command-line options, to start it again the same way (see `crash`).
    options: String,
}

/// A database created for one test by [`Cluster::create_database`]; it is dropped
/// (with `WITH (FORCE)`, so open connections do not block it) when this value is.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    endpoint: Endpoint,
}

/// Where to reach the server; cloned into each [`TestDb`] so that a `TestDb` does
/// not borrow the cluster.
#[derive(Debug, Clone)]
struct Endpoint {
    socket_dir: PathBuf,
    port: u16,
}

/// The OS account the server binaries run as when this process is root.
#[derive(Debug, Clone)]
struct ServerUser {
    uid: u32,
    gid: u32,
}

/// Returns the cluster of this test process, starting it on the first call.
///
/// Thread-safe: concurrent first calls start exactly one cluster; the others
/// wait for it.
///
/// # Panics
///
/// If the cluster cannot be started (missing binaries, no `postgres` user when
/// running as root, `initdb` or server start failing, ...). The message says what
/// failed and how to fix it. A failure is remembered, so every later call panics
/// with the same message at once instead of retrying a slow start.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(Cluster::start) {
        Ok(cluster) => cluster,
        Err(msg) => panic!("e2e::pg: could not start a throwaway PostgreSQL cluster: {msg}"),
    }
}

impl Cluster {
    /// Directory of the PostgreSQL binaries (`pg_dump`, `psql`, ...) the cluster
    /// was started with, so tests use client tools of the same version.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Directory holding the server's Unix socket (pass it as `host`).
    pub fn socket_dir(&self) -> &Path {
        &self.endpoint.socket_dir
    }

    /// Port number of the server; with Unix sockets it only selects the socket
    /// file name (`.s.PGSQL.<port>`) inside [`Cluster::socket_dir`].
    pub fn port(&self) -> u16 {
        self.endpoint.port
    }

    /// Connects to the `postgres` database as the superuser `postgres`.
    ///
    /// # Panics
    ///
    /// If the connection fails.
    pub fn connect_admin(&self) -> Client {
        self.endpoint.connect("postgres").unwrap_or_else(|e| {
            panic!(
                "e2e::pg: cannot connect to database \"postgres\" via {}: {e}",
                self.conn_string("postgres")
            )
        })
    }

    /// Creates a fresh, empty database (from `template0`) for one test.
    ///
    /// Its name is `hint` reduced to `[a-z0-9_]`, then a process-wide counter and
    /// the pid, so it is unique and still tells which test made it. Safe to call
    /// from many threads at once.
    ///
    /// # Panics
    ///
    /// If `CREATE DATABASE` fails (after a few retries when the template is busy).
    pub fn create_database(&self, hint: &str) -> TestDb {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seq = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = database_name(hint, seq, std::process::id());
        let sql = format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name));

        let mut admin = self.connect_admin();
        let mut attempt = 0u32;
        loop {
            match admin.batch_execute(&sql) {
                Ok(()) => break,
                // "source database ... is being accessed by other users" (55006):
                // transient when several tests create databases at the same time.
                Err(e) if attempt < 5 && e.code() == Some(&SqlState::OBJECT_IN_USE) => {
                    attempt += 1;
                    thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
                }
                Err(e) => panic!("e2e::pg: `{sql}` failed: {e}"),
            }
        }
        TestDb {
            name,
            endpoint: self.endpoint.clone(),
        }
    }

    /// libpq key=value connection string for `dbname` on this cluster:
    /// `host=<socket_dir> port=<port> user=postgres dbname=<dbname>`.
    pub fn conn_string(&self, dbname: &str) -> String {
        self.endpoint.conn_string(dbname)
    }

    /// `postgresql://` URL for `dbname` on this cluster, with the socket directory
    /// percent-encoded as the host; both libpq and the `postgres` crate accept it
    /// (e.g. as `DATABASE_URL`).
    pub fn url(&self, dbname: &str) -> String {
        self.endpoint.url(dbname)
    }

    /// Starts the cluster; errors are complete, user-facing messages.
    fn start() -> Result<Cluster, String> {
        let bin_dir = bin_dir()?;
        let user = server_user()?;

        let tmp = std::env::temp_dir();
        sweep_stale_dirs(&tmp, DIR_PREFIX, &bin_dir, user.as_ref());

        let base_dir = create_base_dir(&tmp, user.as_ref())?;
        let (data_dir, socket_dir) = cluster_dirs(&base_dir, &bin_dir, user.as_ref())?;

        let port = u16::try_from(50_000 + std::process::id() % 10_000)
            .map_err(|e| format!("port out of range: {e}"))?;
        let endpoint = Endpoint { socket_dir, port };
        endpoint.check_socket_path()?;

        init_data_dir(&bin_dir, user.as_ref(), &data_dir)?;

        // max_locks_per_transaction: the scale bench's Alembic baseline creates 10,000 tables
        // (70,000 relations with their indexes) in one transaction; the default 64 per
        // connection gives the whole cluster 12,800 lock slots.
        let options = format!(
            "-k {} -c listen_addresses='' -p {port} -c max_connections=200 \
             -c shared_buffers=64MB -c max_locks_per_transaction=512",
            shell_quote(&endpoint.socket_dir.to_string_lossy())
        );
        let log_file = data_dir.join("server.log");
        start_server(&bin_dir, user.as_ref(), &data_dir, &log_file, &options)?;
        Cluster::started(bin_dir, data_dir, endpoint, options, &log_file)
    }

    /// The cluster whose server was just started with `options`, once it accepts connections.
    fn started(
        bin_dir: PathBuf,
        data_dir: PathBuf,
        endpoint: Endpoint,
        options: String,
        log_file: &Path,
    ) -> Result<Cluster, String> {
        let cluster = Cluster {
            bin_dir,
            data_dir,
            endpoint,
            options,
        };
        cluster.wait_ready(log_file)?;
        Ok(cluster)
    }

    /// `pg_ctl -w` already waited, but retry connecting for a while anyway so that a
    /// slow machine does not turn into flaky first tests.
    fn wait_ready(&self, log_file: &Path) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.endpoint.connect("postgres") {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "server in {} did not accept connections within {READY_TIMEOUT:?}: {e}{}",
                        self.data_dir.display(),
                        log_tail(log_file)
                    ));
                }
                Err(_) => thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl TestDb {
    /// Name of the database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// libpq key=value connection string for this database.
    pub fn conn_string(&self) -> String {
        self.endpoint.conn_string(&self.name)
    }

    /// `postgresql://` URL for this database (see [`Cluster::url`]).
    pub fn url(&self) -> String {
        self.endpoint.url(&self.name)
    }

    /// Connects to this database as the superuser `postgres`.
    ///
    /// # Panics
    ///
    /// If the connection fails.
    pub fn connect(&self) -> Client {
        self.endpoint.connect(&self.name).unwrap_or_else(|e| {
            panic!(
                "e2e::pg: cannot connect to test database via {}: {e}",
                self.conn_string()
            )
        })
    }
}

impl Drop for TestDb {
    /// Drops the database, forcing off any connections still open. Best effort:
    /// errors are ignored, and a panic inside the client (e.g. when dropped inside
    /// a Tokio runtime) is caught, because a panicking drop during unwinding would
    /// abort the whole test binary.
    fn drop(&mut self) {
        let sql = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        );
        let endpoint = &self.endpoint;
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Ok(mut admin) = endpoint.connect("postgres") {
                let _ = admin.batch_execute(&sql);
            }
        }));
    }
}

impl Endpoint {
    /// Refuses a socket path longer than Linux can bind (`sun_path`), naming the way out.
    fn check_socket_path(&self) -> Result<(), String> {
        let socket_file = self.socket_dir.join(format!(".s.PGSQL.{}", self.port));
        if socket_file.as_os_str().len() > MAX_SOCKET_PATH_LEN {
            return Err(format!(
                "the Unix socket path {} is longer than {MAX_SOCKET_PATH_LEN} bytes; \
                 point TMPDIR at a shorter directory, e.g. TMPDIR=/tmp",
                socket_file.display()
            ));
        }
        Ok(())
    }

    fn connect(&self, dbname: &str) -> Result<Client, postgres::Error> {
        postgres::Config::new()
            .host_path(&self.socket_dir)
            .port(self.port)
            .user(SUPERUSER)
            .dbname(dbname)
            .application_name("e2e")
            .connect(NoTls)
    }

    fn conn_string(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={SUPERUSER} dbname={}",
            conninfo_value(&self.socket_dir.to_string_lossy()),
            self.port,
            conninfo_value(dbname)
        )
    }

    fn url(&self, dbname: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@{}:{}/{}",
            percent_encode(&self.socket_dir.to_string_lossy()),
            self.port,
            percent_encode(dbname)
        )
    }
}
