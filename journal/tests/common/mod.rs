//! Helpers shared by the journal's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tickline_journal::{Durability, JournalConfig, Record};

/// A directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("tickline-journal-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small-segment config, so tests cross many segment boundaries.
pub fn config(dir: &Path, durability: Durability) -> JournalConfig {
    let mut c = JournalConfig::new(dir);
    c.segment_size = 64 << 10;
    c.durability = durability;
    c
}

/// Deterministic record contents for a sequence number, so any process can check any record.
pub fn kind_for(seq: u64) -> u16 {
    (seq % 7) as u16 + 1
}

pub fn ts_for(seq: u64) -> i64 {
    1_700_000_000_000_000_000 + (seq as i64) * 1_000
}

pub fn payload_for(seq: u64) -> Vec<u8> {
    // Mostly small records, every eighth a big one (a longer window for a kill mid-append).
    let len = if seq % 8 == 7 {
        2_000 + (seq % 8_000) as usize
    } else {
        (seq.wrapping_mul(2_654_435_761) % 181) as usize
    };
    let mut x = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Appends the deterministic record for `seq`, checking the writer agrees on the sequence.
pub fn append_seq(w: &mut tickline_journal::Writer, seq: u64) {
    assert_eq!(w.next_seq(), seq);
    let got = w.append(kind_for(seq), ts_for(seq), &payload_for(seq)).unwrap();
    assert_eq!(got, seq);
}

/// Panics unless `r` is the deterministic record for its sequence.
pub fn check_record(r: &Record<'_>) {
    assert_eq!(r.kind, kind_for(r.seq), "kind of seq {}", r.seq);
    assert_eq!(r.ts_ns, ts_for(r.seq), "ts of seq {}", r.seq);
    assert_eq!(r.payload, &payload_for(r.seq)[..], "payload of seq {}", r.seq);
}

pub const ALL_MODES: [Durability; 3] =
    [Durability::PageCache, Durability::Periodic { interval_ms: 2 }, Durability::Batch];
