//! Waiting between attempts of a step that timed out on a lock: growing waits, so a blocker that
//! lingers is not hammered, with jitter, so two runners (or a runner and a cron job) that collided
//! once do not collide again in lock step.

use std::hash::BuildHasher;
use std::time::Duration;

/// The longest wait between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The waits between attempts: doubling from a start, capped, each jittered by ±25%.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    draws: u64,
}

impl Backoff {
    /// Waits starting at twice the lock timeout, and at least half a second: long enough for a
    /// short transaction in the way to finish, short enough not to waste the budget.
    pub fn new(lock_timeout: Duration) -> Backoff {
        Backoff {
            next: (lock_timeout * 2).max(Duration::from_millis(500)),
            draws: 0,
        }
    }

    /// The wait before the next attempt.
    pub fn next_wait(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(MAX_WAIT);
        self.draws += 1;
        base.mul_f64(0.75 + 0.5 * unit_random(self.draws))
    }
}

/// A number in [0, 1) that differs between processes and draws: the standard library's
/// randomly keyed hasher is enough for jitter, which needs no strength.
fn unit_random(draw: u64) -> f64 {
    let bits = std::collections::hash_map::RandomState::new().hash_one(draw);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_within_jitter_and_stop_growing_at_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(250));
        let mut base = Duration::from_millis(500);
        for _ in 0..12 {
            let wait = backoff.next_wait();
            assert!(
                wait >= base.mul_f64(0.75) && wait <= base.mul_f64(1.25),
                "{wait:?} not within 25% of {base:?}"
            );
            base = (base * 2).min(MAX_WAIT);
        }
        assert_eq!(base, MAX_WAIT);
    }

    #[test]
    fn jitter_varies() {
        let waits: std::collections::BTreeSet<Duration> = (0..20)
            .map(|_| Backoff::new(Duration::from_secs(1)).next_wait())
            .collect();
        assert!(waits.len() > 1, "{waits:?}");
    }
}
