//! `--format json`: one object with every finding and a summary.
//!
//! Lines and columns are 1-based (columns count characters); `end_line`/`end_column` point just
//! past the last character, as in SARIF. `table` and `columns` are present on every
//! schema-state finding (and on statement findings that concern a table).

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

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string(&value(report)).unwrap_or_default();
    s.push('\n');
    s
}
