//! Book check on the real Binance captures in `../shared/data/binance-spot/` (needs that
//! folder beside the checkout; under `CI=true` a missing file fails the test, elsewhere it is
//! skipped with a notice).
//!
//! Scales: prices have 2 decimals in both captures (tick 0.01). Sizes need one more decimal
//! than the venue's lot: deep resting levels carry sizes finer than today's lot (BTCUSDT
//! `"25.42618900"` at 200000.00, ETHUSDT `"2292.22972000"` at 5000.00), so BTCUSDT uses
//! qty_scale 6 (lot 0.00001) and ETHUSDT qty_scale 5 (lot 0.0001).

use std::path::PathBuf;

use rust_decimal::Decimal;
use tickline_engine::types::{InstrumentId, InstrumentRegistry, InstrumentSpec};
use tickline_feeds::replay::{check_binance_book, BookCheckReport};

fn registry() -> InstrumentRegistry {
    let spec = |symbol: &str, qty_scale: u8, lot: Decimal| InstrumentSpec {
        symbol: symbol.into(),
        venue: "binance".into(),
        price_scale: 2,
        qty_scale,
        tick_size: Decimal::new(1, 2),
        lot_size: lot,
    };
    InstrumentRegistry::build(&[
        spec("BTCUSDT", 6, Decimal::new(1, 5)),
        spec("ETHUSDT", 5, Decimal::new(1, 4)),
    ])
    .expect("valid instrument specs")
}

fn capture(name: &str) -> Option<PathBuf> {
    let path =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/binance-spot/"))
            .join(name);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "shared capture {} is missing: CI must have ../shared/data/binance-spot/ beside the checkout",
            path.display()
        );
    }
    eprintln!("SKIP: {} not found (shared data absent outside CI)", path.display());
    None
}

fn check(name: &str, instrument: InstrumentId) -> Option<BookCheckReport> {
    let path = capture(name)?;
    let report = check_binance_book(&path, &registry(), instrument)
        .unwrap_or_else(|e| panic!("replaying {}: {e}", path.display()));
    println!("{name}: {report:?}");
    Some(report)
}

#[test]
fn btcusdt_book_matches_book_ticker_on_every_applied_diff() {
    let Some(r) = check("btcusdt_20240808.gz", InstrumentId(0)) else { return };
    assert_eq!(r.frames, 41_249);
    assert_eq!(r.decode_errors, 0);
    assert_eq!(r.snapshots, 1);
    assert_eq!(r.gaps, 0);
    assert_eq!(r.resyncs, 0);
    assert_eq!(r.first_mismatch, None);
    assert_eq!(r.mismatches, 0);
    assert_eq!(r.no_reference, 0);
    assert_eq!(r.events_checked, 3_448);
}

#[test]
fn ethusdt_book_matches_book_ticker_on_every_applied_diff() {
    let Some(r) = check("ethusdt_20240808.gz", InstrumentId(1)) else { return };
    assert_eq!(r.frames, 33_618);
    assert_eq!(r.decode_errors, 0);
    assert_eq!(r.snapshots, 1);
    assert_eq!(r.gaps, 0);
    assert_eq!(r.resyncs, 0);
    assert_eq!(r.first_mismatch, None);
    assert_eq!(r.mismatches, 0);
    assert_eq!(r.no_reference, 0);
    assert_eq!(r.events_checked, 3_432);
}
