//! `GET /health`: is the database reachable, and does it hold the schema this service was built
//! for? 200 when it does; 503 with the reason when it is down, behind, half-migrated or holds
//! migrations that were edited after being applied. It answers within its timeout whatever the
//! database does.

use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use serde::Serialize;

/// The body of `/health`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `reachable` or `unreachable`.
    pub database: &'static str,
    pub server_version: Option<String>,
    /// Of a `SELECT 1` on a pooled connection.
    pub round_trip_ms: Option<f64>,
    /// The last migration applied to the database.
    pub current_migration: Option<String>,
    /// The last migration this service was built for.
    pub expected_migration: Option<String>,
    /// Migrations the service expects that the database lacks.
    pub pending: Option<usize>,
    /// `ok`, `mismatch` (an applied migration differs from the one the service was built
    /// for), or `unknown` (the database was not read).
    pub checksums: &'static str,
    /// Why the status is `unavailable`, and what to do; empty when `ok`.
    pub problems: Vec<String>,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }

    fn unreachable(expected: &[(&str, &str)], why: String) -> Health {
        Health {
            status: "unavailable",
            database: "unreachable",
            server_version: None,
            round_trip_ms: None,
            current_migration: None,
            expected_migration: expected.last().map(|(id, _)| (*id).to_string()),
            pending: None,
            checksums: "unknown",
            problems: vec![why],
        }
    }
}

/// What the database's migration records say, against what the service expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub current: Option<String>,
    pub pending: usize,
    pub checksums_match: bool,
    pub problems: Vec<String>,
}

/// Compares the applied migrations (id, checksum, in order) and the half-applied ones with the
/// expected list. A database ahead of the service (migrations it does not know, applied after
/// the ones it does) is healthy: that is a deploy that migrates before it replaces the service.
pub fn assess(
    applied: &[(String, String)],
    interrupted: &[String],
    expected: &[(&str, &str)],
) -> Assessment {
    let mut problems = Vec::new();
    let mut checksums_match = true;
    for (i, (id, checksum)) in applied.iter().enumerate() {
        match expected.get(i) {
            Some((expected_id, expected_checksum)) if expected_id == id => {
                if expected_checksum != checksum {
                    checksums_match = false;
                    problems.push(format!(
                        "migration {id} was applied with another content than this service was built for (checksum {} instead of {}): it was edited; `codegen db check` says more",
                        short(checksum),
                        short(expected_checksum)
                    ));
                }
            }
            Some((expected_id, _)) => {
                checksums_match = false;
                problems.push(format!(
                    "the database's migration {} is `{id}`, this service expects `{expected_id}`: the histories differ",
                    i + 1
                ));
                break;
            }
            None => break,
        }
    }
    let pending = expected.len().saturating_sub(applied.len());
    if pending > 0 && checksums_match {
        problems.push(format!(
            "the database is behind: {pending} migration(s) pending, from {} on; run `codegen db upgrade`",
            expected[applied.len()].0
        ));
    }
    for id in interrupted {
        problems.push(format!(
            "migration {id} is half-applied (an interrupted run); `codegen db upgrade` resumes it"
        ));
    }
    Assessment {
        current: applied.last().map(|(id, _)| id.clone()),
        pending,
        checksums_match,
        problems,
    }
}

fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}

/// Checks the database through `pool` within `timeout`; `target` names the database in
/// messages (password hidden).
pub async fn check(
    pool: &Pool,
    target: &str,
    expected: &[(&str, &str)],
    timeout: Duration,
) -> Health {
    match tokio::time::timeout(timeout, read(pool, target, expected)).await {
        Ok(Ok(health)) => health,
        Ok(Err(why)) => Health::unreachable(expected, why),
        Err(_) => Health::unreachable(
            expected,
            format!(
                "the database at {target} did not answer within {} ms",
                timeout.as_millis()
            ),
        ),
    }
}

async fn read(pool: &Pool, target: &str, expected: &[(&str, &str)]) -> Result<Health, String> {
    let client = pool.get().await.map_err(|e| {
        format!(
            "cannot get a database connection to {target}: {}",
            pool_error(&e)
        )
    })?;
    let started = Instant::now();
    client
        .simple_query("SELECT 1")
        .await
        .map_err(|e| format!("the database does not answer: {e}"))?;
    let round_trip = started.elapsed();
    let fail = |e: tokio_postgres::Error| format!("cannot read the migration history: {e}");
    let row = client
        .query_one(
            "SELECT current_setting('server_version'),
                    to_regclass('codegen.migrations') IS NOT NULL,
                    to_regclass('codegen.migration_progress') IS NOT NULL",
            &[],
        )
        .await
        .map_err(fail)?;
    let server_version: String = row.get(0);
    let applied: Vec<(String, String)> = if row.get::<_, bool>(1) {
        client
            .query(
                "SELECT id, checksum FROM codegen.migrations ORDER BY number",
                &[],
            )
            .await
            .map_err(fail)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    } else {
        Vec::new()
    };
    let interrupted: Vec<String> = if row.get::<_, bool>(2) {
        client
            .query(
                "SELECT id || '.' || direction || '.sql' FROM codegen.migration_progress ORDER BY number",
                &[],
            )
            .await
            .map_err(fail)?
            .iter()
            .map(|r| r.get(0))
            .collect()
    } else {
        Vec::new()
    };
    let assessment = assess(&applied, &interrupted, expected);
    Ok(Health {
        status: if assessment.problems.is_empty() {
            "ok"
        } else {
            "unavailable"
        },
        database: "reachable",
        server_version: Some(server_version),
        round_trip_ms: Some((round_trip.as_secs_f64() * 1_000_000.0).round() / 1_000.0),
        current_migration: assessment.current,
        expected_migration: expected.last().map(|(id, _)| (*id).to_string()),
        pending: Some(assessment.pending),
        checksums: if assessment.checksums_match {
            "ok"
        } else {
            "mismatch"
        },
        problems: assessment.problems,
    })
}

/// A pool error with its cause (the connection error names the server, password hidden).
fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: &[(&str, &str)] = &[("0001_a", "aaaa"), ("0002_b", "bbbb"), ("0003_c", "cccc")];

    fn applied(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
            .collect()
    }

    #[test]
    fn current_is_healthy_and_ahead_is_too() {
        let at_head = assess(&applied(EXPECTED), &[], EXPECTED);
        assert_eq!(at_head.problems, Vec::<String>::new());
        assert_eq!(at_head.current.as_deref(), Some("0003_c"));
        let mut ahead = EXPECTED.to_vec();
        ahead.push(("0004_d", "dddd"));
        let ahead = assess(&applied(&ahead), &[], EXPECTED);
        assert!(ahead.problems.is_empty() && ahead.pending == 0, "{ahead:?}");
    }

    #[test]
    fn behind_edited_diverged_and_half_applied_are_problems() {
        let behind = assess(&applied(&EXPECTED[..1]), &[], EXPECTED);
        assert_eq!(behind.pending, 2);
        assert!(
            behind.problems[0].contains("behind: 2 migration(s) pending, from 0002_b on"),
            "{behind:?}"
        );
        let edited = assess(&applied(&[("0001_a", "zzzz")]), &[], EXPECTED);
        assert!(
            !edited.checksums_match && edited.problems[0].contains("was edited"),
            "{edited:?}"
        );
        let diverged = assess(&applied(&[("0001_x", "aaaa")]), &[], EXPECTED);
        assert!(
            diverged.problems[0].contains("the histories differ"),
            "{diverged:?}"
        );
        let half = assess(&applied(EXPECTED), &["0004_d.up.sql".to_string()], EXPECTED);
        assert!(
            half.problems[0].contains("0004_d.up.sql is half-applied"),
            "{half:?}"
        );
    }
}
