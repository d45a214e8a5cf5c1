//! Migrations: the diff between two catalogs, split into files that PostgreSQL can run safely,
//! each with the down script that restores the state before it.
//!
//! A change set becomes up to three migrations, in this order:
//! 1. new enum labels (`ALTER TYPE ... ADD VALUE`), committed before anything uses them;
//! 2. everything else, in one transaction;
//! 3. index builds and drops on existing tables, `CONCURRENTLY` and so outside a transaction.
//!
//! Every plan is checked before it is returned: replaying each up script (with PostgreSQL's
//! parser) onto the previous state must give the next state, the last state must be the target,
//! and each down script must give back the state before its up script. A plan that fails this
//! is a bug in codegen, reported as such rather than written.

use std::borrow::Cow;

use model::replay::replay_script;
use model::{Catalog, RenameHints};

pub use crate::diff::creation_order;
use crate::diff::{Change, Part, Phase, diff};

use migrate::NO_TRANSACTION_MARKER;

/// One migration, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// `0001_initial`: the number and the name, as in the file names.
    pub id: String,
    /// False for migrations that must run outside a transaction block.
    pub transactional: bool,
    pub up: String,
    pub down: String,
    /// The up statements one by one (a change may hold several).
    pub up_changes: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The migration name; derived from the changes when absent.
    pub name: Option<String>,
    /// The number of the first new migration.
    pub first_number: u32,
    /// Allow changes that can lose data (drops, narrowing type changes, removed enum labels).
    pub allow_destructive: bool,
}

/// Why no migration could be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The target cannot be reached safely; each message says why.
    Refused(Vec<String>),
    /// Changes that can lose data (or rewrite a whole table under an exclusive lock), refused
    /// without `--allow-destructive`.
    Destructive(Vec<String>),
    /// The plan did not replay to the target: a codegen bug.
    Internal(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::Refused(reasons) => {
                writeln!(f, "error: schema.yaml cannot be migrated to as it stands:")?;
                for r in reasons {
                    writeln!(f, "  - {r}")?;
                }
                Ok(())
            }
            PlanError::Destructive(changes) => {
                writeln!(
                    f,
                    "error: the change would lose data or rewrite a table under an exclusive lock; refusing without --allow-destructive:"
                )?;
                for c in changes {
                    writeln!(f, "  - {c}")?;
                }
                write!(
                    f,
                    "review each one, then run again with --allow-destructive"
                )
            }
            PlanError::Internal(message) => write!(f, "internal error (please report): {message}"),
        }
    }
}

/// The migrations that take a database from `from` to `to`; empty when they are the same.
pub fn plan(
    from: &Catalog,
    to: &Catalog,
    hints: &RenameHints,
    options: &PlanOptions,
) -> Result<Vec<Migration>, PlanError> {
    let changes = diff(from, to, hints)
        .map_err(|errors| PlanError::Refused(errors.into_iter().map(|e| e.0).collect()))?;
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let destructive: Vec<String> = changes
        .iter()
        .filter_map(|c| c.destructive.clone())
        .collect();
    if !destructive.is_empty() && !options.allow_destructive {
        return Err(PlanError::Destructive(destructive));
    }
    let from_nothing = from.tables.is_empty()
        && from.enums.is_empty()
        && from.functions.is_empty()
        && from.schemas.is_empty()
        && from.extensions.is_empty();
    let name = match &options.name {
        Some(name) => sanitize(name),
        None if from_nothing => "initial".to_string(),
        None => derive_name(&changes),
    };
    let parts: Vec<(Part, Vec<&Change>)> = [
        Part::EnumValues,
        Part::Main,
        Part::Rebuild,
        Part::ConcurrentIndexes,
    ]
    .into_iter()
    .map(|p| {
        (
            p,
            changes.iter().filter(|c| c.part == p).collect::<Vec<_>>(),
        )
    })
    .filter(|(_, cs)| !cs.is_empty())
    .collect();
    let single = parts.len() == 1;
    let inverted = crate::diff::pending_renames(from, hints).inverted();
    // Borrowed until the first part is replayed: a schema of thousands of tables is copied only
    // where the replay needs its own.
    let mut state: Cow<'_, Catalog> = Cow::Borrowed(from);
    let mut out = Vec::new();
    for (i, (part, part_changes)) in parts.iter().enumerate() {
        let number = options.first_number + u32::try_from(i).unwrap_or(0);
        let id = match (single, part) {
            (true, _) | (false, Part::Main) => format!("{number:04}_{name}"),
            (false, Part::EnumValues) => format!("{number:04}_{name}_enum_values"),
            (false, Part::Rebuild) => format!("{number:04}_{name}_rebuild"),
            (false, Part::ConcurrentIndexes) => format!("{number:04}_{name}_indexes"),
        };
        let transactional = !matches!(part, Part::ConcurrentIndexes | Part::Rebuild);
        // Moving rows in batches takes as long as the table is big: no statement timeout (the
        // lock timeout still keeps every step from queueing the application).
        let directives: &[&str] = if *part == Part::Rebuild {
            &["-- codegen:statement-timeout off"]
        } else {
            &[]
        };
        let up_changes: Vec<String> = part_changes.iter().map(|c| c.sql.clone()).collect();
        let up = render(
            &id,
            "up",
            transactional,
            directives,
            part_changes.iter().map(|c| (c.phase, c.sql.as_str())),
        );
        let mut next = Catalog::clone(&state);
        replay_script(&mut next, &up).map_err(|(pos, e)| internal(&id, "up", pos, &e, &up))?;
        // Renames in the main part are undone by the main part's down.
        let down_hints = if *part == Part::Main {
            inverted.clone()
        } else {
            RenameHints::default()
        };
        let back = crate::diff::diff_for_down(&next, &state, &down_hints).map_err(|errors| {
            PlanError::Internal(format!(
                "{id}: cannot plan the down migration: {}",
                errors
                    .iter()
                    .map(|e| e.0.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        // A down script runs in the same mode as its up script; in a transaction, index changes
        // cannot be concurrent.
        let down_sql: Vec<(Phase, String)> = back
            .iter()
            .map(|c| {
                let sql = if transactional {
                    c.sql.replace(" CONCURRENTLY", "")
                } else {
                    c.sql.clone()
                };
                (c.phase, sql)
            })
            .collect();
        let down = render(
            &id,
            "down",
            transactional,
            directives,
            down_sql.iter().map(|(p, s)| (*p, s.as_str())),
        );
        let mut restored = next.clone();
        replay_script(&mut restored, &down)
            .map_err(|(pos, e)| internal(&id, "down", pos, &e, &down))?;
        let restored = restored.into_normalized();
        if restored != state.normalized() {
            return Err(PlanError::Internal(format!(
                "{id}: the down migration does not restore the previous schema: {}",
                first_difference(&restored, &state)
            )));
        }
        out.push(Migration {
            id,
            transactional,
            up,
            down,
            up_changes,
        });
        state = Cow::Owned(next);
    }
    let reached = state.into_owned().into_normalized();
    if reached != to.normalized() {
        return Err(PlanError::Internal(format!(
            "the planned migrations do not reach the schema in schema.yaml: {}",
            first_difference(&reached, to)
        )));
    }
    Ok(out)
}

/// Where two catalogs first differ, for internal errors.
fn first_difference(actual: &Catalog, expected: &Catalog) -> String {
    let (a, e) = (actual.normalized(), expected.normalized());
    if a.schemas != e.schemas {
        return format!("schemas: got {:?}, expected {:?}", a.schemas, e.schemas);
    }
    if a.enums != e.enums {
        return format!("enums: got {:?}, expected {:?}", a.enums, e.enums);
    }
    if a.functions != e.functions {
        return "functions differ".to_string();
    }
    for t in &e.tables {
        let shown = t.display_name();
        match a.table_named(&t.qualified_name()) {
            None => return format!("table {shown} is missing"),
            Some(at) if at != t => {
                for c in &t.columns {
                    if at.column(&c.name) != Some(c) {
                        return format!(
                            "{shown}.{}: got {:?}, expected {c:?}",
                            c.name,
                            at.column(&c.name)
                        );
                    }
                }
                return format!("table {shown}: got {at:?}, expected {t:?}");
            }
            Some(_) => {}
        }
    }
    "extra tables".to_string()
}

fn internal(id: &str, direction: &str, pos: model::Pos, error: &str, sql: &str) -> PlanError {
    PlanError::Internal(format!(
        "{id} ({direction}) does not replay at {}:{}: {error}\n{sql}",
        pos.line, pos.column
    ))
}

/// The first migration: everything in `catalog`, from an empty database.
pub fn initial(catalog: &Catalog) -> Migration {
    let options = PlanOptions {
        name: Some("initial".to_string()),
        first_number: 1,
        allow_destructive: false,
    };
    match plan(
        &Catalog::default(),
        catalog,
        &RenameHints::default(),
        &options,
    ) {
        Ok(mut migrations) if migrations.len() == 1 => migrations.remove(0),
        Ok(migrations) => panic!(
            "a schema created from nothing is one migration, got {}",
            migrations.len()
        ),
        Err(e) => panic!("{e}"),
    }
}

fn phase_title(phase: Phase) -> &'static str {
    match phase {
        Phase::Schemas => "Schemas",
        Phase::Extensions => "Extensions (created when missing)",
        Phase::Renames => "Renames",
        Phase::Types => "Enum types",
        Phase::Roles => "Roles (cluster-wide; created when missing, never dropped)",
        Phase::Functions => "Functions",
        Phase::DropForeignKeys => "Foreign keys to drop",
        Phase::DropConstraints => "Constraints and indexes to drop",
        Phase::DropTriggers => "Triggers to drop",
        Phase::DropTables => "Tables to drop",
        Phase::CreateTables => "Tables",
        Phase::Rebuild => "Tables rebuilt with their rows (moved in batches, then swapped in)",
        Phase::Columns => "Columns",
        Phase::DropColumns => "Columns to drop",
        Phase::Constraints => "Constraints",
        Phase::Indexes => "Indexes",
        Phase::Triggers => "Triggers",
        Phase::ForeignKeys => "Foreign keys",
        Phase::Comments => "Comments",
        Phase::Grants => "Privileges",
        Phase::Cleanup => "Cleanup",
        Phase::DropExtensions => "Extensions to drop",
        Phase::DropSchemas => "Schemas to drop",
    }
}

fn render<'a>(
    id: &str,
    direction: &str,
    transactional: bool,
    directives: &[&str],
    changes: impl Iterator<Item = (Phase, &'a str)>,
) -> String {
    let mut out = String::new();
    if !transactional {
        out.push_str(NO_TRANSACTION_MARKER);
        out.push('\n');
    }
    for directive in directives {
        out.push_str(directive);
        out.push('\n');
    }
    out.push_str(&format!(
        "-- Generated by codegen from schema.yaml: DO NOT EDIT.\n\
         -- Migration {id} ({direction}). To change the schema, edit schema.yaml and run `cargo run -p codegen`.\n"
    ));
    let mut current = None;
    for (phase, sql) in changes {
        if current != Some(phase) {
            out.push_str(&format!("\n-- {}\n", phase_title(phase)));
            current = Some(phase);
        }
        out.push_str(sql);
        out.push('\n');
    }
    out
}

/// `add_cases_due_at`, `add_cases_due_at_and_drop_files_size`, `create_invoices_and_3_more`.
fn derive_name(changes: &[Change]) -> String {
    let mut summaries: Vec<&str> = Vec::new();
    for c in changes {
        if !summaries.contains(&c.summary.as_str()) {
            summaries.push(&c.summary);
        }
    }
    let name = match summaries.as_slice() {
        [] => "change".to_string(),
        [one] => one.to_string(),
        [a, b] => format!("{a}_and_{b}"),
        [a, rest @ ..] => format!("{a}_and_{}_more", rest.len()),
    };
    sanitize(&name)
}

/// A file-name-safe slug: lower-case ASCII letters, digits and single underscores, at most 60.
fn sanitize(name: &str) -> String {
    let mut clean = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if !(c == '_' && (clean.is_empty() || clean.ends_with('_'))) {
            clean.push(c);
        }
        if clean.len() >= 60 {
            break;
        }
    }
    while clean.ends_with('_') {
        clean.pop();
    }
    if clean.is_empty() {
        "change".to_string()
    } else {
        clean
    }
}
