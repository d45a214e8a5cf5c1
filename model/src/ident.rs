//! SQL identifiers: what the schema accepts, how they are quoted, and how derived names are made.

use std::borrow::Cow;

use pg_query::protobuf::KeywordKind;
use sha2::{Digest, Sha256};

/// PostgreSQL truncates identifiers longer than this many bytes (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Why a name cannot be a PostgreSQL identifier: empty, longer than PostgreSQL keeps (it would
/// silently truncate it, so two names could become one), or holding a NUL byte (which no
/// identifier can). Everything else is an identifier once quoted: any case, spaces, quotes,
/// keywords, any Unicode.
pub fn check_identifier(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an identifier cannot be empty".to_string());
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(format!(
            "{} is {} bytes long; PostgreSQL identifiers are at most {MAX_IDENTIFIER_BYTES} bytes and longer ones are silently truncated",
            shown(name),
            name.len()
        ));
    }
    if name.contains('\0') {
        return Err(format!(
            "{} contains a NUL character, which PostgreSQL identifiers cannot hold",
            shown(name)
        ));
    }
    Ok(())
}

/// Why a name cannot be used where `schema.yaml` still wants a plain lower-case identifier (a
/// role): [`check_identifier`], and `[a-z_][a-z0-9_]*`.
pub fn check_plain(name: &str) -> Result<(), String> {
    check_identifier(name)?;
    if !is_bare(name) {
        return Err(format!(
            "{} is not a plain lower-case SQL identifier (a-z or _ first, then a-z, 0-9 or _)",
            shown(name)
        ));
    }
    Ok(())
}

/// Whether `name` is a plain lower-case identifier (`[a-z_][a-z0-9_]*`): what PostgreSQL reads
/// back unchanged without quotes (keywords aside), and what a bare word in a default or an
/// operator class must be.
pub fn is_bare(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Quotes `name` when PostgreSQL would not read it back unchanged: anything but a plain lower-case
/// identifier, and keywords that are not unreserved (the same rule as PostgreSQL's `quote_ident`).
pub fn quote(name: &str) -> String {
    if is_bare(name) && !is_restricted_keyword(name) {
        return name.to_string();
    }
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether `schema.yaml` must write `name` in double quotes ([`yaml_name`]): where names are
/// combined (`schema.table`, `table.column`, `column DESC`) a dot, white space or a quote would
/// be read as part of that syntax, and a name that starts with a quote would be read as quoted.
/// (A backtick too, so that a message naming it in backticks stays unambiguous.)
fn needs_yaml_quotes(name: &str) -> bool {
    name.is_empty()
        || name
            .chars()
            .any(|c| matches!(c, '.' | '"' | '`') || c.is_whitespace() || c.is_control())
}

/// A name as `schema.yaml` writes it: as it is, or in double quotes as SQL quotes it (`""` for a
/// quote inside) when it holds a dot, white space or a quote. [`parse_name`] and
/// [`parse_name_path`] read it back.
pub fn yaml_name(name: &str) -> Cow<'_, str> {
    if needs_yaml_quotes(name) {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(name)
    }
}

/// A name as `schema.yaml` writes it where it stands alone (a column key, a schema key, an index
/// `name`): as it is, unless it starts with a double quote or is empty, which [`parse_name`]
/// would read as a quoted name.
pub fn yaml_name_alone(name: &str) -> Cow<'_, str> {
    if name.is_empty() || name.starts_with('"') {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(name)
    }
}

/// A name for a message: [`yaml_name`] in backticks, control characters escaped, so that every
/// name reads unambiguously on one line.
pub fn shown(name: &str) -> String {
    shown_path(&yaml_name(name))
}

/// A name already written as `schema.yaml` writes it (a path such as `auth."User"`), for a
/// message: in backticks, control characters escaped.
pub fn shown_path(written: &str) -> String {
    let mut out = String::from("`");
    for c in written.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

/// Reads one name as `schema.yaml` writes it where a name stands alone (a column key, an index
/// `name`, a list of columns): a text that starts with a double quote is a quoted name (`""` is a
/// quote inside, nothing may follow the closing quote); anything else is the name as written.
pub fn parse_name(text: &str) -> Result<String, String> {
    if !text.starts_with('"') {
        return Ok(text.to_string());
    }
    match read_quoted(text) {
        Some((name, "")) => Ok(name),
        Some((_, rest)) => Err(format!(
            "unexpected {} after the closing quote of {}: inside a quoted name, write a quote as `\"\"`",
            shown_path(rest),
            shown_path(text)
        )),
        None => Err(format!("{} has no closing quote", shown_path(text))),
    }
}

/// Reads a name path as `schema.yaml` writes it (`table`, `schema.table`, `table.column`): parts
/// separated by dots, each written as it is or in double quotes (needed when it holds a dot, white
/// space or a quote: `"my.table"`, `"say ""hi"""`). White space around a part is ignored.
pub fn parse_name_path(text: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let (part, after) = if rest.starts_with('"') {
            read_quoted(rest).ok_or_else(|| {
                format!("a quoted name in {} has no closing quote", shown_path(text))
            })?
        } else {
            let end = rest.find(['.', '"']).unwrap_or(rest.len());
            (rest[..end].trim_end().to_string(), &rest[end..])
        };
        if part.is_empty() {
            return Err(format!("{} has an empty name", shown_path(text)));
        }
        parts.push(part);
        let after = after.trim_start();
        match after.strip_prefix('.') {
            Some(next) => rest = next,
            None if after.is_empty() => return Ok(parts),
            None => {
                return Err(format!(
                    "cannot read {}: write a name containing a quote in double quotes, with `\"\"` for the quote",
                    shown_path(text)
                ));
            }
        }
    }
}

/// A double-quoted name at the start of `text` and what follows it, or `None` without a closing
/// quote.
fn read_quoted(text: &str) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            if chars.peek().is_some_and(|(_, next)| *next == '"') {
                chars.next();
                name.push('"');
            } else {
                return Some((name, &text[i + 1..]));
            }
        } else {
            name.push(c);
        }
    }
    None
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
    fn every_postgresql_identifier_is_accepted() {
        for good in [
            "audit_logs",
            "_x9",
            "Users",
            "userId",
            "9lives",
            "drop table",
            "a-b",
            "ünïcode",
            "x\"y",
            "user",
            "a.b",
            " padded ",
            "line\nbreak",
        ] {
            assert_eq!(check_identifier(good), Ok(()), "{good}");
        }
        assert!(check_identifier(&"a".repeat(63)).is_ok());
        // 63 bytes of two-byte characters is 31 of them and a half: too long.
        assert!(check_identifier(&"é".repeat(31)).is_ok());
        assert!(check_identifier(&"é".repeat(32)).is_err());
        for bad in ["", "nul\0byte"] {
            assert!(check_identifier(bad).is_err(), "{bad:?}");
        }
        assert!(check_identifier(&"a".repeat(64)).is_err());
        assert!(is_bare("audit_logs") && is_bare("_x9"));
        for not_bare in ["", "Users", "9lives", "a-b", "ünïcode"] {
            assert!(!is_bare(not_bare), "{not_bare}");
        }
    }

    #[test]
    fn yaml_names_round_trip() {
        for (name, written) in [
            ("users", "users"),
            ("userId", "userId"),
            ("ünïcode", "ünïcode"),
            ("a.b", "\"a.b\""),
            ("my col", "\"my col\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("\"", "\"\"\"\""),
            ("tab\there", "\"tab\there\""),
        ] {
            assert_eq!(yaml_name(name), written, "{name}");
            assert_eq!(
                parse_name(&yaml_name_alone(name)).as_deref(),
                Ok(name),
                "{name}"
            );
            assert_eq!(parse_name(written).as_deref(), Ok(name), "{written}");
            assert_eq!(
                parse_name_path(written),
                Ok(vec![name.to_string()]),
                "{written}"
            );
        }
        assert_eq!(
            parse_name_path("auth.\"User\""),
            Ok(vec!["auth".to_string(), "User".to_string()])
        );
        assert_eq!(
            parse_name_path(" \"my.schema\" . \"a \"\"b\"\"\".c "),
            Ok(vec![
                "my.schema".to_string(),
                "a \"b\"".to_string(),
                "c".to_string()
            ])
        );
        // A quote inside an unquoted name is literal where the name stands alone, and refused
        // where names are combined (it would be ambiguous there).
        assert_eq!(parse_name("a\"b").as_deref(), Ok("a\"b"));
        assert!(parse_name_path("a\"b").is_err());
        for bad in ["\"open", "\"a\"b", "\"\"x"] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
        for bad in ["", "a..b", ".a", "a.", "\"a", "\"a\"b.c", "\"\""] {
            assert!(parse_name_path(bad).is_err(), "{bad}");
        }
        assert_eq!(shown("userId"), "`userId`");
        assert_eq!(shown("a.b"), "`\"a.b\"`");
        assert_eq!(shown("line\nbreak"), "`\"line\\nbreak\"`");
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
