//! The report of a lint run: every file's findings and the schema-state problems still open,
//! after suppressions and the configured severities.

use super::Linter;
use super::problems::{Origin, Pending, ProblemKey};
use crate::finding::{Finding, Report, Reported};
use crate::registry::RULES;
use crate::rules;
use crate::source::SourceFile;
use crate::suppress::{Scope, Suppression};

impl Linter {
    /// The report: findings of every file plus the schema-state problems still open, after
    /// suppressions and the configured severities.
    pub fn finish(&self, files: Vec<SourceFile>) -> Report {
        let mut all: Vec<Finding> = self
            .files
            .iter()
            .flat_map(|f| f.findings.iter().cloned())
            .collect();
        for (key, pending) in &self.pending {
            all.push(self.state_finding(key, pending, &files));
        }
        let suppressions: Vec<&Suppression> =
            self.files.iter().flat_map(|f| &f.suppressions).collect();
        let mut used = vec![false; suppressions.len()];
        let mut suppressed = 0;
        all.retain(|f| {
            let hit = suppressions.iter().position(|s| {
                s.file == f.file
                    && s.rules.contains(&f.rule)
                    && match s.scope {
                        Scope::File => true,
                        Scope::Statement(Some(st)) => f.statement == Some(st),
                        Scope::Statement(None) => false,
                    }
            });
            match hit {
                Some(i) => {
                    used[i] = true;
                    suppressed += 1;
                    false
                }
                None => true,
            }
        });
        for (s, used) in suppressions.iter().zip(used) {
            all.extend(suppression_findings(s, used));
        }
        let mut findings: Vec<Reported> = all
            .into_iter()
            .filter_map(|finding| {
                let severity = self.config.severity(&finding.rule)?;
                Some(Reported { finding, severity })
            })
            .collect();
        findings.sort_by(|a, b| {
            (
                a.finding.file,
                a.finding.start,
                &a.finding.rule,
                &a.finding.message,
            )
                .cmp(&(
                    b.finding.file,
                    b.finding.start,
                    &b.finding.rule,
                    &b.finding.message,
                ))
        });
        findings.dedup_by(|a, b| a.finding == b.finding);
        Report {
            statements: self.statements(),
            files,
            findings,
            suppressed,
        }
    }

    fn state_finding(&self, key: &ProblemKey, p: &Pending, files: &[SourceFile]) -> Finding {
        let (file, span, statement, message) = match &p.origin {
            Origin::Statement {
                file,
                statement,
                start,
                end,
            } => (*file, (*start, *end), Some(*statement), p.message.clone()),
            Origin::EndOfFile { file, cause } => {
                let source = files.get(*file);
                let span = source.map_or((0, 0), SourceFile::end_span);
                let message = match (cause, source) {
                    (Some(c), Some(src)) => format!(
                        "{} (since `{}` on line {})",
                        p.message,
                        c.summary,
                        src.position(c.start).line
                    ),
                    _ => p.message.clone(),
                };
                (*file, span, cause.as_ref().map(|c| c.statement), message)
            }
        };
        let mut f = Finding::new(&key.rule, file, span, message)
            .with_help(p.help.clone())
            .with_table(&key.table, &key.columns);
        f.statement = statement;
        f
    }
}

fn suppression_findings(s: &Suppression, used: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let span = (s.start, s.end);
    let form = match s.scope {
        Scope::File => "lint:ignore-file",
        Scope::Statement(_) => "lint:ignore",
    };
    if s.reason.is_none() {
        out.push(
            Finding::new(
                rules::suppression_without_reason::NAME,
                s.file,
                span,
                format!("`-- {form} {}` gives no reason", s.rules.join(",")),
            )
            .with_help(format!(
                "say why: `-- {form} {} <reason>`",
                s.rules.join(",")
            )),
        );
    }
    let unknown: Vec<&String> = s
        .rules
        .iter()
        .filter(|r| {
            crate::registry::rule(r).is_none()
                || **r == rules::unused_suppression::NAME
                || **r == rules::suppression_without_reason::NAME
        })
        .collect();
    if s.rules.is_empty() {
        out.push(Finding::new(
            rules::unused_suppression::NAME,
            s.file,
            span,
            format!("`-- {form}` names no rule"),
        ));
    } else if let Some(name) = unknown.first() {
        let hint = model::diagnostics::suggest(name, RULES.iter().map(|r| r.name))
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| "`lint --list-rules` lists the rules".into());
        out.push(
            Finding::new(
                rules::unused_suppression::NAME,
                s.file,
                span,
                format!("`{name}` is not a rule that can be suppressed"),
            )
            .with_help(hint),
        );
    } else if !used {
        let target = match s.scope {
            Scope::File => "in this file",
            Scope::Statement(Some(_)) => "on the next statement",
            Scope::Statement(None) => "(no statement follows it)",
        };
        out.push(
            Finding::new(
                rules::unused_suppression::NAME,
                s.file,
                span,
                format!(
                    "suppression of {} matches no finding {target}",
                    rules::list(&s.rules)
                ),
            )
            .with_help("remove it, or move it above the statement it is meant for"),
        );
    }
    out
}
