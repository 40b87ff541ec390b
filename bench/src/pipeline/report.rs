//! The harness's report: a terminal table, JSON, and a markdown file with a percentile plot
//! per phase under `target/bench-report/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use super::goals;
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
    /// Rounds of each phase's contenders.
    pub rounds: u32,
}

/// One "tickline vs a baseline" comparison, within one round.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Ratio {
    /// The round both runs ran in.
    pub round: u32,
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

/// The median and range of one figure over the rounds.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Spread {
    /// The median (of an even count, the mean of the middle two).
    pub median: f64,
    /// The lowest.
    pub min: f64,
    /// The highest.
    pub max: f64,
}

impl Spread {
    /// Over `values`; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = values.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        Some(Spread { median, min: v[0], max: v[n - 1] })
    }

    /// Over `values`, all zero when there are none.
    fn over(values: impl IntoIterator<Item = f64>) -> Spread {
        Spread::of(values).unwrap_or(Spread { median: 0.0, min: 0.0, max: 0.0 })
    }
}

/// `items` grouped by `key`: each group in the order its items came, the groups in the order
/// their first items came. No group is empty.
fn groups<T, K: PartialEq>(items: &[T], key: impl Fn(&T) -> K) -> Vec<Vec<&T>> {
    let mut out: Vec<(K, Vec<&T>)> = Vec::new();
    for item in items {
        let k = key(item);
        match out.iter_mut().find(|(g, _)| *g == k) {
            Some((_, same)) => same.push(item),
            None => out.push((k, vec![item])),
        }
    }
    out.into_iter().map(|(_, same)| same).collect()
}

/// One contender's figures over the rounds of a phase.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContenderSummary {
    /// Phase.
    pub phase: Phase,
    /// What joined the stages.
    pub contender: Contender,
    /// tickline's layout (staged for the baselines).
    pub layout: Layout,
    /// Runs summarised.
    pub rounds: usize,
    /// Tick-to-order p50, ns.
    pub p50_ns: Spread,
    /// Tick-to-order p99, ns.
    pub p99_ns: Spread,
    /// Ticks handled per second.
    pub ticks_per_sec: Spread,
}

/// One "tickline vs a baseline" comparison over the rounds: the spread of the per-round
/// ratios.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RatioSummary {
    /// Phase compared.
    pub phase: Phase,
    /// tickline's layout.
    pub layout: Layout,
    /// The baseline.
    pub baseline: Contender,
    /// Rounds with both runs.
    pub rounds: usize,
    /// Baseline p50 / tickline p50.
    pub p50: Option<Spread>,
    /// Baseline p99 / tickline p99.
    pub p99: Option<Spread>,
    /// tickline ticks/s / baseline ticks/s.
    pub throughput: Option<Spread>,
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
            rounds: cfg.rounds.max(1),
        };
        Report { runs, settings }
    }

    /// tickline against each baseline, per phase, round and tickline layout.
    pub fn ratios(&self) -> Vec<Ratio> {
        let mut out = Vec::new();
        for ours in self.runs.iter().filter(|m| m.contender == Contender::Tickline) {
            for base in self.runs.iter().filter(|m| {
                m.contender.is_baseline() && m.phase == ours.phase && m.round == ours.round
            }) {
                let q = |m: &Measured, p: f64| m.window.quantile(p) as f64;
                out.push(Ratio {
                    round: ours.round,
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

    /// Each contender's p50, p99 and throughput over the rounds, per phase and layout, in
    /// the order they first ran.
    pub fn contender_summaries(&self) -> Vec<ContenderSummary> {
        groups(&self.runs, |m| (m.phase, m.contender, m.layout))
            .into_iter()
            .map(|same| {
                let m = same[0];
                let spread = |f: &dyn Fn(&Measured) -> f64| Spread::over(same.iter().map(|r| f(r)));
                ContenderSummary {
                    phase: m.phase,
                    contender: m.contender,
                    layout: m.layout,
                    rounds: same.len(),
                    p50_ns: spread(&|r| r.window.quantile(0.5) as f64),
                    p99_ns: spread(&|r| r.window.quantile(0.99) as f64),
                    ticks_per_sec: spread(&|r| r.window.ticks_per_sec()),
                }
            })
            .collect()
    }

    /// The per-round ratios' spread, per phase, tickline layout and baseline.
    pub fn ratio_summaries(&self) -> Vec<RatioSummary> {
        groups(&self.ratios(), |r| (r.phase, r.layout, r.baseline))
            .into_iter()
            .map(|same| RatioSummary {
                phase: same[0].phase,
                layout: same[0].layout,
                baseline: same[0].baseline,
                rounds: same.len(),
                p50: Spread::of(same.iter().filter_map(|x| x.p50)),
                p99: Spread::of(same.iter().filter_map(|x| x.p99)),
                throughput: Spread::of(same.iter().filter_map(|x| x.throughput)),
            })
            .collect()
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
                    "round": m.round,
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
        json!({
            "settings": self.settings,
            "runs": runs,
            "ratios": self.ratios(),
            "summary": {
                "contenders": self.contender_summaries(),
                "ratios": self.ratio_summaries(),
            },
            "goals": goals::check_all(self),
        })
    }

    /// The runs as a table, then the ratios: for the terminal and the markdown report. With
    /// more than one round, every row names its round, and two more tables give the medians
    /// and ranges over the rounds.
    pub fn table(&self) -> String {
        let rounds = self.settings.rounds > 1;
        let (rc, rh) = if rounds { ("| round ", "|---") } else { ("", "") };
        let round = |r: u32| if rounds { format!("| {r} ") } else { String::new() };
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{rc}| phase | contender | layout | ticks/s | orders | p50 ns | p90 ns | p99 ns | p99.9 ns | p99.99 ns | max ns | drops | allocs/tick |"
        );
        let _ = writeln!(o, "{rh}|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for m in &self.runs {
            let _ = write!(
                o,
                "{}| {} | {} | {} | {} | {} |",
                round(m.round),
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
                " {} | {} | {} |",
                m.window.hist.max(),
                m.window.drops(),
                fmt_per_tick(m.window.allocs_per_tick())
            );
        }
        let ratios = self.ratios();
        let f = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
        if !ratios.is_empty() {
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "{rc}| phase | tickline layout | vs | p50 × better | p99 × better | throughput × |"
            );
            let _ = writeln!(o, "{rh}|---|---|---|---:|---:|---:|");
            for r in &ratios {
                let _ = writeln!(
                    o,
                    "{}| {} | {} | {} | {} | {} | {} |",
                    round(r.round),
                    r.phase.name(),
                    r.layout.name(),
                    r.baseline.name(),
                    f(r.p50),
                    f(r.p99),
                    f(r.throughput)
                );
            }
        }
        if rounds {
            let sp = |s: &Spread, unit: &dyn Fn(f64) -> String| {
                format!("{} ({} – {})", unit(s.median), unit(s.min), unit(s.max))
            };
            let ns = |v: f64| format!("{v:.0}");
            let rows = self.contender_summaries().into_iter().map(|c| {
                [
                    c.phase.name().to_owned(),
                    c.contender.name().to_owned(),
                    c.layout.name().to_owned(),
                    c.rounds.to_string(),
                    sp(&c.p50_ns, &ns),
                    sp(&c.p99_ns, &ns),
                    sp(&c.ticks_per_sec, &fmt_rate),
                ]
            });
            summary_table(
                &mut o,
                "| phase | contender | layout | rounds | p50 ns: median (range) | p99 ns: median (range) | ticks/s: median (range) |",
                rows,
            );
            let x = |v: f64| format!("{v:.1}");
            let g = |s: Option<Spread>| s.map_or_else(|| "–".to_owned(), |s| sp(&s, &x));
            let rows = self.ratio_summaries().into_iter().map(|r| {
                [
                    r.phase.name().to_owned(),
                    r.layout.name().to_owned(),
                    r.baseline.name().to_owned(),
                    r.rounds.to_string(),
                    g(r.p50),
                    g(r.p99),
                    g(r.throughput),
                ]
            });
            summary_table(
                &mut o,
                "| phase | tickline layout | vs | rounds | p50 × better: median (range) | p99 × better: median (range) | throughput ×: median (range) |",
                rows,
            );
        }
        self.goals_table(&mut o);
        o
    }

    /// The goals (`goals.rs`) against each round that measured them: in how many rounds each
    /// held, and every round's figure. Nothing when no round measured any.
    fn goals_table(&self, o: &mut String) {
        let checked = goals::check_all(self);
        if checked.is_empty() {
            return;
        }
        let _ = writeln!(o);
        if !self.settings.journal {
            let _ = writeln!(
                o,
                "The goals are set for runs with the journal on; these ran with it off.\n"
            );
        }
        let _ = writeln!(o, "| goal | held | per round |");
        let _ = writeln!(o, "|---|---:|---|");
        for c in checked {
            let per_round: Vec<String> = c
                .rounds
                .iter()
                .map(|r| {
                    let missed = if r.held { "" } else { " (missed)" };
                    format!("{}: {}{missed}", r.round, c.measure.format(r.value))
                })
                .collect();
            let _ = writeln!(
                o,
                "| {} | {} of {} | {} |",
                c.goal,
                c.held,
                c.rounds.len(),
                per_round.join(", ")
            );
        }
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
             {} ms warm-up and {} ms measured per run, hot-thread wait `{}`, journal {}, {} \
             round{} of each phase's contenders.\n",
            s.config,
            s.cores,
            s.rate,
            s.warmup_ms,
            s.measure_ms,
            s.wait,
            if s.journal { "on" } else { "off" },
            s.rounds,
            if s.rounds == 1 { "" } else { "s" },
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
            // One curve per contender and layout: its rounds' samples together.
            let merged: Vec<(String, Histogram<u64>)> = groups(&runs, |m| (m.contender, m.layout))
                .into_iter()
                .map(|same| {
                    let mut hist = same[0].window.hist.clone();
                    for m in &same[1..] {
                        // Every run's histogram has the same bounds: adding cannot fail.
                        let _ = hist.add(&m.window.hist);
                    }
                    (format!("{} ({})", same[0].contender.name(), same[0].layout.name()), hist)
                })
                .collect();
            let series: Vec<Series<'_>> =
                merged.iter().map(|(label, hist)| Series { label: label.clone(), hist }).collect();
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

/// A blank line, `header`, and one row per item: three text columns, then four right-aligned.
fn summary_table(o: &mut String, header: &str, rows: impl Iterator<Item = [String; 7]>) {
    let _ = writeln!(o);
    let _ = writeln!(o, "{header}");
    let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(o, "| {} |", row.join(" | "));
    }
}

/// A per-tick count: `0` only when it is zero, so a few allocations over millions of ticks
/// do not print as nothing.
pub(crate) fn fmt_per_tick(v: f64) -> String {
    if v == 0.0 {
        "0".to_owned()
    } else {
        format!("{v:.2e}")
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::{new_histogram, WindowStats};

    fn measured(round: u32, contender: Contender, p50: u64, ticks: u64) -> Measured {
        run(round, contender, Phase::Latency, p50, ticks)
    }

    /// A run of `phase` whose p50 is `p50` ns and that handled `ticks` ticks in one second;
    /// tickline fused, a baseline staged.
    pub(crate) fn run(
        round: u32,
        contender: Contender,
        phase: Phase,
        p50: u64,
        ticks: u64,
    ) -> Measured {
        let mut hist = new_histogram();
        // Two samples at the median's value and one far above: p50 is `p50`.
        hist.record_n(p50, 2).unwrap();
        hist.record(p50 * 100).unwrap();
        let window = WindowStats {
            secs: 1.0,
            ticks,
            hist,
            conflated: 0,
            dropped: 0,
            lost: 0,
            allocs: 0,
            records: 0,
        };
        let layout = if contender == Contender::Tickline { Layout::Fused } else { Layout::Split };
        Measured { round, contender, layout, phase, offered_rate: 1, window }
    }

    fn report(runs: Vec<Measured>) -> Report {
        let mut cfg = crate::pipeline::HarnessConfig::new().unwrap();
        cfg.rounds = runs.iter().map(|m| m.round).max().unwrap_or(1);
        Report::new(&cfg, runs)
    }

    #[test]
    fn spread_takes_the_middle_value_or_the_mean_of_the_middle_two() {
        let s = Spread::of([5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 5.0));
        let s = Spread::of([4.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 10.0));
        assert!(Spread::of(std::iter::empty()).is_none());
    }

    #[test]
    fn ratios_pair_runs_of_the_same_round_and_summarise_over_rounds() {
        // Round 1: the host is fast (10 ns vs 1 µs); round 2: slow (40 ns vs 2 µs); round 3:
        // in between. Cross-round pairs would give 25× or 200×. (Values below 2048 are exact
        // in the histograms.)
        let r = report(vec![
            measured(1, Contender::Tickline, 10, 1000),
            measured(1, Contender::StdMpsc, 1000, 500),
            measured(2, Contender::Tickline, 40, 1000),
            measured(2, Contender::StdMpsc, 2000, 250),
            measured(3, Contender::Tickline, 20, 1000),
            measured(3, Contender::StdMpsc, 1600, 400),
        ]);
        let ratios = r.ratios();
        assert_eq!(ratios.len(), 3, "one pair per round: {ratios:?}");
        let p50: Vec<(u32, f64)> = ratios.iter().map(|x| (x.round, x.p50.unwrap())).collect();
        assert_eq!(p50, [(1, 100.0), (2, 50.0), (3, 80.0)]);
        let s = r.ratio_summaries();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].rounds, 3);
        let m = s[0].p50.unwrap();
        assert_eq!((m.median, m.min, m.max), (80.0, 50.0, 100.0));
        let t = s[0].throughput.unwrap();
        assert_eq!((t.median, t.min, t.max), (2.5, 2.0, 4.0));
        let c = r.contender_summaries();
        let ours = c.iter().find(|c| c.contender == Contender::Tickline).unwrap();
        assert_eq!((ours.rounds, ours.p50_ns.median), (3, 20.0));
        let table = r.table();
        assert!(table.contains("| 2 | latency | tickline | fused |"), "{table}");
        assert!(
            table.contains("| latency | fused | std-mpsc | 3 | 80.0 (50.0 – 100.0) |"),
            "{table}"
        );
    }

    #[test]
    fn one_round_keeps_the_plain_table() {
        let r = report(vec![
            measured(1, Contender::Tickline, 10, 1000),
            measured(1, Contender::StdMpsc, 1000, 500),
        ]);
        let table = r.table();
        assert!(table.starts_with("| phase | contender |"), "{table}");
        assert!(!table.contains("median"), "{table}");
        assert_eq!(r.ratios()[0].p50, Some(100.0));
    }
}
