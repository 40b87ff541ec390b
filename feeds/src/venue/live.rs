//! What every live venue feed has besides its handler: the WebSocket session, the outbox
//! (reasonability checks and `STALE` re-publication), the capture file, the counters and the
//! bad-input log gate; and the parts of a poll that do not depend on the venue.
//!
//! A venue's feed owns a [`LiveCore`] and its handler side by side, so a poll can lend the
//! handler to the core's frame path without borrowing the feed twice.

use std::sync::Arc;

use rustls::ClientConfig;
use tickline_engine::stage::TickBatch;
use tickline_engine::types::{Clock, InstrumentId, InstrumentRegistry, Nanos};
use tungstenite::Message;

use crate::book::SyncCounters;
use crate::capture_writer::{CaptureConfig, CaptureWriter};
use crate::feed_health::FeedHealth;
use crate::outbox::{LogGate, Outbox};
use crate::payload::Payload;
use crate::reasonability::{Reasonability, ReasonabilityConfig};
use crate::telemetry::FeedTelemetry;
use crate::venue_telemetry::{VenueFeedTelemetry, DECODE_SAMPLE_EVERY};
use crate::ws::{
    ClientPing, ConnTelemetry, ConnectionConfig, ConnectionError, Endpoint, SessionEvent, WsSession,
};

/// Socket events (frames or connection changes) handled per poll at most, so a flood cannot
/// starve the thread's other stages.
const EVENTS_PER_POLL: usize = 256;
/// One bad-input log line per second at most.
const LOG_INTERVAL_NS: i64 = 1_000_000_000;

/// A connection change a venue reacts to.
pub(crate) enum Change {
    /// The socket opened (subscribe, schedule snapshots).
    Opened,
    /// The socket closed; `was_open`: it had been open, so books lost diffs (the venue throws
    /// them away, then [`LiveCore::republish_stale`]).
    Closed {
        /// The connection had been established.
        was_open: bool,
    },
}

/// Everything [`LiveCore::new`] needs besides the venue's handler.
pub(crate) struct LiveSpec<'a> {
    /// Feed name.
    pub(crate) name: String,
    /// Venue, for errors and log lines.
    pub(crate) venue: &'static str,
    /// The WebSocket endpoint (already carrying its path).
    pub(crate) endpoint: Endpoint,
    /// TLS settings, when the socket (or anything else the feed opens) needs them.
    pub(crate) tls: Option<Arc<ClientConfig>>,
    /// Client keep-alive, if the venue wants one.
    pub(crate) ping: Option<ClientPing>,
    /// Connection settings.
    pub(crate) connection: &'a ConnectionConfig,
    /// Instruments subscribed.
    pub(crate) instruments: &'a [InstrumentId],
    /// Stale and price-band checks.
    pub(crate) reasonability: ReasonabilityConfig,
    /// Record every frame here.
    pub(crate) capture: Option<&'a CaptureConfig>,
    /// The handler's counters and each book's sync counters.
    pub(crate) handler: Arc<FeedTelemetry>,
    /// Per subscribed instrument that keeps a book, its sync counters.
    pub(crate) books: Vec<(InstrumentId, Arc<SyncCounters>)>,
    /// A book channel is subscribed (so "books synced" means something).
    pub(crate) keeps_books: bool,
}

/// The venue-independent half of a live feed.
#[derive(Debug)]
pub(crate) struct LiveCore {
    pub(crate) name: String,
    venue: &'static str,
    pub(crate) session: WsSession,
    pub(crate) outbox: Outbox,
    capture: Option<CaptureWriter>,
    pub(crate) telemetry: Arc<VenueFeedTelemetry>,
    frames_seen: u64,
    bad_input_log: LogGate,
    stopped: bool,
}

/// A feed-level error of `venue`'s feed `feed`.
pub(crate) fn venue_error(venue: &'static str, feed: &str, reason: String) -> ConnectionError {
    ConnectionError::Venue { venue, feed: feed.to_owned(), reason }
}

/// Checks a subscription has symbols and channels and resolves `symbols` to `venue`
/// instruments of `registry`, naming the first that is not one.
pub(crate) fn subscription(
    registry: &InstrumentRegistry,
    venue: &'static str,
    feed: &str,
    symbols: &[String],
    channels: &[String],
) -> Result<Vec<InstrumentId>, ConnectionError> {
    if symbols.is_empty() || channels.is_empty() {
        return Err(venue_error(venue, feed, "needs at least one symbol and one channel".into()));
    }
    symbols
        .iter()
        .map(|sym| {
            registry.lookup(venue, sym).ok_or_else(|| {
                venue_error(venue, feed, format!("{sym:?} is not an instrument of venue {venue:?}"))
            })
        })
        .collect()
}

impl LiveCore {
    /// Builds the session, capture, reasonability checks and counters (nothing connects
    /// until the first poll).
    pub(crate) fn new(spec: LiveSpec<'_>) -> Result<LiveCore, ConnectionError> {
        let capture = match spec.capture {
            Some(c) => Some(CaptureWriter::create(&c.path, c.gzip)?),
            None => None,
        };
        let conn = Arc::new(ConnTelemetry::new());
        let reason = Reasonability::new(spec.instruments.iter().copied(), spec.reasonability);
        let mut telemetry = VenueFeedTelemetry::new(
            Arc::clone(&conn),
            spec.handler,
            spec.books,
            Arc::clone(reason.counters()),
            capture.as_ref().map(|c| Arc::clone(c.counters())),
        );
        telemetry.keeps_books = spec.keeps_books;
        let telemetry = Arc::new(telemetry);
        let session =
            WsSession::new(spec.endpoint, spec.connection.clone(), spec.tls, spec.ping, conn);
        Ok(LiveCore {
            name: spec.name,
            venue: spec.venue,
            session,
            outbox: Outbox::new(reason, Arc::clone(&telemetry)),
            capture,
            telemetry,
            frames_seen: 0,
            bad_input_log: LogGate::default(),
            stopped: false,
        })
    }

    /// The health handle for the admin port.
    pub(crate) fn health(&self) -> FeedHealth {
        FeedHealth::Venue(Arc::clone(&self.telemetry))
    }

    /// Whether [`LiveCore::stop`] ran.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Records `bytes` (a REST body, say) to the capture, if one is configured.
    pub(crate) fn capture(&mut self, recv: Nanos, bytes: &[u8]) {
        if let Some(c) = &mut self.capture {
            c.write(recv, bytes);
        }
    }

    /// The start of a poll: ticks held back last time go out first. Returns the socket-event
    /// budget for [`LiveCore::next_change`].
    pub(crate) fn begin_poll(&mut self, out: &mut TickBatch) -> usize {
        self.outbox.drain(out);
        EVENTS_PER_POLL
    }

    /// Reads socket events while `out` has room and `budget` lasts, handing frames to
    /// `decode` ([`LiveCore::on_message`]; it passes the handler's ticks on with
    /// `|t| outbox.emit(out, t)`), and returns the first connection change, for the venue to
    /// act on before it calls again; `None` when the socket has nothing more for this poll.
    pub(crate) fn next_change<R>(
        &mut self,
        now: Nanos,
        out: &mut TickBatch,
        budget: &mut usize,
        mut decode: impl FnMut(Nanos, Payload<'_>, &mut Outbox, &mut TickBatch) -> R,
        problem: impl Fn(&R, &VenueFeedTelemetry) -> Option<&'static str>,
    ) -> Option<Change> {
        while *budget > 0 {
            if out.is_full() || self.outbox.has_pending() {
                return None;
            }
            *budget -= 1;
            match self.session.poll(now) {
                SessionEvent::Idle => return None,
                SessionEvent::Opened { .. } => return Some(Change::Opened),
                SessionEvent::Closed { was_open, .. } => return Some(Change::Closed { was_open }),
                SessionEvent::Message(m) => self.on_message(&m, out, &mut decode, &problem),
            }
        }
        None
    }

    /// One frame: stamped with its receive time, captured, decoded by `decode` into the
    /// outbox (its time sampled every [`DECODE_SAMPLE_EVERY`] frames); a frame `problem`
    /// names (it may count it in the feed's counters first) is logged with a sample of its bytes, at most once a second.
    fn on_message<R>(
        &mut self,
        msg: &Message,
        out: &mut TickBatch,
        decode: &mut impl FnMut(Nanos, Payload<'_>, &mut Outbox, &mut TickBatch) -> R,
        problem: &impl Fn(&R, &VenueFeedTelemetry) -> Option<&'static str>,
    ) {
        let recv = Clock::now();
        let payload = match msg {
            Message::Text(t) => Payload::Text(t.as_bytes()),
            Message::Binary(b) => Payload::Binary(b),
            _ => return,
        };
        if let Payload::Text(bytes) = payload {
            self.capture(recv, bytes);
        }
        self.frames_seen += 1;
        let sample = self.frames_seen % DECODE_SAMPLE_EVERY == 0;
        let r = decode(recv, payload, &mut self.outbox, out);
        if sample {
            self.telemetry.decode_ns.record(Clock::now().since(recv));
        }
        if let Some(kind) = problem(&r, &self.telemetry) {
            if let Some(held_back) = self.bad_input_log.allow(recv, LOG_INTERVAL_NS) {
                let sample = String::from_utf8_lossy(&payload.bytes()[..payload.len().min(200)]);
                tracing::warn!(feed = %self.name, venue = self.venue, kind, held_back, %sample, "bad frame from the venue");
            }
        }
    }

    /// Re-publishes every instrument's last quote as `STALE` (its book was thrown away).
    pub(crate) fn republish_stale(&mut self, now: Nanos, out: &mut TickBatch) {
        self.outbox.invalidate_all(now, out);
    }

    /// The end of a poll: instruments silent for too long are re-published as `STALE`.
    pub(crate) fn sweep(&mut self, now: Nanos, out: &mut TickBatch) {
        self.outbox.sweep(now, out);
    }

    /// Closes the socket and completes the capture file (idempotent).
    pub(crate) fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.session.stop();
        if let Some(mut c) = self.capture.take() {
            if let Err(e) = c.finish() {
                tracing::warn!(feed = %self.name, path = %c.path().display(), error = %e, "capture not completed");
            }
        }
    }
}
