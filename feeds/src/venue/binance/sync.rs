//! Binance's procedure for keeping a local order book in sync with the venue.
//!
//! 1. Buffer `depthUpdate` diffs from the stream until the REST snapshot arrives.
//! 2. Load the snapshot; drop every diff with `u <= lastUpdateId`.
//! 3. The first diff applied must straddle the snapshot: `U <= lastUpdateId + 1 <= u`.
//! 4. From then on each diff must start where the last ended: `U == previous u + 1`.
//!    `U > previous u + 1` is a gap: the book is thrown away and the procedure restarts
//!    (the caller fetches a new snapshot), with the diff that revealed the gap buffered as
//!    the first of the new attempt.
//!
//! A snapshot older than the buffered stream (the first diff after it starts past
//! `lastUpdateId + 1`) and a diff that overlaps the last one are also resyncs, not gaps.

use std::sync::Arc;

use tickline_engine::types::{InstrumentId, Level};

use super::decode::{DepthSnapshot, DepthUpdate};
pub use crate::book::SyncOutcome;
use crate::book::{BookSide, OrderBook, SyncCounters, DEFAULT_MAX_LEVELS};

/// Default number of diffs held while waiting for a snapshot (100 s of `@depth@100ms`).
pub const DEFAULT_MAX_BUFFERED_DIFFS: usize = 1_024;

/// Where the book is in the procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPhase {
    /// Buffering diffs until a snapshot is loaded.
    AwaitingSnapshot,
    /// A snapshot is loaded and no diff applied yet; the next must straddle its id.
    AwaitingFirstDiff {
        /// The snapshot's `lastUpdateId`.
        snapshot_id: u64,
    },
    /// In sync: every update up to `last_update_id` is applied.
    Live {
        /// `u` of the last diff applied.
        last_update_id: u64,
    },
}

#[derive(Clone, Copy, Debug)]
struct BufferedDiff {
    first: u64,
    last: u64,
    start: usize,
    n_bids: usize,
    end: usize,
}

/// Diffs held while waiting for a snapshot, levels flattened into one vector.
#[derive(Clone, Debug)]
struct DiffBuffer {
    diffs: Vec<BufferedDiff>,
    levels: Vec<Level>,
    max_diffs: usize,
}

impl DiffBuffer {
    fn clear(&mut self) {
        self.diffs.clear();
        self.levels.clear();
    }

    /// Stores a diff; returns false if the buffer was full and had to be emptied first.
    fn push(&mut self, diff: &DepthUpdate<'_>) -> bool {
        let room = self.diffs.len() < self.max_diffs;
        if !room {
            self.clear();
        }
        let start = self.levels.len();
        self.levels.extend(diff.bids.clone());
        let n_bids = self.levels.len() - start;
        self.levels.extend(diff.asks.clone());
        self.diffs.push(BufferedDiff {
            first: diff.first_update_id,
            last: diff.final_update_id,
            start,
            n_bids,
            end: self.levels.len(),
        });
        room
    }

    fn sides(&self, d: &BufferedDiff) -> (&[Level], &[Level]) {
        let all = self.levels.get(d.start..d.end).unwrap_or(&[]);
        all.split_at(d.n_bids.min(all.len()))
    }

    /// Drops the first `n` diffs, keeping the rest in order.
    fn discard_front(&mut self, n: usize) {
        let cut = self.diffs.get(n).map_or(self.levels.len(), |d| d.start);
        self.diffs.drain(..n.min(self.diffs.len()));
        self.levels.drain(..cut);
        for d in &mut self.diffs {
            d.start -= cut;
            d.end -= cut;
        }
    }
}

enum Step {
    Stale,
    Applied(bool),
    Gap,
    Resync,
}

/// Applies one diff according to the phase; never called while awaiting a snapshot.
fn step(
    phase: &mut SyncPhase,
    book: &mut OrderBook,
    first: u64,
    last: u64,
    bids: impl Iterator<Item = Level>,
    asks: impl Iterator<Item = Level>,
) -> Step {
    let ok = match *phase {
        SyncPhase::AwaitingSnapshot => return Step::Resync,
        SyncPhase::AwaitingFirstDiff { snapshot_id } => {
            if last <= snapshot_id {
                return Step::Stale;
            }
            // Straddles the snapshot, or the snapshot is older than the stream.
            first <= snapshot_id.saturating_add(1)
        }
        SyncPhase::Live { last_update_id } => {
            if last <= last_update_id {
                return Step::Stale;
            }
            let next = last_update_id.saturating_add(1);
            if first > next {
                return Step::Gap;
            }
            // `first < next` overlaps what is applied: not a sequence Binance sends.
            first == next
        }
    };
    if !ok {
        return Step::Resync;
    }
    let before = (book.best_bid(), book.best_ask());
    for l in bids {
        book.apply(BookSide::Bid, l.px, l.qty);
    }
    for l in asks {
        book.apply(BookSide::Ask, l.px, l.qty);
    }
    *phase = SyncPhase::Live { last_update_id: last };
    Step::Applied(before != (book.best_bid(), book.best_ask()))
}

/// One instrument's book, kept in sync by Binance's procedure.
#[derive(Debug)]
pub struct BinanceBookSync {
    book: OrderBook,
    phase: SyncPhase,
    buffer: DiffBuffer,
    counters: Arc<SyncCounters>,
}

impl BinanceBookSync {
    /// A sync with default limits ([`DEFAULT_MAX_LEVELS`], [`DEFAULT_MAX_BUFFERED_DIFFS`]).
    pub fn new(instrument: InstrumentId) -> BinanceBookSync {
        BinanceBookSync::with_limits(instrument, DEFAULT_MAX_LEVELS, DEFAULT_MAX_BUFFERED_DIFFS)
    }

    /// A sync keeping `max_levels` per side and buffering at most `max_buffered_diffs`.
    pub fn with_limits(
        instrument: InstrumentId,
        max_levels: usize,
        max_buffered_diffs: usize,
    ) -> BinanceBookSync {
        let max_diffs = max_buffered_diffs.max(1);
        BinanceBookSync {
            book: OrderBook::new(instrument, max_levels),
            phase: SyncPhase::AwaitingSnapshot,
            buffer: DiffBuffer {
                diffs: Vec::with_capacity(max_diffs),
                levels: Vec::with_capacity(max_diffs * 16),
                max_diffs,
            },
            counters: Arc::new(SyncCounters::new()),
        }
    }

    /// The book. Valid (equal to the venue's at the last applied id) when
    /// [`BinanceBookSync::is_synced`].
    #[inline]
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The instrument.
    #[inline]
    pub fn instrument(&self) -> InstrumentId {
        self.book.instrument()
    }

    /// Where the procedure is.
    #[inline]
    pub fn phase(&self) -> SyncPhase {
        self.phase
    }

    /// Whether the book reflects the venue (a snapshot is loaded and no gap since).
    #[inline]
    pub fn is_synced(&self) -> bool {
        !matches!(self.phase, SyncPhase::AwaitingSnapshot)
    }

    /// Whether the caller should fetch a REST snapshot.
    #[inline]
    pub fn needs_snapshot(&self) -> bool {
        matches!(self.phase, SyncPhase::AwaitingSnapshot)
    }

    /// The id the book is valid at: the last applied `u`, or the snapshot id.
    pub fn last_update_id(&self) -> Option<u64> {
        match self.phase {
            SyncPhase::AwaitingSnapshot => None,
            SyncPhase::AwaitingFirstDiff { snapshot_id } => Some(snapshot_id),
            SyncPhase::Live { last_update_id } => Some(last_update_id),
        }
    }

    /// The counters (clone the `Arc` for the sidecar).
    pub fn counters(&self) -> &Arc<SyncCounters> {
        &self.counters
    }

    /// Diffs waiting for a snapshot.
    pub fn buffered(&self) -> usize {
        self.buffer.diffs.len()
    }

    /// Throws the book away and starts over (after a reconnect); counts a resync.
    pub fn resync(&mut self) {
        self.counters.resyncs.inc();
        self.reset();
    }

    fn reset(&mut self) {
        self.book.clear();
        self.buffer.clear();
        self.phase = SyncPhase::AwaitingSnapshot;
        self.counters.synced.set(0);
    }

    fn buffer(&mut self, diff: &DepthUpdate<'_>) {
        if !self.buffer.push(diff) {
            self.counters.buffer_overflows.inc();
        }
        self.counters.buffered.inc();
    }

    /// Feeds one diff from the stream.
    #[inline]
    pub fn on_diff(&mut self, diff: &DepthUpdate<'_>) -> SyncOutcome {
        if self.needs_snapshot() {
            self.buffer(diff);
            return SyncOutcome::Buffered;
        }
        let outcome = step(
            &mut self.phase,
            &mut self.book,
            diff.first_update_id,
            diff.final_update_id,
            diff.bids.clone(),
            diff.asks.clone(),
        );
        match outcome {
            Step::Stale => {
                self.counters.dropped_stale.inc();
                SyncOutcome::DroppedStale
            }
            Step::Applied(top_changed) => {
                self.counters.applied.inc();
                SyncOutcome::Applied { top_changed }
            }
            Step::Gap | Step::Resync => {
                let gap = matches!(outcome, Step::Gap);
                if gap {
                    self.counters.gaps.inc();
                }
                self.counters.resyncs.inc();
                self.reset();
                self.buffer(diff);
                if gap {
                    SyncOutcome::Gap
                } else {
                    SyncOutcome::Resync
                }
            }
        }
    }

    /// Loads a REST snapshot and replays the buffered diffs over it.
    ///
    /// Returns [`SyncOutcome::Synced`], or [`SyncOutcome::Gap`]/[`SyncOutcome::Resync`] when
    /// the buffered diffs do not continue from the snapshot (then another snapshot is needed;
    /// the diffs from the break on stay buffered).
    pub fn on_snapshot(&mut self, snapshot: &DepthSnapshot<'_>) -> SyncOutcome {
        self.counters.snapshots.inc();
        self.book.load(snapshot.bids.clone(), snapshot.asks.clone());
        self.phase = SyncPhase::AwaitingFirstDiff { snapshot_id: snapshot.last_update_id };
        let mut broke = None;
        for (i, d) in self.buffer.diffs.iter().enumerate() {
            let (bids, asks) = self.buffer.sides(d);
            let s = step(
                &mut self.phase,
                &mut self.book,
                d.first,
                d.last,
                bids.iter().copied(),
                asks.iter().copied(),
            );
            match s {
                Step::Stale => self.counters.dropped_stale.inc(),
                Step::Applied(_) => self.counters.applied.inc(),
                Step::Gap | Step::Resync => {
                    broke = Some((i, matches!(s, Step::Gap)));
                    break;
                }
            }
        }
        match broke {
            None => {
                self.buffer.clear();
                self.counters.synced.set(1);
                SyncOutcome::Synced
            }
            Some((i, gap)) => {
                if gap {
                    self.counters.gaps.inc();
                }
                self.counters.resyncs.inc();
                self.book.clear();
                self.phase = SyncPhase::AwaitingSnapshot;
                self.counters.synced.set(0);
                self.buffer.discard_front(i);
                if gap {
                    SyncOutcome::Gap
                } else {
                    SyncOutcome::Resync
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::{BinanceDecoder, BinanceEvent};
    use super::*;
    use rust_decimal::Decimal;
    use tickline_engine::types::{InstrumentRegistry, InstrumentSpec, Px, Qty};

    const BTC: InstrumentId = InstrumentId(0);

    fn decoder() -> BinanceDecoder {
        let reg = InstrumentRegistry::build(&[InstrumentSpec {
            symbol: "BTCUSDT".into(),
            venue: "binance".into(),
            price_scale: 2,
            qty_scale: 5,
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 5),
        }])
        .unwrap();
        BinanceDecoder::new(&reg).unwrap()
    }

    fn diff_frame(first: u64, last: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> Vec<u8> {
        let side = |l: &[(&str, &str)]| {
            l.iter().map(|(p, q)| format!(r#"["{p}","{q}"]"#)).collect::<Vec<_>>().join(",")
        };
        format!(
            r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":{first},"u":{last},"b":[{}],"a":[{}]}}}}"#,
            side(bids),
            side(asks)
        )
        .into_bytes()
    }

    fn feed(s: &mut BinanceBookSync, d: &mut BinanceDecoder, frame: &[u8]) -> SyncOutcome {
        match d.decode_text(frame).unwrap() {
            BinanceEvent::Depth(u) => s.on_diff(&u),
            other => panic!("{other:?}"),
        }
    }

    fn snapshot(s: &mut BinanceBookSync, d: &mut BinanceDecoder, id: u64) -> SyncOutcome {
        let body = format!(
            r#"{{"lastUpdateId":{id},"bids":[["100.00","1.0"],["99.00","2.0"]],"asks":[["101.00","1.0"],["102.00","3.0"]]}}"#
        );
        let snap = d.decode_snapshot(BTC, body.as_bytes()).unwrap();
        s.on_snapshot(&snap)
    }

    fn top(s: &BinanceBookSync) -> (i64, i64, i64, i64) {
        let b = s.book().best_bid().unwrap();
        let a = s.book().best_ask().unwrap();
        (b.px.raw(), b.qty.raw(), a.px.raw(), a.qty.raw())
    }

    #[test]
    fn buffers_then_drops_stale_and_applies_the_straddling_diff() {
        let mut d = decoder();
        let mut s = BinanceBookSync::new(BTC);
        assert!(s.needs_snapshot());
        assert_eq!(
            feed(&mut s, &mut d, &diff_frame(1, 5, &[("100.00", "9")], &[])),
            SyncOutcome::Buffered
        );
        assert_eq!(
            feed(&mut s, &mut d, &diff_frame(6, 12, &[("100.50", "1")], &[])),
            SyncOutcome::Buffered
        );
        assert_eq!(
            feed(&mut s, &mut d, &diff_frame(13, 15, &[], &[("101.00", "0")])),
            SyncOutcome::Buffered
        );
        assert_eq!(s.buffered(), 3);
        // Snapshot at 10: 1..5 is stale, 6..12 straddles 11, 13..15 follows.
        assert_eq!(snapshot(&mut s, &mut d, 10), SyncOutcome::Synced);
        assert_eq!(s.phase(), SyncPhase::Live { last_update_id: 15 });
        assert_eq!(top(&s), (10_050, 100_000, 10_200, 300_000));
        let c = Arc::clone(s.counters());
        assert_eq!((c.dropped_stale.get(), c.applied.get(), c.buffered.get()), (1, 2, 3));
        assert_eq!(s.buffered(), 0);
        // Live diffs.
        assert_eq!(
            feed(&mut s, &mut d, &diff_frame(16, 16, &[("99.00", "0")], &[])),
            SyncOutcome::Applied { top_changed: false }
        );
        assert_eq!(
            feed(&mut s, &mut d, &diff_frame(17, 18, &[], &[("101.50", "2")])),
            SyncOutcome::Applied { top_changed: true }
        );
        assert_eq!(feed(&mut s, &mut d, &diff_frame(10, 18, &[], &[])), SyncOutcome::DroppedStale);
        assert_eq!(s.last_update_id(), Some(18));
        assert_eq!(s.book().qty_at(BookSide::Bid, Px::from_raw(9_900)), None);
        assert_eq!(
            s.book().qty_at(BookSide::Ask, Px::from_raw(10_150)),
            Some(Qty::from_raw(200_000))
        );
        assert_eq!((c.gaps.get(), c.resyncs.get()), (0, 0));
    }

    #[test]
    fn first_live_diff_after_snapshot_must_straddle() {
        let mut d = decoder();
        let mut s = BinanceBookSync::new(BTC);
        assert_eq!(snapshot(&mut s, &mut d, 10), SyncOutcome::Synced);
        assert_eq!(s.phase(), SyncPhase::AwaitingFirstDiff { snapshot_id: 10 });
        assert!(s.is_synced());
        assert_eq!(feed(&mut s, &mut d, &diff_frame(5, 10, &[], &[])), SyncOutcome::DroppedStale);
        assert_eq!(
            feed(&mut s, &mut d, &diff_frame(9, 14, &[], &[])),
            SyncOutcome::Applied { top_changed: false }
        );
        assert_eq!(s.phase(), SyncPhase::Live { last_update_id: 14 });
    }

    #[test]
    fn snapshot_older_than_the_stream_is_a_resync() {
        let mut d = decoder();
        let mut s = BinanceBookSync::new(BTC);
        feed(&mut s, &mut d, &diff_frame(20, 25, &[], &[]));
        feed(&mut s, &mut d, &diff_frame(26, 30, &[], &[]));
        assert_eq!(snapshot(&mut s, &mut d, 10), SyncOutcome::Resync);
        assert!(s.needs_snapshot());
        assert_eq!(s.counters().synced.get(), 0);
        assert_eq!(s.buffered(), 2);
        assert!(s.book().is_empty());
        assert_eq!((s.counters().resyncs.get(), s.counters().gaps.get()), (1, 0));
        // A newer snapshot then syncs from the same buffer.
        assert_eq!(snapshot(&mut s, &mut d, 22), SyncOutcome::Synced);
        assert_eq!(s.last_update_id(), Some(30));
    }

    #[test]
    fn gap_resets_and_buffers_the_revealing_diff() {
        let mut d = decoder();
        let mut s = BinanceBookSync::new(BTC);
        assert_eq!(s.counters().synced.get(), 0);
        snapshot(&mut s, &mut d, 10);
        feed(&mut s, &mut d, &diff_frame(11, 12, &[], &[]));
        assert_eq!(s.counters().synced.get(), 1, "the published gauge follows is_synced");
        assert_eq!(
            feed(&mut s, &mut d, &diff_frame(14, 15, &[("1.00", "1")], &[])),
            SyncOutcome::Gap
        );
        assert!(s.needs_snapshot());
        assert_eq!(s.counters().synced.get(), 0);
        assert!(s.book().is_empty());
        assert_eq!(s.buffered(), 1);
        assert_eq!((s.counters().gaps.get(), s.counters().resyncs.get()), (1, 1));
        assert_eq!(feed(&mut s, &mut d, &diff_frame(16, 16, &[], &[])), SyncOutcome::Buffered);
        assert_eq!(snapshot(&mut s, &mut d, 14), SyncOutcome::Synced);
        assert_eq!(s.last_update_id(), Some(16));
        assert_eq!(s.book().qty_at(BookSide::Bid, Px::from_raw(100)), Some(Qty::from_raw(100_000)));
    }

    #[test]
    fn gap_inside_the_buffer_keeps_the_rest() {
        let mut d = decoder();
        let mut s = BinanceBookSync::new(BTC);
        feed(&mut s, &mut d, &diff_frame(5, 12, &[("98.00", "1")], &[]));
        feed(&mut s, &mut d, &diff_frame(20, 21, &[("97.00", "1")], &[]));
        feed(&mut s, &mut d, &diff_frame(22, 23, &[("96.00", "1")], &[]));
        assert_eq!(snapshot(&mut s, &mut d, 10), SyncOutcome::Gap);
        assert_eq!(s.buffered(), 2);
        assert_eq!(snapshot(&mut s, &mut d, 20), SyncOutcome::Synced);
        assert_eq!(s.last_update_id(), Some(23));
        assert_eq!(
            s.book().qty_at(BookSide::Bid, Px::from_raw(9_600)),
            Some(Qty::from_raw(100_000))
        );
        assert_eq!(s.book().qty_at(BookSide::Bid, Px::from_raw(9_800)), None);
    }

    #[test]
    fn overlap_is_a_resync_and_buffer_overflow_is_counted() {
        let mut d = decoder();
        let mut s = BinanceBookSync::with_limits(BTC, 16, 2);
        snapshot(&mut s, &mut d, 10);
        feed(&mut s, &mut d, &diff_frame(11, 15, &[], &[]));
        assert_eq!(feed(&mut s, &mut d, &diff_frame(14, 18, &[], &[])), SyncOutcome::Resync);
        assert_eq!((s.counters().gaps.get(), s.counters().resyncs.get()), (0, 1));
        feed(&mut s, &mut d, &diff_frame(19, 19, &[], &[]));
        assert_eq!(s.buffered(), 2);
        feed(&mut s, &mut d, &diff_frame(20, 20, &[], &[]));
        assert_eq!(s.buffered(), 1);
        assert_eq!(s.counters().buffer_overflows.get(), 1);
        s.resync();
        assert_eq!(s.buffered(), 0);
        assert_eq!(s.counters().resyncs.get(), 2);
    }
}
