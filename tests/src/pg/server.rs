//! Starting a cluster as an unprivileged user, and stopping it at exit (or when the test
//! process dies).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{DEFAULT_BIN_DIR, DIR_PREFIX, SUPERUSER, ServerUser, sys};

/// The directory of the server binaries (`PG_BIN_DIR`, else Debian's), once it is known to hold
/// them.
pub(super) fn bin_dir() -> Result<PathBuf, String> {
    let bin_dir = std::env::var_os("PG_BIN_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_BIN_DIR), PathBuf::from);
    check_binaries(&bin_dir)?;
    Ok(bin_dir)
}

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
pub(super) fn server_user() -> Result<Option<ServerUser>, String> {
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
pub(super) fn create_base_dir(tmp: &Path, user: Option<&ServerUser>) -> Result<PathBuf, String> {
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
pub(super) fn make_private_dir(dir: &Path, user: Option<&ServerUser>) -> Result<(), String> {
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
pub(super) fn check_traversable(dir: &Path, user: &ServerUser) -> Result<(), String> {
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
pub(super) fn server_command(program: &Path, user: Option<&ServerUser>) -> Command {
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
pub(super) fn init_data_dir(
    bin_dir: &Path,
    user: Option<&ServerUser>,
    data_dir: &Path,
) -> Result<(), String> {
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
pub(super) const NOT_DURABLE: &str = "\n# e2e::pg: a throwaway cluster\n\
fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";

/// `pg_ctl start` with the server `options`, waiting for it (up to a minute).
///
/// pg_ctl leaves the postmaster orphaned. Its new parent is normally init, which reaps it when
/// it exits; but where PID 1 does not reap (as in some containers) it would linger as a zombie
/// after the stop. As a child subreaper for the duration of `pg_ctl start` we adopt it instead
/// and reap it ourselves at teardown.
pub(super) fn start_server(
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
pub(super) fn check_output(
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
pub(super) fn log_tail(log_file: &Path) -> String {
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
pub(super) struct Teardown {
    /// Only the process that started the server tears it down: a forked child
    /// inherits the handler, and its exit must not stop the parent's server.
    owner_pid: u32,
    bin_dir: PathBuf,
    base_dir: PathBuf,
    data_dir: PathBuf,
    user: Option<ServerUser>,
}

/// Every cluster this process started (the Unix-socket one, and the TCP ones of `tcp.rs`).
pub(super) static TEARDOWNS: Mutex<Vec<Teardown>> = Mutex::new(Vec::new());

/// The data and socket directories under `base_dir`, private to the server user, with the
/// cluster's teardown registered first: registered before anything can leave a server
/// running, so that a failure from here on is still cleaned up when the process exits.
pub(super) fn cluster_dirs(
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

pub(super) fn register_teardown(teardown: Teardown) -> Result<(), String> {
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
pub(super) fn stop_server(bin_dir: &Path, data_dir: &Path, user: Option<&ServerUser>, reap: bool) {
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
pub(super) fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
}

pub(super) fn pid_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes `<prefix><pid>-*` directories (`e2e-pg-<pid>-*` for this cluster) whose
/// process is gone (it was killed before its `atexit` handler ran), stopping their
/// server first if it still runs.
pub(super) fn sweep_stale_dirs(
    tmp: &Path,
    prefix: &str,
    bin_dir: &Path,
    user: Option<&ServerUser>,
) {
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
