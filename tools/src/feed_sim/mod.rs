//! `tickline feed-sim`: a loopback exchange for the feed handlers to connect to.
//!
//! It serves Binance-format combined streams plus `GET /api/v3/depth`, or OKX-format public
//! channels, on one port of 127.0.0.1, from a capture (at its recorded pace or as fast as the
//! client reads) or from a seeded synthetic book at a set rate, and injects faults on cue
//! ([`fault`]): dropped diffs (a gap), disconnects, stalls, malformed JSON, oversized and
//! binary frames, ping storms, out-of-order diffs and every kind of bad value.
//!
//! ```text
//! tickline feed-sim --venue binance --symbols BTCUSDT --rate 2000 --fault drop@500 --fault stall@900:3000
//! feed-sim binance listening on 127.0.0.1:40123
//! ```
//!
//! Threads: one venue thread (the timeline), one accept thread, one per connection. It is a
//! test tool, never on a hot core.

pub mod book;
pub mod fault;
pub mod server;
pub mod venue;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tickline_feeds::capture::CaptureReader;
use tickline_feeds::venue::binance::is_depth_snapshot;

pub use fault::Fault;
pub use venue::{Pace, SimVenue, Source};
use venue::{Shared, SimStats, VenueState};

/// `tickline feed-sim` options.
#[derive(Clone, Debug, clap::Args)]
pub struct FeedSimArgs {
    /// Venue format to serve.
    #[arg(long, value_enum, default_value = "binance")]
    pub venue: SimVenue,
    /// Address to listen on: loopback only (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Replay this capture (`<recv_ns> <frame>` lines, plain or gzip) instead of a synthetic book.
    #[arg(long)]
    pub capture: Option<PathBuf>,
    /// Capture pacing.
    #[arg(long, value_enum, default_value = "recorded")]
    pub pace: Pace,
    /// Synthetic book updates per second over all symbols (0 = as fast as the clients read).
    #[arg(long, default_value_t = 1_000)]
    pub rate: u64,
    /// Symbols (default: BTCUSDT for Binance, BTC-USDT for OKX; a capture's own when replaying).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// A fault: KIND@N (once, at data frame N) or KIND%N (every N), optional :ARG. Repeatable.
    /// Kinds: drop, disconnect, close, stall:MS, malformed, oversized:BYTES, binary,
    /// ping-storm:COUNT, reorder, bad:VALUE.
    #[arg(long = "fault")]
    pub faults: Vec<Fault>,
    /// Stop producing after this many data frames (connections stay open).
    #[arg(long)]
    pub max_frames: Option<u64>,
    /// Exit after this long ("30s"); absent = until SIGINT/SIGTERM.
    #[arg(long)]
    pub duration: Option<String>,
    /// Seed of the synthetic book.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A running simulator.
#[derive(Debug)]
pub struct FeedSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// A capture in memory.
struct LoadedCapture {
    /// `(recv_ns, line)` in order.
    lines: Vec<(i64, String)>,
    /// Symbols found in its stream frames.
    symbols: Vec<String>,
    /// Its first REST snapshot line.
    snapshot: Option<String>,
}

/// Loads a capture into memory and finds its symbols and first snapshot line.
fn load_capture(path: &std::path::Path, venue: SimVenue) -> anyhow::Result<LoadedCapture> {
    let mut reader = CaptureReader::open(path)?;
    let mut lines = Vec::new();
    let mut symbols: Vec<String> = Vec::new();
    let mut snapshot = None;
    while let Some(f) = reader.next_frame()? {
        let text = String::from_utf8_lossy(f.frame).into_owned();
        if is_depth_snapshot(f.frame) {
            snapshot.get_or_insert_with(|| text.clone());
        } else if symbols.len() < 64 && lines.len() < 10_000 {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let sym = match venue {
                SimVenue::Binance => v
                    .get("stream")
                    .and_then(|s| s.as_str())
                    .and_then(|s| s.split('@').next())
                    .map(str::to_ascii_uppercase),
                SimVenue::Okx => {
                    v.pointer("/arg/instId").and_then(|s| s.as_str()).map(str::to_owned)
                }
            };
            if let Some(sym) = sym.filter(|s| !symbols.contains(s)) {
                symbols.push(sym);
            }
        }
        lines.push((f.recv_ns.0, text));
    }
    Ok(LoadedCapture { lines, symbols, snapshot })
}

impl FeedSim {
    /// Starts serving per `args` (its `duration` is the caller's business).
    pub fn start(args: &FeedSimArgs) -> anyhow::Result<FeedSim> {
        if !args.listen.ip().is_loopback() {
            bail!(
                "--listen {}: feed-sim serves the loopback interface only (127.0.0.1 or ::1)",
                args.listen
            );
        }
        let (state, source) = match &args.capture {
            Some(path) => {
                let LoadedCapture { lines, symbols: found, snapshot } =
                    load_capture(path, args.venue)
                        .with_context(|| format!("reading capture {}", path.display()))?;
                if lines.is_empty() {
                    bail!("capture {} holds no frames", path.display());
                }
                let symbols = if args.symbols.is_empty() { found } else { args.symbols.clone() };
                (
                    VenueState::capture(args.venue, &symbols, snapshot),
                    Source::Capture { lines: Arc::new(lines), pace: args.pace },
                )
            }
            None => {
                let symbols = if args.symbols.is_empty() {
                    vec![match args.venue {
                        SimVenue::Binance => "BTCUSDT".to_owned(),
                        SimVenue::Okx => "BTC-USDT".to_owned(),
                    }]
                } else {
                    args.symbols.clone()
                };
                (
                    VenueState::synthetic(args.venue, &symbols, args.seed),
                    Source::Synthetic { rate: args.rate },
                )
            }
        };
        let listener =
            TcpListener::bind(args.listen).with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            venue: Mutex::new(state),
            stop: AtomicBool::new(false),
            stats: SimStats::default(),
        });
        let mut threads = Vec::new();
        let s = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("feed-sim-accept".into())
                .spawn(move || server::accept_loop(listener, s))?,
        );
        let s = Arc::clone(&shared);
        let faults = args.faults.clone();
        let max = args.max_frames;
        threads.push(
            std::thread::Builder::new()
                .name("feed-sim-venue".into())
                .spawn(move || venue::run_venue(&s, source, &faults, max))?,
        );
        Ok(FeedSim { addr, shared, threads: Mutex::new(threads) })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counters so far.
    pub fn stats(&self) -> &SimStats {
        &self.shared.stats
    }

    /// Stops every thread and waits for them.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for FeedSim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `tickline feed-sim`: serve until `stop` (a signal) or `--duration`.
pub fn run(args: &FeedSimArgs, stop: &AtomicBool) -> anyhow::Result<()> {
    let duration = match &args.duration {
        Some(d) => Some(
            crate::config::parse_duration(d)
                .with_context(|| format!("--duration {d:?} is not a duration like \"30s\""))?,
        ),
        None => None,
    };
    let sim = FeedSim::start(args)?;
    let venue = match args.venue {
        SimVenue::Binance => "binance",
        SimVenue::Okx => "okx",
    };
    println!("feed-sim {venue} listening on {}", sim.addr());
    std::io::stdout().flush()?;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) && duration.is_none_or(|d| started.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(20));
    }
    sim.stop();
    let s = sim.stats();
    println!(
        "feed-sim done: {} frames produced, {} sent, {} connections, {} snapshots served, {} faults",
        s.frames.load(Ordering::Relaxed),
        s.sent.load(Ordering::Relaxed),
        s.connections.load(Ordering::Relaxed),
        s.snapshots.load(Ordering::Relaxed),
        s.faults.load(Ordering::Relaxed)
    );
    Ok(())
}
