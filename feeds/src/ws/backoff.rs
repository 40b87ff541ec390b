//! Reconnect pacing: exponential backoff with jitter, and a sliding-window cap on attempts.

use std::collections::VecDeque;
use std::time::Duration;

use tickline_engine::types::Nanos;

/// Exponential backoff with "equal jitter": attempt `n` waits a uniformly random time in
/// `[d/2, d]` where `d = min(max, min · 2^n)`. The jitter keeps many clients that lost the same
/// venue at the same moment from reconnecting in lockstep; the floor of `d/2` keeps the
/// growth.
#[derive(Clone, Debug)]
pub struct Backoff {
    min_ns: u64,
    max_ns: u64,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    /// Backoff between `min` and `max`, jitter seeded with `seed` (any value).
    pub fn new(min: Duration, max: Duration, seed: u64) -> Backoff {
        let min_ns = u64::try_from(min.as_nanos()).unwrap_or(u64::MAX).max(1);
        let max_ns = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX).max(min_ns);
        Backoff { min_ns, max_ns, attempt: 0, rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1 }
    }

    /// Failed attempts since the last [`Backoff::reset`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Forgets earlier failures (after a connection proved healthy).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The wait before the next attempt, counting one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let shift = self.attempt.min(40);
        self.attempt = self.attempt.saturating_add(1);
        let d = self.min_ns.saturating_mul(1u64 << shift).min(self.max_ns);
        let half = d / 2;
        // xorshift64*: no dependency, and jitter needs no cryptographic quality.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        Duration::from_nanos(half + r % (d - half + 1))
    }
}

/// At most `max` events in any `window`: the venue's connection or subscription rate limit.
#[derive(Clone, Debug)]
pub struct RateWindow {
    max: usize,
    window_ns: i64,
    times: VecDeque<Nanos>,
}

impl RateWindow {
    /// A limit of `max` events per `window` (`max` 0 = unlimited).
    pub fn new(max: u32, window: Duration) -> RateWindow {
        let max = max as usize;
        RateWindow {
            max,
            window_ns: i64::try_from(window.as_nanos()).unwrap_or(i64::MAX),
            times: VecDeque::with_capacity(max.min(4_096)),
        }
    }

    fn expire(&mut self, now: Nanos) {
        while self.times.front().is_some_and(|t| now.since(*t) >= self.window_ns as u64) {
            self.times.pop_front();
        }
    }

    /// When the next event may happen: `now` if allowed now.
    pub fn next_allowed(&mut self, now: Nanos) -> Nanos {
        if self.max == 0 {
            return now;
        }
        self.expire(now);
        if self.times.len() < self.max {
            return now;
        }
        self.times.front().map_or(now, |t| t.add_nanos(self.window_ns))
    }

    /// Takes one event if the limit allows it now.
    pub fn try_take(&mut self, now: Nanos) -> bool {
        if self.next_allowed(now) > now {
            return false;
        }
        if self.max > 0 {
            self.times.push_back(now);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2), 7);
        let mut ceiling = 100u64;
        for _ in 0..10 {
            let d = b.next_delay().as_millis() as u64;
            assert!(d >= ceiling / 2 && d <= ceiling, "{d} not in [{}, {ceiling}]", ceiling / 2);
            ceiling = (ceiling * 2).min(2_000);
        }
        assert_eq!(b.attempt(), 10);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
        // Different seeds spread the same attempt.
        let spread: std::collections::HashSet<_> = (0..20)
            .map(|s| Backoff::new(Duration::from_secs(1), Duration::from_secs(1), s).next_delay())
            .collect();
        assert!(spread.len() > 10);
    }

    #[test]
    fn rate_window_caps_events_per_window() {
        let sec = 1_000_000_000;
        let mut w = RateWindow::new(3, Duration::from_secs(1));
        let t0 = Nanos(10 * sec);
        assert!(w.try_take(t0) && w.try_take(t0) && w.try_take(t0.add_nanos(10)));
        assert!(!w.try_take(t0.add_nanos(20)));
        assert_eq!(w.next_allowed(t0.add_nanos(20)), t0.add_nanos(sec));
        assert!(w.try_take(t0.add_nanos(sec)));
        let mut free = RateWindow::new(0, Duration::from_secs(1));
        assert!((0..1000).all(|_| free.try_take(t0)));
    }
}
