//! The open-order table as published for the sidecar: a copy the risk thread keeps current.
//!
//! One cell per slot of the risk stage's open-order slab, so an order keeps its cell from
//! approval until the venue is done with it. Each cell is a single-writer seqlock of
//! `AtomicU64` words on its own cache line: the risk thread stamps it odd, stores the words
//! that changed, and stamps it even; a reader retries while a stamp is odd or moved, so it
//! never sees half of an update. An approval writes one cell, an execution report or a
//! cancel updates one or two words of one; the writer never waits, nothing allocates after
//! construction, and there is no `unsafe`. Readers (cold path) scan every cell.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::telemetry::SeqCell;

use crate::types::{ClientOrderId, InstrumentId, Nanos, Px, Qty, Side, StrategyId};

/// Meta flag: counted as an open order (a replacement in flight is not, until confirmed).
const LIVE: u64 = 1;
/// Meta flag: the venue has acknowledged the order (or reported a fill on it).
const ACKED: u64 = 2;
/// Meta flag: a cancel request is pending.
const CANCEL: u64 = 4;

const ID: usize = 0;
const PRICE: usize = 1;
const QTY: usize = 2;
const FILLED: usize = 3;
const SENT: usize = 4;
/// Instrument (bits 0–31), strategy (32–47), side (48–55), flags (56–63).
const META: usize = 5;
const WORDS: usize = 6;

type Cell = SeqCell<WORDS>;

const _: () = assert!(std::mem::size_of::<Cell>() == 64);

/// Where a published order is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardState {
    /// Approved and sent; the venue has not answered yet.
    PendingNew,
    /// Acknowledged by the venue, nothing filled.
    New,
    /// Part filled.
    PartiallyFilled,
    /// A cancel request is pending.
    PendingCancel,
    /// A replacement sent, waiting for the venue to confirm it (not counted as open yet).
    PendingReplace,
}

impl BoardState {
    /// Stable lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            BoardState::PendingNew => "pending_new",
            BoardState::New => "new",
            BoardState::PartiallyFilled => "partially_filled",
            BoardState::PendingCancel => "pending_cancel",
            BoardState::PendingReplace => "pending_replace",
        }
    }
}

/// One order as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardOrder {
    /// Client order id.
    pub client_id: ClientOrderId,
    /// Strategy that sent it (`u16::MAX`: the engine itself).
    pub strategy: StrategyId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Limit price, at the instrument's price scale.
    pub price: Px,
    /// Quantity ordered, at the instrument's quantity scale.
    pub qty: Qty,
    /// Quantity filled so far.
    pub filled: Qty,
    /// When risk approved it (its hand-off to the gateway); zero for an order restored from
    /// an earlier session.
    pub sent_ns: Nanos,
    /// Where it is.
    pub state: BoardState,
}

/// The published open-order table (written by the risk thread only).
#[derive(Debug)]
pub struct OrderBoard {
    cells: Box<[Cell]>,
}

impl OrderBoard {
    /// `slots` empty cells: one per slot of the open-order table it mirrors.
    pub fn new(slots: usize) -> OrderBoard {
        OrderBoard { cells: (0..slots).map(|_| Cell::default()).collect() }
    }

    /// Cells (the mirrored table's capacity).
    pub fn slots(&self) -> usize {
        self.cells.len()
    }

    /// Runs `f` on the cell at `slot` inside its seqlock (risk thread only).
    #[inline]
    fn write(&self, slot: u32, f: impl FnOnce(&[AtomicU64; WORDS])) {
        if let Some(c) = self.cells.get(slot as usize) {
            c.write(f);
        }
    }

    /// The writer's own view of a word (risk thread only).
    #[inline]
    fn own(&self, slot: u32, word: usize) -> u64 {
        self.cells.get(slot as usize).map_or(0, |c| c.own(word))
    }

    /// Publishes an order risk just took into `slot`: `live` unless it is a replacement in
    /// flight; `acked` for one restored from an earlier session.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn open(
        &self,
        slot: u32,
        id: u64,
        strategy: StrategyId,
        instrument: InstrumentId,
        side: Side,
        price: Px,
        qty: Qty,
        filled: Qty,
        sent: Nanos,
        live: bool,
        acked: bool,
    ) {
        let flags = if live { LIVE } else { 0 } | if acked { ACKED } else { 0 };
        let meta = u64::from(instrument.0)
            | u64::from(strategy.0) << 32
            | u64::from(side as u8) << 48
            | flags << 56;
        self.write(slot, |w| {
            w[ID].store(id, Ordering::Relaxed);
            w[PRICE].store(price.raw() as u64, Ordering::Relaxed);
            w[QTY].store(qty.raw() as u64, Ordering::Relaxed);
            w[FILLED].store(filled.raw() as u64, Ordering::Relaxed);
            w[SENT].store(sent.0 as u64, Ordering::Relaxed);
            w[META].store(meta, Ordering::Relaxed);
        });
    }

    #[inline]
    fn set_flags(&self, slot: u32, set: u64, clear: u64) {
        let meta = self.own(slot, META);
        let next = (meta | set << 56) & !(clear << 56);
        if next != meta {
            self.write(slot, |w| w[META].store(next, Ordering::Relaxed));
        }
    }

    /// The venue acknowledged the order at `slot`.
    #[inline]
    pub(crate) fn ack(&self, slot: u32) {
        self.set_flags(slot, ACKED, 0);
    }

    /// The order at `slot` has filled `cum` in all.
    #[inline]
    pub(crate) fn filled(&self, slot: u32, cum: Qty) {
        let meta = self.own(slot, META) | ACKED << 56;
        self.write(slot, |w| {
            w[FILLED].store(cum.raw() as u64, Ordering::Relaxed);
            w[META].store(meta, Ordering::Relaxed);
        });
    }

    /// Quantity the order at `slot` has filled so far, as published.
    #[inline]
    pub(crate) fn filled_of(&self, slot: u32) -> Qty {
        Qty::from_raw(self.own(slot, FILLED) as i64)
    }

    /// A cancel of the order at `slot` is pending (or no longer is).
    #[inline]
    pub(crate) fn cancel_pending(&self, slot: u32, pending: bool) {
        if pending {
            self.set_flags(slot, CANCEL, 0);
        } else {
            self.set_flags(slot, 0, CANCEL);
        }
    }

    /// The replacement at `slot` was confirmed: it is open now.
    #[inline]
    pub(crate) fn promote(&self, slot: u32) {
        self.set_flags(slot, LIVE | ACKED, 0);
    }

    /// The order at `slot` is gone.
    #[inline]
    pub(crate) fn close(&self, slot: u32) {
        if self.own(slot, ID) != 0 {
            self.write(slot, |w| w[ID].store(0, Ordering::Relaxed));
        }
    }

    /// The order at cell `i`, if the cell holds one.
    fn read(&self, i: usize) -> Option<BoardOrder> {
        let w = self.cells.get(i)?.read();
        if w[ID] == 0 {
            return None;
        }
        let meta = w[META];
        let side = match (meta >> 48) as u8 {
            1 => Side::Buy,
            2 => Side::Sell,
            _ => return None,
        };
        let flags = meta >> 56;
        let filled = Qty::from_raw(w[FILLED] as i64);
        let state = if flags & LIVE == 0 {
            BoardState::PendingReplace
        } else if flags & CANCEL != 0 {
            BoardState::PendingCancel
        } else if filled.raw() > 0 {
            BoardState::PartiallyFilled
        } else if flags & ACKED != 0 {
            BoardState::New
        } else {
            BoardState::PendingNew
        };
        Some(BoardOrder {
            client_id: ClientOrderId(w[ID]),
            strategy: StrategyId((meta >> 32) as u16),
            instrument: InstrumentId(meta as u32),
            side,
            price: Px::from_raw(w[PRICE] as i64),
            qty: Qty::from_raw(w[QTY] as i64),
            filled,
            sent_ns: Nanos(w[SENT] as i64),
            state,
        })
    }

    /// Every published order, oldest client id first (cold path: scans every cell).
    pub fn snapshot(&self) -> Vec<BoardOrder> {
        let mut out: Vec<BoardOrder> = (0..self.cells.len()).filter_map(|i| self.read(i)).collect();
        out.sort_unstable_by_key(|o| o.client_id.0);
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    use super::*;

    fn open(b: &OrderBoard, slot: u32, id: u64, live: bool) {
        b.open(
            slot,
            id,
            StrategyId(1),
            InstrumentId(2),
            Side::Sell,
            Px::from_raw(100 + id as i64),
            Qty::from_raw(10),
            Qty::ZERO,
            Nanos(id as i64),
            live,
            false,
        );
    }

    #[test]
    fn states_follow_the_order() {
        let b = OrderBoard::new(4);
        open(&b, 1, 7, true);
        open(&b, 3, 5, true);
        let s = b.snapshot();
        assert_eq!(s.iter().map(|o| o.client_id.0).collect::<Vec<_>>(), [5, 7], "by id");
        assert_eq!(s[1].state, BoardState::PendingNew);
        assert_eq!(
            (s[1].price, s[1].side, s[1].sent_ns),
            (Px::from_raw(107), Side::Sell, Nanos(7))
        );
        b.ack(1);
        assert_eq!(b.snapshot()[1].state, BoardState::New);
        b.filled(1, Qty::from_raw(4));
        assert_eq!(b.snapshot()[1].state, BoardState::PartiallyFilled);
        assert_eq!(b.snapshot()[1].filled, Qty::from_raw(4));
        b.cancel_pending(1, true);
        assert_eq!(b.snapshot()[1].state, BoardState::PendingCancel);
        b.cancel_pending(1, false);
        assert_eq!(b.snapshot()[1].state, BoardState::PartiallyFilled);
        open(&b, 0, 9, false);
        assert_eq!(b.snapshot()[2].state, BoardState::PendingReplace);
        b.promote(0);
        assert_eq!(b.snapshot()[2].state, BoardState::New);
        b.close(1);
        b.close(3);
        assert_eq!(b.snapshot().iter().map(|o| o.client_id.0).collect::<Vec<_>>(), [9]);
        // Out of range is ignored.
        b.close(99);
        open(&b, 99, 1, true);
        assert_eq!(b.snapshot().len(), 1);
    }

    /// A reader never sees a cell half rewritten: every order it reads is one the writer
    /// published whole (price and sent time derived from the id).
    #[test]
    fn a_concurrent_reader_never_sees_a_torn_order() {
        let b = Arc::new(OrderBoard::new(2));
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let (b, done) = (Arc::clone(&b), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut id = 1u64;
                while !done.load(Ordering::Relaxed) {
                    open(&b, (id % 2) as u32, id, true);
                    b.filled((id % 2) as u32, Qty::from_raw(id as i64 % 10));
                    id += 1;
                    if id % 64 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        };
        for round in 0..20_000 {
            for o in b.snapshot() {
                let id = o.client_id.0;
                assert_eq!((o.price.raw(), o.sent_ns.0), (100 + id as i64, id as i64));
                assert!(o.filled.raw() == 0 || o.filled.raw() == id as i64 % 10, "{o:?}");
            }
            if round % 16 == 0 {
                std::thread::yield_now();
            }
        }
        done.store(true, Ordering::Relaxed);
        writer.join().unwrap();
    }
}
