//! Everything one venue feed counts, in one place for the sidecar: its connection, its
//! decoder, its books, its reasonability checks, its snapshot requests and its capture.

use std::sync::Arc;

use tickline_engine::telemetry::{Counter, LatencyHistogram, Percentiles};
use tickline_engine::types::{InstrumentId, Nanos};

use crate::book::SyncCounters;
use crate::capture_writer::CaptureCounters;
use crate::decode_error::DecodeError;
use crate::reasonability::ReasonabilityCounters;
use crate::telemetry::FeedTelemetry;
use crate::ws::{ConnState, ConnTelemetry};

/// Decode latency is timed on one frame in this many (two clock reads per sample).
pub const DECODE_SAMPLE_EVERY: u64 = 8;

/// Counters of one venue feed. Every field is written by the feed thread only.
#[derive(Debug)]
pub struct VenueFeedTelemetry {
    /// The WebSocket connection.
    pub conn: Arc<ConnTelemetry>,
    /// The handler: frames, bytes, ticks, fallbacks, decode errors by kind.
    pub handler: Arc<FeedTelemetry>,
    /// Book sync counters per instrument (gaps, resyncs, snapshots).
    pub books: Vec<(InstrumentId, Arc<SyncCounters>)>,
    /// Reasonability flags raised.
    pub reasonability: Arc<ReasonabilityCounters>,
    /// Capture counters, when recording.
    pub capture: Option<Arc<CaptureCounters>>,
    /// Time to decode a frame and apply it to the book, ns (sampled, see
    /// [`DECODE_SAMPLE_EVERY`]).
    pub decode_ns: LatencyHistogram,
    /// REST snapshots requested (Binance).
    pub snapshot_requests: Counter,
    /// REST snapshot requests that failed (I/O, status, rate limit).
    pub snapshot_failures: Counter,
    /// Book resubscriptions sent (OKX: the venue resends the snapshot).
    pub resubscribes: Counter,
    /// Control or error messages from the venue (OKX `"event":"error"`).
    pub venue_errors: Counter,
    /// Ticks dropped because the feed's pending queue was full.
    pub dropped_ticks: Counter,
    /// Whether the feed keeps its books in sync (it subscribed to a depth channel); a feed of
    /// top-of-book and trades only has no book to sync.
    pub keeps_books: bool,
}

impl VenueFeedTelemetry {
    pub(crate) fn new(
        conn: Arc<ConnTelemetry>,
        handler: Arc<FeedTelemetry>,
        books: Vec<(InstrumentId, Arc<SyncCounters>)>,
        reasonability: Arc<ReasonabilityCounters>,
        capture: Option<Arc<CaptureCounters>>,
    ) -> VenueFeedTelemetry {
        VenueFeedTelemetry {
            conn,
            handler,
            books,
            reasonability,
            capture,
            decode_ns: LatencyHistogram::new(),
            snapshot_requests: Counter::new(),
            snapshot_failures: Counter::new(),
            resubscribes: Counter::new(),
            venue_errors: Counter::new(),
            dropped_ticks: Counter::new(),
            keeps_books: true,
        }
    }

    /// Whether the WebSocket connection is open.
    pub fn connected(&self) -> bool {
        self.conn.state() == ConnState::Open
    }

    /// Whether every book the feed keeps is in sync with the venue (true when it keeps none).
    pub fn books_synced(&self) -> bool {
        !self.keeps_books || self.books.iter().all(|(_, c)| c.synced.get() == 1)
    }

    /// Sequence gaps over all books.
    pub fn gaps(&self) -> u64 {
        self.books.iter().map(|(_, c)| c.gaps.get()).sum()
    }

    /// Resyncs over all books (gaps and reconnects included).
    pub fn resyncs(&self) -> u64 {
        self.books.iter().map(|(_, c)| c.resyncs.get()).sum()
    }

    /// Snapshots loaded over all books.
    pub fn snapshots(&self) -> u64 {
        self.books.iter().map(|(_, c)| c.snapshots.get()).sum()
    }

    /// A point-in-time copy, from any thread.
    pub fn snapshot(&self, now: Nanos) -> VenueFeedSnapshot {
        let c = &self.conn;
        VenueFeedSnapshot {
            state: c.state(),
            attempts: c.attempts.get(),
            reconnects: c.reconnects.get(),
            connect_failures: c.connect_failures.get(),
            stale_disconnects: c.stale.get(),
            rotations: c.rotations.get(),
            remote_closes: c.remote_closes.get(),
            protocol_errors: c.protocol_errors.get(),
            oversized_messages: c.too_large.get(),
            messages: c.messages.get(),
            bytes: c.bytes.get(),
            pings_received: c.pings_received.get(),
            last_frame_age_ns: c.last_frame_age(now),
            frames: self.handler.frames.get(),
            ticks: self.handler.ticks.get(),
            fallbacks: self.handler.fallbacks.get(),
            decode_errors: self.handler.decode_errors.iter().filter(|&(_, n)| n > 0).collect(),
            gaps: self.gaps(),
            resyncs: self.resyncs(),
            snapshots: self.snapshots(),
            snapshot_requests: self.snapshot_requests.get(),
            snapshot_failures: self.snapshot_failures.get(),
            resubscribes: self.resubscribes.get(),
            stale_ticks: self.reasonability.stale.get(),
            out_of_band: self.reasonability.out_of_band.get(),
            crossed: self.reasonability.crossed.get(),
            captured_lines: self.capture.as_ref().map_or(0, |c| c.lines.get()),
            decode_ns: Percentiles::of(&self.decode_ns.to_hdr()),
        }
    }
}

/// A copy of a venue feed's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct VenueFeedSnapshot {
    pub state: ConnState,
    pub attempts: u64,
    pub reconnects: u64,
    pub connect_failures: u64,
    pub stale_disconnects: u64,
    pub rotations: u64,
    pub remote_closes: u64,
    pub protocol_errors: u64,
    pub oversized_messages: u64,
    pub messages: u64,
    pub bytes: u64,
    pub pings_received: u64,
    pub last_frame_age_ns: Option<u64>,
    pub frames: u64,
    pub ticks: u64,
    pub fallbacks: u64,
    /// Non-zero decode error counts by kind.
    pub decode_errors: Vec<(DecodeError, u64)>,
    pub gaps: u64,
    pub resyncs: u64,
    pub snapshots: u64,
    pub snapshot_requests: u64,
    pub snapshot_failures: u64,
    pub resubscribes: u64,
    pub stale_ticks: u64,
    pub out_of_band: u64,
    pub crossed: u64,
    pub captured_lines: u64,
    pub decode_ns: Percentiles,
}
