//! `verify`: check every byte of every segment and name each problem.

use std::path::Path;

use crate::cursor::OpenSegment;
use crate::error::{Corruption, Problem, Result};
use crate::format::{self, FrameRead, SEGMENT_HEADER_LEN};
use crate::lock;
use crate::segment::{self, SegmentFile};

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Started segments checked.
    pub segments: u64,
    /// Valid records.
    pub records: u64,
    /// Bytes those records take, headers and padding included.
    pub record_bytes: u64,
    /// First valid sequence found.
    pub first_seq: Option<u64>,
    /// Last valid sequence found.
    pub last_seq: Option<u64>,
    /// Every problem, in file order. Problems in the last segment's tail are what a crash
    /// leaves; opening the journal for writing recovers them.
    pub issues: Vec<Corruption>,
}

impl VerifyReport {
    /// No problems found.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}

/// Walks every segment in `dir`: headers, the chain of segment indexes and sequence numbers,
/// every record's marker, bounds, sequence, CRC and padding, and the zeros after the data.
/// After a bad record it looks for the next valid one and carries on, so one report names
/// every bad spot. Errors only when the directory cannot be read; a file that cannot be
/// opened is reported as an I/O error too.
///
/// Safe to run on a live journal: the last segment may grow while it runs, and while a
/// writer holds the journal the bytes after its last record are taken for the record being
/// written (a writer fills a record's first word last), not reported as a torn tail.
pub fn verify(dir: impl AsRef<Path>) -> Result<VerifyReport> {
    verify_with(dir, &mut |_, _| {})
}

/// As [`verify`], calling `progress(segments_done, segments_total)` after each segment file
/// (for a progress line over a long journal).
pub fn verify_with(
    dir: impl AsRef<Path>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport> {
    let dir = dir.as_ref();
    let mut report = VerifyReport::default();
    let mut prev_index: Option<u64> = None;
    let mut expect_seq: Option<u64> = None;
    let mut unstarted: Vec<SegmentFile> = Vec::new();
    // Trailing bytes after the data of the segment scanned last, reported once another
    // started segment follows it (or no writer is live).
    let mut tail: Option<Corruption> = None;
    let live = lock::writer_is_live(dir)?;
    let files = segment::list(dir)?;
    let total = files.len() as u64;
    for (done, f) in files.into_iter().enumerate() {
        progress(done as u64, total);
        let issue = |problem| Corruption {
            segment: f.index,
            path: f.path.clone(),
            offset: 0,
            seq: None,
            problem,
        };
        if let Some(prev) = prev_index {
            if f.index != prev + 1 {
                report
                    .issues
                    .push(issue(Problem::SegmentMissing { expected: prev + 1, found: f.index }));
                expect_seq = None;
            }
        }
        prev_index = Some(f.index);
        let Some(probe) = segment::probe(&f.path)? else { continue };
        let header = match probe.checked(&f) {
            Ok(Some(h)) => h,
            Ok(None) => {
                unstarted.push(f);
                continue;
            }
            Err(c) => {
                report.issues.extend(tail.take());
                report.issues.push(c);
                expect_seq = None;
                continue;
            }
        };
        report.issues.extend(tail.take());
        for u in unstarted.drain(..) {
            let c = Corruption {
                segment: u.index,
                path: u.path,
                offset: 0,
                seq: None,
                problem: Problem::UnstartedInMiddle,
            };
            report.issues.push(c);
        }
        if let Some(expected) = expect_seq {
            if header.first_seq != expected {
                let mut c = issue(Problem::SequenceGap { expected, found: header.first_seq });
                c.seq = Some(expected);
                report.issues.push(c);
            }
        }
        report.segments += 1;
        let Some(seg) = OpenSegment::open(f.index, &f.path)? else { continue };
        if seg.file_len() < header.capacity {
            report.issues.push(issue(Problem::CapacityMismatch {
                header: header.capacity,
                file: seg.file_len(),
            }));
        }
        expect_seq = scan_segment(&seg, header.first_seq, &mut report, &mut tail);
    }
    progress(total, total);
    // Non-zero bytes after the last record of the last segment are, while a writer holds
    // the journal, the record it is writing (its first word goes last); otherwise a torn tail.
    if !live {
        report.issues.extend(tail);
    }
    Ok(report)
}

/// Checks every record of one segment; returns one past the last valid sequence, or `None`
/// when the segment ends in damage (how many records it held is then unknown, and the next
/// segment's first sequence is not checked against it).
fn scan_segment(
    seg: &OpenSegment,
    first_seq: u64,
    report: &mut VerifyReport,
    tail: &mut Option<Corruption>,
) -> Option<u64> {
    let bytes = seg.bytes();
    let mut off = SEGMENT_HEADER_LEN;
    let mut seq = first_seq;
    loop {
        match format::read_frame(bytes, off, Some(seq), true) {
            FrameRead::Frame(f) => {
                report.records += 1;
                report.record_bytes += f.frame_len as u64;
                report.first_seq.get_or_insert(f.seq);
                report.last_seq = Some(f.seq);
                off += f.frame_len;
                seq += 1;
            }
            FrameRead::End => {
                if let Some((a, b)) = format::nonzero_span(&bytes[off.min(bytes.len())..]) {
                    let garbage = Problem::TrailingGarbage { bytes: (b - a + 1) as u64 };
                    *tail = Some(seg.corruption(off + a, Some(seq), garbage));
                }
                return Some(seq);
            }
            FrameRead::Bad(p) => {
                report.issues.push(seg.corruption(off, Some(seq), p));
                // A valid record with a later sequence is itself where data resumes.
                let from = match p {
                    Problem::SequenceMismatch { expected, found } if found > expected => off,
                    _ => off + 8,
                };
                match format::find_next_frame(bytes, from, seq) {
                    Some((next, f)) => {
                        off = next;
                        seq = f.seq;
                    }
                    None => return None,
                }
            }
        }
    }
}
