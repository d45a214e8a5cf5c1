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

/// The name PostgreSQL gives an object created without one (`makeObjectName`): `name1`, then
/// `_name2` when there is one, then `_label`, with the longer of the two names shortened first
/// (at a character boundary) until the whole fits 63 bytes. Names written in SQL without a name
/// (`CREATE INDEX ON t (c)`, an unnamed constraint) get this name on the server, so the replay
/// gives them the same. (`schema.yaml` names use [`derived_name`], which keeps long names apart
/// with a hash; codegen writes them out explicitly.)
pub fn pg_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let mut overhead = 0;
    if name2.is_some() {
        overhead += 1;
    }
    if !label.is_empty() {
        overhead += label.len() + 1;
    }
    let available = MAX_IDENTIFIER_BYTES.saturating_sub(overhead);
    let (mut chars1, mut chars2) = (name1.len(), name2.map_or(0, str::len));
    while chars1 + chars2 > available {
        if chars1 > chars2 {
            chars1 -= 1;
        } else {
            chars2 -= 1;
        }
    }
    let mut out = name1[..name1.floor_char_boundary(chars1)].to_string();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(&name2[..name2.floor_char_boundary(chars2)]);
    }
    if !label.is_empty() {
        out.push('_');
        out.push_str(label);
    }
    out
}

/// Column names joined with `_` as PostgreSQL adds them to a derived index or constraint name
/// (`ChooseIndexNameAddition`): names are added while the text is shorter than 64 bytes, and
/// the text is cut there.
pub fn pg_name_addition<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for name in names {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(name);
        if out.len() > MAX_IDENTIFIER_BYTES {
            break;
        }
    }
    let cut = out.floor_char_boundary(out.len().min(MAX_IDENTIFIER_BYTES));
    out.truncate(cut);
    out
}

/// [`pg_object_name`], numbered as PostgreSQL numbers it (`_idx`, `_idx1`, `_idx2`, ...) until
/// `taken` says the name is free.
pub fn pg_unique_name(
    name1: &str,
    name2: Option<&str>,
    label: &str,
    mut taken: impl FnMut(&str) -> bool,
) -> String {
    let mut pass = 0;
    loop {
        let label = if pass == 0 {
            label.to_string()
        } else {
            format!("{label}{pass}")
        };
        let name = pg_object_name(name1, name2, &label);
        if !taken(&name) {
            return name;
        }
        pass += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_are_postgresqls() {
        assert_eq!(
            pg_object_name("cases", Some("patient_id"), "idx"),
            "cases_patient_id_idx"
        );
        assert_eq!(pg_object_name("cases", None, "pkey"), "cases_pkey");
        // A 40-byte table name and a 40-byte column name: the longer name is cut first, the
        // second on a tie, until the whole is 63 bytes.
        let t = "t".repeat(40);
        let c = "c".repeat(40);
        let name = pg_object_name(&t, Some(&c), "idx");
        assert_eq!(name, format!("{}_{}_idx", "t".repeat(29), "c".repeat(29)));
        assert_eq!(pg_name_addition(["a", "b", "c"]), "a_b_c");
        assert_eq!(
            pg_name_addition(["x".repeat(40).as_str(), &"y".repeat(40)]).len(),
            63
        );
        assert_eq!(
            pg_unique_name("t", Some("a"), "idx", |n| n == "t_a_idx" || n == "t_a_idx1"),
            "t_a_idx2"
        );
    }

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
