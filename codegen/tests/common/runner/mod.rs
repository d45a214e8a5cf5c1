//! What the runner's end-to-end tests share: a scratch project whose migrations are written by
//! hand (so each test shapes the history it needs), its throwaway database, running `codegen db`
//! on it, sessions that hold locks, and a probe that measures the application's query latency.

pub mod faults;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use super::text;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use e2e::pg::{self, TestDb};
use migrate::MigrationFile;
use migrate::history::{SUM_FILE, sum_file};
use postgres::{Client, NoTls};

/// A scratch project (`generated/migrations/` only) and its database.
pub struct Project {
    pub dir: PathBuf,
    pub db: TestDb,
}

impl Project {
    /// A project whose history is `migrations` (up, down), numbered from 0001 as `NNNN_step`.
    pub fn new(name: &str, migrations: &[(&str, &str)]) -> Project {
        let dir =
            std::env::temp_dir().join(format!("codegen-runner-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let project = Project {
            dir,
            db: pg::cluster().create_database(name),
        };
        project.add(migrations);
        project
    }

    /// Replaces the history with `migrations` (and its integrity file).
    pub fn add(&self, migrations: &[(&str, &str)]) {
        let out = self.dir.join("generated/migrations");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).expect("migrations dir");
        let files: Vec<MigrationFile> = migrations
            .iter()
            .zip(1u32..)
            .map(|((up, down), number)| MigrationFile {
                number,
                id: format!("{number:04}_step"),
                up: (*up).to_string(),
                down: (*down).to_string(),
            })
            .collect();
        for m in &files {
            std::fs::write(out.join(format!("{}.up.sql", m.id)), &m.up).expect("write up");
            std::fs::write(out.join(format!("{}.down.sql", m.id)), &m.down).expect("write down");
        }
        std::fs::write(out.join(SUM_FILE), sum_file(&files)).expect("write sum");
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codegen"));
        cmd.current_dir(&self.dir)
            .args(args)
            .env("DATABASE_URL", self.db.url());
        for var in [
            "CODEGEN_LOCK_TIMEOUT",
            "CODEGEN_STATEMENT_TIMEOUT",
            "CODEGEN_CONCURRENT_STATEMENT_TIMEOUT",
            "CODEGEN_LOCK_RETRY_BUDGET",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, None)
    }

    pub fn run_with_env(&self, args: &[&str], env: Option<(&str, &str)>) -> Output {
        let mut cmd = self.command(args);
        if let Some((key, value)) = env {
            cmd.env(key, value);
        }
        cmd.output().expect("run codegen")
    }

    /// Runs `codegen` against `url` instead of the project's database.
    pub fn run_with_url(&self, args: &[&str], url: &str) -> Output {
        self.command(args)
            .env("DATABASE_URL", url)
            .output()
            .expect("run codegen")
    }

    /// Starts `codegen` with its output captured; see [`wait`].
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start codegen")
    }

    /// `codegen db upgrade`, which must succeed.
    pub fn upgrade_ok(&self, extra: &[&str]) -> Output {
        let mut args = vec!["db", "upgrade"];
        args.extend_from_slice(extra);
        let output = self.run(&args);
        assert!(
            output.status.success(),
            "codegen {args:?} failed:\n{}",
            text(&output)
        );
        output
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits for `child` at most `limit`; past it the child is killed and the test fails with what
/// it printed.
pub fn wait(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("poll codegen").is_some() {
            return child.wait_with_output().expect("codegen output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("codegen output");
            panic!("codegen still ran after {limit:?}:\n{}", text(&output));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a killed child printed before it died.
pub fn output_of_killed(mut child: Child) -> String {
    let _ = child.wait();
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut text);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

/// A session of the application named `application` (its `application_name`).
pub fn blocker(db: &TestDb, application: &str) -> Client {
    Client::connect(
        &format!("{} application_name={application}", db.conn_string()),
        NoTls,
    )
    .expect("connect a blocking session")
}

pub fn column_exists(db: &TestDb, table: &str, column: &str) -> bool {
    db.connect()
        .query_one(
            "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_name = $1 AND column_name = $2)",
            &[&table, &column],
        )
        .expect("read columns")
        .get(0)
}

/// The migrations `codegen.migrations` records, in order (none if the runner never ran).
pub fn recorded(db: &TestDb) -> Vec<String> {
    let mut client = db.connect();
    let exists: bool = client
        .query_one("SELECT to_regclass('codegen.migrations') IS NOT NULL", &[])
        .expect("look for the history")
        .get(0);
    if !exists {
        return Vec::new();
    }
    client
        .query("SELECT id FROM codegen.migrations ORDER BY number", &[])
        .expect("read the history")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// How long the application's queries took while the probe ran.
#[derive(Debug, Clone)]
pub struct Latencies {
    pub count: usize,
    pub max: Duration,
    pub errors: Vec<String>,
}

/// Runs one query in a loop on its own connection, as the application would, timing each.
pub struct LatencyProbe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Latencies>,
}

impl LatencyProbe {
    pub fn start(db: &TestDb, query: &str) -> LatencyProbe {
        let mut client = blocker(db, "application");
        let query = query.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut latencies = Latencies {
                count: 0,
                max: Duration::ZERO,
                errors: Vec::new(),
            };
            while !stopped.load(Ordering::Relaxed) {
                let started = Instant::now();
                if let Err(e) = client.batch_execute(&query) {
                    latencies.errors.push(e.to_string());
                }
                latencies.max = latencies.max.max(started.elapsed());
                latencies.count += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            latencies
        });
        LatencyProbe { stop, thread }
    }

    pub fn stop(self) -> Latencies {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("probe thread")
    }
}
