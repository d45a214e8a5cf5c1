//! `lint`: the command line. All file, terminal and environment access is here; the library
//! gets strings and returns a report.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use lint::cache::{self, Cache};
use lint::config::{self, Config};
use lint::layout::{self, Entry, Layout};
use lint::registry::RULES;
use lint::render::{self, Format};
use lint::source::SourceFile;
use pgconn::redact;

/// Parse trees are hundreds of thousands of small allocations made and freed per file, between
/// the replayed schema's long-lived ones: glibc's malloc spends a third of a one-core lint
/// consolidating and searching its fragmented free lists there; mimalloc's size-class pages do
/// not fragment that way (see the `lint` bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "lint",
    version,
    about = "Lint PostgreSQL migrations: replay them in order and check every statement and schema state",
    after_help = "PATH is a .sql file, a directory of migrations or `-` for standard input. A directory is read the way its migration tool lays it out (codegen, Diesel, golang-migrate, Flyway, sqlx, Prisma, dbmate, goose, postgres-migrations, a pg_dump or Rails structure.sql; --verbose says which): its up-migrations in the tool's order, each in a transaction or not as the tool runs it, down sections skipped. Any other directory: *.sql sorted by name, *.down.sql skipped. Exit status: 0 without error-level findings, 1 with, 2 for usage or I/O errors."
)]
struct Cli {
    /// Migration files or directories, in order; `-` (or nothing, with piped input) reads stdin.
    paths: Vec<String>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = Format::NAMES)]
    format: String,
    /// Configuration file (default: the nearest lint.toml from the current directory up).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print a rule's documentation and exit.
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
    /// List every rule with its kind and default severity, and exit.
    #[arg(long)]
    list_rules: bool,
    /// Parser threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Where the replay cache lives.
    #[arg(long, default_value = ".lint-cache")]
    cache_dir: PathBuf,
    /// Neither read nor write the replay cache.
    #[arg(long)]
    no_cache: bool,
    /// Run the schema-state rules on a live database (every schema but the system's and the
    /// runner's `codegen`) instead of files.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Print what was linted, how much came from the cache and how long it took (stderr).
    #[arg(long, short)]
    verbose: bool,
    /// Read directories (and files) as this migration tool lays them out, instead of
    /// recognising the layout (default: `layout` in lint.toml, else recognised).
    #[arg(long, value_name = "NAME", value_parser = Layout::NAMES)]
    layout: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("lint: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8, String> {
    let mut stdout = std::io::stdout().lock();
    if let Some(name) = &cli.explain {
        let rule = lint::registry::rule(name).ok_or_else(|| {
            let hint = model::diagnostics::suggest(name, RULES.iter().map(|r| r.name))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!("unknown rule `{name}`{hint}; `lint --list-rules` lists them")
        })?;
        let text = format!(
            "{}\nKind: {}. Default severity: {}.\n",
            rule.doc(),
            rule.kind(),
            rule.severity.as_str()
        );
        return write_out(&mut stdout, &text).map(|()| 0);
    }
    if cli.list_rules {
        let mut text = String::new();
        for r in RULES {
            text.push_str(&format!(
                "{:34} {:9} {:7} {}\n",
                r.name,
                r.kind(),
                r.severity.as_str(),
                r.summary()
            ));
        }
        return write_out(&mut stdout, &text).map(|()| 0);
    }
    let format = Format::parse(&cli.format).ok_or("unknown format")?;
    let config = load_config(cli.config.as_deref())?;
    let color = format == Format::Human
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if let Some(url) = &cli.database_url {
        if !cli.paths.is_empty() {
            return Err("--database-url checks a live database; give no paths with it".into());
        }
        let name = redact(url);
        let mut client = pgconn::connect(url).map_err(|e| e.to_string())?;
        // Every schema the application uses; `codegen` is the migration runner's own.
        let schemas = introspect::Schemas::All {
            except: vec!["codegen".into()],
        };
        let catalog = introspect::introspect_schemas(&mut client, &schemas)
            .map_err(|e| format!("cannot read the catalog of {name}: {e}"))?
            .catalog;
        let report = lint::lint_catalog(&catalog, &name, &config);
        write_out(&mut stdout, &render::render(&report, format, color))?;
        return Ok(u8::try_from(report.exit_code()).unwrap_or(1));
    }
    let forced = cli
        .layout
        .as_deref()
        .and_then(Layout::from_name)
        .or(config.layout);
    let (files, from_stdin) = read_inputs(&cli.paths, forced, cli.verbose)?;
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let cache_file = cli.cache_dir.join("state.bin");
    let use_cache = !cli.no_cache && !from_stdin && files.len() >= 2;
    let started = std::time::Instant::now();
    let total = files.len();
    let mut reused = 0;
    let report = if use_cache {
        let cached = std::fs::read(&cache_file)
            .ok()
            .and_then(|b| Cache::parse(&b));
        let (report, cache, from_cache) =
            cache::lint_cached(files, &config, threads, cached.as_ref());
        reused = from_cache;
        // A cache that cannot be written only costs time next run.
        if std::fs::create_dir_all(&cli.cache_dir).is_ok() {
            let tmp = cli
                .cache_dir
                .join(format!("state.bin.{}", std::process::id()));
            if std::fs::write(&tmp, cache.to_bytes()).is_ok() {
                let _ = std::fs::rename(&tmp, &cache_file);
            }
            let _ = std::fs::write(cli.cache_dir.join(".gitignore"), "*\n");
        }
        report
    } else {
        lint::lint_sources(files, &config, threads)
    };
    if cli.verbose {
        eprintln!(
            "lint: {} statements, {reused} of {total} files from the replay cache, {} ms",
            report.statements,
            started.elapsed().as_millis()
        );
    }
    write_out(&mut stdout, &render::render(&report, format, color))?;
    Ok(u8::try_from(report.exit_code()).unwrap_or(1))
}

fn write_out(out: &mut impl Write, text: &str) -> Result<(), String> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // `lint ... | head` closing the pipe is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write output: {e}")),
    }
}

fn load_config(explicit: Option<&Path>) -> Result<Config, String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
            cwd.ancestors()
                .map(|d| d.join(config::FILE_NAME))
                .find(|p| p.is_file())
        }
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Config::parse(&text).map_err(|errors| {
        let mut message = format!("invalid {}:", path.display());
        for e in errors {
            message.push_str("\n  ");
            message.push_str(&e);
        }
        message
    })
}

/// The files to lint, in order, and whether one of them is standard input.
fn read_inputs(
    paths: &[String],
    forced: Option<Layout>,
    verbose: bool,
) -> Result<(Vec<SourceFile>, bool), String> {
    let mut files = Vec::new();
    let mut stdin_used = false;
    let read_stdin = |files: &mut Vec<SourceFile>| -> Result<(), String> {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        files.push(single_file("-", &text, None, forced));
        Ok(())
    };
    if paths.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err("no input: name migration files or directories, or pipe SQL into `lint -` (see --help)".into());
        }
        read_stdin(&mut files)?;
        return Ok((files, true));
    }
    for p in paths {
        if p == "-" {
            if stdin_used {
                return Err("`-` (standard input) named twice".into());
            }
            stdin_used = true;
            read_stdin(&mut files)?;
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {p}: {e}"))?;
        if meta.is_dir() {
            let (entries, unreadable) = walk(path)?;
            let plan = layout::plan(&entries, forced);
            if verbose {
                eprintln!("lint: {p}: {}", plan.describe());
            }
            for m in plan.migrations {
                let full = path.join(&m.path);
                if let Some(e) = unreadable.iter().find(|(rel, _)| *rel == m.path) {
                    return Err(e.1.clone());
                }
                files.push(
                    SourceFile::new(full.display().to_string(), m.text)
                        .in_layout(plan.layout, m.transaction),
                );
            }
        } else {
            let text = read_text(path)?;
            let name = path.display().to_string();
            let layout = forced.unwrap_or_else(|| layout::detect_file(&name, &text));
            // Diesel's metadata.toml or Flyway's .sql.conf, when the file has one beside it.
            let sidecar = layout::sidecar_path(layout, &name.replace('\\', "/"))
                .and_then(|s| std::fs::read_to_string(s).ok());
            if verbose && layout != Layout::Plain {
                eprintln!("lint: {p}: a {} migration", layout.name());
            }
            files.push(single_file(&name, &text, sidecar.as_deref(), Some(layout)));
        }
    }
    Ok((files, stdin_used))
}

/// One file named on the command line (or standard input), as `layout` (or the layout its
/// name and contents say) runs it.
fn single_file(
    name: &str,
    text: &str,
    sidecar: Option<&str>,
    layout: Option<Layout>,
) -> SourceFile {
    let layout = layout.unwrap_or_else(|| layout::detect_file(name, text));
    let m = layout::prepare(layout, name, text, sidecar);
    SourceFile::new(name, m.text).in_layout(layout, m.transaction)
}

/// How deep a layout nests its files below the directory named: Prisma's
/// `migrations/<timestamp>_<name>/migration.sql` when the project's `prisma/` is named.
const MAX_DEPTH: usize = 3;

/// The files of a migrations directory, as paths relative to it, with the text of those whose
/// contents a layout reads (`.sql`, `.toml`, `.conf`). Hidden entries, `node_modules` and
/// `target` are skipped. A file that cannot be read as text is listed with its error, which is
/// reported only if the layout runs it.
#[allow(clippy::type_complexity)]
fn walk(root: &Path) -> Result<(Vec<Entry>, Vec<(String, String)>), String> {
    let mut entries = Vec::new();
    let mut unreadable = Vec::new();
    let mut pending = vec![(root.to_path_buf(), String::new(), 1)];
    while let Some((dir, prefix, depth)) = pending.pop() {
        let listing = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
        for item in listing.filter_map(Result::ok) {
            let name = item.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name == "node_modules" || name == "target" {
                continue;
            }
            let rel = format!("{prefix}{name}");
            let full = item.path();
            if full.is_dir() {
                if depth < MAX_DEPTH {
                    pending.push((full, format!("{rel}/"), depth + 1));
                }
                continue;
            }
            if !full.is_file() {
                continue;
            }
            let wanted = [".sql", ".toml", ".conf"].iter().any(|x| name.ends_with(x));
            let text = if wanted {
                match read_text(&full) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        unreadable.push((rel.clone(), e));
                        None
                    }
                }
            } else {
                None
            };
            entries.push(Entry::new(rel, text));
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((entries, unreadable))
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}
