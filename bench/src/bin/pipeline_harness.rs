//! `pipeline-harness`: tickline's pipeline, end to end, beside the same stages on crossbeam and
//! std channels: tick-to-order percentiles, throughput, drops and allocations per tick, with
//! ratios, a markdown report and percentile plots under `target/bench-report/`.
//!
//! ```text
//! cargo run --release -p tickline-bench --bin pipeline-harness
//! cargo run --release -p tickline-bench --bin pipeline-harness -- --wait busy-spin --rate 1000000
//! cargo run --release -p tickline-bench --bin pipeline-harness -- --quick --json
//! ```

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use tickline_bench::pipeline::{run, Contender, HarnessConfig, Layout, Phase};
use tickline_engine::alloc_count::CountingAllocator;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// End-to-end pipeline harness.
#[derive(Debug, Parser)]
#[command(name = "pipeline-harness", version)]
struct Cli {
    /// Pipeline config [default: the embedded configs/bench.toml].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Ticks per second each synthetic feed offers in the latency phase [default: the
    /// config's rate].
    #[arg(long)]
    rate: Option<u64>,
    /// Measured time per run, e.g. `5s`, `500ms` [default: 5s; 300ms with --quick].
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Unmeasured warm-up per run [default: 1s; 100ms with --quick].
    #[arg(long, value_parser = parse_duration)]
    warmup: Option<Duration>,
    /// tickline's thread layout.
    #[arg(long, value_enum, default_value_t = LayoutArg::Fused)]
    layout: LayoutArg,
    /// Wait strategy of tickline's hot threads (and of the baselines' feed thread).
    #[arg(long, value_enum, default_value_t = WaitArg::SpinYield)]
    wait: WaitArg,
    /// Record into a journal (a fresh directory per run, removed afterwards).
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    journal: OnOff,
    /// Where the journals go.
    #[arg(long, default_value = "target/bench-journal")]
    journal_dir: PathBuf,
    /// Keep the runs' journals.
    #[arg(long)]
    keep_journal: bool,
    /// Phases, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [PhaseArg::Latency, PhaseArg::Throughput])]
    phases: Vec<PhaseArg>,
    /// Contenders, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [ContenderArg::Tickline, ContenderArg::CrossbeamChannel, ContenderArg::StdMpsc, ContenderArg::Floor])]
    contenders: Vec<ContenderArg>,
    /// Where the markdown report, JSON and plots go.
    #[arg(long, default_value = "target/bench-report")]
    out: PathBuf,
    /// Rounds: each phase's contenders run one after another this many times, so host drift
    /// weighs on all alike; ratios pair runs of one round and the report adds their medians
    /// and ranges.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
    /// A smoke run (for CI): 100 ms warm-up and 300 ms per run; measures nothing reliably.
    #[arg(long)]
    quick: bool,
    /// Print the report as one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LayoutArg {
    Fused,
    Split,
    Both,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum WaitArg {
    BusySpin,
    SpinYield,
    Park,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PhaseArg {
    Latency,
    Throughput,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ContenderArg {
    Tickline,
    CrossbeamChannel,
    StdMpsc,
    /// The host's floor: a pinned thread taking the latency schedule and doing nothing else.
    Floor,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    tickline_tools::config::parse_duration(s)
        .ok_or_else(|| format!("{s:?} is not a duration like \"5s\" or \"500ms\""))
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = real_main(&cli) {
        eprintln!("pipeline-harness: {e:#}");
        std::process::exit(1);
    }
}

fn real_main(cli: &Cli) -> anyhow::Result<()> {
    let mut cfg = match &cli.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("config file {}: {e}", p.display()))?;
            HarnessConfig::from_text(&text, &p.display().to_string())?
        }
        None => HarnessConfig::new()?,
    };
    if let Some(r) = cli.rate {
        cfg.rate = r;
    }
    let (warmup, measure) = if cli.quick {
        (Duration::from_millis(100), Duration::from_millis(300))
    } else {
        (Duration::from_secs(1), Duration::from_secs(5))
    };
    cfg.warmup = cli.warmup.unwrap_or(warmup);
    cfg.measure = cli.duration.unwrap_or(measure);
    cfg.layouts = match cli.layout {
        LayoutArg::Fused => vec![Layout::Fused],
        LayoutArg::Split => vec![Layout::Split],
        LayoutArg::Both => vec![Layout::Fused, Layout::Split],
    };
    cfg.wait = match cli.wait {
        WaitArg::BusySpin => "busy-spin",
        WaitArg::SpinYield => "spin-yield",
        WaitArg::Park => "park",
    }
    .to_owned();
    cfg.journal = cli.journal == OnOff::On;
    cfg.journal_root.clone_from(&cli.journal_dir);
    cfg.keep_journal = cli.keep_journal;
    cfg.rounds = cli.rounds;
    cfg.phases = cli
        .phases
        .iter()
        .map(|p| match p {
            PhaseArg::Latency => Phase::Latency,
            PhaseArg::Throughput => Phase::Throughput,
        })
        .collect();
    cfg.contenders = cli
        .contenders
        .iter()
        .map(|c| match c {
            ContenderArg::Tickline => Contender::Tickline,
            ContenderArg::CrossbeamChannel => Contender::CrossbeamChannel,
            ContenderArg::StdMpsc => Contender::StdMpsc,
            ContenderArg::Floor => Contender::Floor,
        })
        .collect();
    let report = run(&cfg, |label| eprintln!("pipeline-harness: running {label}"))?;
    let md = report.write(&cli.out)?;
    if cli.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.table());
    }
    eprintln!("pipeline-harness: report written to {}", md.display());
    Ok(())
}
