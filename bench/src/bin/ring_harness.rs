//! `ring-harness`: our ring against disruptor-rs, crossbeam's `ArrayQueue` and channel, and a
//! bare atomic ping-pong, with round-trip percentiles, throughput and ratios in one table.
//!
//! ```text
//! cargo run --release -p tickline-bench --bin ring-harness -- --iters 2000000 --cores 0,1
//! cargo run --release -p tickline-bench --bin ring-harness -- --quick --json
//! ```

#![forbid(unsafe_code)]

use clap::{Parser, ValueEnum};
use tickline_bench::ring_contenders::Wait;
use tickline_bench::ring_harness::{run, HarnessConfig};
use tickline_engine::ring::WaitStrategy;

/// Ring benchmark harness: RTT percentiles (ns) and throughput (M msgs/s) per contender.
#[derive(Debug, Parser)]
#[command(name = "ring-harness", version)]
struct Cli {
    /// Timed round trips per contender [default: 1000000; 2000 with --quick].
    #[arg(long)]
    iters: Option<u64>,
    /// Messages per throughput run [default: 4 x iters; 20000 with --quick].
    #[arg(long)]
    msgs: Option<u64>,
    /// Runs per contender, interleaved across contenders [default: 5; 2 with --quick].
    #[arg(long)]
    runs: Option<u32>,
    /// Pin thread A and thread B to these cores, e.g. `--cores 0,1` (unpinned if absent, or
    /// if either core is not available to this process).
    #[arg(long, value_parser = parse_cores, value_name = "A,B")]
    cores: Option<[usize; 2]>,
    /// How both threads wait when there is nothing to do.
    #[arg(long, value_enum, default_value_t = WaitArg::BusySpin)]
    wait: WaitArg,
    /// Slots per queue (a power of two).
    #[arg(long, default_value_t = tickline_bench::ring_contenders::DEFAULT_CAPACITY)]
    capacity: usize,
    /// A smoke run of a few hundred milliseconds (for CI); measures nothing reliably.
    #[arg(long)]
    quick: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// `--wait` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum WaitArg {
    /// The engine's `BusySpin` (spin with a `spin_loop` hint).
    BusySpin,
    /// The engine's `SpinYield` (spin 1000 polls, then yield): for machines with few cores.
    SpinYield,
    /// Spin with no hint at all: the floor, not something the engine offers.
    HotSpin,
}

/// Parses `--cores A,B`.
fn parse_cores(s: &str) -> Result<[usize; 2], String> {
    let bad = || format!("expected two core ids as A,B (e.g. 0,1), got {s:?}");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let id = |x: &str| x.trim().parse::<usize>().map_err(|_| bad());
    Ok([id(a)?, id(b)?])
}

fn main() {
    let cli = Cli::parse();
    if !cli.capacity.is_power_of_two() {
        eprintln!("ring-harness: --capacity {} is not a power of two", cli.capacity);
        std::process::exit(2);
    }
    let wait = match cli.wait {
        WaitArg::BusySpin => Wait::Engine(WaitStrategy::BusySpin),
        WaitArg::SpinYield => Wait::Engine(WaitStrategy::spin_yield()),
        WaitArg::HotSpin => Wait::HotSpin,
    };
    let mut config = if cli.quick {
        HarnessConfig::quick(wait)
    } else {
        HarnessConfig::new(cli.iters.unwrap_or(1_000_000), wait)
    };
    if let Some(iters) = cli.iters {
        config.iters = iters;
    }
    if let Some(msgs) = cli.msgs {
        config.msgs = msgs;
    }
    if let Some(runs) = cli.runs {
        config.runs = runs.max(1);
    }
    config.capacity = cli.capacity;
    config.cores = cli.cores;

    let report = run(&config);
    if let Some(note) = &report.pin_note {
        eprintln!("ring-harness: {note}");
    }
    if cli.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.table());
    }
}
