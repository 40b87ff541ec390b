//! Property tests of the Binance decoder's number path against `rust_decimal`, on both the
//! fast path and the `simd-json` fallback, and of its robustness to corrupted frames.

use proptest::prelude::*;
use rust_decimal::Decimal;
use tickline_engine::types::{FixedError, InstrumentRegistry, InstrumentSpec, Px, Qty, Scale};
use tickline_feeds::venue::binance::{BinanceDecoder, BinanceEvent};
use tickline_feeds::DecodeError;

fn decoder(price_scale: u8, qty_scale: u8) -> BinanceDecoder {
    let reg = InstrumentRegistry::build(&[InstrumentSpec {
        symbol: "BTCUSDT".into(),
        venue: "binance".into(),
        price_scale,
        qty_scale,
        tick_size: Decimal::new(1, u32::from(price_scale)),
        lot_size: Decimal::new(1, u32::from(qty_scale)),
    }])
    .unwrap();
    BinanceDecoder::new(&reg).unwrap()
}

/// What the decoder must make of `d` at `scale`, by `rust_decimal`'s exact arithmetic.
fn expected(d: Decimal, scale: u8) -> Result<i64, DecodeError> {
    Px::from_decimal(d, Scale::new(scale).unwrap()).map(Px::raw).map_err(|e| match e {
        FixedError::TooPrecise(_) => DecodeError::TooPrecise,
        FixedError::Overflow(_) => DecodeError::Overflow,
    })
}

/// A decimal string as Binance writes it: fixed decimals, possibly padded with zeros.
fn text(d: Decimal, pad: usize) -> String {
    let mut s = d.to_string();
    if pad > 0 {
        if !s.contains('.') {
            s.push('.');
        }
        s.push_str(&"0".repeat(pad));
    }
    s
}

fn ticker_frame(px: &str, qty: &str, reorder: bool) -> Vec<u8> {
    if reorder {
        format!(r#"{{"data":{{"A":"{qty}","a":"{px}","B":"{qty}","b":"{px}","s":"BTCUSDT","u":1}},"stream":"btcusdt@bookTicker"}}"#)
    } else {
        format!(r#"{{"stream":"btcusdt@bookTicker","data":{{"u":1,"s":"BTCUSDT","b":"{px}","B":"{qty}","a":"{px}","A":"{qty}"}}}}"#)
    }
    .into_bytes()
}

fn depth_frame(px: &str, qty: &str, reorder: bool) -> Vec<u8> {
    if reorder {
        format!(r#"{{"stream":"btcusdt@depth","data":{{"a":[],"b":[["{px}","{qty}"]],"u":2,"U":1,"s":"BTCUSDT","E":1,"e":"depthUpdate"}}}}"#)
    } else {
        format!(r#"{{"stream":"btcusdt@depth","data":{{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["{px}","{qty}"]],"a":[]}}}}"#)
    }
    .into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Prices (bookTicker) and sizes (depth levels) decode to exactly what `rust_decimal` says,
    /// or fail with the kind it implies, on both decode paths.
    #[test]
    fn price_and_size_round_trip_against_rust_decimal(
        mantissa in prop_oneof![0u64..1_000_000_000, 0u64..=u64::MAX / 2],
        decimals in 0u32..=12,
        pad in 0usize..4,
        price_scale in 0u8..=9,
        qty_scale in 0u8..=9,
        reorder in any::<bool>(),
    ) {
        let d = Decimal::new(i64::try_from(mantissa).unwrap(), decimals);
        let s = text(d, pad);
        let mut dec = decoder(price_scale, qty_scale);

        let want_px = expected(d, price_scale);
        let want_qty = expected(d, qty_scale);
        // A ticker carries the value as both price and size: the first failure wins, price first.
        let want_ticker = want_px.and_then(|p| want_qty.map(|q| (p, q)));
        let got = match dec.decode_text(&ticker_frame(&s, &s, reorder)) {
            Ok(BinanceEvent::BookTicker(t)) => Ok((t.bid.px.raw(), t.ask.qty.raw())),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        prop_assert_eq!(got, want_ticker, "text {} scales {}/{}", s, price_scale, qty_scale);

        // Sizes through the depth level path (price fixed at 1).
        let got = match dec.decode_text(&depth_frame("1", &s, reorder)) {
            Ok(BinanceEvent::Depth(u)) => Ok(u.bids.map(|l| l.qty.raw()).collect::<Vec<_>>()),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        prop_assert_eq!(got, want_qty.map(|q| vec![q]));
        prop_assert_eq!(dec.fallbacks() > 0, reorder);
    }

    /// Fixed-point values printed back as decimals parse to themselves.
    #[test]
    fn fixed_point_display_round_trips(raw in 0i64..=i64::MAX, scale in 0u8..=12) {
        let sc = Scale::new(scale).unwrap();
        let s = Qty::from_raw(raw).display(sc).to_string();
        let mut dec = decoder(0, scale);
        match dec.decode_text(&depth_frame("1", &s, false)) {
            Ok(BinanceEvent::Depth(mut u)) => prop_assert_eq!(u.bids.next().map(|l| l.qty.raw()), Some(raw)),
            other => prop_assert!(false, "{:?} for {}", other, s),
        }
    }

    /// Any corruption or truncation of a valid frame is an error or an event, never a panic.
    #[test]
    fn corrupted_frames_never_panic(pos in 0usize..200, byte in any::<u8>(), cut in 0usize..200) {
        let mut dec = decoder(2, 8);
        for frame in [ticker_frame("61837.63", "3.78826", false), depth_frame("61837.63", "0.5", false)] {
            let mut f = frame.clone();
            let p = pos % f.len();
            f[p] = byte;
            let _ = dec.decode_text(&f);
            let _ = dec.decode_text(&frame[..cut.min(frame.len())]);
            let _ = dec.decode_snapshot(tickline_engine::types::InstrumentId(0), &f);
        }
    }
}
