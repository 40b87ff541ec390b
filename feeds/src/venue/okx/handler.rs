//! The OKX feed handler: decoder, one synced book per instrument, and tick emission.

use std::sync::Arc;

use tickline_engine::types::{InstrumentId, InstrumentRegistry, Nanos, Tick, TickFlags};

use super::decode::{OkxDecoder, OkxEvent, DEFAULT_MAX_FRAME_BYTES};
use super::sync::OkxBookSync;
use crate::book::{OrderBook, SyncOutcome, DEFAULT_MAX_LEVELS};
use crate::decode_error::DecodeError;
use crate::error::Result;
use crate::payload::Payload;
use crate::symbol_table::SymbolTable;
use crate::telemetry::FeedTelemetry;

/// Limits of an [`OkxHandler`]; every default is the named constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OkxConfig {
    /// Levels kept per book side ([`DEFAULT_MAX_LEVELS`]).
    pub max_levels: usize,
    /// Largest frame accepted ([`DEFAULT_MAX_FRAME_BYTES`]).
    pub max_frame_bytes: usize,
}

impl Default for OkxConfig {
    fn default() -> Self {
        OkxConfig { max_levels: DEFAULT_MAX_LEVELS, max_frame_bytes: DEFAULT_MAX_FRAME_BYTES }
    }
}

/// What one OKX frame turned into (the ticks went to the `emit` callback).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OkxFrameEvent {
    /// A `bbo-tbt` quote tick was emitted.
    Quote(InstrumentId),
    /// Trade ticks were emitted.
    Trades {
        /// Instrument.
        instrument: InstrumentId,
        /// How many.
        count: usize,
    },
    /// A `books` push went through the book sync.
    Book {
        /// Instrument.
        instrument: InstrumentId,
        /// What the sync did with it.
        outcome: SyncOutcome,
    },
    /// A control message (subscription ack or error).
    Control {
        /// Whether the venue reported an error.
        error: bool,
    },
    /// A `pong`.
    Pong,
}

/// OKX feed handler for a fixed set of instruments; the feed thread owns it.
///
/// Emits `bbo-tbt` quotes, trades, and `FROM_DEPTH` quotes when a synced book's top changes.
/// Instruments in [`OkxHandler::needs_snapshot`] must be resubscribed: OKX sends the
/// snapshot on subscription.
#[derive(Debug)]
pub struct OkxHandler {
    decoder: OkxDecoder,
    symbols: SymbolTable,
    books: Vec<OkxBookSync>,
    telemetry: Arc<FeedTelemetry>,
    base_flags: TickFlags,
}

impl OkxHandler {
    /// A handler for every registry instrument whose venue is `okx`.
    pub fn new(registry: &InstrumentRegistry, config: OkxConfig) -> Result<OkxHandler> {
        let decoder = OkxDecoder::new(registry)?.with_max_frame(config.max_frame_bytes);
        let symbols = decoder.symbols().clone();
        let books =
            symbols.iter().map(|e| OkxBookSync::with_max_levels(e.id, config.max_levels)).collect();
        Ok(OkxHandler {
            decoder,
            symbols,
            books,
            telemetry: Arc::new(FeedTelemetry::new()),
            base_flags: TickFlags::default(),
        })
    }

    /// Flags added to every tick.
    #[must_use]
    pub fn with_base_flags(mut self, flags: TickFlags) -> Self {
        self.base_flags = flags;
        self
    }

    /// The counters (clone the `Arc` for the sidecar).
    pub fn telemetry(&self) -> &Arc<FeedTelemetry> {
        &self.telemetry
    }

    /// The book sync of an instrument.
    pub fn sync(&self, instrument: InstrumentId) -> Option<&OkxBookSync> {
        self.symbols.slot_of(instrument).and_then(|s| self.books.get(s))
    }

    /// The book of an instrument.
    pub fn book(&self, instrument: InstrumentId) -> Option<&OrderBook> {
        self.sync(instrument).map(OkxBookSync::book)
    }

    /// Instruments whose book needs a resubscription.
    pub fn needs_snapshot(&self) -> impl Iterator<Item = InstrumentId> + '_ {
        self.books.iter().filter(|b| b.needs_snapshot()).map(OkxBookSync::instrument)
    }

    /// Throws every book away (after a reconnect).
    pub fn resync_all(&mut self) {
        for b in &mut self.books {
            b.resync();
        }
    }

    /// Handles one WebSocket message received at `recv_ns`, passing each tick to `emit`.
    /// Bad input is counted by kind and returned; it never emits a tick.
    pub fn on_frame(
        &mut self,
        recv_ns: Nanos,
        payload: Payload<'_>,
        emit: &mut impl FnMut(Tick),
    ) -> Result<OkxFrameEvent, DecodeError> {
        let t = &self.telemetry;
        t.frames.inc();
        t.bytes.add(payload.len() as u64);
        let event = match self.decoder.decode(payload) {
            Ok(ev) => ev,
            Err(e) => {
                t.decode_errors.record(e);
                return Err(e);
            }
        };
        let base = self.base_flags;
        Ok(match event {
            OkxEvent::Quote(q) => {
                let mut tick = q.to_tick(recv_ns).with_flags(base);
                if q.bid.px.is_positive() && q.ask.px.is_positive() && q.bid.px >= q.ask.px {
                    tick = tick.with_flags(TickFlags::CROSSED);
                }
                emit(tick);
                t.ticks.inc();
                OkxFrameEvent::Quote(q.instrument)
            }
            OkxEvent::Trades(trades) => {
                let instrument = trades.first().map(|tr| tr.instrument).unwrap_or_default();
                for tr in trades {
                    emit(tr.to_tick(recv_ns).with_flags(base));
                    t.ticks.inc();
                }
                OkxFrameEvent::Trades { instrument, count: trades.len() }
            }
            OkxEvent::Book(push) => {
                let instrument = push.instrument;
                let slot = self.symbols.slot_of(instrument).unwrap_or(usize::MAX);
                let Some(sync) = self.books.get_mut(slot) else {
                    t.decode_errors.record(DecodeError::UnknownSymbol);
                    return Err(DecodeError::UnknownSymbol);
                };
                let outcome = sync.on_book(&push);
                let resync = outcome == SyncOutcome::Synced;
                if resync || outcome == (SyncOutcome::Applied { top_changed: true }) {
                    let book = sync.book();
                    let mut flags = base.union(TickFlags::FROM_DEPTH);
                    if resync {
                        flags = flags.union(TickFlags::RESYNC);
                    }
                    if book.is_crossed() {
                        flags = flags.union(TickFlags::CROSSED);
                    }
                    let tick = Tick::quote(
                        instrument,
                        book.best_bid().unwrap_or_default(),
                        book.best_ask().unwrap_or_default(),
                        u64::try_from(push.seq_id).unwrap_or(0),
                        push.ts,
                        recv_ns,
                    );
                    emit(tick.with_flags(flags));
                    t.ticks.inc();
                }
                OkxFrameEvent::Book { instrument, outcome }
            }
            OkxEvent::Control { error } => OkxFrameEvent::Control { error },
            OkxEvent::Pong => OkxFrameEvent::Pong,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::tests::{registry, BTC, SNAPSHOT, UPDATE};
    use super::*;

    #[test]
    fn books_become_depth_quotes() {
        let mut h = OkxHandler::new(&registry(), OkxConfig::default()).unwrap();
        let mut ticks = Vec::new();
        let ev = h.on_frame(Nanos(1), Payload::Text(SNAPSHOT), &mut |t| ticks.push(t)).unwrap();
        assert_eq!(ev, OkxFrameEvent::Book { instrument: BTC, outcome: SyncOutcome::Synced });
        let ev = h.on_frame(Nanos(2), Payload::Text(UPDATE), &mut |t| ticks.push(t)).unwrap();
        assert_eq!(
            ev,
            OkxFrameEvent::Book {
                instrument: BTC,
                outcome: SyncOutcome::Applied { top_changed: true }
            }
        );
        assert_eq!(ticks.len(), 2);
        assert!(ticks[0].flags().contains(TickFlags::FROM_DEPTH.union(TickFlags::RESYNC)));
        assert!(!ticks[1].flags().contains(TickFlags::RESYNC));
        assert_eq!(ticks[1].bid(), h.book(BTC).unwrap().best_bid());
        assert_eq!(ticks[1].seq(), 123_460);
        assert_eq!(
            h.on_frame(Nanos(3), Payload::Text(b"{"), &mut |t| ticks.push(t)),
            Err(DecodeError::Malformed)
        );
        assert_eq!(h.telemetry().decode_errors.get(DecodeError::Malformed), 1);
        assert_eq!(h.telemetry().frames.get(), 3);
        assert_eq!(ticks.len(), 2);
        assert_eq!(h.needs_snapshot().count(), 1); // the SWAP instrument
    }
}
