//! The journal's state as the recorder thread publishes it for the admin port.
//!
//! [`crate::journal_sink::JournalSink`] writes it on the recorder thread (the auxiliary core,
//! never a hot one): relaxed single-writer atomics, one or two stores per record, no lock.
//! The sidecar reads it beside the writer's [`tickline_journal::CommitWatch`].

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use tickline_engine::types::Nanos;
use tickline_journal::format::frame_len;

/// The journal's state, written by the recorder thread only.
#[derive(Debug, Default)]
pub struct JournalProbe {
    writable: AtomicBool,
    /// Bytes appended this session (frames, headers and padding included).
    bytes: AtomicU64,
    /// `bytes` at the last commit.
    committed_bytes: AtomicU64,
    /// Timestamp of the oldest record appended since the last commit, ns; 0 when none.
    oldest_uncommitted_ns: AtomicI64,
}

impl JournalProbe {
    /// Writable, with `bytes` already appended this session (its config and session records).
    pub(crate) fn new(bytes: u64) -> JournalProbe {
        JournalProbe {
            writable: AtomicBool::new(true),
            bytes: AtomicU64::new(bytes),
            committed_bytes: AtomicU64::new(bytes),
            oldest_uncommitted_ns: AtomicI64::new(0),
        }
    }

    /// A record of `payload_len` bytes stamped `ts_ns` was appended.
    #[inline]
    pub(crate) fn appended(&self, payload_len: usize, ts_ns: i64) {
        let b = self.bytes.load(Ordering::Relaxed) + frame_len(payload_len) as u64;
        self.bytes.store(b, Ordering::Relaxed);
        if self.oldest_uncommitted_ns.load(Ordering::Relaxed) == 0 {
            self.oldest_uncommitted_ns.store(ts_ns.max(1), Ordering::Relaxed);
        }
    }

    /// Everything appended is committed.
    pub(crate) fn committed(&self) {
        self.committed_bytes.store(self.bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        self.oldest_uncommitted_ns.store(0, Ordering::Relaxed);
    }

    /// An append or commit failed, or the writer closed: it appends nothing more.
    pub(crate) fn failed(&self) {
        self.writable.store(false, Ordering::Release);
    }

    /// Whether the writer can append: false after an append or commit failed, and once closed.
    pub fn writable(&self) -> bool {
        self.writable.load(Ordering::Acquire)
    }

    /// Bytes this session appended to the journal.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Bytes appended but not yet committed.
    pub fn uncommitted_bytes(&self) -> u64 {
        self.bytes().saturating_sub(self.committed_bytes.load(Ordering::Relaxed))
    }

    /// Timestamp of the oldest record appended but not committed, if any.
    pub fn oldest_uncommitted(&self) -> Option<Nanos> {
        match self.oldest_uncommitted_ns.load(Ordering::Relaxed) {
            0 => None,
            t => Some(Nanos(t)),
        }
    }
}
