//! Proves the per-message hot path allocates nothing after warm-up: Binance bookTicker and
//! depthUpdate decode + book sync + tick emission, on both decode paths, and the OKX handler.
//!
//! A counting global allocator counts allocations per thread, so tests running in parallel
//! do not disturb each other. Everything a test feeds is built before it starts counting.

use std::path::PathBuf;
use tickline_engine::alloc_count::{self, CountingAllocator};

use rust_decimal::Decimal;
use tickline_engine::types::{InstrumentId, InstrumentRegistry, InstrumentSpec, Nanos, Tick};
use tickline_feeds::book::SyncOutcome;
use tickline_feeds::capture::CaptureReader;
use tickline_feeds::venue::binance::{
    is_depth_snapshot, BinanceConfig, BinanceHandler, FrameEvent,
};
use tickline_feeds::venue::okx::{OkxConfig, OkxHandler};
use tickline_feeds::Payload;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn registry() -> InstrumentRegistry {
    let spec = |symbol: &str, venue: &str, price_scale: u8, qty_scale: u8| InstrumentSpec {
        symbol: symbol.into(),
        venue: venue.into(),
        price_scale,
        qty_scale,
        tick_size: Decimal::new(1, u32::from(price_scale)),
        lot_size: Decimal::new(1, u32::from(qty_scale)),
    };
    InstrumentRegistry::build(&[
        spec("BTCUSDT", "binance", 2, 6),
        spec("ETHUSDT", "binance", 2, 5),
        spec("BTC-USDT", "okx", 1, 8),
    ])
    .unwrap()
}

const BTC: InstrumentId = InstrumentId(0);

/// A small deterministic generator (xorshift), so frames vary without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn price(cents: u64) -> String {
    format!("{}.{:02}000000", cents / 100, cents % 100)
}

fn qty(micro: u64) -> String {
    format!("{}.{:06}00", micro / 1_000_000, micro % 1_000_000)
}

fn snapshot(last_update_id: u64, mid: u64, levels: u64) -> Vec<u8> {
    let side = |sign: i64| {
        (1..=levels)
            .map(|k| {
                let p = (mid as i64 + sign * k as i64) as u64;
                format!(r#"["{}","{}"]"#, price(p), qty(k * 1_000))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(r#"{{"lastUpdateId":{last_update_id},"bids":[{}],"asks":[{}]}}"#, side(-1), side(1))
        .into_bytes()
}

/// Binance frames in the venue's exact shape: depth diffs chained by update id, bookTickers
/// and trades. `reorder` writes every frame with its fields in another order, which only the
/// fallback path accepts.
fn binance_frames(n: usize, first_id: u64, mid: u64, reorder: bool) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut id = first_id;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let frame = match i % 3 {
            0 => {
                let (first, last) = (id + 1, id + 1 + rng.below(5));
                id = last;
                let mut lv = |sign: i64| {
                    (0..1 + rng.below(6))
                        .map(|_| {
                            let p = (mid as i64 + sign * (1 + rng.below(40)) as i64) as u64;
                            let q = if rng.below(4) == 0 { 0 } else { 1 + rng.below(5_000_000) };
                            format!(r#"["{}","{}"]"#, price(p), qty(q))
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let (b, a) = (lv(-1), lv(1));
                if reorder {
                    format!(
                        r#"{{"data":{{"a":[{a}],"b":[{b}],"u":{last},"U":{first},"s":"BTCUSDT","E":1723161255208,"e":"depthUpdate"}},"stream":"btcusdt@depth@100ms"}}"#
                    )
                } else {
                    format!(
                        r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":{first},"u":{last},"b":[{b}],"a":[{a}]}}}}"#
                    )
                }
            }
            1 => {
                let (b, a) = (price(mid - 1 - rng.below(3)), price(mid + 1 + rng.below(3)));
                let (bq, aq) = (qty(1 + rng.below(9_000_000)), qty(1 + rng.below(9_000_000)));
                if reorder {
                    format!(
                        r#"{{"stream":"btcusdt@bookTicker","data":{{"s":"BTCUSDT","u":{id},"A":"{aq}","a":"{a}","B":"{bq}","b":"{b}"}}}}"#
                    )
                } else {
                    format!(
                        r#"{{"stream":"btcusdt@bookTicker","data":{{"u":{id},"s":"BTCUSDT","b":"{b}","B":"{bq}","a":"{a}","A":"{aq}"}}}}"#
                    )
                }
            }
            _ => {
                let p = price(mid + rng.below(3));
                let q = qty(1 + rng.below(100_000));
                let m = rng.below(2) == 0;
                if reorder {
                    format!(
                        r#"{{"stream":"btcusdt@trade","data":{{"M":true,"m":{m},"T":1723161255342,"q":"{q}","p":"{p}","t":{i},"s":"BTCUSDT","E":1723161255343,"e":"trade"}}}}"#
                    )
                } else {
                    format!(
                        r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":{i},"p":"{p}","q":"{q}","T":1723161255342,"m":{m},"M":true}}}}"#
                    )
                }
            }
        };
        out.push(frame.into_bytes());
    }
    out
}

/// Feeds `frames` to a synced handler; returns (allocations after warm-up, depth diffs
/// applied after warm-up, fallbacks).
fn run_binance(frames: &[Vec<u8>], warm_up: usize) -> (u64, u64, u64) {
    let mut h = BinanceHandler::new(&registry(), BinanceConfig::default()).unwrap();
    let mut ticks = 0u64;
    let mut emit = |_: Tick| ticks += 1;
    let snap = snapshot(1_000, 6_000_000, 1_000);
    assert_eq!(h.on_snapshot(BTC, Nanos(1), &snap, &mut emit), Ok(SyncOutcome::Synced));
    let mut applied = 0;
    let mut before = 0;
    for (i, f) in frames.iter().enumerate() {
        if i == warm_up {
            before = alloc_count::thread_allocations();
        }
        let ev = h.on_frame(Nanos(i as i64), Payload::Text(f), &mut emit).unwrap();
        if i >= warm_up {
            if let FrameEvent::Depth { outcome, .. } = ev {
                assert!(matches!(outcome, SyncOutcome::Applied { .. }), "{outcome:?}");
                applied += 1;
            }
        }
    }
    let after = alloc_count::thread_allocations();
    assert!(ticks > 0);
    assert_eq!(h.sync(BTC).unwrap().counters().gaps.get(), 0);
    (after - before, applied, h.telemetry().fallbacks.get())
}

#[test]
fn binance_fast_path_allocates_nothing_per_message() {
    let frames = binance_frames(6_000, 1_000, 6_000_000, false);
    let (allocations, applied, fallbacks) = run_binance(&frames, 300);
    assert_eq!(fallbacks, 0, "the venue's own shape must stay on the fast path");
    assert!(applied > 1_800);
    assert_eq!(allocations, 0, "allocations over {} messages after warm-up", frames.len() - 300);
}

#[test]
fn binance_fallback_path_allocates_nothing_per_message_after_warm_up() {
    let frames = binance_frames(6_000, 1_000, 6_000_000, true);
    let (allocations, applied, fallbacks) = run_binance(&frames, 300);
    assert_eq!(fallbacks, frames.len() as u64);
    assert!(applied > 1_800);
    assert_eq!(allocations, 0, "allocations over {} messages after warm-up", frames.len() - 300);
}

#[test]
fn okx_handler_allocates_nothing_per_message_after_warm_up() {
    let mut h = OkxHandler::new(&registry(), OkxConfig::default()).unwrap();
    let snap = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["42220.0","1","0","1"],["42221.0","1","0","1"]],"bids":[["42219.0","1","0","1"],["42218.0","1","0","1"]],"ts":"1630048897897","checksum":0,"prevSeqId":-1,"seqId":100}]}"#;
    let mut rng = Rng(7);
    let frames: Vec<Vec<u8>> = (0..3_000u64)
        .map(|i| {
            let f = match i % 3 {
                0 => format!(
                    r#"{{"arg":{{"channel":"books","instId":"BTC-USDT"}},"action":"update","data":[{{"asks":[["{}.0","{}","0","1"]],"bids":[["{}.0","{}","0","1"]],"ts":"1630048897997","checksum":0,"prevSeqId":{},"seqId":{}}}]}}"#,
                    42_220 + rng.below(20),
                    rng.below(3),
                    42_200 + rng.below(20),
                    rng.below(3),
                    100 + i,
                    100 + i + 3
                ),
                1 => format!(
                    r#"{{"arg":{{"channel":"bbo-tbt","instId":"BTC-USDT"}},"data":[{{"asks":[["42220.1","0.5","0","2"]],"bids":[["42220.0","0.{}","0","2"]],"ts":"1670324386802","seqId":{i}}}]}}"#,
                    1 + rng.below(9)
                ),
                _ => format!(
                    r#"{{"arg":{{"channel":"trades","instId":"BTC-USDT"}},"data":[{{"instId":"BTC-USDT","tradeId":"{i}","px":"42219.9","sz":"0.01","side":"buy","ts":"1630048897897","count":"1"}},{{"instId":"BTC-USDT","tradeId":"{}","px":"42220.0","sz":"0.02","side":"sell","ts":"1630048897898","count":"1"}}]}}"#,
                    i + 1
                ),
            };
            f.into_bytes()
        })
        .collect();
    // Chain the book updates: each names the previous one's seqId.
    let frames: Vec<Vec<u8>> = {
        let mut prev = 100u64;
        frames
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                if i % 3 != 0 {
                    return f;
                }
                let s = String::from_utf8(f).unwrap();
                let seq = prev + 3;
                let s = s
                    .replace(
                        &format!(r#""prevSeqId":{}"#, 100 + i),
                        &format!(r#""prevSeqId":{prev}"#),
                    )
                    .replace(&format!(r#""seqId":{}"#, 100 + i + 3), &format!(r#""seqId":{seq}"#));
                prev = seq;
                s.into_bytes()
            })
            .collect()
    };
    let mut ticks = 0u64;
    let mut emit = |_: Tick| ticks += 1;
    h.on_frame(Nanos(0), Payload::Text(snap), &mut emit).unwrap();
    let mut before = 0;
    for (i, f) in frames.iter().enumerate() {
        if i == 300 {
            before = alloc_count::thread_allocations();
        }
        h.on_frame(Nanos(1), Payload::Text(f), &mut emit).unwrap();
    }
    let allocations = alloc_count::thread_allocations() - before;
    let c = h.sync(InstrumentId(2)).unwrap().counters();
    assert_eq!((c.gaps.get(), c.applied.get()), (0, 1_000));
    assert!(ticks > 2_000);
    assert_eq!(allocations, 0);
}

/// The real Binance capture, when `../shared/data/binance-spot/` is there: every message
/// after the snapshot and a short warm-up goes through without allocating.
#[test]
fn shared_data_btcusdt_capture_allocates_nothing_after_warm_up() {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/binance-spot/btcusdt_20240808.gz"
    ));
    if !path.is_file() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "shared capture {} is missing under CI",
            path.display()
        );
        eprintln!("SKIP: {} not found", path.display());
        return;
    }
    let mut reader = CaptureReader::open(&path).unwrap();
    let mut lines = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        lines.push((f.recv_ns, f.frame.to_vec()));
    }
    let mut h = BinanceHandler::new(&registry(), BinanceConfig::default()).unwrap();
    let mut ticks = 0u64;
    let mut emit = |_: Tick| ticks += 1;
    let snap_at = lines.iter().position(|(_, f)| is_depth_snapshot(f)).unwrap();
    let warm_up = snap_at + 2_000;
    let mut before = 0;
    for (i, (recv, f)) in lines.iter().enumerate() {
        if i == warm_up {
            before = alloc_count::thread_allocations();
        }
        if is_depth_snapshot(f) {
            h.on_snapshot(BTC, *recv, f, &mut emit).unwrap();
        } else {
            h.on_frame(*recv, Payload::Text(f), &mut emit).unwrap();
        }
    }
    let allocations = alloc_count::thread_allocations() - before;
    assert_eq!(h.sync(BTC).unwrap().counters().gaps.get(), 0);
    assert_eq!(allocations, 0, "over {} messages", lines.len() - warm_up);
}
