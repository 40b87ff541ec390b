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
    /// Pre-trade risk limits (`tickline_engine::risk::RiskConfig`). No limit has a default:
    /// one left out rejects every order that needs it.
    #[serde(default)]
    pub risk: tickline_engine::risk::RiskConfig,
    /// Rings (defaults documented in `tickline_engine::config::RingsConfig`).
    #[serde(default)]
    pub rings: RingsConfig,
    /// Thread layout (defaults documented in `tickline_engine::config::LayoutConfig`).
    #[serde(default)]
    pub layout: LayoutConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// The metrics and admin HTTP sidecar (defaults documented in
    /// `crate::admin::AdminConfig`; absent = no admin port).
    #[serde(default)]
    pub admin: crate::admin::AdminConfig,
    /// The journal (defaults documented in `crate::journal_sink::JournalSection`; absent =
    /// record nothing).
    #[serde(default)]
    pub journal: crate::journal_sink::JournalSection,
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
    /// File to append log lines to; absent = stderr. Default: absent.
    #[serde(default)]
    pub file: Option<String>,
    /// Lines the non-blocking writer buffers before it drops (or, with `lossy = false`,
    /// blocks the logging thread). Default 128000.
    #[serde(default = "LogConfig::default_buffered_lines")]
    pub buffered_lines: usize,
    /// Drop lines when the buffer is full instead of blocking the thread that logs.
    /// Default `true`: a slow disk must never stall the engine.
    #[serde(default = "LogConfig::default_lossy")]
    pub lossy: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: Self::default_level(),
            format: Self::default_format(),
            file: None,
            buffered_lines: Self::default_buffered_lines(),
            lossy: Self::default_lossy(),
        }
    }
}

impl LogConfig {
    fn default_level() -> String {
        "info".into()
    }
    fn default_format() -> String {
        "text".into()
    }
    fn default_buffered_lines() -> usize {
        128_000
    }
    fn default_lossy() -> bool {
        true
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
    /// A live Binance spot feed (see `crate::feed_config::BinanceFeedSettings`).
    Binance(crate::feed_config::BinanceFeedSettings),
    /// A live OKX feed (see `crate::feed_config::OkxFeedSettings`).
    Okx(crate::feed_config::OkxFeedSettings),
    /// A recorded Binance frame capture (`<recv_ns> <frame>` lines, gzip or plain) replayed
    /// through the Binance handler, as fast as the pipeline takes it or at `rate` frames a
    /// second; the feed finishes at the end of the file.
    Capture {
        /// Feed name (unique).
        name: String,
        /// Capture file; a relative path is taken from the current directory.
        path: String,
        /// The `binance` instrument whose book the capture's REST snapshot lines load; may be
        /// left out when `instruments` has one `binance` instrument.
        #[serde(default)]
        snapshot_symbol: Option<String>,
        /// Frames per second, open-loop: frame `k` is due at `start + k / rate` and its ticks
        /// are stamped with that time. Default 0: as fast as the pipeline takes them.
        #[serde(default)]
        rate: u64,
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
            FeedConfig::Binance(s) => &s.name,
            FeedConfig::Okx(s) => &s.name,
            FeedConfig::Capture { name, .. } => name,
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
    /// Two-sided quotes around mid or microprice with inventory skew
    /// (`tickline_strategies::market_maker`).
    MarketMaker {
        /// Strategy name (unique).
        name: String,
        /// Symbol quoted.
        instrument: String,
        /// `mid` or `microprice`. Default `mid`.
        #[serde(default = "default_fair")]
        fair: String,
        /// Distance of each quote from the fair value, decimal price.
        half_spread: Decimal,
        /// Quote size, decimal (on the lot grid).
        qty: Decimal,
        /// Quote shift per `qty` of inventory, decimal price. Default "0".
        #[serde(default)]
        skew: Decimal,
        /// Largest absolute position it quotes into, decimal.
        max_position: Decimal,
        /// Target move that triggers a cancel/replace, decimal price.
        requote: Decimal,
    },
    /// EMA crossover entries with stop-loss and take-profit exits
    /// (`tickline_strategies::momentum`).
    Momentum {
        /// Strategy name (unique).
        name: String,
        /// Symbol traded.
        instrument: String,
        /// Fast EMA period, quotes.
        fast: u32,
        /// Slow EMA period, quotes (> fast).
        slow: u32,
        /// Entry size, decimal.
        qty: Decimal,
        /// Stop-loss distance from the entry price, decimal ("0" = off).
        stop_loss: Decimal,
        /// Take-profit distance from the entry price, decimal ("0" = off).
        take_profit: Decimal,
    },
    /// Mean reversion on the spread `mid(leg_a) − mid(leg_b)` (`tickline_strategies::spread`).
    Spread {
        /// Strategy name (unique).
        name: String,
        /// First leg's symbol.
        leg_a: String,
        /// Second leg's symbol.
        leg_b: String,
        /// EMA period of the spread's mean, spreads.
        window: u32,
        /// Deviation from the mean that opens a position, decimal price.
        entry: Decimal,
        /// Deviation within which a position is closed, decimal price (< entry).
        exit: Decimal,
        /// Size on leg a, decimal.
        qty_a: Decimal,
        /// Size on leg b, decimal.
        qty_b: Decimal,
    },
}

fn default_fair() -> String {
    "mid".into()
}

impl StrategyConfig {
    /// The `kind` as written in the config.
    pub fn kind(&self) -> &'static str {
        match self {
            StrategyConfig::Threshold { .. } => "threshold",
            StrategyConfig::MarketMaker { .. } => "market-maker",
            StrategyConfig::Momentum { .. } => "momentum",
            StrategyConfig::Spread { .. } => "spread",
        }
    }

    /// The symbol it trades (a spread's first leg).
    pub fn instrument(&self) -> &str {
        match self {
            StrategyConfig::Threshold { instrument, .. }
            | StrategyConfig::MarketMaker { instrument, .. }
            | StrategyConfig::Momentum { instrument, .. } => instrument,
            StrategyConfig::Spread { leg_a, .. } => leg_a,
        }
    }

    /// Strategy name.
    pub fn name(&self) -> &str {
        match self {
            StrategyConfig::Threshold { name, .. }
            | StrategyConfig::MarketMaker { name, .. }
            | StrategyConfig::Momentum { name, .. }
            | StrategyConfig::Spread { name, .. } => name,
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
    /// The simulated exchange: price-time priority against the feed's book, queue position,
    /// fees, latency (keys and defaults in `tickline_gateway::config::SimSettings`).
    Sim(tickline_gateway::config::SimSettings),
    /// A FIX 4.4 initiator (keys and defaults in `tickline_gateway::config::FixSettings`).
    Fix(tickline_gateway::config::FixSettings),
}

impl GatewayConfig {
    /// Checks the venue's settings; the error names the key (`gateway.latency`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let named = |e: tickline_gateway::Error| match e {
            tickline_gateway::Error::Config { key, problem } => ConfigError::new(key, problem),
            other => ConfigError::new("gateway", other.to_string()),
        };
        match self {
            GatewayConfig::Instant { .. } => Ok(()),
            GatewayConfig::Sim(s) => s.to_config().map(drop).map_err(named),
            GatewayConfig::Fix(f) => f.to_config().map(drop).map_err(named),
        }
    }
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
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The config as written.
    pub config: Config,
    /// Instruments resolved from it.
    pub registry: InstrumentRegistry,
    /// `run.duration`, parsed.
    pub duration: Option<Duration>,
    /// Where it came from.
    pub origin: String,
    /// The file it was read from (`None` for the embedded default): SIGHUP re-reads it.
    pub path: Option<std::path::PathBuf>,
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
        let mut loaded = Config::parse(&text, &origin)?;
        loaded.path = path.map(Path::to_path_buf);
        Ok(loaded)
    }

    /// Parses and validates config text.
    pub fn parse(text: &str, origin: &str) -> Result<Loaded, LoadError> {
        let config: Config = toml::from_str(text)
            .map_err(|e| LoadError::Parse { origin: origin.to_owned(), message: e.to_string() })?;
        config.into_loaded(origin)
    }

    /// Validates a config built or edited in code (a harness overriding a loaded one) as
    /// [`Config::parse`] validates text.
    pub fn into_loaded(self, origin: &str) -> Result<Loaded, LoadError> {
        let invalid = |error| LoadError::Invalid { origin: origin.to_owned(), error };
        let (registry, duration) = self.validate().map_err(invalid)?;
        Ok(Loaded { config: self, registry, duration, origin: origin.to_owned(), path: None })
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
                FeedConfig::Binance(s) => s.validate(i, &registry)?,
                FeedConfig::Okx(s) => s.validate(i, &registry)?,
                FeedConfig::Capture { path, snapshot_symbol, .. } => {
                    if path.is_empty() {
                        return Err(ConfigError::new(format!("feeds[{i}].path"), "empty path"));
                    }
                    let binance: Vec<_> =
                        registry.iter().filter(|x| x.venue == "binance").collect();
                    let known = match snapshot_symbol {
                        Some(sym) => binance.iter().any(|x| &x.symbol == sym),
                        None => binance.len() == 1,
                    };
                    if !known {
                        return Err(ConfigError::new(
                            format!("feeds[{i}].snapshot_symbol"),
                            "name the binance instrument (venue = \"binance\") whose book the capture's REST snapshots load",
                        ));
                    }
                }
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
                other => {
                    crate::wiring::strategy(i, other, &registry)?;
                }
            }
        }
        self.risk.resolve(&registry)?;
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
        if !(1..=10_000_000).contains(&self.log.buffered_lines) {
            return Err(ConfigError::new("log.buffered_lines", "must be 1 to 10000000"));
        }
        if self.log.file.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::new("log.file", "empty path; leave it out to log to stderr"));
        }
        self.admin.resolve()?;
        self.journal.validate()?;
        self.gateway.validate()?;
        // The layout is resolved against this host's cores here, so an impossible layout
        // fails before anything starts.
        let feed_names: Vec<String> = self.feeds.iter().map(|f| f.name().to_owned()).collect();
        let plan = tickline_engine::runtime::resolve(
            &self.layout,
            &feed_names,
            &tickline_engine::runtime::available_cores(),
        )?;
        crate::wiring::check_sim_layout(&self.gateway, &self.layout, &plan)?;
        Ok((registry, duration))
    }
}

/// The journal directory the config records into, if journaling is enabled.
pub fn journal_dir(config: &Config) -> Option<std::path::PathBuf> {
    config.journal.enabled.then(|| config.journal.dir.clone())
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
    fn sim_and_fix_gateways_load_and_name_bad_keys() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for f in ["configs/sim.toml", "configs/fix-example.toml"] {
            let l = Config::load(Some(&root.join(f))).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(matches!(l.config.gateway, GatewayConfig::Sim(_) | GatewayConfig::Fix(_)));
        }
        let sim = std::fs::read_to_string(root.join("configs/sim.toml")).unwrap();
        let e = Config::parse(&sim.replace("latency = \"20us\"", "latency = \"soon\""), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("gateway.latency"), "{e}");
        let e = Config::parse(&sim.replace("depth = 32", "depth = 32\nbogus = 1"), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
        // The simulated exchange needs the strategy's ticks: an explicit layout that splits
        // them is refused; an automatic one is fused.
        let gw = Config::load(Some(&root.join("configs/sim.toml"))).unwrap().config.gateway;
        assert!(matches!(gw, GatewayConfig::Sim(_)));
        let wait = tickline_engine::ring::WaitStrategy::spin_yield();
        let split = tickline_engine::runtime::auto(1, &[0, 1, 2, 3, 4, 5, 6, 7], wait, false);
        use tickline_engine::runtime::StageRef::{Gateway, Strategy};
        assert_ne!(split.thread_of(Gateway), split.thread_of(Strategy));
        let explicit = LayoutConfig {
            mode: tickline_engine::config::LayoutMode::Explicit,
            ..LayoutConfig::default()
        };
        let e = crate::wiring::check_sim_layout(&gw, &explicit, &split).unwrap_err();
        assert!(e.to_string().contains("layout.threads"), "{e}");
        let mut fused = split.clone();
        crate::wiring::fuse_gateway_with_strategy(&mut fused);
        assert_eq!(fused.thread_of(Gateway), fused.thread_of(Strategy));
        assert!(fused.hot.iter().all(|t| !t.stages.is_empty()));
        assert!(crate::wiring::check_sim_layout(&gw, &explicit, &fused).is_ok());
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
