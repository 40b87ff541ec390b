//! Any bytes through the OKX handler (decoder, seqId chain, books). Must never panic; a
//! rejected frame must never emit a tick.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickline_engine::types::Nanos;
use tickline_feeds::venue::okx::{OkxConfig, OkxHandler};
use tickline_feeds::Payload;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let registry = common::registry();
    let mut h = OkxHandler::new(&registry, OkxConfig::default()).expect("handler");
    for (i, frame) in data.split(|&c| c == b'\n').enumerate() {
        let mut n = 0;
        let r = h.on_frame(Nanos(i as i64), Payload::Text(frame), &mut |_| n += 1);
        assert!(r.is_ok() || n == 0, "a rejected frame emitted a tick");
    }
});
