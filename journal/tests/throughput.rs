//! A rough append-throughput figure, not a benchmark (those live in `bench/`). Ignored by
//! default; run it optimised:
//!
//! ```text
//! cargo test --release -p tickline-journal --test throughput -- --ignored --nocapture
//! ```

mod common;

use std::io::Write;
use std::time::Instant;

use common::TempDir;
use tickline_journal::{Durability, JournalConfig, Writer};

const RECORDS: u64 = 5_000_000;

#[test]
#[ignore = "timing, not a test: run with --release --ignored --nocapture"]
fn append_64_byte_records() {
    let payload = [0xa5u8; 64];
    for mode in [Durability::PageCache, Durability::Periodic { interval_ms: 10 }, Durability::Batch]
    {
        let dir = TempDir::new("tput");
        let mut cfg = JournalConfig::new(dir.path());
        cfg.durability = mode;
        let mut w = Writer::open(&cfg).unwrap();
        let start = Instant::now();
        for i in 0..RECORDS {
            w.append(1, i as i64, &payload).unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        let stats = w.stats();
        w.close().unwrap();
        println!(
            "journal append, {mode:?}: {:.1} M records/s, {:.1} ns/record, {} rolls ({} stalled)",
            RECORDS as f64 / secs / 1e6,
            secs * 1e9 / RECORDS as f64,
            stats.rolls,
            stats.roll_stalls
        );
    }

    // Per-append latency, timer overhead (two `Instant::now()`) included.
    let dir = TempDir::new("tput-lat");
    let mut cfg = JournalConfig::new(dir.path());
    cfg.durability = Durability::PageCache;
    let mut w = Writer::open(&cfg).unwrap();
    let mut lat = Vec::with_capacity(RECORDS as usize);
    for i in 0..RECORDS {
        let t = Instant::now();
        w.append(1, i as i64, &payload).unwrap();
        lat.push(t.elapsed().as_nanos() as u64);
    }
    let stats = w.stats();
    drop(w);
    let timer = {
        let t = Instant::now();
        for _ in 0..1_000_000 {
            std::hint::black_box(Instant::now());
        }
        t.elapsed().as_nanos() as f64 / 1e6
    };
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "journal append latency, PageCache: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns \
         ({} rolls, {} stalled; Instant::now() costs ~{timer:.0} ns)",
        pct(0.5),
        pct(0.99),
        pct(0.999),
        lat[lat.len() - 1],
        stats.rolls,
        stats.roll_stalls
    );

    // Baseline: the same 96-byte frames through a buffered file.
    let dir = TempDir::new("tput-file");
    let file = std::fs::File::create(dir.join("baseline")).unwrap();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut frame = [0u8; 96];
    let start = Instant::now();
    for i in 0..RECORDS {
        frame[8..16].copy_from_slice(&i.to_le_bytes());
        let crc = crc32c::crc32c(&frame[..24]);
        frame[24..28].copy_from_slice(&crc.to_le_bytes());
        frame[32..].copy_from_slice(&payload);
        out.write_all(&frame).unwrap();
    }
    out.flush().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "baseline BufWriter<File>: {:.1} M records/s, {:.1} ns/record",
        RECORDS as f64 / secs / 1e6,
        secs * 1e9 / RECORDS as f64
    );
}
