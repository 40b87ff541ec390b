//! The ring harness: every contender's round-trip percentiles and throughput in one run, with
//! ratios against the baselines. `src/bin/ring_harness.rs` is its command line.
//!
//! Runs are interleaved (run 1 of every contender, then run 2, ...) so a drift in the
//! machine's state spreads over all contenders instead of landing on one.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::ring_contenders::{
    clock_overhead_ns, new_histogram, ping_pong, resolve_cores, throughput, Contender, RunOptions,
    ThroughputRun, Wait, DEFAULT_CAPACITY,
};

/// What to run.
#[derive(Clone, Debug)]
pub struct HarnessConfig {
    /// Timed round trips per contender, over all runs.
    pub iters: u64,
    /// Messages per throughput run.
    pub msgs: u64,
    /// Runs per contender (each on a fresh pair of threads and queues).
    pub runs: u32,
    /// Untimed round trips at the start of each ping-pong run.
    pub warmup: u64,
    /// How both threads wait.
    pub wait: Wait,
    /// Slots per queue (a power of two).
    pub capacity: usize,
    /// Cores to pin threads A and B to; unpinned if `None` or if either is not available.
    pub cores: Option<[usize; 2]>,
}

impl HarnessConfig {
    /// A full run of `iters` round trips per contender and `4 * iters` messages per throughput
    /// run, in 5 runs.
    pub fn new(iters: u64, wait: Wait) -> HarnessConfig {
        let runs = 5;
        HarnessConfig {
            iters,
            msgs: iters.saturating_mul(4),
            runs,
            warmup: (iters / u64::from(runs) / 10).clamp(1, 10_000),
            wait,
            capacity: DEFAULT_CAPACITY,
            cores: None,
        }
    }

    /// A smoke run of a few hundred milliseconds: enough to exercise every contender and
    /// every code path (two runs, so the interleaving and merging too), too short to measure.
    pub fn quick(wait: Wait) -> HarnessConfig {
        HarnessConfig { msgs: 20_000, runs: 2, warmup: 100, ..HarnessConfig::new(2_000, wait) }
    }
}

/// Round-trip results of one contender.
#[derive(Debug)]
pub struct RttRow {
    /// Contender.
    pub contender: Contender,
    /// Timed round trips asked for.
    pub trips: u64,
    /// Timed round trips that came back with the value sent.
    pub completed: u64,
    /// Values the echo side returned, warm-ups included.
    pub echoed: u64,
    /// Values the echo side should have returned (`trips` plus every run's warm-up).
    pub expected_echoed: u64,
    /// Nanoseconds per timed round trip.
    pub hist: Histogram<u64>,
}

/// Throughput results of one contender.
#[derive(Debug)]
pub struct ThroughputRow {
    /// Contender.
    pub contender: Contender,
    /// One entry per run.
    pub runs: Vec<ThroughputRun>,
}

impl ThroughputRow {
    /// Median, min and max of the runs, in millions of messages per second.
    pub fn mmsgs_per_sec(&self) -> (f64, f64, f64) {
        let mut rates: Vec<f64> = self.runs.iter().map(ThroughputRun::mmsgs_per_sec).collect();
        rates.sort_by(f64::total_cmp);
        let (Some(&min), Some(&max)) = (rates.first(), rates.last()) else {
            return (0.0, 0.0, 0.0);
        };
        let mid = rates.len() / 2;
        let median =
            if rates.len() % 2 == 0 { (rates[mid - 1] + rates[mid]) / 2.0 } else { rates[mid] };
        (median, min, max)
    }

    /// Messages received over all runs.
    pub fn received(&self) -> u64 {
        self.runs.iter().map(|r| r.received).sum()
    }

    /// Whether every run received its values in order.
    pub fn in_order(&self) -> bool {
        self.runs.iter().all(|r| r.in_order)
    }
}

/// Everything one harness run measured.
#[derive(Debug)]
pub struct Report {
    /// What was asked for.
    pub config: HarnessConfig,
    /// Cores threads A and B were pinned to, if they were.
    pub pinned: Option<[usize; 2]>,
    /// Why the requested cores were not used, if they were not.
    pub pin_note: Option<String>,
    /// p50 ns of two back-to-back clock reads: the harness's own cost in every round trip.
    pub clock_overhead_ns: u64,
    /// One row per contender.
    pub rtt: Vec<RttRow>,
    /// One row per streaming contender.
    pub throughput: Vec<ThroughputRow>,
}

/// Runs every contender as `config` says.
pub fn run(config: &HarnessConfig) -> Report {
    let (cores, pin_note) = match config.cores {
        None => (None, None),
        Some([a, b]) => match resolve_cores(a, b) {
            Ok(cores) => (Some(cores), None),
            Err(why) => (None, Some(format!("running unpinned: {why}"))),
        },
    };
    let opts = RunOptions { wait: config.wait, capacity: config.capacity, cores };
    let runs = u64::from(config.runs.max(1));

    let mut rtt: Vec<RttRow> = Contender::ALL
        .iter()
        .map(|&contender| RttRow {
            contender,
            trips: config.iters,
            completed: 0,
            echoed: 0,
            expected_echoed: config.iters + runs * config.warmup,
            hist: new_histogram(),
        })
        .collect();
    for run in 0..runs {
        // The last run takes the remainder.
        let trips = config.iters / runs + if run + 1 == runs { config.iters % runs } else { 0 };
        for row in &mut rtt {
            let r = ping_pong(row.contender, trips, config.warmup, &opts, Some(&mut row.hist));
            row.completed += r.completed;
            row.echoed += r.echoed;
        }
    }

    let mut tput: Vec<ThroughputRow> = Contender::ALL
        .iter()
        .filter(|c| c.streams())
        .map(|&contender| ThroughputRow { contender, runs: Vec::new() })
        .collect();
    for _ in 0..runs {
        for row in &mut tput {
            if let Some(r) = throughput(row.contender, config.msgs, &opts) {
                row.runs.push(r);
            }
        }
    }

    Report {
        config: config.clone(),
        pinned: cores.map(|c| [c[0].id, c[1].id]),
        pin_note,
        clock_overhead_ns: clock_overhead_ns(100_000),
        rtt,
        throughput: tput,
    }
}

impl Report {
    fn rtt_row(&self, c: Contender) -> Option<&RttRow> {
        self.rtt.iter().find(|r| r.contender == c)
    }

    fn tput_median(&self, c: Contender) -> Option<f64> {
        self.throughput.iter().find(|r| r.contender == c).map(|r| r.mmsgs_per_sec().0)
    }

    /// `(name, value)` ratios of ours against the baselines; `None` where a side is missing.
    pub fn ratios(&self) -> Vec<(&'static str, Option<f64>)> {
        let p = |c: Contender, q: f64| self.rtt_row(c).map(|r| r.hist.value_at_quantile(q) as f64);
        let div = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        };
        let ours = Contender::Tickline;
        vec![
            ("rtt_p50_tickline_over_atomic", div(p(ours, 0.5), p(Contender::Atomic, 0.5))),
            ("rtt_p99_tickline_over_atomic", div(p(ours, 0.99), p(Contender::Atomic, 0.99))),
            ("rtt_p50_tickline_over_disruptor", div(p(ours, 0.5), p(Contender::Disruptor, 0.5))),
            (
                "throughput_tickline_over_disruptor",
                div(self.tput_median(ours), self.tput_median(Contender::Disruptor)),
            ),
            (
                "throughput_tickline_over_array_queue",
                div(self.tput_median(ours), self.tput_median(Contender::ArrayQueue)),
            ),
        ]
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Value {
        let c = &self.config;
        let rtt: Vec<Value> = self
            .rtt
            .iter()
            .map(|r| {
                json!({
                    "contender": r.contender.name(),
                    "trips": r.trips,
                    "completed": r.completed,
                    "echoed": r.echoed,
                    "expected_echoed": r.expected_echoed,
                    "p50_ns": r.hist.value_at_quantile(0.5),
                    "p90_ns": r.hist.value_at_quantile(0.9),
                    "p99_ns": r.hist.value_at_quantile(0.99),
                    "p999_ns": r.hist.value_at_quantile(0.999),
                    "max_ns": r.hist.max(),
                    "mean_ns": r.hist.mean(),
                })
            })
            .collect();
        let tput: Vec<Value> = self
            .throughput
            .iter()
            .map(|r| {
                let (median, min, max) = r.mmsgs_per_sec();
                json!({
                    "contender": r.contender.name(),
                    "runs": r.runs.len(),
                    "msgs_per_run": c.msgs,
                    "received": r.received(),
                    "in_order": r.in_order(),
                    "mmsgs_per_s_median": median,
                    "mmsgs_per_s_min": min,
                    "mmsgs_per_s_max": max,
                })
            })
            .collect();
        let ratios: serde_json::Map<String, Value> =
            self.ratios().into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
        json!({
            "config": {
                "iters": c.iters,
                "msgs": c.msgs,
                "runs": c.runs,
                "warmup": c.warmup,
                "wait": c.wait.name(),
                "capacity": c.capacity,
                "payload": "u64",
                "cores_requested": c.cores,
            },
            "pinned": self.pinned,
            "pin_note": self.pin_note,
            "clock_overhead_ns": self.clock_overhead_ns,
            "rtt": rtt,
            "throughput": tput,
            "ratios": ratios,
        })
    }

    /// The report as a plain-text table.
    pub fn table(&self) -> String {
        let c = &self.config;
        let mut s = String::new();
        let pinning = match (self.pinned, &self.pin_note) {
            (Some([a, b]), _) => format!("pinned A={a} B={b}"),
            (None, Some(note)) => note.clone(),
            (None, None) => "unpinned".to_owned(),
        };
        let _ = writeln!(
            s,
            "ring harness: {} round trips/contender, {} msgs x {} runs, wait {}, capacity {}, \
             payload u64, {pinning}",
            c.iters,
            c.msgs,
            c.runs,
            c.wait.name(),
            c.capacity
        );
        let _ = writeln!(
            s,
            "harness overhead: {} ns per timed round trip (p50 of two clock reads, included below)",
            self.clock_overhead_ns
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<22}{:>9}{:>9}{:>9}{:>9}{:>11}{:>10}{:>18}",
            "round trip (ns)", "p50", "p90", "p99", "p99.9", "max", "mean", "ok"
        );
        for r in &self.rtt {
            let h = &r.hist;
            let _ = writeln!(
                s,
                "{:<22}{:>9}{:>9}{:>9}{:>9}{:>11}{:>10.1}{:>18}",
                r.contender.name(),
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max(),
                h.mean(),
                format!("{}/{}", r.completed, r.trips),
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<22}{:>9}{:>9}{:>9}{:>14}",
            "throughput (M msg/s)", "median", "min", "max", "in order"
        );
        for r in &self.throughput {
            let (median, min, max) = r.mmsgs_per_sec();
            let _ = writeln!(
                s,
                "{:<22}{:>9.1}{:>9.1}{:>9.1}{:>14}",
                r.contender.name(),
                median,
                min,
                max,
                if r.in_order() && r.received() == c.msgs * r.runs.len() as u64 {
                    "yes"
                } else {
                    "NO"
                },
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "ratios (ours / baseline; RTT lower is better, throughput higher)");
        for (name, v) in self.ratios() {
            let shown = v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}x"));
            let _ = writeln!(s, "  {name:<40}{shown:>8}");
        }
        s
    }
}
