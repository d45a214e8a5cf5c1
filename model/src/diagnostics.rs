//! Errors that point into a source file: every problem at once, each with line and column.

use std::fmt;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One problem found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            pos,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Everything wrong with one source file, sorted by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceErrors {
    /// The file as the user named it.
    pub path: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl SourceErrors {
    pub fn new(path: &str, source: &str, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by(|a, b| a.pos.cmp(&b.pos).then_with(|| a.message.cmp(&b.message)));
        diagnostics.dedup();
        SourceErrors {
            path: path.to_string(),
            source: source.to_string(),
            diagnostics,
        }
    }

    /// One line per problem: `path:line:column: message (help: ...)`. Stable, for tests and tools.
    pub fn to_short_string(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&format!(
                "{}:{}:{}: {}",
                self.path, d.pos.line, d.pos.column, d.message
            ));
            if let Some(help) = &d.help {
                out.push_str(&format!(" (help: {help})"));
            }
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for SourceErrors {
    /// rustc-style report: the message, the location, the source line with a caret, the help.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&str> = self.source.lines().collect();
        for d in &self.diagnostics {
            writeln!(f, "error: {}", d.message)?;
            let gutter = d.pos.line.to_string().len();
            writeln!(
                f,
                "{:gutter$}--> {}:{}:{}",
                "", self.path, d.pos.line, d.pos.column
            )?;
            if let Some(text) = d.pos.line.checked_sub(1).and_then(|i| lines.get(i)) {
                // Columns count characters; tabs are shown as one space so the caret lines up.
                let shown: String = text
                    .chars()
                    .map(|c| if c == '\t' { ' ' } else { c })
                    .collect();
                writeln!(f, "{:gutter$} |", "")?;
                writeln!(f, "{} | {}", d.pos.line, shown)?;
                writeln!(
                    f,
                    "{:gutter$} | {:>col$}",
                    "",
                    "^",
                    col = d.pos.column.max(1)
                )?;
            }
            if let Some(help) = &d.help {
                writeln!(f, "{:gutter$} = help: {help}", "")?;
            }
            writeln!(f)?;
        }
        let n = self.diagnostics.len();
        write!(
            f,
            "{} error{} in {}",
            n,
            if n == 1 { "" } else { "s" },
            self.path
        )
    }
}

impl std::error::Error for SourceErrors {}

/// The help for a suggestion: `did you mean `x`?`, the suggestion written as `schema.yaml`
/// writes names (it is already), control characters escaped.
pub fn did_you_mean(suggestion: &str) -> String {
    format!("did you mean {}?", crate::ident::shown_path(suggestion))
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit && *d < word.chars().count())
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(suggest("uuidd", ["uuid", "text"]), Some("uuid"));
        assert_eq!(suggest("nulable", ["nullable", "unique"]), Some("nullable"));
        assert_eq!(suggest("zzz", ["uuid", "text"]), None);
    }

    #[test]
    fn report_points_at_the_column() {
        let errors = SourceErrors::new(
            "s.yaml",
            "a: 1\nb: oops\n",
            vec![Diagnostic::new(Pos { line: 2, column: 4 }, "bad value").with_help("fix it")],
        );
        assert_eq!(
            errors.to_string(),
            "error: bad value\n --> s.yaml:2:4\n  |\n2 | b: oops\n  |    ^\n  = help: fix it\n\n1 error in s.yaml"
        );
    }
}
