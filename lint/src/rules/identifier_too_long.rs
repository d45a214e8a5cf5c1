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
    // Every statement's every byte passes here: one table lookup per byte.
    const WORD: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
            b += 1;
        }
        t
    };
    if text.len() <= MAX_BYTES {
        return false;
    }
    let bytes = text.as_bytes();
    if !bytes.contains(&b'"') {
        // Without quotes, look at every 32nd byte only: a run of more than 63 word bytes holds
        // at least one of them; each word hit is measured once.
        const STRIDE: usize = 32;
        let mut at = STRIDE - 1;
        while at < bytes.len() {
            if !WORD[usize::from(bytes[at])] {
                at += STRIDE;
                continue;
            }
            let is_word = |b: &u8| WORD[usize::from(*b)];
            let start = bytes[..at]
                .iter()
                .rposition(|b| !is_word(b))
                .map_or(0, |i| i + 1);
            let end = bytes[at..]
                .iter()
                .position(|b| !is_word(b))
                .map_or(bytes.len(), |i| at + i);
            if end - start > MAX_BYTES {
                return true;
            }
            at = end + STRIDE;
        }
        return false;
    }
    has_long_run(text, |b| WORD[usize::from(b)])
}

/// Whether `text` has a run of more than [`MAX_BYTES`] bytes inside double quotes or of
/// `is_word` bytes, byte by byte.
fn has_long_run(text: &str, is_word: impl Fn(u8) -> bool) -> bool {
    let mut run = 0;
    let mut in_quotes = false;
    for b in text.bytes() {
        if b == b'"' {
            in_quotes = !in_quotes;
            run = 0;
            continue;
        }
        if in_quotes || is_word(b) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-by-byte scan the stride shortcut and the word table must agree with.
    fn reference(text: &str) -> bool {
        has_long_run(text, |b| {
            b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
        })
    }

    #[test]
    fn the_shortcut_finds_what_the_full_scan_finds() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..next(12) {
                let len =
                    [1, 5, 31, 32, 33, 62, 63, 64, 65, 70][usize::try_from(next(10)).unwrap_or(0)];
                let ch = ["a", "_", "é", "9", "$"][usize::try_from(next(5)).unwrap_or(0)];
                text.push_str(&ch.repeat(len));
                text.push_str([" ", "(", ", ", ".", "\n"][usize::try_from(next(5)).unwrap_or(0)]);
            }
            if next(4) == 0 {
                text.push('"');
            }
            assert_eq!(
                may_hold_long_identifier(&text),
                reference(&text),
                "{text:?}"
            );
        }
    }
}
