//! Reconnect delays: exponential from 1 s to 60 s, with ±25 % jitter so that many neighbors
//! (or many injectors) do not reconnect in step.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

pub const INITIAL: Duration = Duration::from_secs(1);
pub const MAXIMUM: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    random: RandomState,
    draws: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: INITIAL,
            random: RandomState::new(),
            draws: 0,
        }
    }
}

impl Backoff {
    /// The delay before the next attempt; each call doubles the one after, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(MAXIMUM);
        // Jitter in [-25 %, +25 %] from a randomly keyed hash (no RNG dependency needed).
        self.draws += 1;
        let mut h = self.random.build_hasher();
        h.write_u64(self.draws);
        let unit = (h.finish() % 1001) as f64 / 1000.0; // 0.0 ..= 1.0
        base.mul_f64(0.75 + unit * 0.5)
    }

    /// After a session that came up: start again from the initial delay.
    pub fn reset(&mut self) {
        self.next = INITIAL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::default();
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        assert!(
            delays[0] >= Duration::from_millis(750) && delays[0] <= Duration::from_millis(1250)
        );
        assert!(
            delays[1] >= Duration::from_millis(1500) && delays[1] <= Duration::from_millis(2500)
        );
        for d in &delays[6..] {
            assert!(
                *d >= MAXIMUM.mul_f64(0.75) && *d <= MAXIMUM.mul_f64(1.25),
                "{d:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(1250));
    }
}
