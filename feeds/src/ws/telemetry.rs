//! Per-connection counters: state, traffic, reconnects and why, last-frame age.
//!
//! Written only by the feed thread that owns the connection ([`Counter`] is single-writer);
//! any thread reads them through the `Arc` the feed hands out.

use tickline_engine::telemetry::Counter;
use tickline_engine::types::Nanos;

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ConnState {
    /// Waiting out a backoff or a rate limit before the next attempt.
    Waiting = 0,
    /// Resolving the host name.
    Resolving = 1,
    /// TCP connect in progress.
    Connecting = 2,
    /// TLS and WebSocket handshakes in progress.
    Handshaking = 3,
    /// Open: frames flow.
    Open = 4,
    /// Stopped for good.
    Stopped = 5,
}

impl ConnState {
    /// A stable lowercase name for metrics labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnState::Waiting => "waiting",
            ConnState::Resolving => "resolving",
            ConnState::Connecting => "connecting",
            ConnState::Handshaking => "handshaking",
            ConnState::Open => "open",
            ConnState::Stopped => "stopped",
        }
    }

    /// The state a gauge value stands for.
    pub const fn from_gauge(v: u64) -> ConnState {
        match v {
            1 => ConnState::Resolving,
            2 => ConnState::Connecting,
            3 => ConnState::Handshaking,
            4 => ConnState::Open,
            5 => ConnState::Stopped,
            _ => ConnState::Waiting,
        }
    }
}

/// Why an open connection (or an attempt) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// No frame within the staleness limit.
    Stale,
    /// Planned reconnect before the venue's lifetime limit.
    Rotation,
    /// The venue sent a close frame or closed the socket.
    Remote,
    /// A socket or TLS error.
    Io,
    /// A WebSocket protocol violation (bad frame, invalid UTF-8 in a text message).
    Protocol,
    /// A message above the connection's size limit: the stream cannot be resumed mid-frame.
    TooLarge,
    /// Connect or handshake failed or timed out.
    ConnectFailed,
    /// The feed asked for it (resubscription, shutdown).
    Requested,
}

/// Counters of one venue connection.
#[derive(Debug, Default)]
pub struct ConnTelemetry {
    /// [`ConnState`] as a gauge (see [`ConnTelemetry::state`]).
    pub state_gauge: Counter,
    /// Connection attempts started.
    pub attempts: Counter,
    /// Connections opened (handshake complete).
    pub opened: Counter,
    /// Opens after the first: reconnects.
    pub reconnects: Counter,
    /// Attempts that failed before opening (refused, timed out, handshake rejected).
    pub connect_failures: Counter,
    /// Attempts deferred by the connection rate limit.
    pub rate_limited: Counter,
    /// Open connections dropped for silence.
    pub stale: Counter,
    /// Planned rotations.
    pub rotations: Counter,
    /// Closes by the venue.
    pub remote_closes: Counter,
    /// Socket/TLS errors on an open connection.
    pub io_errors: Counter,
    /// WebSocket protocol errors.
    pub protocol_errors: Counter,
    /// Messages over the connection's size limit (each also a reconnect).
    pub too_large: Counter,
    /// WebSocket messages received, data and control.
    pub messages: Counter,
    /// Payload bytes of those messages.
    pub bytes: Counter,
    /// Pings received (each answered with a pong; tungstenite coalesces a burst to the last).
    pub pings_received: Counter,
    /// Pings we sent (a WebSocket ping frame or the venue's text ping).
    pub pings_sent: Counter,
    /// Pongs received.
    pub pongs_received: Counter,
    /// Text messages we sent (subscriptions, text pings).
    pub sent: Counter,
    /// Receive time of the last frame, ns since the epoch (0 = none yet).
    pub last_frame_ns: Counter,
    /// When the current connection opened, ns since the epoch (0 = not open).
    pub opened_at_ns: Counter,
}

impl ConnTelemetry {
    /// All zero.
    pub fn new() -> ConnTelemetry {
        ConnTelemetry::default()
    }

    /// The current state.
    pub fn state(&self) -> ConnState {
        ConnState::from_gauge(self.state_gauge.get())
    }

    /// Nanoseconds since the last frame at `now` (`None` before the first).
    pub fn last_frame_age(&self, now: Nanos) -> Option<u64> {
        match self.last_frame_ns.get() {
            0 => None,
            t => Some(now.since(Nanos(t as i64))),
        }
    }

    pub(crate) fn set_state(&self, s: ConnState) {
        self.state_gauge.set(s as u64);
    }

    pub(crate) fn count_close(&self, reason: CloseReason) {
        match reason {
            CloseReason::Stale => self.stale.inc(),
            CloseReason::Rotation => self.rotations.inc(),
            CloseReason::Remote => self.remote_closes.inc(),
            CloseReason::Io => self.io_errors.inc(),
            CloseReason::Protocol => self.protocol_errors.inc(),
            CloseReason::TooLarge => self.too_large.inc(),
            CloseReason::ConnectFailed => self.connect_failures.inc(),
            CloseReason::Requested => {}
        }
    }
}
