//! The simulated exchange's matching: our orders against the book rebuilt from the feed.
//!
//! - A marketable order takes liquidity level by level up to its limit (a market order up to
//!   its protection price), paying the taker fee; what is left rests (GTC), expires (IOC,
//!   market) or, for FOK, nothing fills unless all of it can. A post-only order that would
//!   take is rejected.
//! - A resting order joins the back of its price level: the size shown there when it arrives
//!   is ahead of it. Public trades at its price eat that queue first; it fills only with what
//!   trades after the queue ahead is gone, at its own price, paying the maker fee. A trade at
//!   a worse price (the market traded through it) or a quote whose other side reaches it fills
//!   it. A quote showing less size at its level than is ahead of it shortens the queue (the
//!   difference was cancelled ahead of it).
//! - Replaces keep their place only when the price is unchanged and the quantity not raised.
//!
//! Our orders are invisible to the feed, so they never trade with each other and never change
//! the public book except by taking from it. Everything is a function of the calls made and
//! their timestamps: the same inputs give the same fills.

use tickline_engine::types::{
    Aggressor, ClientOrderId, ExecKind, InstrumentId, InstrumentRegistry, Level, Nanos, OrdType,
    OrderIntent, Px, Qty, Side, TimeInForce,
};

use super::book::SimBook;
use crate::order::VenueEvent;

/// Fee of a fill: `notional * rate_ppb / 1e9` at the notional's scale, rounded half away from
/// zero.
#[inline]
pub(crate) fn fee(px: Px, qty: Qty, rate_ppb: i64) -> i64 {
    let notional = i128::from(px.raw()) * i128::from(qty.raw());
    let Some(scaled) = notional.checked_mul(i128::from(rate_ppb)) else {
        return if (notional < 0) == (rate_ppb < 0) { i64::MAX } else { i64::MIN };
    };
    let q = scaled / 1_000_000_000;
    let r = scaled % 1_000_000_000;
    let rounded = if r.abs() * 2 >= 1_000_000_000 { q + scaled.signum() } else { q };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// An order resting on the simulated book.
#[derive(Clone, Copy, Debug)]
struct Resting {
    id: ClientOrderId,
    venue_id: u64,
    instrument: InstrumentId,
    side: Side,
    px: Px,
    qty: Qty,
    cum: Qty,
    /// Public size ahead of it at its level.
    ahead: i64,
    /// Time priority.
    seq: u64,
}

impl Resting {
    #[inline]
    fn leaves(&self) -> i64 {
        self.qty.raw() - self.cum.raw()
    }
}

/// Exchange settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fees {
    pub(crate) maker_ppb: i64,
    pub(crate) taker_ppb: i64,
}

/// The matching engine: books, resting orders, and the events they produce.
#[derive(Debug)]
pub(crate) struct Exchange {
    books: Vec<SimBook>,
    /// Grids per instrument (tick, lot) for parameter checks.
    grids: Vec<(Px, Qty)>,
    resting: Vec<Resting>,
    max_resting: usize,
    /// Indices into `resting`, scratch for priority order.
    scratch: Vec<usize>,
    fees: Fees,
    next_seq: u64,
    next_venue_id: u64,
}

impl Exchange {
    pub(crate) fn new(
        registry: &InstrumentRegistry,
        depth: usize,
        max_resting: usize,
        fees: Fees,
    ) -> Exchange {
        Exchange {
            books: (0..registry.len()).map(|_| SimBook::new(depth)).collect(),
            grids: registry.iter().map(|i| (i.tick_size, i.lot_size)).collect(),
            resting: Vec::with_capacity(max_resting),
            max_resting,
            scratch: Vec::with_capacity(max_resting),
            fees,
            next_seq: 1,
            next_venue_id: 1,
        }
    }

    /// Orders resting.
    pub(crate) fn resting(&self) -> usize {
        self.resting.len()
    }

    /// The book of an instrument.
    pub(crate) fn book(&self, instrument: InstrumentId) -> Option<&SimBook> {
        self.books.get(instrument.index())
    }

    /// Replaces one side of a book (an L2 snapshot) at exchange time `t`.
    pub(crate) fn set_side(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        levels: &[Level],
        t: Nanos,
        emit: &mut impl FnMut(VenueEvent),
    ) {
        if let Some(b) = self.books.get_mut(instrument.index()) {
            b.set_side(side, levels);
        }
        self.requeue_after_quote(instrument, t, emit);
    }

    /// Queue position of a resting order: public size ahead of it.
    pub(crate) fn queue_ahead(&self, id: ClientOrderId) -> Option<Qty> {
        self.resting.iter().find(|r| r.id == id).map(|r| Qty::from_raw(r.ahead))
    }

    // --- orders -------------------------------------------------------------------------

    fn valid(&self, instrument: InstrumentId, ord_type: OrdType, px: Px, qty: Qty) -> bool {
        let Some(&(tick, lot)) = self.grids.get(instrument.index()) else { return false };
        qty.is_positive()
            && qty.is_multiple_of(lot)
            && px.is_positive()
            && (ord_type == OrdType::Market || px.is_multiple_of(tick))
    }

    /// A new order arrives at exchange time `t`.
    pub(crate) fn new_order(
        &mut self,
        i: &OrderIntent,
        t: Nanos,
        emit: &mut impl FnMut(VenueEvent),
    ) {
        let plain = |kind| VenueEvent::plain(kind, i.client_id, t);
        if !self.valid(i.instrument, i.ord_type, i.price, i.qty) {
            emit(plain(ExecKind::Rejected));
            return;
        }
        let book = &self.books[i.instrument.index()];
        let marketable =
            book.opposite(i.side).available(i.price).is_positive() || i.ord_type == OrdType::Market;
        let rests = i.ord_type == OrdType::Limit
            && matches!(i.tif, TimeInForce::Gtc | TimeInForce::PostOnly);
        if (i.tif == TimeInForce::PostOnly && marketable)
            || (rests && self.resting.len() >= self.max_resting)
        {
            emit(plain(ExecKind::Rejected));
            return;
        }
        let venue_id = self.next_venue_id;
        self.next_venue_id += 1;
        emit(VenueEvent { venue_order_id: venue_id, leaves_qty: i.qty, ..plain(ExecKind::New) });
        // A market order walks to its protection price, a limit order to its limit.
        let limit = i.price;
        let book = &mut self.books[i.instrument.index()];
        let fok_short = i.tif == TimeInForce::Fok && book.opposite(i.side).available(limit) < i.qty;
        let mut cum = 0i64;
        if !fok_short {
            let taker = self.fees.taker_ppb;
            let qty = i.qty;
            book.opposite_mut(i.side).take(limit, qty, |px, n| {
                cum += n.raw();
                emit(VenueEvent {
                    kind: if cum == qty.raw() { ExecKind::Fill } else { ExecKind::PartialFill },
                    venue_order_id: venue_id,
                    last_px: px,
                    last_qty: n,
                    cum_qty: Qty::from_raw(cum),
                    leaves_qty: Qty::from_raw(qty.raw() - cum),
                    fee: fee(px, n, taker),
                    ..plain(ExecKind::PartialFill)
                });
            });
        }
        if cum == i.qty.raw() {
            return;
        }
        if rests {
            let ahead = self.books[i.instrument.index()].own(i.side).qty_at(i.price).raw();
            let seq = self.next_seq;
            self.next_seq += 1;
            self.resting.push(Resting {
                id: i.client_id,
                venue_id,
                instrument: i.instrument,
                side: i.side,
                px: i.price,
                qty: i.qty,
                cum: Qty::from_raw(cum),
                ahead,
                seq,
            });
        } else {
            emit(VenueEvent {
                venue_order_id: venue_id,
                cum_qty: Qty::from_raw(cum),
                ..plain(ExecKind::Expired)
            });
        }
    }

    /// A cancel of `target` arrives (`request` is the cancel's own id).
    pub(crate) fn cancel(
        &mut self,
        target: ClientOrderId,
        request: ClientOrderId,
        t: Nanos,
        emit: &mut impl FnMut(VenueEvent),
    ) {
        match self.resting.iter().position(|r| r.id == target) {
            Some(k) => {
                let r = self.resting.remove(k);
                emit(VenueEvent {
                    request,
                    venue_order_id: r.venue_id,
                    cum_qty: r.cum,
                    ..VenueEvent::plain(ExecKind::Cancelled, target, t)
                });
            }
            None => emit(VenueEvent {
                request,
                ..VenueEvent::plain(ExecKind::CancelRejected, target, t)
            }),
        }
    }

    /// A replace of `target` by `new` arrives.
    pub(crate) fn replace(
        &mut self,
        target: ClientOrderId,
        new: &OrderIntent,
        t: Nanos,
        emit: &mut impl FnMut(VenueEvent),
    ) {
        let refuse = VenueEvent {
            request: new.client_id,
            ..VenueEvent::plain(ExecKind::CancelRejected, target, t)
        };
        let Some(k) = self.resting.iter().position(|r| r.id == target) else {
            emit(refuse);
            return;
        };
        let r = self.resting[k];
        if !self.valid(r.instrument, OrdType::Limit, new.price, new.qty)
            || new.qty.raw() <= r.cum.raw()
        {
            emit(refuse);
            return;
        }
        let keeps_place = new.price == r.px && new.qty.raw() <= r.qty.raw();
        let mut r2 = Resting { id: new.client_id, px: new.price, qty: new.qty, ..r };
        if !keeps_place {
            r2.seq = self.next_seq;
            self.next_seq += 1;
            r2.ahead = self.books[r.instrument.index()].own(r.side).qty_at(new.price).raw();
        }
        self.resting.remove(k);
        emit(VenueEvent {
            request: new.client_id,
            venue_order_id: r.venue_id,
            cum_qty: r.cum,
            leaves_qty: Qty::from_raw(r2.leaves()),
            ..VenueEvent::plain(ExecKind::Replaced, new.client_id, t)
        });
        // A replace to a marketable price takes liquidity first.
        let book = &mut self.books[r.instrument.index()];
        let taker = self.fees.taker_ppb;
        let mut cum = r2.cum.raw();
        let qty = r2.qty;
        book.opposite_mut(r.side).take(r2.px, Qty::from_raw(r2.leaves()), |px, n| {
            cum += n.raw();
            emit(VenueEvent {
                kind: if cum == qty.raw() { ExecKind::Fill } else { ExecKind::PartialFill },
                venue_order_id: r.venue_id,
                last_px: px,
                last_qty: n,
                cum_qty: Qty::from_raw(cum),
                leaves_qty: Qty::from_raw(qty.raw() - cum),
                fee: fee(px, n, taker),
                ..VenueEvent::plain(ExecKind::PartialFill, new.client_id, t)
            });
        });
        r2.cum = Qty::from_raw(cum);
        if r2.leaves() > 0 {
            // Keep time priority order in the vector: a requeued order goes last.
            if keeps_place {
                self.resting.insert(k, r2);
            } else {
                self.resting.push(r2);
            }
        }
    }

    // --- market data --------------------------------------------------------------------

    /// A top-of-book quote at exchange time `t`.
    pub(crate) fn on_quote(
        &mut self,
        instrument: InstrumentId,
        bid: Level,
        ask: Level,
        t: Nanos,
        emit: &mut impl FnMut(VenueEvent),
    ) {
        let Some(book) = self.books.get_mut(instrument.index()) else { return };
        book.on_quote(bid, ask);
        self.requeue_after_quote(instrument, t, emit);
    }

    /// After the book changed: shorten queues to what is shown, and fill orders the other
    /// side now reaches (best price first, then time).
    fn requeue_after_quote(
        &mut self,
        instrument: InstrumentId,
        t: Nanos,
        emit: &mut impl FnMut(VenueEvent),
    ) {
        let Some(book) = self.books.get(instrument.index()) else { return };
        let best_bid = book.bids.best();
        let best_ask = book.asks.best();
        for r in self.resting.iter_mut().filter(|r| r.instrument == instrument) {
            let own = book.own(r.side);
            let shown = own.qty_at(r.px).raw();
            let touch = own.best().map(|l| l.px);
            let behind_touch = match (r.side, touch) {
                (Side::Buy, Some(p)) => p > r.px,
                (Side::Sell, Some(p)) => p < r.px,
                (_, None) => false,
            };
            if !behind_touch {
                // At or through the touch: what is shown there is all that can be ahead.
                r.ahead = r.ahead.min(shown);
            }
        }
        // Crossing: the other side reaches our price.
        self.scratch.clear();
        for (k, r) in self.resting.iter().enumerate() {
            if r.instrument != instrument {
                continue;
            }
            let reached = match r.side {
                Side::Buy => best_ask.is_some_and(|a| a.px <= r.px),
                Side::Sell => best_bid.is_some_and(|b| b.px >= r.px),
            };
            if reached {
                self.scratch.push(k);
            }
        }
        if self.scratch.is_empty() {
            return;
        }
        let resting = &self.resting;
        self.scratch.sort_unstable_by_key(|&k| {
            let r = &resting[k];
            let px_key = match r.side {
                Side::Buy => -r.px.raw(),
                Side::Sell => r.px.raw(),
            };
            (r.side as u8, px_key, r.seq)
        });
        let mut avail_bid = best_bid.map_or(0, |l| l.qty.raw());
        let mut avail_ask = best_ask.map_or(0, |l| l.qty.raw());
        for n in 0..self.scratch.len() {
            let k = self.scratch[n];
            let avail = match self.resting[k].side {
                Side::Buy => &mut avail_ask,
                Side::Sell => &mut avail_bid,
            };
            let q = self.resting[k].leaves().min(*avail);
            if q > 0 {
                *avail -= q;
                self.fill_resting(k, q, t, emit);
            }
        }
        self.resting.retain(|r| r.leaves() > 0);
    }

    /// A public trade at exchange time `t`.
    pub(crate) fn on_trade(
        &mut self,
        instrument: InstrumentId,
        trade: Level,
        aggressor: Aggressor,
        t: Nanos,
        emit: &mut impl FnMut(VenueEvent),
    ) {
        let p = trade.px;
        // Buys are hit by sellers, sells lifted by buyers; an unknown aggressor could be
        // either.
        for side in [Side::Buy, Side::Sell] {
            let hits = !matches!(
                (side, aggressor),
                (Side::Buy, Aggressor::Buy) | (Side::Sell, Aggressor::Sell)
            );
            if !hits {
                continue;
            }
            // Traded through: every order at a better price than the print fills.
            for k in 0..self.resting.len() {
                let r = self.resting[k];
                let through = r.instrument == instrument
                    && r.side == side
                    && match side {
                        Side::Buy => p < r.px,
                        Side::Sell => p > r.px,
                    };
                if through && r.leaves() > 0 {
                    self.fill_resting(k, r.leaves(), t, emit);
                }
            }
            // At the print's price: the queue ahead goes first, then our orders in time order.
            let mut rem = trade.qty.raw();
            let mut prev_ahead = 0i64;
            let mut market_taken = 0i64;
            for k in 0..self.resting.len() {
                let r = self.resting[k];
                if r.instrument != instrument || r.side != side || r.px != p || r.leaves() <= 0 {
                    continue;
                }
                let gap = (r.ahead - prev_ahead).max(0);
                prev_ahead = r.ahead;
                let take = rem.min(gap);
                rem -= take;
                market_taken += take;
                self.resting[k].ahead = (r.ahead - market_taken).max(0);
                let q = rem.min(r.leaves());
                if q > 0 {
                    rem -= q;
                    self.fill_resting(k, q, t, emit);
                }
            }
        }
        self.resting.retain(|r| r.leaves() > 0);
    }

    /// Fills `q` of resting order `k` at its own price, as maker.
    fn fill_resting(&mut self, k: usize, q: i64, t: Nanos, emit: &mut impl FnMut(VenueEvent)) {
        let r = &mut self.resting[k];
        r.cum = Qty::from_raw(r.cum.raw() + q);
        let done = r.leaves() == 0;
        emit(VenueEvent {
            venue_order_id: r.venue_id,
            last_px: r.px,
            last_qty: Qty::from_raw(q),
            cum_qty: r.cum,
            leaves_qty: Qty::from_raw(r.leaves()),
            fee: fee(r.px, Qty::from_raw(q), self.fees.maker_ppb),
            ..VenueEvent::plain(if done { ExecKind::Fill } else { ExecKind::PartialFill }, r.id, t)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_round_half_away_from_zero() {
        // 100.00 x 3 at scales 2 and 0: notional raw 30000; 10 bp = 1e6 ppb -> 30.
        assert_eq!(fee(Px::from_raw(10_000), Qty::from_raw(3), 1_000_000), 30);
        // 0.5 rounds away from zero, either sign.
        assert_eq!(fee(Px::from_raw(1), Qty::from_raw(1), 500_000_000), 1);
        assert_eq!(fee(Px::from_raw(1), Qty::from_raw(1), -500_000_000), -1);
        assert_eq!(fee(Px::from_raw(1), Qty::from_raw(1), 499_999_999), 0);
        assert_eq!(fee(Px::from_raw(i64::MAX), Qty::from_raw(i64::MAX), 1_000_000_000), i64::MAX);
    }
}
