//! `[[feeds]]` tables of the live venue feeds (`kind = "binance"`, `kind = "okx"`): what an
//! operator writes, validated once and turned into the feeds crate's settings.
//!
//! ```toml
//! [[feeds]]
//! kind = "binance"
//! name = "binance"
//! symbols = ["BTCUSDT"]
//! url = "wss://stream.binance.com:9443"      # default
//! rest_url = "https://api.binance.com"      # default
//! stale_ms = 30000                           # reconnect after this much silence
//! backoff_min_ms = 250
//! backoff_max_ms = 30000
//! price_band_bps = 500                       # OUT_OF_BAND beyond 5 % of the last good price
//! book_stale_ms = 5000                       # STALE after this much silence per instrument
//! capture = "capture/binance.gz"             # record every frame (optional)
//! ```

use std::path::PathBuf;
use std::time::Duration;

use tickline_engine::config::ConfigError;
use tickline_engine::types::InstrumentRegistry;
use tickline_feeds::capture_writer::CaptureConfig;
use tickline_feeds::reasonability::ReasonabilityConfig;
use tickline_feeds::venue::binance::connection::{BinanceFeedConfig, DEFAULT_CHANNELS};
use tickline_feeds::venue::okx::connection::{OkxFeedConfig, DEFAULT_OKX_CHANNELS};
use tickline_feeds::ws::ConnectionConfig;

fn default_binance_url() -> String {
    "wss://stream.binance.com:9443".into()
}
fn default_binance_rest_url() -> String {
    "https://api.binance.com".into()
}
fn default_okx_url() -> String {
    "wss://ws.okx.com:8443/ws/v5/public".into()
}
fn default_binance_channels() -> Vec<String> {
    DEFAULT_CHANNELS.iter().map(|s| (*s).to_owned()).collect()
}
fn default_okx_channels() -> Vec<String> {
    DEFAULT_OKX_CHANNELS.iter().map(|s| (*s).to_owned()).collect()
}
fn default_stale_ms() -> u64 {
    30_000
}
fn default_backoff_min_ms() -> u64 {
    250
}
fn default_backoff_max_ms() -> u64 {
    30_000
}
fn default_band_bps() -> u32 {
    tickline_feeds::reasonability::DEFAULT_BAND_BPS
}
fn default_book_stale_ms() -> u64 {
    5_000
}
fn default_rotate_after_s() -> u64 {
    23 * 3600
}
fn default_ping_after_ms() -> u64 {
    20_000
}
fn default_max_frame_bytes() -> usize {
    1 << 20
}

/// `[[feeds]] kind = "binance"`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BinanceFeedSettings {
    /// Feed name (unique).
    pub name: String,
    /// WebSocket base URL. Default `wss://stream.binance.com:9443`.
    #[serde(default = "default_binance_url")]
    pub url: String,
    /// REST base URL for depth snapshots. Default `https://api.binance.com`.
    #[serde(default = "default_binance_rest_url")]
    pub rest_url: String,
    /// Symbols (each a `binance` instrument).
    pub symbols: Vec<String>,
    /// Streams per symbol. Default `["bookTicker", "trade", "depth@100ms"]`.
    #[serde(default = "default_binance_channels")]
    pub channels: Vec<String>,
    /// Reconnect after this much silence, ms. Default 30000.
    #[serde(default = "default_stale_ms")]
    pub stale_ms: u64,
    /// First reconnect delay, ms (doubles per failure, with jitter). Default 250.
    #[serde(default = "default_backoff_min_ms")]
    pub backoff_min_ms: u64,
    /// Longest reconnect delay, ms. Default 30000.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// Planned reconnect after this many seconds (before the venue's 24 h cut). Default 82800.
    #[serde(default = "default_rotate_after_s")]
    pub rotate_after_s: u64,
    /// Price band around the last good price, basis points (0 = off). Default 500.
    #[serde(default = "default_band_bps")]
    pub price_band_bps: u32,
    /// Per-instrument silence before its last quote is re-sent as STALE, ms (0 = off).
    /// Default 5000.
    #[serde(default = "default_book_stale_ms")]
    pub book_stale_ms: u64,
    /// Largest frame the decoder accepts, bytes. Default 1048576.
    #[serde(default = "default_max_frame_bytes")]
    pub max_frame_bytes: usize,
    /// Record every received frame to this file (gzip if it ends in `.gz`). Default: none.
    #[serde(default)]
    pub capture: Option<PathBuf>,
    /// Extra CA certificates (PEM) for wss/https. Default: none.
    #[serde(default)]
    pub tls_roots: Vec<PathBuf>,
}

/// `[[feeds]] kind = "okx"`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OkxFeedSettings {
    /// Feed name (unique).
    pub name: String,
    /// Public WebSocket URL. Default `wss://ws.okx.com:8443/ws/v5/public`.
    #[serde(default = "default_okx_url")]
    pub url: String,
    /// `instId`s (each an `okx` instrument).
    pub symbols: Vec<String>,
    /// Channels per instrument. Default `["books", "bbo-tbt", "trades"]`.
    #[serde(default = "default_okx_channels")]
    pub channels: Vec<String>,
    /// Reconnect after this much silence, ms. Default 30000.
    #[serde(default = "default_stale_ms")]
    pub stale_ms: u64,
    /// Send `ping` after this much silence, ms. Default 20000.
    #[serde(default = "default_ping_after_ms")]
    pub ping_after_ms: u64,
    /// First reconnect delay, ms. Default 250.
    #[serde(default = "default_backoff_min_ms")]
    pub backoff_min_ms: u64,
    /// Longest reconnect delay, ms. Default 30000.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// Planned reconnect after this many seconds. Default 82800.
    #[serde(default = "default_rotate_after_s")]
    pub rotate_after_s: u64,
    /// Price band, basis points (0 = off). Default 500.
    #[serde(default = "default_band_bps")]
    pub price_band_bps: u32,
    /// Per-instrument silence before STALE, ms (0 = off). Default 5000.
    #[serde(default = "default_book_stale_ms")]
    pub book_stale_ms: u64,
    /// Largest frame the decoder accepts, bytes. Default 1048576.
    #[serde(default = "default_max_frame_bytes")]
    pub max_frame_bytes: usize,
    /// Record every received frame here. Default: none.
    #[serde(default)]
    pub capture: Option<PathBuf>,
    /// Extra CA certificates (PEM) for wss. Default: none.
    #[serde(default)]
    pub tls_roots: Vec<PathBuf>,
}

struct Common<'a> {
    i: usize,
    venue: &'static str,
    symbols: &'a [String],
    stale_ms: u64,
    backoff: (u64, u64),
    rotate_after_s: u64,
    max_frame_bytes: usize,
}

impl Common<'_> {
    fn validate(&self, registry: &InstrumentRegistry) -> Result<(), ConfigError> {
        let key = |f: &str| format!("feeds[{}].{f}", self.i);
        if self.symbols.is_empty() {
            return Err(ConfigError::new(key("symbols"), "must name at least one instrument"));
        }
        for s in self.symbols {
            if registry.lookup(self.venue, s).is_none() {
                return Err(ConfigError::new(
                    key("symbols"),
                    format!("{s:?} is not an instrument of venue {:?}", self.venue),
                ));
            }
        }
        if self.stale_ms < 100 {
            return Err(ConfigError::new(key("stale_ms"), "below 100 ms every venue looks stale"));
        }
        if self.backoff.0 == 0 || self.backoff.0 > self.backoff.1 {
            return Err(ConfigError::new(
                key("backoff_min_ms"),
                "must be > 0 and at most backoff_max_ms",
            ));
        }
        if self.rotate_after_s == 0 || self.rotate_after_s > 24 * 3600 {
            return Err(ConfigError::new(
                key("rotate_after_s"),
                "must be 1 to 86400: the venues cut connections at 24 h",
            ));
        }
        if self.max_frame_bytes < 1024 {
            return Err(ConfigError::new(key("max_frame_bytes"), "must be at least 1024"));
        }
        Ok(())
    }

    fn connection(&self, base: ConnectionConfig, tls_roots: &[PathBuf]) -> ConnectionConfig {
        ConnectionConfig {
            stale_after: Duration::from_millis(self.stale_ms),
            backoff_min: Duration::from_millis(self.backoff.0),
            backoff_max: Duration::from_millis(self.backoff.1),
            rotate_after: Duration::from_secs(self.rotate_after_s),
            tls_roots: tls_roots.to_vec(),
            ..base
        }
    }
}

fn url_ok(i: usize, field: &str, url: &str, websocket: bool) -> Result<(), ConfigError> {
    let key = format!("feeds[{i}].{field}");
    let e = tickline_feeds::ws::Endpoint::parse(url)
        .map_err(|e| ConfigError::new(&key, e.to_string()))?;
    if e.websocket != websocket {
        let want = if websocket { "ws:// or wss://" } else { "http:// or https://" };
        return Err(ConfigError::new(key, format!("{url:?} must be {want}")));
    }
    Ok(())
}

impl BinanceFeedSettings {
    fn common(&self, i: usize) -> Common<'_> {
        Common {
            i,
            venue: "binance",
            symbols: &self.symbols,
            stale_ms: self.stale_ms,
            backoff: (self.backoff_min_ms, self.backoff_max_ms),
            rotate_after_s: self.rotate_after_s,
            max_frame_bytes: self.max_frame_bytes,
        }
    }

    /// Checks the table (feed index `i` names it in errors).
    pub fn validate(&self, i: usize, registry: &InstrumentRegistry) -> Result<(), ConfigError> {
        self.common(i).validate(registry)?;
        url_ok(i, "url", &self.url, true)?;
        url_ok(i, "rest_url", &self.rest_url, false)?;
        if self.channels.is_empty() {
            return Err(ConfigError::new(format!("feeds[{i}].channels"), "must not be empty"));
        }
        Ok(())
    }

    /// The feeds crate's settings.
    pub fn to_feed_config(&self) -> BinanceFeedConfig {
        let symbols: Vec<&str> = self.symbols.iter().map(String::as_str).collect();
        let mut c = BinanceFeedConfig::new(&self.name, &symbols);
        c.ws_url = self.url.clone();
        c.rest_url = self.rest_url.clone();
        c.channels = self.channels.clone();
        c.connection = self.common(0).connection(c.connection, &self.tls_roots);
        c.handler.max_frame_bytes = self.max_frame_bytes;
        c.reasonability = ReasonabilityConfig {
            stale_after: Duration::from_millis(self.book_stale_ms),
            band_bps: self.price_band_bps,
            ..ReasonabilityConfig::default()
        };
        c.capture = self.capture.clone().map(|path| CaptureConfig { path, gzip: None });
        c
    }
}

impl OkxFeedSettings {
    fn common(&self, i: usize) -> Common<'_> {
        Common {
            i,
            venue: "okx",
            symbols: &self.symbols,
            stale_ms: self.stale_ms,
            backoff: (self.backoff_min_ms, self.backoff_max_ms),
            rotate_after_s: self.rotate_after_s,
            max_frame_bytes: self.max_frame_bytes,
        }
    }

    /// Checks the table (feed index `i` names it in errors).
    pub fn validate(&self, i: usize, registry: &InstrumentRegistry) -> Result<(), ConfigError> {
        self.common(i).validate(registry)?;
        url_ok(i, "url", &self.url, true)?;
        if self.ping_after_ms == 0 || self.ping_after_ms >= self.stale_ms {
            return Err(ConfigError::new(
                format!("feeds[{i}].ping_after_ms"),
                "must be > 0 and below stale_ms",
            ));
        }
        if self.channels.is_empty() {
            return Err(ConfigError::new(format!("feeds[{i}].channels"), "must not be empty"));
        }
        Ok(())
    }

    /// The feeds crate's settings.
    pub fn to_feed_config(&self) -> OkxFeedConfig {
        let symbols: Vec<&str> = self.symbols.iter().map(String::as_str).collect();
        let mut c = OkxFeedConfig::new(&self.name, &symbols);
        c.url = self.url.clone();
        c.channels = self.channels.clone();
        c.connection = self.common(0).connection(c.connection, &self.tls_roots);
        c.connection.ping_after = Some(Duration::from_millis(self.ping_after_ms));
        c.handler.max_frame_bytes = self.max_frame_bytes;
        c.reasonability = ReasonabilityConfig {
            stale_after: Duration::from_millis(self.book_stale_ms),
            band_bps: self.price_band_bps,
            ..ReasonabilityConfig::default()
        };
        c.capture = self.capture.clone().map(|path| CaptureConfig { path, gzip: None });
        c
    }
}
