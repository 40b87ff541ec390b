//! Segment files on disk: listing them, reading their headers without mapping them, and
//! preparing new ones (pre-allocated, mapped, pre-touched).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::{MmapMut, MmapRaw};

use crate::error::{Corruption, Error, Problem, Result};
use crate::format::{self, SegmentHeader, SEGMENT_HEADER_LEN};
use crate::map;

/// A file in the journal directory whose name is a segment's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    pub index: u64,
    pub path: PathBuf,
}

/// The segment files in `dir`, by index. Other files are ignored.
pub(crate) fn list(dir: &Path) -> Result<Vec<SegmentFile>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name();
        if let Some(index) = name.to_str().and_then(format::parse_segment_file_name) {
            out.push(SegmentFile { index, path: entry.path() });
        }
    }
    out.sort_by_key(|s| s.index);
    Ok(out)
}

/// The path of segment `index` in `dir`.
pub(crate) fn path_of(dir: &Path, index: u64) -> PathBuf {
    dir.join(format::segment_file_name(index))
}

/// One directory's segment paths, built in one buffer: the directory once, then each
/// segment's file name written over the last one's. Every name has the same length, so
/// naming another segment does not allocate (the preparer names one on every roll).
#[derive(Debug)]
pub(crate) struct SegmentPaths {
    path: PathBuf,
}

impl SegmentPaths {
    /// Paths in `dir`.
    pub(crate) fn new(dir: &Path) -> SegmentPaths {
        SegmentPaths { path: path_of(dir, 0) }
    }

    /// The path of segment `index`.
    pub(crate) fn of(&mut self, index: u64) -> &Path {
        let mut name = [0u8; format::SEGMENT_FILE_NAME_LEN];
        self.path.set_file_name(format::write_segment_file_name(index, &mut name));
        &self.path
    }
}

/// What a segment file's first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    /// File length.
    pub len: u64,
    /// The decoded header: `Ok(None)` for a prepared segment never started.
    pub header: Result<Option<SegmentHeader>, Problem>,
}

impl Probe {
    /// The header checked against the index in the file name, as a [`Corruption`] if bad.
    pub(crate) fn checked(&self, seg: &SegmentFile) -> Result<Option<SegmentHeader>, Corruption> {
        self.checked_at(seg.index, &seg.path)
    }

    /// [`Probe::checked`] for segment `index` at `path`.
    pub(crate) fn checked_at(
        &self,
        index: u64,
        path: &Path,
    ) -> Result<Option<SegmentHeader>, Corruption> {
        let corrupt = |problem| Corruption {
            segment: index,
            path: path.to_path_buf(),
            offset: 0,
            seq: None,
            problem,
        };
        match self.header {
            Err(p) => Err(corrupt(p)),
            Ok(Some(h)) if h.index != index => {
                Err(corrupt(Problem::IndexMismatch { in_name: index, in_header: h.index }))
            }
            Ok(h) => Ok(h),
        }
    }
}

/// Reads the header of an open segment file with `pread`.
pub(crate) fn probe_file(file: &File, path: &Path) -> Result<Probe> {
    let len = file.metadata().map_err(|e| Error::io("stat", path, e))?.len();
    let mut buf = [0u8; SEGMENT_HEADER_LEN];
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", path, e)),
        }
    }
    Ok(Probe { len, header: SegmentHeader::decode(&buf[..got]) })
}

/// Reads the header of the segment at `path`; `Ok(None)` if there is no such file.
pub(crate) fn probe(path: &Path) -> Result<Option<Probe>> {
    match File::open(path) {
        Ok(f) => probe_file(&f, path).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("open", path, e)),
    }
}

/// A segment ready for the writer: allocated, mapped, pre-touched, header still zero.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub index: u64,
    pub map: MmapMut,
}

/// Creates (or reuses, if it exists but was never started) segment `index` in `dir`:
/// allocates `size` bytes on disk, maps it, and touches every page so the writer's first
/// store to each page does not fault. Also returns a second, msync-only map when `want_raw`.
/// `sync_dir` fsyncs the directory so the new file's entry survives a machine crash; a
/// journal whose records are committed in the page cache promises nothing across one, and
/// skips that disk flush. Only the writer (holding the lock) calls this.
///
/// Nothing here allocates unless it fails: the path is built in `paths`, and the syscalls
/// take it from a stack buffer.
pub(crate) fn prepare(
    paths: &mut SegmentPaths,
    index: u64,
    size: u64,
    populate: bool,
    want_raw: bool,
    sync_dir: bool,
) -> Result<(Prepared, Option<MmapRaw>)> {
    let path = paths.of(index);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    let probe = probe_file(&file, path)?;
    match probe.header {
        Ok(None) => {}
        Ok(Some(_)) => {
            return Err(Error::io(
                "prepare",
                path,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "segment already holds records; refusing to overwrite it",
                ),
            ))
        }
        Err(problem) => {
            return Err(Error::corrupt(Corruption {
                segment: index,
                path: path.to_path_buf(),
                offset: 0,
                seq: None,
                problem,
            }))
        }
    }
    if probe.len != 0 {
        // A prepared segment left by an earlier writer: its body may hold a torn header, so
        // start again from zeros. Nobody maps an unstarted segment, so this cannot SIGBUS a
        // reader.
        file.set_len(0).map_err(|e| Error::io("truncate", path, e))?;
    }
    allocate(&file, size).map_err(|e| Error::io("allocate", path, e))?;
    if sync_dir {
        self::sync_dir(path.parent().unwrap_or(Path::new("")))?;
    }
    let mut map = map::map_write(&file, path)?;
    if populate {
        pretouch(&mut map, 0);
    }
    let raw = if want_raw { Some(map::map_raw(&file, path)?) } else { None };
    Ok((Prepared { index, map }, raw))
}

/// Reserves `size` bytes of disk for the file, so stores through the map never hit a full
/// disk (which would be SIGBUS on the hot path rather than an error here).
fn allocate(file: &File, size: u64) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{fallocate, FallocateFlags};
        match fallocate(file, FallocateFlags::empty(), 0, size) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    file.set_len(size)
}

/// Makes every page of `map` from offset `from` on resident and writable before the writer
/// gets there, so its stores do not fault. Those bytes are zero (unused segment space).
/// `MADV_POPULATE_WRITE` does it in one call (about a quarter faster than touching, Linux
/// 5.14+); elsewhere, one byte per page is written, with the zero it already holds.
pub(crate) fn pretouch(map: &mut MmapMut, from: usize) {
    let len = map.len().saturating_sub(from);
    if len == 0 {
        return;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if map.advise_range(memmap2::Advice::PopulateWrite, from, len).is_ok() {
        return;
    }
    for i in (from..map.len()).step_by(4096) {
        map[i] = 0;
    }
}

/// Makes the directory's entries (new segment files, removals) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("fsync", dir, e))
}
