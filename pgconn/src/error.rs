//! [`ConnectError`]: what went wrong, which connection it was, and what to do about it.

use std::fmt;

use postgres::error::SqlState;

/// What kind of failure a [`ConnectError`] is, for callers that react differently to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection string cannot be read, or has a setting this crate does not support.
    InvalidConnectionString,
    /// The trusted CA certificates (`sslrootcert`) cannot be loaded.
    RootCertificates,
    /// TLS is required, but the server does not offer it.
    TlsNotSupported,
    /// The server's certificate was rejected: unknown CA, wrong host name, expired, ...
    CertificateRejected,
    /// The TLS handshake failed for another reason.
    TlsHandshake,
    /// The server refused the connection: `pg_hba.conf`, authentication, unknown database, ...
    Refused,
    /// The server could not be reached or the connection broke (DNS, TCP, timeout, ...).
    Unreachable,
}

/// A failed [`crate::connect`]. Its message names the connection (the connection string with
/// the password hidden, and host, port, database, user and sslmode as they were understood) and
/// says what to change.
#[derive(Debug)]
pub struct ConnectError {
    pub(crate) kind: ErrorKind,
    /// The redacted connection string.
    pub(crate) shown: String,
    /// `host=... port=... dbname=... user=... sslmode=...`, once the string could be parsed.
    pub(crate) target: Option<String>,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) source: Option<postgres::Error>,
}

impl ConnectError {
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The `postgres` error behind this one, when there is one (use it for the SQLSTATE of a
    /// refused connection).
    pub fn postgres_error(&self) -> Option<&postgres::Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to {}", self.shown)?;
        if let Some(target) = &self.target {
            write!(f, " ({target})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n{hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The rustls error inside a `postgres` error, if the failure was in the TLS handshake.
pub(crate) fn rustls_error(e: &postgres::Error) -> Option<&rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        current = err.source();
    }
    None
}

/// The error and its causes, `: `-separated (`tokio-postgres` shows only the outermost).
pub(crate) fn full_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut current = e.source();
    while let Some(cause) = current {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        current = cause.source();
    }
    text
}

/// Whether the server answered the SSL request with "no" under `sslmode=require` or stricter.
pub(crate) fn is_tls_refused(e: &postgres::Error) -> bool {
    full_message(e).contains("server does not support TLS")
}

/// Whether the server refused the connection itself (as opposed to the network or TLS failing).
pub(crate) fn is_refused_by_server(e: &postgres::Error) -> bool {
    e.as_db_error().is_some()
}

/// What is known about the connection when classifying an error.
pub(crate) struct Context<'a> {
    pub(crate) sslmode: &'a str,
    pub(crate) roots: String,
    pub(crate) hosts: String,
}

/// The message and hint for a failed connection attempt.
pub(crate) fn classify(
    e: &postgres::Error,
    cx: &Context<'_>,
) -> (ErrorKind, String, Option<String>) {
    if let Some(tls) = rustls_error(e) {
        return classify_tls(tls, cx);
    }
    if is_tls_refused(e) {
        return (
            ErrorKind::TlsNotSupported,
            format!(
                "the server does not support TLS (it declined the SSL request), and \
                 sslmode={} requires it",
                cx.sslmode
            ),
            Some(
                "enable TLS on the server (ssl = on with ssl_cert_file and ssl_key_file in \
                 postgresql.conf), or set sslmode=disable (or prefer) to connect unencrypted"
                    .to_owned(),
            ),
        );
    }
    if full_message(e).contains("no hostname provided for TLS handshake") {
        return (
            ErrorKind::InvalidConnectionString,
            format!(
                "sslmode={} needs a host name for TLS, and only hostaddr is given",
                cx.sslmode
            ),
            Some(
                "set host to the server's name (hostaddr may stay to skip the DNS lookup)"
                    .to_owned(),
            ),
        );
    }
    if let Some(db) = e.as_db_error() {
        let mut message = format!("the server refused: {}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            message.push_str(&format!(" ({detail})"));
        }
        let hint = if *db.code() == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && db.message().contains("no pg_hba.conf entry")
        {
            if db.message().contains("no encryption") {
                Some(format!(
                    "the server accepts this connection only over TLS (a hostssl line in \
                     pg_hba.conf) and sslmode={} connected without it; set sslmode=verify-full \
                     (with sslrootcert) or sslmode=require",
                    cx.sslmode
                ))
            } else {
                Some(
                    "no pg_hba.conf line of the server matches this host, user and database; \
                     ask its administrator to add one"
                        .to_owned(),
                )
            }
        } else {
            db.hint().map(str::to_owned)
        };
        return (ErrorKind::Refused, message, hint);
    }
    (
        ErrorKind::Unreachable,
        full_message(e),
        Some(format!(
            "is the server running and reachable at {}, and is the connection string \
             (DATABASE_URL) right?",
            cx.hosts
        )),
    )
}

fn classify_tls(tls: &rustls::Error, cx: &Context<'_>) -> (ErrorKind, String, Option<String>) {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(cert) = tls else {
        return (
            ErrorKind::TlsHandshake,
            format!("the TLS handshake failed: {tls}"),
            Some(
                "the server's TLS settings may not be compatible (TLS 1.2 or 1.3 is needed); \
                 check the server log"
                    .to_owned(),
            ),
        );
    };
    let (message, hint) = match cert {
        C::UnknownIssuer | C::BadSignature => (
            format!(
                "the server's certificate is not signed by a CA trusted here ({}), so the \
                 server could not be authenticated (sslmode={})",
                cx.roots, cx.sslmode
            ),
            "set sslrootcert to the PEM file of the CA that signed the server's certificate"
                .to_owned(),
        ),
        C::NotValidForName | C::NotValidForNameContext { .. } => (
            format!(
                "the server's certificate is not valid for the host name connected to \
                 (sslmode={} checks it): {tls}",
                cx.sslmode
            ),
            "connect with a host name the certificate names (hostaddr can still give the \
             address), or use sslmode=verify-ca to check the CA only"
                .to_owned(),
        ),
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => (
            format!("the server's certificate is outside its validity period: {tls}"),
            "renew the server's certificate, or check this machine's clock".to_owned(),
        ),
        _ => (
            format!("the server's certificate was rejected: {tls}"),
            "check the server's certificate and sslrootcert".to_owned(),
        ),
    };
    (ErrorKind::CertificateRejected, message, Some(hint))
}
