//! The last-line throttle: at most `limit` messages in any `window`, the venue's own message
//! limit. A sliding window over the last `limit` send times (a ring, allocated once), so the
//! check is one comparison.

/// Sliding-window message limit.
#[derive(Debug)]
pub struct Throttle {
    stamps: Vec<i64>,
    head: usize,
    window: i64,
}

impl Throttle {
    /// `limit` messages per `window_ns`; a limit of 0 turns the throttle off.
    pub fn new(limit: u32, window_ns: i64) -> Throttle {
        Throttle { stamps: vec![i64::MIN; limit as usize], head: 0, window: window_ns.max(0) }
    }

    /// Whether one more message may go at `now`.
    #[inline]
    pub fn allows(&self, now: i64) -> bool {
        // The oldest of the last `limit` sends must have left the window.
        self.stamps.get(self.head).is_none_or(|&t| t <= now.saturating_sub(self.window))
    }

    /// Records a message sent at `now`.
    #[inline]
    pub fn record(&mut self, now: i64) {
        if let Some(t) = self.stamps.get_mut(self.head) {
            *t = now;
            self.head += 1;
            if self.head == self.stamps.len() {
                self.head = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_limit_per_window() {
        let mut t = Throttle::new(3, 1_000);
        for now in [0, 10, 20] {
            assert!(t.allows(now));
            t.record(now);
        }
        assert!(!t.allows(30));
        assert!(!t.allows(999));
        assert!(t.allows(1_000), "the first send left the window");
        t.record(1_000);
        assert!(!t.allows(1_005));
        assert!(t.allows(1_010));
        let off = Throttle::new(0, 1_000);
        assert!(off.allows(0));
    }
}
