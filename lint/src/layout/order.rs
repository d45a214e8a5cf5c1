//! File names and the order each tool applies its migrations in.

use std::cmp::Ordering;

use super::*;

/// Where a file sorts in its layout; `None` when the layout does not run it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    /// Flyway's repeatable migrations come after every versioned one.
    group: u8,
    version: Vec<Number>,
    name: String,
}

/// A string of digits, ordered by its value however long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Number(pub(super) String);

impl Number {
    pub(super) fn new(digits: &str) -> Number {
        let trimmed = digits.trim_start_matches('0');
        Number(trimmed.to_string())
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub(super) fn key(layout: Layout, path: &str) -> Option<Key> {
    let name = file_name(path);
    let by_name = || Key {
        group: 0,
        version: vec![],
        name: path.to_string(),
    };
    let by_number = |digits: &str| Key {
        group: 0,
        version: vec![Number::new(digits)],
        name: path.to_string(),
    };
    if !name.ends_with(".sql") || name.ends_with(".down.sql") {
        return None;
    }
    match layout {
        Layout::Plain | Layout::Codegen | Layout::PgDump => (depth(path) == 1).then(by_name),
        Layout::GolangMigrate => {
            if depth(path) != 1 || !name.ends_with(".up.sql") {
                return None;
            }
            numbered_name(name, &['_']).map(|(n, _)| by_number(n))
        }
        Layout::Sqlx | Layout::Dbmate | Layout::Goose => {
            if depth(path) != 1 {
                return None;
            }
            numbered_name(name, &['_']).map(|(n, _)| by_number(n))
        }
        Layout::PostgresMigrations => {
            if depth(path) != 1 {
                return None;
            }
            numbered_name(name, &['_', '-']).map(|(n, _)| by_number(n))
        }
        Layout::Flyway => flyway_key(name).map(|mut k| {
            k.name = format!("{}\0{path}", k.name);
            k
        }),
        Layout::Diesel => {
            let (dir, file) = nested(path)?;
            if file != "up.sql" {
                return None;
            }
            diesel_version(dir).map(|v| Key {
                group: 0,
                version: vec![Number::new(&v)],
                name: path.to_string(),
            })
        }
        Layout::Prisma => {
            let (dir, file) = nested(path)?;
            (file == "migration.sql" && prisma_dir(dir)).then(by_name)
        }
    }
}

/// `V<version>__<description>.sql`: versions compared part by part, numerically (`.` or `_`
/// separate the parts, missing parts count as 0); `R__<description>.sql` after all of them, by
/// description. Undo (`U`) files and anything else: `None`.
pub(super) fn flyway_key(name: &str) -> Option<Key> {
    let stem = name.strip_suffix(".sql")?;
    if let Some(description) = stem.strip_prefix("R__") {
        return Some(Key {
            group: 1,
            version: vec![],
            name: description.to_string(),
        });
    }
    let rest = stem.strip_prefix('V')?;
    let (version, description) = rest.split_once("__")?;
    let parts: Vec<&str> = version.split(['.', '_']).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut version: Vec<Number> = parts.into_iter().map(Number::new).collect();
    // `1` and `1.0` are the same version.
    while version.len() > 1 && version.last().is_some_and(|n| n.0.is_empty()) {
        version.pop();
    }
    Some(Key {
        group: 0,
        version,
        name: description.to_string(),
    })
}

/// A Diesel migration directory's version: the part before the first `_`, digits with `-`
/// between them (`2024-01-31-120000`), dashes removed.
pub(super) fn diesel_version(dir: &str) -> Option<String> {
    let (version, rest) = dir.split_once('_')?;
    let digits: String = version.chars().filter(|c| *c != '-').collect();
    (!rest.is_empty()
        && !digits.is_empty()
        && version.chars().all(|c| c.is_ascii_digit() || c == '-')
        && digits.bytes().all(|b| b.is_ascii_digit()))
    .then_some(digits)
}

/// A Prisma migration directory: `<timestamp>_<name>`.
pub(super) fn prisma_dir(dir: &str) -> bool {
    numbered_name(dir, &['_']).is_some()
}

/// `<dir>/<file>` directly under the directory or under one more level (the tool's own
/// `migrations/` when the project directory is named).
pub(super) fn nested(path: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [dir, file] | [_, dir, file] => Some((dir, file)),
        _ => None,
    }
}

/// `<digits><separator><rest>`: the digits and the rest.
pub(super) fn numbered_name<'a>(name: &'a str, separators: &[char]) -> Option<(&'a str, &'a str)> {
    let name = file_name(name);
    let end = name
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(name.len());
    let (digits, rest) = name.split_at(end);
    let rest = rest.strip_prefix(|c: char| separators.contains(&c))?;
    (!digits.is_empty() && !rest.is_empty()).then_some((digits, rest))
}

pub(super) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(super) fn depth(path: &str) -> usize {
    path.split('/').count()
}

pub(super) fn is_up_sql(path: &str) -> bool {
    path.ends_with(".sql") && !path.ends_with(".down.sql")
}
