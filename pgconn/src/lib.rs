//! One way to open a PostgreSQL connection for every tool of this workspace (the migration
//! runner, `codegen drift`/`introspect`, `lint --database-url`) and for applications using the
//! audited repositories (re-exported by `repo-runtime`): [`connect`] takes a libpq connection
//! string, URL (`postgresql://user:password@host:port/db?sslmode=verify-full&sslrootcert=ca.pem`)
//! or `key=value` form (`host=... sslmode=verify-full sslrootcert=ca.pem`), and returns a
//! [`postgres::Client`], encrypted with rustls as `sslmode` asks.
//!
//! `sslmode` means what it means to libpq (`psql`):
//!
//! | sslmode | encrypted | server authenticated |
//! | --- | --- | --- |
//! | `disable` | never | no |
//! | `allow` | only if the server insists | no |
//! | `prefer` (default) | if the server offers TLS; falls back to plain otherwise | no |
//! | `require` | always, or no connection | no (chain checked only if `sslrootcert` is given) |
//! | `verify-ca` | always | the certificate chains to a trusted CA |
//! | `verify-full` | always | ... and names the host connected to |
//!
//! `sslrootcert` is a PEM file of the trusted CA certificate(s); without it, `verify-ca` and
//! `verify-full` trust the system's CA store (`SSL_CERT_FILE`/`SSL_CERT_DIR` are honoured; Mozilla's
//! roots where the system has none), and `sslrootcert=system` says so explicitly (and, as in
//! libpq 16, makes `verify-full` the default and refuses weaker modes). As in libpq, `sslmode`
//! does not apply to Unix-domain sockets, which PostgreSQL never encrypts. Not supported: client
//! certificates (`sslcert`, `sslkey`, `sslpassword`), certificate revocation lists (`sslcrl`,
//! `sslcrldir`), and the `PGSSLMODE`/`PGSSLROOTCERT` environment variables (only the string
//! counts). Every other setting is read by `tokio-postgres`.
//!
//! A failure is a [`ConnectError`] whose message names the connection without its password
//! (see [`redact`]) and says what to change.

mod conninfo;
mod error;
mod tls;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use postgres::Client;
use postgres::config::{Host, SslMode as WireSslMode};
use rustls::ClientConfig;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use conninfo::redact;
pub use error::{ConnectError, ErrorKind};

use conninfo::ConnString;
use tls::{Roots, Verify};

/// Settings this crate reads itself; they never reach `tokio-postgres`' parser.
/// The seed guide's default connection, used by `codegen db` and the service when
/// `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str =
    "postgresql://dental_user:dental_password@localhost:5432/dental_backend";

const OWN_SETTINGS: &[&str] = &["sslmode", "sslrootcert", "sslsni"];

/// libpq settings that ask for something this crate does not do.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("sslcert", "client certificates"),
    ("sslkey", "client certificates"),
    ("sslpassword", "client certificates"),
    ("sslcertmode", "client certificates"),
    ("sslcrl", "certificate revocation lists"),
    ("sslcrldir", "certificate revocation lists"),
];

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = String;

    fn from_str(s: &str) -> Result<SslMode, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "invalid sslmode `{other}`: expected disable, allow, prefer, require, \
                     verify-ca or verify-full"
                ));
            }
        })
    }
}

/// Opens a connection as `conninfo` says (URL or `key=value` form), honouring `sslmode` and
/// `sslrootcert` as libpq does. See the crate documentation.
///
/// # Errors
///
/// A [`ConnectError`] naming the connection (password hidden) and saying what to do.
pub fn connect(conninfo: &str) -> Result<Client, ConnectError> {
    ConnInfo::parse(conninfo)?.connect()
}

/// Text that may hold a password, shown as `***` by `Debug`.
#[derive(Clone)]
struct Hidden(String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A parsed connection string: what [`connect`] does in two steps, for callers that want to
/// look at the settings first or connect more than once.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    shown: String,
    config: postgres::Config,
    /// The connection string without this crate's own settings, for [`ConnInfo::async_parts`]
    /// (it may hold a password: never shown in `Debug`).
    client_settings: Hidden,
    sslmode: SslMode,
    roots: Option<Roots>,
    sni: bool,
}

impl ConnInfo {
    /// Reads a connection string without connecting.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidConnectionString`] for a string libpq would not accept either, or one
    /// with a setting this crate does not support.
    pub fn parse(conninfo: &str) -> Result<ConnInfo, ConnectError> {
        let shown = redact(conninfo);
        let invalid = |message: String, hint: Option<&str>| ConnectError {
            kind: ErrorKind::InvalidConnectionString,
            shown: shown.clone(),
            target: None,
            message,
            hint: hint.map(str::to_owned),
            source: None,
        };
        let parsed = ConnString::parse(conninfo)
            .map_err(|e| invalid(format!("invalid connection string: {e}"), None))?;
        if let Some((key, what)) = UNSUPPORTED
            .iter()
            .find(|(key, _)| parsed.get(key).is_some())
        {
            return Err(invalid(
                format!("`{key}` is not supported: this client does not do {what}"),
                Some("remove it; use password authentication over sslmode=verify-full instead"),
            ));
        }
        let roots = match parsed.get("sslrootcert") {
            None | Some("") => None,
            Some("system") => Some(Roots::System),
            Some(path) => Some(Roots::File(PathBuf::from(path))),
        };
        let sslmode = match parsed.get("sslmode") {
            Some(mode) => mode.parse().map_err(|e| invalid(e, None))?,
            None if roots == Some(Roots::System) => SslMode::VerifyFull,
            None => SslMode::Prefer,
        };
        if roots == Some(Roots::System) && sslmode != SslMode::VerifyFull {
            return Err(invalid(
                format!("weak sslmode={sslmode} may not be used with sslrootcert=system"),
                Some("use sslmode=verify-full (the system's CAs vouch for host names only)"),
            ));
        }
        let sni = match parsed.get("sslsni") {
            None | Some("1") => true,
            Some("0") => false,
            Some(other) => {
                return Err(invalid(
                    format!("invalid sslsni `{other}`: expected 0 or 1"),
                    None,
                ));
            }
        };
        let client_settings = Hidden(parsed.without(OWN_SETTINGS));
        let config = postgres::Config::from_str(&client_settings.0)
            .map_err(|e| invalid(error::full_message(&e), None))?;
        Ok(ConnInfo {
            shown,
            config,
            client_settings,
            sslmode,
            roots,
            sni,
        })
    }

    /// The `sslmode` asked for (`prefer` when none is given).
    pub fn sslmode(&self) -> SslMode {
        self.sslmode
    }

    /// The connection string with its password hidden.
    pub fn redacted(&self) -> &str {
        &self.shown
    }

    /// `host=... port=... dbname=... user=... sslmode=...` as understood, for messages (never
    /// the password).
    pub fn describe(&self) -> String {
        let c = &self.config;
        let hosts = self.host_names();
        let mut out = String::new();
        if !hosts.is_empty() {
            out.push_str(&format!("host={} ", hosts.join(",")));
        }
        if !c.get_hostaddrs().is_empty() {
            let addrs: Vec<String> = c.get_hostaddrs().iter().map(ToString::to_string).collect();
            out.push_str(&format!("hostaddr={} ", addrs.join(",")));
        }
        let ports: Vec<String> = c.get_ports().iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "port={} ",
            if ports.is_empty() {
                "5432".to_owned()
            } else {
                ports.join(",")
            }
        ));
        let user = c.get_user().unwrap_or("(none)");
        out.push_str(&format!(
            "dbname={} user={user} sslmode={}",
            c.get_dbname().unwrap_or(user),
            self.sslmode
        ));
        if self.unix_sockets_only() && self.sslmode != SslMode::Disable {
            out.push_str(" (not used on Unix sockets)");
        }
        out
    }

    /// The `sslmode` that applies: libpq ignores it for Unix domain socket communication.
    fn effective_sslmode(&self) -> SslMode {
        if self.unix_sockets_only() {
            SslMode::Disable
        } else {
            self.sslmode
        }
    }

    /// What the weak modes (`prefer`, `require`) check: without a root certificate they encrypt
    /// without authenticating; with one they check the chain, as libpq does.
    fn optional_verify(&self) -> Verify {
        if self.roots.is_some() {
            Verify::Chain
        } else {
            Verify::Nothing
        }
    }

    /// Connects, with as many attempts as the `sslmode` calls for (`prefer` retries without TLS
    /// when the handshake fails; `allow` retries with TLS when the server refuses plain).
    ///
    /// # Errors
    ///
    /// See [`ConnectError`].
    pub fn connect(&self) -> Result<Client, ConnectError> {
        let (sslmode, optional) = (self.effective_sslmode(), self.optional_verify());
        // A retry returns at once, its error noting what the first attempt said.
        let result: Result<Client, postgres::Error> = match sslmode {
            SslMode::Disable => self.attempt(WireSslMode::Disable, Verify::Nothing)?,
            SslMode::Require => self.attempt(WireSslMode::Require, optional)?,
            SslMode::VerifyCa => self.attempt(WireSslMode::Require, Verify::Chain)?,
            SslMode::VerifyFull => self.attempt(WireSslMode::Require, Verify::ChainAndHost)?,
            SslMode::Prefer => match self.attempt(WireSslMode::Prefer, optional)? {
                Err(first) if error::rustls_error(&first).is_some() => {
                    let (_, why, _) = error::classify(&first, &self.context());
                    return self
                        .attempt(WireSslMode::Disable, Verify::Nothing)?
                        .map_err(|e| {
                            self.fail(e, Some(format!("a TLS connection failed first: {why}")))
                        });
                }
                other => other,
            },
            SslMode::Allow => match self.attempt(WireSslMode::Disable, Verify::Nothing)? {
                Err(first) if error::is_refused_by_server(&first) => {
                    let (_, why, _) = error::classify(&first, &self.context());
                    return self.attempt(WireSslMode::Require, optional)?.map_err(|e| {
                        self.fail(
                            e,
                            Some(format!("an unencrypted connection failed first: {why}")),
                        )
                    });
                }
                other => other,
            },
        };
        result.map_err(|e| self.fail(e, None))
    }

    /// One connection attempt; the outer error is a setup failure (the CA file), the inner one
    /// the connection's.
    fn attempt(
        &self,
        wire: WireSslMode,
        verify: Verify,
    ) -> Result<Result<Client, postgres::Error>, ConnectError> {
        let tls = if wire == WireSslMode::Disable {
            // Never used for a connection; any configuration will do, and it needs no CA file.
            self.tls_config(Verify::Nothing, None)
        } else {
            self.tls_config(verify, self.roots.as_ref())
        }?;
        let mut config = self.config.clone();
        config.ssl_mode(wire);
        Ok(config.connect(MakeRustlsConnect::new(tls)))
    }

    /// What an async client or a pool (tokio-postgres, deadpool-postgres) needs to open
    /// connections as [`ConnInfo::connect`] does: the configuration and the TLS connector. A pool
    /// opens connections without asking back, so the modes that retry become one choice:
    /// `prefer` asks for TLS and accepts a server without it (tokio-postgres's own `prefer`, with
    /// this crate's certificate checks), `allow` connects without TLS.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::RootCertificates`] when the `sslrootcert` file cannot be read.
    pub fn async_parts(&self) -> Result<(tokio_postgres::Config, MakeRustlsConnect), ConnectError> {
        let (sslmode, optional) = (self.effective_sslmode(), self.optional_verify());
        let (wire, verify) = match sslmode {
            SslMode::Disable | SslMode::Allow => (WireSslMode::Disable, Verify::Nothing),
            SslMode::Prefer => (WireSslMode::Prefer, optional),
            SslMode::Require => (WireSslMode::Require, optional),
            SslMode::VerifyCa => (WireSslMode::Require, Verify::Chain),
            SslMode::VerifyFull => (WireSslMode::Require, Verify::ChainAndHost),
        };
        let tls = self.tls_config(verify, self.roots.as_ref())?;
        // Parsed once already by `parse`, which reported any error.
        let mut config =
            tokio_postgres::Config::from_str(&self.client_settings.0).map_err(|e| {
                ConnectError {
                    kind: ErrorKind::InvalidConnectionString,
                    shown: self.shown.clone(),
                    target: None,
                    message: error::full_message(&e),
                    hint: None,
                    source: None,
                }
            })?;
        config.ssl_mode(wire);
        Ok((config, MakeRustlsConnect::new(tls)))
    }

    /// The TLS configuration for `verify`; a CA file that cannot be read is
    /// [`ErrorKind::RootCertificates`].
    fn tls_config(
        &self,
        verify: Verify,
        roots: Option<&Roots>,
    ) -> Result<ClientConfig, ConnectError> {
        tls::client_config(verify, roots, self.sni).map_err(|message| ConnectError {
            kind: ErrorKind::RootCertificates,
            shown: self.shown.clone(),
            target: Some(self.describe()),
            message,
            hint: None,
            source: None,
        })
    }

    fn fail(&self, e: postgres::Error, note: Option<String>) -> ConnectError {
        let (kind, mut message, hint) = error::classify(&e, &self.context());
        if let Some(note) = note {
            message.push_str(&format!(" ({note})"));
        }
        ConnectError {
            kind,
            shown: self.shown.clone(),
            target: Some(self.describe()),
            message,
            hint,
            source: Some(e),
        }
    }

    /// The hosts as written: names, addresses and socket directories.
    fn host_names(&self) -> Vec<String> {
        self.config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect()
    }

    fn context(&self) -> error::Context<'_> {
        let hosts = self.host_names();
        let ports: Vec<String> = self
            .config
            .get_ports()
            .iter()
            .map(ToString::to_string)
            .collect();
        error::Context {
            sslmode: self.sslmode.as_str(),
            roots: self.roots.as_ref().unwrap_or(&Roots::System).describe(),
            hosts: format!(
                "host {} port {}",
                if hosts.is_empty() {
                    "(none)".to_owned()
                } else {
                    hosts.join(",")
                },
                if ports.is_empty() {
                    "5432".to_owned()
                } else {
                    ports.join(",")
                }
            ),
        }
    }

    /// Whether every host is a Unix-socket directory (and no `hostaddr` makes it TCP).
    fn unix_sockets_only(&self) -> bool {
        let hosts = self.config.get_hosts();
        !hosts.is_empty()
            && self.config.get_hostaddrs().is_empty()
            && hosts.iter().all(|h| matches!(h, Host::Unix(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ConnInfo {
        ConnInfo::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn failure<T>(result: Result<T, ConnectError>, why: &str) -> ConnectError {
        match result {
            Ok(_) => panic!("connected, but should not have: {why}"),
            Err(e) => e,
        }
    }

    fn parse_err(s: &str) -> ConnectError {
        ConnInfo::parse(s).expect_err("should be refused")
    }

    #[test]
    fn every_libpq_sslmode_is_accepted_in_both_forms() {
        for mode in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            let url = parse(&format!(
                "postgresql://u:pw@db.example:5433/app?sslmode={mode}"
            ));
            assert_eq!(url.sslmode().to_string(), mode);
            let kv = parse(&format!("host=db.example user=u sslmode={mode}"));
            assert_eq!(kv.sslmode().to_string(), mode);
        }
        assert_eq!(parse("host=h user=u").sslmode(), SslMode::Prefer);
    }

    #[test]
    fn the_description_names_the_connection_without_the_password() {
        let info = parse(
            "postgresql://app:s3cret@db.example:5433/clinic?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        );
        assert_eq!(
            info.describe(),
            "host=db.example port=5433 dbname=clinic user=app sslmode=verify-full"
        );
        assert_eq!(
            info.redacted(),
            "postgresql://app:***@db.example:5433/clinic?sslmode=verify-full&sslrootcert=/etc/ca.pem"
        );
        assert!(!format!("{info:?}").contains("s3cret"), "{info:?}");
        let unix = parse("host=/run/postgresql user=u sslmode=require");
        assert_eq!(
            unix.describe(),
            "host=/run/postgresql port=5432 dbname=u user=u sslmode=require (not used on Unix sockets)"
        );
    }

    #[test]
    fn bad_settings_are_clear_errors() {
        let e = parse_err("postgresql://u:pw@h/db?sslmode=verify_full");
        assert_eq!(e.kind(), ErrorKind::InvalidConnectionString);
        let text = e.to_string();
        assert!(
            text.starts_with("cannot connect to postgresql://u:***@h/db"),
            "{text}"
        );
        assert!(text.contains("invalid sslmode `verify_full`"), "{text}");
        let e = parse_err("host=h user=u password=pw sslcert=client.crt");
        assert!(e.to_string().contains("`sslcert` is not supported"), "{e}");
        assert!(!e.to_string().contains("pw"), "{e}");
        let e = parse_err("host=h sslmode=require sslrootcert=system");
        assert!(e.to_string().contains("weak sslmode=require"), "{e}");
        assert_eq!(
            parse("host=h sslrootcert=system").sslmode(),
            SslMode::VerifyFull
        );
        let e = parse_err("host=h user=u password=pw bogus=1");
        assert!(
            e.to_string()
                .ends_with(": invalid connection string: unknown option `bogus`"),
            "{e}"
        );
        assert!(!e.to_string().contains("pw"), "{e}");
    }

    #[test]
    fn a_missing_or_empty_root_certificate_file_is_a_clear_error() {
        let e = failure(
            parse(
                "host=127.0.0.1 port=1 user=u sslmode=verify-full sslrootcert=/nonexistent/ca.pem",
            )
            .connect(),
            "no such file",
        );
        assert_eq!(e.kind(), ErrorKind::RootCertificates);
        assert!(
            e.to_string()
                .contains("cannot read sslrootcert=/nonexistent/ca.pem"),
            "{e}"
        );
        let empty = std::env::temp_dir().join(format!("pgconn-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let e = failure(
            parse(&format!(
                "host=127.0.0.1 port=1 user=u sslmode=verify-ca sslrootcert={}",
                empty.display()
            ))
            .connect(),
            "no certificate",
        );
        let _ = std::fs::remove_file(&empty);
        assert!(e.to_string().contains("holds no certificate"), "{e}");
    }

    #[test]
    fn an_unreachable_server_is_named_with_a_hint() {
        let e = failure(
            connect(
                "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2&sslmode=require",
            ),
            "nothing listens on port 1",
        );
        assert_eq!(e.kind(), ErrorKind::Unreachable);
        let text = e.to_string();
        assert!(
            text.starts_with(
                "cannot connect to postgresql://nobody:***@127.0.0.1:1/none?connect_timeout=2&sslmode=require \
                 (host=127.0.0.1 port=1 dbname=none user=nobody sslmode=require): "
            ),
            "{text}"
        );
        assert!(
            text.contains("error connecting to server: Connection refused"),
            "{text}"
        );
        assert!(
            text.contains("is the server running and reachable at host 127.0.0.1 port 1"),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
    }
}
