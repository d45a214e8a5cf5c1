//! The service's configuration, read from the environment (the seed's variables and defaults),
//! and the view of it `/config` shows: secrets are reported as set or not, never shown.

use std::time::Duration;

use serde::Serialize;

/// Everything the service reads at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    /// 0 lets the system pick a free port (the service prints the one it got).
    pub port: u16,
    pub database_url: String,
    pub pool_max_size: usize,
    /// How long `/health` may take before it answers 503.
    pub health_timeout: Duration,
    audit_key_set: bool,
    data_key_set: bool,
}

/// The environment variables, and their defaults.
pub const HOST_ENV: &str = "HOST";
pub const PORT_ENV: &str = "PORT";
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";
pub const POOL_MAX_SIZE_ENV: &str = "POOL_MAX_SIZE";
pub const HEALTH_TIMEOUT_ENV: &str = "HEALTH_TIMEOUT_MS";
/// Read by the repositories (`repo_runtime::AuditKey::ENV_VAR`, `DataKey::ENV_VAR`); the
/// service only says whether they are set.
pub const AUDIT_KEY_ENV: &str = "AUDIT_HMAC_KEY";
pub const DATA_KEY_ENV: &str = "DATA_ENCRYPTION_KEY";

const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 8000;
const DEFAULT_POOL_MAX_SIZE: usize = 16;
const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

impl Config {
    /// Reads the configuration through `var` (the environment, or a map in tests); the error
    /// names the variable and what it should hold.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let number = |name: &str, default: u64| -> Result<u64, String> {
            set(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("{name}=`{v}` is not a whole number"))
            })
        };
        let port = number(PORT_ENV, u64::from(DEFAULT_PORT))?;
        let port = u16::try_from(port)
            .map_err(|_| format!("{PORT_ENV}={port} is not a port (0 to 65535)"))?;
        let pool_max_size = number(POOL_MAX_SIZE_ENV, DEFAULT_POOL_MAX_SIZE as u64)?;
        if pool_max_size == 0 {
            return Err(format!(
                "{POOL_MAX_SIZE_ENV}=0: the pool needs at least one connection"
            ));
        }
        let health_timeout = number(
            HEALTH_TIMEOUT_ENV,
            DEFAULT_HEALTH_TIMEOUT.as_millis() as u64,
        )?;
        if health_timeout == 0 {
            return Err(format!(
                "{HEALTH_TIMEOUT_ENV}=0: give the health check some time, e.g. 3000"
            ));
        }
        Ok(Config {
            host: set(HOST_ENV).unwrap_or_else(|| DEFAULT_HOST.to_string()),
            port,
            database_url: set(DATABASE_URL_ENV)
                .unwrap_or_else(|| pgconn::DEFAULT_DATABASE_URL.to_string()),
            pool_max_size: usize::try_from(pool_max_size).unwrap_or(usize::MAX),
            health_timeout: Duration::from_millis(health_timeout),
            audit_key_set: set(AUDIT_KEY_ENV).is_some(),
            data_key_set: set(DATA_KEY_ENV).is_some(),
        })
    }

    /// What `/config` shows: the effective settings, the connection string with its password
    /// hidden, and only whether each key is set.
    pub fn public_view(&self) -> PublicConfig {
        let shown = |set: bool| if set { "set" } else { "not set" };
        PublicConfig {
            host: self.host.clone(),
            port: self.port,
            database_url: pgconn::redact(&self.database_url),
            pool_max_size: self.pool_max_size,
            health_timeout_ms: u64::try_from(self.health_timeout.as_millis()).unwrap_or(u64::MAX),
            audit_hmac_key: shown(self.audit_key_set),
            data_encryption_key: shown(self.data_key_set),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The body of `/config`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicConfig {
    pub host: String,
    pub port: u16,
    pub database_url: String,
    pub pool_max_size: usize,
    pub health_timeout_ms: u64,
    pub audit_hmac_key: &'static str,
    pub data_encryption_key: &'static str,
    pub version: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn defaults_are_the_seeds() {
        let config = Config::from_vars(vars(&[])).expect("defaults");
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 8000));
        assert_eq!(config.database_url, pgconn::DEFAULT_DATABASE_URL);
        let view = config.public_view();
        assert!(!view.database_url.contains("dental_password"), "{view:?}");
        assert_eq!(view.audit_hmac_key, "not set");
    }

    #[test]
    fn secrets_are_never_shown() {
        let config = Config::from_vars(vars(&[
            (
                "DATABASE_URL",
                "postgresql://app:hunter2-secret@db.example.org/dental",
            ),
            (
                "AUDIT_HMAC_KEY",
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            ),
            (
                "DATA_ENCRYPTION_KEY",
                "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
            ),
        ]))
        .expect("config");
        let shown = serde_json::to_string(&config.public_view()).expect("json");
        for secret in ["hunter2-secret", "00112233445566", "ffeeddccbbaa99"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("db.example.org") && shown.contains("\"audit_hmac_key\":\"set\""),
            "{shown}"
        );
    }

    #[test]
    fn bad_numbers_name_the_variable() {
        for (pairs, expected) in [
            (
                vec![("PORT", "eighty")],
                "PORT=`eighty` is not a whole number",
            ),
            (vec![("PORT", "70000")], "PORT=70000 is not a port"),
            (vec![("POOL_MAX_SIZE", "0")], "POOL_MAX_SIZE=0"),
            (vec![("HEALTH_TIMEOUT_MS", "0")], "HEALTH_TIMEOUT_MS=0"),
        ] {
            let error = Config::from_vars(vars(&pairs)).expect_err("refused");
            assert!(error.contains(expected), "{error}");
        }
    }
}
