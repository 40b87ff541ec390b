//! The harness's report: a terminal table, JSON, and a markdown file with a percentile plot
//! per phase under `target/bench-report/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::plot::{svg, Series};
use super::{Contender, HarnessConfig, Layout, Measured, Phase};

/// Percentiles printed for every run.
const QUANTILES: [(&str, f64); 5] =
    [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999), ("p99.99", 0.9999)];

/// Everything one harness run measured.
#[derive(Debug)]
pub struct Report {
    /// Runs, in the order they ran.
    pub runs: Vec<Measured>,
    /// What was asked for, as printed in the report header.
    pub settings: Settings,
}

/// The harness settings a report was measured under.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// Where the config came from.
    pub config: String,
    /// Cores this process may run on.
    pub cores: usize,
    /// Ticks/s offered per feed in the latency phase.
    pub rate: u64,
    /// Warm-up per run, ms.
    pub warmup_ms: u64,
    /// Measured window per run, ms.
    pub measure_ms: u64,
    /// tickline's hot-thread wait strategy.
    pub wait: String,
    /// Whether the runs recorded into a journal.
    pub journal: bool,
}

/// One "tickline vs a baseline" comparison.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Ratio {
    /// Phase compared.
    pub phase: Phase,
    /// tickline's layout.
    pub layout: Layout,
    /// The baseline.
    pub baseline: Contender,
    /// Baseline p50 / tickline p50 (how many times lower tickline's median is).
    pub p50: Option<f64>,
    /// Baseline p99 / tickline p99.
    pub p99: Option<f64>,
    /// tickline ticks/s / baseline ticks/s.
    pub throughput: Option<f64>,
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (num > 0.0 && den > 0.0).then(|| num / den)
}

impl Report {
    pub(crate) fn new(cfg: &HarnessConfig, runs: Vec<Measured>) -> Report {
        let settings = Settings {
            config: cfg.origin.clone(),
            cores: tickline_engine::runtime::available_cores().len(),
            rate: cfg.rate,
            warmup_ms: u64::try_from(cfg.warmup.as_millis()).unwrap_or(u64::MAX),
            measure_ms: u64::try_from(cfg.measure.as_millis()).unwrap_or(u64::MAX),
            wait: cfg.wait.clone(),
            journal: cfg.journal,
        };
        Report { runs, settings }
    }

    /// tickline against each baseline, per phase and tickline layout.
    pub fn ratios(&self) -> Vec<Ratio> {
        let mut out = Vec::new();
        for ours in self.runs.iter().filter(|m| m.contender == Contender::Tickline) {
            for base in
                self.runs.iter().filter(|m| m.contender.is_baseline() && m.phase == ours.phase)
            {
                let q = |m: &Measured, p: f64| m.window.quantile(p) as f64;
                out.push(Ratio {
                    phase: ours.phase,
                    layout: ours.layout,
                    baseline: base.contender,
                    p50: ratio(q(base, 0.5), q(ours, 0.5)),
                    p99: ratio(q(base, 0.99), q(ours, 0.99)),
                    throughput: ratio(ours.window.ticks_per_sec(), base.window.ticks_per_sec()),
                });
            }
        }
        out
    }

    /// One JSON object: settings, runs, ratios.
    pub fn to_json(&self) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|m| {
                let mut lat = serde_json::Map::new();
                for (name, q) in QUANTILES {
                    let v = m.window.quantile(q);
                    lat.insert(name.replace('.', "_"), json!(v));
                }
                lat.insert("max".into(), json!(m.window.hist.max()));
                lat.insert("mean".into(), json!(m.window.hist.mean().round() as u64));
                json!({
                    "contender": m.contender,
                    "layout": m.layout,
                    "phase": m.phase,
                    "offered_rate": m.offered_rate,
                    "secs": m.window.secs,
                    "ticks": m.window.ticks,
                    "ticks_per_sec": m.window.ticks_per_sec().round() as u64,
                    "orders": m.window.hist.len(),
                    "tick_to_order_ns": Value::Object(lat),
                    "drops": { "conflated": m.window.conflated, "dropped": m.window.dropped, "lost": m.window.lost },
                    "allocs": m.window.allocs,
                    "allocs_per_tick": m.window.allocs_per_tick(),
                    "journal_records": m.window.records,
                })
            })
            .collect();
        json!({ "settings": self.settings, "runs": runs, "ratios": self.ratios() })
    }

    /// The runs as a table, then the ratios: for the terminal and the markdown report.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "| phase | contender | layout | ticks/s | orders | p50 ns | p90 ns | p99 ns | p99.9 ns | p99.99 ns | max ns | drops | allocs/tick |"
        );
        let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for m in &self.runs {
            let _ = write!(
                o,
                "| {} | {} | {} | {} | {} |",
                m.phase.name(),
                m.contender.name(),
                m.layout.name(),
                fmt_rate(m.window.ticks_per_sec()),
                m.window.hist.len()
            );
            for (_, q) in QUANTILES {
                let v = m.window.quantile(q);
                let _ = write!(o, " {v} |");
            }
            let _ = writeln!(
                o,
                " {} | {} | {:.4} |",
                m.window.hist.max(),
                m.window.drops(),
                m.window.allocs_per_tick()
            );
        }
        let ratios = self.ratios();
        if !ratios.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "| phase | tickline layout | vs | p50 × better | p99 × better | throughput × |"
            );
            let _ = writeln!(o, "|---|---|---|---:|---:|---:|");
            let f = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
            for r in &ratios {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.phase.name(),
                    r.layout.name(),
                    r.baseline.name(),
                    f(r.p50),
                    f(r.p99),
                    f(r.throughput)
                );
            }
        }
        o
    }

    /// Writes `pipeline.md`, `pipeline.json` and one `pipeline-<phase>.svg` per phase into
    /// `dir` (created if missing); returns the markdown file's path.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let mut md = String::new();
        let _ = writeln!(md, "# tickline pipeline harness\n");
        let s = &self.settings;
        let _ = writeln!(
            md,
            "Config `{}`, {} cores, offered rate {} ticks/s per synthetic feed in the latency phase, \
             {} ms warm-up and {} ms measured per run, hot-thread wait `{}`, journal {}.\n",
            s.config,
            s.cores,
            s.rate,
            s.warmup_ms,
            s.measure_ms,
            s.wait,
            if s.journal { "on" } else { "off" },
        );
        let _ = writeln!(
            md,
            "Tick-to-order: tick receive stamp (the open-loop due time) to the gateway taking the \
             order. Baselines run a thread per stage on blocking channels. The `floor` row is \
             no pipeline: a thread pinned to the hot core taking the same schedule and doing \
             nothing else (its \"orders\" are the events it saw); its tail is what the host \
             takes from any thread there. See `bench/README.md` for how to read these figures.\n"
        );
        md.push_str(&self.table());
        for phase in [Phase::Latency, Phase::Throughput] {
            let runs: Vec<&Measured> = self.runs.iter().filter(|m| m.phase == phase).collect();
            if runs.is_empty() {
                continue;
            }
            let series: Vec<Series<'_>> = runs
                .iter()
                .map(|m| Series {
                    label: format!("{} ({})", m.contender.name(), m.layout.name()),
                    hist: &m.window.hist,
                })
                .collect();
            let title = match phase {
                Phase::Latency => format!("tick-to-order, open-loop at {} ticks/s", s.rate),
                Phase::Throughput => "tick-to-order, offered as fast as taken".to_owned(),
            };
            let file = format!("pipeline-{}.svg", phase.name());
            std::fs::write(dir.join(&file), svg(&title, &series))?;
            let _ = writeln!(md, "\n![{title}]({file})");
        }
        std::fs::write(
            dir.join("pipeline.json"),
            serde_json::to_string_pretty(&self.to_json()).unwrap_or_default(),
        )?;
        let path = dir.join("pipeline.md");
        std::fs::write(&path, md)?;
        Ok(path)
    }
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1} k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}
