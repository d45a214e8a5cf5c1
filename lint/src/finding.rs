//! Findings and the report that collects them.

use serde::{Deserialize, Serialize};

use crate::source::{LineCol, SourceFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem, located in a file by byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    /// Index of the file in the lint run.
    pub file: usize,
    /// Byte range in the file.
    pub start: usize,
    pub end: usize,
    /// The statement (index within its file) the finding belongs to, for `-- lint:ignore`.
    pub statement: Option<usize>,
    pub message: String,
    pub help: Option<String>,
    /// The table and columns of a schema-state finding (also set by some statement rules).
    pub table: Option<String>,
    pub columns: Option<Vec<String>>,
}

impl Finding {
    pub fn new(rule: &str, file: usize, span: (usize, usize), message: impl Into<String>) -> Self {
        Finding {
            rule: rule.to_string(),
            file,
            start: span.0,
            end: span.1.max(span.0),
            statement: None,
            message: message.into(),
            help: None,
            table: None,
            columns: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_table(mut self, table: &str, columns: &[String]) -> Self {
        self.table = Some(table.to_string());
        self.columns = Some(columns.to_vec());
        self
    }
}

/// A finding with its configured severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub finding: Finding,
    pub severity: Severity,
}

/// Everything one lint run found, ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    pub files: Vec<SourceFile>,
    /// Sorted by file, position and rule.
    pub findings: Vec<Reported>,
    pub statements: usize,
    /// Findings silenced by a `-- lint:ignore` with a reason.
    pub suppressed: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// 0 without error-level findings, 1 with.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.errors() > 0)
    }

    /// Start and end (exclusive) of a finding as lines and columns.
    pub fn range(&self, f: &Finding) -> (LineCol, LineCol) {
        let file = &self.files[f.file];
        (file.position(f.start), file.position(f.end))
    }
}
