//! Scripts into statements: PostgreSQL's parser splits and parses a script; when it rejects
//! the script, its scanner splits it so the statements around a broken one are still found.

use pg_query::NodeEnum;
use pg_query::protobuf;

use crate::diagnostics::Pos;

/// One statement of a script, with where it starts.
#[derive(Debug, Clone)]
pub struct ScriptStatement<'a> {
    /// The statement's text, without the separating semicolon.
    pub text: &'a str,
    /// Byte offset of the statement's first character in the script.
    pub offset: usize,
    pub pos: Pos,
    pub node: NodeEnum,
}

/// A script that PostgreSQL's parser rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// The start of the statement that fails to parse.
    pub pos: Pos,
    pub offset: usize,
}

/// The 1-based line and column of a byte offset (columns count characters).
pub fn position_of(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Splits and parses a script. On a syntax error, the statement that fails is located by parsing
/// the scanner's statement split one by one (pg_query's error carries no position).
pub fn parse_script(sql: &str) -> std::result::Result<Vec<ScriptStatement<'_>>, SyntaxError> {
    match pgparse::parse(sql) {
        Ok(parsed) => Ok(statements_of(sql, parsed.stmts)),
        Err(error) => {
            let message = parse_error_message(error);
            let offset = failing_statement_offset(sql);
            Err(SyntaxError {
                message,
                pos: position_of(sql, offset),
                offset,
            })
        }
    }
}

/// One statement of a script that may contain syntax errors: see [`parse_script_recovering`].
// Nearly every item is a statement: boxing it would cost an allocation per statement.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ParsedStatement<'a> {
    Statement(ScriptStatement<'a>),
    /// A statement PostgreSQL's parser rejects; `text` is the statement as the scanner split it
    /// (without leading comments), so a caller can look for the failing token inside it.
    Error {
        error: SyntaxError,
        text: &'a str,
    },
}

/// Like [`parse_script`], but a syntax error does not hide the rest of the script: when the
/// whole script fails to parse, it is split with PostgreSQL's scanner and every statement is
/// parsed on its own, so the statements around a broken one are still returned (in order). A
/// token the scanner cannot finish (an unterminated quote, dollar quote or comment) runs to the
/// end of the script: the statement it is in is the last item, an error, after every statement
/// before it.
pub fn parse_script_recovering(sql: &str) -> Vec<ParsedStatement<'_>> {
    let error = match pgparse::parse(sql) {
        Ok(parsed) => {
            return statements_of(sql, parsed.stmts)
                .into_iter()
                .map(ParsedStatement::Statement)
                .collect();
        }
        Err(error) => parse_error_message(error),
    };
    // Where the scanner could split: all of it, or the text before a token it cannot finish.
    let (parts, scanned) = match pg_query::split_with_scanner(sql) {
        Ok(parts) => (parts, sql.len()),
        Err(split_error) => match unfinished_token_start(sql, &split_error)
            .and_then(|at| Some((pg_query::split_with_scanner(&sql[..at]).ok()?, at)))
        {
            Some(split) => split,
            None => {
                // Nowhere to cut (e.g. a NUL byte): the whole script is one error.
                let (offset, text) = trim_leading_trivia(sql, 0, sql.len());
                return vec![ParsedStatement::Error {
                    error: SyntaxError {
                        message: error,
                        pos: position_of(sql, offset),
                        offset,
                    },
                    text,
                }];
            }
        },
    };
    let mut out = Vec::new();
    let mut cursor = PosCursor::default();
    let mut search_from = 0;
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    for part in parts {
        // The parts are slices of `sql`: where one starts is where it points. (Searching for its
        // text could find it earlier, inside a token the scanner skipped.)
        let start = (part.as_ptr() as usize)
            .checked_sub(sql.as_ptr() as usize)
            .filter(|&at| at >= search_from && at + part.len() <= scanned)
            .unwrap_or(search_from);
        // Text the scanner skipped (an invalid token) is kept as a piece of its own.
        pieces.push((search_from, start));
        pieces.push((start, start + part.len()));
        search_from = start + part.len();
    }
    // Before an unfinished token, the last part without its `;` is the start of the statement
    // that token breaks: it joins the rest.
    if scanned < sql.len()
        && !sql[search_from..scanned].contains(';')
        && let Some((start, _)) = pieces.pop()
    {
        search_from = start;
    }
    // So is whatever follows the last statement it found (an unclosed parenthesis or quote).
    pieces.push((search_from, sql.len()));
    for (start, end) in pieces {
        let (mut offset, mut text) = trim_leading_trivia(sql, start, end);
        while text.starts_with(';') {
            (offset, text) = trim_leading_trivia(sql, offset + 1, end);
        }
        if text.is_empty() {
            continue;
        }
        let pos = cursor.advance(sql, offset);
        match pgparse::parse(text) {
            Ok(parsed) => {
                for raw in parsed.stmts {
                    if let Some(node) = raw.stmt.and_then(|s| s.node) {
                        out.push(ParsedStatement::Statement(ScriptStatement {
                            text,
                            offset,
                            pos,
                            node,
                        }));
                    }
                }
            }
            Err(e) => out.push(ParsedStatement::Error {
                error: SyntaxError {
                    message: parse_error_message(e),
                    pos,
                    offset,
                },
                text,
            }),
        }
    }
    out
}

/// Where the token the scanner could not finish starts (an unterminated quoted string,
/// dollar-quoted body or comment runs to the end of the script, and the scanner's message quotes
/// it from its first character to the end).
fn unfinished_token_start(sql: &str, error: &pg_query::Error) -> Option<usize> {
    let pg_query::Error::Split(message) = error else {
        return None;
    };
    let near = quoted_near(message)?;
    (!near.trim().is_empty() && sql.ends_with(near)).then(|| sql.len() - near.len())
}

/// The text a PostgreSQL syntax error quotes: `... at or near "X"` -> `X`.
pub fn quoted_near(message: &str) -> Option<&str> {
    let start = message.find("near \"")? + "near \"".len();
    let end = message.rfind('"')?;
    (end > start).then(|| &message[start..end])
}

fn parse_error_message(error: pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(m) => m,
        other => other.to_string(),
    }
}

/// The statements of a parse result, with their text and position. Statements come in source
/// order, so positions are computed in one pass over the script (a script of 20,000 statements
/// costs one scan, not one scan per statement).
fn statements_of(sql: &str, stmts: Vec<protobuf::RawStmt>) -> Vec<ScriptStatement<'_>> {
    let mut cursor = PosCursor::default();
    stmts
        .into_iter()
        .filter_map(|raw| {
            let start = usize::try_from(raw.stmt_location)
                .unwrap_or(0)
                .min(sql.len());
            let len = usize::try_from(raw.stmt_len).unwrap_or(0);
            let node = raw.stmt?.node?;
            let end = if len == 0 {
                sql.len()
            } else {
                (start + len).min(sql.len())
            };
            // stmt_location includes the whitespace and comments before the statement.
            let (offset, text) = trim_leading_trivia(sql, start, end);
            Some(ScriptStatement {
                text,
                offset,
                pos: cursor.advance(sql, offset),
                node,
            })
        })
        .collect()
}

/// Line and column of increasing byte offsets, computed incrementally.
#[derive(Default)]
struct PosCursor {
    offset: usize,
    /// 0-based line and column (in characters) of `offset`.
    line: usize,
    column: usize,
}

impl PosCursor {
    fn advance(&mut self, sql: &str, offset: usize) -> Pos {
        let offset = sql.floor_char_boundary(offset.min(sql.len()));
        if offset < self.offset {
            return position_of(sql, offset);
        }
        let skipped = &sql[self.offset..offset];
        match skipped.rfind('\n') {
            Some(last) => {
                self.line += skipped.matches('\n').count();
                self.column = skipped[last + 1..].chars().count();
            }
            None => self.column += skipped.chars().count(),
        }
        self.offset = offset;
        Pos {
            line: self.line + 1,
            column: self.column + 1,
        }
    }
}

fn failing_statement_offset(sql: &str) -> usize {
    parse_script_recovering(sql)
        .into_iter()
        .find_map(|p| match p {
            ParsedStatement::Error { error, .. } => Some(error.offset),
            ParsedStatement::Statement(_) => None,
        })
        .unwrap_or_default()
}

/// Skips whitespace and `--` / `/* */` comments at the start of `sql[start..end]`.
fn trim_leading_trivia(sql: &str, start: usize, end: usize) -> (usize, &str) {
    let mut i = start;
    let bytes = sql.as_bytes();
    while i < end {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if sql[i..end].starts_with("--") {
            i = sql[i..end].find('\n').map_or(end, |n| i + n + 1);
        } else if let Some(n) = block_comment_len(&sql[i..end]) {
            i += n;
        } else {
            break;
        }
    }
    (i, sql[i..end].trim_end())
}

/// The length of the `/* ... */` comment `text` starts with. PostgreSQL's block comments nest;
/// an unterminated one is not a comment but the scanner's error (`None`).
fn block_comment_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if !bytes.starts_with(b"/*") {
        return None;
    }
    let (mut depth, mut i) = (1usize, 2);
    while i + 1 < bytes.len() {
        match &bytes[i..i + 2] {
            b"/*" => (depth, i) = (depth + 1, i + 2),
            b"*/" if depth == 1 => return Some(i + 2),
            b"*/" => (depth, i) = (depth - 1, i + 2),
            _ => i += 1,
        }
    }
    None
}
