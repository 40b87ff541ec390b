//! The Binance feed handler: decoder, one synced book per instrument, and tick emission.

use std::sync::Arc;

use tickline_engine::types::{InstrumentId, InstrumentRegistry, Nanos, Tick, TickFlags};

use super::decode::{
    BinanceDecoder, BinanceEvent, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_SNAPSHOT_BYTES,
};
use super::sync::{BinanceBookSync, SyncOutcome, DEFAULT_MAX_BUFFERED_DIFFS};
use crate::book::{OrderBook, DEFAULT_MAX_LEVELS};
use crate::decode_error::DecodeError;
use crate::error::Result;
use crate::payload::Payload;
use crate::symbol_table::SymbolTable;
use crate::telemetry::FeedTelemetry;

/// Limits of a [`BinanceHandler`]; every default is the named constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinanceConfig {
    /// Levels kept per book side ([`DEFAULT_MAX_LEVELS`]).
    pub max_levels: usize,
    /// Diffs buffered per instrument while waiting for a snapshot
    /// ([`DEFAULT_MAX_BUFFERED_DIFFS`]).
    pub max_buffered_diffs: usize,
    /// Largest stream frame accepted ([`DEFAULT_MAX_FRAME_BYTES`]).
    pub max_frame_bytes: usize,
    /// Largest REST snapshot body accepted ([`DEFAULT_MAX_SNAPSHOT_BYTES`]).
    pub max_snapshot_bytes: usize,
}

impl Default for BinanceConfig {
    fn default() -> Self {
        BinanceConfig {
            max_levels: DEFAULT_MAX_LEVELS,
            max_buffered_diffs: DEFAULT_MAX_BUFFERED_DIFFS,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_snapshot_bytes: DEFAULT_MAX_SNAPSHOT_BYTES,
        }
    }
}

/// What one frame turned into (the ticks went to the `emit` callback).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameEvent {
    /// A bookTicker quote tick was emitted.
    Quote(InstrumentId),
    /// A trade tick was emitted.
    Trade(InstrumentId),
    /// A depth diff went through the book sync.
    Depth {
        /// Instrument.
        instrument: InstrumentId,
        /// What the sync did with it.
        outcome: SyncOutcome,
    },
    /// A reply to a subscription request; nothing emitted.
    Response,
}

/// Binance spot feed handler for a fixed set of instruments.
///
/// Runs on the feed thread, which owns it: give it every text frame with its receive time and
/// it emits normalized [`Tick`]s — bookTicker quotes, trades, and `FROM_DEPTH` quotes whenever
/// the synced book's top changes. The network layer fetches a REST snapshot for each
/// instrument in [`BinanceHandler::needs_snapshot`] and hands the body to
/// [`BinanceHandler::on_snapshot`].
#[derive(Debug)]
pub struct BinanceHandler {
    decoder: BinanceDecoder,
    // The decoder's table, for slot lookups while a decoded event borrows the decoder.
    symbols: SymbolTable,
    books: Vec<BinanceBookSync>,
    telemetry: Arc<FeedTelemetry>,
    base_flags: TickFlags,
}

impl BinanceHandler {
    /// A handler for every registry instrument whose venue is `binance`.
    pub fn new(registry: &InstrumentRegistry, config: BinanceConfig) -> Result<BinanceHandler> {
        let decoder = BinanceDecoder::new(registry)?
            .with_limits(config.max_frame_bytes, config.max_snapshot_bytes);
        let books = decoder
            .symbols()
            .iter()
            .map(|e| {
                BinanceBookSync::with_limits(e.id, config.max_levels, config.max_buffered_diffs)
            })
            .collect();
        Ok(BinanceHandler {
            symbols: decoder.symbols().clone(),
            decoder,
            books,
            telemetry: Arc::new(FeedTelemetry::new()),
            base_flags: TickFlags::default(),
        })
    }

    /// Flags added to every tick (e.g. [`TickFlags::REPLAY`] when replaying a capture).
    #[must_use]
    pub fn with_base_flags(mut self, flags: TickFlags) -> Self {
        self.base_flags = flags;
        self
    }

    /// The counters (clone the `Arc` for the sidecar).
    pub fn telemetry(&self) -> &Arc<FeedTelemetry> {
        &self.telemetry
    }

    /// The decoder.
    pub fn decoder(&self) -> &BinanceDecoder {
        &self.decoder
    }

    /// The book sync of an instrument.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&BinanceBookSync> {
        self.symbols.slot_of(instrument).and_then(|s| self.books.get(s))
    }

    /// The book of an instrument.
    pub fn book(&self, instrument: InstrumentId) -> Option<&OrderBook> {
        self.sync(instrument).map(BinanceBookSync::book)
    }

    /// Instruments whose book waits for a REST snapshot.
    pub fn needs_snapshot(&self) -> impl Iterator<Item = InstrumentId> + '_ {
        self.books.iter().filter(|b| b.needs_snapshot()).map(BinanceBookSync::instrument)
    }

    /// Throws every book away (after a reconnect); each needs a new snapshot.
    pub fn resync_all(&mut self) {
        for b in &mut self.books {
            b.resync();
        }
    }

    #[inline]
    fn book_tick(&self, slot: usize, exch_ns: Nanos, recv_ns: Nanos, resync: bool) -> Option<Tick> {
        let sync = self.books.get(slot)?;
        let book = sync.book();
        let mut flags = self.base_flags.union(TickFlags::FROM_DEPTH);
        if book.is_crossed() {
            flags = flags.union(TickFlags::CROSSED);
        }
        if resync {
            flags = flags.union(TickFlags::RESYNC);
        }
        let seq = sync.last_update_id()?;
        let tick = Tick::quote(
            book.instrument(),
            book.best_bid().unwrap_or_default(),
            book.best_ask().unwrap_or_default(),
            seq,
            exch_ns,
            recv_ns,
        );
        Some(tick.with_flags(flags))
    }

    /// Handles one WebSocket message received at `recv_ns`, passing each tick to `emit`.
    ///
    /// Bad input is counted by kind in [`FeedTelemetry::decode_errors`] and returned; it never
    /// emits a tick.
    #[inline]
    pub fn on_frame(
        &mut self,
        recv_ns: Nanos,
        payload: Payload<'_>,
        emit: &mut impl FnMut(Tick),
    ) -> Result<FrameEvent, DecodeError> {
        let t = &self.telemetry;
        t.frames.inc();
        t.bytes.add(payload.len() as u64);
        let fallbacks = self.decoder.fallbacks();
        let event = match self.decoder.decode(payload) {
            Ok(ev) => ev,
            Err(e) => {
                t.decode_errors.record(e);
                t.fallbacks.add(self.decoder.fallbacks() - fallbacks);
                return Err(e);
            }
        };
        let out = match event {
            BinanceEvent::BookTicker(q) => {
                let mut tick = q.to_tick(recv_ns).with_flags(self.base_flags);
                if q.bid.px.is_positive() && q.ask.px.is_positive() && q.bid.px >= q.ask.px {
                    tick = tick.with_flags(TickFlags::CROSSED);
                }
                emit(tick);
                t.ticks.inc();
                FrameEvent::Quote(q.instrument)
            }
            BinanceEvent::Trade(tr) => {
                emit(tr.to_tick(recv_ns).with_flags(self.base_flags));
                t.ticks.inc();
                FrameEvent::Trade(tr.instrument)
            }
            BinanceEvent::Depth(diff) => {
                let instrument = diff.instrument;
                let exch_ns = diff.event_time;
                // The decoder only yields instruments of its own table.
                let slot = self.symbols.slot_of(instrument).unwrap_or(usize::MAX);
                let Some(sync) = self.books.get_mut(slot) else {
                    t.decode_errors.record(DecodeError::UnknownSymbol);
                    return Err(DecodeError::UnknownSymbol);
                };
                let outcome = sync.on_diff(&diff);
                if let SyncOutcome::Applied { top_changed: true } = outcome {
                    if let Some(tick) = self.book_tick(slot, exch_ns, recv_ns, false) {
                        emit(tick);
                        self.telemetry.ticks.inc();
                    }
                }
                FrameEvent::Depth { instrument, outcome }
            }
            BinanceEvent::Response { .. } => FrameEvent::Response,
        };
        self.telemetry.fallbacks.add(self.decoder.fallbacks() - fallbacks);
        Ok(out)
    }

    /// Loads a REST depth snapshot body for `instrument` and replays the buffered diffs.
    /// When the book is synced, emits a `FROM_DEPTH | RESYNC` quote of its top.
    pub fn on_snapshot(
        &mut self,
        instrument: InstrumentId,
        recv_ns: Nanos,
        body: &[u8],
        emit: &mut impl FnMut(Tick),
    ) -> Result<SyncOutcome, DecodeError> {
        let Some(slot) = self.symbols.slot_of(instrument) else {
            self.telemetry.decode_errors.record(DecodeError::UnknownSymbol);
            return Err(DecodeError::UnknownSymbol);
        };
        let snapshot = match self.decoder.decode_snapshot(instrument, body) {
            Ok(s) => s,
            Err(e) => {
                self.telemetry.decode_errors.record(e);
                return Err(e);
            }
        };
        let Some(sync) = self.books.get_mut(slot) else {
            return Err(DecodeError::UnknownSymbol);
        };
        let outcome = sync.on_snapshot(&snapshot);
        if outcome == SyncOutcome::Synced {
            if let Some(tick) = self.book_tick(slot, Nanos::ZERO, recv_ns, true) {
                emit(tick);
                self.telemetry.ticks.inc();
            }
        }
        Ok(outcome)
    }
}
