//! The end-to-end pipeline harness: tickline's real pipeline, built from a config by the same
//! wiring `tickline run` uses, driven by an open-loop load, measured beside the same stages
//! joined by blocking channels, in one run. `src/bin/pipeline_harness.rs` is its command line.
//!
//! # What is measured
//!
//! Every contender runs the same stages, built from the same config: the feeds (by default the
//! seeded synthetic feed of `configs/bench.toml`), the strategies, the pre-trade risk stage,
//! the venue adapter, and (with the journal on) the memory-mapped journal written by a
//! recorder thread. Only the joints differ:
//!
//! - **tickline**: the pipeline `tickline run` starts (`tickline_tools::wiring::build` and
//!   `Pipeline::start`), in the layout asked for: `fused` (feeds, strategy, risk and gateway on
//!   one pinned thread, records on a ring to the recorder) or `split` (a thread per stage,
//!   joined by tickline's rings).
//! - **crossbeam-channel** and **std-mpsc**: what a user would otherwise build: a thread per
//!   stage (feeds, strategy with risk, gateway, recorder) joined by bounded channels with
//!   blocking receives, pinned as tickline's `split` layout is. A channel pipeline has no fused
//!   form (fusing its stages removes its channels), so the baselines always run staged.
//!
//! **Tick-to-order latency** runs from the tick's receive stamp to the clock read at which the
//! gateway takes the approved order. The load is open-loop: at a set rate tick `k` is due at
//! `start + k / rate` and is stamped with that due time, not with the time the feed got round
//! to it, so a pipeline that falls behind shows the delay (coordinated omission corrected).
//! A run warms up first; percentiles, throughput, drops and allocations cover the measured
//! window only.
//!
//! **Phases**: `latency` offers the configured rate; `throughput` offers as many ticks as the
//! pipeline takes (rate 0) and reports ticks handled by the strategy stage per second.
//!
//! **Allocations per tick** are every allocation the process made in the window (all threads;
//! the harness's own thread sleeps through it) divided by the ticks handled; the binary
//! installs the workspace's counting allocator.

mod baseline;
mod floor;
pub mod goals;
mod ours;
pub mod plot;
pub mod report;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;
use tickline_engine::config::{AuxConfig, LayoutConfig, LayoutMode, ThreadConfig};
use tickline_tools::config::{Config, FeedConfig, Loaded};

pub use report::Report;

/// The harness's default config: the synthetic feed, the threshold strategy on three
/// instruments, limits wide enough for a few thousand orders a second, the instant venue.
pub const BENCH_CONFIG: &str = include_str!("../../../configs/bench.toml");

/// How tickline's stages are placed on threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Every hot stage on one thread; the recorder on another.
    Fused,
    /// A thread per stage: feeds, strategy with risk, gateway; and the recorder.
    Split,
}

impl Layout {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Fused => "fused",
            Layout::Split => "split",
        }
    }
}

/// What joins the stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Contender {
    /// tickline's pipeline: direct calls within a thread, tickline's rings between threads.
    Tickline,
    /// A thread per stage joined by bounded `crossbeam_channel`s, blocking receives.
    CrossbeamChannel,
    /// A thread per stage joined by `std::sync::mpsc::sync_channel`s, blocking receives.
    StdMpsc,
    /// No pipeline: a pinned thread taking the latency phase's schedule and doing nothing
    /// else, the host's floor (`floor.rs`). Latency phase only.
    Floor,
}

impl Contender {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Tickline => "tickline",
            Contender::CrossbeamChannel => "crossbeam-channel",
            Contender::StdMpsc => "std-mpsc",
            Contender::Floor => "floor",
        }
    }

    /// Whether it is one of the channel baselines.
    pub fn is_baseline(self) -> bool {
        matches!(self, Contender::CrossbeamChannel | Contender::StdMpsc)
    }
}

/// What load a run offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The configured rate, open-loop: latency under a known load.
    Latency,
    /// As fast as the pipeline takes ticks: throughput.
    Throughput,
}

impl Phase {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Latency => "latency",
            Phase::Throughput => "throughput",
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct HarnessConfig {
    /// The pipeline's config (its layout, admin and journal sections are overridden per run).
    pub config: Config,
    /// Where the config came from, for errors and the report.
    pub origin: String,
    /// tickline's layouts to run (the baselines run once per phase, staged).
    pub layouts: Vec<Layout>,
    /// Contenders to run.
    pub contenders: Vec<Contender>,
    /// Phases to run.
    pub phases: Vec<Phase>,
    /// Ticks per second offered by each synthetic feed (frames per second by each capture
    /// feed) in the latency phase.
    pub rate: u64,
    /// Untimed time at the start of each run.
    pub warmup: Duration,
    /// Measured time of each run.
    pub measure: Duration,
    /// Wait strategy of tickline's hot threads (`busy-spin`, `spin-yield`, `park`); the
    /// baselines' feed thread waits the same way for its next due tick.
    pub wait: String,
    /// Record into a journal (a fresh directory per run under `journal_root`).
    pub journal: bool,
    /// Where the runs' journals go.
    pub journal_root: PathBuf,
    /// Keep the journals after the run (they are removed by default: a throughput run writes
    /// hundreds of megabytes a second).
    pub keep_journal: bool,
    /// Times each phase's contenders run, one after another in every round, so that a host
    /// whose speed drifts during the harness run weighs on every contender alike. Ratios
    /// pair runs of the same round; the report gives their median and range.
    pub rounds: u32,
}

impl HarnessConfig {
    /// The embedded bench config, fused, every contender, both phases, journal on, 5 s per
    /// run after 1 s of warm-up, at the config's own rate.
    pub fn new() -> anyhow::Result<HarnessConfig> {
        HarnessConfig::from_text(BENCH_CONFIG, "embedded bench config")
    }

    /// As [`HarnessConfig::new`] over another config's text.
    pub fn from_text(text: &str, origin: &str) -> anyhow::Result<HarnessConfig> {
        let loaded = Config::parse(text, origin)?;
        let rate = loaded
            .config
            .feeds
            .iter()
            .find_map(|f| match f {
                FeedConfig::Synthetic { rate, .. } | FeedConfig::Capture { rate, .. } => {
                    Some(*rate)
                }
                _ => None,
            })
            .unwrap_or(0);
        Ok(HarnessConfig {
            config: loaded.config,
            origin: origin.to_owned(),
            layouts: vec![Layout::Fused],
            contenders: vec![
                Contender::Tickline,
                Contender::CrossbeamChannel,
                Contender::StdMpsc,
                Contender::Floor,
            ],
            phases: vec![Phase::Latency, Phase::Throughput],
            rate,
            warmup: Duration::from_secs(1),
            measure: Duration::from_secs(5),
            wait: "spin-yield".into(),
            journal: true,
            journal_root: PathBuf::from("target/bench-journal"),
            keep_journal: false,
            rounds: 1,
        })
    }

    /// The config for one run, validated as `tickline run` validates it.
    pub(crate) fn loaded_for(
        &self,
        layout: Layout,
        phase: Phase,
        journal_dir: Option<&Path>,
    ) -> anyhow::Result<Loaded> {
        let mut c = self.config.clone();
        c.run.duration = None;
        let offered = match phase {
            Phase::Latency => self.rate,
            Phase::Throughput => 0,
        };
        for f in &mut c.feeds {
            if let FeedConfig::Synthetic { rate, .. } | FeedConfig::Capture { rate, .. } = f {
                *rate = offered;
            }
        }
        c.layout = layout_config(layout, &self.wait, &tickline_engine::runtime::available_cores());
        c.admin.enabled = false;
        c.journal.enabled = journal_dir.is_some();
        if let Some(dir) = journal_dir {
            c.journal.dir = dir.to_path_buf();
        }
        Ok(c.into_loaded(&self.origin)?)
    }
}

/// Cores for a layout's threads; `None` leaves a thread unpinned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cores {
    /// Feeds.
    pub feeds: Option<usize>,
    /// Strategy and risk.
    pub strategy: Option<usize>,
    /// Gateway.
    pub gateway: Option<usize>,
    /// Recorder.
    pub aux: Option<usize>,
}

impl Cores {
    /// Where each thread goes. Fused: the hot thread on the last core, the recorder on the
    /// first (with two cores or more). Split: the recorder, feeds, strategy and gateway on the
    /// first four cores; with fewer than four cores four busy threads cannot each have one, so
    /// every thread is left to the scheduler.
    pub fn of(layout: Layout, available: &[usize]) -> Cores {
        match layout {
            Layout::Fused => {
                let hot = available.last().copied();
                let aux = if available.len() >= 2 { available.first().copied() } else { None };
                Cores { feeds: hot, strategy: hot, gateway: hot, aux }
            }
            Layout::Split if available.len() >= 4 => Cores {
                aux: Some(available[0]),
                feeds: Some(available[1]),
                strategy: Some(available[2]),
                gateway: Some(available[3]),
            },
            Layout::Split => Cores::default(),
        }
    }
}

/// The explicit `[layout]` for tickline in `layout`.
fn layout_config(layout: Layout, wait: &str, available: &[usize]) -> LayoutConfig {
    let cores = Cores::of(layout, available);
    let thread = |name: &str, stages: &[&str], core| ThreadConfig {
        name: name.into(),
        stages: stages.iter().map(|s| (*s).to_owned()).collect(),
        core,
        wait: wait.to_owned(),
    };
    let threads = match layout {
        Layout::Fused => {
            vec![thread("hot", &["feeds", "strategy", "risk", "gateway"], cores.feeds)]
        }
        Layout::Split => vec![
            thread("feeds", &["feeds"], cores.feeds),
            thread("strategy", &["strategy", "risk"], cores.strategy),
            thread("gateway", &["gateway"], cores.gateway),
        ],
    };
    LayoutConfig {
        mode: LayoutMode::Explicit,
        wait: wait.to_owned(),
        pin: true,
        threads,
        aux: Some(AuxConfig { core: cores.aux, wait: "park".into() }),
    }
}

/// One run: what ran, and what its measured window showed.
#[derive(Debug)]
pub struct Measured {
    /// The round it ran in, from 1.
    pub round: u32,
    /// What joined the stages.
    pub contender: Contender,
    /// tickline's layout (the baselines are always staged: [`Layout::Split`]).
    pub layout: Layout,
    /// Load offered.
    pub phase: Phase,
    /// Ticks per second offered per synthetic feed (0: as fast as taken).
    pub offered_rate: u64,
    /// The measured window.
    pub window: WindowStats,
}

/// What a contender's run showed over its measured window.
#[derive(Debug)]
pub struct WindowStats {
    /// Length of the measured window, seconds.
    pub secs: f64,
    /// Ticks the strategy stage handled in the window.
    pub ticks: u64,
    /// Tick-to-order latencies (ns) of the orders the gateway took in the window.
    pub hist: Histogram<u64>,
    /// Ticks replaced by newer ones on a conflating ring (tickline's split layout only).
    pub conflated: u64,
    /// Ticks skipped by a lapped consumer on a drop-oldest ring.
    pub dropped: u64,
    /// Events lost to a stopped thread, or sends that failed (0 in a clean run).
    pub lost: u64,
    /// Allocations made by the process in the window.
    pub allocs: u64,
    /// Records the recorder wrote over the whole run (0 without a journal).
    pub records: u64,
}

impl WindowStats {
    /// Ticks handled per second.
    pub fn ticks_per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.ticks as f64 / self.secs
        } else {
            0.0
        }
    }

    /// Allocations per tick handled.
    pub fn allocs_per_tick(&self) -> f64 {
        if self.ticks > 0 {
            self.allocs as f64 / self.ticks as f64
        } else {
            0.0
        }
    }

    /// Ticks lost one way or another (conflated, dropped, lost).
    pub fn drops(&self) -> u64 {
        self.conflated + self.dropped + self.lost
    }

    /// The latency at quantile `q`, ns (0 without samples).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.value_at_quantile(q)
        }
    }
}

/// A histogram for nanosecond latencies: 1 ns to 2^41 ns, 3 significant digits (the range of
/// the engine's own latency histogram, so the two subtract and merge).
pub fn new_histogram() -> Histogram<u64> {
    // Constant bounds `new_with_bounds` accepts; failing is a bug in this line.
    Histogram::new_with_bounds(1, 1u64 << 41, 3).expect("valid histogram bounds")
}

/// Runs every asked-for contender, layout and phase, in phase order, `rounds` times per phase
/// (every contender once per round), calling `progress` with a line before each run.
pub fn run(cfg: &HarnessConfig, mut progress: impl FnMut(&str)) -> anyhow::Result<Report> {
    tickline_engine::types::Clock::init();
    let span = Window { warmup: cfg.warmup, measure: cfg.measure };
    let staged = Cores::of(Layout::Split, &tickline_engine::runtime::available_cores());
    let mut runs = Vec::new();
    let rounds = cfg.rounds.max(1);
    for &phase in &cfg.phases {
        for round in 1..=rounds {
            run_round(cfg, phase, round, &span, staged, &mut progress, &mut runs)?;
        }
    }
    Ok(Report::new(cfg, runs))
}

/// Every contender (and tickline layout) asked for, once, in `phase`.
fn run_round(
    cfg: &HarnessConfig,
    phase: Phase,
    round: u32,
    span: &Window,
    staged: Cores,
    progress: &mut impl FnMut(&str),
    runs: &mut Vec<Measured>,
) -> anyhow::Result<()> {
    for &contender in &cfg.contenders {
        if contender == Contender::Floor && phase != Phase::Latency {
            continue;
        }
        let layouts: &[Layout] = match contender {
            Contender::Tickline => &cfg.layouts,
            Contender::Floor => &[Layout::Fused],
            _ => &[Layout::Split],
        };
        for &layout in layouts {
            let mut label = format!("{}/{}/{}", phase.name(), contender.name(), layout.name());
            if cfg.rounds > 1 {
                let _ = write!(label, " (round {round} of {})", cfg.rounds);
            }
            progress(&label);
            let dir = cfg.journal.then(|| {
                cfg.journal_root.join(format!(
                    "{}-{}-{}-{}-{round}",
                    std::process::id(),
                    phase.name(),
                    contender.name(),
                    layout.name()
                ))
            });
            if let Some(d) = &dir {
                // A stale directory from an interrupted run would be recovered, not
                // measured from empty.
                let _ = std::fs::remove_dir_all(d);
            }
            let loaded = cfg.loaded_for(layout, phase, dir.as_deref())?;
            let result = match contender {
                Contender::Tickline => ours::run(&loaded, span),
                Contender::CrossbeamChannel => {
                    baseline::run::<baseline::Crossbeam>(&loaded, span, &cfg.wait, staged)
                }
                Contender::StdMpsc => {
                    baseline::run::<baseline::StdMpsc>(&loaded, span, &cfg.wait, staged)
                }
                Contender::Floor => floor::run(
                    cfg.rate * loaded.config.feeds.len() as u64,
                    span,
                    Cores::of(Layout::Fused, &tickline_engine::runtime::available_cores()).feeds,
                ),
            };
            if let (Some(d), false) = (&dir, cfg.keep_journal) {
                let _ = std::fs::remove_dir_all(d);
            }
            let window = result.map_err(|e| e.context(format!("run {label}")))?;
            let offered_rate = if phase == Phase::Latency { cfg.rate } else { 0 };
            runs.push(Measured { round, contender, layout, phase, offered_rate, window });
        }
    }
    Ok(())
}

/// A run's warm-up and measured window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub(crate) warmup: Duration,
    pub(crate) measure: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_fused_and_split() {
        let f = Cores::of(Layout::Fused, &[0, 1]);
        assert_eq!((f.feeds, f.strategy, f.gateway, f.aux), (Some(1), Some(1), Some(1), Some(0)));
        assert_eq!(Cores::of(Layout::Split, &[0, 1]), Cores::default());
        let s = Cores::of(Layout::Split, &[2, 3, 4, 5, 6]);
        assert_eq!((s.aux, s.feeds, s.strategy, s.gateway), (Some(2), Some(3), Some(4), Some(5)));
        let one = Cores::of(Layout::Fused, &[7]);
        assert_eq!((one.feeds, one.aux), (Some(7), None));
    }

    #[test]
    fn run_config_overrides_rate_layout_and_journal() {
        let mut cfg = HarnessConfig::new().unwrap();
        cfg.rate = 12_345;
        let l = cfg.loaded_for(Layout::Split, Phase::Latency, Some(Path::new("x/j"))).unwrap();
        assert!(l
            .config
            .feeds
            .iter()
            .all(|f| matches!(f, FeedConfig::Synthetic { rate: 12_345, .. })));
        assert_eq!(l.config.layout.mode, LayoutMode::Explicit);
        assert_eq!(l.config.layout.threads.len(), 3);
        assert!(l.config.journal.enabled);
        assert_eq!(l.config.journal.dir, Path::new("x/j"));
        let l = cfg.loaded_for(Layout::Fused, Phase::Throughput, None).unwrap();
        assert!(l.config.feeds.iter().all(|f| matches!(f, FeedConfig::Synthetic { rate: 0, .. })));
        assert_eq!(l.config.layout.threads.len(), 1);
        assert!(!l.config.journal.enabled && !l.config.admin.enabled);
    }
}
