//! `codegen`: reads `schema.yaml`, writes `generated/`, and applies migrations to a database.

mod database;
mod disk;
mod page_cache;

use database::{drift, introspect_database};
use disk::{OnDisk, ToWrite, leftovers, on_disk, write_all_atomically};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::parser::ValueSource;
use clap::{Args as ClapArgs, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use codegen::migration::{self, PlanOptions};
use migrate::duration;
use migrate::history::{self, MigrationFile, SUM_FILE};
use migrate::runner::settings::{self, Settings};
use migrate::runner::{self, Runner};

/// A run builds and drops a catalog of thousands of tables several times over (replay, plan
/// verification, docs): millions of small allocations, where glibc's malloc spent a third of
/// the time of a 1,000-table edit run in its free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Generate SQL migrations, Rust code and docs from schema.yaml, and apply the migrations.
///
/// With no arguments, reads ./schema.yaml, writes the next migration (if the schema changed)
/// and every other generated file under ./generated/.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The schema file to read.
    #[arg(long, default_value = "schema.yaml", global = true)]
    schema: PathBuf,
    /// The directory to write generated files into.
    #[arg(long, default_value = "generated", global = true)]
    out: PathBuf,
    /// Write nothing; exit 1 if generated/ is stale, the migrations were edited, or schema.yaml
    /// holds changes no migration captures.
    #[arg(long)]
    check: bool,
    /// The name of the new migration (default: derived from the changes).
    #[arg(long)]
    name: Option<String>,
    /// Allow changes that can lose data: dropped tables and columns, narrowing type changes,
    /// removed enum values.
    #[arg(long)]
    allow_destructive: bool,
    /// Accept hand edits to committed migrations by rewriting the integrity file.
    #[arg(long)]
    rehash: bool,
    /// Print how long each step of the generation took (stderr).
    #[arg(long)]
    timings: bool,
    /// Where the replayed history is kept between runs (keyed by the migrations and the
    /// codegen binary; anything else is a miss).
    #[arg(long, default_value = ".codegen-cache")]
    cache_dir: PathBuf,
    /// Neither read nor write the replayed history; replay every migration.
    #[arg(long)]
    no_cache: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations to the database at DATABASE_URL.
    Db {
        /// Defaults to the DATABASE_URL environment variable, then to the seed's local database.
        #[arg(long, env = "DATABASE_URL", default_value = runner::DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
        #[command(flatten)]
        timeouts: Timeouts,
        #[command(subcommand)]
        action: DbAction,
    },
    /// Compare schema.yaml, the committed migrations and (with a database URL) the live
    /// database; print every difference and exit 1 on drift, 0 when all agree.
    Drift {
        /// The database to compare as well (default: the DATABASE_URL environment variable, if
        /// set). Without one, only schema.yaml and the migrations are compared.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// The database schemas to read (repeat, or separate with commas); by default `public`
        /// and the schemas schema.yaml declares. The runner's own `codegen` schema is never read.
        #[arg(long, value_delimiter = ',')]
        db_schema: Vec<String>,
        /// `text` for people, `json` for tools (shape documented in the README).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Read a database's schema and write a schema.yaml that reproduces it: to the file given
    /// with --out, else to standard output. What the file cannot reproduce is reported on stderr.
    Introspect {
        /// Defaults to the DATABASE_URL environment variable.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: String,
        /// The database schemas to read (repeat, or separate with commas); by default every
        /// schema but PostgreSQL's own, an extension's and the runner's `codegen`.
        #[arg(long, value_delimiter = ',')]
        db_schema: Vec<String>,
    },
}

/// How long the runner lets a step wait and run (durations such as 250ms, 2s, 5min).
#[derive(Debug, ClapArgs)]
struct Timeouts {
    /// Give up on a lock after this long, roll the step back and retry it later, so that
    /// queries queued behind the migration wait no longer than this. Never 0. [default: 250ms]
    #[arg(long, env = settings::LOCK_TIMEOUT_ENV, value_parser = duration::parse_lock_timeout, global = true)]
    lock_timeout: Option<Duration>,
    /// The statement_timeout of steps that block the application, or `off`. [default: 60s]
    #[arg(long, env = settings::STATEMENT_TIMEOUT_ENV, value_parser = parse_optional_timeout, global = true)]
    statement_timeout: Option<OptionalTimeout>,
    /// The statement_timeout of statements that block nobody (CREATE INDEX CONCURRENTLY), or
    /// `off`. [default: off]
    #[arg(long, env = settings::CONCURRENT_STATEMENT_TIMEOUT_ENV, value_parser = parse_optional_timeout, global = true)]
    concurrent_statement_timeout: Option<OptionalTimeout>,
    /// How long a step keeps retrying after lock timeouts before the runner gives up, naming
    /// the sessions that block it. [default: 5min]
    #[arg(long, env = settings::LOCK_RETRY_BUDGET_ENV, value_parser = duration::parse, global = true)]
    lock_retry_budget: Option<Duration>,
}

/// A timeout that can be `off`.
#[derive(Debug, Clone, Copy)]
struct OptionalTimeout(Option<Duration>);

fn parse_optional_timeout(text: &str) -> Result<OptionalTimeout, String> {
    duration::parse_statement_timeout(text).map(OptionalTimeout)
}

impl Timeouts {
    fn settings(&self) -> Settings {
        let defaults = Settings::default();
        Settings {
            lock_timeout: self.lock_timeout.unwrap_or(defaults.lock_timeout),
            statement_timeout: self
                .statement_timeout
                .map_or(defaults.statement_timeout, |t| t.0),
            concurrent_statement_timeout: self
                .concurrent_statement_timeout
                .map_or(defaults.concurrent_statement_timeout, |t| t.0),
            lock_retry_budget: self.lock_retry_budget.unwrap_or(defaults.lock_retry_budget),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum DbAction {
    /// Apply every pending migration (resuming one an interrupted run left half-applied).
    Upgrade {
        /// Print what would run, in order, with transaction boundaries and timeouts; run nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Revert the last N applied migrations.
    Downgrade {
        #[arg(default_value_t = 1)]
        steps: usize,
        /// Print what would run, in order, with transaction boundaries and timeouts; run nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Where the database is: server version, applied and pending migrations with checksums,
    /// a half-applied migration, invalid indexes, and what to do about each problem.
    Status {
        /// `text` for people, `json` for deploy tooling.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List migrations, applied and pending, with checksums and times.
    History,
    /// Print the last applied migration.
    Current,
    /// Drop everything in the database's public schema (and the other schemas the migrations
    /// create) and apply every migration again.
    Reset {
        /// Required: this deletes all data.
        #[arg(long)]
        yes: bool,
    },
    /// Check the connection and the migrations' health: server version, current migration,
    /// pending count; exit 1 when a migration is half-applied, edited after being applied, or an
    /// index is INVALID.
    Check,
    /// Run the retention purge (`purge_expired_data`): delete expired rows of every table with
    /// `retention`, audited as one `data_retention_purge` event. Prints the counts as JSON.
    Purge {
        /// The `users.id` the audit row names (a service account); none leaves it NULL.
        #[arg(long)]
        actor: Option<String>,
    },
    /// Let the existing login role LOGIN `SET ROLE` to every role the migrations create (GRANT
    /// <role> TO <login>), as a service running each request under its caller's role needs.
    GrantLogin { login: String },
    /// Run the partition maintenance (`maintain_partitions`): create the partitions of every
    /// partitioned table ahead, drop whole partitions past the retention period, audited as one
    /// `data_retention_purge` event. Prints what was created and dropped as JSON.
    Maintain {
        /// The `users.id` the audit row names (a service account); none leaves it NULL.
        #[arg(long)]
        actor: Option<String>,
    },
}

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `--out` names the output directory, or for `introspect` the file to write (stdout if not
    // given), so whether it was given matters.
    let out_given = matches.value_source("out") == Some(ValueSource::CommandLine);
    let result = match &args.command {
        None => generate(&args),
        Some(Command::Db {
            database_url,
            timeouts,
            action,
        }) => db(&args, database_url, timeouts.settings(), action),
        Some(Command::Drift {
            database_url,
            db_schema,
            format,
        }) => drift(&args, database_url.as_deref(), db_schema, *format),
        Some(Command::Introspect {
            database_url,
            db_schema,
        }) => introspect_database(database_url, db_schema, out_given.then_some(&args.out)),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

fn migrations_dir(args: &Args) -> PathBuf {
    args.out.join("migrations")
}

/// Reads the committed migrations (and the integrity file, if any).
fn read_history(dir: &Path) -> Result<(Vec<MigrationFile>, Option<String>), String> {
    let history = migrate::dir::read(dir).map_err(|e| format!("error: {e}"))?;
    Ok((history.migrations, history.sum))
}

fn check_integrity(
    args: &Args,
    migrations: &[MigrationFile],
    sum: Option<&str>,
) -> Result<(), String> {
    if args.rehash {
        return Ok(());
    }
    let dir = migrations_dir(args);
    match sum {
        Some(sum) => history::verify_sum(migrations, sum).map_err(|why| {
            format!(
                "error: {}: {why}\nmigrations are never edited once generated; to accept the edit anyway run `cargo run -p codegen -- --rehash`",
                dir.join(SUM_FILE).display()
            )
        }),
        None if migrations.is_empty() => Ok(()),
        None => Err(format!(
            "error: `{}` is missing; run `cargo run -p codegen -- --rehash` to record the migrations as they are",
            dir.join(SUM_FILE).display()
        )),
    }
}

/// The time each step took, printed with `--timings`.
struct Timings {
    on: bool,
    last: Instant,
}

impl Timings {
    fn new(on: bool) -> Self {
        Timings {
            on,
            last: Instant::now(),
        }
    }

    fn step(&mut self, what: &str) {
        let now = Instant::now();
        if self.on {
            eprintln!(
                "timing: {what:<40} {:>9.1} ms",
                (now - self.last).as_secs_f64() * 1e3
            );
        }
        self.last = now;
    }
}

fn generate(args: &Args) -> Result<ExitCode, String> {
    let mut timings = Timings::new(args.timings);
    let schema_name = args.schema.display().to_string();
    let text = fs::read_to_string(&args.schema)
        .map_err(|e| format!("error: cannot read schema file `{schema_name}`: {e}"))?;
    let (catalog, renames) = model::load_schema_with_renames(&schema_name, &text)
        .map_err(|errors| errors.to_string())?;
    timings.step("load schema.yaml");
    // A table whose names collide in Rust has no Rust type; the database is not affected.
    for problem in codegen::rust::check(&catalog) {
        eprintln!("warning: {schema_name}: {problem}; the table has no Rust type");
    }
    timings.step("check Rust names");
    let dir = migrations_dir(args);
    // The table pages the last run rendered from the same inputs stay as they are on disk.
    // `--check` renders and compares everything.
    let use_page_cache = !args.check && !args.no_cache;
    let renderer = binary_identity().filter(|_| use_page_cache);
    let page_cache = match &renderer {
        Some(_) => page_cache::PageCache::load(&args.cache_dir),
        None => page_cache::PageCache::default(),
    };
    let render = || {
        let mut timings = Timings::new(args.timings);
        let docs = match &renderer {
            Some(renderer) => codegen::docs::generate_reusing(&catalog, renderer, &|page| {
                page_cache.reusable(&args.out, page)
            }),
            None => codegen::docs::generate_reusing(&catalog, "", &|_| false),
        };
        let mut files = docs.files;
        let kept = docs.pages.iter().filter(|p| p.reused).count();
        timings.step(&format!(
            "render docs, {kept} of {} table pages kept",
            docs.pages.len()
        ));
        files.extend(codegen::rust::generate(&catalog));
        timings.step("render Rust crate");
        (files, docs.pages)
    };
    let plan = || {
        let mut timings = Timings::new(args.timings);
        let (migrations, sum) = read_history(&dir)?;
        check_integrity(args, &migrations, sum.as_deref())?;
        timings.step("read migrations, check codegen.sum");
        let (previous, cached) = replay_history(args, &dir, &migrations)?;
        timings.step(if cached {
            "the replayed history, from the cache"
        } else {
            "replay the history"
        });
        let options = PlanOptions {
            name: args.name.clone(),
            first_number: u32::try_from(migrations.len() + 1).unwrap_or(u32::MAX),
            allow_destructive: args.allow_destructive,
        };
        let planned =
            migration::plan(&previous, &catalog, &renames, &options).map_err(|e| e.to_string())?;
        timings.step("plan and verify by replay");
        Ok::<_, String>((planned, migrations, timings))
    };
    // The history and the plan on one thread, the other files on another: they need nothing
    // of each other but the catalog. A small schema's take a few milliseconds, less than
    // waiting for a second thread to be scheduled on a busy machine.
    let ((planned, mut migrations, _), (mut files, pages)) = if catalog.tables.len() < 64 {
        let planned = plan()?;
        (planned, render())
    } else {
        std::thread::scope(|scope| {
            let rendering = scope.spawn(render);
            let planned = plan();
            let files = rendering
                .join()
                .map_err(|_| "internal error: rendering panicked".to_string())?;
            Ok::<_, String>((planned?, files))
        })?
    };
    timings.step("plan | render");
    files.extend(codegen::generate_rest(&catalog));
    for m in &planned {
        files.push(codegen::GeneratedFile {
            path: PathBuf::from(format!("migrations/{}.up.sql", m.id)),
            contents: m.up.clone(),
        });
        files.push(codegen::GeneratedFile {
            path: PathBuf::from(format!("migrations/{}.down.sql", m.id)),
            contents: m.down.clone(),
        });
        migrations.push(MigrationFile {
            number: u32::try_from(migrations.len() + 1).unwrap_or(u32::MAX),
            id: m.id.clone(),
            up: m.up.clone(),
            down: m.down.clone(),
        });
    }
    files.push(codegen::GeneratedFile {
        path: PathBuf::from(format!("migrations/{SUM_FILE}")),
        contents: history::sum_file(&migrations),
    });

    // The files of pages left as they are: produced by this run, and already up to date.
    let kept: Vec<PathBuf> = pages
        .iter()
        .filter(|p| p.reused)
        .flat_map(|p| p.files.iter().cloned())
        .collect();
    if args.check {
        let mut stale = Vec::new();
        for m in &planned {
            stale.push(format!(
                "  pending: schema.yaml changes no migration captures yet ({})",
                m.id
            ));
        }
        for file in &files {
            let path = args.out.join(&file.path);
            if file.path.starts_with("migrations")
                && file.path.extension().is_some_and(|e| e == "sql")
            {
                continue; // reported as pending above
            }
            match on_disk(&path, &file.contents) {
                OnDisk::Same => {}
                OnDisk::Differs => stale.push(format!("  differs: {}", path.display())),
                OnDisk::Missing => stale.push(format!("  missing: {}", path.display())),
            }
        }
        for path in leftovers(&args.out, &files, &kept) {
            stale.push(format!(
                "  left over: {} (no longer generated)",
                path.display()
            ));
        }
        timings.step("compare with generated/");
        if stale.is_empty() {
            println!("{} is up to date with {schema_name}", args.out.display());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("{} is stale:\n{}", args.out.display(), stale.join("\n"));
        eprintln!("run `cargo run -p codegen` and commit the result");
        return Ok(ExitCode::from(1));
    }

    let mut changed = Vec::new();
    for file in &files {
        let path = args.out.join(&file.path);
        match on_disk(&path, &file.contents) {
            OnDisk::Same => {}
            OnDisk::Differs => changed.push((path, file, "updated")),
            OnDisk::Missing => changed.push((path, file, "created")),
        }
    }
    timings.step("compare with generated/");
    // The history (new migrations, then the integrity file) is flushed to disk before it is
    // renamed into place; everything else is derived from schema.yaml and rewritten by the next
    // run if a crash of the machine lost it, so it is written through a rename (never half a
    // file) unflushed: a fsync per file made the first generation of 1,000 tables wait seconds
    // for the disk.
    let writes: Vec<ToWrite<'_>> = changed
        .iter()
        .map(|(path, file, _)| ToWrite {
            path,
            contents: &file.contents,
            durable: file.path.starts_with("migrations"),
        })
        .collect();
    write_all_atomically(&writes)?;
    for (path, _, verb) in &changed {
        println!("{verb} {}", path.display());
    }
    for path in leftovers(&args.out, &files, &kept) {
        fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        println!("removed {} (no longer generated)", path.display());
        // A directory the run emptied (`docs/erd/` of a schema that shrank) goes too.
        if let Some(parent) = path.parent() {
            let _ = fs::remove_dir(parent);
        }
    }
    timings.step("write changed files");
    if renderer.is_some() {
        page_cache::PageCache::save(&args.cache_dir, &args.out, &pages);
        timings.step("record the table pages");
    }
    if planned.is_empty() {
        println!("no schema changes: no new migration");
    }
    Ok(ExitCode::SUCCESS)
}

fn db(args: &Args, url: &str, settings: Settings, action: &DbAction) -> Result<ExitCode, String> {
    let dir = migrations_dir(args);
    let (migrations, sum) = read_history(&dir)?;
    check_integrity(args, &migrations, sum.as_deref())?;
    let mut runner = Runner::connect(url, migrations)?;
    runner.verbose = true;
    runner.settings = settings;
    match action {
        DbAction::Upgrade { dry_run: true } => print!("{}", runner.plan_upgrade()?.render()),
        DbAction::Upgrade { dry_run: false } => {
            let applied = runner.upgrade()?;
            if applied.is_empty() {
                println!("already at head");
            }
        }
        DbAction::Downgrade {
            steps,
            dry_run: true,
        } => print!("{}", runner.plan_downgrade(*steps)?.render()),
        DbAction::Downgrade {
            steps,
            dry_run: false,
        } => {
            let reverted = runner.downgrade(*steps)?;
            if reverted.is_empty() {
                println!("nothing to revert");
            }
        }
        DbAction::History => {
            for entry in runner.history()? {
                match entry.applied {
                    Some(a) => println!(
                        "applied  {}  sha256:{}  {}  {} ms",
                        entry.id,
                        &entry.checksum[..12],
                        a.applied_at,
                        a.duration_ms
                    ),
                    None => println!("pending  {}  sha256:{}", entry.id, &entry.checksum[..12]),
                }
            }
        }
        DbAction::Current => println!(
            "{}",
            runner
                .current()?
                .unwrap_or_else(|| "none (no migration applied)".to_string())
        ),
        DbAction::Reset { yes } => {
            if !yes {
                return Err("error: `db reset` deletes every table and row in the public schema; pass --yes to confirm".to_string());
            }
            runner.reset()?;
        }
        DbAction::Purge { actor } => {
            println!("{}", runner.purge_expired_data(actor.as_deref())?);
        }
        DbAction::GrantLogin { login } => {
            println!(
                "granted to {login}: {}",
                runner.grant_roles_to(login)?.join(", ")
            );
        }
        DbAction::Maintain { actor } => {
            println!("{}", runner.maintain_partitions(actor.as_deref())?);
        }
        DbAction::Status { format } => {
            let report = runner.report()?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
                ),
                Format::Text => print!("{}", report.render()),
            }
        }
        DbAction::Check => {
            let report = runner.report()?;
            println!("connected: {}", runner::redact(url));
            println!("server version: {}", report.server_version);
            println!(
                "current migration: {}",
                report.current.as_deref().unwrap_or("none")
            );
            println!("pending migrations: {}", report.pending.len());
            for problem in &report.problems {
                println!("problem: {problem}");
            }
            if !report.healthy() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The state the committed migrations build, and whether it came from the cache.
fn replay_history(
    args: &Args,
    dir: &Path,
    migrations: &[MigrationFile],
) -> Result<(model::Catalog, bool), String> {
    let replay =
        || history::replay(migrations).map_err(|e| format!("error: {}: {e}", dir.display()));
    let Some(code) = binary_identity().filter(|_| !args.no_cache && !migrations.is_empty()) else {
        return Ok((replay()?, false));
    };
    let key = codegen::replay_cache::key(migrations, &code);
    let file = args.cache_dir.join("history.bin");
    if let Some(state) = fs::read(&file)
        .ok()
        .and_then(|bytes| codegen::replay_cache::decode(&bytes, &key))
    {
        return Ok((state, true));
    }
    let state = replay()?;
    // `--check` writes nothing; a cache that cannot be written only costs time next run.
    if !args.check
        && let Some(bytes) = codegen::replay_cache::encode(&key, &state)
        && fs::create_dir_all(&args.cache_dir).is_ok()
    {
        let _ = fs::write(args.cache_dir.join(".gitignore"), "*\n");
        let temp = args
            .cache_dir
            .join(format!("history.bin.{}.tmp", std::process::id()));
        if fs::write(&temp, bytes).is_ok() && fs::rename(&temp, &file).is_err() {
            let _ = fs::remove_file(&temp);
        }
    }
    Ok((state, false))
}

/// What identifies the replay code: this binary's path, size and modification time (a rebuilt
/// codegen is another one), or nothing when they cannot be read.
fn binary_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = fs::metadata(&exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{} {} {}",
        exe.display(),
        meta.len(),
        modified.as_nanos()
    ))
}
