//! The edit-and-regenerate loop at scale: `codegen` against Alembic's autogenerate, measured in
//! the same run on equivalent synthetic schemas (see `scale/synthetic.rs`) of 7, 1,000 and
//! 10,000 tables.
//!
//! Three scenarios, each a fresh process as a developer runs it:
//! - **first**: no migrations yet; codegen writes every file under `generated/` (migration,
//!   docs, Rust crate), Alembic writes its first revision against an empty database;
//! - **no change**: the schema is what the history already builds;
//! - **edit**: one column added to one table, the next migration written.
//!
//! Both sides run interleaved (codegen, Alembic, codegen, ...) and each time is the median of
//! several runs, because the machine is shared. Every run is checked to have done its job (the
//! codegen migration and the Alembic revision hold the new column; a no-change run writes no
//! migration), so a failing baseline cannot pass for a fast one. Alembic runs from warm bytecode
//! (a discarded run first), against a throwaway PostgreSQL 15 cluster (`e2e::pg`), the database
//! upgraded to its first revision for the no-change and edit runs.
//!
//! Alembic is found as `$ALEMBIC_PYTHON`, else `/work/alembic-venv/bin/python`, else `python3`,
//! whichever can import alembic, sqlalchemy and psycopg2 (`python3 -m venv /work/alembic-venv &&
//! /work/alembic-venv/bin/pip install alembic sqlalchemy psycopg2-binary`). When it is missing,
//! or the cluster cannot start, the report says so in its first lines and gives codegen's times
//! and its own ratios (10,000 against 1,000 tables, no change against edit) only.
//!
//! Every run starts with no data waiting to be written back (`sync`, untimed), so neither tool
//! pays for the other's writes.
//!
//! Each line gives the median wall time and the median CPU time (user + system, of the process
//! and its threads) of both; on a shared machine the CPU ratio is the steadier of the two.
//!
//! Run: `cargo bench -p codegen --bench scale` (sizes: `SCALE_SIZES=7,1000`; runs per scenario:
//! `SCALE_RUNS=5`). Alembic runs up to `SCALE_ALEMBIC_MAX` tables (default 1000: at 10,000 tables
//! one autogenerate takes minutes, and `SCALE_ALEMBIC_MAX=10000` runs it once per scenario).

#[path = "scale/synthetic.rs"]
mod synthetic;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CODEGEN: &str = env!("CARGO_BIN_EXE_codegen");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    First,
    NoChange,
    Edit,
}

impl Scenario {
    const ALL: [Scenario; 3] = [Scenario::First, Scenario::NoChange, Scenario::Edit];

    fn label(self) -> &'static str {
        match self {
            Scenario::First => "first generation",
            Scenario::NoChange => "no change",
            Scenario::Edit => "one-column edit",
        }
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The CPU time (user + system) of every child this process has waited for, from
/// `/proc/self/stat` (clock ticks, 100 a second on Linux): on a machine shared with other work a
/// run's wall time depends on what else runs, its CPU time much less, so both are reported.
fn children_cpu() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of the whole line, 14 and 15 after `) state`.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// A run's wall time and CPU time.
#[derive(Debug, Clone, Copy)]
struct Cost {
    wall: Duration,
    cpu: Option<Duration>,
}

fn medians(costs: &[Cost]) -> Cost {
    let cpu: Option<Vec<Duration>> = costs.iter().map(|c| c.cpu).collect();
    Cost {
        wall: median(costs.iter().map(|c| c.wall).collect()),
        cpu: cpu.map(median),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn run(command: &mut Command) -> Result<(Cost, String), String> {
    // Untimed: the data the previous run left to write back (Alembic's bytecode and the
    // database's pages, or codegen's files) goes to disk now, so no run pays for the one before
    // it in its own flushes (codegen fsyncs the new migration: one journal commit, which took
    // 11 ms instead of 1 when it had to carry the previous run's writes along).
    let _ = Command::new("sync").status();
    let cpu_before = children_cpu();
    let start = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let elapsed = Cost {
        wall: start.elapsed(),
        cpu: cpu_before
            .zip(children_cpu())
            .map(|(a, b)| b.saturating_sub(a)),
    };
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok((
        elapsed,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // With its modification time: codegen trusts a table page whose time is what its
            // last run recorded, as a developer's `generated/` keeps it between runs.
            fs::copy(entry.path(), &target).expect("copy");
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .expect("modification time");
            fs::File::options()
                .write(true)
                .open(&target)
                .and_then(|f| f.set_modified(modified))
                .expect("set modification time");
        }
    }
}

fn migration_files(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(out.join("migrations"))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".up.sql"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// codegen in one directory: the schemas, the output, its cache, and a copy of both as the
/// no-change runs leave them, that every edit run starts from.
struct Codegen {
    dir: PathBuf,
    n: usize,
}

impl Codegen {
    fn new(root: &Path, n: usize) -> Codegen {
        let dir = root.join(format!("codegen-{n}"));
        fs::create_dir_all(&dir).expect("work dir");
        fs::write(dir.join("base.yaml"), synthetic::schema_yaml(n, false)).expect("write");
        fs::write(dir.join("edit.yaml"), synthetic::schema_yaml(n, true)).expect("write");
        Codegen { dir, n }
    }

    fn out(&self) -> PathBuf {
        self.dir.join("generated")
    }

    fn generate(&self, schema: &str) -> Result<Cost, String> {
        let out = self.out();
        Ok(run(Command::new(CODEGEN)
            .current_dir(&self.dir)
            .arg("--schema")
            .arg(self.dir.join(schema))
            .arg("--out")
            .arg(&out))?
        .0)
    }

    fn measure(&self, scenario: Scenario) -> Result<Cost, String> {
        let out = self.out();
        let pristine = self.dir.join("pristine");
        match scenario {
            Scenario::First => {
                let _ = fs::remove_dir_all(&out);
                let time = self.generate("base.yaml")?;
                if migration_files(&out).len() != 1 {
                    return Err(format!("codegen {}: no first migration", self.n));
                }
                Ok(time)
            }
            Scenario::NoChange => {
                let time = self.generate("base.yaml")?;
                if migration_files(&out).len() != 1 {
                    return Err(format!(
                        "codegen {}: a no-change run wrote a migration",
                        self.n
                    ));
                }
                Ok(time)
            }
            Scenario::Edit => {
                let cache = self.dir.join(".codegen-cache");
                let (pristine_out, pristine_cache) = (pristine.join("out"), pristine.join("cache"));
                if !pristine.exists() {
                    copy_dir(&out, &pristine_out);
                    copy_dir(&cache, &pristine_cache);
                }
                let time = self.generate("edit.yaml")?;
                let files = migration_files(&out);
                let added = files
                    .get(1)
                    .and_then(|f| fs::read_to_string(out.join("migrations").join(f)).ok())
                    .is_some_and(|sql| sql.contains("ADD COLUMN note"));
                if files.len() != 2 || !added {
                    return Err(format!(
                        "codegen {}: the edit did not write one migration adding `note`: {files:?}",
                        self.n
                    ));
                }
                // Back to the state before the edit, untimed.
                for (dir, copy) in [(&out, &pristine_out), (&cache, &pristine_cache)] {
                    fs::remove_dir_all(dir).map_err(|e| e.to_string())?;
                    copy_dir(copy, dir);
                }
                Ok(time)
            }
        }
    }
}

const ENV_PY: &str = r#"import importlib, os
from alembic import context
from sqlalchemy import engine_from_config, pool
config = context.config
target_metadata = importlib.import_module(os.environ["BENCH_MODELS"]).metadata
connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
"#;

const SCRIPT_MAKO: &str = r#""""${message}"""
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}
def upgrade():
    ${upgrades if upgrades else "pass"}
def downgrade():
    ${downgrades if downgrades else "pass"}
"#;

/// Alembic in one directory, with two databases: one empty (first revisions) and one at the
/// first revision (no change, edit).
struct Alembic {
    python: PathBuf,
    dir: PathBuf,
    empty_url: String,
    upgraded_url: String,
    n: usize,
    /// The databases live as long as this (dropped with it).
    _databases: [e2e::pg::TestDb; 2],
}

impl Alembic {
    fn new(python: &Path, root: &Path, n: usize) -> Result<Alembic, String> {
        // A cluster that cannot start makes the baseline unavailable, said as such.
        let cluster = std::panic::catch_unwind(e2e::pg::cluster).map_err(|_| {
            "the throwaway PostgreSQL cluster did not start (see above)".to_string()
        })?;
        let dir = root.join(format!("alembic-{n}"));
        fs::create_dir_all(dir.join("migrations/versions")).map_err(|e| e.to_string())?;
        fs::write(dir.join("migrations/env.py"), ENV_PY).map_err(|e| e.to_string())?;
        fs::write(dir.join("migrations/script.py.mako"), SCRIPT_MAKO).map_err(|e| e.to_string())?;
        fs::write(
            dir.join("models_base.py"),
            synthetic::sqlalchemy_models(n, false),
        )
        .map_err(|e| e.to_string())?;
        fs::write(
            dir.join("models_edit.py"),
            synthetic::sqlalchemy_models(n, true),
        )
        .map_err(|e| e.to_string())?;
        let url = |db: &e2e::pg::TestDb| {
            format!(
                "postgresql+psycopg2://postgres@/{}?host={}&port={}",
                db.name(),
                cluster.socket_dir().display(),
                cluster.port()
            )
        };
        let empty = cluster.create_database(&format!("alembic_empty_{n}"));
        let upgraded = cluster.create_database(&format!("alembic_upgraded_{n}"));
        let alembic = Alembic {
            python: python.to_path_buf(),
            dir,
            empty_url: url(&empty),
            upgraded_url: url(&upgraded),
            n,
            _databases: [empty, upgraded],
        };
        // The first revision, kept, applied to the second database.
        alembic.revision(&alembic.empty_url, "models_base")?;
        let first = alembic.versions()?;
        fs::rename(
            alembic.dir.join("migrations/versions").join(&first[0]),
            alembic.dir.join("first.py"),
        )
        .map_err(|e| e.to_string())?;
        Ok(alembic)
    }

    fn versions(&self) -> Result<Vec<String>, String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.join("migrations/versions"))
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".py"))
            .collect();
        names.sort();
        Ok(names)
    }

    fn alembic(&self, url: &str, models: &str, args: &[&str]) -> Command {
        let mut command = Command::new(&self.python);
        command
            .current_dir(&self.dir)
            .env("BENCH_MODELS", models)
            .env("PYTHONPATH", &self.dir)
            .args(["-m", "alembic"])
            .arg("-c")
            .arg(self.dir.join("alembic.ini"))
            .args(args);
        let ini = format!(
            "[alembic]\nscript_location = {}\nsqlalchemy.url = {}\n",
            self.dir.join("migrations").display(),
            url.replace('%', "%%")
        );
        let _ = fs::write(self.dir.join("alembic.ini"), ini);
        command
    }

    fn revision(&self, url: &str, models: &str) -> Result<Cost, String> {
        Ok(run(&mut self.alembic(url, models, &["revision", "--autogenerate", "-m", "bench"]))?.0)
    }

    /// Puts the kept first revision in place and the second database at it.
    fn upgrade_once(&self) -> Result<(), String> {
        let versions = self.dir.join("migrations/versions");
        fs::copy(self.dir.join("first.py"), versions.join("first.py"))
            .map_err(|e| e.to_string())?;
        run(&mut self.alembic(&self.upgraded_url, "models_base", &["upgrade", "head"]))?;
        Ok(())
    }

    fn clear_versions(&self) -> Result<(), String> {
        for name in self.versions()? {
            fs::remove_file(self.dir.join("migrations/versions").join(name))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn measure(&self, scenario: Scenario) -> Result<Cost, String> {
        match scenario {
            Scenario::First => {
                self.clear_versions()?;
                let time = self.revision(&self.empty_url, "models_base")?;
                let written = self.versions()?;
                let text =
                    fs::read_to_string(self.dir.join("migrations/versions").join(&written[0]))
                        .map_err(|e| e.to_string())?;
                if written.len() != 1
                    || !text.contains(&format!(
                        "op.create_table('{}'",
                        synthetic::table(self.n - 1)
                    ))
                {
                    return Err(format!(
                        "alembic {}: the first revision does not create every table",
                        self.n
                    ));
                }
                self.clear_versions()?;
                Ok(time)
            }
            Scenario::NoChange | Scenario::Edit => {
                self.clear_versions()?;
                let versions = self.dir.join("migrations/versions");
                fs::copy(self.dir.join("first.py"), versions.join("first.py"))
                    .map_err(|e| e.to_string())?;
                let models = if scenario == Scenario::Edit {
                    "models_edit"
                } else {
                    "models_base"
                };
                let time = self.revision(&self.upgraded_url, models)?;
                let new: Vec<String> = self
                    .versions()?
                    .into_iter()
                    .filter(|v| v != "first.py")
                    .collect();
                let text = new
                    .first()
                    .and_then(|f| fs::read_to_string(versions.join(f)).ok())
                    .unwrap_or_default();
                let adds = text.contains("op.add_column(");
                let expected = scenario == Scenario::Edit;
                if new.len() != 1 || adds != expected || (expected && !text.contains("'note'")) {
                    return Err(format!(
                        "alembic {}: the {} revision is not what it should be:\n{text}",
                        self.n,
                        scenario.label()
                    ));
                }
                fs::remove_file(versions.join(&new[0])).map_err(|e| e.to_string())?;
                Ok(time)
            }
        }
    }
}

/// A Python that can import Alembic, or why there is none.
fn find_python() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("ALEMBIC_PYTHON") {
        candidates.push(p.into());
    }
    candidates.push("/work/alembic-venv/bin/python".into());
    candidates.push("python3".into());
    let mut tried = Vec::new();
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-c", "import alembic, sqlalchemy, psycopg2"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(python);
        }
        tried.push(python.display().to_string());
    }
    Err(format!(
        "no Python with alembic, sqlalchemy and psycopg2 (tried {})",
        tried.join(", ")
    ))
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

fn main() {
    let sizes = env_list("SCALE_SIZES", &[7, 1000, 10000]);
    let runs = env_list("SCALE_RUNS", &[5])[0].max(1);
    let alembic_max = env_list("SCALE_ALEMBIC_MAX", &[1000])[0];
    let root = std::env::temp_dir().join(format!("codegen-scale-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).expect("work dir");

    let python = find_python();
    match &python {
        Ok(p) => println!("Alembic baseline: {} (same run, interleaved)", p.display()),
        Err(why) => println!(
            "Alembic baseline: NOT AVAILABLE: {why}.\nRatios against Alembic are not reported; codegen's times and its own ratios only."
        ),
    }
    println!("{runs} runs per scenario, medians; codegen {CODEGEN}\n");

    let mut codegen_times: Vec<(usize, Scenario, Duration)> = Vec::new();
    for &n in &sizes {
        let codegen = Codegen::new(&root, n);
        let alembic = match &python {
            Ok(p) if n <= alembic_max => match Alembic::new(p, &root, n) {
                Ok(a) => Some(a),
                Err(why) => {
                    println!("{n} tables: Alembic NOT AVAILABLE: {why}");
                    None
                }
            },
            Ok(_) => {
                println!("{n} tables: Alembic skipped (SCALE_ALEMBIC_MAX={alembic_max})");
                None
            }
            Err(_) => None,
        };
        // Alembic at 10,000 tables takes minutes a run: once.
        let alembic_runs = if n >= 10_000 { 1 } else { runs };
        for scenario in Scenario::ALL {
            if scenario == Scenario::NoChange
                && let Some(a) = &alembic
                && let Err(why) = a.upgrade_once()
            {
                panic!("alembic upgrade: {why}");
            }
            // Warm-up (disk cache, Python bytecode), discarded.
            codegen.measure(scenario).unwrap_or_else(|e| panic!("{e}"));
            if let Some(a) = &alembic {
                a.measure(scenario).unwrap_or_else(|e| panic!("{e}"));
            }
            let mut ours: Vec<Cost> = Vec::new();
            let mut theirs: Vec<Cost> = Vec::new();
            for i in 0..runs {
                ours.push(codegen.measure(scenario).unwrap_or_else(|e| panic!("{e}")));
                if let Some(a) = &alembic
                    && i < alembic_runs
                {
                    theirs.push(a.measure(scenario).unwrap_or_else(|e| panic!("{e}")));
                }
            }
            let ours = medians(&ours);
            codegen_times.push((n, scenario, ours.wall));
            let cpu = |c: Cost| c.cpu.map_or("?".to_string(), ms);
            let line = format!(
                "{n:>6} tables, {:<16}: codegen {:>10} (cpu {:>9})",
                scenario.label(),
                ms(ours.wall),
                cpu(ours)
            );
            if theirs.is_empty() {
                println!("{line}");
            } else {
                let theirs = medians(&theirs);
                let cpu_ratio = match (theirs.cpu, ours.cpu) {
                    (Some(t), Some(o)) if !o.is_zero() => {
                        format!("{:.1}x", t.as_secs_f64() / o.as_secs_f64())
                    }
                    _ => "?".to_string(),
                };
                println!(
                    "{line} | alembic {:>10} (cpu {:>9}) | codegen is {:>6.1}x faster (cpu {cpu_ratio})",
                    ms(theirs.wall),
                    cpu(theirs),
                    theirs.wall.as_secs_f64() / ours.wall.as_secs_f64()
                );
            }
        }
    }
    let time = |n: usize, s: Scenario| {
        codegen_times
            .iter()
            .find(|(m, t, _)| *m == n && *t == s)
            .map(|(_, _, d)| d.as_secs_f64())
    };
    println!();
    for scenario in Scenario::ALL {
        if let (Some(small), Some(big)) = (time(1000, scenario), time(10000, scenario)) {
            println!(
                "growth, {:<16}: 10,000 tables take {:.1}x the time of 1,000 (linear: 10x; target <= 12x)",
                scenario.label(),
                big / small
            );
        }
    }
    for &n in &sizes {
        if let (Some(edit), Some(none)) = (time(n, Scenario::Edit), time(n, Scenario::NoChange)) {
            println!(
                "{n:>6} tables: no change takes {:.2}x the time of the one-column edit (target < 1)",
                none / edit
            );
        }
    }
    let _ = fs::remove_dir_all(&root);
}
