//! Settings of one venue connection; every default is a named constant documented here.

use std::path::PathBuf;
use std::time::Duration;

/// Default staleness limit: no frame (data or control) for this long and the connection is
/// dropped and reopened. Binance pings every 20 s and trades stream continuously; OKX asks
/// clients to ping after 30 s of silence, which [`DEFAULT_PING_AFTER`] does first.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);
/// Default first reconnect delay.
pub const DEFAULT_BACKOFF_MIN: Duration = Duration::from_millis(250);
/// Default longest reconnect delay.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Default limit on TCP connect + TLS + WebSocket handshake.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default connection lifetime before a planned reconnect: Binance and OKX cut connections
/// at 24 h, so rotate an hour earlier, at a moment of our choosing.
pub const DEFAULT_ROTATE_AFTER: Duration = Duration::from_secs(23 * 3600);
/// Default idle time after which the client sends its own ping.
pub const DEFAULT_PING_AFTER: Duration = Duration::from_secs(20);
/// Default largest WebSocket message accepted whole. Above the decoders' limits on purpose:
/// a frame between the two is read and rejected by the decoder (counted `too_large`) while the
/// connection stays up; only a frame past this one breaks the stream (counted and reconnected).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 << 20;

/// How a connection is kept alive, paced and limited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Silence (no frame at all) after which the connection is reopened
    /// ([`DEFAULT_STALE_AFTER`]).
    pub stale_after: Duration,
    /// First reconnect delay ([`DEFAULT_BACKOFF_MIN`]).
    pub backoff_min: Duration,
    /// Longest reconnect delay ([`DEFAULT_BACKOFF_MAX`]).
    pub backoff_max: Duration,
    /// Handshake limit ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// Planned reconnect after this long ([`DEFAULT_ROTATE_AFTER`]).
    pub rotate_after: Duration,
    /// Send a client ping after this much silence; `None` = never (the venue pings us).
    pub ping_after: Option<Duration>,
    /// Connection attempts allowed per [`ConnectionConfig::connect_window`] (the venue's
    /// per-IP connection rate limit; 0 = unlimited).
    pub max_connects: u32,
    /// The window of [`ConnectionConfig::max_connects`].
    pub connect_window: Duration,
    /// Largest WebSocket message ([`DEFAULT_MAX_MESSAGE_BYTES`]).
    pub max_message_bytes: usize,
    /// Extra CA certificates (PEM) trusted for `wss://`/`https://` beside the built-in web
    /// roots: a venue's test host or a local simulator with its own certificate.
    pub tls_roots: Vec<PathBuf>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            stale_after: DEFAULT_STALE_AFTER,
            backoff_min: DEFAULT_BACKOFF_MIN,
            backoff_max: DEFAULT_BACKOFF_MAX,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            rotate_after: DEFAULT_ROTATE_AFTER,
            ping_after: None,
            max_connects: 0,
            connect_window: Duration::from_secs(1),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            tls_roots: Vec::new(),
        }
    }
}
