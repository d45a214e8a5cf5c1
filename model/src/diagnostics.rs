//! Errors that point into a source file: every problem at once, each with line and column,
//! and the one renderer that shows them (YAML errors here, lint findings in `lint`) the way
//! rustc does, through annotate-snippets.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};

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

    /// The help of a problem with something that stands a second time: where it stood first,
    /// as `"{what} at line:column"` (`what` e.g. "first declared").
    pub fn with_first(self, what: &str, first: Pos) -> Self {
        self.with_help(format!("{what} at {}:{}", first.line, first.column))
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
        let mut out = String::new();
        for d in &self.diagnostics {
            let excerpt = line_excerpt(&self.source, d.pos.line).map(|(text, _)| Excerpt {
                text,
                first_line: d.pos.line,
                span: point_at_column(text, d.pos.column),
            });
            render_problem(
                &mut out,
                &Problem {
                    severity: Severity::Error,
                    code: None,
                    message: &d.message,
                    path: &self.path,
                    pos: d.pos,
                    excerpt,
                    help: d.help.as_deref(),
                    note: None,
                },
                false,
            );
            out.push_str("\n\n");
        }
        let n = self.diagnostics.len();
        write!(
            f,
            "{out}{} error{} in {}",
            n,
            if n == 1 { "" } else { "s" },
            self.path
        )
    }
}

impl std::error::Error for SourceErrors {}

/// How serious a problem is: the word its report starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// The whole lines of a file that a problem points into.
#[derive(Debug, Clone)]
pub struct Excerpt<'a> {
    /// Whole lines, the first of them numbered `first_line`.
    pub text: &'a str,
    pub first_line: usize,
    /// The bytes of `text` the problem covers; empty for a point. Clamped to `text` and to
    /// character boundaries when rendered, so a stale or hostile span cannot break the report.
    pub span: Range<usize>,
}

/// One problem to show: a YAML error or a lint finding.
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    pub severity: Severity,
    /// A rule's name, shown as `error[code]`.
    pub code: Option<&'a str>,
    pub message: &'a str,
    pub path: &'a str,
    /// Where the problem starts; shown as `path:line:column` when there is no excerpt.
    pub pos: Pos,
    pub excerpt: Option<Excerpt<'a>>,
    pub help: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Appends `problem` to `out`, rustc-style (annotate-snippets), without a final line break.
/// Control characters in the source are shown as their Unicode pictures, so a file cannot
/// send escape sequences to the terminal.
pub fn render_problem(out: &mut String, problem: &Problem<'_>, color: bool) {
    let level = match problem.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let mut title = level.primary_title(problem.message);
    if let Some(code) = problem.code {
        title = title.id(code);
    }
    let mut group = match &problem.excerpt {
        Some(excerpt) => {
            let text = excerpt.text;
            let start = text.floor_char_boundary(excerpt.span.start.min(text.len()));
            let end = text.floor_char_boundary(excerpt.span.end.clamp(start, text.len()));
            title.element(
                Snippet::source(text)
                    .line_start(excerpt.first_line)
                    .path(problem.path)
                    .annotation(AnnotationKind::Primary.span(start..end)),
            )
        }
        None => title.element(
            Origin::path(problem.path)
                .line(problem.pos.line)
                .char_column(problem.pos.column),
        ),
    };
    if let Some(help) = problem.help {
        group = group.element(Level::HELP.message(help));
    }
    if let Some(note) = problem.note {
        group = group.element(Level::NOTE.message(note));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    out.push_str(&renderer.render(&[group]));
}

/// The text of 1-based `line` in `source` (without its line break) and its byte offset.
pub fn line_excerpt(source: &str, line: usize) -> Option<(&str, usize)> {
    let mut offset = 0;
    for (i, text) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return Some((text.trim_end_matches(['\n', '\r']), offset));
        }
        offset += text.len();
    }
    None
}

/// An empty span at 1-based character `column` of `line` (past its end: at its end).
pub fn point_at_column(line: &str, column: usize) -> Range<usize> {
    let at = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    at..at
}

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
            "error: bad value\n --> s.yaml:2:4\n  |\n2 | b: oops\n  |    ^\n  |\n  = help: fix it\n\n1 error in s.yaml"
        );
    }

    fn rendered(excerpt: Option<Excerpt<'_>>) -> String {
        let mut out = String::new();
        render_problem(
            &mut out,
            &Problem {
                severity: Severity::Warning,
                code: Some("some-rule"),
                message: "a message",
                path: "m.sql",
                pos: Pos { line: 7, column: 3 },
                excerpt,
                help: None,
                note: Some("a note"),
            },
            false,
        );
        out
    }

    #[test]
    fn spans_outside_the_excerpt_or_inside_a_character_are_clamped() {
        let text = "SELECT 'é';";
        #[allow(clippy::reversed_empty_ranges)] // a reversed span must not break the report either
        let spans = [0..99, 99..120, 9..9, 8..10, 5..2];
        for span in spans {
            let out = rendered(Some(Excerpt {
                text,
                first_line: 7,
                span: span.clone(),
            }));
            assert!(out.contains("7 | SELECT 'é';"), "{span:?}: {out}");
        }
        assert_eq!(
            rendered(Some(Excerpt {
                text,
                first_line: 7,
                span: 7..12
            })),
            "warning[some-rule]: a message\n --> m.sql:7:8\n  |\n7 | SELECT 'é';\n  |        ^^^^\n  |\n  = note: a note"
        );
    }

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        let out = rendered(Some(Excerpt {
            text: "x\u{1b}[31m\0y",
            first_line: 7,
            span: 0..1,
        }));
        assert!(!out.contains('\u{1b}') && !out.contains('\0'), "{out:?}");
    }

    #[test]
    fn without_an_excerpt_the_position_is_still_named() {
        assert_eq!(
            rendered(None),
            "warning[some-rule]: a message\n--> m.sql:7:3\n = note: a note"
        );
    }
}
