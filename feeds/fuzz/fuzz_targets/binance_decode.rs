//! Any bytes through the Binance handler: stream frames (fast path and simd-json fallback),
//! REST snapshot bodies, and the book sync behind them. Must never panic; a rejected frame
//! must never emit a tick.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickline_engine::types::{InstrumentId, Nanos};
use tickline_feeds::venue::binance::{BinanceConfig, BinanceHandler};
use tickline_feeds::Payload;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let registry = common::registry();
    let mut h = BinanceHandler::new(&registry, BinanceConfig::default()).expect("handler");
    // Split the input into frames at newlines, so one input exercises a sequence (and the
    // book sync state machine), and the first byte picks snapshot-or-frame for each.
    for (i, frame) in data.split(|&c| c == b'\n').enumerate() {
        let mut n = 0;
        if frame.first() == Some(&b'S') {
            let r = h.on_snapshot(InstrumentId(0), Nanos(i as i64), &frame[1..], &mut |_| n += 1);
            assert!(r.is_ok() || n == 0, "a rejected snapshot emitted a tick");
        } else {
            let r = h.on_frame(Nanos(i as i64), Payload::Text(frame), &mut |_| n += 1);
            assert!(r.is_ok() || n == 0, "a rejected frame emitted a tick");
        }
    }
    let _ = h.decoder();
});
