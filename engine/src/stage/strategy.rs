//! The seam between strategies and the runtime.

use super::Batch;
use crate::types::{
    Action, ClientOrderId, ClientOrderIdGen, Clock, ExecReport, InstrumentId, Nanos, OrdType,
    OrderIntent, Px, Qty, Side, StrategyId, Tick, TimeInForce,
};

/// Intents one strategy callback may emit, at most.
pub const INTENT_BATCH: usize = 32;

/// Per instrument index (`0..instruments`), the indexes of the strategies that want its ticks,
/// in strategy order: the strategy stage's routing table, built once at start.
pub fn strategy_routes(instruments: usize, strategies: &[Box<dyn Strategy>]) -> Vec<Vec<u16>> {
    (0..instruments)
        .map(|i| {
            let id = InstrumentId(i as u32);
            strategies
                .iter()
                .enumerate()
                .filter(|(_, s)| s.wants(id))
                .map(|(k, _)| k as u16)
                .collect()
        })
        .collect()
}

/// A trading strategy, called by the strategy stage's thread.
///
/// Callbacks must not block, allocate or log on the hot path. Orders go out through the
/// [`OrderSink`], which never allocates and refuses (with a counter) past its capacity.
pub trait Strategy: Send {
    /// Strategy name, as in the config.
    fn name(&self) -> &str;

    /// Whether this strategy wants ticks of `instrument` (called at start-up to route ticks).
    fn wants(&self, instrument: InstrumentId) -> bool;

    /// A tick of an instrument it wants.
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink);

    /// An execution report for one of its orders.
    fn on_exec(&mut self, report: &ExecReport, out: &mut OrderSink) {
        let _ = (report, out);
    }

    /// Sets a parameter at run time (operator control). Unknown names and bad values are
    /// refused with the reason; the strategy keeps its old value.
    fn set_param(&mut self, name: &str, value: rust_decimal::Decimal) -> Result<(), String> {
        let _ = value;
        Err(format!("strategy {} has no parameter {name:?}", self.name()))
    }

    /// A timer tick (the stage calls it when idle, at most every millisecond).
    fn on_timer(&mut self, now: Nanos, out: &mut OrderSink) {
        let _ = (now, out);
    }
}

/// Where strategies put orders. Stamps each intent with its strategy, decision time, the
/// triggering tick's receive time and a fresh client order id.
#[derive(Debug)]
pub struct OrderSink {
    intents: Batch<OrderIntent, INTENT_BATCH>,
    ids: ClientOrderIdGen,
    strategy: StrategyId,
    now: Nanos,
    tick_recv: Nanos,
    refused: u64,
}

impl OrderSink {
    /// A sink issuing ids from `ids`.
    pub fn new(ids: ClientOrderIdGen) -> OrderSink {
        OrderSink {
            intents: Batch::new(),
            ids,
            strategy: StrategyId(0),
            now: Nanos::ZERO,
            tick_recv: Nanos::ZERO,
            refused: 0,
        }
    }

    /// Sets the context for the next callback (runtime only). The decision time is read from
    /// the clock at the callback's first emit, so a tick that triggers nothing costs no read.
    #[inline]
    pub fn begin(&mut self, strategy: StrategyId, tick_recv: Nanos) {
        self.strategy = strategy;
        self.now = Nanos::ZERO;
        self.tick_recv = tick_recv;
    }

    /// As [`OrderSink::begin`], with the decision time given instead of read from the clock:
    /// a clock read the caller already has (a hot thread's loop), or the recorded time in a
    /// deterministic replay. `now` must not be zero.
    #[inline]
    pub fn begin_at(&mut self, strategy: StrategyId, tick_recv: Nanos, now: Nanos) {
        self.strategy = strategy;
        self.now = now;
        self.tick_recv = tick_recv;
    }

    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        action: Action,
        instrument: InstrumentId,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        price: Px,
        qty: Qty,
        target: ClientOrderId,
    ) -> Option<ClientOrderId> {
        if self.intents.is_full() {
            self.refused += 1;
            return None;
        }
        if self.now == Nanos::ZERO {
            self.now = Clock::now();
        }
        let client_id = self.ids.next_id();
        let intent = OrderIntent {
            decided_ns: self.now,
            tick_recv_ns: self.tick_recv,
            client_id,
            target,
            price,
            qty,
            instrument,
            strategy: self.strategy,
            action,
            side,
            ord_type,
            tif,
            reserved: [0; 6],
        };
        self.intents.push(intent).ok().map(|()| client_id)
    }

    /// A new order; returns its id, or `None` if the sink is full this callback.
    #[inline]
    pub fn new_order(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        price: Px,
        qty: Qty,
    ) -> Option<ClientOrderId> {
        self.emit(Action::New, instrument, side, ord_type, tif, price, qty, ClientOrderId(0))
    }

    /// Cancels order `target`.
    #[inline]
    pub fn cancel(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        target: ClientOrderId,
    ) -> Option<ClientOrderId> {
        self.emit(
            Action::Cancel,
            instrument,
            side,
            OrdType::Limit,
            TimeInForce::Gtc,
            Px::ZERO,
            Qty::ZERO,
            target,
        )
    }

    /// Replaces order `target` with a new price and quantity; returns the replacement's id.
    #[inline]
    pub fn replace(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        target: ClientOrderId,
        price: Px,
        qty: Qty,
    ) -> Option<ClientOrderId> {
        self.emit(
            Action::Replace,
            instrument,
            side,
            OrdType::Limit,
            TimeInForce::Gtc,
            price,
            qty,
            target,
        )
    }

    /// Cancels every open order on every instrument (operator cancel-all; runtime only).
    pub fn cancel_all(&mut self) -> Option<ClientOrderId> {
        self.emit(
            Action::Cancel,
            InstrumentId(u32::MAX),
            Side::Buy,
            OrdType::Limit,
            TimeInForce::Gtc,
            Px::ZERO,
            Qty::ZERO,
            ClientOrderId::ALL,
        )
    }

    /// Intents emitted since the last [`OrderSink::clear`].
    #[inline]
    pub fn intents(&self) -> &Batch<OrderIntent, INTENT_BATCH> {
        &self.intents
    }

    /// Empties the sink (runtime only, after routing the intents).
    #[inline]
    pub fn clear(&mut self) {
        self.intents.clear();
    }

    /// Intents refused because the sink was full.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}
