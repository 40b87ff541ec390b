//! Open-loop pacing for generated and replayed feeds: event `k` is due at `start + k / rate`
//! (`start` being the first poll's clock read) and is stamped with that due time as its
//! receive time, so a pipeline that falls behind shows the delay in its tick-to-order latency
//! instead of hiding it (no coordinated omission). At rate 0 every event is due at once and
//! stamped with the poll's clock read.

use tickline_engine::types::Nanos;

/// The due time of a paced source's next event.
#[derive(Clone, Copy, Debug)]
pub struct Pacer {
    rate: u64,
    /// Whole nanoseconds between two events.
    step_ns: i64,
    /// The rest of `1e9 / rate`, in `1/rate` ns.
    step_rem: u64,
    /// Due time of the next event; `None` before the first poll.
    due: Option<Nanos>,
    /// Accumulated remainder, in `1/rate` ns (below `rate`).
    rem: u64,
}

impl Pacer {
    /// `rate` events per second; 0: unpaced.
    pub fn new(rate: u64) -> Pacer {
        Pacer {
            rate,
            step_ns: 1_000_000_000u64.checked_div(rate).unwrap_or(0) as i64,
            step_rem: 1_000_000_000u64.checked_rem(rate).unwrap_or(0),
            due: None,
            rem: 0,
        }
    }

    /// The next event's receive stamp if it is due at `now` (its due time; `now` unpaced),
    /// or `None` if it is not due yet. Call [`Pacer::advance`] once the event is produced.
    #[inline]
    pub fn due(&mut self, now: Nanos) -> Option<Nanos> {
        if self.rate == 0 {
            return Some(now);
        }
        let due = *self.due.get_or_insert(now);
        (due <= now).then_some(due)
    }

    /// When the next event falls due, if paced and started: before it, [`Pacer::due`]
    /// returns `None`.
    #[inline]
    pub fn next_due(&self) -> Option<Nanos> {
        self.due.filter(|_| self.rate != 0)
    }

    /// The event [`Pacer::due`] returned was produced: the next is due `1 / rate` later,
    /// exactly (the remainder is carried, so there is no drift and no division per event).
    #[inline]
    pub fn advance(&mut self) {
        let Some(due) = self.due else { return };
        self.rem += self.step_rem;
        // Both terms are below `rate`, so the carry is 0 or 1.
        let carry = u64::from(self.rem >= self.rate);
        self.rem -= carry * self.rate;
        self.due = Some(due.add_nanos(self.step_ns + carry as i64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_due_answers_as_due_would() {
        let mut p = Pacer::new(1_000); // one event a millisecond
        assert_eq!(p.next_due(), None, "not started: the first poll starts the grid");
        assert_eq!(p.due(Nanos(5)), Some(Nanos(5)));
        p.advance();
        assert_eq!(p.next_due(), Some(Nanos(1_000_005)));
        for now in [5, 1_000_004] {
            assert_eq!(p.due(Nanos(now)), None);
        }
        assert_eq!(p.due(Nanos(1_000_005)), Some(Nanos(1_000_005)));
        let mut unpaced = Pacer::new(0);
        assert_eq!(unpaced.next_due(), None, "unpaced: always due");
        assert_eq!(unpaced.due(Nanos(1)), Some(Nanos(1)));
        unpaced.advance();
        assert_eq!(unpaced.next_due(), None);
    }

    #[test]
    fn three_per_second_stay_on_the_exact_grid() {
        let mut p = Pacer::new(3);
        let start = Nanos(1_000);
        assert_eq!(p.due(start), Some(start), "the first poll sets the start");
        let mut stamps = Vec::new();
        for _ in 0..7 {
            // Far behind: every event is due, each stamped with its own due time.
            stamps.push(p.due(Nanos(i64::MAX / 2)).unwrap().0);
            p.advance();
        }
        assert_eq!(stamps[0], start.0);
        let gaps: Vec<i64> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(
            gaps,
            [333_333_333, 333_333_333, 333_333_334, 333_333_333, 333_333_333, 333_333_334]
        );
    }

    #[test]
    fn not_due_before_its_time_and_unpaced_always_due() {
        let mut p = Pacer::new(1_000_000);
        assert_eq!(p.due(Nanos(10)), Some(Nanos(10)));
        p.advance();
        assert_eq!(p.due(Nanos(1_009)), None);
        assert_eq!(p.due(Nanos(1_010)), Some(Nanos(1_010)));
        let mut u = Pacer::new(0);
        assert_eq!(u.due(Nanos(5)), Some(Nanos(5)));
        u.advance();
        assert_eq!(u.due(Nanos(6)), Some(Nanos(6)));
    }
}
