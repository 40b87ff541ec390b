//! A market maker: two-sided quotes around the mid or the microprice, skewed by inventory,
//! moved by cancel/replace only when the target moved past a threshold.
//!
//! Each quote tick of its instrument sets a fair value (mid, or the microprice
//! `(bid × ask_qty + ask × bid_qty) / (bid_qty + ask_qty)`, which leans toward the thinner
//! side), shifts it against inventory by `skew` per `qty` held (long → both quotes lower, so
//! it sells more readily), and quotes `half_spread` either side on the tick grid, never
//! crossing the market. A side whose fill would take the position past `max_position` is
//! cancelled and not re-quoted. A resting quote is replaced only once its target has moved
//! `requote` or more, and never while a replace or cancel of it is in flight. A bid is kept
//! below our own ask (and an ask above our own bid), in flight or resting, so it never asks
//! risk to pass a self-trade; after risk refuses one of its orders a side waits
//! [`crate::REJECT_BACKOFF`] quotes before trying again, so a throttle is not hammered.
//!
//! Integer arithmetic throughout (i128 for the products); nothing allocates.

use rust_decimal::Decimal;
use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::{
    ClientOrderId, ExecKind, ExecReport, InstrumentId, OrdType, Px, Qty, Side, Tick, TimeInForce,
};

use crate::leg::Leg;
use crate::REJECT_BACKOFF;

/// What the quotes centre on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FairValue {
    /// `(bid + ask) / 2`.
    Mid,
    /// The size-weighted microprice.
    Microprice,
}

/// Market maker parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketMakerParams {
    /// Instrument quoted.
    pub leg: Leg,
    /// Mid or microprice.
    pub fair: FairValue,
    /// Distance of each quote from the (skewed) fair value.
    pub half_spread: Px,
    /// Size of each quote.
    pub qty: Qty,
    /// Shift of both quotes per `qty` of inventory, against the inventory.
    pub skew: Px,
    /// Largest absolute position it quotes into.
    pub max_position: Qty,
    /// How far a quote's target must move before it is replaced.
    pub requote: Px,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Quote {
    id: ClientOrderId,
    px: Px,
    /// The order a replace in flight replaces, and its price.
    prev: Option<(ClientOrderId, Px)>,
    /// A cancel in flight.
    cancel: Option<ClientOrderId>,
}

/// Counters for tests and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarketMakerStats {
    /// New quotes sent.
    pub quotes: u64,
    /// Replaces sent.
    pub replaces: u64,
    /// Cancels sent.
    pub cancels: u64,
    /// Fills received.
    pub fills: u64,
}

/// The market maker.
#[derive(Debug)]
pub struct MarketMaker {
    name: String,
    p: MarketMakerParams,
    /// Bid quote, ask quote.
    quotes: [Option<Quote>; 2],
    position: i64,
    /// Per side: quotes left to sit out after a risk reject.
    backoff: [u32; 2],
    stats: MarketMakerStats,
}

const fn ix(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

impl MarketMaker {
    /// A market maker named `name`.
    pub fn new(name: &str, params: MarketMakerParams) -> MarketMaker {
        MarketMaker {
            name: name.to_owned(),
            p: params,
            quotes: [None, None],
            position: 0,
            backoff: [0; 2],
            stats: MarketMakerStats::default(),
        }
    }

    /// Position from its own fills, raw.
    pub fn position(&self) -> i64 {
        self.position
    }

    /// Counters.
    pub fn stats(&self) -> MarketMakerStats {
        self.stats
    }

    /// Parameters in force.
    pub fn params(&self) -> &MarketMakerParams {
        &self.p
    }

    /// The resting (or in-flight) quote prices: bid, ask.
    pub fn quoted(&self) -> (Option<Px>, Option<Px>) {
        (self.quotes[0].map(|q| q.px), self.quotes[1].map(|q| q.px))
    }

    /// Bid and ask targets for a top of book, or `None` if the book is one-sided or crossed.
    fn targets(&self, bid: Px, bid_qty: Qty, ask: Px, ask_qty: Qty) -> Option<(i64, i64)> {
        let (b, a) = (bid.raw(), ask.raw());
        if b <= 0 || a <= b {
            return None;
        }
        let p = &self.p;
        let fair = match p.fair {
            FairValue::Mid => i128::from(b) + (i128::from(a) - i128::from(b)) / 2,
            FairValue::Microprice => {
                let (bq, aq) = (i128::from(bid_qty.raw()), i128::from(ask_qty.raw()));
                if bq <= 0 || aq <= 0 {
                    i128::from(b) + (i128::from(a) - i128::from(b)) / 2
                } else {
                    (i128::from(b) * aq + i128::from(a) * bq) / (aq + bq)
                }
            }
        };
        let shift =
            i128::from(p.skew.raw()) * i128::from(self.position) / i128::from(p.qty.raw().max(1));
        let centre = fair - shift;
        let half = i128::from(p.half_spread.raw());
        let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
        let tick = p.leg.tick.raw().max(1);
        // Never cross the market: a bid below the ask, an ask above the bid.
        let bid_t = p.leg.floor(clamp(centre - half)).min(a - tick);
        let ask_t = p.leg.ceil(clamp(centre + half)).max(b + tick);
        if bid_t <= 0 {
            return None;
        }
        Some((bid_t, ask_t.max(bid_t + tick)))
    }

    /// Our own best price on `side`, counting a replace in flight at both prices.
    fn own(&self, side: Side) -> Option<i64> {
        let q = self.quotes[ix(side)]?;
        let prev = q.prev.map_or(q.px.raw(), |(_, px)| px.raw());
        Some(match side {
            Side::Buy => q.px.raw().max(prev),
            Side::Sell => q.px.raw().min(prev),
        })
    }

    fn quote_side(&mut self, side: Side, target: i64, out: &mut OrderSink) {
        let s = ix(side);
        if self.backoff[s] > 0 {
            self.backoff[s] -= 1;
            return;
        }
        let p = self.p;
        let allowed = match side {
            Side::Buy => self.position.saturating_add(p.qty.raw()) <= p.max_position.raw(),
            Side::Sell => self.position.saturating_sub(p.qty.raw()) >= -p.max_position.raw(),
        };
        let slot = &mut self.quotes[s];
        match slot {
            None if allowed => {
                let px = Px::from_raw(target);
                let tif = TimeInForce::PostOnly;
                if let Some(id) = out.new_order(p.leg.id, side, OrdType::Limit, tif, px, p.qty) {
                    *slot = Some(Quote { id, px, prev: None, cancel: None });
                    self.stats.quotes += 1;
                }
            }
            Some(q) if !allowed && q.cancel.is_none() => {
                q.cancel = out.cancel(p.leg.id, side, q.id);
                self.stats.cancels += u64::from(q.cancel.is_some());
            }
            Some(q)
                if allowed
                    && q.cancel.is_none()
                    && q.prev.is_none()
                    && target.abs_diff(q.px.raw()) >= p.requote.raw().max(1).unsigned_abs() =>
            {
                let px = Px::from_raw(target);
                if let Some(id) = out.replace(p.leg.id, side, q.id, px, p.qty) {
                    q.prev = Some((q.id, q.px));
                    q.id = id;
                    q.px = px;
                    self.stats.replaces += 1;
                }
            }
            _ => {}
        }
    }
}

impl Strategy for MarketMaker {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, instrument: InstrumentId) -> bool {
        instrument == self.p.leg.id
    }

    #[inline]
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink) {
        let (Some(bid), Some(ask)) = (tick.bid(), tick.ask()) else { return };
        let Some((mut b, mut a)) = self.targets(bid.px, bid.qty, ask.px, ask.qty) else { return };
        let tick = self.p.leg.tick.raw().max(1);
        // Never through our own other side: risk would refuse it as a self-trade.
        if let Some(own_ask) = self.own(Side::Sell) {
            b = b.min(own_ask - tick);
        }
        if let Some(own_bid) = self.own(Side::Buy) {
            a = a.max(own_bid + tick);
        }
        if b <= 0 {
            return;
        }
        self.quote_side(Side::Buy, b, out);
        self.quote_side(Side::Sell, a, out);
    }

    fn on_exec(&mut self, r: &ExecReport, _out: &mut OrderSink) {
        if r.kind.is_fill() {
            self.position += r.side.sign() * r.last_qty.raw();
            self.stats.fills += 1;
        }
        let s = ix(r.side);
        let id = r.client_id;
        let ours = self.quotes[s].is_some_and(|q| {
            id == q.id || q.prev.is_some_and(|(pid, _)| pid == id) || q.cancel == Some(id)
        });
        if ours && r.kind == ExecKind::Rejected && r.venue_order_id == 0 {
            // Risk refused it (venue order id 0): sit this side out for a while.
            self.backoff[s] = REJECT_BACKOFF;
        }
        let Some(q) = self.quotes[s].as_mut() else { return };
        if id == q.id {
            match r.kind {
                ExecKind::Fill | ExecKind::Cancelled | ExecKind::Expired => self.quotes[s] = None,
                ExecKind::Replaced => q.prev = None,
                ExecKind::Rejected | ExecKind::CancelRejected => match q.prev.take() {
                    // A refused replace: the original still rests.
                    Some((pid, ppx)) => {
                        q.id = pid;
                        q.px = ppx;
                    }
                    None => self.quotes[s] = None,
                },
                ExecKind::New | ExecKind::PartialFill => {}
            }
        } else if q.prev.is_some_and(|(pid, _)| pid == id) {
            if r.kind.is_terminal() {
                // The original went before the replace landed; the replace will be refused.
                q.prev = None;
            }
        } else if q.cancel == Some(id) {
            match r.kind {
                // The venue confirmed our cancel, or risk refused it (the order is gone).
                ExecKind::Cancelled | ExecKind::Rejected => self.quotes[s] = None,
                ExecKind::CancelRejected => q.cancel = None,
                _ => {}
            }
        }
    }

    fn set_param(&mut self, name: &str, value: Decimal) -> Result<(), String> {
        let leg = self.p.leg;
        match name {
            "half_spread" => self.p.half_spread = leg.distance(name, value)?,
            "qty" => self.p.qty = leg.size(name, value)?,
            "skew" => self.p.skew = leg.distance(name, value)?,
            "max_position" => self.p.max_position = leg.cap(name, value)?,
            "requote" => self.p.requote = leg.distance(name, value)?,
            "microprice" => {
                self.p.fair = match value {
                    v if v.is_zero() => FairValue::Mid,
                    v if v == Decimal::ONE => FairValue::Microprice,
                    v => return Err(format!("microprice {v}: 0 (mid) or 1 (microprice)")),
                }
            }
            _ => return Err(format!("strategy {} has no parameter {name:?}", self.name)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{leg, quote, report, Driver};
    use tickline_engine::types::Action;

    fn mm(fair: FairValue) -> MarketMaker {
        MarketMaker::new(
            "mm",
            MarketMakerParams {
                leg: leg(0),
                fair,
                half_spread: Px::from_raw(10),
                qty: Qty::from_raw(2),
                skew: Px::from_raw(4),
                max_position: Qty::from_raw(4),
                requote: Px::from_raw(3),
            },
        )
    }

    #[test]
    fn quotes_both_sides_around_mid_and_requotes_past_the_threshold() {
        let mut s = mm(FairValue::Mid);
        let mut d = Driver::new();
        let o = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        assert_eq!(o.len(), 2);
        assert_eq!(
            (o[0].side, o[0].price.raw(), o[0].tif),
            (Side::Buy, 990, TimeInForce::PostOnly)
        );
        assert_eq!((o[1].side, o[1].price.raw(), o[1].qty.raw()), (Side::Sell, 1_010, 2));
        assert!(d.tick(&mut s, quote(0, 997, 1_007, 5, 5)).is_empty(), "moved 2 < 3");
        let r = d.tick(&mut s, quote(0, 998, 1_008, 5, 5));
        assert_eq!(r.len(), 2, "moved 3: replace both");
        assert!(r.iter().all(|i| i.action == Action::Replace));
        assert_eq!((r[0].target, r[0].price.raw()), (o[0].client_id, 993));
        assert!(d.tick(&mut s, quote(0, 1_010, 1_020, 5, 5)).is_empty(), "replace in flight");
        // The bid replace is refused: the original bid at 990 still rests.
        d.exec(&mut s, report(&r[0], ExecKind::CancelRejected, 0, 0));
        assert_eq!(s.quoted().0, Some(Px::from_raw(990)));
        d.exec(&mut s, report(&r[1], ExecKind::Replaced, 0, 0));
        let again = d.tick(&mut s, quote(0, 1_010, 1_020, 5, 5));
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].target, o[0].client_id, "replaces the original bid");
    }

    #[test]
    fn microprice_leans_toward_the_thin_side_and_inventory_skews() {
        let mut s = mm(FairValue::Microprice);
        let mut d = Driver::new();
        // Heavy bid (9 vs 1): microprice (995×1 + 1005×9)/10 = 1004.
        let o = d.tick(&mut s, quote(0, 995, 1_005, 9, 1));
        assert_eq!((o[0].price.raw(), o[1].price.raw()), (994, 1_014));
        // The bid fills: long 2 = one clip, so both quotes shift down by 4.
        d.exec(&mut s, report(&o[0], ExecKind::Fill, 2, 994));
        assert_eq!(s.position(), 2);
        let n = d.tick(&mut s, quote(0, 995, 1_005, 9, 1));
        assert_eq!(n.len(), 2, "a new bid, and the ask moved 4 >= 3");
        assert_eq!((n[0].action, n[0].price.raw()), (Action::New, 990));
        assert_eq!((n[1].action, n[1].price.raw()), (Action::Replace, 1_010));
    }

    #[test]
    fn stops_quoting_a_side_at_the_position_cap_and_cancels_it() {
        let mut s = mm(FairValue::Mid);
        let mut d = Driver::new();
        let o = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        d.exec(&mut s, report(&o[0], ExecKind::Fill, 2, 990));
        let n = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        d.exec(&mut s, report(&n[0], ExecKind::Fill, 2, 990));
        assert_eq!(s.position(), 4, "at the cap");
        let c = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        assert!(c.iter().all(|i| i.side == Side::Sell), "no bid at the cap: {c:?}");
        // A resting bid is cancelled once the cap is reached.
        let mut s = mm(FairValue::Mid);
        let o = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        d.exec(&mut s, report(&o[0], ExecKind::PartialFill, 2, 990));
        d.exec(&mut s, report(&o[1], ExecKind::Cancelled, 0, 0));
        let before = s.stats().cancels;
        s.position = 4;
        let c = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        assert_eq!((c[0].action, c[0].target), (Action::Cancel, o[0].client_id));
        assert_eq!(s.stats().cancels, before + 1);
        d.exec(&mut s, report(&c[0], ExecKind::Cancelled, 0, 0));
        assert_eq!(s.quoted().0, None);
    }

    #[test]
    fn risk_rejects_clear_the_quote_and_params_change_at_run_time() {
        let mut s = mm(FairValue::Mid);
        let mut d = Driver::new();
        let o = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        d.exec(&mut s, report(&o[0], ExecKind::Rejected, 0, 0));
        assert_eq!(s.quoted().0, None);
        assert!(s.set_param("half_spread", Decimal::new(20, 2)).is_ok());
        assert!(s.set_param("qty", Decimal::new(5, 1)).is_err(), "off the lot grid");
        assert!(s.set_param("nope", Decimal::ONE).is_err());
        s.set_param("microprice", Decimal::ONE).unwrap();
        assert_eq!(s.params().fair, FairValue::Microprice);
        let n = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        assert_eq!(n[0].price.raw(), 980, "new half spread");
        assert!(d.tick(&mut s, quote(0, 1_005, 995, 5, 5)).is_empty(), "crossed book: nothing");
    }

    #[test]
    fn backs_off_after_a_risk_reject_and_never_quotes_through_itself() {
        let mut s = mm(FairValue::Mid);
        let mut d = Driver::new();
        let o = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        let mut refused = report(&o[0], ExecKind::Rejected, 0, 0);
        refused.venue_order_id = 0; // risk's own reject
        d.exec(&mut s, refused);
        for _ in 0..REJECT_BACKOFF {
            let n = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
            assert!(n.iter().all(|i| i.side == Side::Sell), "bid sits out: {n:?}");
        }
        let n = d.tick(&mut s, quote(0, 995, 1_005, 5, 5));
        assert_eq!((n[0].side, n[0].price.raw()), (Side::Buy, 990), "then quotes again");
        // The market jumps 30 up: the bid may not pass our own ask at 1010 until it moves.
        let j = d.tick(&mut s, quote(0, 1_025, 1_035, 5, 5));
        let bid = j.iter().find(|i| i.side == Side::Buy).unwrap();
        let ask = j.iter().find(|i| i.side == Side::Sell).unwrap();
        assert_eq!((bid.price.raw(), ask.price.raw()), (1_009, 1_040));
    }
}
