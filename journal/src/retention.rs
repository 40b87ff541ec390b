//! Retention helpers for the `tickline journal` tools: list segments, back up a consistent
//! prefix of the journal, prune old sealed segments.
//!
//! All of them run beside a live writer. They never modify a segment the writer may still
//! write: backup only reads, and prune only removes sealed segments (ones a later segment
//! has started after), oldest first.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cursor::{started_segments, OpenSegment};
use crate::error::{Corruption, Error, Problem, Result};
use crate::format::{self, FrameRead, SEGMENT_HEADER_LEN};
use crate::segment;
use crate::verify::verify;
use crate::writer::now_ns;

/// Where a segment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentState {
    /// Prepared by the writer ahead of time; no header, no records yet.
    Prepared,
    /// The last started segment: the one a writer appends to (or will resume).
    Active,
    /// A later segment has started: this one never changes again.
    Sealed,
    /// Its header is not valid (see `problem`); nothing else is known.
    Invalid,
}

/// One segment file, as [`list_segments`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Segment index.
    pub index: u64,
    /// Segment file.
    pub path: PathBuf,
    /// Where it is in its life.
    pub state: SegmentState,
    /// File size in bytes.
    pub file_len: u64,
    /// Capacity from the header.
    pub capacity: Option<u64>,
    /// Bytes used: header plus records.
    pub used: u64,
    /// Records in it.
    pub records: u64,
    /// First record's sequence (for a started segment without records, the sequence its
    /// first record will get is in `first_seq` and `records` is 0).
    pub first_seq: Option<u64>,
    /// Last record's sequence.
    pub last_seq: Option<u64>,
    /// First record's timestamp, ns.
    pub first_ts: Option<i64>,
    /// Last record's timestamp, ns.
    pub last_ts: Option<i64>,
    /// When the writer started it, wall clock ns since the Unix epoch.
    pub created_ns: Option<i64>,
    /// When it was sealed (its successor's start), wall clock ns since the Unix epoch.
    pub sealed_ns: Option<i64>,
    /// The first problem met while listing (a bad header or record); `verify` says more.
    pub problem: Option<Corruption>,
}

/// Every segment file in `dir`, by index, with its sequence and time ranges and sizes.
///
/// Reads headers and hops over record headers (marker, bounds and sequence checked, not
/// CRCs: that is [`verify`]'s job).
pub fn list_segments(dir: impl AsRef<Path>) -> Result<Vec<SegmentInfo>> {
    let dir = dir.as_ref();
    let mut out: Vec<SegmentInfo> = Vec::new();
    for f in segment::list(dir)? {
        let Some(probe) = segment::probe(&f.path)? else { continue };
        let mut info = SegmentInfo {
            index: f.index,
            path: f.path.clone(),
            state: SegmentState::Prepared,
            file_len: probe.len,
            capacity: None,
            used: 0,
            records: 0,
            first_seq: None,
            last_seq: None,
            first_ts: None,
            last_ts: None,
            created_ns: None,
            sealed_ns: None,
            problem: None,
        };
        match probe.checked(&f) {
            Ok(None) => {}
            Err(c) => {
                info.state = SegmentState::Invalid;
                info.problem = Some(c);
            }
            Ok(Some(h)) => {
                info.state = SegmentState::Active;
                info.capacity = Some(h.capacity);
                info.created_ns = Some(h.created_ns);
                info.first_seq = Some(h.first_seq);
                if let Some(seg) = OpenSegment::open(f.index, &f.path)? {
                    summarize(&seg, &mut info);
                }
            }
        }
        out.push(info);
    }
    // A started segment followed by another started one is sealed.
    let mut next_created: Option<i64> = None;
    for info in out.iter_mut().rev() {
        if info.state == SegmentState::Active {
            if let Some(t) = next_created {
                info.state = SegmentState::Sealed;
                info.sealed_ns = Some(t);
            }
            next_created = info.created_ns;
        }
    }
    Ok(out)
}

fn summarize(seg: &OpenSegment, info: &mut SegmentInfo) {
    let bytes = seg.bytes();
    let mut off = SEGMENT_HEADER_LEN;
    let mut seq = seg.header.first_seq;
    loop {
        match format::read_frame(bytes, off, Some(seq), false) {
            FrameRead::Frame(f) => {
                info.records += 1;
                info.first_ts.get_or_insert(f.ts);
                info.last_ts = Some(f.ts);
                info.last_seq = Some(f.seq);
                off += f.frame_len;
                seq += 1;
            }
            FrameRead::End => break,
            FrameRead::Bad(p) => {
                info.problem = Some(seg.corruption(off, Some(seq), p));
                break;
            }
        }
    }
    info.used = off as u64;
}

/// What [`backup`] copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Segment files written.
    pub segments: u64,
    /// Records copied.
    pub records: u64,
    /// Bytes of segment data copied (headers and records; the zero tail is left sparse).
    pub bytes: u64,
    /// First sequence in the backup.
    pub first_seq: u64,
    /// Last sequence in the backup: the `up_to` asked for.
    pub last_seq: u64,
}

/// Copies the journal in `src` into `dest`, records up to and including `up_to`, then
/// verifies the copy.
///
/// Pass a committed sequence (from [`Writer::committed`](crate::Writer::committed), or the
/// last sequence of a journal no writer has open): the copy is a consistent prefix of the
/// journal ending exactly there, safe to take while the writer runs, and itself a valid
/// journal a writer can open and continue. Every record is CRC-checked on the way; a bad one
/// fails the backup with [`Error::Corrupt`]. `dest` is created if needed and must not
/// already hold segments.
pub fn backup(src: impl AsRef<Path>, dest: impl AsRef<Path>, up_to: u64) -> Result<BackupReport> {
    backup_with(src, dest, up_to, &mut |_, _| {})
}

/// As [`backup`], calling `progress(records_copied, records_to_copy)` after each segment
/// copied and once the copy is verified.
pub fn backup_with(
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    up_to: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BackupReport> {
    let (src, dest) = (src.as_ref(), dest.as_ref());
    let fail = |problem: String| Error::Backup { dest: dest.to_path_buf(), problem };
    std::fs::create_dir_all(dest).map_err(|e| Error::io("create", dest, e))?;
    let same = match (src.canonicalize(), dest.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(fail("the destination is the journal itself".into()));
    }
    if !segment::list(dest)?.is_empty() {
        return Err(fail(
            "the destination already holds journal segments; use an empty directory".into(),
        ));
    }
    let segs = started_segments(src)?;
    let Some(first) = segs.first().map(|s| s.1.first_seq) else {
        return Err(Error::SeqUnavailable {
            dir: src.to_path_buf(),
            seq: up_to,
            first: 0,
            next: 0,
        });
    };
    if up_to < first {
        return Err(Error::SeqUnavailable {
            dir: src.to_path_buf(),
            seq: up_to,
            first,
            next: first,
        });
    }

    let mut report =
        BackupReport { segments: 0, records: 0, bytes: 0, first_seq: first, last_seq: up_to };
    let total = up_to - first + 1;
    progress(0, total);
    let mut seq = first;
    for (f, h) in &segs {
        if seq > up_to {
            break;
        }
        let seg = OpenSegment::open(f.index, &f.path)?.ok_or_else(|| {
            fail(format!("segment {} lost its header during the backup", f.index))
        })?;
        if h.first_seq != seq {
            let gap = Problem::SequenceGap { expected: seq, found: h.first_seq };
            return Err(Error::corrupt(seg.corruption(0, Some(seq), gap)));
        }
        let bytes = seg.bytes();
        let mut off = SEGMENT_HEADER_LEN;
        while seq <= up_to {
            match format::read_frame(bytes, off, Some(seq), true) {
                FrameRead::Frame(fr) => {
                    off += fr.frame_len;
                    seq += 1;
                    report.records += 1;
                }
                FrameRead::End => break,
                FrameRead::Bad(p) => return Err(Error::corrupt(seg.corruption(off, Some(seq), p))),
            }
        }
        let path = segment::path_of(dest, f.index);
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        out.write_all(&bytes[..off])
            .and_then(|()| out.set_len(h.capacity))
            .and_then(|()| out.sync_all())
            .map_err(|e| Error::io("write", &path, e))?;
        report.segments += 1;
        report.bytes += off as u64;
        progress(report.records, total);
    }
    if seq <= up_to {
        return Err(Error::SeqUnavailable { dir: src.to_path_buf(), seq: up_to, first, next: seq });
    }
    segment::sync_dir(dest)?;

    let check = verify(dest)?;
    if let Some(issue) = check.issues.first() {
        return Err(fail(format!("the copy does not verify: {issue}")));
    }
    if check.first_seq != Some(first)
        || check.last_seq != Some(up_to)
        || check.records != report.records
    {
        return Err(fail(format!(
            "the copy holds {} records ({:?}..={:?}), expected {} ({first}..={up_to})",
            check.records, check.first_seq, check.last_seq, report.records
        )));
    }
    Ok(report)
}

/// How much sealed history [`prune`] keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneBudget {
    /// Remove sealed segments sealed longer ago than this.
    pub max_age: Option<Duration>,
    /// Remove the oldest sealed segments while all segment files together take more bytes
    /// than this.
    pub max_bytes: Option<u64>,
}

/// What [`prune`] removed (or, in a dry run, would remove).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// The segments removed, oldest first.
    pub removed: Vec<SegmentInfo>,
    /// Bytes of segment files left.
    pub remaining_bytes: u64,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// Removes sealed segments, oldest first, while the oldest is past `budget`: sealed longer
/// ago than `max_age`, or all segments together over `max_bytes`. Stops at the first segment
/// within budget, at the active segment, and at anything it cannot identify, so what is left
/// is always a contiguous journal. Safe beside a live writer and readers (a reader with a
/// removed segment mapped keeps reading it).
pub fn prune(dir: impl AsRef<Path>, budget: PruneBudget, dry_run: bool) -> Result<PruneReport> {
    let dir = dir.as_ref();
    let infos = list_segments(dir)?;
    let mut remaining: u64 = infos.iter().map(|i| i.file_len).sum();
    let now = now_ns();
    let mut removed = Vec::new();
    for info in infos {
        if info.state != SegmentState::Sealed {
            break;
        }
        let too_old = match (budget.max_age, info.sealed_ns) {
            (Some(age), Some(sealed)) => {
                now.saturating_sub(sealed) > i64::try_from(age.as_nanos()).unwrap_or(i64::MAX)
            }
            _ => false,
        };
        let too_big = budget.max_bytes.is_some_and(|max| remaining > max);
        if !(too_old || too_big) {
            break;
        }
        if !dry_run {
            match std::fs::remove_file(&info.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &info.path, e)),
            }
        }
        remaining -= info.file_len;
        removed.push(info);
    }
    if !dry_run && !removed.is_empty() {
        segment::sync_dir(dir)?;
    }
    Ok(PruneReport { removed, remaining_bytes: remaining, dry_run })
}
