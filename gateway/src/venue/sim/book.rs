//! The simulated exchange's view of one instrument's book.
//!
//! The pipeline hands venues top-of-book quotes and trades (`Tick`), not depth. The book is
//! rebuilt from them: a quote sets the touch on each side and removes levels better than it
//! (they traded or were pulled); levels behind the touch keep the size last seen when they
//! were the touch. An L2-aware caller can replace a side outright with
//! [`SimBook::set_side`]. Our own marketable orders take liquidity out of this book, so two
//! orders cannot take the same lots before the next quote says what is left.

use tickline_engine::types::{Level, Px, Qty, Side};

/// One side's levels, best first, at most `depth` of them. Storage is allocated once.
#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    levels: Vec<Level>,
    depth: usize,
    /// Bids: better means higher. Asks: lower.
    bids: bool,
}

impl Ladder {
    fn new(bids: bool, depth: usize) -> Ladder {
        Ladder { levels: Vec::with_capacity(depth + 1), depth, bids }
    }

    /// Whether `a` is a better price than `b` on this side.
    #[inline]
    fn better(&self, a: Px, b: Px) -> bool {
        if self.bids {
            a > b
        } else {
            a < b
        }
    }

    /// The best level.
    #[inline]
    pub(crate) fn best(&self) -> Option<Level> {
        self.levels.first().copied()
    }

    /// Size shown at `px`, zero if no level there.
    #[inline]
    pub(crate) fn qty_at(&self, px: Px) -> Qty {
        self.levels.iter().find(|l| l.px == px).map_or(Qty::ZERO, |l| l.qty)
    }

    /// Levels, best first.
    #[cfg(test)]
    pub(crate) fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// A new touch: drops better levels, sets (or inserts) this one.
    fn set_touch(&mut self, touch: Level) {
        if !touch.qty.is_positive() || !touch.px.is_positive() {
            // An empty side.
            self.levels.clear();
            return;
        }
        let drop = self.levels.iter().take_while(|l| self.better(l.px, touch.px)).count();
        self.levels.drain(..drop);
        match self.levels.first_mut() {
            Some(l) if l.px == touch.px => l.qty = touch.qty,
            _ => {
                if self.levels.len() >= self.depth {
                    self.levels.pop();
                }
                self.levels.insert(0, touch);
            }
        }
    }

    /// Removes levels at or through `px` from the opposite side's touch (a crossed remnant),
    /// keeping the touch itself.
    fn uncross(&mut self, opposite_touch: Px) {
        let bids = self.bids;
        let mut i = 1;
        while i < self.levels.len() {
            let px = self.levels[i].px;
            let crossed = if bids { px >= opposite_touch } else { px <= opposite_touch };
            if crossed {
                self.levels.remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Replaces the whole side (best first; levels with no size are skipped).
    pub(crate) fn set(&mut self, levels: &[Level]) {
        self.levels.clear();
        for l in levels.iter().filter(|l| l.qty.is_positive()).take(self.depth) {
            self.levels.push(*l);
        }
    }

    /// Takes up to `qty` from levels priced no worse than `limit` for a taker, best first,
    /// calling `fill(px, qty)` per level. Returns the quantity taken.
    pub(crate) fn take(&mut self, limit: Px, qty: Qty, mut fill: impl FnMut(Px, Qty)) -> Qty {
        let mut left = qty.raw();
        let mut taken = 0;
        while left > 0 {
            let Some(l) = self.levels.first_mut() else { break };
            let reachable = if self.bids { l.px >= limit } else { l.px <= limit };
            if !reachable {
                break;
            }
            let n = left.min(l.qty.raw());
            fill(l.px, Qty::from_raw(n));
            left -= n;
            taken += n;
            l.qty = Qty::from_raw(l.qty.raw() - n);
            if !l.qty.is_positive() {
                self.levels.remove(0);
            }
        }
        Qty::from_raw(taken)
    }

    /// Quantity available to a taker up to `limit`.
    pub(crate) fn available(&self, limit: Px) -> Qty {
        let reachable = |l: &&Level| if self.bids { l.px >= limit } else { l.px <= limit };
        Qty::from_raw(self.levels.iter().take_while(reachable).map(|l| l.qty.raw()).sum())
    }
}

/// Both sides of one instrument.
#[derive(Clone, Debug)]
pub(crate) struct SimBook {
    pub(crate) bids: Ladder,
    pub(crate) asks: Ladder,
}

impl SimBook {
    pub(crate) fn new(depth: usize) -> SimBook {
        SimBook { bids: Ladder::new(true, depth), asks: Ladder::new(false, depth) }
    }

    /// A top-of-book quote.
    pub(crate) fn on_quote(&mut self, bid: Level, ask: Level) {
        self.bids.set_touch(bid);
        self.asks.set_touch(ask);
        if let Some(a) = self.asks.best() {
            self.bids.uncross(a.px);
        }
        if let Some(b) = self.bids.best() {
            self.asks.uncross(b.px);
        }
    }

    /// The side a resting order of `side` joins.
    #[inline]
    pub(crate) fn own(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// The side an order of `side` takes from.
    #[inline]
    pub(crate) fn opposite_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.asks,
            Side::Sell => &mut self.bids,
        }
    }

    /// The side an order of `side` takes from.
    #[inline]
    pub(crate) fn opposite(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        }
    }

    /// Replaces one side (an L2 snapshot).
    pub(crate) fn set_side(&mut self, side: Side, levels: &[Level]) {
        match side {
            Side::Buy => self.bids.set(levels),
            Side::Sell => self.asks.set(levels),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(px: i64, qty: i64) -> Level {
        Level { px: Px::from_raw(px), qty: Qty::from_raw(qty) }
    }

    #[test]
    fn quotes_build_depth_behind_the_touch() {
        let mut b = SimBook::new(4);
        b.on_quote(l(100, 5), l(101, 7));
        // The market moves up: 100 stays as the second bid with its last size; 101 traded.
        b.on_quote(l(101, 3), l(102, 4));
        assert_eq!(b.bids.levels(), &[l(101, 3), l(100, 5)]);
        assert_eq!(b.asks.levels(), &[l(102, 4)]);
        // Down again: bids better than the new touch are gone; asks deepen.
        b.on_quote(l(99, 2), l(100, 6));
        assert_eq!(b.bids.levels(), &[l(99, 2)]);
        assert_eq!(b.asks.levels(), &[l(100, 6), l(102, 4)]);
        assert_eq!(b.asks.qty_at(Px::from_raw(102)), Qty::from_raw(4));
        // Depth is capped.
        for p in [98, 97, 96, 95, 94] {
            b.on_quote(l(p, 1), l(100, 6));
        }
        assert_eq!(b.bids.levels().len(), 1, "each lower touch drops the better ones");
        b.set_side(Side::Buy, &[l(98, 1), l(97, 2), l(96, 0), l(95, 3), l(94, 4), l(93, 5)]);
        assert_eq!(b.bids.levels(), &[l(98, 1), l(97, 2), l(95, 3), l(94, 4)]);
    }

    #[test]
    fn take_walks_levels_up_to_the_limit() {
        let mut b = SimBook::new(8);
        b.set_side(Side::Sell, &[l(101, 2), l(102, 3), l(103, 4)]);
        assert_eq!(b.opposite(Side::Buy).available(Px::from_raw(102)), Qty::from_raw(5));
        let mut fills = Vec::new();
        let got = b
            .opposite_mut(Side::Buy)
            .take(Px::from_raw(102), Qty::from_raw(6), |p, q| fills.push((p.raw(), q.raw())));
        assert_eq!(got, Qty::from_raw(5));
        assert_eq!(fills, vec![(101, 2), (102, 3)]);
        assert_eq!(b.asks.levels(), &[l(103, 4)]);
    }
}
