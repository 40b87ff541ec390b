//! Proves the gateway's steady state allocates nothing: FIX NewOrderSingle encoding,
//! ExecutionReport framing + parsing + decoding, the FIX session sending orders and taking
//! reports, and the simulated exchange matching orders against a moving book; and that the
//! instant venue, with risk, takes no page faults once built.
//!
//! A counting global allocator counts allocations per thread, so tests running in parallel do
//! not disturb each other. Everything a test feeds is built before it starts counting.

use std::sync::Arc;
use tickline_engine::alloc_count::{self, CountingAllocator};

use tickline_engine::risk::{HaltSwitch, RiskLimits, RiskSetup, RiskStage};
use tickline_engine::stage::{ExecBatch, Venue};
use tickline_engine::types::{
    Action, Aggressor, ClientOrderId, ClientOrderIdGen, InstrumentId, InstrumentRegistry,
    InstrumentSpec, Level, Nanos, OrdType, OrderIntent, Px, Qty, Scale, Side, StrategyId, Tick,
    TimeInForce,
};
use tickline_gateway::venue::fix::codec::{
    checksum, decode_execution_report, frame, new_order_single, order_cancel_replace_request,
    order_cancel_request, Encoder, Frame, Message, OrderFields,
};
use tickline_gateway::venue::fix::session::{Session, SessionConfig, SessionEvent, Verdict};
use tickline_gateway::venue::instant::InstantVenue;
use tickline_gateway::venue::sim::{SimConfig, SimVenue};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const T0: i64 = 1_723_161_255_000_000_000;

fn order_fields(id: u64) -> OrderFields<'static> {
    OrderFields {
        cl_ord_id: id,
        orig_cl_ord_id: 0,
        symbol: b"BTCUSDT",
        side: Side::Buy,
        qty: 150_000,
        qty_scale: 6,
        price: 6_183_763,
        price_scale: 2,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        account: None,
    }
}

/// An ExecutionReport from the venue, framed.
fn exec_report(seq: u64, cl_ord_id: u64) -> Vec<u8> {
    let body = format!(
        "35=8\u{1}34={seq}\u{1}49=EXEC\u{1}52=20240808-23:54:15.208\u{1}56=TL\u{1}6=61837.63\u{1}\
         11={cl_ord_id}\u{1}14=0.050000\u{1}17={seq}\u{1}31=61837.63\u{1}32=0.050000\u{1}\
         37=9001\u{1}38=0.150000\u{1}39=1\u{1}44=61837.63\u{1}54=1\u{1}55=BTCUSDT\u{1}\
         60=20240808-23:54:15.208\u{1}150=F\u{1}151=0.100000\u{1}"
    );
    let mut m = format!("8=FIX.4.4\u{1}9={}\u{1}{body}", body.len()).into_bytes();
    let sum = checksum(&m);
    m.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
    m
}

#[test]
fn new_order_single_encoding_allocates_nothing() {
    let mut enc = Encoder::new("TICKLINE", "EXEC");
    let mut total = 0usize;
    for i in 0..1_000 {
        total += new_order_single(&mut enc, i, Nanos(T0), &order_fields(i)).unwrap().len();
    }
    let before = alloc_count::thread_allocations();
    for i in 0..200_000u64 {
        let now = Nanos(T0 + i as i64 * 1_000_003);
        total += new_order_single(&mut enc, i, now, &order_fields(i)).unwrap().len();
    }
    assert_eq!(alloc_count::thread_allocations() - before, 0, "encoding allocated");
    assert!(total > 0);
}

#[test]
fn every_order_message_and_timestamp_path_allocates_nothing() {
    let mut enc = Encoder::new("TICKLINE", "EXEC");
    let mut total = 0usize;
    let mut t = T0;
    let before = alloc_count::thread_allocations();
    for i in 0..100_000u64 {
        // Same millisecond, a new one in the same second, a new second, a new day.
        t += [0, 1_000_003, 1_000_000_007, 86_400_000_000_001][(i % 4) as usize];
        let now = Nanos(t);
        let mut o = order_fields(i);
        o.orig_cl_ord_id = i / 2;
        o.account = (i % 3 == 0).then_some(&b"ACCT-7"[..]);
        o.tif = [TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::PostOnly][(i % 3) as usize];
        total += match i % 3 {
            0 => new_order_single(&mut enc, i, now, &o),
            1 => order_cancel_request(&mut enc, i, now, &o),
            _ => order_cancel_replace_request(&mut enc, i, now, &o),
        }
        .unwrap()
        .len();
    }
    assert_eq!(alloc_count::thread_allocations() - before, 0, "encoding allocated");
    assert!(total > 0);
}

#[test]
fn parsing_malformed_messages_allocates_nothing() {
    // Messages the fast pass hands to the exact reading: a tag twice, an empty value, a
    // non-numeric tag, MsgType not third (four problems), a kept tag with a leading zero and
    // long unknown tags (no problem).
    let good = exec_report(1, 42);
    let bodies = [
        "35=8|34=2|34=3|",
        "35=8|34=2|58=|",
        "35=8|3x=1|",
        "34=2|35=8|",
        "35=8|034=2|",
        "35=8|34=2|9999=1|123456789=2|",
    ];
    let mut msgs: Vec<Vec<u8>> = bodies
        .iter()
        .map(|b| {
            let body = b.replace('|', "\u{1}");
            let mut m = format!("8=FIX.4.4\u{1}9={}\u{1}{body}", body.len()).into_bytes();
            let sum = checksum(&m);
            m.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
            m
        })
        .collect();
    msgs.push(good);
    let before = alloc_count::thread_allocations();
    let mut problems = 0;
    for _ in 0..20_000 {
        for m in &msgs {
            let Frame::Complete(n) = frame(m) else { panic!("bad frame") };
            problems += usize::from(Message::parse(&m[..n]).problem().is_some());
        }
    }
    assert_eq!(alloc_count::thread_allocations() - before, 0, "parsing allocated");
    assert_eq!(problems, 20_000 * 4);
}

#[test]
fn execution_report_parsing_allocates_nothing() {
    let msgs: Vec<Vec<u8>> = (1..=1_000).map(|s| exec_report(s, 42)).collect();
    let (p, q) = (Scale::new(2).unwrap(), Scale::new(6).unwrap());
    let before = alloc_count::thread_allocations();
    let mut cum = 0i64;
    for _ in 0..200 {
        for m in &msgs {
            let Frame::Complete(n) = frame(m) else { panic!("bad frame") };
            let parsed = Message::parse(&m[..n]);
            let f = decode_execution_report(&parsed, p, q).unwrap();
            cum += f.cum_qty;
        }
    }
    assert_eq!(alloc_count::thread_allocations() - before, 0, "parsing allocated");
    assert_eq!(cum, 200 * 1_000 * 50_000);
}

#[test]
fn fix_session_steady_state_allocates_nothing() {
    let mut s = Session::new(
        SessionConfig {
            sender_comp_id: "TL".into(),
            target_comp_id: "EXEC".into(),
            heartbeat_secs: 30,
            reset_on_logon: false,
        },
        1,
        1,
    );
    // Logon handshake (cold).
    s.connected(Nanos(T0));
    let out = s.output().len();
    s.consume_output(out);
    let body =
        "35=A\u{1}34=1\u{1}49=EXEC\u{1}52=20240808-23:54:15.208\u{1}56=TL\u{1}98=0\u{1}108=30\u{1}";
    let mut logon = format!("8=FIX.4.4\u{1}9={}\u{1}{body}", body.len()).into_bytes();
    let sum = checksum(&logon);
    logon.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
    let feed = |s: &mut Session, bytes: &[u8], now: i64, apps: &mut u64| {
        s.recv_buf()[..bytes.len()].copy_from_slice(bytes);
        s.received(bytes.len());
        s.process(Nanos(now), &mut |ev| {
            if let SessionEvent::App(m) = ev {
                *apps +=
                    m.u64(tickline_gateway::venue::fix::codec::Tag::MsgSeqNum).unwrap_or(0) & 1;
            }
            Verdict::Ok
        });
    };
    let mut apps = 0;
    feed(&mut s, &logon, T0, &mut apps);
    assert!(s.is_active());
    let reports: Vec<Vec<u8>> = (2..=50_001).map(|seq| exec_report(seq, 7)).collect();
    let before = alloc_count::thread_allocations();
    for (i, r) in reports.iter().enumerate() {
        let now = T0 + i as i64 * 10_000;
        let seq =
            s.send_order(Nanos(now), Action::New, ClientOrderId(0), &order_fields(i as u64 + 1));
        assert!(seq.is_some());
        let n = s.output().len();
        s.consume_output(n);
        feed(&mut s, r, now, &mut apps);
        s.timer(Nanos(now));
        let n = s.output().len();
        s.consume_output(n);
    }
    assert_eq!(alloc_count::thread_allocations() - before, 0, "the session allocated");
    assert_eq!(s.seqs().1, 50_002);
    assert!(apps > 0);
}

/// One instrument "A" (price scale 2, tick 0.01, lot 1) and a risk stage with permissive limits.
fn one_instrument() -> (Arc<InstrumentRegistry>, RiskStage) {
    let spec = InstrumentSpec {
        symbol: "A".into(),
        venue: "sim".into(),
        price_scale: 2,
        qty_scale: 0,
        tick_size: "0.01".parse().unwrap(),
        lot_size: "1".parse().unwrap(),
    };
    let reg = Arc::new(InstrumentRegistry::build(&[spec]).unwrap());
    let setup = RiskSetup::new(RiskLimits::permissive(&reg));
    let risk = RiskStage::with_setup(Arc::clone(&reg), Arc::new(HaltSwitch::new()), setup);
    (reg, risk)
}

#[test]
fn simulated_exchange_steady_state_allocates_nothing() {
    let (reg, mut risk) = one_instrument();
    let cfg = SimConfig { latency_ns: 2_000, taker_fee_ppb: 500_000, ..SimConfig::default() };
    let mut sim = SimVenue::new("sim", Arc::clone(&reg), cfg);
    let mut ids = ClientOrderIdGen::new(Nanos(T0));
    let mut batch = ExecBatch::new();
    let mut fills = 0u64;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut mid = 10_000i64;
    let mut step = |now: i64, risk: &mut RiskStage, sim: &mut SimVenue, fills: &mut u64| {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        let r = rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        mid += (r % 3) as i64 - 1;
        let l = |p, q| Level { px: Px::from_raw(p), qty: Qty::from_raw(q) };
        let t = if r >> 8 & 3 == 0 {
            Tick::trade(
                InstrumentId(0),
                l(mid - 1, 1 + (r >> 12 & 7) as i64),
                Aggressor::Sell,
                0,
                Nanos(now),
                Nanos(now),
            )
        } else {
            Tick::quote(InstrumentId(0), l(mid - 1, 5), l(mid + 1, 5), 0, Nanos(now), Nanos(now))
        };
        risk.on_tick(&t);
        sim.on_tick(&t);
        if r >> 16 & 3 == 0 {
            let buy = r >> 20 & 1 == 0;
            let intent = OrderIntent {
                decided_ns: Nanos(now),
                tick_recv_ns: Nanos(now),
                client_id: ids.next_id(),
                target: ClientOrderId(0),
                price: Px::from_raw(if buy { mid + 1 } else { mid - 1 }),
                qty: Qty::from_raw(2),
                instrument: InstrumentId(0),
                strategy: StrategyId(0),
                action: Action::New,
                side: if buy { Side::Buy } else { Side::Sell },
                ord_type: OrdType::Limit,
                tif: if r >> 21 & 1 == 0 { TimeInForce::Ioc } else { TimeInForce::Gtc },
                reserved: [0; 6],
            };
            if let Ok(a) = risk.check(&intent, Nanos(now)) {
                sim.submit(a, Nanos(now));
            }
        }
        batch.clear();
        sim.poll(Nanos(now), &mut batch);
        for k in 0..batch.len() {
            if let Some(rep) = batch.get(k) {
                risk.on_exec(&rep);
                *fills += u64::from(rep.kind.is_fill());
            }
        }
    };
    for i in 0..20_000 {
        step(T0 + i * 1_000, &mut risk, &mut sim, &mut fills);
    }
    let before = alloc_count::thread_allocations();
    for i in 20_000..220_000 {
        step(T0 + i * 1_000, &mut risk, &mut sim, &mut fills);
    }
    assert_eq!(alloc_count::thread_allocations() - before, 0, "the simulated exchange allocated");
    assert!(fills > 1_000, "a run that fills: {fills}");
    assert_eq!(sim.tracker_stats().anomalies(), 0);
}

/// Minor page faults this thread has taken (`/proc/thread-self/stat`, field 10).
#[cfg(target_os = "linux")]
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    let after_name = &stat[stat.rfind(')').expect("stat has a (comm)") + 1..];
    after_name.split_whitespace().nth(7).and_then(|f| f.parse().ok()).expect("minflt field")
}

#[cfg(target_os = "linux")]
#[test]
fn instant_venue_takes_no_page_faults_once_built() {
    let (_, mut risk) = one_instrument();
    // The engine's queue size: 65,536 reports of 72 bytes.
    let mut venue = InstantVenue::new("sim", 65_536);
    let mut ids = ClientOrderIdGen::new(Nanos(T0));
    let mut batch = ExecBatch::new();
    let l = |p, q| Level { px: Px::from_raw(p), qty: Qty::from_raw(q) };
    let quote = Tick::quote(InstrumentId(0), l(9_999, 5), l(10_001, 5), 0, Nanos(T0), Nanos(T0));
    risk.on_tick(&quote);
    let mut step = |k: i64, risk: &mut RiskStage, venue: &mut InstantVenue| {
        let intent = OrderIntent {
            decided_ns: Nanos(T0 + k),
            tick_recv_ns: Nanos(T0 + k),
            client_id: ids.next_id(),
            target: ClientOrderId(0),
            price: Px::from_raw(10_001),
            qty: Qty::from_raw(1),
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            action: Action::New,
            side: if k % 2 == 0 { Side::Buy } else { Side::Sell },
            ord_type: OrdType::Limit,
            tif: TimeInForce::Ioc,
            reserved: [0; 6],
        };
        let order = risk.check(&intent, Nanos(T0 + k)).expect("risk approves");
        venue.submit(order, Nanos(T0 + k));
        batch.clear();
        venue.poll(Nanos(T0 + k), &mut batch);
        for i in 0..batch.len() {
            if let Some(rep) = batch.get(i) {
                risk.on_exec(&rep);
            }
        }
    };
    // Warm-up: risk's tables and this thread's stack reach their working set.
    for k in 0..2_000 {
        step(k, &mut risk, &mut venue);
    }
    let before = minor_faults();
    // 60,000 reports of 72 bytes: the queue's write position crosses about 1,050 4 KiB
    // pages it had not reached.
    for k in 2_000..32_000 {
        step(k, &mut risk, &mut venue);
    }
    let faults = minor_faults() - before;
    assert!(faults < 32, "{faults} page faults while the instant venue took 30,000 orders");
    assert_eq!(venue.orders(), 32_000);
}
