//! Replaying a Binance frame capture as a pipeline [`Feed`], as fast as the pipeline takes it
//! or at a set rate.
//!
//! Each capture line goes through the production path — [`BinanceHandler::on_frame`] for
//! stream frames, [`BinanceHandler::on_snapshot`] for the REST depth snapshot lines the
//! capture holds where they arrived — so the book sync buffers diffs, loads the snapshot and
//! emits `FROM_DEPTH` quotes exactly as it would live. Every tick is flagged
//! [`TickFlags::REPLAY`] and stamped with the poll's clock read as its receive time (the
//! venue's event time stays in `exch_ns`), so tick-to-order is measured on this machine.
//!
//! Paced ([`CaptureFeed::with_rate`], `pace.rs`), frame `k` is due at
//! `start + k / rate` and its ticks are stamped with that due time, as the synthetic feed
//! does: an open-loop load in which a pipeline that falls behind shows the delay in its
//! tick-to-order latency.
//!
//! Runs on the feed's hot thread. After the reader's buffers have grown to the longest line,
//! nothing allocates per frame; bad frames are counted in the handler's telemetry and skipped.
//! A read error ends the feed (its text is kept for [`CaptureFeed::error`]).
//!
//! ```no_run
//! use tickline_engine::types::{InstrumentRegistry, InstrumentSpec};
//! use tickline_feeds::capture_feed::CaptureFeed;
//! let btc = InstrumentSpec {
//!     symbol: "BTCUSDT".into(),
//!     venue: "binance".into(),
//!     price_scale: 2,
//!     qty_scale: 6,
//!     tick_size: "0.01".parse().unwrap(),
//!     lot_size: "0.00001".parse().unwrap(),
//! };
//! let registry = InstrumentRegistry::build(&[btc]).unwrap();
//! let feed = CaptureFeed::open("replay", "../shared/data/binance-spot/btcusdt_20240808.gz", &registry, None)?;
//! # Ok::<(), tickline_feeds::capture_feed::CaptureFeedError>(())
//! ```

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use tickline_engine::stage::{Batch, Feed, FeedStatus, TickBatch};
use tickline_engine::types::{InstrumentId, InstrumentRegistry, Nanos, Tick, TickFlags};

use crate::capture::CaptureReader;
use crate::error::Error;
use crate::feed_health::FeedHealth;
use crate::pace::Pacer;
use crate::payload::Payload;
use crate::telemetry::FeedTelemetry;
use crate::venue::binance::{is_depth_snapshot, BinanceConfig, BinanceHandler, VENUE};

/// Capture lines read per poll at most, so a poll stays short even when few lines make ticks.
const FRAMES_PER_POLL: usize = 256;

/// Why a capture feed could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CaptureFeedError {
    /// The file, or the handler over the registry.
    #[error(transparent)]
    Open(#[from] Error),
    /// The snapshot instrument is not a Binance instrument of the registry.
    #[error(
        "capture feed {feed}: snapshot symbol {symbol:?} is not a binance instrument in [[instruments]]"
    )]
    UnknownSnapshotSymbol {
        /// Feed name.
        feed: String,
        /// The symbol given.
        symbol: String,
    },
    /// More than one Binance instrument and no snapshot symbol to say whose the snapshots are.
    #[error(
        "capture feed {feed}: {count} binance instruments; set snapshot_symbol to the one this capture's REST snapshots belong to"
    )]
    AmbiguousSnapshot {
        /// Feed name.
        feed: String,
        /// Binance instruments in the registry.
        count: usize,
    },
}

/// A Binance capture replayed as a feed.
pub struct CaptureFeed {
    name: String,
    reader: CaptureReader<Box<dyn BufRead + Send>>,
    handler: BinanceHandler,
    snapshot: InstrumentId,
    pending: Batch<Tick, 8>,
    next: usize,
    frames: u64,
    finished: bool,
    error: Option<String>,
    /// When the next frame is due.
    pacer: Pacer,
}

impl std::fmt::Debug for CaptureFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureFeed")
            .field("name", &self.name)
            .field("reader", &self.reader)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl CaptureFeed {
    /// Opens `path` (gzip or plain) for the `binance` instruments of `registry`. REST snapshot
    /// lines are loaded into `snapshot_symbol`'s book, which may be left out when the registry
    /// has one Binance instrument.
    pub fn open(
        name: &str,
        path: impl AsRef<Path>,
        registry: &InstrumentRegistry,
        snapshot_symbol: Option<&str>,
    ) -> Result<CaptureFeed, CaptureFeedError> {
        let reader = CaptureReader::open(path)?;
        CaptureFeed::from_reader(name, reader, registry, snapshot_symbol)
    }

    /// As [`CaptureFeed::open`], over an open reader.
    pub fn from_reader(
        name: &str,
        reader: CaptureReader<Box<dyn BufRead + Send>>,
        registry: &InstrumentRegistry,
        snapshot_symbol: Option<&str>,
    ) -> Result<CaptureFeed, CaptureFeedError> {
        let handler = BinanceHandler::new(registry, BinanceConfig::default())?
            .with_base_flags(TickFlags::REPLAY);
        let binance: Vec<_> = registry.iter().filter(|i| i.venue == VENUE).collect();
        let snapshot = match snapshot_symbol {
            Some(sym) => {
                binance.iter().find(|i| i.symbol == sym).map(|i| i.id).ok_or_else(|| {
                    CaptureFeedError::UnknownSnapshotSymbol {
                        feed: name.into(),
                        symbol: sym.into(),
                    }
                })?
            }
            None => match binance.as_slice() {
                [only] => only.id,
                _ => {
                    return Err(CaptureFeedError::AmbiguousSnapshot {
                        feed: name.into(),
                        count: binance.len(),
                    })
                }
            },
        };
        Ok(CaptureFeed {
            name: name.to_owned(),
            reader,
            handler,
            snapshot,
            pending: Batch::new(),
            next: 0,
            frames: 0,
            finished: false,
            error: None,
            pacer: Pacer::new(0),
        })
    }

    /// Replays `rate` frames per second, open-loop (0: as fast as polled, the default).
    pub fn with_rate(mut self, rate: u64) -> CaptureFeed {
        self.pacer = Pacer::new(rate);
        self
    }

    /// The handler's counters: frames, bytes, ticks, decode errors by kind.
    pub fn telemetry(&self) -> &Arc<FeedTelemetry> {
        self.handler.telemetry()
    }

    /// The health handle for the admin port: a replay is connected while it is live, and
    /// its books count as synced (see [`FeedHealth::Local`]).
    pub fn health(&self) -> FeedHealth {
        FeedHealth::Local { frames: Some(Arc::clone(self.handler.telemetry())) }
    }

    /// Capture lines read so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The read error that ended the replay, if one did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The handler (books, sync state).
    pub fn handler(&self) -> &BinanceHandler {
        &self.handler
    }

    /// Moves ticks a frame produced beyond `out`'s room out on later polls.
    #[inline]
    fn drain_pending(&mut self, out: &mut TickBatch) {
        while self.next < self.pending.len() && !out.is_full() {
            if let Some(t) = self.pending.get(self.next) {
                let _ = out.push(t);
            }
            self.next += 1;
        }
        if self.next >= self.pending.len() {
            self.pending.clear();
            self.next = 0;
        }
    }
}

impl Feed for CaptureFeed {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self, now: Nanos, out: &mut TickBatch) -> FeedStatus {
        self.drain_pending(out);
        let mut read = 0;
        while !self.finished && !out.is_full() && self.pending.is_empty() && read < FRAMES_PER_POLL
        {
            let Some(recv) = self.pacer.due(now) else { break };
            read += 1;
            let frame = match self.reader.next_frame() {
                Ok(Some(f)) => f.frame,
                Ok(None) => {
                    self.finished = true;
                    break;
                }
                Err(e) => {
                    self.error = Some(e.to_string());
                    self.finished = true;
                    break;
                }
            };
            self.frames += 1;
            self.pacer.advance();
            let pending = &mut self.pending;
            let mut emit = |t: Tick| {
                let t = t.with_recv_ns(recv);
                if let Err(t) = out.push(t) {
                    let _ = pending.push(t);
                }
            };
            // Bad frames are counted by the handler and skipped.
            let _ = if is_depth_snapshot(frame) {
                self.handler.on_snapshot(self.snapshot, recv, frame, &mut emit).map(|_| ())
            } else {
                self.handler.on_frame(recv, Payload::Text(frame), &mut emit).map(|_| ())
            };
        }
        if self.finished && self.pending.is_empty() {
            FeedStatus::Finished
        } else {
            FeedStatus::Live
        }
    }

    fn stop(&mut self) {
        self.finished = true;
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickline_engine::types::{InstrumentSpec, TickKind};

    fn registry(symbols: &[&str]) -> InstrumentRegistry {
        let specs: Vec<_> = symbols
            .iter()
            .map(|s| InstrumentSpec {
                symbol: (*s).into(),
                venue: "binance".into(),
                price_scale: 2,
                qty_scale: 5,
                tick_size: "0.01".parse().unwrap(),
                lot_size: "0.00001".parse().unwrap(),
            })
            .collect();
        InstrumentRegistry::build(&specs).unwrap()
    }

    const CAPTURE: &str = r#"1 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":9,"b":[["99.00","1"]],"a":[]}}
2 {"stream":"btcusdt@bookTicker","data":{"u":11,"s":"BTCUSDT","b":"100.00","B":"1","a":"101.00","A":"2"}}
3 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":12,"b":[],"a":[["101.00","2"]]}}
4 {"lastUpdateId":10,"bids":[["100.00","1"]],"asks":[["101.00","1"],["102.00","1"]]}
5 not json
6 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3,"p":"100.50","q":"0.02","T":1723161255342,"m":true,"M":true}}
7 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":13,"u":14,"b":[["100.50","1"]],"a":[]}}
"#;

    fn feed(
        reg: &InstrumentRegistry,
        snapshot: Option<&str>,
    ) -> Result<CaptureFeed, CaptureFeedError> {
        let reader: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(CAPTURE.as_bytes()));
        CaptureFeed::from_reader(
            "replay",
            CaptureReader::from_reader(reader, "inline"),
            reg,
            snapshot,
        )
    }

    #[test]
    fn replays_through_the_handler_with_snapshots_and_restamps() {
        let reg = registry(&["BTCUSDT"]);
        let mut f = feed(&reg, None).unwrap();
        let mut all = Vec::new();
        let mut out = TickBatch::new();
        out.set_limit(2); // a small batch: ticks carry over between polls
        loop {
            out.clear();
            let st = f.poll(Nanos(77), &mut out);
            all.extend((0..out.len()).filter_map(|i| out.get(i)));
            if st == FeedStatus::Finished {
                break;
            }
        }
        assert_eq!(f.frames(), 7);
        let kinds: Vec<_> = all
            .iter()
            .map(|t| {
                (
                    t.kind(),
                    t.flags().contains(TickFlags::FROM_DEPTH),
                    t.flags().contains(TickFlags::RESYNC),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                (TickKind::Quote, false, false), // bookTicker
                (TickKind::Quote, true, true),   // snapshot synced the book
                (TickKind::Trade, false, false),
                (TickKind::Quote, true, false), // diff moved the top
            ]
        );
        assert!(all
            .iter()
            .all(|t| t.recv_ns() == Nanos(77) && t.flags().contains(TickFlags::REPLAY)));
        assert_eq!(all[3].bid().unwrap().px.raw(), 10_050);
        assert_eq!(f.telemetry().decode_errors.total(), 1, "the bad line was counted");
        assert_eq!(f.poll(Nanos(78), &mut out), FeedStatus::Finished);
    }

    #[test]
    fn paced_replay_reads_only_due_frames_stamped_with_due_time() {
        let reg = registry(&["BTCUSDT"]);
        // One frame per millisecond.
        let mut f = feed(&reg, None).unwrap().with_rate(1_000);
        let mut out = TickBatch::new();
        assert_eq!(f.poll(Nanos(5_000_000), &mut out), FeedStatus::Live);
        assert_eq!(f.frames(), 1, "only frame 0 is due at the start");
        assert!(out.is_empty(), "frame 0 (a diff before the snapshot) emits nothing");
        // 1.5 ms later frame 1 (the bookTicker) is due; frame 2 is not yet.
        assert_eq!(f.poll(Nanos(6_500_000), &mut out), FeedStatus::Live);
        assert_eq!(f.frames(), 2);
        assert_eq!(out.len(), 1);
        assert_eq!(out.get(0).unwrap().recv_ns(), Nanos(6_000_000), "stamped with its due time");
        out.clear();
        // Far behind: everything left is due, each frame stamped with its own due time.
        while f.poll(Nanos(1_000_000_000), &mut out) == FeedStatus::Live {}
        assert_eq!(f.frames(), 7);
        let stamps: Vec<i64> =
            (0..out.len()).filter_map(|i| out.get(i)).map(|t| t.recv_ns().0).collect();
        assert_eq!(
            stamps,
            [8_000_000, 10_000_000, 11_000_000],
            "snapshot (frame 3), trade (5), diff (6)"
        );
    }

    #[test]
    fn snapshot_owner_must_be_known() {
        let two = registry(&["BTCUSDT", "ETHUSDT"]);
        let e = feed(&two, None).unwrap_err().to_string();
        assert!(e.contains("snapshot_symbol"), "{e}");
        let e = feed(&two, Some("XRPUSDT")).unwrap_err().to_string();
        assert!(e.contains("XRPUSDT"), "{e}");
        assert!(feed(&two, Some("ETHUSDT")).is_ok());
        let missing = CaptureFeed::open("r", "/nonexistent/capture.gz", &two, Some("BTCUSDT"));
        assert!(missing.unwrap_err().to_string().contains("/nonexistent/capture.gz"));
        let mut stopped = feed(&two, Some("BTCUSDT")).unwrap();
        stopped.stop();
        assert_eq!(stopped.poll(Nanos(1), &mut TickBatch::new()), FeedStatus::Finished);
    }
}
