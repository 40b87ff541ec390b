//! Spread mean reversion between two instruments (or one instrument on two venues).
//!
//! The spread is `mid(a) − mid(b)`, both mids brought to the finer of the two price scales.
//! Its mean is an EMA over `window` spreads, kept in fixed point (16 fraction bits, `i128`).
//! Once `window` spreads have been seen, a spread `entry` or more above its mean sells the
//! spread (sell `qty_a` of a at its bid, buy `qty_b` of b at its ask, both IOC); `entry` or
//! more below buys it. While a position is on, the spread coming back within `exit` of its
//! mean flattens both legs (each by its own filled position, so a leg that did not fill is
//! simply not traded back). No new orders while any leg order is in flight, nor for
//! [`crate::REJECT_BACKOFF`] spreads after risk refused a leg.

use rust_decimal::Decimal;
use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::{
    ClientOrderId, ExecReport, InstrumentId, OrdType, Px, Qty, Scale, Side, Tick, TimeInForce,
};

use crate::leg::{whole, Leg};
use crate::REJECT_BACKOFF;

/// Fraction bits of the mean.
const FRAC: u32 = 16;
/// Longest window accepted.
pub const MAX_WINDOW: u32 = 1_000_000;

/// Spread strategy parameters. `entry` and `exit` are at [`SpreadParams::scale`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpreadParams {
    /// First leg (the spread is `a − b`).
    pub a: Leg,
    /// Second leg.
    pub b: Leg,
    /// EMA period of the spread's mean, in spreads.
    pub window: u32,
    /// Deviation from the mean that opens a position.
    pub entry: Px,
    /// Deviation within which an open position is closed (below `entry`).
    pub exit: Px,
    /// Size traded on leg a.
    pub qty_a: Qty,
    /// Size traded on leg b.
    pub qty_b: Qty,
}

impl SpreadParams {
    /// The price scale the spread, `entry` and `exit` are expressed at: the finer leg's.
    pub fn scale(a: &Leg, b: &Leg) -> Scale {
        a.price_scale.max(b.price_scale)
    }
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpreadStats {
    /// Spreads bought (long a, short b).
    pub bought: u64,
    /// Spreads sold.
    pub sold: u64,
    /// Exits sent.
    pub exits: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct LegState {
    bid: i64,
    ask: i64,
    /// `10^(scale − leg price scale)`.
    factor: i64,
    position: i64,
    pending: Option<ClientOrderId>,
}

impl LegState {
    fn mid(&self) -> Option<i64> {
        (self.bid > 0 && self.ask > self.bid).then(|| self.bid + (self.ask - self.bid) / 2)
    }
}

/// The spread strategy.
#[derive(Debug)]
pub struct SpreadReversion {
    name: String,
    p: SpreadParams,
    legs: [LegState; 2],
    mean: i128,
    seen: u64,
    last_dev: i64,
    backoff: u32,
    stats: SpreadStats,
}

impl SpreadReversion {
    /// A spread strategy named `name`.
    pub fn new(name: &str, params: SpreadParams) -> Result<SpreadReversion, String> {
        if params.a.id == params.b.id {
            return Err(format!("strategy {name}: the two legs must differ"));
        }
        if params.window == 0 || params.window > MAX_WINDOW || params.exit >= params.entry {
            return Err(format!(
                "strategy {name}: need 1 <= window <= {MAX_WINDOW} and exit < entry"
            ));
        }
        let scale = SpreadParams::scale(&params.a, &params.b);
        let factor = |l: &Leg| 10i64.pow(u32::from(scale.places() - l.price_scale.places()));
        let leg = |l: &Leg| LegState { factor: factor(l), ..LegState::default() };
        Ok(SpreadReversion {
            name: name.to_owned(),
            legs: [leg(&params.a), leg(&params.b)],
            p: params,
            mean: 0,
            seen: 0,
            last_dev: 0,
            backoff: 0,
            stats: SpreadStats::default(),
        })
    }

    /// Positions of legs a and b from its own fills, raw.
    pub fn positions(&self) -> (i64, i64) {
        (self.legs[0].position, self.legs[1].position)
    }

    /// The last spread's deviation from its mean, at the spread scale.
    pub fn deviation(&self) -> i64 {
        self.last_dev
    }

    /// Counters.
    pub fn stats(&self) -> SpreadStats {
        self.stats
    }

    fn leg(&self, i: usize) -> &Leg {
        if i == 0 {
            &self.p.a
        } else {
            &self.p.b
        }
    }

    fn send(&mut self, i: usize, side: Side, qty: i64, out: &mut OrderSink) {
        let id = self.leg(i).id;
        let l = &mut self.legs[i];
        let px = Px::from_raw(if side == Side::Buy { l.ask } else { l.bid });
        let tif = TimeInForce::Ioc;
        l.pending = out.new_order(id, side, OrdType::Limit, tif, px, Qty::from_raw(qty));
    }
}

impl Strategy for SpreadReversion {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, instrument: InstrumentId) -> bool {
        instrument == self.p.a.id || instrument == self.p.b.id
    }

    #[inline]
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink) {
        let (Some(bid), Some(ask)) = (tick.bid(), tick.ask()) else { return };
        let i = if tick.instrument() == self.p.a.id { 0 } else { 1 };
        self.legs[i].bid = bid.px.raw();
        self.legs[i].ask = ask.px.raw();
        let (Some(ma), Some(mb)) = (self.legs[0].mid(), self.legs[1].mid()) else { return };
        let spread = i128::from(ma) * i128::from(self.legs[0].factor)
            - i128::from(mb) * i128::from(self.legs[1].factor);
        let x = spread << FRAC;
        self.mean = if self.seen == 0 {
            x
        } else {
            self.mean + (x - self.mean) * 2 / (i128::from(self.p.window) + 1)
        };
        self.seen += 1;
        let dev = (x - self.mean) >> FRAC;
        self.last_dev = i64::try_from(dev).unwrap_or(if dev < 0 { i64::MIN } else { i64::MAX });
        if self.seen <= u64::from(self.p.window) || self.legs.iter().any(|l| l.pending.is_some()) {
            return;
        }
        if self.backoff > 0 {
            self.backoff -= 1;
            return;
        }
        let (entry, exit) = (i128::from(self.p.entry.raw()), i128::from(self.p.exit.raw()));
        let flat = self.legs.iter().all(|l| l.position == 0);
        if flat {
            let (qa, qb) = (self.p.qty_a.raw(), self.p.qty_b.raw());
            if dev >= entry {
                self.stats.sold += 1;
                self.send(0, Side::Sell, qa, out);
                self.send(1, Side::Buy, qb, out);
            } else if dev <= -entry {
                self.stats.bought += 1;
                self.send(0, Side::Buy, qa, out);
                self.send(1, Side::Sell, qb, out);
            }
        } else if dev.abs() <= exit {
            self.stats.exits += 1;
            for k in 0..2 {
                let pos = self.legs[k].position;
                if pos != 0 {
                    let side = if pos > 0 { Side::Sell } else { Side::Buy };
                    self.send(k, side, pos.abs(), out);
                }
            }
        }
    }

    fn on_exec(&mut self, r: &ExecReport, _out: &mut OrderSink) {
        let k = if r.instrument == self.p.a.id {
            0
        } else if r.instrument == self.p.b.id {
            1
        } else {
            return;
        };
        let l = &mut self.legs[k];
        if r.kind.is_fill() {
            l.position += r.side.sign() * r.last_qty.raw();
        }
        if Some(r.client_id) == l.pending && r.kind.is_terminal() {
            l.pending = None;
            if r.kind == tickline_engine::types::ExecKind::Rejected && r.venue_order_id == 0 {
                self.backoff = REJECT_BACKOFF;
            }
        }
    }

    fn set_param(&mut self, name: &str, value: Decimal) -> Result<(), String> {
        let scale = SpreadParams::scale(&self.p.a, &self.p.b);
        let grid = Leg { price_scale: scale, ..self.p.a };
        let mut p = self.p;
        match name {
            "window" => p.window = whole(name, value, MAX_WINDOW)?,
            "entry" => p.entry = grid.distance(name, value)?,
            "exit" => p.exit = grid.distance(name, value)?,
            "qty_a" => p.qty_a = self.p.a.size(name, value)?,
            "qty_b" => p.qty_b = self.p.b.size(name, value)?,
            _ => return Err(format!("strategy {} has no parameter {name:?}", self.name)),
        }
        if p.exit >= p.entry {
            return Err(format!("{name} {value}: exit must stay below entry"));
        }
        self.p = p;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{leg, quote, report, Driver};
    use tickline_engine::types::ExecKind;

    fn spread() -> SpreadReversion {
        SpreadReversion::new(
            "sp",
            SpreadParams {
                a: leg(0),
                b: leg(1),
                window: 3,
                entry: Px::from_raw(8),
                exit: Px::from_raw(2),
                qty_a: Qty::from_raw(1),
                qty_b: Qty::from_raw(2),
            },
        )
        .unwrap()
    }

    /// Quotes b at a fixed 500 and a at `mids`; fills everything sent.
    fn run(
        s: &mut SpreadReversion,
        mids: &[i64],
    ) -> Vec<(usize, tickline_engine::types::OrderIntent)> {
        let mut d = Driver::new();
        d.tick(s, quote(1, 499, 501, 1, 1));
        let mut sent = Vec::new();
        for (k, &m) in mids.iter().enumerate() {
            for o in d.tick(s, quote(0, m - 1, m + 1, 1, 1)) {
                d.exec(s, report(&o, ExecKind::Fill, o.qty.raw(), o.price.raw()));
                sent.push((k, o));
            }
        }
        sent
    }

    #[test]
    fn sells_a_rich_spread_and_flattens_when_it_reverts() {
        let mut s = spread();
        let sent = run(&mut s, &[1_000, 1_000, 1_000, 1_000, 1_020, 1_010, 1_004]);
        // Spread 500 for 4 quotes; at 520 the mean is 510: deviation 10 >= 8.
        assert_eq!(sent[0].0, 4);
        let legs: Vec<_> = sent
            .iter()
            .map(|(k, o)| (*k, o.instrument.0, o.side, o.price.raw(), o.qty.raw()))
            .collect();
        assert_eq!(&legs[..2], &[(4, 0, Side::Sell, 1_019, 1), (4, 1, Side::Buy, 501, 2)]);
        assert_eq!(s.stats().sold, 1);
        // 510 vs mean 510 → deviation 0 <= 2: flatten both legs.
        assert_eq!(&legs[2..], &[(5, 0, Side::Buy, 1_011, 1), (5, 1, Side::Sell, 499, 2)]);
        assert_eq!(s.positions(), (0, 0));
        assert_eq!(s.stats().exits, 1);
    }

    #[test]
    fn buys_a_cheap_spread_and_waits_for_both_legs() {
        let mut s = spread();
        let mut d = Driver::new();
        d.tick(&mut s, quote(1, 499, 501, 1, 1));
        for _ in 0..4 {
            d.tick(&mut s, quote(0, 999, 1_001, 1, 1));
        }
        let o = d.tick(&mut s, quote(0, 979, 981, 1, 1));
        assert_eq!(o.len(), 2);
        assert_eq!((o[0].side, o[1].side), (Side::Buy, Side::Sell));
        d.exec(&mut s, report(&o[0], ExecKind::Fill, 1, 981));
        assert!(d.tick(&mut s, quote(0, 999, 1_001, 1, 1)).is_empty(), "leg b still in flight");
        // Leg b is refused by risk: only leg a is on, and only it is flattened.
        d.exec(&mut s, report(&o[1], ExecKind::Rejected, 0, 0));
        assert_eq!(s.positions(), (1, 0));
        let mut flat = Vec::new();
        for m in [995, 992, 990, 990] {
            flat.extend(d.tick(&mut s, quote(0, m - 1, m + 1, 1, 1)));
            if !flat.is_empty() {
                break;
            }
        }
        assert_eq!(flat.len(), 1, "{flat:?}");
        assert_eq!(
            (flat[0].instrument, flat[0].side, flat[0].qty.raw()),
            (InstrumentId(0), Side::Sell, 1)
        );
    }

    #[test]
    fn waits_after_a_risk_reject_of_a_leg() {
        let mut s = spread();
        let mut d = Driver::new();
        d.tick(&mut s, quote(1, 499, 501, 1, 1));
        for _ in 0..4 {
            d.tick(&mut s, quote(0, 999, 1_001, 1, 1));
        }
        let o = d.tick(&mut s, quote(0, 979, 981, 1, 1));
        for leg in &o {
            let mut refused = report(leg, ExecKind::Rejected, 0, 0);
            refused.venue_order_id = 0;
            d.exec(&mut s, refused);
        }
        let mut sent = 0;
        for _ in 0..crate::REJECT_BACKOFF {
            sent += d.tick(&mut s, quote(0, 959, 961, 1, 1)).len();
        }
        assert_eq!(sent, 0, "sits out while the spread stays cheap");
    }

    #[test]
    fn validates_and_sets_params() {
        let mut s = spread();
        assert!(s.set_param("exit", Decimal::new(9, 2)).is_err(), "exit >= entry");
        assert!(s.set_param("entry", Decimal::new(20, 2)).is_ok());
        assert!(s.set_param("window", Decimal::ZERO).is_err());
        assert!(s.set_param("qty_b", Decimal::new(3, 0)).is_ok());
        assert!(s.wants(InstrumentId(1)) && !s.wants(InstrumentId(2)));
        let p = SpreadParams { b: leg(0), ..s.p };
        assert!(SpreadReversion::new("x", p).is_err(), "same leg twice");
    }
}
