//! Shared helpers of the `feeds_*` end-to-end tests: a registry, a polling loop with a hang
//! guard, and child processes that are always killed.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use tickline_engine::stage::{Feed, TickBatch};
use tickline_engine::types::{Clock, InstrumentId, InstrumentRegistry, InstrumentSpec, Tick};

/// BTCUSDT (binance, prices 0.01, sizes 0.00001) and BTC-USDT (okx, 0.1, 0.0001).
pub fn registry() -> InstrumentRegistry {
    let spec = |symbol: &str, venue: &str, ps: u8, qs: u8| InstrumentSpec {
        symbol: symbol.into(),
        venue: venue.into(),
        price_scale: ps,
        qty_scale: qs,
        tick_size: Decimal::new(1, u32::from(ps)),
        lot_size: Decimal::new(1, u32::from(qs)),
    };
    InstrumentRegistry::build(&[spec("BTCUSDT", "binance", 2, 6), spec("BTC-USDT", "okx", 1, 8)])
        .expect("valid specs")
}

pub const BTCUSDT: InstrumentId = InstrumentId(0);
pub const BTC_USDT: InstrumentId = InstrumentId(1);

/// Polls `feed` until `done` holds (checked every few ms) or `limit` passes (a hang guard,
/// not a timing assertion: the test fails naming what it waited for).
pub fn poll_until<F: Feed + ?Sized>(
    feed: &mut F,
    ticks: &mut Vec<Tick>,
    limit: Duration,
    what: &str,
    mut done: impl FnMut(&F, &[Tick]) -> bool,
) {
    let start = Instant::now();
    let mut batch = TickBatch::new();
    loop {
        batch.clear();
        feed.poll(Clock::now(), &mut batch);
        for i in 0..batch.len() {
            ticks.extend(batch.get(i));
        }
        if done(feed, ticks) {
            return;
        }
        assert!(start.elapsed() < limit, "hang guard: gave up waiting for {what} after {limit:?}");
        if batch.is_empty() {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd`, reads its first stdout line, and returns the port after the last ':'.
pub fn spawn_with_port(mut cmd: Command) -> (Proc, u16) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(l)) = lines.next() {
            let _ = tx.send(l);
        }
        // Keep draining so the child never blocks on a full pipe.
        for _ in lines {}
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).expect("hang guard: no listening line");
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (proc, port)
}
