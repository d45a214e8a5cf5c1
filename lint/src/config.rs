//! `lint.toml`: rule severities, disabled rules and the PostgreSQL version.
//!
//! ```toml
//! postgres_version = 15          # the server the migrations run on (default 15)
//! assume_in_transaction = true   # files run in a transaction when their tool runs them in one
//! layout = "goose"               # read directories as this tool lays them out (default: recognised)
//! search_path = ["storage", "public"] # what the migrations' runner sets (default: public)
//! disable = ["uuid-primary-key"] # same as setting the rule to "off"
//!
//! [rules]
//! drop-column = "error"          # error | warning | off
//! rename-table = "off"
//!
//! [runner]                       # what the tool that applies the migrations does itself
//! sets_lock_timeout = true       # every migration runs with a lock_timeout: require-lock-timeout is off
//! sets_statement_timeout = true  # ... and a statement_timeout: require-statement-timeout is off
//! ```
//!
//! The file is found by walking up from the current directory (see `main.rs`); parsing and
//! validation are here, on strings.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::finding::Severity;
use crate::layout::Layout;
use crate::registry;

/// The name of the configuration file.
pub const FILE_NAME: &str = "lint.toml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Major version of the target server.
    pub postgres_version: u32,
    /// Whether files run inside a transaction when their migration tool runs them in one
    /// (false: every file runs statement by statement; only explicit BEGIN ... COMMIT counts).
    pub assume_in_transaction: bool,
    /// The migration tool's layout to read directories with; `None`: recognised per directory.
    pub layout: Option<Layout>,
    /// The `search_path` the migrations run with (their runner's setting): where unqualified
    /// names are created and looked up until a migration sets another.
    pub search_path: Vec<String>,
    /// Per-rule overrides: `None` turns the rule off.
    pub severities: BTreeMap<String, Option<Severity>>,
    /// What the migrations' runner sets for every migration (`[runner]`).
    pub runner: Runner,
}

/// `[runner]`: settings the tool that applies the migrations makes itself, so that a file need
/// not (`codegen db upgrade` sets both timeouts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runner {
    /// Every migration runs with a `lock_timeout`: `require-lock-timeout` does not apply.
    #[serde(default)]
    pub sets_lock_timeout: bool,
    /// Every migration runs with a `statement_timeout`: `require-statement-timeout` does not
    /// apply.
    #[serde(default)]
    pub sets_statement_timeout: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            postgres_version: 15,
            assume_in_transaction: true,
            layout: None,
            search_path: vec![model::DEFAULT_SCHEMA.to_string()],
            severities: BTreeMap::new(),
            runner: Runner::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    postgres_version: Option<toml::Value>,
    assume_in_transaction: Option<bool>,
    layout: Option<String>,
    search_path: Option<toml::Value>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    rules: BTreeMap<String, String>,
    runner: Option<Runner>,
}

impl Config {
    /// Parses and validates a `lint.toml`. Every unknown rule or bad value is reported.
    pub fn parse(text: &str) -> Result<Config, Vec<String>> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let mut errors = Vec::new();
        let mut config = Config::default();
        if let Some(version) = raw.postgres_version {
            match parse_version(&version) {
                Some(v) if (9..=30).contains(&v) => config.postgres_version = v,
                _ => errors.push(format!(
                    "postgres_version: expected a major version such as 15, got {version}"
                )),
            }
        }
        if let Some(runner) = raw.runner {
            config.runner = runner;
        }
        if let Some(b) = raw.assume_in_transaction {
            config.assume_in_transaction = b;
        }
        if let Some(name) = &raw.layout {
            match Layout::from_name(name) {
                Some(l) => config.layout = Some(l),
                None => errors.push(format!(
                    "layout: unknown layout \"{name}\"; expected one of {}",
                    Layout::NAMES.join(", ")
                )),
            }
        }
        if let Some(value) = &raw.search_path {
            match parse_search_path(value) {
                Some(schemas) => config.search_path = schemas,
                None => errors.push(format!(
                    "search_path: expected schema names, as a list (`[\"storage\", \"public\"]`) or as PostgreSQL writes it (`\"storage, public\"`), got {value}"
                )),
            }
        }
        let check_rule = |name: &str, errors: &mut Vec<String>| {
            if registry::rule(name).is_some() {
                true
            } else {
                let hint =
                    model::diagnostics::suggest(name, registry::RULES.iter().map(|r| r.name))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                errors.push(format!("unknown rule `{name}`{hint}"));
                false
            }
        };
        for name in &raw.disable {
            if check_rule(name, &mut errors) {
                config.severities.insert(name.clone(), None);
            }
        }
        for (name, level) in &raw.rules {
            if !check_rule(name, &mut errors) {
                continue;
            }
            let severity = match level.as_str() {
                "error" => Some(Severity::Error),
                "warning" | "warn" => Some(Severity::Warning),
                "off" => None,
                other => {
                    errors.push(format!(
                        "rules.{name}: expected \"error\", \"warning\" or \"off\", got \"{other}\""
                    ));
                    continue;
                }
            };
            if raw.disable.contains(name) && severity.is_some() {
                errors.push(format!("`{name}` is both disabled and given a severity"));
            }
            config.severities.insert(name.clone(), severity);
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    /// The severity a rule reports with, `None` when it is off.
    pub fn severity(&self, rule: &str) -> Option<Severity> {
        match self.severities.get(rule) {
            Some(s) => *s,
            None => registry::rule(rule).map(|r| r.severity),
        }
    }
}

/// `["a", "b"]` or `"a, b"` as schema names; `None` when empty or not names.
fn parse_search_path(value: &toml::Value) -> Option<Vec<String>> {
    let schemas: Vec<String> = match value {
        toml::Value::String(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(|s| s.trim().to_string()))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let valid = !schemas.is_empty()
        && schemas
            .iter()
            .all(|s| !s.is_empty() && s.len() <= model::ident::MAX_IDENTIFIER_BYTES);
    valid.then_some(schemas)
}

fn parse_version(v: &toml::Value) -> Option<u32> {
    match v {
        toml::Value::Integer(i) => u32::try_from(*i).ok(),
        toml::Value::Float(f) if *f >= 0.0 => Some(*f as u32),
        toml::Value::String(s) => s.split('.').next()?.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_disable_and_version() {
        let config = Config::parse(
            "postgres_version = \"10.4\"\ndisable = [\"uuid-primary-key\"]\n[rules]\ndrop-column = \"error\"\nrename-table = \"off\"\n",
        )
        .expect("valid");
        assert_eq!(config.postgres_version, 10);
        assert_eq!(config.severity("uuid-primary-key"), None);
        assert_eq!(config.severity("rename-table"), None);
        assert_eq!(config.severity("drop-column"), Some(Severity::Error));
        assert_eq!(config.severity("fk-needs-index"), Some(Severity::Error));
        assert_eq!(config.severity("drop-table"), Some(Severity::Warning));
    }

    #[test]
    fn every_mistake_is_reported() {
        let errors = Config::parse(
            "postgres_version = \"x\"\ndisable = [\"fk-need-index\"]\n[rules]\ndrop-table = \"fatal\"\n",
        )
        .expect_err("invalid");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[1].contains("did you mean `fk-needs-index`"),
            "{errors:?}"
        );
        assert!(Config::parse("colour = true").is_err());
    }

    #[test]
    fn runner_settings() {
        assert_eq!(Config::default().runner, Runner::default());
        let config =
            Config::parse("[runner]\nsets_lock_timeout = true\nsets_statement_timeout = true\n")
                .expect("valid");
        assert!(config.runner.sets_lock_timeout && config.runner.sets_statement_timeout);
        let errors = Config::parse("[runner]\nsets_lock_timeouts = true\n").expect_err("invalid");
        assert!(errors[0].contains("sets_lock_timeouts"), "{errors:?}");
    }

    #[test]
    fn layout_by_name() {
        let config = Config::parse("layout = \"goose\"").expect("valid");
        assert_eq!(config.layout, Some(Layout::Goose));
        let errors = Config::parse("layout = \"liquibase\"").expect_err("invalid");
        assert!(
            errors[0].contains("expected one of codegen, diesel, golang-migrate"),
            "{errors:?}"
        );
    }
}
