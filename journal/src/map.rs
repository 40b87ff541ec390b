//! Mapping segment files. With [`crc`](crate::crc)'s SSE4.2 path and
//! [`prefetch`](crate::prefetch)'s hint, the crate's only `unsafe` code.
//!
//! `memmap2` makes mapping a file `unsafe` because the bytes behind the returned slice can
//! change or vanish if someone else writes or truncates the file while it is mapped. The two
//! functions below state why that is sound here; everything else in the crate goes through
//! them.

use std::fs::File;
use std::path::Path;

use memmap2::{Mmap, MmapMut, MmapOptions, MmapRaw};

use crate::error::{Error, Result};

/// Maps a started segment read-only, for readers, tailers, verify and backup.
pub(crate) fn map_read(file: &File, path: &Path) -> Result<Mmap> {
    // SAFETY: the file may be appended to by a live writer in this or another process while
    // we hold the map, and recovery may zero a torn tail, so the bytes behind the slice can
    // change. Readers treat every mapped byte as untrusted input: they copy values out,
    // validate marker, bounds and CRC before use, never rely on two reads agreeing, and
    // order the reads of a record after its first word with an acquire fence (see
    // `format::read_frame`). Tickline never truncates a started segment (recovery only zeroes
    // and extends, prune unlinks, which leaves existing maps valid), and readers map only
    // started segments. Truncation by a process outside tickline would raise SIGBUS, as with
    // any file map; that is outside what a library can prevent.
    unsafe { MmapOptions::new().map(file) }.map_err(|e| Error::io("map", path, e))
}

/// Maps a segment read-write, for the writer (and for the background thread that prepares
/// the next segment and hands the map to the writer).
pub(crate) fn map_write(file: &File, path: &Path) -> Result<MmapMut> {
    // SAFETY: `MmapMut` derefs to `&mut [u8]`, which must not change behind our back. The
    // caller holds the journal's writer lock (an exclusive flock on `writer.lock`), so no
    // other tickline writer maps this file for writing; there is one `MmapMut` per segment,
    // owned by one thread at a time (moved from the background thread to the writer, then
    // back for unmapping). Other maps of the file only read (readers, tailers) or only msync
    // (the background thread's `MmapRaw`). Tickline never truncates a file while it is
    // mapped for writing: the background thread resizes an unstarted segment only before
    // mapping it. A process outside tickline writing the file would break this, as with any
    // writable file map.
    unsafe { MmapOptions::new().map_mut(file) }.map_err(|e| Error::io("map", path, e))
}

/// A second map of a segment, used by the background thread only to msync ranges the writer
/// has filled. `MmapRaw` hands out raw pointers only, so mapping it needs no `unsafe`. The
/// file must be open read-write: Linux ignores msync on a map of a read-only descriptor.
pub(crate) fn map_raw(file: &File, path: &Path) -> Result<MmapRaw> {
    MmapOptions::new().map_raw(file).map_err(|e| Error::io("map", path, e))
}
