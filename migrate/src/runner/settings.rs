//! How long the runner lets a step wait and run: the timeouts it sets on its session and the
//! budget for retrying a step that could not get its locks.
//!
//! The defaults follow what keeps an application responsive: a DDL statement queued for a lock
//! makes every later query on that table queue behind it, so the runner gives up on a lock after
//! a fraction of a second, steps back, and tries again later (GitLab's `with_lock_retries`).

use std::time::Duration;

use crate::duration;
use crate::history::Directives;

/// The runner's timeouts and retry budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `lock_timeout` for every statement that can block the application (never zero).
    pub lock_timeout: Duration,
    /// `statement_timeout` for transactional steps; `None` is off.
    pub statement_timeout: Option<Duration>,
    /// `statement_timeout` for statements that run outside a transaction (`CREATE INDEX
    /// CONCURRENTLY` on a big table can rightly take hours); `None` is off.
    pub concurrent_statement_timeout: Option<Duration>,
    /// How long a step may keep retrying after lock timeouts before the runner gives up.
    pub lock_retry_budget: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            lock_timeout: Duration::from_millis(250),
            statement_timeout: Some(Duration::from_secs(60)),
            concurrent_statement_timeout: None,
            lock_retry_budget: Duration::from_secs(300),
        }
    }
}

/// The environment variables the CLI reads when a flag is not given.
pub const LOCK_TIMEOUT_ENV: &str = "CODEGEN_LOCK_TIMEOUT";
pub const STATEMENT_TIMEOUT_ENV: &str = "CODEGEN_STATEMENT_TIMEOUT";
pub const CONCURRENT_STATEMENT_TIMEOUT_ENV: &str = "CODEGEN_CONCURRENT_STATEMENT_TIMEOUT";
pub const LOCK_RETRY_BUDGET_ENV: &str = "CODEGEN_LOCK_RETRY_BUDGET";

/// What one step runs with: the settings, overridden by its migration's directives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepSettings {
    /// `None` for a statement that blocks neither reads nor writes (`CREATE INDEX
    /// CONCURRENTLY`): its waits stall nobody, and giving up would only leave work to redo.
    pub lock_timeout: Option<Duration>,
    pub statement_timeout: Option<Duration>,
}

impl Settings {
    /// The timeouts of a transactional migration with `directives`.
    pub fn transactional(&self, directives: &Directives) -> StepSettings {
        StepSettings {
            lock_timeout: Some(directives.lock_timeout.unwrap_or(self.lock_timeout)),
            statement_timeout: directives
                .statement_timeout
                .unwrap_or(self.statement_timeout),
        }
    }

    /// The timeouts of one statement of a no-transaction migration with `directives`;
    /// `blocks_application` says whether the statement takes a lock that blocks reads or writes.
    pub fn outside_transaction(
        &self,
        directives: &Directives,
        blocks_application: bool,
    ) -> StepSettings {
        let default_statement_timeout = if blocks_application {
            self.statement_timeout
        } else {
            self.concurrent_statement_timeout
        };
        StepSettings {
            lock_timeout: blocks_application
                .then(|| directives.lock_timeout.unwrap_or(self.lock_timeout)),
            statement_timeout: directives
                .statement_timeout
                .unwrap_or(default_statement_timeout),
        }
    }
}

impl StepSettings {
    /// The `SET` statements that put these timeouts in force (`LOCAL` inside a transaction).
    pub fn set_statements(&self, local: bool) -> String {
        let scope = if local { "SET LOCAL" } else { "SET" };
        let setting = |timeout: Option<Duration>| {
            timeout.map_or_else(|| "0".to_string(), duration::to_setting)
        };
        format!(
            "{scope} lock_timeout = '{}'; {scope} statement_timeout = '{}';",
            setting(self.lock_timeout),
            setting(self.statement_timeout)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_override_the_flags_for_their_migration() {
        let settings = Settings::default();
        let none = Directives::default();
        assert_eq!(
            settings.transactional(&none),
            StepSettings {
                lock_timeout: Some(Duration::from_millis(250)),
                statement_timeout: Some(Duration::from_secs(60)),
            }
        );
        assert_eq!(
            settings.outside_transaction(&none, false),
            StepSettings {
                lock_timeout: None,
                statement_timeout: None,
            }
        );
        assert_eq!(
            settings.outside_transaction(&none, true),
            settings.transactional(&none)
        );
        let directives = Directives {
            no_transaction: false,
            lock_timeout: Some(Duration::from_secs(2)),
            statement_timeout: Some(None),
        };
        assert_eq!(
            settings.transactional(&directives),
            StepSettings {
                lock_timeout: Some(Duration::from_secs(2)),
                statement_timeout: None,
            }
        );
        assert_eq!(
            settings.transactional(&directives).set_statements(true),
            "SET LOCAL lock_timeout = '2000ms'; SET LOCAL statement_timeout = '0';"
        );
    }
}
