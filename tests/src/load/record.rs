//! What the workload did, and the check that no acknowledged write was lost.

use std::collections::BTreeMap;
use std::time::Duration;

use postgres::Client;
use uuid::Uuid;

use super::{Record, TABLES};

/// Latency figures of a set of operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latencies {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latencies {
    pub fn of(mut latencies: Vec<Duration>) -> Latencies {
        if latencies.is_empty() {
            return Latencies::default();
        }
        latencies.sort_unstable();
        let at = |q: f64| {
            let rank = (q * latencies.len() as f64).ceil() as usize;
            latencies[rank.clamp(1, latencies.len()) - 1]
        };
        Latencies {
            count: latencies.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: latencies[latencies.len() - 1],
        }
    }
}

/// What [`Record::verify`] found missing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Acknowledged rows checked.
    pub rows: usize,
    /// Acknowledged rows absent, or holding an older version than the last acknowledged one:
    /// `(table, id, expected version, found)`.
    pub lost: Vec<(&'static str, Uuid, String, Option<String>)>,
    /// Rows with fewer `insert`/`update` audit rows than acknowledged writes:
    /// `(table, id, acknowledged writes, audit rows)`.
    pub missing_audit: Vec<(&'static str, Uuid, u32, i64)>,
}

impl Verification {
    pub fn lost_writes(&self) -> usize {
        self.lost.len() + self.missing_audit.len()
    }
}

/// The SQL expression reading a table's version field as text.
fn version_expression(table: &str) -> &'static str {
    match table {
        "users" => "full_name",
        "cases" => "tags->>0",
        "files" => "processing_metadata->>'v'",
        "jobs" => "parameters->>'v'",
        "segments" => "properties->>'v'",
        "models" => "metrics->>'v'",
        other => panic!("no version field in {other}"),
    }
}

impl Record {
    /// Latencies of the operations that ran at some time between `from` and `to` (since the
    /// load started), the long reader's included.
    pub fn latencies(&self, from: Duration, to: Duration) -> Latencies {
        Latencies::of(
            self.ops
                .iter()
                .filter(|op| op.overlaps(from, to))
                .map(|op| op.latency)
                .collect(),
        )
    }

    /// Latencies of every operation.
    pub fn all_latencies(&self) -> Latencies {
        Latencies::of(self.ops.iter().map(|op| op.latency).collect())
    }

    /// Errors of operations that ran at some time between `from` and `to`.
    pub fn errors_between(&self, from: Duration, to: Duration) -> usize {
        self.errors
            .iter()
            .filter(|e| e.start <= to && e.start + e.latency >= from)
            .count()
    }

    /// Acknowledged writes (inserts and updates).
    pub fn acked_writes(&self) -> u64 {
        self.acked.values().map(|a| u64::from(a.writes)).sum()
    }

    /// Reads back every acknowledged row: present, with its last acknowledged version, and with
    /// at least one `insert`/`update` audit row per acknowledged write.
    pub fn verify(&self, client: &mut Client) -> Result<Verification, postgres::Error> {
        let mut verification = Verification::default();
        for table in TABLES.into_iter().filter(|t| *t != "audit_logs") {
            let ids: Vec<Uuid> = self
                .acked
                .keys()
                .filter(|(t, _)| *t == table)
                .map(|(_, id)| *id)
                .collect();
            let found: BTreeMap<Uuid, Option<String>> = client
                .query(
                    &format!(
                        "SELECT id, {} FROM {table} WHERE id = ANY($1)",
                        version_expression(table)
                    ),
                    &[&ids],
                )?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            let audited: BTreeMap<Uuid, i64> = client
                .query(
                    "SELECT resource_id, count(*) FROM audit_logs
                      WHERE resource_type = $1 AND resource_id = ANY($2)
                        AND action IN ('insert', 'update')
                      GROUP BY resource_id",
                    &[&table, &ids],
                )?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            for id in ids {
                let acked = &self.acked[&(table, id)];
                let expected = format!("v{}", acked.version);
                verification.rows += 1;
                match found.get(&id) {
                    Some(Some(value)) if *value == expected => {}
                    other => {
                        verification
                            .lost
                            .push((table, id, expected, other.cloned().flatten()))
                    }
                }
                let audit_rows = audited.get(&id).copied().unwrap_or(0);
                if audit_rows < i64::from(acked.writes) {
                    verification
                        .missing_audit
                        .push((table, id, acked.writes, audit_rows));
                }
            }
        }
        Ok(verification)
    }
}
