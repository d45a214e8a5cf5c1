//! Database names and the quoting of identifiers, conninfo values, URLs and shell words.

use std::fmt::Write as _;

use super::MAX_IDENT_LEN;

/// `<hint reduced to [a-z0-9_]>_<seq>_<pid>`, at most 63 bytes.
pub(super) fn database_name(hint: &str, seq: u64, pid: u32) -> String {
    let suffix = format!("_{seq}_{pid}");
    let mut name: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "t_");
    }
    // All ASCII by now, so any byte index is a char boundary.
    name.truncate(MAX_IDENT_LEN.saturating_sub(suffix.len()));
    name.push_str(&suffix);
    name
}

/// SQL identifier quoting: `"..."` with embedded quotes doubled.
pub(super) fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A libpq conninfo value, quoted only when it has to be.
pub(super) fn conninfo_value(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a socket
/// path (with its slashes) can stand as a URL host.
pub(super) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// POSIX shell single-quoting, for the `pg_ctl -o` string (pg_ctl runs it via `sh`).
pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_sanitized_and_bounded() {
        assert_eq!(database_name("Foo::bar-Baz", 3, 42), "foo__bar_baz_3_42");
        assert_eq!(database_name("", 0, 1), "t__0_1");
        assert_eq!(database_name("9lives", 0, 1), "t_9lives_0_1");
        let long = database_name(&"x".repeat(200), 12, 4_194_304);
        assert_eq!(long.len(), MAX_IDENT_LEN);
        assert!(long.ends_with("_12_4194304"));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(conninfo_value("/tmp/x"), "/tmp/x");
        assert_eq!(conninfo_value("a b'c"), r"'a b\'c'");
        assert_eq!(conninfo_value(""), "''");
        assert_eq!(percent_encode("/tmp/e2e-pg_1.x~"), "%2Ftmp%2Fe2e-pg_1.x~");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
