//! Open and in-flight orders, tracked at their worst case.
//!
//! An order counts from the moment risk approves it, before the venue has seen it, until a
//! report says it is gone (filled, cancelled, expired, rejected). Its unfilled quantity stays
//! reserved against the position limit until then; a replace reserves the replacement's
//! quantity *as well as* the original's until the venue confirms which one lives. A cancel
//! releases nothing until the venue confirms it.
//!
//! Storage is fixed at start-up: a slab of entries, a free list, an open-addressing index
//! (linear probing, backward-shift deletion, at most half full) from client order id to slab
//! slot, and per instrument and side an intrusive list for recomputing our own best price when
//! the best order goes. Nothing allocates after construction.

use crate::types::Side;

const NIL: u32 = u32::MAX;
/// Index slots between consecutive ids' homes: 4 × 16-byte slots = one cache line.
const STRIDE: usize = 4;

/// One tracked order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    /// Client order id (never 0 while in use).
    pub(crate) id: u64,
    /// Id of the cancel request pending for it, 0 if none.
    pub(crate) cancel_id: u64,
    /// For a replacement in flight: the order it replaces; 0 otherwise.
    pub(crate) replaces: u64,
    /// Limit price, raw.
    pub(crate) price: i64,
    /// Quantity still reserved, raw.
    pub(crate) leaves: i64,
    /// Instrument index.
    pub(crate) instrument: u32,
    /// Side.
    pub(crate) side: Side,
    /// Counted as an open order (a replacement in flight is not, until confirmed).
    pub(crate) live: bool,
    prev: u32,
    next: u32,
}

const EMPTY: Entry = Entry {
    id: 0,
    cancel_id: 0,
    replaces: 0,
    price: 0,
    leaves: 0,
    instrument: 0,
    side: Side::Buy,
    live: false,
    prev: NIL,
    next: NIL,
};

/// What a client order id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// An order, at this slot.
    Order(u32),
    /// A pending cancel of the order at this slot.
    CancelOf(u32),
}

/// One instrument's open orders, summed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Book {
    /// Quantity reserved by open orders: buys, sells.
    pub(crate) reserved: [i64; 2],
    /// Live open orders.
    pub(crate) open: u32,
    /// Our best buy price (`i64::MIN` when none) and best sell price (`i64::MAX` when none).
    pub(crate) best: [i64; 2],
    heads: [u32; 2],
}

impl Default for Book {
    fn default() -> Self {
        Book { reserved: [0; 2], open: 0, best: [i64::MIN, i64::MAX], heads: [NIL; 2] }
    }
}

#[inline]
const fn side_ix(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// The open-order table.
#[derive(Debug)]
pub(crate) struct OpenOrders {
    slab: Vec<Entry>,
    free: Vec<u32>,
    index: Vec<(u64, u32)>,
    mask: usize,
    books: Vec<Book>,
    total_open: u32,
}

impl OpenOrders {
    /// A table of `capacity` entries over `instruments` instruments.
    pub(crate) fn new(instruments: usize, capacity: usize) -> OpenOrders {
        // Two keys per entry at most (its id and a pending cancel's): keep the index at most
        // half full so every probe ends at an empty slot.
        let index_len = (capacity * 4).next_power_of_two().max(8);
        let mut index = vec![(0, 0); index_len];
        // A zeroed allocation is mapped lazily: write every page now, or each first use of a
        // page by a new order id is a page fault on the hot thread (`black_box` keeps the
        // store of a known zero).
        for e in index.iter_mut().step_by(4096 / std::mem::size_of::<(u64, u32)>()) {
            *e = std::hint::black_box(*e);
        }
        OpenOrders {
            slab: vec![EMPTY; capacity],
            free: (0..capacity as u32).rev().collect(),
            index,
            mask: index_len - 1,
            books: vec![Book::default(); instruments],
            total_open: 0,
        }
    }

    /// Free entries.
    #[inline]
    pub(crate) fn free(&self) -> usize {
        self.free.len()
    }

    /// Live open orders over every instrument.
    #[inline]
    pub(crate) fn total_open(&self) -> u32 {
        self.total_open
    }

    /// An instrument's sums.
    #[inline]
    pub(crate) fn book(&self, instrument: usize) -> Book {
        self.books.get(instrument).copied().unwrap_or_default()
    }

    /// An instrument's sums, by reference (`None` for an unknown instrument).
    #[inline(always)]
    pub(crate) fn book_ref(&self, instrument: usize) -> Option<&Book> {
        self.books.get(instrument)
    }

    /// The entry at `slot`.
    #[inline]
    pub(crate) fn entry(&self, slot: u32) -> &Entry {
        &self.slab[slot as usize]
    }

    /// A key's home slot: the id's low bits times [`STRIDE`]. Client order ids are a session
    /// base plus a counter (`ClientOrderIdGen`), so consecutive orders take consecutive cache
    /// lines (one key per line): the line a new order probes is the one after the last
    /// order's, which the hardware prefetcher has in flight, where a hash would miss cache on
    /// every order. The stride keeps consecutive keys out of each other's probe runs, so
    /// backward-shift deletion stays short. Ids of other shapes still work (linear probing).
    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        (key as usize).wrapping_mul(STRIDE) & self.mask
    }

    #[inline(always)]
    fn index_pos(&self, key: u64) -> Option<usize> {
        if key == 0 {
            return None;
        }
        let mut i = self.home(key);
        loop {
            match self.index[i] {
                (k, _) if k == key => return Some(i),
                (0, _) => return None,
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    fn index_insert(&mut self, key: u64, slot: u32) {
        let mut i = self.home(key);
        while self.index[i].0 != 0 && self.index[i].0 != key {
            i = (i + 1) & self.mask;
        }
        self.index[i] = (key, slot);
    }

    fn index_remove(&mut self, key: u64) {
        let Some(mut i) = self.index_pos(key) else { return };
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let k = self.index[j].0;
            if k == 0 {
                break;
            }
            let h = self.home(k);
            // The key at `j` may fill the hole at `i` unless its home lies in (i, j].
            let stays = if i <= j { i < h && h <= j } else { i < h || h <= j };
            if !stays {
                self.index[i] = self.index[j];
                i = j;
            }
        }
        self.index[i] = (0, 0);
    }

    /// What `key` names, if anything.
    #[inline(always)]
    pub(crate) fn find(&self, key: u64) -> Option<Found> {
        let (k, slot) = self.index[self.index_pos(key)?];
        if self.slab[slot as usize].id == k {
            Some(Found::Order(slot))
        } else {
            Some(Found::CancelOf(slot))
        }
    }

    /// Tracks an approved order (`live`) or replacement in flight (`replaces` its target).
    /// `None` when the table is full (the check refuses before that).
    pub(crate) fn insert(
        &mut self,
        id: u64,
        instrument: usize,
        side: Side,
        price: i64,
        qty: i64,
        replaces: u64,
    ) -> Option<u32> {
        if id == 0 || instrument >= self.books.len() {
            return None;
        }
        let slot = self.free.pop()?;
        let s = side_ix(side);
        let live = replaces == 0;
        let book = &mut self.books[instrument];
        let head = book.heads[s];
        self.slab[slot as usize] = Entry {
            id,
            cancel_id: 0,
            replaces,
            price,
            leaves: qty,
            instrument: instrument as u32,
            side,
            live,
            prev: NIL,
            next: head,
        };
        if head != NIL {
            self.slab[head as usize].prev = slot;
        }
        book.heads[s] = slot;
        book.reserved[s] = book.reserved[s].saturating_add(qty);
        book.best[s] = if s == 0 { book.best[s].max(price) } else { book.best[s].min(price) };
        if live {
            book.open += 1;
            self.total_open += 1;
        }
        self.index_insert(id, slot);
        Some(slot)
    }

    /// Records a cancel request `cancel_id` for the order at `slot`.
    pub(crate) fn set_cancel(&mut self, slot: u32, cancel_id: u64) {
        if cancel_id == 0 || self.index_pos(cancel_id).is_some() {
            return;
        }
        let old = self.slab[slot as usize].cancel_id;
        if old != 0 {
            self.index_remove(old);
        }
        self.slab[slot as usize].cancel_id = cancel_id;
        self.index_insert(cancel_id, slot);
    }

    /// The cancel request of the order at `slot` was refused: the order stays.
    pub(crate) fn clear_cancel(&mut self, slot: u32) {
        let old = self.slab[slot as usize].cancel_id;
        if old != 0 {
            self.index_remove(old);
            self.slab[slot as usize].cancel_id = 0;
        }
    }

    /// `qty` of the order at `slot` filled: releases that much of its reservation.
    pub(crate) fn fill(&mut self, slot: u32, qty: i64) {
        let e = &mut self.slab[slot as usize];
        let released = qty.clamp(0, e.leaves);
        e.leaves -= released;
        let (i, s) = (e.instrument as usize, side_ix(e.side));
        if let Some(b) = self.books.get_mut(i) {
            b.reserved[s] -= released;
        }
    }

    /// A replacement in flight was confirmed: it now counts as an open order.
    pub(crate) fn promote(&mut self, slot: u32) {
        let e = &mut self.slab[slot as usize];
        if e.live {
            return;
        }
        e.live = true;
        e.replaces = 0;
        if let Some(b) = self.books.get_mut(e.instrument as usize) {
            b.open += 1;
        }
        self.total_open += 1;
    }

    /// Forgets the order at `slot`, releasing what it reserved.
    pub(crate) fn remove(&mut self, slot: u32) {
        let e = self.slab[slot as usize];
        if e.id == 0 {
            return;
        }
        self.index_remove(e.id);
        if e.cancel_id != 0 {
            self.index_remove(e.cancel_id);
        }
        let s = side_ix(e.side);
        if e.prev != NIL {
            self.slab[e.prev as usize].next = e.next;
        } else if let Some(b) = self.books.get_mut(e.instrument as usize) {
            b.heads[s] = e.next;
        }
        if e.next != NIL {
            self.slab[e.next as usize].prev = e.prev;
        }
        self.slab[slot as usize] = EMPTY;
        self.free.push(slot);
        let Some(b) = self.books.get_mut(e.instrument as usize) else { return };
        b.reserved[s] -= e.leaves;
        if e.live {
            b.open -= 1;
            self.total_open -= 1;
        }
        if b.best[s] == e.price {
            // The best went: find the next one on that side.
            let mut best = if s == 0 { i64::MIN } else { i64::MAX };
            let mut at = b.heads[s];
            while at != NIL {
                let o = &self.slab[at as usize];
                best = if s == 0 { best.max(o.price) } else { best.min(o.price) };
                at = o.next;
            }
            b.best[s] = best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tracks_reservations_counts_best_prices_and_cancels() {
        let mut t = OpenOrders::new(2, 8);
        let a = t.insert(10, 0, Side::Buy, 100, 5, 0).unwrap();
        let b = t.insert(11, 0, Side::Buy, 102, 3, 0).unwrap();
        let c = t.insert(12, 0, Side::Sell, 105, 2, 0).unwrap();
        let bk = t.book(0);
        assert_eq!((bk.reserved, bk.open, bk.best), ([8, 2], 3, [102, 105]));
        let r = t.insert(13, 0, Side::Buy, 101, 4, 11).unwrap();
        assert_eq!((t.book(0).reserved[0], t.book(0).open, t.total_open()), (12, 3, 3));
        t.set_cancel(a, 20);
        assert_eq!(t.find(20), Some(Found::CancelOf(a)));
        assert_eq!(t.find(10), Some(Found::Order(a)));
        t.fill(b, 1);
        assert_eq!(t.book(0).reserved[0], 11);
        t.remove(b);
        assert_eq!(t.book(0).best[0], 101, "best buy recomputed from the rest");
        t.promote(r);
        assert_eq!((t.book(0).open, t.total_open()), (3, 3));
        t.remove(a);
        assert_eq!(t.find(20), None, "the cancel key goes with the order");
        t.remove(r);
        t.remove(c);
        let bk = t.book(0);
        assert_eq!((bk.reserved, bk.open, bk.best), ([0, 0], 0, [i64::MIN, i64::MAX]));
        assert_eq!(t.free(), 8);
    }

    proptest! {
        /// The index agrees with a HashMap model through random inserts and removals.
        #[test]
        fn index_matches_a_model(ops in proptest::collection::vec((any::<bool>(), 1u64..64), 1..400)) {
            let mut t = OpenOrders::new(1, 32);
            let mut model = std::collections::HashMap::new();
            for (add, id) in ops {
                if add && !model.contains_key(&id) && t.free() > 0 {
                    let slot = t.insert(id, 0, Side::Buy, id as i64, 1, 0).unwrap();
                    model.insert(id, slot);
                } else if let Some(slot) = model.remove(&id) {
                    t.remove(slot);
                }
                for k in 1u64..64 {
                    prop_assert_eq!(t.find(k), model.get(&k).map(|s| Found::Order(*s)));
                }
                prop_assert_eq!(t.book(0).reserved[0], model.len() as i64);
                let best = model.keys().map(|k| *k as i64).max().unwrap_or(i64::MIN);
                prop_assert_eq!(t.book(0).best[0], best);
            }
        }
    }
}
