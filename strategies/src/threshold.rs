//! The threshold strategy: the embedded default's simple momentum rule.
//!
//! It keeps a reference mid per instrument. When the mid moves `threshold` or more above the
//! reference it buys one clip IOC at the ask; that far below, it sells one clip IOC at the bid;
//! either way the reference resets to the current mid. A position cap keeps it from piling up:
//! it only buys below `+max_position` and only sells above `-max_position`, counting fills.

use rust_decimal::Decimal;
use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::{ExecReport, InstrumentId, OrdType, Px, Qty, Side, Tick, TimeInForce};

use crate::leg::Leg;

/// Threshold strategy parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThresholdParams {
    /// Instrument traded.
    pub leg: Leg,
    /// Mid move from the reference that triggers an order.
    pub threshold: Px,
    /// Order size.
    pub qty: Qty,
    /// Largest absolute position it builds.
    pub max_position: Qty,
}

/// The threshold strategy.
#[derive(Debug)]
pub struct Threshold {
    name: String,
    params: ThresholdParams,
    reference: Option<Px>,
    position: i64,
}

impl Threshold {
    /// A threshold strategy named `name`.
    pub fn new(name: &str, params: ThresholdParams) -> Threshold {
        Threshold { name: name.to_owned(), params, reference: None, position: 0 }
    }

    /// Position in raw quantity units, from fills.
    pub fn position(&self) -> i64 {
        self.position
    }
}

impl Strategy for Threshold {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, instrument: InstrumentId) -> bool {
        instrument == self.params.leg.id
    }

    #[inline]
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink) {
        let (Some(mid), Some(bid), Some(ask)) = (tick.mid(), tick.bid(), tick.ask()) else {
            return;
        };
        let Some(reference) = self.reference else {
            self.reference = Some(mid);
            return;
        };
        let p = self.params;
        let moved = mid.raw() - reference.raw();
        let side = if moved >= p.threshold.raw() && self.position < p.max_position.raw() {
            Some((Side::Buy, ask.px))
        } else if -moved >= p.threshold.raw() && self.position > -p.max_position.raw() {
            Some((Side::Sell, bid.px))
        } else {
            None
        };
        if moved.abs() >= p.threshold.raw() {
            self.reference = Some(mid);
        }
        if let Some((side, px)) = side {
            let _ = out.new_order(p.leg.id, side, OrdType::Limit, TimeInForce::Ioc, px, p.qty);
        }
    }

    fn on_exec(&mut self, report: &ExecReport, _out: &mut OrderSink) {
        if report.kind.is_fill() {
            self.position += report.side.sign() * report.last_qty.raw();
        }
    }

    fn set_param(&mut self, name: &str, value: Decimal) -> Result<(), String> {
        let leg = self.params.leg;
        match name {
            "threshold" => {
                let t = leg.distance(name, value)?;
                if !t.is_positive() {
                    return Err(format!("{name} {value}: must be positive"));
                }
                self.params.threshold = t;
            }
            "qty" => self.params.qty = leg.size(name, value)?,
            "max_position" => self.params.max_position = leg.cap(name, value)?,
            _ => return Err(format!("strategy {} has no parameter {name:?}", self.name)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickline_engine::types::{
        ClientOrderId, ClientOrderIdGen, ExecKind, Level, Nanos, StrategyId,
    };

    fn quote(bid: i64, ask: i64) -> Tick {
        let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
        Tick::quote(InstrumentId(0), l(bid), l(ask), 1, Nanos(1), Nanos(1))
    }

    fn fill(side: Side, qty: i64) -> ExecReport {
        ExecReport {
            ts: Nanos(1),
            client_id: ClientOrderId(1),
            venue_order_id: 1,
            last_px: Px::from_raw(100),
            last_qty: Qty::from_raw(qty),
            cum_qty: Qty::from_raw(qty),
            leaves_qty: Qty::ZERO,
            fee: 0,
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            kind: ExecKind::Fill,
            side,
        }
    }

    #[test]
    fn buys_up_moves_sells_down_moves_within_cap() {
        let mut s = Threshold::new(
            "t",
            ThresholdParams {
                leg: crate::testing::leg(0),
                threshold: Px::from_raw(10),
                qty: Qty::from_raw(2),
                max_position: Qty::from_raw(2),
            },
        );
        let mut sink = OrderSink::new(ClientOrderIdGen::new(Nanos(0)));
        let mut run = |s: &mut Threshold, t: Tick| {
            sink.clear();
            sink.begin(StrategyId(0), t.recv_ns());
            s.on_tick(&t, &mut sink);
            sink.intents().get(0)
        };
        assert_eq!(run(&mut s, quote(99, 101)), None, "first tick sets the reference");
        assert_eq!(run(&mut s, quote(104, 106)), None, "a move of 5 < 10");
        let o = run(&mut s, quote(109, 111)).expect("move of 10 buys");
        assert_eq!(
            (o.side, o.price, o.qty, o.tif),
            (Side::Buy, Px::from_raw(111), Qty::from_raw(2), TimeInForce::Ioc)
        );
        s.on_exec(&fill(Side::Buy, 2), &mut OrderSink::new(ClientOrderIdGen::new(Nanos(0))));
        assert_eq!(s.position(), 2);
        assert_eq!(run(&mut s, quote(119, 121)), None, "at the cap: no more buys");
        let o = run(&mut s, quote(109, 111)).expect("move of -10 sells");
        assert_eq!((o.side, o.price), (Side::Sell, Px::from_raw(109)));
        s.set_param("threshold", Decimal::new(20, 2)).unwrap();
        assert_eq!(run(&mut s, quote(119, 121)), None, "a move of 10 < 20 now");
        assert!(s.set_param("threshold", Decimal::ZERO).is_err());
        assert!(s.set_param("qty", Decimal::new(3, 0)).is_ok());
        assert!(s.set_param("bogus", Decimal::ONE).is_err());
    }
}
