//! `--format json`: one object with every finding and a summary.
//!
//! Lines and columns are 1-based (columns count characters); `end_line`/`end_column` point just
//! past the last character, as in SARIF. `table` and `columns` are present on every
//! schema-state finding (and on statement findings that concern a table).

use serde::Serialize;
use serde_json::{Value, json};

use crate::finding::Report;
use crate::registry;

pub fn value(report: &Report) -> Value {
    let diagnostics: Vec<Value> = report
        .findings
        .iter()
        .map(|r| {
            let f = &r.finding;
            let (start, end) = report.range(f);
            let mut d = json!({
                "rule": f.rule,
                "severity": r.severity.as_str(),
                "file": report.files[f.file].path,
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
                "message": f.message,
                "help": f.help,
                "kind": registry::rule(&f.rule).map_or("linter", |r| r.kind()),
            });
            if let Some(table) = &f.table {
                d["table"] = json!(table);
                d["columns"] = json!(f.columns.clone().unwrap_or_default());
            }
            d
        })
        .collect();
    json!({
        "diagnostics": diagnostics,
        "summary": {
            "files": report.files.len(),
            "statements": report.statements,
            "errors": report.errors(),
            "warnings": report.warnings(),
            "suppressed": report.suppressed,
        }
    })
}

/// One diagnostic as [`value`] prints it: fields in the order of its (sorted) object keys, so
/// serialising this prints the same text without building a map per finding.
#[derive(Serialize)]
struct Diagnostic<'a> {
    column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    columns: Option<&'a [String]>,
    end_column: usize,
    end_line: usize,
    file: &'a str,
    help: &'a Option<String>,
    kind: &'static str,
    line: usize,
    message: &'a str,
    rule: &'a str,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    files: usize,
    statements: usize,
    suppressed: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct Document<'a> {
    diagnostics: Vec<Diagnostic<'a>>,
    summary: Summary,
}

pub fn render(report: &Report) -> String {
    let diagnostics = report
        .findings
        .iter()
        .map(|r| {
            let f = &r.finding;
            let (start, end) = report.range(f);
            Diagnostic {
                column: start.column,
                columns: f
                    .table
                    .as_ref()
                    .map(|_| f.columns.as_deref().unwrap_or_default()),
                end_column: end.column,
                end_line: end.line,
                file: &report.files[f.file].path,
                help: &f.help,
                kind: registry::rule(&f.rule).map_or("linter", |r| r.kind()),
                line: start.line,
                message: &f.message,
                rule: &f.rule,
                severity: r.severity.as_str(),
                table: f.table.as_deref(),
            }
        })
        .collect();
    let document = Document {
        diagnostics,
        summary: Summary {
            errors: report.errors(),
            files: report.files.len(),
            statements: report.statements,
            suppressed: report.suppressed,
            warnings: report.warnings(),
        },
    };
    let mut s = serde_json::to_string(&document).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Reported, Severity};
    use crate::source::SourceFile;

    #[test]
    fn rendering_prints_the_value() {
        let files = vec![
            SourceFile::new("a.sql", "CREATE TABLE t (id int);\nDROP TABLE \"ü\";\n"),
            SourceFile::new("b \"quoted\".sql", "SELECT 1;"),
        ];
        let findings = vec![
            Reported {
                finding: Finding::new("fk-needs-index", 0, (0, 23), "needs an \"index\"\n")
                    .with_help("CREATE INDEX ...")
                    .with_table("t", &["a".into(), "b".into()]),
                severity: Severity::Error,
            },
            Reported {
                finding: Finding::new("drop-table", 0, (25, 40), "drops `ü`"),
                severity: Severity::Warning,
            },
            Reported {
                finding: Finding::new("no-such-rule", 1, (0, 8), "x"),
                severity: Severity::Error,
            },
            Reported {
                finding: {
                    let mut f = Finding::new("uuid-primary-key", 1, (0, 8), "y");
                    f.table = Some("t".into());
                    f
                },
                severity: Severity::Error,
            },
        ];
        let report = Report {
            files,
            findings,
            statements: 3,
            suppressed: 1,
        };
        let expected = format!(
            "{}\n",
            serde_json::to_string(&value(&report)).expect("json")
        );
        assert_eq!(render(&report), expected);
    }
}
