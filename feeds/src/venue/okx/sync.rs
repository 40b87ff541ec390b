//! OKX's order book sequencing.
//!
//! OKX pushes the snapshot itself, right after the subscription. Every later push names the
//! push before it: an update continues the book exactly when its `prevSeqId` equals the
//! `seqId` last applied. Nothing is assumed about the step between ids (they jump by varying
//! amounts, and after venue maintenance `seqId` may even fall below `prevSeqId`); a push that
//! repeats the last `seqId` is a duplicate, and anything else is a gap: the book is thrown away
//! and the caller resubscribes to get a new snapshot. A heartbeat push with no levels has
//! `prevSeqId == seqId ==` the last id and so continues the book without changing it.

use std::sync::Arc;

use tickline_engine::types::InstrumentId;

use super::decode::{BookAction, OkxBook};
use crate::book::{BookSide, OrderBook, SyncCounters, SyncOutcome, DEFAULT_MAX_LEVELS};

/// Where an OKX book is in its sequencing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OkxSyncPhase {
    /// No snapshot since start or the last gap; the caller must (re)subscribe.
    AwaitingSnapshot,
    /// In sync up to `seq_id`.
    Live {
        /// `seqId` of the last push applied.
        seq_id: i64,
    },
}

/// One instrument's book, kept in sync with OKX's `seqId`/`prevSeqId` chain.
#[derive(Debug)]
pub struct OkxBookSync {
    book: OrderBook,
    phase: OkxSyncPhase,
    counters: Arc<SyncCounters>,
}

impl OkxBookSync {
    /// A sync keeping [`DEFAULT_MAX_LEVELS`] per side.
    pub fn new(instrument: InstrumentId) -> OkxBookSync {
        OkxBookSync::with_max_levels(instrument, DEFAULT_MAX_LEVELS)
    }

    /// A sync keeping `max_levels` per side.
    pub fn with_max_levels(instrument: InstrumentId, max_levels: usize) -> OkxBookSync {
        OkxBookSync {
            book: OrderBook::new(instrument, max_levels),
            phase: OkxSyncPhase::AwaitingSnapshot,
            counters: Arc::new(SyncCounters::new()),
        }
    }

    /// The book; valid when [`OkxBookSync::is_synced`].
    #[inline]
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The instrument.
    #[inline]
    pub fn instrument(&self) -> InstrumentId {
        self.book.instrument()
    }

    /// Where the sequencing is.
    #[inline]
    pub fn phase(&self) -> OkxSyncPhase {
        self.phase
    }

    /// Whether the book reflects the venue.
    #[inline]
    pub fn is_synced(&self) -> bool {
        matches!(self.phase, OkxSyncPhase::Live { .. })
    }

    /// Whether the caller must resubscribe to get a snapshot.
    #[inline]
    pub fn needs_snapshot(&self) -> bool {
        !self.is_synced()
    }

    /// The last `seqId` applied.
    pub fn seq_id(&self) -> Option<i64> {
        match self.phase {
            OkxSyncPhase::AwaitingSnapshot => None,
            OkxSyncPhase::Live { seq_id } => Some(seq_id),
        }
    }

    /// The counters (clone the `Arc` for the sidecar).
    pub fn counters(&self) -> &Arc<SyncCounters> {
        &self.counters
    }

    /// Throws the book away (after a reconnect); counts a resync.
    pub fn resync(&mut self) {
        self.counters.resyncs.inc();
        self.book.clear();
        self.phase = OkxSyncPhase::AwaitingSnapshot;
        self.counters.synced.set(0);
    }

    /// Feeds one `books` push.
    #[inline]
    pub fn on_book(&mut self, push: &OkxBook<'_>) -> SyncOutcome {
        match (push.action, self.phase) {
            (BookAction::Snapshot, _) => {
                self.book.load(push.bids.iter().copied(), push.asks.iter().copied());
                self.phase = OkxSyncPhase::Live { seq_id: push.seq_id };
                self.counters.snapshots.inc();
                self.counters.synced.set(1);
                SyncOutcome::Synced
            }
            (BookAction::Update, OkxSyncPhase::AwaitingSnapshot) => {
                self.counters.dropped_unsynced.inc();
                SyncOutcome::Unsynced
            }
            (BookAction::Update, OkxSyncPhase::Live { seq_id }) => {
                if push.prev_seq_id == seq_id {
                    let before = (self.book.best_bid(), self.book.best_ask());
                    for l in push.bids {
                        self.book.apply(BookSide::Bid, l.px, l.qty);
                    }
                    for l in push.asks {
                        self.book.apply(BookSide::Ask, l.px, l.qty);
                    }
                    self.phase = OkxSyncPhase::Live { seq_id: push.seq_id };
                    self.counters.applied.inc();
                    let top_changed = before != (self.book.best_bid(), self.book.best_ask());
                    SyncOutcome::Applied { top_changed }
                } else if push.seq_id == seq_id {
                    self.counters.dropped_stale.inc();
                    SyncOutcome::DroppedStale
                } else {
                    self.counters.gaps.inc();
                    self.counters.resyncs.inc();
                    self.book.clear();
                    self.phase = OkxSyncPhase::AwaitingSnapshot;
                    self.counters.synced.set(0);
                    SyncOutcome::Gap
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::tests::{registry, BTC, SNAPSHOT, UPDATE};
    use super::super::decode::{OkxDecoder, OkxEvent};
    use super::*;
    use tickline_engine::types::{Level, Px, Qty};

    fn feed(s: &mut OkxBookSync, d: &mut OkxDecoder, frame: &[u8]) -> SyncOutcome {
        match d.decode_text(frame).unwrap() {
            OkxEvent::Book(b) => s.on_book(&b),
            other => panic!("{other:?}"),
        }
    }

    fn update(prev: i64, seq: i64, bids: &str) -> Vec<u8> {
        format!(
            r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"update","data":[{{"asks":[],"bids":[{bids}],"ts":"1","checksum":0,"prevSeqId":{prev},"seqId":{seq}}}]}}"#
        )
        .into_bytes()
    }

    fn lv(px: i64, qty: i64) -> Level {
        Level { px: Px::from_raw(px), qty: Qty::from_raw(qty) }
    }

    #[test]
    fn chain_of_seq_ids() {
        let mut d = OkxDecoder::new(&registry()).unwrap();
        let mut s = OkxBookSync::new(BTC);
        assert_eq!(feed(&mut s, &mut d, UPDATE), SyncOutcome::Unsynced);
        assert_eq!(feed(&mut s, &mut d, SNAPSHOT), SyncOutcome::Synced);
        assert_eq!(s.book().best_bid(), Some(lv(422_198, 50_000_000)));
        assert_eq!(s.book().best_ask(), Some(lv(422_199, 12_060_306)));
        // The update deletes the best ask and resizes the best bid.
        assert_eq!(feed(&mut s, &mut d, UPDATE), SyncOutcome::Applied { top_changed: true });
        assert_eq!(s.book().best_ask(), Some(lv(422_205, 150_000_000)));
        assert_eq!(s.book().best_bid(), Some(lv(422_198, 70_000_000)));
        assert_eq!(s.seq_id(), Some(123_460));
        // Heartbeat: same id, no levels.
        assert_eq!(
            feed(&mut s, &mut d, &update(123_460, 123_460, "")),
            SyncOutcome::Applied { top_changed: false }
        );
        // Duplicate of the last push.
        assert_eq!(feed(&mut s, &mut d, &update(123_456, 123_460, "")), SyncOutcome::DroppedStale);
        // Sequence reset after maintenance: seqId below prevSeqId, still chained.
        assert_eq!(
            feed(&mut s, &mut d, &update(123_460, 5, r#"["42000","1","0","1"]"#)),
            SyncOutcome::Applied { top_changed: false }
        );
        assert_eq!(s.seq_id(), Some(5));
        // A missed push.
        assert_eq!(s.counters().synced.get(), 1);
        assert_eq!(feed(&mut s, &mut d, &update(9, 12, "")), SyncOutcome::Gap);
        assert!(s.needs_snapshot() && s.book().is_empty());
        assert_eq!(s.counters().synced.get(), 0);
        let c = s.counters();
        assert_eq!((c.applied.get(), c.gaps.get(), c.resyncs.get()), (3, 1, 1));
        assert_eq!((c.dropped_stale.get(), c.dropped_unsynced.get(), c.snapshots.get()), (1, 1, 1));
        assert_eq!(feed(&mut s, &mut d, SNAPSHOT), SyncOutcome::Synced);
        assert_eq!(s.counters().synced.get(), 1);
        s.resync();
        assert!(s.needs_snapshot());
        assert_eq!(s.counters().synced.get(), 0);
    }
}
