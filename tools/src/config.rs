//! The `tickline` config file: TOML, `deny_unknown_fields` everywhere, validated once by
//! [`Config::load`], then frozen. An invalid config is an error naming the key or file.

use std::path::Path;
use std::time::Duration;

use rust_decimal::Decimal;
use tickline_engine::config::{ConfigError, LayoutConfig, RingsConfig};
use tickline_engine::types::{InstrumentRegistry, InstrumentSpec};

/// The embedded default config (`configs/default.toml`).
pub const DEFAULT_CONFIG: &str = include_str!("../../configs/default.toml");

/// The whole config file.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Run settings.
    #[serde(default)]
    pub run: RunConfig,
    /// Instruments; their order gives their dense ids.
    pub instruments: Vec<InstrumentSpec>,
    /// Feeds; at least one.
    pub feeds: Vec<FeedConfig>,
    /// Strategies; their order gives their ids.
    #[serde(default)]
    pub strategies: Vec<StrategyConfig>,
    /// The venue adapter.
    pub gateway: GatewayConfig,
    /// Rings (defaults documented in `tickline_engine::config::RingsConfig`).
    #[serde(default)]
    pub rings: RingsConfig,
    /// Thread layout (defaults documented in `tickline_engine::config::LayoutConfig`).
    #[serde(default)]
    pub layout: LayoutConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

/// `[run]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Stop after this long (`"10s"`, `"500ms"`, `"2m"`); absent = until SIGINT/SIGTERM.
    #[serde(default)]
    pub duration: Option<String>,
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`. Default `info`.
    #[serde(default = "LogConfig::default_level")]
    pub level: String,
    /// `text` or `json`. Default `text`.
    #[serde(default = "LogConfig::default_format")]
    pub format: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: Self::default_level(), format: Self::default_format() }
    }
}

impl LogConfig {
    fn default_level() -> String {
        "info".into()
    }
    fn default_format() -> String {
        "text".into()
    }
}

/// `[[feeds]]`, by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FeedConfig {
    /// The seeded synthetic feed.
    Synthetic {
        /// Feed name (unique).
        name: String,
        /// Random seed. Default 1.
        #[serde(default = "default_seed")]
        seed: u64,
        /// Ticks per second over all its instruments; 0 = as fast as taken. Default 100000.
        #[serde(default = "default_rate")]
        rate: u64,
        /// A trade every this many steps (0 = no trades). Default 4.
        #[serde(default = "default_trade_every")]
        trade_every: u32,
        /// Stop after this many ticks (0 = never). Default 0.
        #[serde(default)]
        max_ticks: u64,
        /// Starting mid price of every instrument, decimal. Default "100".
        #[serde(default = "default_start_price")]
        start_price: Decimal,
        /// Symbols it quotes (venue `synthetic`... or any venue in `instruments`).
        instruments: Vec<String>,
    },
}

fn default_seed() -> u64 {
    1
}
fn default_rate() -> u64 {
    100_000
}
fn default_trade_every() -> u32 {
    4
}
fn default_start_price() -> Decimal {
    Decimal::from(100)
}

impl FeedConfig {
    /// Feed name.
    pub fn name(&self) -> &str {
        match self {
            FeedConfig::Synthetic { name, .. } => name,
        }
    }
}

/// `[[strategies]]`, by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StrategyConfig {
    /// The threshold strategy.
    Threshold {
        /// Strategy name (unique).
        name: String,
        /// Symbol traded.
        instrument: String,
        /// Mid move that triggers an order, decimal price.
        threshold: Decimal,
        /// Order size, decimal.
        qty: Decimal,
        /// Largest absolute position, decimal.
        max_position: Decimal,
    },
}

impl StrategyConfig {
    /// Strategy name.
    pub fn name(&self) -> &str {
        match self {
            StrategyConfig::Threshold { name, .. } => name,
        }
    }
}

/// `[gateway]`, by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GatewayConfig {
    /// The in-process venue that acknowledges and fills every order at its price.
    Instant {
        /// Venue name.
        name: String,
    },
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// Path given.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
    /// Not valid TOML or not the config's shape (unknown key, wrong type).
    #[error("config {origin}: {message}")]
    Parse {
        /// File or "embedded default".
        origin: String,
        /// The parser's message, with the key and line.
        message: String,
    },
    /// A value failed validation.
    #[error("config {origin}: {error}")]
    Invalid {
        /// File or "embedded default".
        origin: String,
        /// What and where.
        error: ConfigError,
    },
}

/// A loaded, validated config with what validation built.
#[derive(Debug)]
pub struct Loaded {
    /// The config as written.
    pub config: Config,
    /// Instruments resolved from it.
    pub registry: InstrumentRegistry,
    /// `run.duration`, parsed.
    pub duration: Option<Duration>,
    /// Where it came from.
    pub origin: String,
}

impl Config {
    /// Reads and validates `path`, or the embedded default when `None`.
    pub fn load(path: Option<&Path>) -> Result<Loaded, LoadError> {
        let (text, origin) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|source| LoadError::Read { path: p.display().to_string(), source })?;
                (text, p.display().to_string())
            }
            None => (DEFAULT_CONFIG.to_owned(), "embedded default".to_owned()),
        };
        Config::parse(&text, &origin)
    }

    /// Parses and validates config text.
    pub fn parse(text: &str, origin: &str) -> Result<Loaded, LoadError> {
        let config: Config = toml::from_str(text)
            .map_err(|e| LoadError::Parse { origin: origin.to_owned(), message: e.to_string() })?;
        let invalid = |error| LoadError::Invalid { origin: origin.to_owned(), error };
        let (registry, duration) = config.validate().map_err(invalid)?;
        Ok(Loaded { config, registry, duration, origin: origin.to_owned() })
    }

    fn validate(&self) -> Result<(InstrumentRegistry, Option<Duration>), ConfigError> {
        let registry = InstrumentRegistry::build(&self.instruments)
            .map_err(|e| ConfigError::new("instruments", e.to_string()))?;
        self.rings.validate()?;
        let duration = match &self.run.duration {
            Some(d) => Some(parse_duration(d).ok_or_else(|| {
                ConfigError::new(
                    "run.duration",
                    format!("{d:?} is not a duration like \"10s\", \"500ms\", \"2m\""),
                )
            })?),
            None => None,
        };
        if self.feeds.is_empty() {
            return Err(ConfigError::new("feeds", "at least one feed is needed"));
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, f) in self.feeds.iter().enumerate() {
            if names.contains(&f.name()) {
                return Err(ConfigError::new(
                    format!("feeds[{i}].name"),
                    format!("feed {:?} is declared twice", f.name()),
                ));
            }
            names.push(f.name());
            match f {
                FeedConfig::Synthetic { instruments, rate, start_price, .. } => {
                    if instruments.is_empty() {
                        return Err(ConfigError::new(
                            format!("feeds[{i}].instruments"),
                            "must name at least one instrument",
                        ));
                    }
                    for s in instruments {
                        if find_symbol(&registry, s).is_none() {
                            return Err(ConfigError::new(
                                format!("feeds[{i}].instruments"),
                                format!("unknown instrument {s:?}"),
                            ));
                        }
                    }
                    if *rate > 1_000_000_000 {
                        return Err(ConfigError::new(
                            format!("feeds[{i}].rate"),
                            "above 1e9 ticks per second",
                        ));
                    }
                    if *start_price <= Decimal::ZERO {
                        return Err(ConfigError::new(
                            format!("feeds[{i}].start_price"),
                            "must be positive",
                        ));
                    }
                }
            }
        }
        let mut snames: Vec<&str> = Vec::new();
        for (i, s) in self.strategies.iter().enumerate() {
            if snames.contains(&s.name()) {
                return Err(ConfigError::new(
                    format!("strategies[{i}].name"),
                    format!("strategy {:?} is declared twice", s.name()),
                ));
            }
            snames.push(s.name());
            match s {
                StrategyConfig::Threshold { instrument, threshold, qty, max_position, .. } => {
                    let key = |f: &str| format!("strategies[{i}].{f}");
                    let id = find_symbol(&registry, instrument).ok_or_else(|| {
                        ConfigError::new(
                            key("instrument"),
                            format!("unknown instrument {instrument:?}"),
                        )
                    })?;
                    let inst = registry
                        .get(id)
                        .ok_or_else(|| ConfigError::new(key("instrument"), "unknown"))?;
                    for (field, v, scale) in [
                        ("threshold", threshold, inst.price_scale),
                        ("qty", qty, inst.qty_scale),
                        ("max_position", max_position, inst.qty_scale),
                    ] {
                        let raw = tickline_engine::types::Px::from_decimal(*v, scale)
                            .map_err(|e| ConfigError::new(key(field), format!("{v}: {e}")))?;
                        if !raw.is_positive() {
                            return Err(ConfigError::new(
                                key(field),
                                format!("{v} must be positive"),
                            ));
                        }
                    }
                }
            }
        }
        if !["error", "warn", "info", "debug", "trace"].contains(&self.log.level.as_str()) {
            return Err(ConfigError::new(
                "log.level",
                format!("{:?}: use error, warn, info, debug or trace", self.log.level),
            ));
        }
        if !["text", "json"].contains(&self.log.format.as_str()) {
            return Err(ConfigError::new(
                "log.format",
                format!("{:?}: use text or json", self.log.format),
            ));
        }
        // The layout is resolved against this host's cores here, so an impossible layout
        // fails before anything starts.
        let feed_names: Vec<String> = self.feeds.iter().map(|f| f.name().to_owned()).collect();
        tickline_engine::runtime::resolve(
            &self.layout,
            &feed_names,
            &tickline_engine::runtime::available_cores(),
        )?;
        Ok((registry, duration))
    }
}

/// Finds an instrument by symbol (any venue; symbols are unique per venue, the first wins).
pub fn find_symbol(
    registry: &InstrumentRegistry,
    symbol: &str,
) -> Option<tickline_engine::types::InstrumentId> {
    registry.iter().find(|i| i.symbol == symbol).map(|i| i.id)
}

/// Parses `"10s"`, `"250ms"`, `"2m"`, `"1h"`, `"500us"`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "us" => Duration::from_micros(n),
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let l = Config::load(None).unwrap();
        assert_eq!(l.registry.len(), 3);
        assert_eq!(l.duration, Some(Duration::from_secs(10)));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("5d"), None);
    }

    fn with(edit: impl Fn(String) -> String) -> Result<Loaded, LoadError> {
        Config::parse(&edit(DEFAULT_CONFIG.to_owned()), "test")
    }

    #[test]
    fn invalid_configs_name_the_key() {
        let e = with(|s| s.replace("[run]", "[run]\nbogus = 1")).unwrap_err().to_string();
        assert!(e.contains("unknown field `bogus`"), "{e}");
        let e = with(|s| {
            s.replace(
                "capacity = 4096, policy = \"conflate\"",
                "capacity = 1000, policy = \"conflate\"",
            )
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("rings.ticks.capacity") && e.contains("not a power of two"), "{e}");
        let e = with(|s| {
            s.replace(
                "orders = { capacity = 1024, policy = \"block\" }",
                "orders = { capacity = 1024, policy = \"drop-oldest\" }",
            )
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("rings.orders.policy"), "{e}");
        let e = with(|s| s.replace("symbol = \"SYN-B\"", "symbol = \"SYN-A\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("synthetic:SYN-A is declared twice"), "{e}");
        let e = with(|s| s.replace("instrument = \"SYN-A\"", "instrument = \"NOPE\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("strategies[0].instrument") && e.contains("NOPE"), "{e}");
        let e = with(|s| s.replace("threshold = \"0.05\"", "threshold = \"0.055\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("strategies[0].threshold"), "{e}");
        let e = with(|s| s.replace("duration = \"10s\"", "duration = \"ten\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("run.duration"), "{e}");
        let e = with(|s| {
            let head = s.split("[layout]").next().unwrap_or_default().to_owned();
            head + "[layout]\nmode = \"explicit\"\n[[layout.threads]]\nname = \"hot\"\nstages = [\"feeds\", \"strategy\", \"risk\", \"gateway\"]\ncore = 4096\n"
        })
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("layout.threads[0].core") && e.contains("core 4096 is not available"),
            "{e}"
        );
        let e =
            Config::load(Some(Path::new("/nonexistent/tickline.toml"))).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/tickline.toml"), "{e}");
    }
}
