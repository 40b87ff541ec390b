//! Any bytes as journal segment files, read every way a tool reads them: `Reader` from the
//! start and from a sequence and a time, `verify`, `list_segments`, a `Tailer` poll, and
//! writer recovery. Nothing may panic; and when `verify` calls a journal clean, a reader must
//! read every record it counted, in sequence, without an error.
//!
//! The first input byte picks the mode: even, the rest of the input is the raw bytes of one to
//! three segment files; odd, it is a list of 5-byte patches (offset, XOR mask) and a final
//! length cut applied to a valid two-segment journal, which keeps the fuzzer near the format.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tickline_journal::{
    format::segment_file_name, list_segments, verify, Durability, JournalConfig, Reader,
    RecoveryPolicy, Start, TailOptions, Tailer, Writer,
};

const SEG: u64 = 64 << 10;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("tickline-journal-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    })
}

/// A valid journal spanning two segments, as file bytes.
fn seed() -> &'static Vec<Vec<u8>> {
    static SEED: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEED.get_or_init(|| {
        let d = scratch().with_extension("seed");
        let _ = std::fs::remove_dir_all(&d);
        let mut cfg = JournalConfig::new(&d);
        cfg.segment_size = SEG;
        cfg.durability = Durability::PageCache;
        cfg.pretouch = false;
        let mut w = Writer::open(&cfg).expect("seed writer");
        let mut i = 0u64;
        while w.active_segment() < 1 || i < 10 {
            let len = (i * 37 % 300) as usize;
            w.append((i % 9) as u16 + 1, i as i64 * 1_000, &vec![i as u8; len]).expect("append");
            i += 1;
        }
        w.close().expect("close");
        let files = (0..2).map(|k| std::fs::read(d.join(segment_file_name(k))).expect("seed file")).collect();
        let _ = std::fs::remove_dir_all(&d);
        files
    })
}

fn write_files(dir: &Path, files: &[Vec<u8>]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("scratch dir");
    for (k, f) in files.iter().enumerate() {
        std::fs::write(dir.join(segment_file_name(k as u64)), f).expect("write segment");
    }
}

fn read_all(dir: &Path, start: Start) -> (u64, Option<u64>, bool) {
    let Ok(mut r) = Reader::open_at(dir, start) else { return (0, None, true) };
    let (mut n, mut last) = (0u64, None::<u64>);
    loop {
        match r.next_record() {
            Ok(Some(rec)) => {
                if let Some(l) = last {
                    assert_eq!(rec.seq, l + 1, "reader skipped or repeated a sequence");
                }
                last = Some(rec.seq);
                n += 1;
            }
            Ok(None) => return (n, last, false),
            Err(e) => {
                let _ = e.to_string();
                return (n, last, true);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let files: Vec<Vec<u8>> = if mode % 2 == 0 {
        let n = 1 + usize::from(mode / 2 % 3);
        let size = rest.len().div_ceil(n).max(1);
        rest.chunks(size).map(<[u8]>::to_vec).collect()
    } else {
        let mut files = seed().clone();
        let total: usize = files.iter().map(Vec::len).sum();
        let mut patches = rest.chunks_exact(5);
        for p in &mut patches {
            let off = u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize % total;
            let (k, at) = if off < files[0].len() { (0, off) } else { (1, off - files[0].len()) };
            files[k][at] ^= p[4];
        }
        if let [cut, ..] = patches.remainder() {
            let last = files.len() - 1;
            let keep = files[last].len() * usize::from(*cut) / 255;
            files[last].truncate(keep);
        }
        files
    };
    let dir = scratch();
    write_files(dir, &files);

    let report = verify(dir);
    let _ = list_segments(dir);
    let (n, last, failed) = read_all(dir, Start::Beginning);
    if let Ok(v) = &report {
        for issue in &v.issues {
            let _ = issue.to_string();
        }
        if v.is_clean() {
            assert!(!failed, "verify is clean but the reader failed");
            assert_eq!(n, v.records, "verify and the reader disagree on the record count");
            assert_eq!(last, v.last_seq);
        }
    }
    if let Some(l) = last {
        let _ = read_all(dir, Start::Seq(l / 2));
        let _ = read_all(dir, Start::Time(500_000));
        let _ = read_all(dir, Start::End);
    }
    if let Ok(mut t) = Tailer::open(dir, Start::Beginning, TailOptions::default()) {
        for _ in 0..4 {
            if !matches!(t.poll(), Ok(Some(_))) {
                break;
            }
        }
    }
    // Recovery on the same bytes: an error or a journal that opens; never a panic.
    for policy in [RecoveryPolicy::TruncateTornTail, RecoveryPolicy::TruncateCorrupt] {
        write_files(dir, &files);
        let mut cfg = JournalConfig::new(dir);
        cfg.segment_size = SEG;
        cfg.durability = Durability::PageCache;
        cfg.pretouch = false;
        cfg.recovery = policy;
        if let Ok(w) = Writer::open(&cfg) {
            let _ = w.close();
        }
    }
});
