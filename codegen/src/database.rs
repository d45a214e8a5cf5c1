//! The commands that read a live database: `codegen drift` (schema.yaml and the migrations
//! against the database) and `codegen introspect` (a database written out as schema.yaml).

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use migrate::history;
use migrate::runner;

use crate::disk::write_atomically;
use crate::{Args, Format, migrations_dir, read_history};

fn connect(url: &str) -> Result<postgres::Client, String> {
    pgconn::connect(url).map_err(|e| format!("error: {e}"))
}

/// The schema the migration runner keeps its history table in: never part of the schema.
const RUNNER_SCHEMA: &str = "codegen";

/// Reads the live schemas, printing what the catalog leaves out as notes on stderr.
fn read_database(url: &str, schemas: &introspect::Schemas) -> Result<model::Catalog, String> {
    let mut client = connect(url)?;
    let introspection = introspect::introspect_schemas(&mut client, schemas)
        .map_err(|e| format!("error: {}: {e}", runner::redact(url)))?;
    for note in &introspection.notes {
        eprintln!("note: database: {note}");
    }
    Ok(introspection.catalog)
}

/// `schema \`public\``, `schemas \`public\`, \`storage\``.
fn schema_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let noun = if names.len() == 1 {
        "schema"
    } else {
        "schemas"
    };
    format!("{noun} {}", quoted.join(", "))
}

pub(crate) fn drift(
    args: &Args,
    database_url: Option<&str>,
    db_schema: &[String],
    format: Format,
) -> Result<ExitCode, String> {
    use codegen::drift::{self, State};
    let schema_name = args.schema.display().to_string();
    let text = fs::read_to_string(&args.schema)
        .map_err(|e| format!("error: cannot read schema file `{schema_name}`: {e}"))?;
    let yaml = model::load_schema(&schema_name, &text).map_err(|errors| errors.to_string())?;
    let dir = migrations_dir(args);
    let (migrations, _) = read_history(&dir)?;
    let replayed =
        history::replay(&migrations).map_err(|e| format!("error: {}: {e}", dir.display()))?;
    // What schema.yaml describes: `public` and the schemas it declares, those the database has
    // (a missing one is drift); or exactly the schemas asked for.
    let (schemas, wanted) = if db_schema.is_empty() {
        let mut names = vec![model::DEFAULT_SCHEMA.to_string()];
        names.extend(yaml.schemas.iter().map(|s| s.name.clone()));
        (introspect::Schemas::Existing(names.clone()), names)
    } else {
        let names: Vec<String> = db_schema
            .iter()
            .filter(|s| *s != RUNNER_SCHEMA)
            .cloned()
            .collect();
        (introspect::Schemas::Only(names.clone()), names)
    };
    let live = match database_url {
        Some(url) => Some((url, read_database(url, &schemas)?)),
        None => None,
    };
    let yaml_label = args
        .schema
        .file_name()
        .map_or(schema_name.clone(), |n| n.to_string_lossy().to_string());
    let mut states = vec![
        (
            State {
                name: yaml_label,
                source: schema_name,
            },
            &yaml,
        ),
        (
            State {
                name: "migrations".to_string(),
                source: format!(
                    "{} ({} migration{})",
                    dir.display(),
                    migrations.len(),
                    if migrations.len() == 1 { "" } else { "s" }
                ),
            },
            &replayed,
        ),
    ];
    if let Some((url, catalog)) = &live {
        states.push((
            State {
                name: "database".to_string(),
                source: format!("{} of {}", schema_list(&wanted), runner::redact(url)),
            },
            catalog,
        ));
    }
    let report = drift::report(&states);
    match format {
        Format::Text => print!("{}", report.render_text()),
        Format::Json => println!("{}", report.render_json()),
    }
    Ok(if report.drift {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn introspect_database(
    url: &str,
    db_schema: &[String],
    out: Option<&PathBuf>,
) -> Result<ExitCode, String> {
    let (schemas, source) = if db_schema.is_empty() {
        (
            introspect::Schemas::All {
                except: vec![RUNNER_SCHEMA.to_string()],
            },
            format!(
                "every schema of a PostgreSQL database but the migration runner's `{RUNNER_SCHEMA}`"
            ),
        )
    } else {
        (
            introspect::Schemas::Only(db_schema.to_vec()),
            format!("the {} of a PostgreSQL database", schema_list(db_schema)),
        )
    };
    let catalog = read_database(url, &schemas)?;
    let written = model::yaml::write::to_schema_yaml(&catalog, &source);
    for message in written.messages() {
        eprintln!("warning: {message}");
    }
    match &written.round_trip {
        Ok(differences) if differences.is_empty() => {}
        Ok(differences) => {
            eprintln!(
                "warning: loaded back, the written schema.yaml differs from the database in {} way(s):",
                differences.len()
            );
            for d in differences {
                eprintln!("  - {}", d.describe("the database", "schema.yaml"));
            }
        }
        Err(errors) => eprintln!("warning: the written schema.yaml does not load:\n{errors}"),
    }
    match out {
        Some(path) => {
            write_atomically(path, &written.text, true)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{}", written.text),
    }
    Ok(ExitCode::SUCCESS)
}
