//! The live OKX feed: one public WebSocket (`/ws/v5/public`), subscriptions by message, and
//! the [`OkxHandler`] behind the runtime's [`Feed`] trait.
//!
//! OKX sends each book's snapshot itself right after a `books` subscription, so a book that
//! lost its sequence (a gap, a reconnect) is repaired by unsubscribing and subscribing that
//! instrument's book channel again — at most once per [`OkxFeedConfig::resubscribe_after`],
//! and within OKX's 480 subscription requests per hour per connection. OKX closes a
//! connection that is silent for 30 s, so the client sends the text `ping` after
//! [`DEFAULT_OKX_PING_AFTER`] of silence and the venue answers `pong`. Connection attempts
//! are capped at OKX's 3 per second per IP. Reconnects, stale detection and rotation are
//! [`WsSession`]'s; a reconnect throws the books away and re-publishes each last quote as
//! `STALE` until the new subscription's snapshots arrive.

use std::sync::Arc;
use std::time::Duration;

use tickline_engine::stage::{Feed, FeedStatus, TickBatch};
use tickline_engine::types::{InstrumentId, InstrumentRegistry, Nanos};

use super::handler::{OkxConfig, OkxFrameEvent, OkxHandler};
use super::VENUE;
use crate::capture_writer::CaptureConfig;
use crate::feed_health::FeedHealth;
use crate::reasonability::ReasonabilityConfig;
use crate::venue::live::{subscription, venue_error, Change, LiveCore, LiveSpec};
use crate::venue_telemetry::VenueFeedTelemetry;
use crate::ws::{ClientPing, ConnectionConfig, ConnectionError, Endpoint, RateWindow};

/// Default channels per instrument.
pub const DEFAULT_OKX_CHANNELS: [&str; 3] = ["books", "bbo-tbt", "trades"];
/// Default client ping after this much silence (OKX drops a connection silent for 30 s).
pub const DEFAULT_OKX_PING_AFTER: Duration = Duration::from_secs(20);
/// Default wait for a resubscribed book's snapshot before asking again.
pub const DEFAULT_RESUBSCRIBE_AFTER: Duration = Duration::from_secs(5);
/// OKX's limit on subscribe/unsubscribe requests per connection per hour.
pub const SUBSCRIPTIONS_PER_HOUR: u32 = 480;
/// OKX's connection limit: 3 per second per IP.
pub const CONNECTS_PER_SECOND: u32 = 3;
/// Arguments per subscribe message (OKX caps a request at 64 KB).
const ARGS_PER_MESSAGE: usize = 200;

/// Settings of a live OKX feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OkxFeedConfig {
    /// Feed name.
    pub name: String,
    /// Public WebSocket URL (`wss://ws.okx.com:8443/ws/v5/public`).
    pub url: String,
    /// Registry symbols (`instId`s: `BTC-USDT`); each must be an `okx` instrument.
    pub symbols: Vec<String>,
    /// Channels per instrument ([`DEFAULT_OKX_CHANNELS`]).
    pub channels: Vec<String>,
    /// Wait for a resubscribed book's snapshot ([`DEFAULT_RESUBSCRIBE_AFTER`]).
    pub resubscribe_after: Duration,
    /// Subscribe/unsubscribe requests per hour per connection ([`SUBSCRIPTIONS_PER_HOUR`]).
    pub subscriptions_per_hour: u32,
    /// Connection keep-alive, backoff and limits.
    pub connection: ConnectionConfig,
    /// Decoder and book limits.
    pub handler: OkxConfig,
    /// Stale and price-band checks.
    pub reasonability: ReasonabilityConfig,
    /// Record every frame here.
    pub capture: Option<CaptureConfig>,
}

impl OkxFeedConfig {
    /// Defaults for `symbols` against OKX's production endpoint.
    pub fn new(name: &str, symbols: &[&str]) -> OkxFeedConfig {
        OkxFeedConfig {
            name: name.to_owned(),
            url: "wss://ws.okx.com:8443/ws/v5/public".into(),
            symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
            channels: DEFAULT_OKX_CHANNELS.iter().map(|s| (*s).to_owned()).collect(),
            resubscribe_after: DEFAULT_RESUBSCRIBE_AFTER,
            subscriptions_per_hour: SUBSCRIPTIONS_PER_HOUR,
            connection: ConnectionConfig {
                ping_after: Some(DEFAULT_OKX_PING_AFTER),
                max_connects: CONNECTS_PER_SECOND,
                connect_window: Duration::from_secs(1),
                ..ConnectionConfig::default()
            },
            handler: OkxConfig::default(),
            reasonability: ReasonabilityConfig::default(),
            capture: None,
        }
    }
}

/// The live OKX feed.
#[derive(Debug)]
pub struct OkxFeed {
    core: LiveCore,
    handler: OkxHandler,
    /// (instrument, instId) per subscribed instrument.
    instruments: Vec<(InstrumentId, String)>,
    channels: Vec<String>,
    /// The `books*` channel subscribed, if any.
    book_channel: Option<String>,
    /// Per instrument: no resubscription before this time.
    resubscribe_at: Vec<Nanos>,
    resubscribe_ns: i64,
    subscriptions_per_hour: u32,
    limiter: RateWindow,
}

fn args(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(ch, inst)| format!(r#"{{"channel":"{ch}","instId":"{inst}"}}"#))
        .collect::<Vec<_>>()
        .join(",")
}

impl OkxFeed {
    /// Builds the feed (nothing connects until the first poll).
    pub fn new(
        registry: &InstrumentRegistry,
        cfg: OkxFeedConfig,
    ) -> Result<OkxFeed, ConnectionError> {
        let venue_err = |reason: String| venue_error(VENUE, &cfg.name, reason);
        let handler = OkxHandler::new(registry, cfg.handler)?;
        let ids = subscription(registry, VENUE, &cfg.name, &cfg.symbols, &cfg.channels)?;
        let instruments: Vec<(InstrumentId, String)> =
            ids.iter().copied().zip(cfg.symbols.iter().cloned()).collect();
        for ch in &cfg.channels {
            if !["books", "books-l2-tbt", "books50-l2-tbt", "bbo-tbt", "trades"]
                .contains(&ch.as_str())
            {
                return Err(venue_err(format!("channel {ch:?} is not one this feed decodes")));
            }
        }
        let endpoint = Endpoint::parse(&cfg.url)?;
        if !endpoint.websocket {
            return Err(venue_err(format!("url {:?} is not ws:// or wss://", cfg.url)));
        }
        let tls = if endpoint.tls {
            Some(crate::ws::tls::client_config(&cfg.connection.tls_roots)?)
        } else {
            None
        };
        let core = LiveCore::new(LiveSpec {
            name: cfg.name.clone(),
            venue: VENUE,
            endpoint,
            tls,
            ping: Some(ClientPing::Text("ping")),
            connection: &cfg.connection,
            instruments: &ids,
            reasonability: cfg.reasonability,
            capture: cfg.capture.as_ref(),
            handler: Arc::clone(handler.telemetry()),
            books: ids
                .iter()
                .filter_map(|id| handler.sync(*id).map(|s| (*id, Arc::clone(s.counters()))))
                .collect(),
            keeps_books: cfg.channels.iter().any(|c| c.starts_with("books")),
        })?;
        Ok(OkxFeed {
            core,
            handler,
            resubscribe_at: vec![Nanos::ZERO; instruments.len()],
            instruments,
            book_channel: cfg.channels.iter().find(|c| c.starts_with("books")).cloned(),
            channels: cfg.channels,
            resubscribe_ns: i64::try_from(cfg.resubscribe_after.as_nanos()).unwrap_or(i64::MAX),
            subscriptions_per_hour: cfg.subscriptions_per_hour,
            limiter: RateWindow::new(cfg.subscriptions_per_hour, Duration::from_secs(3600)),
        })
    }

    /// The counters.
    pub fn telemetry(&self) -> &Arc<VenueFeedTelemetry> {
        &self.core.telemetry
    }

    /// The health handle for the admin port (take it before handing the feed to the runtime).
    pub fn health(&self) -> FeedHealth {
        self.core.health()
    }

    /// The handler (books, sync state).
    pub fn handler(&self) -> &OkxHandler {
        &self.handler
    }

    fn send(&mut self, op: &str, pairs: &[(&str, &str)]) -> bool {
        let msg = format!(r#"{{"op":"{op}","args":[{}]}}"#, args(pairs));
        self.core.session.send_text(&msg)
    }

    fn on_open(&mut self, now: Nanos) {
        // A new connection has its own subscription budget.
        self.limiter = RateWindow::new(self.subscriptions_per_hour, Duration::from_secs(3600));
        let instruments = self.instruments.clone();
        let channels = self.channels.clone();
        let pairs: Vec<(&str, &str)> = instruments
            .iter()
            .flat_map(|(_, inst)| channels.iter().map(move |ch| (ch.as_str(), inst.as_str())))
            .collect();
        for chunk in pairs.chunks(ARGS_PER_MESSAGE) {
            self.limiter.try_take(now);
            self.send("subscribe", chunk);
        }
        for at in &mut self.resubscribe_at {
            *at = now.add_nanos(self.resubscribe_ns);
        }
    }

    fn resubscribe_books(&mut self, now: Nanos) {
        let Some(channel) = self.book_channel.clone() else { return };
        if !self.core.session.is_open() {
            return;
        }
        for i in 0..self.instruments.len() {
            let (id, inst) = &self.instruments[i];
            let due = now >= self.resubscribe_at[i];
            if !due || !self.handler.sync(*id).is_some_and(|s| s.needs_snapshot()) {
                continue;
            }
            if self.limiter.next_allowed(now) > now {
                return;
            }
            let inst = inst.clone();
            self.limiter.try_take(now);
            self.limiter.try_take(now);
            self.send("unsubscribe", &[(&channel, &inst)]);
            self.send("subscribe", &[(&channel, &inst)]);
            self.core.telemetry.resubscribes.inc();
            self.resubscribe_at[i] = now.add_nanos(self.resubscribe_ns);
        }
    }
}

impl Feed for OkxFeed {
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
            |r, telemetry| match r {
                Ok(OkxFrameEvent::Control { error: true }) => {
                    telemetry.venue_errors.inc();
                    Some("venue error event")
                }
                Ok(_) => None,
                Err(kind) => Some(kind.as_str()),
            },
        ) {
            match change {
                Change::Opened => self.on_open(now),
                Change::Closed { was_open } => {
                    if was_open {
                        self.handler.resync_all();
                        self.core.republish_stale(now, out);
                    }
                }
            }
        }
        self.resubscribe_books(now);
        self.core.sweep(now, out);
        FeedStatus::Live
    }

    fn stop(&mut self) {
        self.core.stop();
    }
}
