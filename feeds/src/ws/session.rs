//! One venue WebSocket connection, kept open: a non-blocking state machine the feed thread
//! drives from its poll loop.
//!
//! ```text
//! Waiting ──(backoff over, rate limit allows)──> Resolving ──> Connecting ──> Handshaking ──> Open
//!    ^                                                                                       │
//!    └──────── stale / rotation / venue close / error (backoff with jitter) ─────────────────┘
//! ```
//!
//! The socket is a non-blocking `mio` `TcpStream`; `wss://` wraps it in rustls; `tungstenite`
//! speaks the WebSocket protocol over either and answers pings itself (a burst of pings is
//! answered with the latest pong, as RFC 6455 allows). Nothing here blocks: every call does
//! what the socket allows now and returns. Each [`WsSession::poll`] hands back at most one
//! event, so the caller decides how much to read per loop.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use mio::net::TcpStream;
use rustls::ClientConfig;
use tickline_engine::types::{Clock, Nanos};
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Connector, Message, WebSocket};

use super::backoff::{Backoff, RateWindow};
use super::config::ConnectionConfig;
use super::resolve::Lookup;
use super::telemetry::{CloseReason, ConnState, ConnTelemetry};
use super::url::Endpoint;

/// The socket under the WebSocket: plain TCP or rustls over TCP.
pub type WsStream = MaybeTlsStream<TcpStream>;

type Mid = MidHandshake<ClientHandshake<WsStream>>;

/// How the client pings a silent venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientPing {
    /// A WebSocket ping frame.
    Frame,
    /// A text message the venue answers (OKX: `"ping"` → `"pong"`).
    Text(&'static str),
}

/// What one [`WsSession::poll`] found.
#[derive(Debug)]
pub enum SessionEvent {
    /// Nothing more to do now.
    Idle,
    /// The connection opened; `reconnect` when it is not the first.
    Opened {
        /// Whether an earlier connection had opened.
        reconnect: bool,
    },
    /// A connection or an attempt ended; the next attempt is scheduled.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Whether it had opened (data may have been lost) or failed while connecting.
        was_open: bool,
    },
    /// A data message (text or binary).
    Message(Message),
}

enum State {
    Waiting { until: Nanos },
    Resolving { lookup: Lookup, deadline: Nanos },
    Connecting { tcp: TcpStream, deadline: Nanos },
    Handshaking { mid: Box<Mid>, deadline: Nanos },
    Open { ws: Box<WebSocket<WsStream>> },
    Stopped,
}

/// One WebSocket connection to a venue, reopened whenever it fails.
pub struct WsSession {
    endpoint: Endpoint,
    cfg: ConnectionConfig,
    tls: Option<Arc<ClientConfig>>,
    ws_config: WebSocketConfig,
    ping: Option<ClientPing>,
    state: State,
    backoff: Backoff,
    limiter: RateWindow,
    telemetry: Arc<ConnTelemetry>,
    last_frame: Nanos,
    last_ping: Nanos,
    opened_at: Nanos,
    ever_opened: bool,
    needs_flush: bool,
    pending_close: Option<CloseReason>,
    next_addr: usize,
}

impl std::fmt::Debug for WsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsSession")
            .field("url", &self.endpoint.url())
            .field("state", &self.telemetry.state())
            .finish_non_exhaustive()
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn is_would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

impl WsSession {
    /// A session for `endpoint` (a `ws://` or `wss://` URL); the first attempt starts on the
    /// first poll. `tls` is needed for `wss://`.
    pub fn new(
        endpoint: Endpoint,
        cfg: ConnectionConfig,
        tls: Option<Arc<ClientConfig>>,
        ping: Option<ClientPing>,
        telemetry: Arc<ConnTelemetry>,
    ) -> WsSession {
        let seed = (Clock::now().0 as u64) ^ u64::from(std::process::id()).rotate_left(32);
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(cfg.max_message_bytes))
            .max_frame_size(Some(cfg.max_message_bytes));
        telemetry.set_state(ConnState::Waiting);
        WsSession {
            backoff: Backoff::new(cfg.backoff_min, cfg.backoff_max, seed),
            limiter: RateWindow::new(cfg.max_connects, cfg.connect_window),
            endpoint,
            tls,
            ws_config,
            ping,
            state: State::Waiting { until: Nanos::ZERO },
            telemetry,
            last_frame: Nanos::ZERO,
            last_ping: Nanos::ZERO,
            opened_at: Nanos::ZERO,
            ever_opened: false,
            needs_flush: false,
            pending_close: None,
            next_addr: 0,
            cfg,
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Points later connections at another URL (the current one is left alone).
    pub fn set_endpoint(&mut self, endpoint: Endpoint) {
        self.endpoint = endpoint;
    }

    /// The counters.
    pub fn telemetry(&self) -> &Arc<ConnTelemetry> {
        &self.telemetry
    }

    /// Whether the connection is open.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open { .. })
    }

    /// Whether [`WsSession::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopped)
    }

    /// Failed attempts since the last healthy connection.
    pub fn failed_attempts(&self) -> u32 {
        self.backoff.attempt()
    }

    fn set(&mut self, state: State, gauge: ConnState) {
        self.state = state;
        self.telemetry.set_state(gauge);
    }

    /// Ends the current connection or attempt and schedules the next.
    fn fail(&mut self, now: Nanos, reason: CloseReason) -> SessionEvent {
        let was_open = self.is_open();
        if let State::Open { ws } = &mut self.state {
            // Best effort: tell the venue, without waiting for its answer.
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        self.telemetry.count_close(reason);
        self.telemetry.opened_at_ns.set(0);
        self.needs_flush = false;
        self.pending_close = None;
        let delay = match reason {
            CloseReason::Rotation | CloseReason::Requested => Duration::ZERO,
            _ => self.backoff.next_delay(),
        };
        if was_open {
            tracing::info!(url = %self.endpoint.url(), ?reason, retry_in_ms = delay.as_millis() as u64, "venue connection closed");
        } else {
            tracing::warn!(url = %self.endpoint.url(), ?reason, attempt = self.backoff.attempt(), retry_in_ms = delay.as_millis() as u64, "venue connection attempt failed");
        }
        self.set(State::Waiting { until: now.add_nanos(nanos(delay)) }, ConnState::Waiting);
        SessionEvent::Closed { reason, was_open }
    }

    /// Closes the open connection now (for `reason`) and reconnects without waiting.
    pub fn reconnect(&mut self, now: Nanos, reason: CloseReason) -> SessionEvent {
        if self.is_stopped() {
            return SessionEvent::Idle;
        }
        self.fail(now, reason)
    }

    /// Closes for good: polls return [`SessionEvent::Idle`] from now on.
    pub fn stop(&mut self) {
        if let State::Open { ws } = &mut self.state {
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        self.set(State::Stopped, ConnState::Stopped);
    }

    /// Sends a text message on the open connection. Returns false when not open. A socket
    /// that cannot take it all now keeps the rest queued and flushed by later polls.
    pub fn send_text(&mut self, text: &str) -> bool {
        let State::Open { ws } = &mut self.state else { return false };
        match ws.send(Message::text(text)) {
            Ok(()) => {}
            Err(e) if is_would_block(&e) => self.needs_flush = true,
            Err(_) => self.pending_close = Some(CloseReason::Io),
        }
        self.telemetry.sent.inc();
        true
    }

    fn start_handshake(&mut self, tcp: TcpStream, now: Nanos, deadline: Nanos) -> SessionEvent {
        let _ = tcp.set_nodelay(true);
        let connector = match (&self.tls, self.endpoint.tls) {
            (Some(cfg), true) => Connector::Rustls(Arc::clone(cfg)),
            (None, true) => return self.fail(now, CloseReason::ConnectFailed),
            (_, false) => Connector::Plain,
        };
        let url = self.endpoint.url();
        let r = tungstenite::client_tls_with_config(
            url.as_str(),
            tcp,
            Some(self.ws_config),
            Some(connector),
        );
        self.after_handshake(r, now, deadline)
    }

    fn after_handshake(
        &mut self,
        r: Result<
            (WebSocket<WsStream>, tungstenite::handshake::client::Response),
            HandshakeError<ClientHandshake<WsStream>>,
        >,
        now: Nanos,
        deadline: Nanos,
    ) -> SessionEvent {
        match r {
            Ok((ws, _response)) => {
                let reconnect = self.ever_opened;
                self.ever_opened = true;
                self.opened_at = now;
                self.last_frame = now;
                self.last_ping = now;
                self.telemetry.opened.inc();
                if reconnect {
                    self.telemetry.reconnects.inc();
                }
                self.telemetry.opened_at_ns.set(now.0.max(0) as u64);
                tracing::info!(url = %self.endpoint.url(), reconnect, "venue connection open");
                self.set(State::Open { ws: Box::new(ws) }, ConnState::Open);
                SessionEvent::Opened { reconnect }
            }
            Err(HandshakeError::Interrupted(mid)) => {
                self.set(
                    State::Handshaking { mid: Box::new(mid), deadline },
                    ConnState::Handshaking,
                );
                SessionEvent::Idle
            }
            Err(HandshakeError::Failure(e)) => {
                tracing::warn!(url = %self.endpoint.url(), error = %e, "venue handshake failed");
                self.fail(now, CloseReason::ConnectFailed)
            }
        }
    }

    /// Advances the connection and returns at most one event. Call it until it returns
    /// [`SessionEvent::Idle`] (or as often as the caller has room for messages).
    pub fn poll(&mut self, now: Nanos) -> SessionEvent {
        loop {
            match &mut self.state {
                State::Stopped => return SessionEvent::Idle,
                State::Waiting { until } => {
                    if now < *until {
                        return SessionEvent::Idle;
                    }
                    let allowed = self.limiter.next_allowed(now);
                    if allowed > now {
                        self.telemetry.rate_limited.inc();
                        self.state = State::Waiting { until: allowed };
                        return SessionEvent::Idle;
                    }
                    self.limiter.try_take(now);
                    self.telemetry.attempts.inc();
                    let lookup = Lookup::start(&self.endpoint.host, self.endpoint.port);
                    let deadline = now.add_nanos(nanos(self.cfg.connect_timeout));
                    self.set(State::Resolving { lookup, deadline }, ConnState::Resolving);
                }
                State::Resolving { lookup, deadline } => {
                    let deadline = *deadline;
                    let addrs = match lookup.poll() {
                        None if now > deadline => {
                            return self.fail(now, CloseReason::ConnectFailed)
                        }
                        None => return SessionEvent::Idle,
                        Some(Ok(a)) if !a.is_empty() => a,
                        Some(_) => return self.fail(now, CloseReason::ConnectFailed),
                    };
                    let addr = addrs[self.next_addr % addrs.len()];
                    self.next_addr = self.next_addr.wrapping_add(1);
                    match TcpStream::connect(addr) {
                        Ok(tcp) => {
                            self.set(State::Connecting { tcp, deadline }, ConnState::Connecting)
                        }
                        Err(_) => return self.fail(now, CloseReason::ConnectFailed),
                    }
                }
                State::Connecting { tcp, deadline } => {
                    let deadline = *deadline;
                    match tcp.take_error() {
                        Ok(None) => {}
                        Ok(Some(_)) | Err(_) => return self.fail(now, CloseReason::ConnectFailed),
                    }
                    match tcp.peer_addr() {
                        Ok(_) => {
                            let State::Connecting { tcp, .. } =
                                std::mem::replace(&mut self.state, State::Stopped)
                            else {
                                unreachable!("matched above")
                            };
                            self.telemetry.set_state(ConnState::Handshaking);
                            match self.start_handshake(tcp, now, deadline) {
                                SessionEvent::Idle => continue,
                                ev => return ev,
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            if now > deadline {
                                return self.fail(now, CloseReason::ConnectFailed);
                            }
                            return SessionEvent::Idle;
                        }
                        Err(_) => return self.fail(now, CloseReason::ConnectFailed),
                    }
                }
                State::Handshaking { deadline, .. } => {
                    let deadline = *deadline;
                    let State::Handshaking { mid, .. } =
                        std::mem::replace(&mut self.state, State::Stopped)
                    else {
                        unreachable!("matched above")
                    };
                    let r = mid.handshake();
                    if matches!(r, Err(HandshakeError::Interrupted(_))) && now > deadline {
                        return self.fail(now, CloseReason::ConnectFailed);
                    }
                    return self.after_handshake(r, now, deadline);
                }
                State::Open { .. } => return self.poll_open(now),
            }
        }
    }

    fn poll_open(&mut self, now: Nanos) -> SessionEvent {
        if let Some(reason) = self.pending_close.take() {
            return self.fail(now, reason);
        }
        if now.since(self.last_frame) > self.cfg.stale_after.as_nanos() as u64 {
            return self.fail(now, CloseReason::Stale);
        }
        if now.since(self.opened_at) > self.cfg.rotate_after.as_nanos() as u64 {
            return self.fail(now, CloseReason::Rotation);
        }
        let ping_due = self.ping.is_some_and(|_| {
            self.cfg.ping_after.is_some_and(|after| {
                now.since(self.last_frame.max(self.last_ping)) > after.as_nanos() as u64
            })
        });
        let State::Open { ws } = &mut self.state else { return SessionEvent::Idle };
        if ping_due {
            self.last_ping = now;
            self.telemetry.pings_sent.inc();
            let msg = match self.ping {
                Some(ClientPing::Text(t)) => Message::text(t),
                _ => Message::Ping(Default::default()),
            };
            match ws.send(msg) {
                Ok(()) => {}
                Err(e) if is_would_block(&e) => self.needs_flush = true,
                Err(_) => return self.fail(now, CloseReason::Io),
            }
        }
        if self.needs_flush {
            match ws.flush() {
                Ok(()) => self.needs_flush = false,
                Err(e) if is_would_block(&e) => {}
                Err(_) => return self.fail(now, CloseReason::Io),
            }
        }
        loop {
            let State::Open { ws } = &mut self.state else { return SessionEvent::Idle };
            let msg = match ws.read() {
                Ok(m) => m,
                Err(e) if is_would_block(&e) => return SessionEvent::Idle,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    return self.fail(now, CloseReason::Remote)
                }
                Err(tungstenite::Error::Capacity(_)) => {
                    return self.fail(now, CloseReason::TooLarge)
                }
                Err(
                    tungstenite::Error::Protocol(_)
                    | tungstenite::Error::Utf8(_)
                    | tungstenite::Error::AttackAttempt,
                ) => return self.fail(now, CloseReason::Protocol),
                Err(_) => return self.fail(now, CloseReason::Io),
            };
            self.last_frame = now;
            let t = &self.telemetry;
            t.last_frame_ns.set(now.0.max(0) as u64);
            t.messages.inc();
            match msg {
                Message::Text(_) | Message::Binary(_) => {
                    t.bytes.add(msg.len() as u64);
                    // The venue is serving: forget earlier failed attempts.
                    self.backoff.reset();
                    return SessionEvent::Message(msg);
                }
                Message::Ping(p) => {
                    t.bytes.add(p.len() as u64);
                    t.pings_received.inc();
                }
                Message::Pong(p) => {
                    t.bytes.add(p.len() as u64);
                    t.pongs_received.inc();
                }
                Message::Close(_) => {
                    // tungstenite queued the close reply; send it if the socket takes it.
                    let _ = ws.flush();
                    return self.fail(now, CloseReason::Remote);
                }
                Message::Frame(_) => {}
            }
        }
    }
}
