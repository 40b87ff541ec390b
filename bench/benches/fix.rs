//! The FIX 4.4 codec's hot paths, side by side with a naive codec in the same group:
//!
//! - `fix_encode_new_order_single`: a NewOrderSingle (header, SendingTime and TransactTime,
//!   prices and quantities in fixed point, BodyLength and CheckSum) into bytes. `tickline` is
//!   the gateway's [`Encoder`] writing into its preallocated buffer; `naive_format` builds the
//!   same message with `format!` and `String`s, as a first implementation would;
//!   `harness_overhead` only passes the inputs through `black_box`.
//! - `fix_parse_execution_report`: an ExecutionReport from bytes to checked, typed fields
//!   (BodyLength and CheckSum validated, ids and fixed-point quantities decoded). `tickline` is
//!   `frame` + `Message::parse` + `decode_execution_report`; `naive_split` splits on SOH and
//!   `=` into a `HashMap` and parses numbers with `str::parse`.
//!
//! Goals: encode <= 100 ns, parse <= 200 ns, no allocation (proved by
//! `gateway/tests/zero_alloc.rs`, not here: a benchmark is not a test). Criterion reports
//! means; under `cargo bench` this file first prints p50/p99/p99.9/max per operation (batches
//! of 64 timed together) and the ratio of the naive codec to ours.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use tickline_engine::types::{Nanos, OrdType, Scale, Side, TimeInForce};
use tickline_gateway::venue::fix::codec::time::civil_from_days;
use tickline_gateway::venue::fix::codec::{
    checksum, decode_execution_report, frame, new_order_single, Encoder, ExecFields, Frame,
    Message, OrderFields,
};

/// Operations per timed batch in the percentile run.
const BATCH: usize = 64;
const T0: i64 = 1_723_161_255_208_000_000;

fn fields(id: u64) -> OrderFields<'static> {
    OrderFields {
        cl_ord_id: 7_403_449_411_280_000_000 + id,
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

/// The naive encoder: `format!` per field, a `String` per message.
fn naive_encode(seq: u64, now: i64, o: &OrderFields<'_>) -> Vec<u8> {
    let ts = {
        let days = now.div_euclid(86_400_000_000_000);
        let (y, m, d) = civil_from_days(days);
        let ms = now.rem_euclid(86_400_000_000_000) / 1_000_000;
        format!(
            "{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}.{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let px = o.price as f64 / 10f64.powi(i32::from(o.price_scale));
    let qty = o.qty as f64 / 10f64.powi(i32::from(o.qty_scale));
    let body = format!(
        "35=D\x0149=TICKLINE\x0156=EXEC\x0134={seq}\x0152={ts}\x0111={}\x0155={}\x0154={}\x0160={ts}\x0138={qty:.6}\x0140=2\x0144={px:.2}\x0159=1\x01",
        o.cl_ord_id,
        String::from_utf8_lossy(o.symbol),
        if o.side == Side::Buy { 1 } else { 2 },
    );
    let mut msg = format!("8=FIX.4.4\x019={}\x01{body}", body.len());
    let sum: u32 = msg.bytes().map(u32::from).sum();
    msg.push_str(&format!("10={:03}\x01", sum % 256));
    msg.into_bytes()
}

/// What the naive parser extracts.
#[derive(Debug, Default)]
struct NaiveExec {
    cl_ord_id: u64,
    order_id: String,
    exec_type: String,
    last_px: f64,
    last_qty: f64,
    cum_qty: f64,
    leaves_qty: f64,
}

/// The naive parser: split on SOH and `=`, a `HashMap`, `str::parse`.
fn naive_parse(msg: &[u8]) -> Option<NaiveExec> {
    let s = std::str::from_utf8(msg).ok()?;
    let fields: HashMap<u32, &str> = s
        .split('\x01')
        .filter(|f| !f.is_empty())
        .filter_map(|f| {
            let (t, v) = f.split_once('=')?;
            Some((t.parse().ok()?, v))
        })
        .collect();
    let body_len: usize = fields.get(&9)?.parse().ok()?;
    let body_start = s.find("\x0135=")? + 1;
    let trailer = s.rfind("\x0110=")? + 1;
    if trailer - body_start != body_len {
        return None;
    }
    let sum: u32 = msg[..trailer].iter().map(|&b| u32::from(b)).sum();
    if sum % 256 != fields.get(&10)?.parse::<u32>().ok()? {
        return None;
    }
    let num = |t: u32| fields.get(&t).and_then(|v| v.parse::<f64>().ok());
    Some(NaiveExec {
        cl_ord_id: fields.get(&11)?.parse().ok()?,
        order_id: (*fields.get(&37)?).to_owned(),
        exec_type: (*fields.get(&150)?).to_owned(),
        last_px: num(31).unwrap_or(0.0),
        last_qty: num(32).unwrap_or(0.0),
        cum_qty: num(14)?,
        leaves_qty: num(151)?,
    })
}

/// A QuickFIX-shaped ExecutionReport (fields in dictionary order), framed.
fn execution_report(seq: u64) -> Vec<u8> {
    let body = format!(
        "35=8\x0134={seq}\x0149=EXEC\x0152=20240808-23:54:15.208\x0156=TICKLINE\x016=61837.63\x01\
         11=7403449411280000001\x0114=0.050000\x0117=88231\x0131=61837.63\x0132=0.050000\x01\
         37=1200931\x0138=0.150000\x0139=1\x0144=61837.63\x0154=1\x0155=BTCUSDT\x01\
         60=20240808-23:54:15.208\x01150=F\x01151=0.100000\x01"
    );
    let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = checksum(&m);
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

#[inline]
fn ours_parse(msg: &[u8], p: Scale, q: Scale) -> Option<ExecFields> {
    let Frame::Complete(n) = frame(msg) else { return None };
    decode_execution_report(&Message::parse(&msg[..n]), p, q).ok()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("fix_encode_new_order_single");
    let mut enc = Encoder::new("TICKLINE", "EXEC");
    let mut seq = 0u64;
    g.bench_function("tickline", |b| {
        b.iter(|| {
            seq += 1;
            let f = fields(seq);
            black_box(
                new_order_single(&mut enc, seq, Nanos(T0 + seq as i64), black_box(&f))
                    .map(|m| m.len()),
            )
        })
    });
    g.bench_function("naive_format", |b| {
        b.iter(|| {
            seq += 1;
            let f = fields(seq);
            black_box(naive_encode(seq, T0 + seq as i64, black_box(&f)).len())
        })
    });
    g.bench_function("harness_overhead", |b| {
        b.iter(|| {
            seq += 1;
            black_box(fields(seq));
        })
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("fix_parse_execution_report");
    let msgs: Vec<Vec<u8>> = (1..=256).map(execution_report).collect();
    let (p, q) = (Scale::new(2).unwrap(), Scale::new(6).unwrap());
    assert_eq!(ours_parse(&msgs[0], p, q).map(|f| f.cum_qty), Some(50_000));
    assert!(naive_parse(&msgs[0]).is_some_and(|f| f.cum_qty == 0.05 && f.order_id == "1200931"));
    let mut k = 0usize;
    g.bench_function("tickline", |b| {
        b.iter(|| {
            k = (k + 1) & 255;
            black_box(ours_parse(black_box(&msgs[k]), p, q))
        })
    });
    g.bench_function("naive_split", |b| {
        b.iter(|| {
            k = (k + 1) & 255;
            black_box(
                naive_parse(black_box(&msgs[k])).map(|f| {
                    (f.cl_ord_id, f.exec_type.len(), f.last_px + f.last_qty + f.leaves_qty)
                }),
            )
        })
    });
    g.bench_function("harness_overhead", |b| {
        b.iter(|| {
            k = (k + 1) & 255;
            black_box(black_box(&msgs[k]).len())
        })
    });
    g.finish();
}

criterion_group!(benches, encode, parse);

fn percentiles(name: &str, batch: impl FnMut() -> Duration) -> f64 {
    tickline_bench::batch::print_percentiles(name, BATCH, 50_000, batch)
}

fn print_percentiles() {
    println!("FIX NewOrderSingle encode, per message (batches of {BATCH} timed together):");
    let mut enc = Encoder::new("TICKLINE", "EXEC");
    let mut seq = 0u64;
    let ours = percentiles("tickline", || {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            seq += 1;
            let f = fields(seq);
            black_box(
                new_order_single(&mut enc, seq, Nanos(T0 + seq as i64), black_box(&f))
                    .map(|m| m.len()),
            );
        }
        t0.elapsed()
    });
    let naive = percentiles("naive_format", || {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            seq += 1;
            let f = fields(seq);
            black_box(naive_encode(seq, T0 + seq as i64, black_box(&f)).len());
        }
        t0.elapsed()
    });
    println!("  ratio naive/tickline (p50): {:.1}x", naive / ours);

    println!("FIX ExecutionReport parse, per message (batches of {BATCH} timed together):");
    let msgs: Vec<Vec<u8>> = (1..=256).map(execution_report).collect();
    let (p, q) = (Scale::new(2).unwrap(), Scale::new(6).unwrap());
    let mut k = 0usize;
    let ours = percentiles("tickline", || {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            k = (k + 1) & 255;
            black_box(ours_parse(black_box(&msgs[k]), p, q));
        }
        t0.elapsed()
    });
    // Where the time goes: framing (BodyLength, CheckSum), the field split, and reading
    // the fields, each alone.
    percentiles("  frame only", || {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            k = (k + 1) & 255;
            black_box(frame(black_box(&msgs[k])));
        }
        t0.elapsed()
    });
    percentiles("  split only", || {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            k = (k + 1) & 255;
            let m = black_box(&msgs[k]);
            black_box(Message::parse(m).problem());
        }
        t0.elapsed()
    });
    let split: Vec<Message<'_>> = msgs.iter().map(|m| Message::parse(m)).collect();
    percentiles("  decode only", || {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            k = (k + 1) & 255;
            black_box(decode_execution_report(black_box(&split[k]), p, q).ok());
        }
        t0.elapsed()
    });
    let naive = percentiles("naive_split", || {
        let t0 = Instant::now();
        for _ in 0..BATCH {
            k = (k + 1) & 255;
            black_box(naive_parse(black_box(&msgs[k])).map(|f| f.cl_ord_id));
        }
        t0.elapsed()
    });
    println!("  ratio naive/tickline (p50): {:.1}x", naive / ours);
}

fn main() {
    if std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--list") {
        print_percentiles();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
