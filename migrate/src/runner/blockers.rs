//! Who is in the way: while a step runs, a second connection watches the runner's session and
//! remembers which sessions block it (`pg_blocking_pids`). When the step gives up on a lock, the
//! runner can name them. The waiting statement cannot ask itself: it is blocked, and once its
//! lock timeout fires the wait (and with it the answer) is gone.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::Client;

/// A session that held a lock the runner waited for.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocker {
    pub pid: i32,
    pub application_name: String,
    pub user: String,
    /// `active`, `idle in transaction`, ...
    pub state: String,
    /// How long its transaction had been open, in seconds, when it was seen.
    pub transaction_seconds: Option<f64>,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let application = if self.application_name.is_empty() {
            "no application name".to_string()
        } else {
            format!("application `{}`", self.application_name.escape_debug())
        };
        write!(
            f,
            "pid {} ({application}, user `{}`, {}",
            self.pid,
            self.user.escape_debug(),
            if self.state.is_empty() {
                "state unknown"
            } else {
                &self.state
            }
        )?;
        match self.transaction_seconds {
            Some(seconds) => write!(f, ", transaction open for {seconds:.1}s)"),
            None => write!(f, ", no open transaction)"),
        }
    }
}

/// What the watch saw last while the runner was blocked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sighting {
    pub blockers: Vec<Blocker>,
    /// The locks the runner was waiting for, e.g. `AccessExclusiveLock on public.cases`.
    pub waiting_for: Vec<String>,
}

impl Sighting {
    /// One line for messages: who blocks, and on what.
    pub fn describe(&self) -> String {
        if self.blockers.is_empty() {
            return "no blocking session was seen (it may have ended just before the timeout)"
                .to_string();
        }
        let blockers: Vec<String> = self.blockers.iter().map(Blocker::to_string).collect();
        let waiting = if self.waiting_for.is_empty() {
            String::new()
        } else {
            format!(" (waiting for {})", self.waiting_for.join(", "))
        };
        format!("blocked by {}{waiting}", blockers.join("; "))
    }
}

const SIGHTING_QUERY: &str = "
    SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''),
           coalesce(a.state, ''),
           extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
           ARRAY(SELECT l.mode || ' on ' || coalesce(l.relation::regclass::text, l.locktype)
                   FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted)
      FROM unnest(pg_blocking_pids($1)) AS b(pid)
      JOIN pg_stat_activity a ON a.pid = b.pid
     ORDER BY a.xact_start NULLS LAST, a.pid";

/// A watch over one session, on a connection of its own, in a thread of its own.
#[derive(Debug)]
pub struct Watch {
    stop: Sender<()>,
    thread: JoinHandle<(Client, Sighting)>,
}

impl Watch {
    /// Starts sampling `pid`'s blockers every `interval`.
    pub fn start(mut client: Client, pid: i32, interval: Duration) -> Watch {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut last = Sighting::default();
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                // A failed sample (the watch connection broke) only loses the names.
                if let Ok(rows) = client.query(SIGHTING_QUERY, &[&pid])
                    && !rows.is_empty()
                {
                    last = Sighting {
                        waiting_for: rows[0].get(5),
                        blockers: rows
                            .iter()
                            .map(|row| Blocker {
                                pid: row.get(0),
                                application_name: row.get(1),
                                user: row.get(2),
                                state: row.get(3),
                                transaction_seconds: row.get(4),
                            })
                            .collect(),
                    };
                }
            }
            (client, last)
        });
        Watch { stop, thread }
    }

    /// Stops the watch; returns its connection (for the next step) and the last sighting.
    pub fn stop(self) -> Option<(Client, Sighting)> {
        let _ = self.stop.send(());
        self.thread.join().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sighting_names_each_blocker_and_the_lock() {
        let sighting = Sighting {
            blockers: vec![
                Blocker {
                    pid: 4242,
                    application_name: "report".to_string(),
                    user: "dental_user".to_string(),
                    state: "idle in transaction".to_string(),
                    transaction_seconds: Some(15.04),
                },
                Blocker {
                    pid: 7,
                    application_name: String::new(),
                    user: "ops".to_string(),
                    state: "active".to_string(),
                    transaction_seconds: None,
                },
            ],
            waiting_for: vec!["AccessExclusiveLock on cases".to_string()],
        };
        assert_eq!(
            sighting.describe(),
            "blocked by pid 4242 (application `report`, user `dental_user`, idle in transaction, transaction open for 15.0s); pid 7 (no application name, user `ops`, active, no open transaction) (waiting for AccessExclusiveLock on cases)"
        );
        assert!(
            Sighting::default()
                .describe()
                .contains("no blocking session")
        );
    }
}
