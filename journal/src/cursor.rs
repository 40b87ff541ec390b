//! The reading core shared by [`Reader`](crate::Reader) and [`Tailer`](crate::Tailer): a
//! position (segment, offset, next sequence) that seeks and steps across segments.
//!
//! Segments are mapped read-only one at a time. At the end of a segment's data the cursor
//! looks at the next segment file's header: if it has started at the sequence expected next,
//! the cursor moves on; if it has not, the cursor is at the live end of the journal.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, Ordering};

use memmap2::Mmap;

use crate::error::{Corruption, Error, Problem, Result};
use crate::format::{
    self, FrameInfo, FrameRead, SegmentHeader, FRAME_HEADER_LEN, SEGMENT_HEADER_LEN,
};
use crate::index::SparseIndex;
use crate::map;
use crate::record::{Record, Start};
use crate::segment::{self, SegmentFile};

/// A started segment, mapped read-only.
#[derive(Debug)]
pub(crate) struct OpenSegment {
    pub index: u64,
    pub path: PathBuf,
    pub header: SegmentHeader,
    map: Mmap,
    cap: usize,
}

impl OpenSegment {
    /// Opens segment `index` at `path`; `Ok(None)` if it has not started.
    pub(crate) fn open(index: u64, path: &Path) -> Result<Option<OpenSegment>> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let probe = segment::probe_file(&file, path)?;
        let Some(header) = probe.checked_at(index, path).map_err(Error::corrupt)? else {
            return Ok(None);
        };
        let map = map::map_read(&file, path)?;
        let cap = usize::try_from(header.capacity).unwrap_or(usize::MAX).min(map.len());
        Ok(Some(OpenSegment { index, path: path.to_path_buf(), header, map, cap }))
    }

    /// Like [`OpenSegment::open`], for a segment known to have started.
    fn open_started(index: u64, path: &Path) -> Result<OpenSegment> {
        Self::open(index, path)?.ok_or_else(|| {
            Error::io("open", path, io::Error::other("segment has no header any more"))
        })
    }

    /// The segment's usable bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map[..self.cap]
    }

    /// The file length (the map's length).
    pub(crate) fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    pub(crate) fn corruption(
        &self,
        offset: usize,
        seq: Option<u64>,
        problem: Problem,
    ) -> Corruption {
        Corruption {
            segment: self.index,
            path: self.path.clone(),
            offset: offset as u64,
            seq,
            problem,
        }
    }
}

/// The started segments of `dir` with their headers, by index. A bad header is an error.
pub(crate) fn started_segments(dir: &Path) -> Result<Vec<(SegmentFile, SegmentHeader)>> {
    let mut out = Vec::new();
    for f in segment::list(dir)? {
        let Some(probe) = segment::probe(&f.path)? else { continue };
        match probe.checked(&f) {
            Ok(Some(h)) => out.push((f, h)),
            Ok(None) => {}
            Err(c) => return Err(Error::corrupt(c)),
        }
    }
    Ok(out)
}

/// What is at the cursor.
#[derive(Debug)]
pub(crate) enum Step {
    /// A valid record at `off` of the current segment.
    Record { off: usize, info: FrameInfo },
    /// No record yet.
    End,
    /// Bad bytes. `live` when they are at the end of the last segment, where a writer that
    /// crashed mid-append and has not yet been restarted leaves them.
    Bad { corruption: Corruption, live: bool },
}

/// The next segment file, cached so a tailer at the live end probes it with one `pread`.
#[derive(Debug)]
struct Successor {
    index: u64,
    path: PathBuf,
    file: Option<File>,
}

/// A read position in a journal directory.
#[derive(Debug)]
pub(crate) struct Cursor {
    dir: PathBuf,
    seg: Option<OpenSegment>,
    off: usize,
    next_seq: u64,
    succ: Option<Successor>,
    indexes: HashMap<u64, SparseIndex>,
}

impl Cursor {
    /// A cursor on `dir`, not yet positioned.
    pub(crate) fn new(dir: &Path) -> Result<Cursor> {
        let meta = std::fs::metadata(dir).map_err(|e| Error::io("open", dir, e))?;
        if !meta.is_dir() {
            return Err(Error::io("open", dir, io::Error::other("not a directory")));
        }
        Ok(Cursor {
            dir: dir.to_path_buf(),
            seg: None,
            off: SEGMENT_HEADER_LEN,
            next_seq: 0,
            succ: None,
            indexes: HashMap::new(),
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sequence of the record the next step returns.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub(crate) fn seek(&mut self, start: Start) -> Result<()> {
        match start {
            Start::Beginning => self.seek_beginning(),
            Start::Seq(seq) => self.seek_seq(seq),
            Start::Time(ts) => self.seek_time(ts),
            Start::End => self.seek_end(),
        }
    }

    fn unposition(&mut self, next_seq: u64) {
        self.seg = None;
        self.off = SEGMENT_HEADER_LEN;
        self.next_seq = next_seq;
    }

    fn position(&mut self, seg: OpenSegment, off: usize, seq: u64) {
        self.seg = Some(seg);
        self.off = off;
        self.next_seq = seq;
    }

    /// The sparse index of `seg`, brought up to date as far as the data is valid, and the
    /// bad record that stopped it, if one did.
    fn index(&mut self, seg: &OpenSegment) -> (&SparseIndex, Option<Corruption>) {
        let idx =
            self.indexes.entry(seg.index).or_insert_with(|| SparseIndex::new(seg.header.first_seq));
        let bad =
            idx.extend(seg.bytes()).err().map(|(off, seq, p)| seg.corruption(off, Some(seq), p));
        (idx, bad)
    }

    fn unavailable(&self, seq: u64, first: u64, next: u64) -> Error {
        Error::SeqUnavailable { dir: self.dir.clone(), seq, first, next }
    }

    fn seek_beginning(&mut self) -> Result<()> {
        let segs = started_segments(&self.dir)?;
        match segs.first() {
            None => self.unposition(0),
            Some((f, h)) => {
                let seg = OpenSegment::open_started(f.index, &f.path)?;
                self.position(seg, SEGMENT_HEADER_LEN, h.first_seq);
            }
        }
        Ok(())
    }

    fn seek_end(&mut self) -> Result<()> {
        let segs = started_segments(&self.dir)?;
        match segs.last() {
            None => self.unposition(0),
            Some((f, _)) => {
                // After the last valid record: bad bytes past it are a torn tail that a
                // tailer waits out (or reports) when it gets there.
                let seg = OpenSegment::open_started(f.index, &f.path)?;
                let (off, seq) = self.index(&seg).0.end();
                self.position(seg, off, seq);
            }
        }
        Ok(())
    }

    /// Positions at record `seq`, or at the live end if `seq` is the next to be written.
    pub(crate) fn seek_seq(&mut self, seq: u64) -> Result<()> {
        let segs = started_segments(&self.dir)?;
        let Some(first) = segs.first().map(|s| s.1.first_seq) else {
            if seq == 0 {
                self.unposition(0);
                return Ok(());
            }
            return Err(self.unavailable(seq, 0, 0));
        };
        if seq < first {
            let next = self.end_seq(&segs)?;
            return Err(self.unavailable(seq, first, next));
        }
        let k = segs.partition_point(|s| s.1.first_seq <= seq) - 1;
        let (file, _) = &segs[k];
        let seg = OpenSegment::open_started(file.index, &file.path)?;
        let (idx, bad) = self.index(&seg);
        let (end_off, end_seq) = idx.end();
        if seq > end_seq {
            if let Some(bad) = bad {
                return Err(Error::corrupt(bad));
            }
            if let Some((_, next)) = segs.get(k + 1) {
                let gap = Problem::SequenceGap { expected: end_seq, found: next.first_seq };
                return Err(Error::corrupt(seg.corruption(end_off, Some(end_seq), gap)));
            }
            return Err(self.unavailable(seq, first, end_seq));
        }
        let (mut off, mut at) = idx.floor_seq(seq);
        while at < seq {
            match format::read_frame(seg.bytes(), off, Some(at), true) {
                FrameRead::Frame(f) => {
                    off += f.frame_len;
                    at += 1;
                }
                FrameRead::Bad(p) => return Err(Error::corrupt(seg.corruption(off, Some(at), p))),
                FrameRead::End => {
                    let p = Problem::TrailingGarbage { bytes: 0 };
                    return Err(Error::corrupt(seg.corruption(off, Some(at), p)));
                }
            }
        }
        self.position(seg, off, seq);
        Ok(())
    }

    /// One past the last sequence present.
    fn end_seq(&mut self, segs: &[(SegmentFile, SegmentHeader)]) -> Result<u64> {
        match segs.last() {
            None => Ok(0),
            Some((f, _)) => {
                let seg = OpenSegment::open_started(f.index, &f.path)?;
                Ok(self.index(&seg).0.end().1)
            }
        }
    }

    /// Positions at the first record stamped at or after `ts`, assuming timestamps do not go
    /// backwards: a binary search over segments by their first record, then over the
    /// segment's sparse index, then a short scan.
    fn seek_time(&mut self, ts: i64) -> Result<()> {
        let segs = started_segments(&self.dir)?;
        if segs.is_empty() {
            self.unposition(0);
            return Ok(());
        }
        let (mut lo, mut hi) = (0, segs.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (f, _) = &segs[mid];
            let seg = OpenSegment::open_started(f.index, &f.path)?;
            let before = match format::read_frame(seg.bytes(), SEGMENT_HEADER_LEN, None, true) {
                FrameRead::Frame(first) => first.ts < ts,
                FrameRead::End | FrameRead::Bad(_) => false,
            };
            if before {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (f, _) = &segs[lo.saturating_sub(1)];
        let seg = OpenSegment::open_started(f.index, &f.path)?;
        let (mut off, mut seq) = self.index(&seg).0.floor_ts(ts);
        loop {
            match format::read_frame(seg.bytes(), off, Some(seq), true) {
                FrameRead::Frame(f) if f.ts < ts => {
                    off += f.frame_len;
                    seq += 1;
                }
                FrameRead::Frame(_) | FrameRead::End => break,
                FrameRead::Bad(p) => return Err(Error::corrupt(seg.corruption(off, Some(seq), p))),
            }
        }
        self.position(seg, off, seq);
        Ok(())
    }

    /// The header of the segment after the current one, if that segment has started.
    fn successor(&mut self) -> Result<Option<SegmentHeader>> {
        let Some(index) = self.seg.as_ref().and_then(|s| s.index.checked_add(1)) else {
            return Ok(None);
        };
        if self.succ.as_ref().is_some_and(|s| s.index != index) {
            self.succ = None;
        }
        let dir = &self.dir;
        let succ = self.succ.get_or_insert_with(|| Successor {
            index,
            path: segment::path_of(dir, index),
            file: None,
        });
        if succ.file.is_none() {
            match File::open(&succ.path) {
                Ok(f) => succ.file = Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::io("open", &succ.path, e)),
            }
        }
        let Some(file) = &succ.file else { return Ok(None) };
        let probe = segment::probe_file(file, &succ.path)?;
        probe.checked_at(index, &succ.path).map_err(Error::corrupt)
    }

    fn enter(&mut self, index: u64) -> Result<()> {
        let path = segment::path_of(&self.dir, index);
        let seg = OpenSegment::open_started(index, &path)?;
        let first = seg.header.first_seq;
        self.position(seg, SEGMENT_HEADER_LEN, first);
        Ok(())
    }

    fn corruption_here(&self, problem: Problem) -> Corruption {
        match &self.seg {
            Some(seg) => seg.corruption(self.off, Some(self.next_seq), problem),
            None => Corruption {
                segment: 0,
                path: self.dir.clone(),
                offset: 0,
                seq: Some(self.next_seq),
                problem,
            },
        }
    }

    /// At the end of segment `index` with no started successor: a started segment further
    /// on means the successor is missing or was never started, and records are lost.
    fn skipped_segment(&self, index: u64) -> Result<Option<Corruption>> {
        let Some(after) = index.checked_add(1) else { return Ok(None) };
        for f in segment::list(&self.dir)?.into_iter().filter(|f| f.index > after) {
            let Some(probe) = segment::probe(&f.path)? else { continue };
            if !matches!(probe.header, Ok(None)) {
                let path = segment::path_of(&self.dir, after);
                // The writer may have started the successor (and more) since we looked.
                if segment::probe(&path)?.is_some_and(|p| matches!(p.header, Ok(Some(_)))) {
                    return Ok(None);
                }
                let problem = if path.exists() {
                    Problem::UnstartedInMiddle
                } else {
                    Problem::SegmentMissing { expected: after, found: f.index }
                };
                let seq = Some(self.next_seq);
                return Ok(Some(Corruption { segment: after, path, offset: 0, seq, problem }));
            }
        }
        Ok(None)
    }

    /// What is at the cursor, CRC checked; moves to the next segment when this one is done.
    /// At the end of the data, `look_beyond` also lists the directory for started segments
    /// after a missing or unstarted successor (a reader does it every time it reaches the end;
    /// a tailer now and then).
    pub(crate) fn step(&mut self, look_beyond: bool) -> Result<Step> {
        loop {
            let (index, found) = match &self.seg {
                None => {
                    if started_segments(&self.dir)?.is_empty() {
                        return Ok(Step::End);
                    }
                    self.seek_seq(self.next_seq)?;
                    if self.seg.is_none() {
                        return Ok(Step::End);
                    }
                    continue;
                }
                Some(seg) => (
                    seg.index,
                    format::read_frame(seg.bytes(), self.off, Some(self.next_seq), true),
                ),
            };
            match found {
                FrameRead::Frame(info) => return Ok(Step::Record { off: self.off, info }),
                FrameRead::Bad(problem) => {
                    let live = self.successor()?.is_none();
                    return Ok(Step::Bad { corruption: self.corruption_here(problem), live });
                }
                FrameRead::End => {
                    let Some(next) = self.successor()? else {
                        if look_beyond {
                            if let Some(c) = self.skipped_segment(index)? {
                                return Ok(Step::Bad { corruption: c, live: false });
                            }
                        }
                        return Ok(Step::End);
                    };
                    if next.first_seq == self.next_seq {
                        self.enter(index + 1)?;
                        continue;
                    }
                    // The writer may have appended here and rolled since the first look.
                    fence(Ordering::Acquire);
                    let again = match &self.seg {
                        Some(seg) => {
                            format::read_frame(seg.bytes(), self.off, Some(self.next_seq), true)
                        }
                        None => FrameRead::End,
                    };
                    return Ok(match again {
                        FrameRead::Frame(info) => Step::Record { off: self.off, info },
                        FrameRead::Bad(problem) => {
                            Step::Bad { corruption: self.corruption_here(problem), live: false }
                        }
                        FrameRead::End => {
                            let gap = Problem::SequenceGap {
                                expected: self.next_seq,
                                found: next.first_seq,
                            };
                            Step::Bad { corruption: self.corruption_here(gap), live: false }
                        }
                    });
                }
            }
        }
    }

    /// Consumes the record `step` returned and lends it out.
    pub(crate) fn take(&mut self, off: usize, info: FrameInfo) -> Record<'_> {
        self.off = off + info.frame_len;
        self.next_seq = info.seq + 1;
        let start = off + FRAME_HEADER_LEN;
        let payload = self
            .seg
            .as_ref()
            .and_then(|s| s.bytes().get(start..start + info.payload_len))
            .unwrap_or(&[]);
        Record { seq: info.seq, ts_ns: info.ts, kind: info.kind, payload }
    }
}
