//! # identifier-too-long
//!
//! ## What it does
//! Flags identifiers (table, column, index, constraint, type names; quoted or not) longer than
//! 63 bytes.
//!
//! ## Why
//! PostgreSQL silently truncates identifiers to 63 bytes (`NAMEDATALEN - 1`). Two long names
//! that share their first 63 bytes become the same name (the second `CREATE` fails, or a
//! `DROP` hits the wrong object), and tools that compare the declared name with the catalog
//! see a difference that never goes away. Multi-byte characters count by bytes.
//!
//! ## Example
//! ```sql
//! CREATE INDEX segments_segment_metadata_bounding_box_mesh_data_created_at_gin_idx ON segments USING gin (segment_metadata);
//! ```
//!
//! ## Use instead
//! ```sql
//! CREATE INDEX segments_metadata_gin_idx ON segments USING gin (segment_metadata);
//! ```

use pg_query::protobuf::Token;

use super::StatementContext;
use crate::finding::Finding;

pub const NAME: &str = "identifier-too-long";

/// PostgreSQL's limit (NAMEDATALEN - 1).
pub const MAX_BYTES: usize = 63;

pub fn check(ctx: &StatementContext<'_>, out: &mut Vec<Finding>) {
    // The parser has already truncated long names in the tree, so the check reads the
    // statement's tokens; a cheap byte scan skips the tokenizer for the usual statement.
    if !may_hold_long_identifier(ctx.text) {
        return;
    }
    let Ok(tokens) = pg_query::scan_tokens(ctx.text) else {
        return;
    };
    for token in tokens {
        if token.token != Token::Ident as i32 && token.token != Token::Uident as i32 {
            continue;
        }
        let (Ok(start), Ok(end)) = (usize::try_from(token.start), usize::try_from(token.end))
        else {
            continue;
        };
        let Some(raw) = ctx.text.get(start..end) else {
            continue;
        };
        let name = unquote(raw);
        if name.len() <= MAX_BYTES {
            continue;
        }
        let mut f = ctx.finding(
            NAME,
            format!(
                "identifier `{name}` is {} bytes; PostgreSQL truncates it to 63",
                name.len()
            ),
        );
        f.start = ctx.offset + start;
        f.end = ctx.offset + end;
        out.push(f.with_help(format!(
            "shorten it to at most 63 bytes (PostgreSQL would use `{}`)",
            truncate(&name)
        )));
    }
}

fn may_hold_long_identifier(text: &str) -> bool {
    let mut run = 0;
    let mut in_quotes = false;
    for b in text.bytes() {
        if b == b'"' {
            in_quotes = !in_quotes;
            run = 0;
            continue;
        }
        if in_quotes || b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 {
            run += 1;
            if run > MAX_BYTES {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

fn unquote(raw: &str) -> String {
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => raw.to_lowercase(),
    }
}

fn truncate(name: &str) -> &str {
    &name[..name.floor_char_boundary(MAX_BYTES)]
}
