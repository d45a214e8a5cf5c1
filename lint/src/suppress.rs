//! Inline suppressions.
//!
//! - `-- lint:ignore RULE[,RULE...] REASON` on its own line(s) before a statement silences those
//!   rules on that statement. Written at the end of a statement's line, it applies to that
//!   statement instead.
//! - `-- lint:ignore-file RULE[,RULE...] REASON` anywhere between statements silences them in
//!   the whole file (including schema-state findings reported in it).
//!
//! Only comments between statements count: text inside a statement (a function body, a string)
//! is never a suppression. A suppression without a reason, or one that silences nothing, is
//! itself reported (`suppression-without-reason`, `unused-suppression`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    File,
    /// The statement (index within the file) it applies to; `None` when no statement follows.
    Statement(Option<usize>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub file: usize,
    /// The comment's byte range.
    pub start: usize,
    pub end: usize,
    pub rules: Vec<String>,
    pub reason: Option<String>,
    pub scope: Scope,
}

/// Finds the suppressions of a file; `spans` are the byte ranges of its statements, in order.
pub fn collect(file: usize, text: &str, spans: &[(usize, usize)]) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut gap_start = 0;
    for i in 0..=spans.len() {
        let gap_end = spans.get(i).map_or(text.len(), |s| s.0);
        let gap_end = gap_end.max(gap_start);
        scan_gap(file, text, gap_start, gap_end, i, spans, &mut out);
        if let Some(s) = spans.get(i) {
            gap_start = s.1.max(gap_start);
        }
    }
    out
}

fn scan_gap(
    file: usize,
    text: &str,
    start: usize,
    end: usize,
    next: usize,
    spans: &[(usize, usize)],
    out: &mut Vec<Suppression>,
) {
    let gap = &text[start..end];
    let mut search = 0;
    while let Some(found) = gap[search..].find("--") {
        let at = start + search + found;
        let line_end = text[at..]
            .find('\n')
            .map_or(text.len(), |n| at + n)
            .min(end.max(at));
        let comment = &text[at..line_end];
        search = line_end - start;
        if search >= gap.len() {
            search = gap.len();
        }
        let body = comment[2..].trim();
        let (file_level, rest) = if let Some(r) = body.strip_prefix("lint:ignore-file") {
            (true, r)
        } else if let Some(r) = body.strip_prefix("lint:ignore") {
            (false, r)
        } else {
            if search >= gap.len() {
                break;
            }
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
            continue;
        }
        let rest = rest.trim();
        let (rules, reason) = match rest.split_once(char::is_whitespace) {
            Some((rules, reason)) => (rules, Some(reason.trim().to_string())),
            None => (rest, None),
        };
        let rules = rules
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        let scope = if file_level {
            Scope::File
        } else {
            // A comment sharing its line with the end of the previous statement belongs to it.
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let previous = next.checked_sub(1).filter(|&p| spans[p].1 > line_start);
            Scope::Statement(previous.or((next < spans.len()).then_some(next)))
        };
        out.push(Suppression {
            file,
            start: at,
            end: line_end,
            rules,
            reason: reason.filter(|r| !r.is_empty()),
            scope,
        });
        if search >= gap.len() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_between_statements_only() {
        let sql = "-- lint:ignore-file drop-table the tables are empty\n\
                   -- lint:ignore drop-column,rename-column\n\
                   ALTER TABLE a DROP COLUMN b;\n\
                   CREATE FUNCTION f() RETURNS int AS $$ -- lint:ignore drop-table no\nSELECT 1 $$ LANGUAGE sql;\n\
                   DROP TABLE x; -- lint:ignore drop-table same line\n\
                   -- lint:ignorex nothing\n\
                   -- lint:ignore drop-table trailing";
        let spans: Vec<(usize, usize)> = [
            "ALTER TABLE a DROP COLUMN b",
            "CREATE FUNCTION",
            "DROP TABLE x",
        ]
        .iter()
        .map(|s| {
            let a = sql.find(s).expect("in text");
            let b = if s.starts_with("CREATE") {
                sql.find("LANGUAGE sql").expect("end") + "LANGUAGE sql".len()
            } else {
                a + s.len()
            };
            (a, b)
        })
        .collect();
        let found = collect(0, sql, &spans);
        let summary: Vec<(Vec<String>, Option<String>, Scope)> = found
            .into_iter()
            .map(|s| (s.rules, s.reason, s.scope))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    vec!["drop-table".into()],
                    Some("the tables are empty".into()),
                    Scope::File
                ),
                (
                    vec!["drop-column".into(), "rename-column".into()],
                    None,
                    Scope::Statement(Some(0))
                ),
                (
                    vec!["drop-table".into()],
                    Some("same line".into()),
                    Scope::Statement(Some(2))
                ),
                (
                    vec!["drop-table".into()],
                    Some("trailing".into()),
                    Scope::Statement(None)
                ),
            ]
        );
    }
}
