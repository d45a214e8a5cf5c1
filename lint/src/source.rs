//! Source files and positions: byte offsets in, 1-based lines and character columns out.

use migrate::NO_TRANSACTION_MARKER;

use crate::layout::{Layout, Transaction};

/// One input file (or standard input) with a line index, so that turning an offset into a
/// line and column costs a binary search, not a scan: 20,000 findings render in linear time.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user named it (`-` for standard input).
    pub path: String,
    /// The text to lint: the file as written, with whatever its tool does not run (down
    /// sections, directives) blanked, so lines and columns are the file's own.
    pub text: String,
    /// The migration tool the file belongs to ([`Layout::Plain`] unless a layout says so).
    pub layout: Layout,
    /// How its tool runs it: see [`Transaction::applies`].
    pub transaction: Transaction,
    line_starts: Vec<usize>,
}

/// A 1-based line and column; the column counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let transaction = if no_transaction_marker(&text) {
            Transaction::None
        } else {
            Transaction::Wrapped
        };
        SourceFile {
            path: path.into(),
            text,
            layout: Layout::Plain,
            transaction,
            line_starts,
        }
    }

    /// The file as a migration of `layout` that runs as `transaction` says (see
    /// [`crate::layout::prepare`]).
    pub fn in_layout(mut self, layout: Layout, transaction: Transaction) -> Self {
        self.layout = layout;
        self.transaction = transaction;
        self
    }

    /// Whether the file's statements (`items`, as parsed from `text`) run inside a transaction
    /// block when its tool applies it.
    pub fn runs_in_transaction(&self, items: &[crate::parse::Item]) -> bool {
        self.transaction.applies(items)
    }

    /// The line and column of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> LineCol {
        let offset = self.text.floor_char_boundary(offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        LineCol {
            line: line + 1,
            column: self.text[start..offset].chars().count() + 1,
        }
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Lines `first..=last` (1-based) as one slice without the last line break, and the byte
    /// offset where they start.
    pub fn lines_text(&self, first: usize, last: usize) -> (&str, usize) {
        let Some(&start) = self.line_starts.get(first.wrapping_sub(1)) else {
            return ("", self.text.len());
        };
        let end = self
            .line_starts
            .get(last.max(first))
            .map_or(self.text.len(), |&next| next);
        (self.text[start..end].trim_end_matches(['\n', '\r']), start)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The span of the last non-empty line: where findings "at end of file" point.
    pub fn end_span(&self) -> (usize, usize) {
        let trimmed = self.text.trim_end();
        let end = trimmed.len();
        let start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        (start, end)
    }

    /// Whether the file asks to run outside a transaction (`-- codegen:no-transaction` as its
    /// first line, as codegen writes it and its runner reads it).
    pub fn no_transaction_marker(&self) -> bool {
        no_transaction_marker(&self.text)
    }
}

fn no_transaction_marker(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .is_some_and(|l| l.trim() == NO_TRANSACTION_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines_from_one() {
        let f = SourceFile::new("a.sql", "ab\nçd e\n\nlast");
        assert_eq!(f.position(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.position(3), LineCol { line: 2, column: 1 });
        // `ç` is two bytes, one character.
        assert_eq!(f.position(6), LineCol { line: 2, column: 3 });
        assert_eq!(f.position(999), LineCol { line: 4, column: 5 });
        assert_eq!(f.line_text(2), "çd e");
        assert_eq!(f.line_text(9), "");
        assert_eq!(f.end_span(), (10, 14));
    }

    #[test]
    fn marker_only_on_the_first_line() {
        assert!(
            SourceFile::new("a", "-- codegen:no-transaction\nSELECT 1;").no_transaction_marker()
        );
        assert!(
            !SourceFile::new("a", "SELECT 1;\n-- codegen:no-transaction").no_transaction_marker()
        );
        // The marker decides how a file without a layout runs.
        let items = crate::parse::parse_text("SELECT 1;", 0);
        assert!(
            !SourceFile::new("a", "-- codegen:no-transaction\nSELECT 1;")
                .runs_in_transaction(&items)
        );
        assert!(SourceFile::new("a", "SELECT 1;").runs_in_transaction(&items));
    }
}
