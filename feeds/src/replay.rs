//! Replaying captures through the production decode + sync + book path.
//!
//! [`check_binance_book`] is the book's acceptance check on real data: after every depth diff
//! applied to a synced book, the book's best bid and ask (price *and* size) must equal those of
//! the latest `bookTicker` whose update id `u` is not past the diff's final id. `bookTicker`
//! fires on every change of the top, so that ticker *is* the top at that id: any difference
//! is a bug in the decoder, the sync or the book.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::Path;

use tickline_engine::types::{
    InstrumentId, InstrumentRegistry, Level, Nanos, Tick, TickFlags, TickKind,
};

use crate::book::SyncOutcome;
use crate::capture::CaptureReader;
use crate::error::{Error, Result};
use crate::payload::Payload;
use crate::venue::binance::{is_depth_snapshot, BinanceConfig, BinanceHandler, FrameEvent};

/// How many recent bookTickers the check keeps to find the one at a diff's id.
const TICKER_HISTORY: usize = 4_096;

/// The first book/ticker disagreement of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookMismatch {
    /// Capture line of the depth diff.
    pub line: u64,
    /// Its receive time.
    pub recv_ns: Nanos,
    /// The diff's final update id.
    pub update_id: u64,
    /// The book's best bid after applying it.
    pub book_bid: Option<Level>,
    /// The book's best ask after applying it.
    pub book_ask: Option<Level>,
    /// The reference bookTicker's update id.
    pub ticker_update_id: u64,
    /// Its best bid.
    pub ticker_bid: Level,
    /// Its best ask.
    pub ticker_ask: Level,
}

/// Figures of a book check over one capture, for one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookCheckReport {
    /// Capture lines read.
    pub frames: u64,
    /// Frames rejected by the decoder (any instrument).
    pub decode_errors: u64,
    /// Diffs applied to the synced book as they arrived (not replayed from the buffer).
    pub depth_applied: u64,
    /// Of those, diffs compared with a bookTicker.
    pub events_checked: u64,
    /// Diffs after which the book's top differed from the ticker's.
    pub mismatches: u64,
    /// Applied diffs with no earlier ticker at or below their id (not checked).
    pub no_reference: u64,
    /// Sequence gaps.
    pub gaps: u64,
    /// Resyncs (gaps included).
    pub resyncs: u64,
    /// Diffs dropped as already covered by the snapshot.
    pub dropped_stale: u64,
    /// Snapshots loaded.
    pub snapshots: u64,
    /// The first mismatch.
    pub first_mismatch: Option<BookMismatch>,
}

/// Replays a Binance capture file and checks `instrument`'s book against its bookTicker.
///
/// Snapshot lines in the capture are taken as `instrument`'s (a REST body does not name its
/// symbol). `registry` supplies the scales; its `binance` instruments are all decoded.
pub fn check_binance_book(
    path: impl AsRef<Path>,
    registry: &InstrumentRegistry,
    instrument: InstrumentId,
) -> Result<BookCheckReport> {
    let mut reader = CaptureReader::open(path)?;
    check_binance_capture(&mut reader, registry, instrument)
}

/// [`check_binance_book`] over an open capture.
pub fn check_binance_capture<R: BufRead>(
    reader: &mut CaptureReader<R>,
    registry: &InstrumentRegistry,
    instrument: InstrumentId,
) -> Result<BookCheckReport> {
    let mut handler =
        BinanceHandler::new(registry, BinanceConfig::default())?.with_base_flags(TickFlags::REPLAY);
    if handler.sync(instrument).is_none() {
        return Err(Error::UnknownInstrument {
            venue: crate::venue::binance::VENUE,
            id: instrument,
        });
    }
    let mut report = BookCheckReport::default();
    // (u, bid, ask) of recent bookTickers, oldest first.
    let mut tickers: VecDeque<(u64, Level, Level)> = VecDeque::with_capacity(TICKER_HISTORY);
    while let Some(f) = reader.next_frame()? {
        report.frames += 1;
        if is_depth_snapshot(f.frame) {
            if handler.on_snapshot(instrument, f.recv_ns, f.frame, &mut |_| {}).is_err() {
                report.decode_errors += 1;
            }
            continue;
        }
        let mut quote: Option<Tick> = None;
        let event = handler.on_frame(f.recv_ns, Payload::Text(f.frame), &mut |t| {
            if t.kind() == TickKind::Quote && !t.flags().contains(TickFlags::FROM_DEPTH) {
                quote = Some(t);
            }
        });
        match event {
            Err(_) => report.decode_errors += 1,
            Ok(FrameEvent::Quote(id)) if id == instrument => {
                if let Some((bid, ask)) = quote.and_then(|t| Some((t.bid()?, t.ask()?))) {
                    if tickers.len() == TICKER_HISTORY {
                        tickers.pop_front();
                    }
                    tickers.push_back((quote.map_or(0, |t| t.seq()), bid, ask));
                }
            }
            Ok(FrameEvent::Depth { instrument: id, outcome: SyncOutcome::Applied { .. } })
                if id == instrument =>
            {
                report.depth_applied += 1;
                let Some(sync) = handler.sync(instrument) else { continue };
                let update_id = sync.last_update_id().unwrap_or(0);
                let Some(&(tu, tbid, task)) = tickers.iter().rev().find(|t| t.0 <= update_id)
                else {
                    report.no_reference += 1;
                    continue;
                };
                report.events_checked += 1;
                let book = sync.book();
                if book.best_bid() != Some(tbid) || book.best_ask() != Some(task) {
                    report.mismatches += 1;
                    report.first_mismatch.get_or_insert(BookMismatch {
                        line: f.line,
                        recv_ns: f.recv_ns,
                        update_id,
                        book_bid: book.best_bid(),
                        book_ask: book.best_ask(),
                        ticker_update_id: tu,
                        ticker_bid: tbid,
                        ticker_ask: task,
                    });
                }
            }
            Ok(_) => {}
        }
    }
    if let Some(sync) = handler.sync(instrument) {
        let c = sync.counters();
        report.gaps = c.gaps.get();
        report.resyncs = c.resyncs.get();
        report.dropped_stale = c.dropped_stale.get();
        report.snapshots = c.snapshots.get();
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use tickline_engine::types::InstrumentSpec;

    fn registry() -> InstrumentRegistry {
        InstrumentRegistry::build(&[InstrumentSpec {
            symbol: "BTCUSDT".into(),
            venue: "binance".into(),
            price_scale: 2,
            qty_scale: 5,
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 5),
        }])
        .unwrap()
    }

    fn check(capture: &str) -> BookCheckReport {
        let mut r = CaptureReader::from_reader(capture.as_bytes(), "inline");
        check_binance_capture(&mut r, &registry(), InstrumentId(0)).unwrap()
    }

    const PRE: &str = r#"1 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":9,"b":[["99.00","1"]],"a":[]}}
2 {"stream":"btcusdt@bookTicker","data":{"u":11,"s":"BTCUSDT","b":"100.00","B":"1","a":"101.00","A":"2"}}
3 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":12,"b":[],"a":[["101.00","2"]]}}
4 {"lastUpdateId":10,"bids":[["100.00","1"]],"asks":[["101.00","1"],["102.00","1"]]}
5 {"stream":"btcusdt@bookTicker","data":{"u":13,"s":"BTCUSDT","b":"100.00","B":"1","a":"101.00","A":"3"}}
"#;

    #[test]
    fn matching_capture() {
        let capture = format!(
            "{PRE}6 {}\n",
            r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":13,"u":14,"b":[],"a":[["101.00","3"]]}}"#
        );
        let r = check(&capture);
        assert_eq!(r.frames, 6);
        assert_eq!((r.depth_applied, r.events_checked, r.mismatches), (1, 1, 0));
        assert_eq!((r.gaps, r.resyncs, r.dropped_stale, r.snapshots), (0, 0, 1, 1));
        assert_eq!(r.first_mismatch, None);
    }

    #[test]
    fn reports_the_first_mismatch_and_gaps() {
        let capture = format!(
            "{PRE}6 {}\n7 {}\n8 not json\n",
            r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":13,"u":14,"b":[],"a":[["101.00","4"]]}}"#,
            r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":16,"u":17,"b":[],"a":[]}}"#
        );
        let r = check(&capture);
        assert_eq!(
            (r.events_checked, r.mismatches, r.gaps, r.resyncs, r.decode_errors),
            (1, 1, 1, 1, 1)
        );
        let m = r.first_mismatch.unwrap();
        assert_eq!((m.line, m.update_id, m.ticker_update_id), (6, 14, 13));
        assert_eq!(m.book_ask.unwrap().qty.raw(), 400_000);
        assert_eq!(m.ticker_ask.qty.raw(), 300_000);
    }
}
