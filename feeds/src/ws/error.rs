//! Cold-path errors of the connection layer: a URL, a certificate file or a venue setting that
//! cannot work. Each names the setting at fault and what to do about it.

use std::path::PathBuf;

/// Why a connection or a venue feed could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// A URL that is not `ws://`, `wss://`, `http://` or `https://` with a host.
    #[error("url {url:?}: {reason} (expected e.g. `wss://stream.binance.com:9443`)")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A CA certificate file for `wss://`/`https://` could not be read or parsed.
    #[error("tls root certificate {path}: {reason} (give a PEM file of CA certificates)")]
    TlsRoots {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The TLS library refused the client configuration.
    #[error("tls configuration: {0}")]
    Tls(String),
    /// A venue setting outside what the venue allows.
    #[error("{venue} feed {feed:?}: {reason}")]
    Venue {
        /// Venue.
        venue: &'static str,
        /// Feed name.
        feed: String,
        /// What is wrong.
        reason: String,
    },
    /// The feed's handler could not be built (instrument table).
    #[error(transparent)]
    Handler(#[from] crate::Error),
    /// The capture file could not be created.
    #[error("capture {path}: {source} (check that the directory exists and is writable)")]
    Capture {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
