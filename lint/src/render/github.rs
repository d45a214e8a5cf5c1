//! `--format github`: workflow commands that GitHub Actions turns into annotations.
//!
//! `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=RULE::message`, `::warning` for
//! warnings. Property values escape `%`, CR, LF, `:` and `,`; messages escape `%`, CR and LF.

use std::fmt::Write as _;

use crate::finding::{Report, Severity};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for r in &report.findings {
        let f = &r.finding;
        let (start, end) = report.range(f);
        let level = match r.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = f.message.clone();
        if let Some(help) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(&report.files[f.file].path),
            start.line,
            start.column,
            end.line,
            end.column,
            property(&f.rule),
            data(&message)
        );
    }
    out
}

fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}
