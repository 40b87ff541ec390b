//! A per-instrument L2 order book on fixed-point levels.
//!
//! Each side is a `Vec<Level>` sorted so that the best level is the *last* element: bids
//! ascending, asks descending. Venue updates cluster at the top, so an insert or delete
//! there moves only the few levels above it, and the best level is one load. The vectors are
//! preallocated to the side's level limit and never grow past it, so steady-state updates do
//! not allocate. A sorted array beats a tree here for the depths a venue sends (hundreds to a
//! few thousand levels): binary search over contiguous 16-byte levels, no node allocation.

use tickline_engine::types::{InstrumentId, Level, Px, Qty};

/// Default number of levels kept per side: above the 5,000 a Binance snapshot can hold.
pub const DEFAULT_MAX_LEVELS: usize = 8_192;

/// Bid or ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookSide {
    /// Buy orders.
    Bid,
    /// Sell orders.
    Ask,
}

/// One instrument's book: price → size on each side.
#[derive(Clone, Debug)]
pub struct OrderBook {
    instrument: InstrumentId,
    bids: Vec<Level>,
    asks: Vec<Level>,
    max_levels: usize,
    truncated: u64,
}

impl OrderBook {
    /// An empty book holding at most `max_levels` per side (at least 1), preallocated.
    pub fn new(instrument: InstrumentId, max_levels: usize) -> OrderBook {
        let max_levels = max_levels.max(1);
        OrderBook {
            instrument,
            bids: Vec::with_capacity(max_levels),
            asks: Vec::with_capacity(max_levels),
            max_levels,
            truncated: 0,
        }
    }

    /// The instrument.
    #[inline]
    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// Removes every level (keeps the allocation).
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// Sets the size at `px` on `side`: a size of zero deletes the level, and deleting a
    /// level that is not there is normal (the venue reports levels beyond our depth).
    ///
    /// When a side is full, a new level worse than every level kept is dropped and a new
    /// better one evicts the worst; both count in [`OrderBook::truncated`]. Returns whether
    /// the best level of that side changed.
    #[inline]
    pub fn apply(&mut self, side: BookSide, px: Px, qty: Qty) -> bool {
        let max = self.max_levels;
        let levels = match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        };
        let top_before = levels.last().copied();
        // Sorted worst → best: bids ascending, asks descending.
        let found = match side {
            BookSide::Bid => levels.binary_search_by(|l| l.px.cmp(&px)),
            BookSide::Ask => levels.binary_search_by(|l| px.cmp(&l.px)),
        };
        match found {
            Ok(i) => {
                if qty.is_zero() {
                    levels.remove(i);
                } else {
                    levels[i].qty = qty;
                }
            }
            Err(i) => {
                if qty.is_zero() {
                    return false;
                }
                let level = Level { px, qty };
                if levels.len() < max {
                    levels.insert(i, level);
                } else if i == 0 {
                    // Worse than everything kept.
                    self.truncated += 1;
                    return false;
                } else {
                    levels.remove(0);
                    levels.insert(i - 1, level);
                    self.truncated += 1;
                }
            }
        }
        top_before != levels.last().copied()
    }

    /// Replaces both sides with a snapshot's levels (any order; zero sizes skipped; a price
    /// given twice keeps its last size). A side longer than the limit keeps its best levels.
    /// Cold path: sorts once rather than inserting level by level.
    pub fn load(
        &mut self,
        bids: impl IntoIterator<Item = Level>,
        asks: impl IntoIterator<Item = Level>,
    ) {
        self.clear();
        self.truncated += load_side(&mut self.bids, BookSide::Bid, bids, self.max_levels);
        self.truncated += load_side(&mut self.asks, BookSide::Ask, asks, self.max_levels);
    }

    /// Best bid.
    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.last().copied()
    }

    /// Best ask.
    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.last().copied()
    }

    /// Whether the best bid is at or above the best ask.
    #[inline]
    pub fn is_crossed(&self) -> bool {
        matches!((self.best_bid(), self.best_ask()), (Some(b), Some(a)) if b.px >= a.px)
    }

    /// Bids, best first.
    pub fn bids(&self) -> impl ExactSizeIterator<Item = Level> + '_ {
        self.bids.iter().rev().copied()
    }

    /// Asks, best first.
    pub fn asks(&self) -> impl ExactSizeIterator<Item = Level> + '_ {
        self.asks.iter().rev().copied()
    }

    /// The size at `px` on `side`, if the level exists.
    pub fn qty_at(&self, side: BookSide, px: Px) -> Option<Qty> {
        let levels = match side {
            BookSide::Bid => &self.bids,
            BookSide::Ask => &self.asks,
        };
        let found = match side {
            BookSide::Bid => levels.binary_search_by(|l| l.px.cmp(&px)),
            BookSide::Ask => levels.binary_search_by(|l| px.cmp(&l.px)),
        };
        found.ok().map(|i| levels[i].qty)
    }

    /// Number of levels on a side.
    pub fn depth(&self, side: BookSide) -> usize {
        match side {
            BookSide::Bid => self.bids.len(),
            BookSide::Ask => self.asks.len(),
        }
    }

    /// Whether both sides are empty.
    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }

    /// Levels kept per side.
    pub fn max_levels(&self) -> usize {
        self.max_levels
    }

    /// Levels dropped or evicted because a side was full.
    pub fn truncated(&self) -> u64 {
        self.truncated
    }
}

/// Fills an empty side from unsorted levels; returns how many were cut by the limit.
fn load_side(
    levels: &mut Vec<Level>,
    side: BookSide,
    input: impl IntoIterator<Item = Level>,
    max_levels: usize,
) -> u64 {
    levels.extend(input.into_iter().filter(|l| !l.qty.is_zero()));
    // Stable: equal prices stay in input order, so after reversing, dedup keeps the last.
    match side {
        BookSide::Bid => levels.sort_by_key(|l| std::cmp::Reverse(l.px)),
        BookSide::Ask => levels.sort_by_key(|l| l.px),
    }
    // Now best → worst; reversed it is storage order (worst → best) with the last input first.
    levels.reverse();
    levels.dedup_by_key(|l| l.px);
    let excess = levels.len().saturating_sub(max_levels);
    levels.drain(..excess);
    excess as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn px(v: i64) -> Px {
        Px::from_raw(v)
    }
    fn q(v: i64) -> Qty {
        Qty::from_raw(v)
    }
    fn lvl(p: i64, s: i64) -> Level {
        Level { px: px(p), qty: q(s) }
    }

    #[test]
    fn insert_update_delete_and_top() {
        let mut b = OrderBook::new(InstrumentId(0), 16);
        assert!(b.best_bid().is_none() && b.best_ask().is_none());
        assert!(b.apply(BookSide::Bid, px(100), q(5)));
        assert!(b.apply(BookSide::Bid, px(101), q(1)));
        assert!(!b.apply(BookSide::Bid, px(99), q(7)));
        assert!(b.apply(BookSide::Ask, px(103), q(2)));
        assert!(b.apply(BookSide::Ask, px(102), q(3)));
        assert_eq!(b.best_bid(), Some(lvl(101, 1)));
        assert_eq!(b.best_ask(), Some(lvl(102, 3)));
        // Size change at the top is a top change.
        assert!(b.apply(BookSide::Ask, px(102), q(4)));
        // Deleting an unknown level is normal and changes nothing.
        assert!(!b.apply(BookSide::Bid, px(50), Qty::ZERO));
        assert!(b.apply(BookSide::Bid, px(101), Qty::ZERO));
        assert_eq!(b.best_bid(), Some(lvl(100, 5)));
        assert_eq!(b.bids().collect::<Vec<_>>(), vec![lvl(100, 5), lvl(99, 7)]);
        assert_eq!(b.asks().collect::<Vec<_>>(), vec![lvl(102, 4), lvl(103, 2)]);
        assert_eq!(b.qty_at(BookSide::Bid, px(99)), Some(q(7)));
        assert_eq!(b.qty_at(BookSide::Ask, px(99)), None);
        assert!(!b.is_crossed());
        b.apply(BookSide::Bid, px(102), q(1));
        assert!(b.is_crossed());
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn load_sorts_dedups_and_truncates() {
        let mut b = OrderBook::new(InstrumentId(0), 3);
        b.apply(BookSide::Bid, px(1), q(1));
        b.load(
            [lvl(100, 1), lvl(99, 2), lvl(98, 0), lvl(97, 3), lvl(101, 4), lvl(99, 5)],
            [lvl(103, 1), lvl(102, 2)],
        );
        assert_eq!(b.bids().collect::<Vec<_>>(), vec![lvl(101, 4), lvl(100, 1), lvl(99, 5)]);
        assert_eq!(b.asks().collect::<Vec<_>>(), vec![lvl(102, 2), lvl(103, 1)]);
        assert_eq!(b.truncated(), 1);
        // Updates keep working on a loaded book.
        assert!(b.apply(BookSide::Ask, px(101), q(9)));
        assert_eq!(b.best_ask(), Some(lvl(101, 9)));
    }

    #[test]
    fn full_side_keeps_the_best_levels() {
        let mut b = OrderBook::new(InstrumentId(0), 3);
        for p in [10, 11, 12] {
            b.apply(BookSide::Bid, px(p), q(1));
        }
        // Worse than all kept: dropped.
        assert!(!b.apply(BookSide::Bid, px(5), q(1)));
        assert_eq!(b.truncated(), 1);
        // Better: evicts the worst.
        assert!(b.apply(BookSide::Bid, px(13), q(1)));
        assert_eq!(b.bids().map(|l| l.px.raw()).collect::<Vec<_>>(), vec![13, 12, 11]);
        b.apply(BookSide::Bid, px(115), q(1));
        assert_eq!(b.depth(BookSide::Bid), 3);
        assert_eq!(b.truncated(), 3);
        for p in [30, 20, 25, 10] {
            b.apply(BookSide::Ask, px(p), q(1));
        }
        assert_eq!(b.asks().map(|l| l.px.raw()).collect::<Vec<_>>(), vec![10, 20, 25]);
    }

    proptest! {
        /// The book agrees with a BTreeMap model after any sequence of updates.
        #[test]
        fn matches_a_map_model(ops in proptest::collection::vec((any::<bool>(), 1i64..40, 0i64..4), 0..200)) {
            let mut b = OrderBook::new(InstrumentId(1), 1_000);
            let mut bids = BTreeMap::new();
            let mut asks = BTreeMap::new();
            for (is_bid, p, s) in ops {
                let (side, model) = if is_bid { (BookSide::Bid, &mut bids) } else { (BookSide::Ask, &mut asks) };
                let before = if is_bid { b.best_bid() } else { b.best_ask() };
                let changed = b.apply(side, px(p), q(s));
                if s == 0 { model.remove(&p); } else { model.insert(p, s); }
                let after = if is_bid { b.best_bid() } else { b.best_ask() };
                prop_assert_eq!(changed, before != after);
            }
            let want_bids: Vec<_> = bids.iter().rev().map(|(&p, &s)| lvl(p, s)).collect();
            let want_asks: Vec<_> = asks.iter().map(|(&p, &s)| lvl(p, s)).collect();
            prop_assert_eq!(b.bids().collect::<Vec<_>>(), want_bids);
            prop_assert_eq!(b.asks().collect::<Vec<_>>(), want_asks);
        }
    }
}
