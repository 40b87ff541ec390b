//! A sparse in-memory index of one segment: every [`INDEX_STRIDE`]th record's sequence,
//! timestamp and offset, so a seek hops over at most that many records.
//!
//! Built by readers the first time they seek into a segment, by walking its records (every
//! check, CRC included, so a seek never lands past a torn record), and extended as a live
//! segment grows.

use crate::error::Problem;
use crate::format::{self, FrameRead, SEGMENT_HEADER_LEN};

/// Records between index entries.
pub(crate) const INDEX_STRIDE: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    seq: u64,
    /// The latest timestamp of any record before this one in the segment (`i64::MIN` for
    /// the first): every record before the entry is stamped at or before it.
    max_before: i64,
    off: usize,
}

/// The sparse index of one segment.
#[derive(Debug, Clone)]
pub(crate) struct SparseIndex {
    first_seq: u64,
    entries: Vec<Entry>,
    /// Offset and sequence just past the last record indexed.
    end_off: usize,
    end_seq: u64,
    /// The latest timestamp indexed so far.
    max_ts: i64,
}

/// A hop that failed: where, which sequence was expected, and what was wrong.
pub(crate) type HopError = (usize, u64, Problem);

impl SparseIndex {
    pub(crate) fn new(first_seq: u64) -> Self {
        SparseIndex {
            first_seq,
            entries: Vec::new(),
            end_off: SEGMENT_HEADER_LEN,
            end_seq: first_seq,
            max_ts: i64::MIN,
        }
    }

    /// Indexes the records appended since the last call, up to the first bad one (which is
    /// returned; the index stays valid up to it).
    pub(crate) fn extend(&mut self, seg: &[u8]) -> Result<(), HopError> {
        loop {
            match format::read_frame(seg, self.end_off, Some(self.end_seq), true) {
                FrameRead::Frame(f) => {
                    if (f.seq - self.first_seq) % INDEX_STRIDE == 0 {
                        let max_before = self.max_ts;
                        self.entries.push(Entry { seq: f.seq, max_before, off: self.end_off });
                    }
                    self.max_ts = self.max_ts.max(f.ts);
                    self.end_off += f.frame_len;
                    self.end_seq += 1;
                }
                FrameRead::End => return Ok(()),
                FrameRead::Bad(p) => return Err((self.end_off, self.end_seq, p)),
            }
        }
    }

    /// Offset and sequence just past the last indexed record.
    pub(crate) fn end(&self) -> (usize, u64) {
        (self.end_off, self.end_seq)
    }

    /// The indexed record at or before `seq`, as (offset, seq); the segment start if none.
    pub(crate) fn floor_seq(&self, seq: u64) -> (usize, u64) {
        let i = self.entries.partition_point(|e| e.seq <= seq);
        match i.checked_sub(1).map(|i| self.entries[i]) {
            Some(e) => (e.off, e.seq),
            None => (SEGMENT_HEADER_LEN, self.first_seq),
        }
    }

    /// The last indexed record before which every record is stamped before `ts`, as
    /// (offset, seq): where a scan for the first record (in file order) at or after `ts`
    /// starts. Stamps need not be in order (a tick is stamped with its receive time and can
    /// be written after a later-stamped approval), so the entries compare the running
    /// maximum, not their own record's stamp. The segment start if none.
    pub(crate) fn floor_ts(&self, ts: i64) -> (usize, u64) {
        let i = self.entries.partition_point(|e| e.max_before < ts);
        match i.checked_sub(1).map(|i| self.entries[i]) {
            Some(e) => (e.off, e.seq),
            None => (SEGMENT_HEADER_LEN, self.first_seq),
        }
    }
}
