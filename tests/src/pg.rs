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

use std::ffi::CString;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use postgres::error::SqlState;
use postgres::{Client, NoTls};

mod crash;
mod tcp;
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
        let bin_dir = std::env::var_os("PG_BIN_DIR")
            .filter(|dir| !dir.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_BIN_DIR), PathBuf::from);
        check_binaries(&bin_dir)?;
        let user = server_user()?;

        let tmp = std::env::temp_dir();
        sweep_stale_dirs(&tmp, DIR_PREFIX, &bin_dir, user.as_ref());

        let base_dir = create_base_dir(&tmp, user.as_ref())?;
        let (data_dir, socket_dir) = cluster_dirs(&base_dir, &bin_dir, user.as_ref())?;

        let port = u16::try_from(50_000 + std::process::id() % 10_000)
            .map_err(|e| format!("port out of range: {e}"))?;
        let socket_file = socket_dir.join(format!(".s.PGSQL.{port}"));
        if socket_file.as_os_str().len() > MAX_SOCKET_PATH_LEN {
            return Err(format!(
                "the Unix socket path {} is longer than {MAX_SOCKET_PATH_LEN} bytes; \
                 point TMPDIR at a shorter directory, e.g. TMPDIR=/tmp",
                socket_file.display()
            ));
        }

        init_data_dir(&bin_dir, user.as_ref(), &data_dir)?;

        let options = format!(
            "-k {} -c listen_addresses='' -p {port} -c max_connections=200 \
             -c shared_buffers=64MB",
            shell_quote(&socket_dir.to_string_lossy())
        );
        let log_file = data_dir.join("server.log");
        start_server(&bin_dir, user.as_ref(), &data_dir, &log_file, &options)?;

        let cluster = Cluster {
            bin_dir,
            data_dir,
            endpoint: Endpoint { socket_dir, port },
            options,
        };
        cluster.wait_ready(&log_file)?;
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

// ---------------------------------------------------------------------------
// Starting

fn check_binaries(bin_dir: &Path) -> Result<(), String> {
    let missing: Vec<&str> = ["initdb", "pg_ctl", "postgres"]
        .into_iter()
        .filter(|name| !bin_dir.join(name).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} not found in {}; install PostgreSQL 15 (`apt-get install postgresql-15`, \
         Debian's postgresql-15 package) or set PG_BIN_DIR to the directory holding \
         initdb, pg_ctl and postgres",
        missing.join(", "),
        bin_dir.display()
    ))
}

/// `None` when the binaries can run as ourselves; the `postgres` account when we
/// are root, since `initdb` and `postgres` refuse to run as root.
fn server_user() -> Result<Option<ServerUser>, String> {
    if !sys::is_root() {
        return Ok(None);
    }
    match sys::lookup_user(SUPERUSER)? {
        Some((uid, gid)) => Ok(Some(ServerUser { uid, gid })),
        None => Err(format!(
            "running as root, and PostgreSQL refuses to run as root, but there is no \
             `{SUPERUSER}` OS user to run it as; create one (`useradd --system {SUPERUSER}`) \
             or install postgresql-15, which creates it"
        )),
    }
}

/// Creates `<tmp>/e2e-pg-<pid>-<nanos>`, private to the server user.
fn create_base_dir(tmp: &Path, user: Option<&ServerUser>) -> Result<PathBuf, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let base = tmp.join(format!("{DIR_PREFIX}{}-{nanos:08x}", std::process::id()));
    make_private_dir(&base, user)?;
    if let Some(user) = user {
        check_traversable(&base, user)?;
    }
    Ok(base)
}

/// Creates `dir` (which must not exist yet) with mode 0700, owned by `user` if given.
fn make_private_dir(dir: &Path, user: Option<&ServerUser>) -> Result<(), String> {
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
    if let Some(user) = user {
        chown(dir, Some(user.uid), Some(user.gid)).map_err(|e| {
            format!(
                "cannot chown {} to the {SUPERUSER} user: {e}",
                dir.display()
            )
        })?;
    }
    Ok(())
}

/// The server user must be able to reach its directories through every parent.
fn check_traversable(dir: &Path, user: &ServerUser) -> Result<(), String> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = fs::metadata(ancestor)
            .map_err(|e| format!("cannot stat {}: {e}", ancestor.display()))?;
        let mode = meta.mode();
        let ok = mode & 0o001 != 0
            || (meta.uid() == user.uid && mode & 0o100 != 0)
            || (meta.gid() == user.gid && mode & 0o010 != 0);
        if !ok {
            return Err(format!(
                "the {SUPERUSER} user cannot traverse {} (mode {:o}), so the server could not \
                 reach its directories; point TMPDIR at a world-accessible directory such as /tmp",
                ancestor.display(),
                mode & 0o7777
            ));
        }
    }
    Ok(())
}

/// A command running `program` as the server user (via `runuser`) when we are root.
fn server_command(program: &Path, user: Option<&ServerUser>) -> Command {
    let mut cmd = match user {
        Some(_) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", SUPERUSER, "--"]).arg(program);
            cmd
        }
        None => Command::new(program),
    };
    // The test's working directory may not be readable by the server user, and
    // PG* variables from the caller's shell must not steer the private cluster.
    cmd.current_dir("/").stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `initdb` of a fresh data directory: superuser `postgres`, trust authentication (the socket
/// directory is private), UTF8, C locale, and [`NOT_DURABLE`] in `postgresql.conf`.
fn init_data_dir(bin_dir: &Path, user: Option<&ServerUser>, data_dir: &Path) -> Result<(), String> {
    let initdb = server_command(&bin_dir.join("initdb"), user)
        .arg("-D")
        .arg(data_dir)
        .args(["-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8"])
        .arg("--locale=C")
        .output();
    check_output("initdb", initdb, None)?;
    let conf = data_dir.join("postgresql.conf");
    fs::OpenOptions::new()
        .append(true)
        .open(&conf)
        .and_then(|mut file| file.write_all(NOT_DURABLE.as_bytes()))
        .map_err(|e| format!("cannot append to {}: {e}", conf.display()))
}

/// Test speed instead of durability, for a cluster whose data is thrown away. In the
/// configuration file rather than on the command line (which would outrank everything) so that
/// a process can turn them back on with `ALTER SYSTEM` and `pg_reload_conf()`, as the audited
/// insert benchmark does to measure a durable server.
const NOT_DURABLE: &str = "\n# e2e::pg: a throwaway cluster\n\
fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";

/// `pg_ctl start` with the server `options`, waiting for it (up to a minute).
///
/// pg_ctl leaves the postmaster orphaned. Its new parent is normally init, which reaps it when
/// it exits; but where PID 1 does not reap (as in some containers) it would linger as a zombie
/// after the stop. As a child subreaper for the duration of `pg_ctl start` we adopt it instead
/// and reap it ourselves at teardown.
fn start_server(
    bin_dir: &Path,
    user: Option<&ServerUser>,
    data_dir: &Path,
    log_file: &Path,
    options: &str,
) -> Result<(), String> {
    let subreaper = sys::set_child_subreaper(true);
    let start = server_command(&bin_dir.join("pg_ctl"), user)
        .arg("-D")
        .arg(data_dir)
        .arg("-l")
        .arg(log_file)
        .args(["-w", "-t", "60", "-o", options, "start"])
        .output();
    if subreaper {
        sys::set_child_subreaper(false);
    }
    check_output("pg_ctl start", start, Some(log_file))
}

/// Turns a failed or unsuccessful run into an error carrying its output (and the
/// server log tail, if given).
fn check_output(
    what: &str,
    output: std::io::Result<Output>,
    log_file: Option<&Path>,
) -> Result<(), String> {
    let output = output.map_err(|e| {
        format!(
            "cannot run {what}: {e} (when running as root, `runuser` from util-linux is needed)"
        )
    })?;
    if output.status.success() {
        return Ok(());
    }
    let mut msg = format!("{what} failed ({})", output.status);
    for (label, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        if !text.trim().is_empty() {
            let _ = write!(msg, "\n--- {what} {label} ---\n{}", text.trim_end());
        }
    }
    if let Some(log_file) = log_file {
        msg.push_str(&log_tail(log_file));
    }
    Err(msg)
}

/// The last lines of the server log, formatted for appending to an error message.
fn log_tail(log_file: &Path) -> String {
    match fs::read(log_file) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            format!("\n--- tail of {} ---\n{tail}", log_file.display())
        }
        Err(e) => format!("\n(cannot read {}: {e})", log_file.display()),
    }
}

// ---------------------------------------------------------------------------
// Stopping

/// What the `atexit` handler needs to stop the server and clean up.
#[derive(Debug)]
struct Teardown {
    /// Only the process that started the server tears it down: a forked child
    /// inherits the handler, and its exit must not stop the parent's server.
    owner_pid: u32,
    bin_dir: PathBuf,
    base_dir: PathBuf,
    data_dir: PathBuf,
    user: Option<ServerUser>,
}

/// Every cluster this process started (the Unix-socket one, and the TCP ones of `tcp.rs`).
static TEARDOWNS: Mutex<Vec<Teardown>> = Mutex::new(Vec::new());

/// The data and socket directories under `base_dir`, private to the server user, with the
/// cluster's teardown registered first: registered before anything can leave a server
/// running, so that a failure from here on is still cleaned up when the process exits.
fn cluster_dirs(
    base_dir: &Path,
    bin_dir: &Path,
    user: Option<&ServerUser>,
) -> Result<(PathBuf, PathBuf), String> {
    let data_dir = base_dir.join("data");
    let socket_dir = base_dir.join("sock");
    register_teardown(Teardown {
        owner_pid: std::process::id(),
        bin_dir: bin_dir.to_path_buf(),
        base_dir: base_dir.to_path_buf(),
        data_dir: data_dir.clone(),
        user: user.cloned(),
    })?;
    for dir in [&data_dir, &socket_dir] {
        make_private_dir(dir, user)?;
    }
    Ok((data_dir, socket_dir))
}

fn register_teardown(teardown: Teardown) -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let base_dir = teardown.base_dir.clone();
    TEARDOWNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(teardown);
    if !*REGISTERED.get_or_init(|| sys::register_atexit(teardown_at_exit)) {
        let _ = fs::remove_dir_all(&base_dir);
        return Err("atexit() failed to register the cluster teardown".to_owned());
    }
    Ok(())
}

/// Runs at process exit: stops the servers and removes their directories.
extern "C" fn teardown_at_exit() {
    // Unwinding out of an `extern "C"` fn aborts; nothing here should panic, but
    // make sure anyway that a failed cleanup cannot change the exit status.
    let _ = std::panic::catch_unwind(|| {
        let teardowns = TEARDOWNS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for t in teardowns
            .iter()
            .filter(|t| t.owner_pid == std::process::id())
        {
            stop_server(&t.bin_dir, &t.data_dir, t.user.as_ref(), true);
            let _ = fs::remove_dir_all(&t.base_dir);
        }
    });
}

/// `pg_ctl stop -m immediate` if a postmaster seems to be running in `data_dir`,
/// and with `reap`, waits for it to exit and reaps it if it is our child (see
/// [`sys::set_child_subreaper`]). Errors are ignored: this is cleanup.
fn stop_server(bin_dir: &Path, data_dir: &Path, user: Option<&ServerUser>, reap: bool) {
    let Some(pid) = postmaster_pid(data_dir).filter(|&pid| pid_alive(pid)) else {
        return;
    };
    let _ = server_command(&bin_dir.join("pg_ctl"), user)
        .arg("-D")
        .arg(data_dir)
        .args(["-m", "immediate", "-w", "-t", "30", "stop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !reap {
        return;
    }
    // pg_ctl returns once postmaster.pid is gone, just before the process exits.
    let deadline = Instant::now() + Duration::from_secs(5);
    while sys::try_reap(pid) == Some(false) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
}

/// The postmaster's pid, from the first line of `postmaster.pid`.
fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
}

fn pid_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes `<prefix><pid>-*` directories (`e2e-pg-<pid>-*` for this cluster) whose
/// process is gone (it was killed before its `atexit` handler ran), stopping their
/// server first if it still runs.
fn sweep_stale_dirs(tmp: &Path, prefix: &str, bin_dir: &Path, user: Option<&ServerUser>) {
    // Without /proc every owner would look dead and we would kill live clusters.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(tmp) else {
        return;
    };
    let own_pid = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        // Our own pid can only be a leftover of an earlier process that had the
        // same pid: this process starts its cluster once, and has not yet.
        if pid != own_pid && pid_alive(pid) {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        // Not reaped: a stale postmaster is not our child.
        stop_server(bin_dir, &dir.join("data"), user, false);
        let _ = fs::remove_dir_all(&dir);
    }
}

// ---------------------------------------------------------------------------
// Names and quoting

/// `<hint reduced to [a-z0-9_]>_<seq>_<pid>`, at most 63 bytes.
fn database_name(hint: &str, seq: u64, pid: u32) -> String {
    let suffix = format!("_{seq}_{pid}");
    let mut name: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "t_");
    }
    // All ASCII by now, so any byte index is a char boundary.
    name.truncate(MAX_IDENT_LEN.saturating_sub(suffix.len()));
    name.push_str(&suffix);
    name
}

/// SQL identifier quoting: `"..."` with embedded quotes doubled.
fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A libpq conninfo value, quoted only when it has to be.
fn conninfo_value(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a socket
/// path (with its slashes) can stand as a URL host.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// POSIX shell single-quoting, for the `pg_ctl -o` string (pg_ctl runs it via `sh`).
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

// ---------------------------------------------------------------------------
// libc

/// The only code that calls into libc; each function wraps one FFI call.
mod sys {
    use super::CString;

    /// Whether the effective user is root.
    #[allow(unsafe_code)]
    pub(super) fn is_root() -> bool {
        // SAFETY: geteuid takes no arguments, cannot fail and touches no memory of ours.
        unsafe { libc::geteuid() == 0 }
    }

    /// `(uid, gid)` of the OS user `name`, `None` if there is no such user.
    /// Uses the reentrant `getpwnam_r`, since tests run on several threads.
    #[allow(unsafe_code)]
    pub(super) fn lookup_user(name: &str) -> Result<Option<(u32, u32)>, String> {
        let c_name = CString::new(name).map_err(|e| format!("bad user name {name:?}: {e}"))?;
        let mut buf_len = 1024usize;
        loop {
            let mut buf: Vec<libc::c_char> = vec![0; buf_len];
            // SAFETY: all-zero bytes are a valid `passwd` (null pointers and zero
            // ids); getpwnam_r writes only into `pwd`, `buf` (with its true length)
            // and `result`, all of which outlive the call, and `c_name` is a valid
            // NUL-terminated string. We read only the plain integer fields of `pwd`
            // and only when `result` is non-null, i.e. when the entry was found.
            let (rc, found) = unsafe {
                let mut pwd: libc::passwd = std::mem::zeroed();
                let mut result: *mut libc::passwd = std::ptr::null_mut();
                let rc = libc::getpwnam_r(
                    c_name.as_ptr(),
                    &mut pwd,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                );
                (rc, (!result.is_null()).then_some((pwd.pw_uid, pwd.pw_gid)))
            };
            match rc {
                0 => return Ok(found),
                libc::ERANGE if buf_len < 1 << 20 => buf_len *= 4,
                _ => {
                    return Err(format!(
                        "looking up the OS user {name:?} failed: {}",
                        std::io::Error::from_raw_os_error(rc)
                    ));
                }
            }
        }
    }

    /// Makes this process a "child subreaper" (or stops it being one): orphaned
    /// descendants get reparented to it instead of to init. Returns whether the
    /// call succeeded; a no-op returning false outside Linux.
    #[allow(unsafe_code)]
    pub(super) fn set_child_subreaper(on: bool) -> bool {
        #[cfg(target_os = "linux")]
        {
            let on = libc::c_ulong::from(on);
            // SAFETY: PR_SET_CHILD_SUBREAPER takes a plain integer flag and touches
            // no memory; the remaining arguments are unused and passed as 0.
            unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, on, 0, 0, 0) == 0 }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = on;
            false
        }
    }

    /// Reaps `pid` if it is an exited child of ours, without blocking.
    /// `Some(true)`: reaped; `Some(false)`: our child, still running;
    /// `None`: not our child (or any other error), nothing to do.
    #[allow(unsafe_code)]
    pub(super) fn try_reap(pid: u32) -> Option<bool> {
        let pid = libc::pid_t::try_from(pid).ok()?;
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid writes only into `status`, which outlives the call;
        // WNOHANG makes it return at once.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        match rc {
            0 => Some(false),
            r if r == pid => Some(true),
            _ => None,
        }
    }

    /// Registers `f` to run at normal process exit; false if atexit failed.
    #[allow(unsafe_code)]
    pub(super) fn register_atexit(f: extern "C" fn()) -> bool {
        // SAFETY: `f` is a `'static` function taking no arguments, as atexit
        // requires; atexit only stores the pointer and calls it during exit().
        unsafe { libc::atexit(f) == 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_sanitized_and_bounded() {
        assert_eq!(database_name("Foo::bar-Baz", 3, 42), "foo__bar_baz_3_42");
        assert_eq!(database_name("", 0, 1), "t__0_1");
        assert_eq!(database_name("9lives", 0, 1), "t_9lives_0_1");
        let long = database_name(&"x".repeat(200), 12, 4_194_304);
        assert_eq!(long.len(), MAX_IDENT_LEN);
        assert!(long.ends_with("_12_4194304"));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(conninfo_value("/tmp/x"), "/tmp/x");
        assert_eq!(conninfo_value("a b'c"), r"'a b\'c'");
        assert_eq!(conninfo_value(""), "''");
        assert_eq!(percent_encode("/tmp/e2e-pg_1.x~"), "%2Ftmp%2Fe2e-pg_1.x~");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
