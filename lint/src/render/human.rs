//! rustc-style output: the finding, where it is, the source lines with carets, the help.
//!
//! ```text
//! error[fk-needs-index]: foreign key `files_case_id_fkey` on `files` (`case_id`) has no index leading with its columns
//!  --> migrations/0002_files.sql:3:1
//!   |
//! 3 | ALTER TABLE files ADD CONSTRAINT files_case_id_fkey
//!   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//! 4 |     FOREIGN KEY (case_id) REFERENCES cases (id);
//!   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!   = help: CREATE INDEX CONCURRENTLY files_case_id_idx ON files (case_id);
//! ```
//!
//! Each finding costs time proportional to the lines it shows (positions come from a line
//! index), so 20,000 findings render in linear time.

use std::fmt::Write as _;

use crate::finding::{Report, Severity};

/// At most this many lines of a multi-line statement are shown.
const MAX_LINES: usize = 4;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let style = Style { on: color };
    let mut out = String::with_capacity(report.findings.len() * 256);
    for r in &report.findings {
        let f = &r.finding;
        let file = &report.files[f.file];
        let (start, end) = report.range(f);
        let (label, code) = match r.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        let _ = writeln!(
            out,
            "{}{}",
            style.paint(code, &format!("{label}[{}]", f.rule)),
            style.paint("1", &format!(": {}", f.message))
        );
        let last_line = if end.column == 1 && end.line > start.line {
            end.line - 1
        } else {
            end.line
        };
        let shown_last = last_line.min(start.line + MAX_LINES - 1);
        let gutter = shown_last.to_string().len();
        let bar = style.paint("1;34", "|");
        let _ = writeln!(
            out,
            "{:gutter$}{} {}:{}:{}",
            "",
            style.paint("1;34", "-->"),
            file.path,
            start.line,
            start.column
        );
        let _ = writeln!(out, "{:gutter$} {bar}", "");
        for line in start.line..=shown_last {
            let text: String = file
                .line_text(line)
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            let width = text.chars().count();
            let from = if line == start.line {
                start.column
            } else {
                1 + indent(&text)
            };
            let to = if line == end.line {
                end.column
            } else {
                width + 1
            };
            let carets = to.saturating_sub(from).max(1);
            let _ = writeln!(
                out,
                "{} {bar} {text}",
                style.paint("1;34", &format!("{line:>gutter$}"))
            );
            let _ = writeln!(
                out,
                "{:gutter$} {bar} {:pad$}{}",
                "",
                "",
                style.paint(code, &"^".repeat(carets)),
                pad = from - 1
            );
        }
        if shown_last < last_line {
            let _ = writeln!(out, "{:gutter$} {bar} ...", "");
        }
        if let Some(help) = &f.help {
            let _ = writeln!(out, "{:gutter$} = {}: {help}", "", style.paint("1", "help"));
        }
        out.push('\n');
    }
    let (errors, warnings) = (report.errors(), report.warnings());
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let files = plural(report.files.len(), "file");
    let statements = plural(report.statements, "statement");
    let suppressed = if report.suppressed > 0 {
        format!(", {} suppressed", report.suppressed)
    } else {
        String::new()
    };
    if errors + warnings == 0 {
        let _ = writeln!(
            out,
            "{}: {files}, {statements}, no findings{suppressed}",
            style.paint("1;32", "ok")
        );
    } else {
        let code = if errors > 0 { "1;31" } else { "1;33" };
        let _ = writeln!(
            out,
            "{}: {}, {} in {files} ({statements}{suppressed})",
            style.paint(code, if errors > 0 { "error" } else { "warning" }),
            plural(errors, "error"),
            plural(warnings, "warning"),
        );
    }
    out
}

fn indent(text: &str) -> usize {
    text.chars().take_while(|c| *c == ' ').count()
}
