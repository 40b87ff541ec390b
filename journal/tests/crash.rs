//! Crash test: `kill -9` a writer process at random moments, again and again.
//!
//! The test binary re-executes itself as the writer child (selected by an environment
//! variable). The child appends deterministic records (contents derived from the sequence
//! number) in random batches, commits each batch, and appends the committed sequence to a
//! side file after every commit. The parent kills it with SIGKILL after a random delay, then
//! checks that recovery succeeds, `verify` is clean, and every record the child ever
//! reported committed is present and intact. A tailer thread in the parent follows the
//! journal through every kill, restart and segment roll, and must see one unbroken,
//! intact sequence.
//!
//! `harness = false`: `main` is the test. Pass a seed in `TICKLINE_CRASH_SEED` to replay a
//! run.

mod common;

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{check_record, config, kind_for, payload_for, ts_for, TempDir};
use tickline_journal::{verify, Durability, Reader, Start, TailOptions, Tailer, Writer};

const CHILD_ENV: &str = "TICKLINE_JOURNAL_CRASH_CHILD";
const KILLS: usize = 60;
const MODES: [(&str, Durability); 3] = [
    ("page_cache", Durability::PageCache),
    ("periodic", Durability::Periodic { interval_ms: 2 }),
    ("batch", Durability::Batch),
];

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tests = ["crash_kill_9", "tail_another_process"];
    if args.iter().any(|a| a == "--list") {
        for t in tests {
            println!("{t}: test");
        }
        return;
    }
    let filters: Vec<&str> =
        args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let selected = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f));
    if selected("crash_kill_9") {
        crash_kill_9();
    }
    if selected("tail_another_process") {
        tail_another_process();
    }
}

/// xorshift64*: enough randomness for delays and batch sizes, reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The writer child: `dir|mode|side file|record limit (0: none)|seed`.
fn child(spec: &str) {
    let parts: Vec<&str> = spec.split('|').collect();
    let [dir, mode, side, limit, seed] = parts[..] else { panic!("bad child spec {spec:?}") };
    let durability = MODES.iter().find(|m| m.0 == mode).expect("mode").1;
    let limit: u64 = limit.parse().unwrap();
    let mut rng = Rng(seed.parse::<u64>().unwrap() | 1);
    let mut w = match Writer::open(&config(Path::new(dir), durability)) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("child: open failed: {e}");
            std::process::exit(2);
        }
    };
    let mut side = OpenOptions::new().create(true).append(true).open(side).unwrap();
    let mut line = String::new();
    loop {
        for _ in 0..1 + rng.below(48) {
            let seq = w.next_seq();
            w.append(kind_for(seq), ts_for(seq), &payload_for(seq)).unwrap();
        }
        if let Some(c) = w.commit().unwrap() {
            // One write per line, so a kill leaves whole lines and at most one partial one.
            line.clear();
            line.push_str(&c.to_string());
            line.push('\n');
            side.write_all(line.as_bytes()).unwrap();
        }
        if limit != 0 && w.next_seq() >= limit {
            w.close().unwrap();
            return;
        }
        if rng.below(4) == 0 {
            std::thread::sleep(Duration::from_micros(100 + rng.below(400)));
        }
    }
}

fn spawn_child(dir: &Path, mode: &str, side: &Path, limit: u64, seed: u64) -> std::process::Child {
    let spec = format!("{}|{mode}|{}|{limit}|{seed}", dir.display(), side.display());
    Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The highest committed sequence in the side file's complete lines.
fn reported_committed(side: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(side).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete.lines().map(|l| l.parse::<u64>().expect("side file line")).max()
}

fn seed() -> u64 {
    match std::env::var("TICKLINE_CRASH_SEED") {
        Ok(s) => s.parse().expect("TICKLINE_CRASH_SEED is a u64"),
        Err(_) => {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
            t.as_nanos() as u64 ^ u64::from(std::process::id())
        }
    }
}

fn crash_kill_9() {
    let started = Instant::now();
    let seed = seed();
    println!("crash_kill_9: seed {seed} (TICKLINE_CRASH_SEED={seed} replays it)");
    let mut rng = Rng(seed | 1);
    let tmp = TempDir::new("crash");
    let dir: PathBuf = tmp.join("journal");
    std::fs::create_dir_all(&dir).unwrap();
    let side = tmp.join("committed.log");

    // A tailer follows the whole run, across kills, recoveries and rolls.
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let tail = {
        let (dir, target) = (dir.clone(), Arc::clone(&target));
        std::thread::spawn(move || {
            let opts =
                TailOptions { poll_interval: Duration::from_millis(1), ..TailOptions::default() };
            let mut t = Tailer::open(&dir, Start::Beginning, opts).unwrap();
            let mut next = 0u64;
            let mut idle_since = Instant::now();
            while next < target.load(Ordering::Acquire) {
                match t.next_timeout(Duration::from_millis(50)).unwrap() {
                    Some(rec) => {
                        assert_eq!(rec.seq, next, "tailer skipped or repeated a record");
                        check_record(&rec);
                        next += 1;
                        idle_since = Instant::now();
                    }
                    None => assert!(
                        idle_since.elapsed() < Duration::from_secs(60),
                        "tailer stuck at {next}"
                    ),
                }
            }
            next
        })
    };

    let mut committed_max: Option<u64> = None;
    let mut truncations = 0;
    let mut checked = 0u64;
    let mut early_kills = 0;
    let mut last_next = 0;
    for kill in 0..KILLS {
        let (mode, durability) = MODES[kill % MODES.len()];
        let mut child = spawn_child(&dir, mode, &side, 0, rng.next());
        std::thread::sleep(Duration::from_micros(2_000 + rng.below(30_000)));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if status.success() || status.code().is_some() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("kill {kill}: the child exited by itself ({status}): {err}");
        }
        let reported = reported_committed(&side);
        committed_max = committed_max.max(reported);

        // Recovery succeeds and resumes after every committed record.
        let w = Writer::open(&config(&dir, durability))
            .unwrap_or_else(|e| panic!("kill {kill} ({mode}): recovery failed: {e}"));
        if w.recovery().truncated.is_some() {
            truncations += 1;
        }
        let next = w.next_seq();
        if next == last_next {
            early_kills += 1;
        }
        assert!(next >= last_next, "kill {kill}: records vanished ({next} < {last_next})");
        last_next = next;
        if let Some(c) = committed_max {
            assert!(next > c, "kill {kill} ({mode}): committed {c} but the journal ends at {next}");
        }
        drop(w);

        // Verify is clean.
        let report = verify(&dir).unwrap();
        assert!(report.is_clean(), "kill {kill} ({mode}): {:#?}", report.issues);
        assert_eq!(report.records, next);

        // Every record is present and intact (those reported committed among them).
        let mut n = 0;
        let mut r = Reader::open(&dir).unwrap();
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!(rec.seq, n);
            check_record(&rec);
            n += 1;
        }
        assert_eq!(n, next);
        checked += n;
    }
    target.store(last_next, Ordering::Release);
    let tailed = tail.join().expect("tailer thread");
    assert_eq!(tailed, last_next);

    let committed = committed_max.map_or(0, |c| c + 1);
    println!(
        "crash_kill_9: {KILLS} kills ({early_kills} before the child appended), {truncations} torn \
         tails recovered, {last_next} records in the journal, {committed} reported committed, \
         {checked} record reads verified, tailer saw all {tailed}; {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(committed > 0, "the child never committed anything");
    println!("test crash_kill_9 ... ok");
}

fn tail_another_process() {
    let tmp = TempDir::new("tailproc");
    let dir = tmp.join("journal");
    std::fs::create_dir_all(&dir).unwrap();
    let side = tmp.join("committed.log");
    let limit = 20_000;
    let mut t = Tailer::open(&dir, Start::Beginning, TailOptions::default()).unwrap();
    let mut child = spawn_child(&dir, "periodic", &side, limit, seed());
    let mut next = 0;
    while next < limit {
        let rec = t.next_timeout(Duration::from_secs(30)).unwrap().expect("tailer stalled");
        assert_eq!(rec.seq, next);
        check_record(&rec);
        next += 1;
        if next == 10 {
            // The child holds the journal: a second writer is refused, by the child's pid.
            let err = Writer::open(&config(&dir, Durability::PageCache)).unwrap_err();
            assert!(matches!(err, tickline_journal::Error::Locked { .. }), "{err}");
            assert!(err.to_string().contains(&format!("pid {}", child.id())), "{err}");
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "writer child failed: {status}");
    let segments = tickline_journal::list_segments(&dir).unwrap().len();
    assert!(segments > 10, "only {segments} segments: no rolls to follow");
    println!("test tail_another_process ... ok ({next} records across {segments} segments)");
}
