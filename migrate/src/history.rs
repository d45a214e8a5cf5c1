//! The committed migration history: file naming, the integrity file, and the replay that turns
//! the history into the "previous" schema. Shared by the generator, `--check` and the runner, so
//! all three read migrations the same way. Pure: [`crate::dir`] reads the files.
//!
//! The integrity file (`codegen.sum`) works like Atlas's `atlas.sum`: each line holds a running
//! SHA-256 over every migration up to it (name and content), so editing an old migration, or
//! inserting one out of order, changes every later line; the first line hashes the whole list.
//! Line endings are normalised before hashing, so a checkout that turns LF into CRLF is not a
//! false alarm.

use std::fmt::Write as _;
use std::time::Duration;

use model::Catalog;
use model::replay::replay_script;
use sha2::{Digest, Sha256};

use crate::duration;

/// The first line of a migration that must run outside a transaction block (`CREATE INDEX
/// CONCURRENTLY`, enum labels used by later statements): the planner writes it, the runner and the
/// linter read it.
pub const NO_TRANSACTION_MARKER: &str = "-- codegen:no-transaction";

/// The integrity file's name inside the migrations directory.
pub const SUM_FILE: &str = "codegen.sum";

/// One migration as committed: `NNNN_name.up.sql` and `NNNN_name.down.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    pub number: u32,
    /// `0001_initial`.
    pub id: String,
    pub up: String,
    pub down: String,
}

/// What a migration's leading comment lines ask of the runner: `-- codegen:no-transaction` (the
/// first line), `-- codegen:lock-timeout <duration>`, `-- codegen:statement-timeout <duration>`
/// (or `off`). They override the runner's flags for this migration alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    pub no_transaction: bool,
    pub lock_timeout: Option<Duration>,
    /// `Some(None)`: `off`, no statement timeout.
    pub statement_timeout: Option<Option<Duration>>,
}

/// The prefix of every runner directive.
const DIRECTIVE_PREFIX: &str = "-- codegen:";

impl Directives {
    /// Reads the directives of `script`: the comment lines before its first statement. A line
    /// that starts like a directive but is not one is an error, so a typo is not silently a
    /// comment.
    pub fn parse(script: &str) -> Result<Directives, String> {
        let mut directives = Directives::default();
        for (index, line) in script.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if !line.starts_with("--") {
                break;
            }
            let Some(directive) = line.strip_prefix(DIRECTIVE_PREFIX) else {
                continue;
            };
            let (name, value) = directive
                .split_once(char::is_whitespace)
                .map_or((directive, ""), |(n, v)| (n, v.trim()));
            let at = |why: String| format!("line {}: `{line}`: {why}", index + 1);
            match name {
                "no-transaction" if index == 0 && value.is_empty() => {
                    directives.no_transaction = true
                }
                "no-transaction" => {
                    return Err(at(format!(
                        "write `{NO_TRANSACTION_MARKER}` alone on the first line"
                    )));
                }
                "lock-timeout" => {
                    directives.lock_timeout =
                        Some(duration::parse_lock_timeout(value).map_err(at)?);
                }
                "statement-timeout" => {
                    directives.statement_timeout =
                        Some(duration::parse_statement_timeout(value).map_err(at)?);
                }
                _ => {
                    return Err(at(
                        "not a runner directive (codegen:no-transaction, codegen:lock-timeout, codegen:statement-timeout)".to_string(),
                    ));
                }
            }
        }
        Ok(directives)
    }
}

impl MigrationFile {
    /// Whether the up script must run outside a transaction block.
    pub fn transactional(&self) -> bool {
        self.up
            .lines()
            .next()
            .is_none_or(|l| l.trim() != NO_TRANSACTION_MARKER)
    }

    /// SHA-256 of the up script (line endings normalised), hex: what the runner records.
    pub fn checksum(&self) -> String {
        script_checksum(&self.up)
    }
}

/// SHA-256 of a script with its line endings normalised, hex.
pub fn script_checksum(script: &str) -> String {
    hex(&Sha256::digest(normalize(script).as_bytes()))
}

fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Splits `0001_initial.up.sql` into (1, `0001_initial`, up?).
pub fn parse_file_name(name: &str) -> Option<(u32, String, bool)> {
    let (id, up) = if let Some(id) = name.strip_suffix(".up.sql") {
        (id, true)
    } else {
        (name.strip_suffix(".down.sql")?, false)
    };
    let (number, rest) = id.split_once('_')?;
    if number.len() != 4 || rest.is_empty() {
        return None;
    }
    Some((number.parse().ok()?, id.to_string(), up))
}

/// Pairs up `(file name, content)` entries into migrations, in order, checking that every up
/// has a down and that numbers run 1, 2, 3... without gaps or repeats.
pub fn collect(entries: &[(String, String)]) -> Result<Vec<MigrationFile>, Vec<String>> {
    let mut errors = Vec::new();
    let mut migrations: Vec<MigrationFile> = Vec::new();
    let mut names: Vec<&(String, String)> = entries.iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, content) in names {
        if name == SUM_FILE {
            continue;
        }
        let Some((number, id, up)) = parse_file_name(name) else {
            errors.push(format!(
                "`{name}` is not a migration file name (NNNN_name.up.sql or NNNN_name.down.sql)"
            ));
            continue;
        };
        let entry = match migrations.iter_mut().find(|m| m.id == id) {
            Some(m) => m,
            None => {
                migrations.push(MigrationFile {
                    number,
                    id: id.clone(),
                    up: String::new(),
                    down: String::new(),
                });
                migrations.last_mut().expect("just pushed")
            }
        };
        if up {
            entry.up = content.clone();
        } else {
            entry.down = content.clone();
        }
    }
    migrations.sort_by(|a, b| (a.number, &a.id).cmp(&(b.number, &b.id)));
    for (i, m) in migrations.iter().enumerate() {
        let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if m.number != expected {
            errors.push(format!("`{}` should be number {expected:04}: migrations are numbered 0001, 0002, ... without gaps or repeats", m.id));
        }
        if m.up.is_empty() {
            errors.push(format!("`{}.up.sql` is missing or empty", m.id));
        }
        if m.down.is_empty() {
            errors.push(format!("`{}.down.sql` is missing or empty", m.id));
        }
    }
    if errors.is_empty() {
        Ok(migrations)
    } else {
        Err(errors)
    }
}

/// The integrity file for `migrations`.
pub fn sum_file(migrations: &[MigrationFile]) -> String {
    let mut lines = Vec::new();
    let mut running = [0u8; 32];
    for m in migrations {
        for (suffix, content) in [("up", &m.up), ("down", &m.down)] {
            let name = format!("{}.{suffix}.sql", m.id);
            let mut h = Sha256::new();
            h.update(running);
            h.update(name.as_bytes());
            h.update(b"\n");
            h.update(normalize(content).as_bytes());
            running = h.finalize().into();
            lines.push(format!("{name} h1:{}", hex(&running)));
        }
    }
    let body = lines.join("\n");
    format!("h1:{}\n{body}\n", hex(&Sha256::digest(body.as_bytes())))
}

/// What differs between the committed integrity file and the migrations: names the first file
/// whose line does not match (every later line depends on it).
pub fn verify_sum(migrations: &[MigrationFile], committed: &str) -> Result<(), String> {
    let expected = sum_file(migrations);
    if normalize(committed) == expected {
        return Ok(());
    }
    let committed_lines: Vec<&str> = committed.lines().skip(1).collect();
    let expected_lines: Vec<&str> = expected.lines().skip(1).collect();
    for (i, line) in expected_lines.iter().enumerate() {
        let file = line.split(' ').next().unwrap_or_default();
        match committed_lines.get(i) {
            Some(c) if c == line => continue,
            Some(c) if c.split(' ').next() == Some(file) => {
                return Err(format!(
                    "`{file}` was changed after it was generated (its checksum differs from {SUM_FILE})"
                ));
            }
            Some(c) => {
                return Err(format!(
                    "`{file}` is not where {SUM_FILE} expects it (found `{}`): a migration was added, removed or renumbered by hand",
                    c.split(' ').next().unwrap_or_default()
                ));
            }
            None => {
                return Err(format!(
                    "`{file}` is not recorded in {SUM_FILE}: it was added by hand"
                ));
            }
        }
    }
    if committed_lines.len() > expected_lines.len() {
        return Err(format!(
            "{SUM_FILE} records migrations that are missing: a migration file was deleted"
        ));
    }
    Err(format!(
        "{SUM_FILE} is damaged (its header does not match its lines)"
    ))
}

/// The schema the committed migrations build, replayed in order.
pub fn replay(migrations: &[MigrationFile]) -> Result<Catalog, String> {
    let mut catalog = Catalog::default();
    for m in migrations {
        replay_script(&mut catalog, &m.up)
            .map_err(|(pos, e)| format!("{}.up.sql:{}:{}: {e}", m.id, pos.line, pos.column))?;
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(number: u32, id: &str, up: &str) -> MigrationFile {
        MigrationFile {
            number,
            id: id.into(),
            up: up.into(),
            down: format!("-- undo {id}\n"),
        }
    }

    #[test]
    fn directives_come_from_the_leading_comments() {
        let script = "-- codegen:no-transaction\n-- Generated by codegen\n-- codegen:lock-timeout 2s\n\n-- codegen:statement-timeout off\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- codegen:lock-timeout 9s\n";
        assert_eq!(
            Directives::parse(script),
            Ok(Directives {
                no_transaction: true,
                lock_timeout: Some(Duration::from_secs(2)),
                statement_timeout: Some(None),
            })
        );
        assert_eq!(
            Directives::parse("CREATE TABLE t (id int);"),
            Ok(Directives::default())
        );
    }

    #[test]
    fn directives_refuse_typos_zero_and_a_misplaced_marker() {
        for (script, expected) in [
            ("-- codegen:lock-timout 2s\n", "not a runner directive"),
            ("-- codegen:lock-timeout 0\n", "waits for locks forever"),
            ("-- codegen:lock-timeout soon\n", "is not a duration"),
            ("-- codegen:statement-timeout 0ms\n", "write `off`"),
            (
                "-- x\n-- codegen:no-transaction\n",
                "alone on the first line",
            ),
        ] {
            let error = Directives::parse(script).expect_err(script);
            assert!(error.contains(expected), "{script}: {error}");
            assert!(error.starts_with("line "), "{error}");
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("0001_initial.up.sql"),
            Some((1, "0001_initial".into(), true))
        );
        assert_eq!(
            parse_file_name("0012_add_x.down.sql"),
            Some((12, "0012_add_x".into(), false))
        );
        assert_eq!(parse_file_name("1_x.up.sql"), None);
        assert_eq!(parse_file_name("0001_.up.sql"), None);
        assert_eq!(parse_file_name("notes.txt"), None);
    }

    #[test]
    fn numbering_is_checked() {
        let entries = vec![
            ("0001_a.up.sql".to_string(), "x".to_string()),
            ("0001_a.down.sql".to_string(), "x".to_string()),
            ("0003_b.up.sql".to_string(), "x".to_string()),
        ];
        let errors = collect(&entries).expect_err("gap and missing down");
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn sum_detects_edits_reordering_and_additions_but_not_line_endings() {
        let a = m(1, "0001_a", "CREATE TABLE a (id int);\n");
        let b = m(2, "0002_b", "CREATE TABLE b (id int);\n");
        let sum = sum_file(&[a.clone(), b.clone()]);
        assert_eq!(verify_sum(&[a.clone(), b.clone()], &sum), Ok(()));
        let crlf = m(1, "0001_a", "CREATE TABLE a (id int);\r\n");
        assert_eq!(verify_sum(&[crlf, b.clone()], &sum), Ok(()));
        let edited = m(1, "0001_a", "CREATE TABLE a (id bigint);\n");
        let err = verify_sum(&[edited, b.clone()], &sum).expect_err("edited");
        assert!(err.contains("0001_a.up.sql` was changed"), "{err}");
        let c = m(3, "0003_c", "SELECT 1;\n");
        let err = verify_sum(&[a.clone(), b.clone(), c], &sum).expect_err("added");
        assert!(err.contains("not recorded"), "{err}");
        let err = verify_sum(&[a], &sum).expect_err("deleted");
        assert!(err.contains("deleted"), "{err}");
    }
}
