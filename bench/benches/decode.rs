//! Binance frame decode, side by side in one run: our decoder (zero-allocation fast path with
//! fixed-point parsing) against the `simd-json` serde path and `serde_json`, both decoding
//! into borrowed structs and then parsing the same decimals to the same fixed-point values.
//!
//! Before criterion's own runs it prints, per path and message: ns per message as p50, p99,
//! p99.9 and max over batches of 256 messages (the three paths take turns batch by batch, so
//! load from elsewhere on the machine falls on each alike), the ratio of each baseline to ours
//! at p50, and heap allocations per message (a counting global allocator). The goal is ≥ 3×
//! the simd-json path on bookTicker and 0 allocations per message for ours.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;
use serde::Deserialize;
use tickline_engine::types::{parse_fixed, InstrumentRegistry, InstrumentSpec, Scale};
use tickline_feeds::venue::binance::{BinanceDecoder, BinanceEvent};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const TICKER: &[u8] = br#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
const DEPTH: &[u8] = br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17000000","0.00000000"],["56854.58000000","0.00000000"]],"a":[["61837.64000000","1.54698000"],["61839.85000000","0.00000000"],["61839.86000000","0.00000000"],["61845.11000000","0.32329000"],["61848.49000000","0.00000000"],["61855.45000000","0.32323000"],["61862.51000000","0.05041000"],["61862.52000000","0.00000000"],["61937.64000000","0.02000000"]]}}"#;

fn registry() -> InstrumentRegistry {
    InstrumentRegistry::build(&[InstrumentSpec {
        symbol: "BTCUSDT".into(),
        venue: "binance".into(),
        price_scale: 2,
        qty_scale: 6,
        tick_size: Decimal::new(1, 2),
        lot_size: Decimal::new(1, 5),
    }])
    .expect("valid spec")
}

#[derive(Deserialize)]
struct Frame<'a, T> {
    #[serde(borrow)]
    #[allow(dead_code)]
    stream: &'a str,
    data: T,
}

#[derive(Deserialize)]
struct TickerMsg<'a> {
    u: u64,
    #[serde(borrow)]
    s: &'a str,
    b: &'a str,
    #[serde(rename = "B")]
    bq: &'a str,
    a: &'a str,
    #[serde(rename = "A")]
    aq: &'a str,
}

#[derive(Deserialize)]
struct DepthMsg<'a> {
    #[serde(rename = "E")]
    e_time: u64,
    #[serde(borrow)]
    s: &'a str,
    #[serde(rename = "U")]
    first: u64,
    u: u64,
    #[serde(borrow)]
    b: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    a: Vec<[&'a str; 2]>,
}

const PX: Scale = match Scale::new(2) {
    Some(s) => s,
    None => panic!(),
};
const QTY: Scale = match Scale::new(6) {
    Some(s) => s,
    None => panic!(),
};

fn fx(s: &str, scale: Scale) -> i64 {
    parse_fixed(s.as_bytes(), scale).unwrap_or(0)
}

fn ticker_sum(t: &TickerMsg<'_>) -> i64 {
    (t.u as i64) ^ t.s.len() as i64 ^ fx(t.b, PX) ^ fx(t.bq, QTY) ^ fx(t.a, PX) ^ fx(t.aq, QTY)
}

fn depth_sum(d: &DepthMsg<'_>) -> i64 {
    let mut x = (d.first ^ d.u ^ d.e_time) as i64 ^ d.s.len() as i64;
    for l in d.b.iter().chain(d.a.iter()) {
        x ^= fx(l[0], PX) ^ fx(l[1], QTY);
    }
    x
}

/// The three paths for one message shape; each returns a checksum of the decoded values.
struct Paths {
    ours: BinanceDecoder,
    buf: Vec<u8>,
    buffers: simd_json::Buffers,
}

impl Paths {
    fn new() -> Paths {
        Paths {
            ours: BinanceDecoder::new(&registry()).expect("decoder"),
            buf: Vec::with_capacity(4096),
            buffers: simd_json::Buffers::new(4096),
        }
    }

    fn ours(&mut self, frame: &[u8]) -> i64 {
        match self.ours.decode_text(frame) {
            Ok(BinanceEvent::BookTicker(t)) => {
                t.update_id as i64
                    ^ t.bid.px.raw()
                    ^ t.bid.qty.raw()
                    ^ t.ask.px.raw()
                    ^ t.ask.qty.raw()
            }
            Ok(BinanceEvent::Depth(d)) => {
                let mut x = (d.first_update_id ^ d.final_update_id) as i64;
                for l in d.bids.chain(d.asks) {
                    x ^= l.px.raw() ^ l.qty.raw();
                }
                x
            }
            _ => -1,
        }
    }

    fn simd(&mut self, frame: &[u8], depth: bool) -> i64 {
        // simd-json parses in place: copy into a reused buffer (a memcpy, no allocation).
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        if depth {
            simd_json::serde::from_slice_with_buffers::<Frame<'_, DepthMsg<'_>>>(
                &mut self.buf,
                &mut self.buffers,
            )
            .map_or(-1, |f| depth_sum(&f.data))
        } else {
            simd_json::serde::from_slice_with_buffers::<Frame<'_, TickerMsg<'_>>>(
                &mut self.buf,
                &mut self.buffers,
            )
            .map_or(-1, |f| ticker_sum(&f.data))
        }
    }

    fn serde_json(frame: &[u8], depth: bool) -> i64 {
        if depth {
            serde_json::from_slice::<Frame<'_, DepthMsg<'_>>>(frame)
                .map_or(-1, |f| depth_sum(&f.data))
        } else {
            serde_json::from_slice::<Frame<'_, TickerMsg<'_>>>(frame)
                .map_or(-1, |f| ticker_sum(&f.data))
        }
    }
}

const BATCH: usize = 256;
const BATCHES: usize = 2_000;

/// ns per message of one batch.
#[inline(never)]
fn batch(mut f: impl FnMut() -> i64) -> f64 {
    let t = Instant::now();
    for _ in 0..BATCH {
        black_box(f());
    }
    t.elapsed().as_nanos() as f64 / BATCH as f64
}

/// ns per message of each batch, sorted, for each path (ours, simd-json, serde_json).
///
/// The paths take turns batch by batch, so whatever else the machine is doing slows each of
/// them alike and the ratios stay meaningful on a shared host.
fn batches(p: &mut Paths, frame: &[u8], depth: bool) -> [Vec<f64>; 3] {
    for _ in 0..20 {
        batch(|| p.ours(black_box(frame)));
        batch(|| p.simd(black_box(frame), depth));
        batch(|| Paths::serde_json(black_box(frame), depth));
    }
    let mut v: [Vec<f64>; 3] = std::array::from_fn(|_| Vec::with_capacity(BATCHES));
    for _ in 0..BATCHES {
        v[0].push(batch(|| p.ours(black_box(frame))));
        v[1].push(batch(|| p.simd(black_box(frame), depth)));
        v[2].push(batch(|| Paths::serde_json(black_box(frame), depth)));
    }
    for path in &mut v {
        path.sort_by(f64::total_cmp);
    }
    v
}

fn pct(v: &[f64], q: f64) -> f64 {
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn allocs_per_msg(mut f: impl FnMut() -> i64) -> f64 {
    for _ in 0..100 {
        black_box(f());
    }
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..10_000 {
        black_box(f());
    }
    (ALLOCS.load(Ordering::Relaxed) - before) as f64 / 10_000.0
}

fn summary() {
    println!("\nBinance decode, ns per message over {BATCHES} batches of {BATCH} (ratio = path p50 / ours p50)");
    println!(
        "{:<12} {:<11} {:>8} {:>8} {:>8} {:>8} {:>7} {:>12}",
        "message", "path", "p50", "p99", "p99.9", "max", "ratio", "allocs/msg"
    );
    for (name, frame, depth) in [("bookTicker", TICKER, false), ("depthUpdate", DEPTH, true)] {
        let mut p = Paths::new();
        let check = (p.ours(frame), p.simd(frame, depth), Paths::serde_json(frame, depth));
        assert!(check.0 != -1 && check.1 != -1 && check.2 != -1, "every path decodes {name}");
        let [ours, simd, sj] = batches(&mut p, frame, depth);
        let ours_alloc = allocs_per_msg(|| p.ours(black_box(frame)));
        let simd_alloc = allocs_per_msg(|| p.simd(black_box(frame), depth));
        let sj_alloc = allocs_per_msg(|| Paths::serde_json(black_box(frame), depth));
        let base = pct(&ours, 0.5);
        for (path, v, a) in [
            ("ours", &ours, ours_alloc),
            ("simd-json", &simd, simd_alloc),
            ("serde_json", &sj, sj_alloc),
        ] {
            println!(
                "{name:<12} {path:<11} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>6.2}x {:>12.2}",
                pct(v, 0.5),
                pct(v, 0.99),
                pct(v, 0.999),
                v[v.len() - 1],
                pct(v, 0.5) / base,
                a
            );
        }
    }
    println!();
}

fn decode(c: &mut Criterion) {
    summary();
    let mut g = c.benchmark_group("decode");
    for (name, frame, depth) in [("bookTicker", TICKER, false), ("depthUpdate", DEPTH, true)] {
        g.throughput(Throughput::Bytes(frame.len() as u64));
        let mut p = Paths::new();
        g.bench_function(format!("{name}/ours"), |b| b.iter(|| p.ours(black_box(frame))));
        g.bench_function(format!("{name}/simd-json"), |b| {
            b.iter(|| p.simd(black_box(frame), depth))
        });
        g.bench_function(format!("{name}/serde_json"), |b| {
            b.iter(|| Paths::serde_json(black_box(frame), depth))
        });
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
