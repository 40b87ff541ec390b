//! Engine configuration: rings and thread layout. Parsed with `deny_unknown_fields`,
//! validated once by [`EngineConfig::validate`], then frozen.
//!
//! Every default is documented where it is defined.

use crate::ring::{FullPolicy, WaitStrategy};

/// One ring's size and full policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RingConfig {
    /// Slots; a power of two.
    pub capacity: usize,
    /// What the producer does when the ring is full.
    pub policy: FullPolicy,
}

/// The rings between stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RingsConfig {
    /// Feed thread → strategy thread. Default 4096 slots, `conflate` (latest tick per
    /// instrument survives a stalled strategy).
    #[serde(default = "RingsConfig::default_ticks")]
    pub ticks: RingConfig,
    /// Strategy/risk thread → gateway thread. Default 1024, `block` (must be `block`).
    #[serde(default = "RingsConfig::default_orders")]
    pub orders: RingConfig,
    /// Gateway thread → strategy/risk thread. Default 4096, `block` (must be `block`).
    #[serde(default = "RingsConfig::default_exec")]
    pub exec: RingConfig,
    /// Each hot thread → the journal thread. Default 65536, `block` (must be `block`: the
    /// journal records everything).
    #[serde(default = "RingsConfig::default_records")]
    pub records: RingConfig,
}

impl Default for RingsConfig {
    fn default() -> Self {
        RingsConfig {
            ticks: Self::default_ticks(),
            orders: Self::default_orders(),
            exec: Self::default_exec(),
            records: Self::default_records(),
        }
    }
}

impl RingsConfig {
    fn default_ticks() -> RingConfig {
        RingConfig { capacity: 4096, policy: FullPolicy::Conflate }
    }
    fn default_orders() -> RingConfig {
        RingConfig { capacity: 1024, policy: FullPolicy::Block }
    }
    fn default_exec() -> RingConfig {
        RingConfig { capacity: 4096, policy: FullPolicy::Block }
    }
    fn default_records() -> RingConfig {
        RingConfig { capacity: 65_536, policy: FullPolicy::Block }
    }

    /// Checks sizes and that never-drop rings are declared `block`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let rings = [
            ("ticks", self.ticks, false),
            ("orders", self.orders, true),
            ("exec", self.exec, true),
            ("records", self.records, true),
        ];
        for (name, ring, never_drop) in rings {
            if ring.capacity < 2 || !ring.capacity.is_power_of_two() {
                return Err(ConfigError::new(
                    format!("rings.{name}.capacity"),
                    format!("{} is not a power of two (>= 2)", ring.capacity),
                ));
            }
            if never_drop && ring.policy != FullPolicy::Block {
                return Err(ConfigError::new(
                    format!("rings.{name}.policy"),
                    "orders, execution reports and journal records are never dropped: must be \"block\"",
                ));
            }
        }
        Ok(())
    }
}

/// How stages map to threads and cores.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutConfig {
    /// `auto` (from the cores present) or `explicit` (the `threads` list). Default `auto`.
    #[serde(default = "LayoutConfig::default_mode")]
    pub mode: LayoutMode,
    /// Wait strategy of hot threads in `auto` mode: `busy-spin`, `spin-yield` or `park`.
    /// Default `spin-yield` (safe on shared machines; production hosts use `busy-spin`).
    #[serde(default = "LayoutConfig::default_wait")]
    pub wait: String,
    /// Pin threads to cores in `auto` mode. Default `true`.
    #[serde(default = "LayoutConfig::default_pin")]
    pub pin: bool,
    /// Hot threads, `explicit` mode only.
    #[serde(default)]
    pub threads: Vec<ThreadConfig>,
    /// The auxiliary thread (journal recorder), `explicit` mode only.
    #[serde(default)]
    pub aux: Option<AuxConfig>,
}

impl Default for LayoutConfig {
    fn default() -> Self {
        LayoutConfig {
            mode: Self::default_mode(),
            wait: Self::default_wait(),
            pin: Self::default_pin(),
            threads: Vec::new(),
            aux: None,
        }
    }
}

impl LayoutConfig {
    fn default_mode() -> LayoutMode {
        LayoutMode::Auto
    }
    fn default_wait() -> String {
        "spin-yield".into()
    }
    fn default_pin() -> bool {
        true
    }
}

/// Layout mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayoutMode {
    /// Derived from the cores present.
    Auto,
    /// As listed in `threads`.
    Explicit,
}

/// One hot thread of an explicit layout.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadConfig {
    /// Thread name (shows in `top -H`, telemetry and errors).
    pub name: String,
    /// Stages it runs, fused in pipeline order: `feeds` (all feeds), `feed:NAME`,
    /// `strategy`, `risk`, `gateway`.
    pub stages: Vec<String>,
    /// Core to pin to; must exist on the host. Unpinned when absent.
    #[serde(default)]
    pub core: Option<usize>,
    /// Wait strategy. Default `spin-yield`.
    #[serde(default = "LayoutConfig::default_wait")]
    pub wait: String,
}

/// The auxiliary thread of an explicit layout.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuxConfig {
    /// Core to pin to; must exist on the host. Unpinned when absent.
    #[serde(default)]
    pub core: Option<usize>,
    /// Wait strategy. Default `park`.
    #[serde(default = "AuxConfig::default_wait")]
    pub wait: String,
}

impl AuxConfig {
    fn default_wait() -> String {
        "park".into()
    }
}

/// Parses a wait strategy name at `key`.
pub fn parse_wait(key: &str, name: &str) -> Result<WaitStrategy, ConfigError> {
    WaitStrategy::from_name(name).ok_or_else(|| {
        ConfigError::new(
            key,
            format!("unknown wait strategy {name:?}; use busy-spin, spin-yield or park"),
        )
    })
}

/// Engine sections of the config.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Ring sizes and policies.
    #[serde(default)]
    pub rings: RingsConfig,
    /// Thread layout.
    #[serde(default)]
    pub layout: LayoutConfig,
}

/// A config value that failed validation: names the key and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {problem}")]
pub struct ConfigError {
    /// Dotted key path, e.g. `rings.ticks.capacity`.
    pub key: String,
    /// What is wrong and what to do.
    pub problem: String,
}

impl ConfigError {
    /// An error at `key`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
        ConfigError { key: key.into(), problem: problem.into() }
    }
}
