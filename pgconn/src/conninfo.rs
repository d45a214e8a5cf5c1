//! Reading a libpq connection string (URL or `key=value` form) just far enough to take out the
//! settings this crate handles itself (`sslmode`, `sslrootcert`, ...) and to hide the password;
//! everything else is left, byte for byte, to `tokio-postgres`' own parser.

use std::ops::Range;

/// One setting of a connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    /// The key, decoded.
    pub(crate) key: String,
    /// The value, decoded (quotes and backslash escapes, or percent-encoding, undone).
    pub(crate) value: String,
    /// The whole `key=value` text in the input.
    span: Range<usize>,
    /// The value's text in the input.
    value_span: Range<usize>,
}

/// The two spellings libpq accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Form {
    /// `postgresql://...`; `query` is where the text after `?` starts, if there is one.
    Url { query: Option<usize> },
    /// `host=... port=...`.
    KeyValue,
}

/// A connection string split into its settings.
#[derive(Debug, Clone)]
pub(crate) struct ConnString<'a> {
    text: &'a str,
    form: Form,
    /// For a URL, the query parameters; for the key=value form, every setting.
    pub(crate) params: Vec<Param>,
}

impl<'a> ConnString<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<ConnString<'a>, String> {
        match url_rest(text) {
            Some(rest_start) => {
                let query = url_query_start(text, rest_start);
                let params = match query {
                    Some(start) => url_params(text, start)?,
                    None => Vec::new(),
                };
                Ok(ConnString {
                    text,
                    form: Form::Url { query },
                    params,
                })
            }
            None => Ok(ConnString {
                text,
                form: Form::KeyValue,
                params: key_value_params(text)?,
            }),
        }
    }

    /// The last value given for `key` (libpq: a later setting overrides an earlier one).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// The connection string without the settings `remove` names, otherwise unchanged.
    pub(crate) fn without(&self, remove: &[&str]) -> String {
        let kept: Vec<&str> = self
            .params
            .iter()
            .filter(|p| !remove.contains(&p.key.as_str()))
            .map(|p| &self.text[p.span.clone()])
            .collect();
        match self.form {
            Form::Url { query: None } => self.text.to_owned(),
            Form::Url { query: Some(start) } => {
                // `start` is just after the `?`.
                let base = &self.text[..start - 1];
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            Form::KeyValue => kept.join(" "),
        }
    }

    /// The connection string with the value of every `password` setting replaced by `***`.
    fn redacted_params(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut at = 0;
        for p in self.params.iter().filter(|p| p.key == "password") {
            out.push_str(&self.text[at..p.value_span.start]);
            out.push_str("***");
            at = p.value_span.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// For a `postgres://` or `postgresql://` URL, where the text after the scheme starts.
fn url_rest(text: &str) -> Option<usize> {
    ["postgresql://", "postgres://"]
        .into_iter()
        .find(|prefix| text.starts_with(prefix))
        .map(str::len)
}

/// Where the query of a URL starts (just after its `?`), found as `tokio-postgres` finds it:
/// the credentials end at the first `@`, then the first `?` starts the query.
fn url_query_start(text: &str, rest_start: usize) -> Option<usize> {
    let rest = &text[rest_start..];
    let after_credentials = rest.find('@').map_or(0, |at| at + 1);
    rest[after_credentials..]
        .find('?')
        .map(|q| rest_start + after_credentials + q + 1)
}

fn url_params(text: &str, start: usize) -> Result<Vec<Param>, String> {
    let mut params = Vec::new();
    let mut at = start;
    for segment in text[start..].split('&') {
        let span = at..at + segment.len();
        at = span.end + 1;
        if segment.is_empty() {
            continue;
        }
        let Some((key, value)) = segment.split_once('=') else {
            return Err(format!(
                "URL parameter `{}` has no `=value`",
                percent_decode(segment).unwrap_or_else(|_| segment.to_owned())
            ));
        };
        let value_start = span.start + key.len() + 1;
        params.push(Param {
            key: percent_decode(key)?,
            value: percent_decode(value)?,
            span: span.clone(),
            value_span: value_start..span.end,
        });
    }
    Ok(params)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in URL parameter `{s}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("URL parameter `{s}` is not UTF-8"))
}

/// libpq's `key = value` syntax: whitespace between settings, optional whitespace around `=`,
/// values either single-quoted or running to the next whitespace, `\` escaping the next
/// character in both.
fn key_value_params(text: &str) -> Result<Vec<Param>, String> {
    let mut params = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            return Ok(params);
        };
        let mut key_end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                key_end = i;
                break;
            }
            chars.next();
        }
        let key = &text[key_start..key_end];
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|&(_, c)| c == '=').is_none() {
            return Err(format!(
                "missing `=` after `{key}` in the connection string"
            ));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value_start = chars.peek().map_or(text.len(), |&(i, _)| i);
        let quoted = chars.next_if(|&(_, c)| c == '\'').is_some();
        let mut value = String::new();
        let mut value_end = text.len();
        let mut closed = false;
        while let Some(&(i, c)) = chars.peek() {
            if quoted && c == '\'' {
                chars.next();
                value_end = i + 1;
                closed = true;
                break;
            }
            if !quoted && c.is_whitespace() {
                value_end = i;
                break;
            }
            chars.next();
            if c == '\\' {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            } else {
                value.push(c);
            }
        }
        if quoted && !closed {
            return Err(format!(
                "unterminated quoted value of `{key}` in the connection string"
            ));
        }
        params.push(Param {
            key: key.to_owned(),
            value,
            span: key_start..value_end,
            value_span: value_start..value_end,
        });
    }
}

/// The connection string (URL or `key=value` form) with every password replaced by `***`, for
/// messages and reports: the password of a URL's `user:password@`, and every `password` setting.
/// A string that cannot be read is cut at the first `password` rather than shown whole.
pub fn redact(conninfo: &str) -> String {
    let text = match url_rest(conninfo) {
        Some(scheme_end) => redact_url_credentials(conninfo, scheme_end),
        None => conninfo.to_owned(),
    };
    match ConnString::parse(&text) {
        Ok(parsed) => parsed.redacted_params(),
        Err(_) => match text.find("password") {
            Some(at) => format!("{}password=***", &text[..at]),
            None => text,
        },
    }
}

/// `scheme://user:***@rest`: everything between the first `:` of the credentials and the last
/// `@` is hidden, so a password with an unencoded `@`, `/` or `?` still never shows.
fn redact_url_credentials(url: &str, scheme_end: usize) -> String {
    let Some(at) = url.rfind('@').filter(|&at| at >= scheme_end) else {
        return url.to_owned();
    };
    match url[scheme_end..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end], &url[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_are_found_decoded_and_removed() {
        let url = "postgresql://u:p%40ss@db.example:5433/app?sslmode=verify-full&application_name=a%20b&sslrootcert=%2Fetc%2Fca.pem";
        let parsed = ConnString::parse(url).expect("parses");
        assert_eq!(parsed.get("sslmode"), Some("verify-full"));
        assert_eq!(parsed.get("sslrootcert"), Some("/etc/ca.pem"));
        assert_eq!(parsed.get("application_name"), Some("a b"));
        assert_eq!(
            parsed.without(&["sslmode", "sslrootcert"]),
            "postgresql://u:p%40ss@db.example:5433/app?application_name=a%20b"
        );
        assert_eq!(
            parsed.without(&["sslmode", "sslrootcert", "application_name"]),
            "postgresql://u:p%40ss@db.example:5433/app"
        );
    }

    #[test]
    fn a_question_mark_in_the_password_does_not_start_the_query() {
        let parsed = ConnString::parse("postgres://u:a?b@h/db?sslmode=require").expect("parses");
        assert_eq!(parsed.get("sslmode"), Some("require"));
        assert_eq!(parsed.params.len(), 1);
        let plain = ConnString::parse("postgres://u@h/db").expect("parses");
        assert!(plain.params.is_empty());
        assert_eq!(plain.without(&["sslmode"]), "postgres://u@h/db");
    }

    #[test]
    fn key_value_settings_are_found_with_quotes_and_escapes() {
        let text = r"host=localhost  port = 5432 sslrootcert='/path with/space\'s.pem' sslmode=verify-ca password=a\ b";
        let parsed = ConnString::parse(text).expect("parses");
        assert_eq!(parsed.get("port"), Some("5432"));
        assert_eq!(parsed.get("sslrootcert"), Some("/path with/space's.pem"));
        assert_eq!(parsed.get("sslmode"), Some("verify-ca"));
        assert_eq!(parsed.get("password"), Some("a b"));
        assert_eq!(
            parsed.without(&["sslmode", "sslrootcert"]),
            r"host=localhost port = 5432 password=a\ b"
        );
    }

    #[test]
    fn broken_key_value_strings_are_errors() {
        assert!(ConnString::parse("host").is_err());
        assert!(ConnString::parse("host=x sslrootcert='open").is_err());
        assert!(ConnString::parse("postgres://h/db?sslmode").is_err());
        assert!(ConnString::parse("postgres://h/db?sslmode=%zz").is_err());
    }

    #[test]
    fn the_last_setting_wins() {
        let parsed = ConnString::parse("sslmode=disable host=h sslmode=require").expect("parses");
        assert_eq!(parsed.get("sslmode"), Some("require"));
    }

    #[test]
    fn passwords_are_redacted_in_every_spelling() {
        assert_eq!(
            redact("postgresql://dental_user:dental_password@localhost:5432/dental_backend"),
            "postgresql://dental_user:***@localhost:5432/dental_backend"
        );
        assert_eq!(
            redact("postgresql://u:pw@127.0.0.1:1/x?connect_timeout=2"),
            "postgresql://u:***@127.0.0.1:1/x?connect_timeout=2"
        );
        assert_eq!(
            redact("postgres://u:p@w/rd@h/db?password=other&sslmode=require"),
            "postgres://u:***@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact("host=h password='se cret' user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(
            redact("host=h password=secret dbname='unterminated"),
            "host=h password=***"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("host=h user=u"), "host=h user=u");
    }
}
