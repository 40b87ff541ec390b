//! Momentum: enter on an EMA crossover, leave on a stop-loss, a take-profit or the opposite
//! crossover.
//!
//! Two exponential moving averages of the mid (periods `fast` < `slow`, smoothing
//! `2 / (period + 1)`) are kept in fixed point: the mid's raw value shifted left 16 bits, in
//! an `i128`, so the average moves by integer steps with no float anywhere. Once `slow` quotes
//! have been seen, the fast average crossing above the slow one buys `qty` (IOC at the ask)
//! when flat; crossing below sells. In a position it closes (IOC, the whole position) when the
//! mid reaches the average entry price ∓ `stop_loss`, ± `take_profit` (0 turns either off),
//! or the averages cross back. One order in flight at a time; after risk refuses one it waits
//! [`crate::REJECT_BACKOFF`] quotes.

use rust_decimal::Decimal;
use tickline_engine::position::Position;
use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::{
    ClientOrderId, ExecReport, InstrumentId, OrdType, Px, Qty, Side, Tick, TimeInForce,
};

use crate::leg::{whole, Leg};
use crate::REJECT_BACKOFF;

/// Fraction bits of the moving averages.
const FRAC: u32 = 16;
/// Longest EMA period accepted.
pub const MAX_PERIOD: u32 = 100_000;

/// Momentum parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MomentumParams {
    /// Instrument traded.
    pub leg: Leg,
    /// Fast EMA period, in quotes.
    pub fast: u32,
    /// Slow EMA period, in quotes (> `fast`).
    pub slow: u32,
    /// Entry size.
    pub qty: Qty,
    /// Close when the mid is this far against the entry price (0 = off).
    pub stop_loss: Px,
    /// Close when the mid is this far in favour of the entry price (0 = off).
    pub take_profit: Px,
}

/// Why positions were opened and closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MomentumStats {
    /// Entries sent.
    pub entries: u64,
    /// Stop-loss exits sent.
    pub stop_losses: u64,
    /// Take-profit exits sent.
    pub take_profits: u64,
    /// Exits on the opposite crossover.
    pub signal_exits: u64,
}

/// The momentum strategy.
#[derive(Debug)]
pub struct Momentum {
    name: String,
    p: MomentumParams,
    fast: i128,
    slow: i128,
    seen: u64,
    prev_diff: i128,
    position: Position,
    pending: Option<ClientOrderId>,
    backoff: u32,
    stats: MomentumStats,
}

#[inline]
fn ema(avg: i128, x: i128, period: u32) -> i128 {
    avg + (x - avg) * 2 / (i128::from(period) + 1)
}

impl Momentum {
    /// A momentum strategy named `name`; `fast` must be below `slow`.
    pub fn new(name: &str, params: MomentumParams) -> Result<Momentum, String> {
        if params.fast == 0 || params.fast >= params.slow || params.slow > MAX_PERIOD {
            return Err(format!(
                "strategy {name}: need 1 <= fast < slow <= {MAX_PERIOD} (got {} and {})",
                params.fast, params.slow
            ));
        }
        Ok(Momentum {
            name: name.to_owned(),
            p: params,
            fast: 0,
            slow: 0,
            seen: 0,
            prev_diff: 0,
            position: Position::new(),
            pending: None,
            backoff: 0,
            stats: MomentumStats::default(),
        })
    }

    /// Position and average entry from its own fills.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// Counters.
    pub fn stats(&self) -> MomentumStats {
        self.stats
    }

    /// Fast and slow averages, raw price units (rounded down).
    pub fn averages(&self) -> (i64, i64) {
        ((self.fast >> FRAC) as i64, (self.slow >> FRAC) as i64)
    }

    fn send(&mut self, side: Side, px: Px, qty: Qty, out: &mut OrderSink) {
        let tif = TimeInForce::Ioc;
        self.pending = out.new_order(self.p.leg.id, side, OrdType::Limit, tif, px, qty);
    }
}

impl Strategy for Momentum {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, instrument: InstrumentId) -> bool {
        instrument == self.p.leg.id
    }

    #[inline]
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink) {
        let (Some(mid), Some(bid), Some(ask)) = (tick.mid(), tick.bid(), tick.ask()) else {
            return;
        };
        if bid.px >= ask.px {
            return;
        }
        let x = i128::from(mid.raw()) << FRAC;
        if self.seen == 0 {
            (self.fast, self.slow) = (x, x);
        } else {
            self.fast = ema(self.fast, x, self.p.fast);
            self.slow = ema(self.slow, x, self.p.slow);
        }
        self.seen += 1;
        let diff = self.fast - self.slow;
        let prev = std::mem::replace(&mut self.prev_diff, diff);
        if self.seen <= u64::from(self.p.slow) || self.pending.is_some() {
            return;
        }
        if self.backoff > 0 {
            self.backoff -= 1;
            return;
        }
        let up = prev <= 0 && diff > 0;
        let down = prev >= 0 && diff < 0;
        let pos = self.position.qty().raw();
        if pos == 0 {
            if up {
                self.stats.entries += 1;
                self.send(Side::Buy, ask.px, self.p.qty, out);
            } else if down {
                self.stats.entries += 1;
                self.send(Side::Sell, bid.px, self.p.qty, out);
            }
            return;
        }
        let Some(entry) = self.position.avg_price() else { return };
        let (m, e) = (mid.raw(), entry.raw());
        let (sl, tp) = (self.p.stop_loss.raw(), self.p.take_profit.raw());
        let (against, favour, reverse) =
            if pos > 0 { (e - m, m - e, down) } else { (m - e, e - m, up) };
        let exit = if sl > 0 && against >= sl {
            self.stats.stop_losses += 1;
            true
        } else if tp > 0 && favour >= tp {
            self.stats.take_profits += 1;
            true
        } else if reverse {
            self.stats.signal_exits += 1;
            true
        } else {
            false
        };
        if exit {
            let qty = Qty::from_raw(pos.abs());
            if pos > 0 {
                self.send(Side::Sell, bid.px, qty, out);
            } else {
                self.send(Side::Buy, ask.px, qty, out);
            }
        }
    }

    fn on_exec(&mut self, r: &ExecReport, _out: &mut OrderSink) {
        if r.kind.is_fill() {
            // A fill the book refuses (a zero price from a bad report) changes nothing.
            let _ = self.position.apply_fill(r.side, r.last_qty, r.last_px, r.fee);
        }
        if Some(r.client_id) == self.pending && r.kind.is_terminal() {
            self.pending = None;
            if r.kind == tickline_engine::types::ExecKind::Rejected && r.venue_order_id == 0 {
                self.backoff = REJECT_BACKOFF;
            }
        }
    }

    fn set_param(&mut self, name: &str, value: Decimal) -> Result<(), String> {
        let leg = self.p.leg;
        let mut p = self.p;
        match name {
            "fast" => p.fast = whole(name, value, MAX_PERIOD)?,
            "slow" => p.slow = whole(name, value, MAX_PERIOD)?,
            "qty" => p.qty = leg.size(name, value)?,
            "stop_loss" => p.stop_loss = leg.distance(name, value)?,
            "take_profit" => p.take_profit = leg.distance(name, value)?,
            _ => return Err(format!("strategy {} has no parameter {name:?}", self.name)),
        }
        if p.fast >= p.slow {
            return Err(format!("{name} {value}: fast must stay below slow"));
        }
        self.p = p;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{leg, quote, report, Driver};
    use tickline_engine::types::{ExecKind, OrderIntent};

    fn momentum(sl: i64, tp: i64) -> Momentum {
        Momentum::new(
            "mo",
            MomentumParams {
                leg: leg(0),
                fast: 2,
                slow: 4,
                qty: Qty::from_raw(3),
                stop_loss: Px::from_raw(sl),
                take_profit: Px::from_raw(tp),
            },
        )
        .unwrap()
    }

    /// Feeds mids (spread 2 around each) and returns what was sent, with its tick index.
    fn run(s: &mut Momentum, d: &mut Driver, mids: &[i64]) -> Vec<(usize, OrderIntent)> {
        let mut sent = Vec::new();
        for (k, &m) in mids.iter().enumerate() {
            for o in d.tick(s, quote(0, m - 1, m + 1, 5, 5)) {
                d.exec(s, report(&o, ExecKind::Fill, o.qty.raw(), o.price.raw()));
                sent.push((k, o));
            }
        }
        sent
    }

    #[test]
    fn crossover_up_buys_and_take_profit_sells() {
        let mut s = momentum(50, 20);
        let mut d = Driver::new();
        let sent = run(&mut s, &mut d, &[1_000, 1_000, 1_000, 1_000, 1_000, 1_010, 1_020, 1_031]);
        assert_eq!(sent.len(), 2, "{sent:?}");
        let (k, buy) = &sent[0];
        assert_eq!((*k, buy.side, buy.price.raw(), buy.qty.raw()), (5, Side::Buy, 1_011, 3));
        let (k, sell) = &sent[1];
        // Entry at 1011; mid 1031 is +20: take profit, at the bid.
        assert_eq!((*k, sell.side, sell.price.raw(), sell.qty.raw()), (7, Side::Sell, 1_030, 3));
        assert_eq!(s.stats().take_profits, 1);
        assert_eq!(s.position().qty(), Qty::ZERO);
        assert_eq!(s.position().realized(), 3 * (1_030 - 1_011));
    }

    #[test]
    fn crossover_down_sells_and_stop_loss_buys_back() {
        let mut s = momentum(15, 0);
        let mut d = Driver::new();
        let sent =
            run(&mut s, &mut d, &[1_000, 1_000, 1_000, 1_000, 1_000, 990, 995, 1_004, 1_006]);
        let (k, short) = &sent[0];
        assert_eq!((*k, short.side, short.price.raw()), (5, Side::Sell, 989));
        // Entry 989: mid 1004 is 15 against → stop at the ask.
        let (k, stop) = &sent[1];
        assert_eq!((*k, stop.side, stop.price.raw()), (7, Side::Buy, 1_005));
        assert_eq!(s.stats().stop_losses, 1);
        assert_eq!(s.position().qty(), Qty::ZERO);
    }

    #[test]
    fn waits_after_a_risk_reject() {
        let mut s = momentum(15, 0);
        let mut d = Driver::new();
        for m in [1_000, 1_000, 1_000, 1_000, 1_000] {
            d.tick(&mut s, quote(0, m - 1, m + 1, 1, 1));
        }
        let o = d.tick(&mut s, quote(0, 1_009, 1_011, 1, 1));
        let mut refused = report(&o[0], ExecKind::Rejected, 0, 0);
        refused.venue_order_id = 0;
        d.exec(&mut s, refused);
        // Down and up again: a fresh cross each way, but it sits out the back-off.
        let mut sent = 0;
        for k in 0..crate::REJECT_BACKOFF {
            let m = if k % 8 < 4 { 950 } else { 1_050 };
            sent += d.tick(&mut s, quote(0, m - 1, m + 1, 1, 1)).len();
        }
        assert_eq!(sent, 0);
        let mut later = 0;
        for k in 0..16 {
            let m = if k % 8 < 4 { 950 } else { 1_050 };
            later += d.tick(&mut s, quote(0, m - 1, m + 1, 1, 1)).len();
        }
        assert!(later > 0, "trades again after the back-off");
    }

    #[test]
    fn nothing_during_warm_up_or_while_an_order_is_in_flight() {
        let mut s = momentum(0, 0);
        let mut d = Driver::new();
        assert!(d.tick(&mut s, quote(0, 999, 1_001, 1, 1)).is_empty());
        for m in [1_000, 1_010, 1_020] {
            assert!(d.tick(&mut s, quote(0, m - 1, m + 1, 1, 1)).is_empty(), "warming up");
        }
        let o = d.tick(&mut s, quote(0, 1_029, 1_031, 1, 1));
        assert_eq!(o.len(), 0, "a rising warm-up gives no fresh cross");
        let mut s = momentum(0, 0);
        for m in [1_000, 1_000, 1_000, 1_000, 1_000] {
            d.tick(&mut s, quote(0, m - 1, m + 1, 1, 1));
        }
        let o = d.tick(&mut s, quote(0, 1_009, 1_011, 1, 1));
        assert_eq!(o.len(), 1);
        assert!(d.tick(&mut s, quote(0, 979, 981, 1, 1)).is_empty(), "entry in flight");
        d.exec(&mut s, report(&o[0], ExecKind::Rejected, 0, 0));
        let (f, sl) = s.averages();
        assert!(f < sl, "fast fell below slow");
        assert!(s.set_param("fast", Decimal::new(5, 0)).is_err(), "fast must stay below slow");
        assert!(s.set_param("slow", Decimal::new(10, 0)).is_ok());
        assert!(s.set_param("take_profit", Decimal::new(-1, 0)).is_err());
        assert!(Momentum::new("x", MomentumParams { fast: 10, ..s.p }).is_err());
    }
}
