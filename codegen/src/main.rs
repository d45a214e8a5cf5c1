//! `codegen`: reads `schema.yaml` and writes `generated/`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Generate SQL migrations from schema.yaml.
///
/// With no arguments, reads ./schema.yaml and writes ./generated/.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The schema file to read.
    #[arg(long, default_value = "schema.yaml")]
    schema: PathBuf,
    /// The directory to write generated files into.
    #[arg(long, default_value = "generated")]
    out: PathBuf,
    /// Write nothing; exit 1 if any generated file is missing or differs from what the schema gives.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let schema_name = args.schema.display().to_string();
    let text = fs::read_to_string(&args.schema)
        .map_err(|e| format!("error: cannot read schema file `{schema_name}`: {e}"))?;
    let catalog = model::load_schema(&schema_name, &text).map_err(|errors| errors.to_string())?;
    let files = codegen::generate(&catalog);
    if args.check {
        return Ok(check(&args.out, &files));
    }
    for file in &files {
        let path = args.out.join(&file.path);
        match fs::read_to_string(&path) {
            Ok(existing) if existing == file.contents => println!("unchanged {}", path.display()),
            Ok(_) => {
                write_atomically(&path, &file.contents)?;
                println!("updated   {}", path.display());
            }
            Err(_) => {
                write_atomically(&path, &file.contents)?;
                println!("created   {}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(out: &Path, files: &[codegen::GeneratedFile]) -> ExitCode {
    let mut stale = Vec::new();
    for file in files {
        let path = out.join(&file.path);
        match fs::read_to_string(&path) {
            Ok(existing) if existing == file.contents => {}
            Ok(_) => stale.push(format!("  differs: {}", path.display())),
            Err(_) => stale.push(format!("  missing: {}", path.display())),
        }
    }
    if stale.is_empty() {
        println!("{} is up to date", out.display());
        return ExitCode::SUCCESS;
    }
    eprintln!("{} is stale:\n{}", out.display(), stale.join("\n"));
    eprintln!("run `cargo run -p codegen` and commit the result");
    ExitCode::from(1)
}

/// Writes through a temporary file and a rename, so an interrupted run never leaves half a file.
fn write_atomically(path: &Path, contents: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("error: cannot write `{}`: {e}", path.display());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(fail)?;
    }
    let temp = path.with_extension("tmp");
    let mut f = fs::File::create(&temp).map_err(fail)?;
    f.write_all(contents.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    fs::rename(&temp, path).map_err(fail)
}
