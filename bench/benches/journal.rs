//! The journal's append path and its recovery scan, side by side with baselines.
//!
//! - `journal_append`: 64-byte records appended from the writer thread, 100,000 per
//!   iteration (elements/s). `tickline_page_cache` is [`Writer::append`] in `page_cache` mode
//!   (what a `kill -9` needs; no syscall), `tickline_periodic_10ms` in the default mode (a
//!   background msync every 10 ms); `bufwriter_file` is the buffered-file baseline: the same
//!   32-byte header with its CRC32C and the payload, through a 64 KiB `BufWriter<File>`;
//!   `harness` is the loop with nothing appended. Sealed segments are pruned between
//!   iterations (untimed) so a long run does not fill the disk.
//!
//! Under `cargo bench` (not in `cargo test`, not in CI) it first prints, for each contender,
//! records/s over 5 M appends and p50/p99/p99.9/max of per-append time (batches of 16
//! appends timed together, so the timer's own ~20 ns does not swamp a ~10 ns append), then
//! the recovery figures: a 1 GiB segment of 64-byte records written, then (from the page
//! cache) `Writer::open`'s recovery scan of it, a `Reader` pass and `verify`. Set
//! `TICKLINE_BENCH_DIR` to put the 2 GiB of scratch files somewhere other than the system temp
//! directory.
//!
//! ```text
//! cargo bench -p tickline-bench --bench journal
//! ```

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, SamplingMode, Throughput};
use hdrhistogram::Histogram;
use tickline_journal::{
    prune, verify, Durability, JournalConfig, PruneBudget, Reader, RecoveryPolicy, Writer,
};

const PAYLOAD: usize = 64;
/// Records per criterion iteration.
const PER_ITER: u64 = 100_000;
/// Records per percentile run.
const PERCENTILE_RECORDS: u64 = 5_000_000;
/// Appends timed together in the percentile run.
const BATCH: u64 = 16;
/// Journal bytes kept while benchmarking; older sealed segments are removed.
const KEEP_BYTES: u64 = 512 << 20;
/// Highest value the percentile histograms hold (60 s in their units); larger ones are
/// clamped to it.
const HIST_MAX: u64 = 600_000_000_000;
/// The recovery goal's segment size.
const RECOVERY_BYTES: u64 = 1 << 30;

fn scratch(tag: &str) -> PathBuf {
    let base =
        std::env::var_os("TICKLINE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let d = base.join(format!("tickline-bench-journal-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn payload() -> [u8; PAYLOAD] {
    let mut p = [0u8; PAYLOAD];
    for (i, b) in p.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    p
}

/// A writer on a fresh journal.
fn writer(dir: &Path, durability: Durability) -> Writer {
    let mut cfg = JournalConfig::new(dir);
    cfg.durability = durability;
    Writer::open(&cfg).expect("open journal")
}

/// Drops sealed segments past [`KEEP_BYTES`] (untimed housekeeping).
fn trim(dir: &Path) {
    let _ = prune(dir, PruneBudget { max_age: None, max_bytes: Some(KEEP_BYTES) }, false);
}

/// The baseline: the journal's frame (length, type, marker, sequence, timestamp, CRC32C,
/// payload, padded to 8) written through a buffered file.
struct Buffered {
    out: BufWriter<File>,
    seq: u64,
    written: u64,
}

impl Buffered {
    fn new(dir: &Path) -> Buffered {
        let f = File::create(dir.join("baseline.bin")).expect("baseline file");
        Buffered { out: BufWriter::with_capacity(64 << 10, f), seq: 0, written: 0 }
    }

    #[inline]
    fn append(&mut self, kind: u16, ts: i64, payload: &[u8]) -> std::io::Result<u64> {
        let mut head = [0u8; 32];
        head[0..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        head[4..6].copy_from_slice(&kind.to_le_bytes());
        head[6..8].copy_from_slice(&0x544cu16.to_le_bytes());
        head[8..16].copy_from_slice(&self.seq.to_le_bytes());
        head[16..24].copy_from_slice(&ts.to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&head[..24]), payload);
        head[24..28].copy_from_slice(&crc.to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(payload)?;
        let pad = (8 - payload.len() % 8) % 8;
        self.out.write_all(&[0u8; 8][..pad])?;
        self.seq += 1;
        self.written += (32 + payload.len() + pad) as u64;
        Ok(self.seq - 1)
    }

    /// Starts the file over once it passes [`KEEP_BYTES`] (untimed housekeeping).
    fn trim(&mut self) {
        if self.written > KEEP_BYTES {
            let _ = self.out.flush();
            let f = self.out.get_mut();
            let _ = f.set_len(0);
            let _ = f.rewind();
            self.written = 0;
        }
    }
}

fn journal_append(c: &mut Criterion) {
    let p = payload();
    let mut group = c.benchmark_group("journal_append");
    group.throughput(Throughput::Elements(PER_ITER));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    for (name, mode) in [
        ("tickline_page_cache", Durability::PageCache),
        ("tickline_periodic_10ms", Durability::Periodic { interval_ms: 10 }),
    ] {
        let dir = scratch(name);
        let mut w = writer(&dir, mode);
        let mut ts = 0i64;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                trim(&dir);
                let start = Instant::now();
                for _ in 0..iters * PER_ITER {
                    ts += 1;
                    black_box(w.append(1, ts, black_box(&p)).expect("append"));
                }
                start.elapsed()
            })
        });
        w.close().expect("close");
        let _ = std::fs::remove_dir_all(&dir);
    }
    let dir = scratch("bufwriter");
    let mut base = Buffered::new(&dir);
    let mut ts = 0i64;
    group.bench_function("bufwriter_file", |b| {
        b.iter_custom(|iters| {
            base.trim();
            let start = Instant::now();
            for _ in 0..iters * PER_ITER {
                ts += 1;
                black_box(base.append(1, ts, black_box(&p)).expect("write"));
            }
            start.elapsed()
        })
    });
    drop(base);
    let _ = std::fs::remove_dir_all(&dir);
    group.bench_function("harness", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for i in 0..iters * PER_ITER {
                black_box((i, black_box(&p)));
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, journal_append);

/// Runs `append` [`PERCENTILE_RECORDS`] times in timed batches of [`BATCH`]; prints records/s
/// and per-append percentiles; returns records/s.
fn percentiles(name: &str, mut append: impl FnMut(i64), mut housekeeping: impl FnMut()) -> f64 {
    // Bounded explicitly: `new(3)` starts at a highest value of 2047 (204.7 ns here) and
    // `saturating_record` clamps rather than grows, which hid every stall from p99.9 and max.
    let mut h = Histogram::<u64>::new_with_bounds(1, HIST_MAX, 3).expect("histogram");
    let mut ts = 0i64;
    // Warm-up: fault in the first segments, settle the caches.
    for _ in 0..200_000 {
        ts += 1;
        append(ts);
    }
    let mut busy = Duration::ZERO;
    let batches = PERCENTILE_RECORDS / BATCH;
    for i in 0..batches {
        if i % 65_536 == 0 {
            housekeeping();
        }
        let t = Instant::now();
        for _ in 0..BATCH {
            ts += 1;
            append(ts);
        }
        let e = t.elapsed();
        busy += e;
        // Per-append time within the batch, in tenths of a nanosecond.
        h.saturating_record((e.as_nanos() as u64 * 10) / BATCH);
    }
    let rate = PERCENTILE_RECORDS as f64 / busy.as_secs_f64();
    let q = |p: f64| h.value_at_quantile(p) as f64 / 10.0;
    println!(
        "{name:<24} {:>7.2} M records/s   p50 {:>6.1} ns  p99 {:>6.1} ns  p99.9 {:>7.1} ns  max {:>9.1} ns",
        rate / 1e6,
        q(0.5),
        q(0.99),
        q(0.999),
        h.max() as f64 / 10.0
    );
    rate
}

fn print_append_percentiles() {
    println!("\njournal append, 64-byte records, {PERCENTILE_RECORDS} per contender (batches of {BATCH} timed together; per-append figures)");
    let p = payload();
    let mut rates = Vec::new();
    for (name, mode) in [
        ("tickline_page_cache", Durability::PageCache),
        ("tickline_periodic_10ms", Durability::Periodic { interval_ms: 10 }),
    ] {
        let dir = scratch(name);
        let mut w = writer(&dir, mode);
        let r = percentiles(
            name,
            |ts| {
                black_box(w.append(1, ts, black_box(&p)).expect("append"));
            },
            || trim(&dir),
        );
        let stats = w.stats();
        w.close().expect("close");
        println!(
            "{:<24} {} rolls, {} waited for the next segment",
            "", stats.rolls, stats.roll_stalls
        );
        rates.push((name, r));
        let _ = std::fs::remove_dir_all(&dir);
    }
    let dir = scratch("bufwriter");
    let mut base = Buffered::new(&dir);
    let r = {
        // Both closures need the baseline; they never run at the same time.
        let b = std::cell::RefCell::new(&mut base);
        percentiles(
            "bufwriter_file",
            |ts| {
                black_box(b.borrow_mut().append(1, ts, black_box(&p)).expect("write"));
            },
            || b.borrow_mut().trim(),
        )
    };
    drop(base);
    let _ = std::fs::remove_dir_all(&dir);
    let timer = {
        let mut h = Histogram::<u64>::new_with_bounds(1, HIST_MAX, 3).expect("histogram");
        for _ in 0..1_000_000 {
            let t = Instant::now();
            h.saturating_record(t.elapsed().as_nanos() as u64);
        }
        h
    };
    println!(
        "{:<24} timer floor per batch: p50 {} ns, p99 {} ns (divide by {BATCH} per append)",
        "harness",
        timer.value_at_quantile(0.5),
        timer.value_at_quantile(0.99)
    );
    for (name, rate) in rates {
        println!("{name:<24} {:.2}x the buffered-file baseline's rate", rate / r);
    }
}

fn print_recovery() {
    println!(
        "\njournal recovery scan, one {} MiB segment of 64-byte records",
        RECOVERY_BYTES >> 20
    );
    let dir = scratch("recovery");
    let p = payload();
    let mut cfg = JournalConfig::new(&dir);
    cfg.segment_size = RECOVERY_BYTES;
    cfg.durability = Durability::PageCache;
    cfg.pretouch = false;
    cfg.recovery = RecoveryPolicy::TruncateTornTail;
    let records = (RECOVERY_BYTES - 64) / (32 + PAYLOAD as u64) - 1;
    let t = Instant::now();
    {
        let mut w = Writer::open(&cfg).expect("open");
        for i in 0..records {
            w.append(1, i as i64, &p).expect("append");
        }
        w.close().expect("close");
    }
    println!("{:<24} {records} records in {:.0} ms", "write", t.elapsed().as_secs_f64() * 1e3);
    // Read once so the scans below are from the page cache; then the floor: the file read in
    // 1 MiB chunks and CRC32C'd in one pass (no framing, no map).
    let seg = dir.join(format!("{:020}.tlj", 0));
    let floor = || {
        use std::io::Read;
        let mut f = File::open(&seg).expect("segment");
        let mut buf = vec![0u8; 1 << 20];
        let mut crc = 0u32;
        loop {
            let n = f.read(&mut buf).expect("read");
            if n == 0 {
                break crc;
            }
            crc = crc32c::crc32c_append(crc, &buf[..n]);
        }
    };
    black_box(floor());
    let t = Instant::now();
    black_box(floor());
    println!(
        "{:<24} read(2) + one CRC32C over the file: {:.1} ms (the floor)",
        "floor",
        t.elapsed().as_secs_f64() * 1e3
    );
    for round in 0..3 {
        let t = Instant::now();
        let w = Writer::open(&cfg).expect("reopen");
        let open = t.elapsed();
        let rec = w.recovery().clone();
        assert_eq!(rec.records, records, "recovery found every record");
        drop(w);
        println!(
            "{:<24} Writer::open (recovery scan, every CRC): {:.1} ms, {:.2} GB/s (round {round})",
            "recovery",
            open.as_secs_f64() * 1e3,
            RECOVERY_BYTES as f64 / open.as_secs_f64() / 1e9
        );
    }
    let t = Instant::now();
    let n = Reader::open(&dir).expect("reader").count();
    println!(
        "{:<24} Reader, every record copied out: {:.1} ms ({n} records)",
        "read",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let v = verify(&dir).expect("verify");
    assert!(v.is_clean());
    println!("{:<24} {:.1} ms", "verify", t.elapsed().as_secs_f64() * 1e3);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    if std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--list") {
        print_append_percentiles();
        print_recovery();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
