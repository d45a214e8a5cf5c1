//! The one table of every rule: name, default severity, kind and check. A rule's documentation
//! is the `//!` comment of its file, embedded here with `include_str!`.

use model::{Catalog, Table};

use crate::finding::{Finding, Severity};
use crate::rules::{self, Problem, StatementContext};

pub type StatementCheck = fn(&StatementContext<'_>, &mut Vec<Finding>);
pub type StateCheck = fn(&Table, &Catalog, &mut Vec<Problem>);

#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Runs on every statement, seeing the schema before it.
    Statement(StatementCheck),
    /// Runs on each table of the schema state after a statement or file.
    State(StateCheck),
    /// Reported by the linter itself (parsing, replay, suppressions).
    Linter,
}

#[derive(Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    pub severity: Severity,
    pub check: Check,
    source: &'static str,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("name", &self.name)
            .field("severity", &self.severity)
            .field("kind", &self.kind())
            .finish()
    }
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self.check {
            Check::Statement(_) => "statement",
            Check::State(_) => "state",
            Check::Linter => "linter",
        }
    }

    /// The rule's documentation: its file's leading `//!` comment, as Markdown.
    pub fn doc(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines() {
            let Some(rest) = line.strip_prefix("//!") else {
                break;
            };
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
        out
    }

    /// The first paragraph of the "What it does" section, on one line.
    pub fn summary(&self) -> String {
        let doc = self.doc();
        let body = doc
            .split_once("## What it does")
            .map_or(doc.as_str(), |(_, rest)| rest);
        body.trim_start()
            .split("\n\n")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

macro_rules! rule {
    ($module:ident, $severity:ident, $check:expr) => {
        Rule {
            name: rules::$module::NAME,
            severity: Severity::$severity,
            check: $check,
            source: include_str!(concat!("rules/", stringify!($module), ".rs")),
        }
    };
}

/// Every rule, in the order of the documentation: schema state, compliance, lock safety,
/// breaking changes, hygiene, then the linter's own.
pub static RULES: &[Rule] = &[
    rule!(
        jsonb_needs_gin,
        Error,
        Check::State(rules::jsonb_needs_gin::check)
    ),
    rule!(
        fk_needs_index,
        Error,
        Check::State(rules::fk_needs_index::check)
    ),
    rule!(
        uuid_primary_key,
        Error,
        Check::State(rules::uuid_primary_key::check)
    ),
    rule!(
        soft_delete_needs_deleted_at,
        Error,
        Check::State(rules::soft_delete_needs_deleted_at::check)
    ),
    rule!(
        audit_log_append_only,
        Error,
        Check::Statement(rules::audit_log_append_only::check)
    ),
    rule!(
        pii_column_dropped,
        Error,
        Check::Statement(rules::pii_column_dropped::check)
    ),
    rule!(
        unflagged_personal_data,
        Warning,
        Check::State(rules::unflagged_personal_data::check)
    ),
    rule!(
        security_definer_search_path,
        Error,
        Check::Statement(rules::security_definer_search_path::check)
    ),
    rule!(
        index_without_concurrently,
        Error,
        Check::Statement(rules::index_without_concurrently::check)
    ),
    rule!(
        constraint_without_not_valid,
        Error,
        Check::Statement(rules::constraint_without_not_valid::check)
    ),
    rule!(
        unique_without_using_index,
        Warning,
        Check::Statement(rules::unique_without_using_index::check)
    ),
    rule!(
        not_null_column_without_default,
        Error,
        Check::Statement(rules::not_null_column_without_default::check)
    ),
    rule!(
        volatile_default,
        Error,
        Check::Statement(rules::volatile_default::check)
    ),
    rule!(
        column_type_change,
        Warning,
        Check::Statement(rules::column_type_change::check)
    ),
    rule!(
        require_lock_timeout,
        Error,
        Check::Statement(rules::require_lock_timeout::check)
    ),
    rule!(
        require_statement_timeout,
        Warning,
        Check::Statement(rules::require_statement_timeout::check)
    ),
    rule!(
        concurrently_in_transaction,
        Error,
        Check::Statement(rules::concurrently_in_transaction::check)
    ),
    rule!(
        drop_table,
        Warning,
        Check::Statement(rules::drop_table::check)
    ),
    rule!(
        drop_column,
        Warning,
        Check::Statement(rules::drop_column::check)
    ),
    rule!(
        rename_table,
        Warning,
        Check::Statement(rules::rename_table::check)
    ),
    rule!(
        rename_column,
        Warning,
        Check::Statement(rules::rename_column::check)
    ),
    rule!(
        enum_add_value_without_position,
        Warning,
        Check::Statement(rules::enum_add_value_without_position::check)
    ),
    rule!(
        identifier_too_long,
        Error,
        Check::Statement(rules::identifier_too_long::check)
    ),
    rule!(syntax_error, Error, Check::Linter),
    rule!(replay_failed, Warning, Check::Linter),
    rule!(suppression_without_reason, Error, Check::Linter),
    rule!(unused_suppression, Warning, Check::Linter),
];

pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// Where the rule table sits in `docs/linting.md`: between these two lines, written by
/// [`rule_table`] (the `rule_table` test fails when it is stale).
pub const RULE_TABLE_START: &str = "<!-- rule table: generated from lint's registry; UPDATE_RULE_TABLE=1 cargo test -p lint --test rule_table -->";
pub const RULE_TABLE_END: &str = "<!-- end of rule table -->";

/// Every rule as a Markdown table row, in registry order: name, kind, default severity and the
/// first sentence of its documentation.
pub fn rule_table() -> String {
    let mut out =
        String::from("| rule | kind | default | what it reports |\n| --- | --- | --- | --- |\n");
    for rule in RULES {
        let summary = rule.summary();
        // The first sentence: up to the first ". " that ends one (not inside `code`).
        let mut in_code = false;
        let mut end = summary.len();
        for (i, c) in summary.char_indices() {
            match c {
                '`' => in_code = !in_code,
                '.' | ':' if !in_code && summary[i + 1..].starts_with(' ') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let sentence = summary[..end].trim_end_matches('.').replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {} | {sentence} |\n",
            rule.name,
            rule.kind(),
            rule.severity.as_str()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented_in_the_four_sections() {
        for rule in RULES {
            let doc = rule.doc();
            assert!(
                doc.starts_with(&format!("# {}\n", rule.name)),
                "{}:\n{doc}",
                rule.name
            );
            for section in ["## What it does", "## Why", "## Example", "## Use instead"] {
                assert!(doc.contains(section), "{} lacks {section}", rule.name);
            }
            assert!(!rule.summary().is_empty(), "{}", rule.name);
        }
    }

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
        }
    }
}
