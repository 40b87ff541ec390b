//! The journal writer: one per journal directory, on the journal thread.
//!
//! [`Writer::append`] copies a record into the mapped active segment and publishes it with
//! two atomic stores: no allocation, lock or syscall. When the record does not fit, the writer
//! rolls to the segment the background thread has already prepared. What counts as committed,
//! and when [`Writer::commit`] makes a syscall, is the [`Durability`] mode's business.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use memmap2::MmapMut;

use crate::background::{self, RawSegment, Retired, Settings, Shared};
use crate::config::{Durability, JournalConfig};
use crate::error::{AppendError, Error, Result};
use crate::format::{self, SegmentHeader, SEGMENT_HEADER_LEN};
use crate::lock::WriterLock;
use crate::map;
use crate::recovery::{self, Recovery};
use crate::segment::{self, SegmentFile};

/// Sealed segments a [`Durability::Batch`] writer keeps mapped until the next commit. Past
/// this, a roll msyncs the oldest itself, so a writer that never commits stays bounded.
const BATCH_SEALED_CAPACITY: usize = 4;

/// The segment being filled.
#[derive(Debug)]
struct Active {
    index: u64,
    map: MmapMut,
    /// Usable bytes (the header's capacity, or less if the file is shorter).
    cap: usize,
    /// Where the next record goes.
    pos: usize,
    /// Bytes msynced so far (batch mode).
    synced: usize,
}

/// A segment a batch-mode writer has rolled away from but not yet msynced.
#[derive(Debug)]
struct Sealed {
    index: u64,
    map: MmapMut,
    end: usize,
    synced: usize,
}

/// Counters for the writer's cold paths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Records appended since open.
    pub appended: u64,
    /// Rolls to a new segment.
    pub rolls: u64,
    /// Rolls that had to wait for the background thread to finish preparing the segment.
    pub roll_stalls: u64,
}

/// Appends records to a journal directory. See the [crate docs](crate) for an example.
///
/// Owned by one thread (it is `Send`, not `Sync`). Dropping it stops the background thread
/// after a last flush; [`Writer::close`] does the same and reports errors.
#[derive(Debug)]
pub struct Writer {
    active: Active,
    next_seq: u64,
    max_payload: usize,
    mode: Durability,
    /// Batch mode: sealed segments awaiting msync at the next commit, oldest first.
    sealed: Vec<Sealed>,
    /// Batch mode: the first msync failure; after it, commit always fails.
    sync_failed: Option<(std::io::ErrorKind, String)>,
    shared: Arc<Shared>,
    /// The background threads; no handles once stopped.
    bg: background::Threads,
    stats: WriterStats,
    recovery: Recovery,
    dir: PathBuf,
    /// Declared last: released after everything else is unmapped.
    lock: WriterLock,
}

impl Writer {
    /// Opens (creating if needed) the journal in `config.dir` for writing.
    ///
    /// Takes the directory's writer lock (a second writer gets [`Error::Locked`]), recovers
    /// the last segment (scans it, checks every CRC, zeroes a torn tail, see
    /// [`Writer::recovery`]), and resumes the sequence after the last valid record. Starts
    /// the background thread, which prepares the next segment at once.
    pub fn open(config: &JournalConfig) -> Result<Writer> {
        config.validate()?;
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let lock = WriterLock::acquire(&dir)?;
        let mode = config.durability;
        let periodic = matches!(mode, Durability::Periodic { .. });

        let last = last_started(&dir)?;
        let (mut active, next_seq, recovery, file) = match last {
            Some((seg, header, len)) => {
                let r = recovery::recover(&seg, &header, len, config.recovery)?;
                let active =
                    Active { index: seg.index, map: r.map, cap: r.cap, pos: r.end, synced: 0 };
                (active, r.next_seq, r.report, Some(r.file))
            }
            None => {
                let files = segment::list(&dir)?;
                let index = files.first().map_or(0, |f| f.index);
                let (mut p, _) = segment::prepare(
                    &mut segment::SegmentPaths::new(&dir),
                    index,
                    config.segment_size,
                    false,
                    false,
                    mode != Durability::PageCache,
                )?;
                let header = SegmentHeader {
                    index,
                    first_seq: 0,
                    created_ns: now_ns(),
                    capacity: p.map.len() as u64,
                };
                format::write_segment_header(&mut p.map, &header);
                let cap = p.map.len();
                let active = Active { index, map: p.map, cap, pos: SEGMENT_HEADER_LEN, synced: 0 };
                (active, 0, Recovery::fresh(index), None)
            }
        };

        let active_path = segment::path_of(&dir, active.index);
        if mode != Durability::PageCache {
            // What an earlier writer left may still be only in the page cache: make it
            // durable before calling it committed.
            active
                .map
                .flush_range(0, active.pos)
                .map_err(|e| Error::io("msync", &active_path, e))?;
            active.synced = active.pos;
            if let Some(prev) = active.index.checked_sub(1) {
                let path = segment::path_of(&dir, prev);
                if let Ok(f) = File::open(&path) {
                    f.sync_data().map_err(|e| Error::io("fsync", &path, e))?;
                }
            }
            segment::sync_dir(&dir)?;
        }
        if config.pretouch {
            segment::pretouch(&mut active.map, active.pos);
        }
        let raw = if periodic {
            let file = match file {
                Some(f) => f,
                // Read-write: msync through a map of a read-only descriptor does nothing.
                None => std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&active_path)
                    .map_err(|e| Error::io("open", &active_path, e))?,
            };
            let raw = map::map_raw(&file, &active_path)?;
            Some(RawSegment { index: active.index, raw, synced: active.pos })
        } else {
            None
        };

        let shared = Arc::new(Shared::new(mode, next_seq, active.pos, active.index));
        let settings = Settings {
            dir: dir.clone(),
            segment_size: config.segment_size,
            pretouch: config.pretouch,
            sync_dir: mode != Durability::PageCache,
        };
        let bg = background::spawn(&shared, settings, raw)?;
        Ok(Writer {
            active,
            next_seq,
            max_payload: format::max_payload(config.segment_size),
            mode,
            sealed: Vec::with_capacity(BATCH_SEALED_CAPACITY),
            sync_failed: None,
            shared,
            bg,
            stats: WriterStats::default(),
            recovery,
            dir,
            lock,
        })
    }

    /// Appends one record and returns its sequence number.
    ///
    /// `kind` is the record type and `ts_ns` the timestamp, both the engine's to choose (the
    /// reader's time seek assumes timestamps do not go backwards). In steady state this
    /// copies the payload into the mapped segment, computes a CRC32C and publishes the
    /// record with two atomic stores: no allocation, lock or syscall. Once every segment
    /// (default 64 MiB) it rolls to the next, already prepared segment, which takes the
    /// handoff lock and wakes the background thread.
    ///
    /// On error nothing was written and the sequence number was not used.
    #[inline]
    pub fn append(&mut self, kind: u16, ts_ns: i64, payload: &[u8]) -> Result<u64, AppendError> {
        if payload.len() > self.max_payload {
            return Err(AppendError::TooLarge { len: payload.len(), max: self.max_payload });
        }
        let frame = format::frame_len(payload.len());
        if frame > self.active.cap - self.active.pos {
            self.roll()?;
        }
        let seq = self.next_seq;
        let pos = self.active.pos;
        let end = pos + frame;
        format::write_frame(&mut self.active.map[pos..end], kind, seq, ts_ns, payload);
        self.active.pos = end;
        self.next_seq = seq + 1;
        self.stats.appended += 1;
        let c = &self.shared.cursor.0;
        c.write_off.store(end as u64, Ordering::Relaxed);
        // Release: a thread that acquires `seq + 1` sees the record's bytes.
        c.written_next.store(seq + 1, Ordering::Release);
        Ok(seq)
    }

    /// Moves to the prepared next segment.
    #[cold]
    #[inline(never)]
    fn roll(&mut self) -> Result<(), AppendError> {
        let shared = &*self.shared;
        let mut h = shared.lock();
        if h.prepared.is_none() {
            self.stats.roll_stalls += 1;
        }
        let mut next = loop {
            if let Some(p) = h.prepared.take() {
                break p;
            }
            if h.prepare_error.is_some() {
                return Err(AppendError::SegmentUnavailable);
            }
            h = shared.wake.wait(h).unwrap_or_else(PoisonError::into_inner);
        };
        let header = SegmentHeader {
            index: next.index,
            first_seq: self.next_seq,
            created_ns: now_ns(),
            capacity: next.map.len() as u64,
        };
        format::write_segment_header(&mut next.map, &header);
        let cap = next.map.len();
        let fresh =
            Active { index: next.index, map: next.map, cap, pos: SEGMENT_HEADER_LEN, synced: 0 };
        let old = std::mem::replace(&mut self.active, fresh);
        h.active_index = header.index;
        h.next_index = header.index + 1;
        shared.cursor.0.write_off.store(SEGMENT_HEADER_LEN as u64, Ordering::Relaxed);
        match self.mode {
            Durability::Batch => {
                if self.sealed.len() == self.sealed.capacity() {
                    let oldest = self.sealed.remove(0);
                    if let Err(e) =
                        oldest.map.flush_range(oldest.synced, oldest.end - oldest.synced)
                    {
                        self.sync_failed.get_or_insert((e.kind(), e.to_string()));
                    }
                    h.retired.push(Retired {
                        index: oldest.index,
                        map: oldest.map,
                        end: oldest.end,
                    });
                }
                self.sealed.push(Sealed {
                    index: old.index,
                    map: old.map,
                    end: old.pos,
                    synced: old.synced,
                });
            }
            Durability::PageCache | Durability::Periodic { .. } => {
                h.retired.push(Retired { index: old.index, map: old.map, end: old.pos });
            }
        }
        drop(h);
        shared.wake.notify_all();
        self.stats.rolls += 1;
        Ok(())
    }

    /// Marks the end of a batch and returns the last committed sequence.
    ///
    /// - [`Durability::Batch`]: msyncs every record appended since the last commit (on this
    ///   thread, blocking), then marks them committed.
    /// - [`Durability::Periodic`]: no-op; the background thread commits every interval.
    /// - [`Durability::PageCache`]: no-op; records are committed when appended.
    ///
    /// After an msync failure every later commit fails too: the journal can no longer say
    /// what is durable.
    pub fn commit(&mut self) -> Result<Option<u64>> {
        if self.mode == Durability::Batch {
            self.sync_batch()?;
        }
        Ok(self.committed())
    }

    fn sync_batch(&mut self) -> Result<()> {
        if let Some((kind, msg)) = &self.sync_failed {
            return Err(Error::io(
                "msync",
                &self.dir,
                std::io::Error::new(*kind, format!("an earlier msync failed: {msg}")),
            ));
        }
        while let Some(s) = self.sealed.first() {
            if let Err(e) = s.map.flush_range(s.synced, s.end - s.synced) {
                let path = segment::path_of(&self.dir, s.index);
                self.sync_failed = Some((e.kind(), e.to_string()));
                return Err(Error::io("msync", &path, e));
            }
            // Unmapping is a syscall; commit is already one.
            drop(self.sealed.remove(0));
        }
        let a = &mut self.active;
        if a.pos > a.synced {
            if let Err(e) = a.map.flush_range(a.synced, a.pos - a.synced) {
                let path = segment::path_of(&self.dir, a.index);
                self.sync_failed = Some((e.kind(), e.to_string()));
                return Err(Error::io("msync", &path, e));
            }
            a.synced = a.pos;
        }
        // Release: whoever acquires this sees the records it covers.
        self.shared.durable_next.0.store(self.next_seq, Ordering::Release);
        Ok(())
    }

    /// The last committed sequence number (see [`Durability`]), `None` if nothing is.
    #[inline]
    pub fn committed(&self) -> Option<u64> {
        self.shared.committed_next().checked_sub(1)
    }

    /// The last appended sequence number, `None` if the journal is empty.
    #[inline]
    pub fn last_seq(&self) -> Option<u64> {
        self.next_seq.checked_sub(1)
    }

    /// The sequence number the next append will get.
    #[inline]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// A handle other threads can use to read the committed sequence.
    pub fn commit_watch(&self) -> CommitWatch {
        CommitWatch { shared: Arc::clone(&self.shared) }
    }

    /// The largest payload `append` accepts.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// The durability mode.
    pub fn durability(&self) -> Durability {
        self.mode
    }

    /// What recovery found and did at open.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Counters for the cold paths.
    pub fn stats(&self) -> WriterStats {
        self.stats
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The writer lock file.
    pub fn lock_path(&self) -> &Path {
        self.lock.path()
    }

    /// The active segment's index.
    pub fn active_segment(&self) -> u64 {
        self.active.index
    }

    /// The OS thread ids (Linux TIDs) of the background threads: the segment preparer, and
    /// in periodic mode the msync thread. They start wherever the opening thread may run; an
    /// engine that pins its hot threads moves these off those cores, since a segment's
    /// preparation is milliseconds of work that would otherwise take a hot core's time slice.
    pub fn background_threads(&self) -> &[i32] {
        &self.bg.ids
    }

    /// The background thread's last failure (preparing a segment, or a periodic msync), if
    /// any. A failed msync stops the committed sequence for good.
    pub fn background_error(&self) -> Option<String> {
        self.shared.error()
    }

    /// Stops the background thread and makes every appended record durable (in `Periodic` and
    /// `Batch` modes), reporting any failure.
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if self.bg.handles.is_empty() {
            return Ok(());
        }
        let batch = if self.mode == Durability::Batch { self.sync_batch() } else { Ok(()) };
        if !background::stop(&self.shared, std::mem::take(&mut self.bg.handles)) {
            return Err(Error::Background("journal background thread panicked".into()));
        }
        batch?;
        match self.shared.lock().flush_error.clone() {
            Some(e) => Err(Error::Background(e)),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Errors are reported by `close`; a drop can only do its best.
        let _ = self.shutdown();
    }
}

/// Reads a writer's committed sequence from any thread.
#[derive(Debug, Clone)]
pub struct CommitWatch {
    shared: Arc<Shared>,
}

impl CommitWatch {
    /// The last committed sequence, `None` if nothing is. Acquire load: a thread that sees
    /// `n` committed also sees records up to `n` in the segment files.
    #[inline]
    pub fn committed(&self) -> Option<u64> {
        self.shared.committed_next().checked_sub(1)
    }

    /// The last appended sequence, `None` if the journal is empty. Acquire load, like
    /// [`CommitWatch::committed`].
    #[inline]
    pub fn written(&self) -> Option<u64> {
        self.shared.cursor.0.written_next.load(Ordering::Acquire).checked_sub(1)
    }
}

/// The last started segment in `dir`, its header and file length. Unstarted segments after
/// it are skipped; a bad header there is an error (open refuses to write past it).
fn last_started(dir: &Path) -> Result<Option<(SegmentFile, SegmentHeader, u64)>> {
    let files = segment::list(dir)?;
    for f in files.into_iter().rev() {
        let Some(probe) = segment::probe(&f.path)? else { continue };
        match probe.checked(&f) {
            Ok(None) => continue,
            Ok(Some(h)) => return Ok(Some((f, h, probe.len))),
            Err(c) => return Err(Error::corrupt(c)),
        }
    }
    Ok(None)
}

/// Wall-clock nanoseconds since the Unix epoch (vDSO, no syscall on Linux).
pub(crate) fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn threads_can_own_what_they_need() {
        assert_send::<Writer>();
        assert_send::<crate::Reader>();
        assert_send::<crate::Tailer>();
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<CommitWatch>();
    }
}
