//! Token buckets for the rate throttles: integer arithmetic, no division, no clock read.

use super::Rate;

/// Nano-tokens per token: refill adds `rate` nano-tokens per elapsed nanosecond, so a rate in
/// tokens per second needs no division.
pub(crate) const UNIT: u64 = 1_000_000_000;

/// A token bucket of `burst` tokens refilling at `per_second`. Time comes from the caller
/// (the intent's decision time); time going backwards refills nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TokenBucket {
    tokens: u64,
    cap: u64,
    rate: u64,
    last: i64,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(rate: Rate) -> TokenBucket {
        let cap = rate.burst.saturating_mul(UNIT);
        TokenBucket { tokens: cap, cap, rate: rate.per_second, last: i64::MIN }
    }

    /// Changes rate and burst, keeping the tokens it has (up to the new burst).
    pub(crate) fn set(&mut self, rate: Rate) {
        self.cap = rate.burst.saturating_mul(UNIT);
        self.rate = rate.per_second;
        self.tokens = self.tokens.min(self.cap);
    }

    /// Fills the bucket (operator reset).
    pub(crate) fn fill(&mut self) {
        self.tokens = self.cap;
    }

    /// Nano-tokens available at `now` (a token is [`UNIT`]).
    #[inline(always)]
    pub(crate) fn level(&self, now: i64) -> u64 {
        if now <= self.last {
            return self.tokens;
        }
        let dt = now.abs_diff(self.last);
        self.tokens.saturating_add(dt.saturating_mul(self.rate)).min(self.cap)
    }

    /// Whether a token is available at `now`.
    #[cfg(test)]
    pub(crate) fn has(&self, now: i64) -> bool {
        self.level(now) >= UNIT
    }

    /// Takes a token given the `level` just read at `now` (at least [`UNIT`]).
    #[inline(always)]
    pub(crate) fn consume(&mut self, level: u64, now: i64) {
        self.tokens = level.saturating_sub(UNIT);
        if now > self.last {
            self.last = now;
        }
    }

    /// Takes a token if one is available at `now`; returns whether it did.
    #[inline]
    pub(crate) fn take(&mut self, now: i64) -> bool {
        let level = self.level(now);
        if now > self.last {
            self.last = now;
        }
        if level >= UNIT {
            self.tokens = level - UNIT;
            true
        } else {
            self.tokens = level;
            false
        }
    }

    /// Whole tokens available at `now`.
    #[cfg(test)]
    pub(crate) fn available(&self, now: i64) -> u64 {
        self.level(now) / UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_at_rate() {
        let mut b = TokenBucket::new(Rate { per_second: 1_000, burst: 3 });
        for _ in 0..3 {
            assert!(b.take(10));
        }
        assert!(!b.has(10), "burst of 3 spent");
        assert!(!b.take(10));
        assert!(!b.has(10 + 999_999), "1000/s: one token per millisecond");
        assert!(b.take(10 + 1_000_000));
        assert_eq!(b.available(10 + 1_000_000), 0);
        assert_eq!(b.available(i64::MAX), 3, "refill caps at the burst");
        assert!(!b.take(5), "time going backwards refills nothing");
        let mut zero = TokenBucket::new(Rate { per_second: 0, burst: 0 });
        assert!(!zero.take(i64::MAX));
        b.set(Rate { per_second: 1, burst: 1 });
        b.fill();
        assert_eq!(b.available(0), 1);
    }
}
