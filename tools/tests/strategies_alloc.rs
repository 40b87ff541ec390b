//! The strategies allocate nothing per tick: each runs 200,000 quotes (and the venue's answers
//! to what it sends) after warm-up under a counting allocator.

use tickline_engine::alloc_count::{self, CountingAllocator};

use rust_decimal::Decimal;
use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::*;
use tickline_tools::config::StrategyConfig;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn registry() -> InstrumentRegistry {
    let spec = |s: &str| InstrumentSpec {
        symbol: s.into(),
        venue: "v".into(),
        price_scale: 2,
        qty_scale: 3,
        tick_size: "0.01".parse().unwrap(),
        lot_size: "0.001".parse().unwrap(),
    };
    InstrumentRegistry::build(&[spec("A"), spec("B")]).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn configs() -> Vec<StrategyConfig> {
    vec![
        StrategyConfig::Threshold {
            name: "t".into(),
            instrument: "A".into(),
            threshold: d("0.03"),
            qty: d("0.010"),
            max_position: d("0.050"),
        },
        StrategyConfig::MarketMaker {
            name: "mm".into(),
            instrument: "A".into(),
            fair: "microprice".into(),
            half_spread: d("0.02"),
            qty: d("0.010"),
            skew: d("0.01"),
            max_position: d("0.050"),
            requote: d("0.02"),
        },
        StrategyConfig::Momentum {
            name: "mo".into(),
            instrument: "A".into(),
            fast: 10,
            slow: 40,
            qty: d("0.010"),
            stop_loss: d("0.10"),
            take_profit: d("0.15"),
        },
        StrategyConfig::Spread {
            name: "sp".into(),
            leg_a: "A".into(),
            leg_b: "B".into(),
            window: 100,
            entry: d("0.06"),
            exit: d("0.01"),
            qty_a: d("0.010"),
            qty_b: d("0.020"),
        },
    ]
}

/// Fills news, confirms replaces and cancels; every fourth answer is a risk-style reject.
fn answer(o: &OrderIntent, k: u64) -> ExecReport {
    let (kind, qty, venue_id) = match o.action {
        _ if k % 4 == 0 => (ExecKind::Rejected, Qty::ZERO, 0),
        Action::New => (ExecKind::Fill, o.qty, 1),
        Action::Replace => (ExecKind::Replaced, Qty::ZERO, 1),
        Action::Cancel => (ExecKind::Cancelled, Qty::ZERO, 1),
    };
    ExecReport {
        ts: o.decided_ns,
        client_id: o.client_id,
        venue_order_id: venue_id,
        last_px: o.price,
        last_qty: qty,
        cum_qty: qty,
        leaves_qty: Qty::ZERO,
        fee: 0,
        instrument: o.instrument,
        strategy: o.strategy,
        kind,
        side: o.side,
    }
}

#[test]
fn strategies_allocate_nothing_per_tick() {
    let reg = registry();
    for (i, cfg) in configs().iter().enumerate() {
        let mut s: Box<dyn Strategy> = tickline_tools::wiring::strategy(i, cfg, &reg).unwrap();
        let mut sink = OrderSink::new(ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000)));
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut mids = [10_000i64, 10_000];
        let mut sent = 0u64;
        let before = alloc_count::counted();
        for k in 0..220_000u64 {
            if k == 20_000 {
                alloc_count::count_this_thread(true);
            }
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let inst = (k % 2) as usize;
            mids[inst] += (rng % 5) as i64 - 2;
            let l = |p: i64, q: u64| Level {
                px: Px::from_raw(p),
                qty: Qty::from_raw(1 + (q % 500) as i64),
            };
            let id = InstrumentId(inst as u32);
            let t = Tick::quote(
                id,
                l(mids[inst] - 1, rng >> 8),
                l(mids[inst] + 1, rng >> 24),
                k,
                Nanos(k as i64),
                Nanos(k as i64),
            );
            if !s.wants(id) {
                continue;
            }
            sink.begin(StrategyId(0), t.recv_ns());
            s.on_tick(&t, &mut sink);
            let n = sink.intents().len();
            for j in 0..n {
                if let Some(o) = sink.intents().get(j) {
                    sent += 1;
                    s.on_exec(&answer(&o, sent), &mut sink);
                }
            }
            sink.clear();
        }
        alloc_count::count_this_thread(false);
        assert!(sent > 100, "{}: the strategy traded ({sent} intents)", s.name());
        assert_eq!(alloc_count::counted() - before, 0, "{}: allocations per tick", s.name());
    }
}
