//! The live Binance spot feed: one combined-stream WebSocket, REST depth snapshots, and the
//! [`BinanceHandler`] between them, behind the runtime's [`Feed`] trait.
//!
//! Each poll reads what the socket has (as many frames as the batch has room for), stamps
//! each with its receive time, records it to the capture if one is configured, decodes it
//! into ticks, and checks them for reasonability. A book waiting for a snapshot (at start, after
//! a gap, after a reconnect) gets one from `GET /api/v3/depth?symbol=..&limit=..` once its
//! first diff is buffered, exactly as Binance's procedure asks; the request is non-blocking
//! and polled like the socket.
//!
//! Reconnects, rotation before the 24 h limit, stale detection and the connection rate limit
//! are [`WsSession`]'s. A reconnect throws every book away (diffs were lost while the socket
//! was down) and publishes each instrument's last quote again with `STALE` until fresh data
//! arrives. Rotation is break-then-make: Binance's diff windows on a new connection need not
//! line up with the old one's, so a make-before-break switch would resync anyway.
//!
//! Venue limits respected: streams go in the URL (no SUBSCRIBE messages, so nothing counts
//! against the 5 messages/s limit but our pongs), at most 1,024 streams per connection,
//! connection attempts capped per window (Binance: 300 per 5 minutes per IP), and snapshot
//! requests capped per minute (weight 50 each at `limit=1000`, against 6,000 per minute).

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use tickline_engine::stage::{Feed, FeedStatus, TickBatch};
use tickline_engine::types::{Clock, InstrumentId, InstrumentRegistry, Nanos, TickFlags};

use super::handler::{BinanceConfig, BinanceHandler};
use super::sync::SyncOutcome;
use super::VENUE;
pub use crate::capture_writer::CaptureConfig;
use crate::feed_health::FeedHealth;
use crate::reasonability::ReasonabilityConfig;
use crate::venue::live::{subscription, venue_error, Change, LiveCore, LiveSpec};
use crate::venue_telemetry::VenueFeedTelemetry;
use crate::ws::{
    Backoff, CloseReason, ConnectionConfig, ConnectionError, Endpoint, HttpGet, HttpPoll,
    RateWindow, SessionEvent,
};

/// Default stream channels per symbol.
pub const DEFAULT_CHANNELS: [&str; 3] = ["bookTicker", "trade", "depth@100ms"];
/// Default levels requested per snapshot (weight 50 on Binance).
pub const DEFAULT_SNAPSHOT_LIMIT: u32 = 1_000;
/// Default snapshot requests allowed per minute.
pub const DEFAULT_SNAPSHOTS_PER_MINUTE: u32 = 60;
/// Default snapshot request time limit.
pub const DEFAULT_SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10);
/// Binance's limit on streams per connection.
pub const MAX_STREAMS: usize = 1_024;
/// Binance's connection limit: 300 attempts per 5 minutes per IP.
pub const CONNECTS_PER_WINDOW: u32 = 300;
/// The window of [`CONNECTS_PER_WINDOW`].
pub const CONNECT_WINDOW: Duration = Duration::from_secs(300);

/// Settings of a live Binance feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinanceFeedConfig {
    /// Feed name.
    pub name: String,
    /// WebSocket base URL (`wss://stream.binance.com:9443`); `/stream?streams=…` is appended.
    pub ws_url: String,
    /// REST base URL (`https://api.binance.com`); `/api/v3/depth?…` is appended.
    pub rest_url: String,
    /// Registry symbols to subscribe (`BTCUSDT`); each must be a `binance` instrument.
    pub symbols: Vec<String>,
    /// Channels per symbol ([`DEFAULT_CHANNELS`]).
    pub channels: Vec<String>,
    /// Snapshot depth ([`DEFAULT_SNAPSHOT_LIMIT`]).
    pub snapshot_limit: u32,
    /// Snapshot requests per minute ([`DEFAULT_SNAPSHOTS_PER_MINUTE`]).
    pub snapshots_per_minute: u32,
    /// Snapshot request time limit ([`DEFAULT_SNAPSHOT_TIMEOUT`]).
    pub snapshot_timeout: Duration,
    /// Connection keep-alive, backoff and limits.
    pub connection: ConnectionConfig,
    /// Decoder and book limits.
    pub handler: BinanceConfig,
    /// Stale and price-band checks.
    pub reasonability: ReasonabilityConfig,
    /// Record every frame here.
    pub capture: Option<CaptureConfig>,
}

impl BinanceFeedConfig {
    /// Defaults for `symbols` against Binance's production endpoints.
    pub fn new(name: &str, symbols: &[&str]) -> BinanceFeedConfig {
        BinanceFeedConfig {
            name: name.to_owned(),
            ws_url: "wss://stream.binance.com:9443".into(),
            rest_url: "https://api.binance.com".into(),
            symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
            channels: DEFAULT_CHANNELS.iter().map(|s| (*s).to_owned()).collect(),
            snapshot_limit: DEFAULT_SNAPSHOT_LIMIT,
            snapshots_per_minute: DEFAULT_SNAPSHOTS_PER_MINUTE,
            snapshot_timeout: DEFAULT_SNAPSHOT_TIMEOUT,
            connection: ConnectionConfig {
                max_connects: CONNECTS_PER_WINDOW,
                connect_window: CONNECT_WINDOW,
                ..ConnectionConfig::default()
            },
            handler: BinanceConfig::default(),
            reasonability: ReasonabilityConfig::default(),
            capture: None,
        }
    }
}

/// A snapshot request in flight.
#[derive(Debug)]
struct Fetch {
    instrument: InstrumentId,
    get: HttpGet,
}

/// The live Binance feed: owns its socket, books and capture; polled by the feed thread.
#[derive(Debug)]
pub struct BinanceFeed {
    core: LiveCore,
    handler: BinanceHandler,
    rest: Endpoint,
    tls: Option<Arc<ClientConfig>>,
    /// (instrument, REST symbol) of each subscribed symbol.
    instruments: Vec<(InstrumentId, String)>,
    snapshot_limit: u32,
    snapshot_timeout_ns: i64,
    max_snapshot_bytes: usize,
    fetch: Option<Fetch>,
    next_fetch: Nanos,
    fetch_backoff: Backoff,
    fetch_limiter: RateWindow,
}

impl BinanceFeed {
    /// Builds the feed (nothing connects until the first poll).
    pub fn new(
        registry: &InstrumentRegistry,
        cfg: BinanceFeedConfig,
    ) -> Result<BinanceFeed, ConnectionError> {
        let venue_err = |reason: String| venue_error(VENUE, &cfg.name, reason);
        let handler = BinanceHandler::new(registry, cfg.handler)?;
        let ids = subscription(registry, VENUE, &cfg.name, &cfg.symbols, &cfg.channels)?;
        let instruments: Vec<(InstrumentId, String)> =
            ids.iter().zip(&cfg.symbols).map(|(id, sym)| (*id, sym.to_ascii_uppercase())).collect();
        let streams: Vec<String> = cfg
            .symbols
            .iter()
            .flat_map(|sym| {
                cfg.channels.iter().map(move |ch| format!("{}@{ch}", sym.to_ascii_lowercase()))
            })
            .collect();
        if streams.len() > MAX_STREAMS {
            return Err(venue_err(format!(
                "{} streams: Binance allows {MAX_STREAMS} per connection",
                streams.len()
            )));
        }
        let base = Endpoint::parse(&cfg.ws_url)?;
        if !base.websocket {
            return Err(venue_err(format!("ws_url {:?} is not ws:// or wss://", cfg.ws_url)));
        }
        let path =
            format!("{}/stream?streams={}", base.path.trim_end_matches('/'), streams.join("/"));
        let endpoint = base.with_path(&path);
        let rest = Endpoint::parse(&cfg.rest_url)?;
        if rest.websocket {
            return Err(venue_err(format!(
                "rest_url {:?} is not http:// or https://",
                cfg.rest_url
            )));
        }
        let tls = if endpoint.tls || rest.tls {
            Some(crate::ws::tls::client_config(&cfg.connection.tls_roots)?)
        } else {
            None
        };
        let core = LiveCore::new(LiveSpec {
            name: cfg.name.clone(),
            venue: VENUE,
            endpoint,
            tls: tls.clone(),
            ping: None,
            connection: &cfg.connection,
            instruments: &ids,
            reasonability: cfg.reasonability,
            capture: cfg.capture.as_ref(),
            handler: Arc::clone(handler.telemetry()),
            books: ids
                .iter()
                .filter_map(|id| handler.sync(*id).map(|s| (*id, Arc::clone(s.counters()))))
                .collect(),
            keeps_books: cfg.channels.iter().any(|c| c.starts_with("depth")),
        })?;
        Ok(BinanceFeed {
            core,
            handler,
            rest,
            tls,
            instruments,
            snapshot_limit: cfg.snapshot_limit.max(1),
            snapshot_timeout_ns: i64::try_from(cfg.snapshot_timeout.as_nanos()).unwrap_or(i64::MAX),
            max_snapshot_bytes: cfg.handler.max_snapshot_bytes,
            fetch: None,
            next_fetch: Nanos::ZERO,
            fetch_backoff: Backoff::new(
                cfg.connection.backoff_min,
                cfg.connection.backoff_max,
                Clock::now().0 as u64,
            ),
            fetch_limiter: RateWindow::new(cfg.snapshots_per_minute, Duration::from_secs(60)),
        })
    }

    /// The counters (clone the `Arc` for the sidecar before handing the feed to the runtime).
    pub fn telemetry(&self) -> &Arc<VenueFeedTelemetry> {
        &self.core.telemetry
    }

    /// The health handle for the admin port (take it before handing the feed to the runtime).
    pub fn health(&self) -> FeedHealth {
        self.core.health()
    }

    /// The handler (books, sync state).
    pub fn handler(&self) -> &BinanceHandler {
        &self.handler
    }

    /// The WebSocket URL connected to.
    pub fn url(&self) -> String {
        self.core.session.endpoint().url()
    }

    /// The connection closed: a snapshot in flight is dropped and, if it had been open,
    /// diffs were lost and every book starts over.
    fn on_closed(&mut self, now: Nanos, was_open: bool, out: &mut TickBatch) {
        self.fetch = None;
        if was_open {
            self.handler.resync_all();
            self.core.republish_stale(now, out);
        }
    }

    fn snapshot_due(&self) -> Option<usize> {
        self.instruments.iter().position(|(id, _)| {
            self.handler.sync(*id).is_some_and(|s| s.needs_snapshot() && s.buffered() > 0)
        })
    }

    fn poll_snapshot(&mut self, now: Nanos, out: &mut TickBatch) {
        if let Some(fetch) = &mut self.fetch {
            let instrument = fetch.instrument;
            let failed = match fetch.get.poll(now) {
                HttpPoll::Pending => return,
                HttpPoll::Done(resp) if resp.status == 200 => {
                    self.fetch = None;
                    let recv = Clock::now();
                    self.core.capture(recv, &resp.body);
                    let outbox = &mut self.core.outbox;
                    match self
                        .handler
                        .on_snapshot(instrument, recv, &resp.body, &mut |t| outbox.emit(out, t))
                    {
                        Ok(SyncOutcome::Synced) => {
                            self.fetch_backoff.reset();
                            None
                        }
                        // The snapshot is older than the buffered stream: ask again shortly.
                        Ok(_) => Some("snapshot did not join the stream".to_owned()),
                        Err(kind) => Some(format!("snapshot body rejected: {}", kind.as_str())),
                    }
                }
                HttpPoll::Done(resp) => {
                    self.fetch = None;
                    if let Some(after) = resp.retry_after {
                        self.next_fetch = now.add_nanos(after.as_nanos() as i64);
                    }
                    Some(format!("HTTP status {}", resp.status))
                }
                HttpPoll::Failed(e) => {
                    self.fetch = None;
                    Some(e.to_string())
                }
            };
            if let Some(why) = failed {
                self.core.telemetry.snapshot_failures.inc();
                let delay = self.fetch_backoff.next_delay();
                self.next_fetch = self.next_fetch.max(now.add_nanos(delay.as_nanos() as i64));
                tracing::warn!(feed = %self.core.name, %instrument, reason = %why, retry_in_ms = delay.as_millis() as u64, "binance depth snapshot failed");
            }
            return;
        }
        if !self.core.session.is_open() || now < self.next_fetch {
            return;
        }
        let Some(i) = self.snapshot_due() else { return };
        let allowed = self.fetch_limiter.next_allowed(now);
        if allowed > now {
            self.next_fetch = allowed;
            return;
        }
        self.fetch_limiter.try_take(now);
        let (instrument, symbol) = &self.instruments[i];
        let instrument = *instrument;
        let path = format!(
            "{}/api/v3/depth?symbol={symbol}&limit={}",
            self.rest.path.trim_end_matches('/'),
            self.snapshot_limit
        );
        let get = HttpGet::start(
            self.rest.with_path(&path),
            self.tls.clone(),
            self.max_snapshot_bytes,
            now.add_nanos(self.snapshot_timeout_ns),
        );
        self.core.telemetry.snapshot_requests.inc();
        self.fetch = Some(Fetch { instrument, get });
    }
}

impl Feed for BinanceFeed {
    fn name(&self) -> &str {
        &self.core.name
    }

    fn poll(&mut self, now: Nanos, out: &mut TickBatch) -> FeedStatus {
        if self.core.is_stopped() {
            return FeedStatus::Finished;
        }
        let mut budget = self.core.begin_poll(out);
        while let Some(change) = self.core.next_change(
            now,
            out,
            &mut budget,
            |recv, payload, outbox, out| {
                self.handler.on_frame(recv, payload, &mut |t| outbox.emit(out, t))
            },
            |r, _| r.as_ref().err().map(|kind| kind.as_str()),
        ) {
            match change {
                Change::Opened => {
                    self.fetch_backoff.reset();
                    self.next_fetch = now;
                }
                Change::Closed { was_open } => self.on_closed(now, was_open, out),
            }
        }
        self.poll_snapshot(now, out);
        self.core.sweep(now, out);
        FeedStatus::Live
    }

    fn stop(&mut self) {
        self.fetch = None;
        self.core.stop();
    }
}

impl BinanceFeed {
    /// Drops the open connection now, as if the venue had (reconnects after the backoff).
    pub fn force_reconnect(&mut self, now: Nanos, out: &mut TickBatch) {
        if let SessionEvent::Closed { was_open, .. } =
            self.core.session.reconnect(now, CloseReason::Requested)
        {
            self.on_closed(now, was_open, out);
        }
    }

    /// Ticks carry `flags` in addition to the venue's (tests, shadow feeds).
    #[must_use]
    pub fn with_base_flags(mut self, flags: TickFlags) -> Self {
        self.handler = self.handler.with_base_flags(flags);
        self
    }
}
