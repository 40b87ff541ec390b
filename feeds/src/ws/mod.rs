//! Venue connections: WebSocket sessions and REST requests on non-blocking sockets.
//!
//! Everything here runs on the feed thread that owns the connection and never blocks it:
//! sockets are non-blocking `mio` `TcpStream`s, `wss://`/`https://` go through rustls
//! ([`tls`]), host names resolve on a helper thread ([`resolve`]), and each call does what the
//! socket allows now and returns. [`WsSession`] keeps one WebSocket open (stale detection,
//! reconnects with backoff and jitter, rotation, a connection rate limit, pings);
//! [`HttpGet`] fetches a REST snapshot. The venue feeds
//! ([`crate::venue::binance::connection`], [`crate::venue::okx::connection`]) build on both.

pub mod backoff;
pub mod config;
pub mod error;
pub mod http;
pub mod resolve;
pub mod session;
pub mod telemetry;
pub mod tls;
pub mod url;

pub use backoff::{Backoff, RateWindow};
pub use config::ConnectionConfig;
pub use error::ConnectionError;
pub use http::{HttpError, HttpGet, HttpPoll, HttpResponse};
pub use session::{ClientPing, SessionEvent, WsSession};
pub use telemetry::{CloseReason, ConnState, ConnTelemetry};
pub use url::Endpoint;
