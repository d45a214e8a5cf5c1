//! rustc-style output through the one diagnostic renderer (`model::diagnostics`, built on
//! annotate-snippets): the finding, where it is, the source lines it covers, the help.
//!
//! ```text
//! error[fk-needs-index]: foreign key `files_case_id_fkey` on `files` (`case_id`) has no index leading with its columns
//!  --> migrations/0002_files.sql:3:1
//!   |
//! 3 | / ALTER TABLE files ADD CONSTRAINT files_case_id_fkey
//! 4 | |     FOREIGN KEY (case_id) REFERENCES cases (id);
//!   | |________________________________________________^
//!   |
//!   = help: CREATE INDEX CONCURRENTLY files_case_id_idx ON files (case_id);
//! ```
//!
//! Each finding costs time proportional to the lines it shows (positions come from a line
//! index), so 20,000 findings render in linear time.

use std::fmt::Write as _;

use model::diagnostics::{Excerpt, Pos, Problem, Severity as Level, render_problem};

use crate::finding::{Report, Severity};

/// At most this many lines of a multi-line statement are shown.
const MAX_LINES: usize = 4;

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::with_capacity(report.findings.len() * 256);
    for r in &report.findings {
        let f = &r.finding;
        let file = &report.files[f.file];
        let (start, end) = report.range(f);
        // A span ending at the start of a line ends on the line before it.
        let last_line = if end.column == 1 && end.line > start.line {
            end.line - 1
        } else {
            end.line
        };
        let shown_last = last_line.min(start.line + MAX_LINES - 1);
        let (text, offset) = file.lines_text(start.line, shown_last);
        let span = f.start.saturating_sub(offset)..f.end.saturating_sub(offset).min(text.len());
        let more = (shown_last < last_line).then(|| {
            format!(
                "{} more line{} of the statement, to line {last_line}",
                last_line - shown_last,
                if last_line - shown_last == 1 { "" } else { "s" }
            )
        });
        render_problem(
            &mut out,
            &Problem {
                severity: match r.severity {
                    Severity::Error => Level::Error,
                    Severity::Warning => Level::Warning,
                },
                code: Some(&f.rule),
                message: &f.message,
                path: &file.path,
                pos: Pos {
                    line: start.line,
                    column: start.column,
                },
                excerpt: Some(Excerpt {
                    text,
                    first_line: start.line,
                    span,
                }),
                help: f.help.as_deref(),
                note: more.as_deref(),
            },
            color,
        );
        out.push_str("\n\n");
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
            paint(color, "1;32", "ok")
        );
    } else {
        let code = if errors > 0 { "1;31" } else { "1;33" };
        let _ = writeln!(
            out,
            "{}: {}, {} in {files} ({statements}{suppressed})",
            paint(color, code, if errors > 0 { "error" } else { "warning" }),
            plural(errors, "error"),
            plural(warnings, "warning"),
        );
    }
    out
}
