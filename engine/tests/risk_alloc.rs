//! A full risk check allocates nothing: 100,000 ticks, checks (approved and rejected),
//! replaces, cancels and execution reports after warm-up, under a counting allocator.

use std::sync::Arc;
use tickline_engine::alloc_count::{self, CountingAllocator};

use tickline_engine::risk::{HaltSwitch, Rate, RiskLimits, RiskSetup, RiskStage};
use tickline_engine::types::*;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn report(o: &Order, kind: ExecKind, qty: i64) -> ExecReport {
    ExecReport {
        ts: o.approved_ns,
        client_id: o.intent.client_id,
        venue_order_id: 1,
        last_px: o.intent.price,
        last_qty: Qty::from_raw(qty),
        cum_qty: Qty::from_raw(qty),
        leaves_qty: Qty::ZERO,
        fee: 1,
        instrument: o.intent.instrument,
        strategy: o.intent.strategy,
        kind,
        side: o.intent.side,
    }
}

#[test]
fn risk_checks_allocate_nothing() {
    let spec = |s: &str| InstrumentSpec {
        symbol: s.into(),
        venue: "v".into(),
        price_scale: 2,
        qty_scale: 3,
        tick_size: "0.01".parse().unwrap(),
        lot_size: "0.001".parse().unwrap(),
    };
    let reg = Arc::new(InstrumentRegistry::build(&[spec("A"), spec("B")]).unwrap());
    let mut limits = RiskLimits::permissive(&reg);
    limits.instruments[0].max_position = Some(Qty::from_raw(50_000));
    limits.instruments[0].max_open_orders = Some(8);
    limits.instruments[0].price_collar_bps = Some(500);
    limits.order_rate = Some(Rate { per_second: 1_000_000, burst: 1_000 });
    limits.duplicate_window_ns = Some(1_000);
    limits.max_quote_age_ns = Some(1_000_000_000);
    let mut risk = RiskStage::with_setup(reg, Arc::new(HaltSwitch::new()), RiskSetup::new(limits));
    let mut ids = ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000));
    let mut now = 1_700_000_000_000_000_000i64;
    let total = 120_000u64;
    for k in 0..total {
        if k == 20_000 {
            alloc_count::count_this_thread(true);
        }
        now += 1_000;
        let mid = 10_000 + (k % 40) as i64;
        let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1_000) };
        let inst = InstrumentId((k % 2) as u32);
        risk.on_tick(&Tick::quote(inst, l(mid - 1), l(mid + 1), k, Nanos(now), Nanos(now)));
        let side = if k % 3 == 0 { Side::Sell } else { Side::Buy };
        let px = if side == Side::Buy { mid - 2 } else { mid + 2 };
        let intent = OrderIntent {
            decided_ns: Nanos(now),
            tick_recv_ns: Nanos(now),
            client_id: ids.next_id(),
            target: ClientOrderId(0),
            price: Px::from_raw(px),
            qty: Qty::from_raw(1 + (k % 7) as i64),
            instrument: inst,
            strategy: StrategyId(0),
            action: Action::New,
            side,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            reserved: [0; 6],
        };
        let Ok(order) = risk.check(&intent, Nanos(now)) else { continue };
        let o = *order.get();
        risk.on_exec(&report(&o, ExecKind::New, 0));
        match k % 4 {
            0 => risk.on_exec(&report(&o, ExecKind::Fill, o.intent.qty.raw())),
            1 => {
                let mut replace = intent;
                replace.action = Action::Replace;
                replace.target = o.intent.client_id;
                replace.client_id = ids.next_id();
                if let Ok(r) = risk.check(&replace, Nanos(now)) {
                    risk.on_exec(&report(r.get(), ExecKind::Replaced, 0));
                    risk.on_exec(&report(r.get(), ExecKind::Cancelled, 0));
                } else {
                    risk.on_exec(&report(&o, ExecKind::Cancelled, 0));
                }
            }
            2 => {
                let mut cancel = intent;
                cancel.action = Action::Cancel;
                cancel.target = o.intent.client_id;
                cancel.client_id = ids.next_id();
                let c = risk.check(&cancel, Nanos(now)).expect("cancel of an open order");
                risk.on_exec(&report(c.get(), ExecKind::Cancelled, 0));
            }
            _ => risk.on_exec(&report(&o, ExecKind::Expired, 0)),
        }
    }
    alloc_count::count_this_thread(false);
    let t = risk.telemetry();
    assert!(t.approved.get() > 50_000, "orders flowed: {}", t.approved.get());
    assert!(risk.position(InstrumentId(0)).unwrap().fills() > 1_000);
    assert_eq!(alloc_count::counted(), 0, "allocations in risk after warm-up");
}
