//! The risk stage: every order passes here or nowhere.
//!
//! This is the foundation's rule set: fail-closed checks that need no configured limits
//! (halt, instrument known, quantity and price sane and on grid, market data reasonable, a
//! reference price present). Limit-based controls build on the same `check` path.

use std::sync::Arc;

use super::{HaltSwitch, RejectReason, RiskApproved};
use crate::telemetry::Counter;
use crate::types::{
    Action, ExecReport, InstrumentRegistry, Nanos, OrdType, Order, OrderIntent, Px, Tick,
    TickFlags, TickKind,
};

/// A refused intent, as recorded in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
pub struct RiskReject {
    /// The intent as the strategy sent it.
    pub intent: OrderIntent,
    /// When risk refused it.
    pub ts: Nanos,
    /// Why.
    pub reason: RejectReason,
    /// Reserved, zero.
    pub reserved: [u8; 7],
}

const _: () = assert!(std::mem::size_of::<RiskReject>() == 80);

/// Risk counters, readable by the sidecar.
#[derive(Debug, Default)]
pub struct RiskTelemetry {
    /// Orders approved.
    pub approved: Counter,
    /// Rejects by reason, indexed by [`RejectReason::index`].
    pub rejects: [Counter; RejectReason::ALL.len()],
}

impl RiskTelemetry {
    /// Rejects of one reason.
    pub fn rejects_of(&self, reason: RejectReason) -> u64 {
        self.rejects[reason.index()].get()
    }

    /// All rejects.
    pub fn rejects_total(&self) -> u64 {
        self.rejects.iter().map(Counter::get).sum()
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct MarketState {
    reference: Px,
    flags: TickFlags,
}

/// The pre-trade risk stage. Owned by the thread that runs it.
#[derive(Debug)]
pub struct RiskStage {
    registry: Arc<InstrumentRegistry>,
    halt: Arc<HaltSwitch>,
    market: Vec<MarketState>,
    telemetry: Arc<RiskTelemetry>,
}

impl RiskStage {
    /// A risk stage over `registry`, obeying `halt`.
    pub fn new(registry: Arc<InstrumentRegistry>, halt: Arc<HaltSwitch>) -> RiskStage {
        let market = vec![MarketState::default(); registry.len()];
        RiskStage { registry, halt, market, telemetry: Arc::new(RiskTelemetry::default()) }
    }

    /// Counters for the sidecar.
    pub fn telemetry(&self) -> Arc<RiskTelemetry> {
        Arc::clone(&self.telemetry)
    }

    /// Market data: reference prices and reasonability flags per instrument.
    #[inline]
    pub fn on_tick(&mut self, tick: &Tick) {
        let Some(m) = self.market.get_mut(tick.instrument().index()) else { return };
        m.flags = tick.flags();
        let reference = match tick.kind() {
            TickKind::Quote => tick.mid(),
            TickKind::Trade => tick.last_trade().map(|(l, _)| l.px),
        };
        if let Some(px) = reference {
            m.reference = px;
        }
    }

    /// An execution report (positions and limits use it).
    #[inline]
    pub fn on_exec(&mut self, report: &ExecReport) {
        let _ = report;
    }

    /// Approves or rejects `intent`. Every path returns a decision; nothing passes by default.
    #[inline]
    pub fn check(
        &mut self,
        intent: &OrderIntent,
        now: Nanos,
    ) -> Result<RiskApproved<Order>, RejectReason> {
        self.check_with(intent, || now)
    }

    /// As [`RiskStage::check`], reading the approval time from `clock` only once the order has
    /// passed, so the same clock read can stamp the approval and its hand-off to the venue.
    #[inline]
    pub fn check_with(
        &mut self,
        intent: &OrderIntent,
        clock: impl FnOnce() -> Nanos,
    ) -> Result<RiskApproved<Order>, RejectReason> {
        match self.evaluate(intent) {
            Ok(()) => {
                self.telemetry.approved.inc();
                Ok(RiskApproved::new(Order { intent: *intent, approved_ns: clock() }))
            }
            Err(reason) => {
                self.telemetry.rejects[reason.index()].inc();
                Err(reason)
            }
        }
    }

    /// The instruments it checks against.
    pub fn registry(&self) -> &InstrumentRegistry {
        &self.registry
    }

    /// Sets a limit by name (operator control, config reload). Returns what changed, or why
    /// the value was refused; a refused value leaves the old limit in force.
    pub fn set_limit(
        &mut self,
        name: &str,
        instrument: Option<crate::types::InstrumentId>,
        value: rust_decimal::Decimal,
    ) -> Result<String, String> {
        let _ = (instrument, value);
        Err(format!("unknown risk limit {name:?}"))
    }

    #[inline]
    fn evaluate(&self, intent: &OrderIntent) -> Result<(), RejectReason> {
        if intent.action == Action::Cancel && intent.target == crate::types::ClientOrderId::ALL {
            // Cancel-all reduces risk on every instrument: always allowed.
            return Ok(());
        }
        let Some(inst) = self.registry.get(intent.instrument) else {
            return Err(RejectReason::UnknownInstrument);
        };
        if intent.action == Action::Cancel {
            // Cancels reduce risk: allowed while halted and whatever the market.
            return if intent.target.0 == 0 { Err(RejectReason::UnknownTarget) } else { Ok(()) };
        }
        if self.halt.is_halted() {
            return Err(RejectReason::Halted);
        }
        if intent.action == Action::Replace && intent.target.0 == 0 {
            return Err(RejectReason::UnknownTarget);
        }
        if !intent.qty.is_positive() {
            return Err(RejectReason::BadQuantity);
        }
        if !intent.qty.is_multiple_of(inst.lot_size) {
            return Err(RejectReason::OffLotGrid);
        }
        if !intent.price.is_positive() {
            return Err(RejectReason::BadPrice);
        }
        if intent.ord_type == OrdType::Limit && !intent.price.is_multiple_of(inst.tick_size) {
            return Err(RejectReason::OffTickGrid);
        }
        let m = self.market[intent.instrument.index()];
        if m.flags.intersects(TickFlags::UNREASONABLE) {
            return Err(RejectReason::MarketDataUnreasonable);
        }
        if !m.reference.is_positive() {
            return Err(RejectReason::NoReferencePrice);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::HaltCause;
    use crate::types::{
        ClientOrderId, InstrumentId, InstrumentSpec, Level, Qty, Side, StrategyId, TimeInForce,
    };

    fn stage() -> (RiskStage, Arc<HaltSwitch>) {
        let spec = InstrumentSpec {
            symbol: "A".into(),
            venue: "v".into(),
            price_scale: 2,
            qty_scale: 0,
            tick_size: "0.05".parse().unwrap(),
            lot_size: "1".parse().unwrap(),
        };
        let reg = Arc::new(InstrumentRegistry::build(&[spec]).unwrap());
        let halt = Arc::new(HaltSwitch::new());
        (RiskStage::new(reg, Arc::clone(&halt)), halt)
    }

    fn intent(price: i64, qty: i64) -> OrderIntent {
        OrderIntent {
            decided_ns: Nanos(1),
            tick_recv_ns: Nanos(0),
            client_id: ClientOrderId(7),
            target: ClientOrderId(0),
            price: Px::from_raw(price),
            qty: Qty::from_raw(qty),
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            action: Action::New,
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            reserved: [0; 6],
        }
    }

    fn quote(flags: TickFlags) -> Tick {
        let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
        Tick::quote(InstrumentId(0), l(100), l(110), 1, Nanos(0), Nanos(0)).with_flags(flags)
    }

    #[test]
    fn fails_closed_without_reference_then_approves() {
        let (mut risk, _) = stage();
        assert_eq!(risk.check(&intent(100, 1), Nanos(5)), Err(RejectReason::NoReferencePrice));
        risk.on_tick(&quote(TickFlags::default()));
        let ok = risk.check(&intent(100, 1), Nanos(5)).unwrap();
        assert_eq!(ok.get().approved_ns, Nanos(5));
        assert_eq!(ok.get().intent, intent(100, 1));
        let t = risk.telemetry();
        assert_eq!((t.approved.get(), t.rejects_of(RejectReason::NoReferencePrice)), (1, 1));
    }

    #[test]
    fn each_basic_check_has_its_reason() {
        let (mut risk, halt) = stage();
        risk.on_tick(&quote(TickFlags::default()));
        let mut unknown = intent(100, 1);
        unknown.instrument = InstrumentId(9);
        assert_eq!(risk.check(&unknown, Nanos(0)), Err(RejectReason::UnknownInstrument));
        assert_eq!(risk.check(&intent(100, 0), Nanos(0)), Err(RejectReason::BadQuantity));
        assert_eq!(risk.check(&intent(100, -3), Nanos(0)), Err(RejectReason::BadQuantity));
        assert_eq!(risk.check(&intent(0, 1), Nanos(0)), Err(RejectReason::BadPrice));
        assert_eq!(risk.check(&intent(101, 1), Nanos(0)), Err(RejectReason::OffTickGrid));
        risk.on_tick(&quote(TickFlags::CROSSED));
        assert_eq!(
            risk.check(&intent(100, 1), Nanos(0)),
            Err(RejectReason::MarketDataUnreasonable)
        );
        risk.on_tick(&quote(TickFlags::default()));
        halt.trip(HaltCause::Operator);
        assert_eq!(risk.check(&intent(100, 1), Nanos(0)), Err(RejectReason::Halted));
        let mut cancel = intent(0, 0);
        cancel.action = Action::Cancel;
        cancel.target = ClientOrderId(7);
        assert!(risk.check(&cancel, Nanos(0)).is_ok(), "cancels pass while halted");
        halt.resume();
        assert!(risk.check(&intent(100, 1), Nanos(0)).is_ok());
        assert_eq!(risk.telemetry().rejects_total(), 7);
    }
}
