//! Recovery at open: find where the last segment's valid data ends and clean up after it.
//!
//! The writer scans its last segment from the start, checking every record's marker,
//! bounds, sequence and CRC, stops at the first that fails, and zeroes whatever non-zero
//! bytes lie after it (a record torn by a crash, or a partial one whose first word never got
//! written). Appends resume there with the next sequence number. A bad record followed by
//! valid ones is damage rather than a torn write; recovery refuses to cut it off unless the
//! configured [`RecoveryPolicy`] says so.

use std::fs::{File, OpenOptions};

use memmap2::MmapMut;

use crate::config::RecoveryPolicy;
use crate::error::{Corruption, Error, Problem, Result};
use crate::format::{self, FrameRead, SegmentHeader, SEGMENT_HEADER_LEN};
use crate::map;
use crate::segment::SegmentFile;

/// What recovery found and did when the writer opened the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The segment the writer resumed (or created, for a new journal).
    pub segment: u64,
    /// Valid records found in it.
    pub records: u64,
    /// Offset just past the last valid record.
    pub end_offset: u64,
    /// The sequence number the next append gets.
    pub next_seq: u64,
    /// Whether the journal was created empty by this open.
    pub created: bool,
    /// What was cut off after the last valid record, if anything.
    pub truncated: Option<Truncation>,
}

/// Bytes recovery zeroed after the last valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// Where valid data ended (the first zeroed byte is at or after it).
    pub offset: u64,
    /// Length of the zeroed span, from `offset` to the last non-zero byte.
    pub bytes: u64,
    /// What was at `offset`: a bad record, or `None` for a record whose first word was never
    /// written (a crash mid-append).
    pub problem: Option<Problem>,
}

impl Recovery {
    pub(crate) fn fresh(segment: u64) -> Recovery {
        Recovery {
            segment,
            records: 0,
            end_offset: SEGMENT_HEADER_LEN as u64,
            next_seq: 0,
            created: true,
            truncated: None,
        }
    }
}

/// The writer's view of the recovered segment.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub map: MmapMut,
    pub file: File,
    pub cap: usize,
    pub end: usize,
    pub next_seq: u64,
    pub report: Recovery,
}

/// Recovers segment `seg`, the last started one, whose header and file length the caller
/// has read. The caller holds the writer lock.
pub(crate) fn recover(
    seg: &SegmentFile,
    header: &SegmentHeader,
    file_len: u64,
    policy: RecoveryPolicy,
) -> Result<Recovered> {
    let path = &seg.path;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    if file_len < header.capacity {
        // Someone cut the file short; what is left is checked below like any tail, and the
        // rest is zeros again.
        file.set_len(header.capacity).map_err(|e| Error::io("extend", path, e))?;
    }
    let mut map = map::map_write(&file, path)?;
    let cap = usize::try_from(header.capacity).unwrap_or(usize::MAX).min(map.len());

    let (off, seq, records, bad) = scan(&map[..cap], SEGMENT_HEADER_LEN, header.first_seq);

    let truncated = match format::nonzero_span(&map[off..cap]) {
        None => None,
        Some((_, last)) => {
            if policy == RecoveryPolicy::TruncateTornTail {
                if let Some((valid, f)) = format::find_next_frame(&map[..cap], off + 8, seq) {
                    let problem =
                        bad.unwrap_or(Problem::TrailingGarbage { bytes: last as u64 + 1 });
                    return Err(Error::CorruptTail {
                        bad: Box::new(Corruption {
                            segment: seg.index,
                            path: path.clone(),
                            offset: off as u64,
                            seq: Some(seq),
                            problem,
                        }),
                        valid_offset: valid as u64,
                        valid_seq: f.seq,
                    });
                }
            }
            let span = off..off + last + 1;
            map[span.clone()].fill(0);
            map.flush_range(span.start, span.len()).map_err(|e| Error::io("msync", path, e))?;
            Some(Truncation { offset: off as u64, bytes: span.len() as u64, problem: bad })
        }
    };

    Ok(Recovered {
        map,
        file,
        cap,
        end: off,
        next_seq: seq,
        report: Recovery {
            segment: seg.index,
            records,
            end_offset: off as u64,
            next_seq: seq,
            created: false,
            truncated,
        },
    })
}

/// Checks records from `off` (expected to carry `seq`) until the first that fails: its
/// offset and sequence, the valid records before it, and what was wrong (`None` for the
/// end of data). Every check of [`format::read_frame`], CRC included.
fn scan(seg: &[u8], mut off: usize, mut seq: u64) -> (usize, u64, u64, Option<Problem>) {
    let mut records = 0;
    loop {
        match format::read_frame(seg, off, Some(seq), true) {
            FrameRead::Frame(f) => {
                off += f.frame_len;
                seq += 1;
                records += 1;
            }
            FrameRead::End => return (off, seq, records, None),
            FrameRead::Bad(p) => return (off, seq, records, Some(p)),
        }
    }
}
