//! Helpers for driving a strategy through deterministic tick sequences in unit tests.

use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::{
    ClientOrderIdGen, ExecKind, ExecReport, InstrumentId, Level, Nanos, OrderIntent, Px, Qty,
    Scale, StrategyId, Tick,
};

use crate::Leg;

/// Prices at 2 decimals on a 0.01 grid, whole-unit sizes.
pub(crate) fn leg(id: u32) -> Leg {
    Leg {
        id: InstrumentId(id),
        price_scale: Scale::new(2).unwrap(),
        qty_scale: Scale::new(0).unwrap(),
        tick: Px::from_raw(1),
        lot: Qty::from_raw(1),
    }
}

pub(crate) fn quote(id: u32, bid: i64, ask: i64, bid_qty: i64, ask_qty: i64) -> Tick {
    Tick::quote(
        InstrumentId(id),
        Level { px: Px::from_raw(bid), qty: Qty::from_raw(bid_qty) },
        Level { px: Px::from_raw(ask), qty: Qty::from_raw(ask_qty) },
        1,
        Nanos(1),
        Nanos(1),
    )
}

/// A report on `o`: `qty` filled at `px` (0 for no fill).
pub(crate) fn report(o: &OrderIntent, kind: ExecKind, qty: i64, px: i64) -> ExecReport {
    ExecReport {
        ts: Nanos(2),
        client_id: o.client_id,
        venue_order_id: 1,
        last_px: Px::from_raw(px),
        last_qty: Qty::from_raw(qty),
        cum_qty: Qty::from_raw(qty),
        leaves_qty: Qty::ZERO,
        fee: 0,
        instrument: o.instrument,
        strategy: o.strategy,
        kind,
        side: o.side,
    }
}

/// Calls a strategy the way the runtime does and collects what it emits.
pub(crate) struct Driver {
    sink: OrderSink,
}

impl Driver {
    pub(crate) fn new() -> Driver {
        Driver { sink: OrderSink::new(ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000))) }
    }

    fn take(&mut self) -> Vec<OrderIntent> {
        let b = self.sink.intents();
        let out = (0..b.len()).filter_map(|i| b.get(i)).collect();
        self.sink.clear();
        out
    }

    pub(crate) fn tick(&mut self, s: &mut dyn Strategy, t: Tick) -> Vec<OrderIntent> {
        self.sink.begin(StrategyId(0), t.recv_ns());
        s.on_tick(&t, &mut self.sink);
        self.take()
    }

    pub(crate) fn exec(&mut self, s: &mut dyn Strategy, r: ExecReport) -> Vec<OrderIntent> {
        self.sink.begin(StrategyId(0), Nanos::ZERO);
        s.on_exec(&r, &mut self.sink);
        self.take()
    }
}
