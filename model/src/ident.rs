//! SQL identifiers: what the schema accepts, how they are quoted, and how derived names are made.

use pg_query::protobuf::KeywordKind;
use sha2::{Digest, Sha256};

/// PostgreSQL truncates identifiers longer than this many bytes (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Why a name cannot be used as an identifier in `schema.yaml`.
pub fn check_plain(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an identifier cannot be empty".to_string());
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(format!(
            "`{name}` is {} bytes long; PostgreSQL identifiers are at most {MAX_IDENTIFIER_BYTES} bytes and longer ones are silently truncated",
            name.len()
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(format!(
            "`{}` is not a plain lower-case SQL identifier (a-z or _ first, then a-z, 0-9 or _)",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// Quotes `name` when PostgreSQL would not read it back unchanged: anything but a plain lower-case
/// identifier, and keywords that are not unreserved (the same rule as PostgreSQL's `quote_ident`).
pub fn quote(name: &str) -> String {
    if check_plain(name).is_ok() && !is_restricted_keyword(name) {
        return name.to_string();
    }
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal (`'it''s'`), safe for any input.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether `word` is a keyword that cannot stand unquoted everywhere an identifier can,
/// according to PostgreSQL's own scanner.
fn is_restricted_keyword(word: &str) -> bool {
    match pg_query::scan_tokens(word) {
        Ok(tokens) => match tokens.as_slice() {
            [token] => {
                token.keyword_kind != KeywordKind::NoKeyword as i32
                    && token.keyword_kind != KeywordKind::UnreservedKeyword as i32
            }
            // Not a single token: quoting is the safe answer.
            _ => true,
        },
        Err(_) => true,
    }
}

/// A derived object name (`cases_patient_id_idx`) that fits PostgreSQL's limit.
///
/// When `parts_suffix` is too long, the middle is cut and a short hash of the full name is
/// appended, so two long names that share a prefix still differ and the result never changes
/// between runs.
pub fn derived_name(parts: &[&str], suffix: &str) -> String {
    let full = format!("{}_{suffix}", parts.join("_"));
    if full.len() <= MAX_IDENTIFIER_BYTES {
        return full;
    }
    let hash = Sha256::digest(full.as_bytes());
    let tag: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    // Room for `_<8 hex>_<suffix>`. Names replayed from SQL may be quoted and non-ASCII: cut
    // at a character boundary (found by the linter's fuzz target).
    let keep = MAX_IDENTIFIER_BYTES - tag.len() - suffix.len() - 2;
    let head = full[..full.floor_char_boundary(keep)].trim_end_matches('_');
    format!("{head}_{tag}_{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identifiers() {
        assert!(check_plain("audit_logs").is_ok());
        assert!(check_plain("_x9").is_ok());
        for bad in [
            "",
            "Users",
            "9lives",
            "drop table",
            "a-b",
            "ünïcode",
            "x\"y",
        ] {
            assert!(check_plain(bad).is_err(), "{bad}");
        }
        assert!(check_plain(&"a".repeat(63)).is_ok());
        assert!(check_plain(&"a".repeat(64)).is_err());
    }

    #[test]
    fn quoting_follows_postgres_keywords() {
        assert_eq!(quote("users"), "users");
        assert_eq!(quote("status"), "status"); // unreserved keyword
        assert_eq!(quote("user"), "\"user\""); // reserved
        assert_eq!(quote("timestamp"), "\"timestamp\""); // column-name keyword
        assert_eq!(quote("Weird\"Name"), "\"Weird\"\"Name\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn derived_names_fit_and_stay_distinct() {
        assert_eq!(
            derived_name(&["cases", "patient_id"], "idx"),
            "cases_patient_id_idx"
        );
        let a = derived_name(&["a".repeat(40).as_str(), "b".repeat(30).as_str()], "fkey");
        let b = derived_name(&["a".repeat(40).as_str(), "c".repeat(30).as_str()], "fkey");
        assert!(a.len() <= MAX_IDENTIFIER_BYTES && b.len() <= MAX_IDENTIFIER_BYTES);
        assert_ne!(a, b);
        assert!(a.ends_with("_fkey"));
        let wide = derived_name(&["é".repeat(40).as_str(), "x"], "idx");
        assert!(
            wide.len() <= MAX_IDENTIFIER_BYTES && wide.ends_with("_idx"),
            "{wide}"
        );
        assert_eq!(
            a,
            derived_name(&["a".repeat(40).as_str(), "b".repeat(30).as_str()], "fkey")
        );
    }
}
