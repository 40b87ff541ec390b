//! The writer's background threads, and the state they share with the writer.
//!
//! The preparer keeps the next segment ready (created, allocated, mapped, every page
//! touched) so a roll is a pointer swap, and unmaps the segments the writer is done with. In
//! [`Durability::Periodic`] mode a second thread, the flusher, msyncs what the writer
//! appended every interval and then advances the committed sequence; it never touches the
//! active segment's bytes, it msyncs through a second, msync-only map.
//!
//! The writer and the threads meet in [`Handoff`] under a mutex, which the writer takes only
//! when it rolls to a new segment; appends touch nothing but two atomics.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use memmap2::{MmapMut, MmapRaw};

use crate::config::Durability;
use crate::error::{Error, Result};
use crate::segment::{self, Prepared};

/// Pads a value to its own cache lines so the writer's stores do not slow other threads'
/// loads of neighbouring fields.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);

/// What the writer publishes on every append, on one cache line.
#[derive(Debug, Default)]
pub(crate) struct WriteCursor {
    /// One past the last appended sequence. Release-stored by the writer after the record is
    /// in the map, so an acquire load that sees `n` also sees records `..n` in the map.
    pub written_next: AtomicU64,
    /// Offset just past the last appended record in the active segment. Stored (relaxed)
    /// before `written_next`; reset by the writer under the handoff lock when it rolls.
    pub write_off: AtomicU64,
}

/// State shared by the writer, its background threads and any [`CommitWatch`](crate::CommitWatch).
#[derive(Debug)]
pub(crate) struct Shared {
    pub mode: Durability,
    pub cursor: Padded<WriteCursor>,
    /// One past the last sequence known durable (msync returned). Release-stored after the
    /// msync; used by `Periodic` and `Batch`.
    pub durable_next: Padded<AtomicU64>,
    pub handoff: Mutex<Handoff>,
    /// Wakes the background threads (work to do) and the writer (segment prepared).
    pub wake: Condvar,
}

/// What the writer and the background threads exchange, under `Shared::handoff`.
#[derive(Debug)]
pub(crate) struct Handoff {
    /// The next segment, ready for the writer to take.
    pub prepared: Option<Prepared>,
    /// The index the preparer prepares next.
    pub next_index: u64,
    /// The segment the writer is filling.
    pub active_index: u64,
    /// Segments the writer is done with, oldest first, for the flusher to msync and unmap
    /// (periodic mode) or the preparer to unmap. Capacity reserved up front so a roll does
    /// not allocate.
    pub retired: Vec<Retired>,
    /// msync-only maps of prepared segments, from the preparer to the flusher (periodic).
    pub raws: Vec<RawSegment>,
    /// Set by the writer to end the threads (the flusher after a last flush).
    pub stop: bool,
    /// The last failure to prepare a segment; cleared when one succeeds.
    pub prepare_error: Option<String>,
    /// The first msync failure. Sticky: after it the committed sequence never advances.
    pub flush_error: Option<String>,
}

/// A segment the writer has finished with.
#[derive(Debug)]
pub(crate) struct Retired {
    pub index: u64,
    pub map: MmapMut,
    /// Offset just past its last record.
    pub end: usize,
}

/// The flusher's msync-only map of a segment, and how far it has been synced.
#[derive(Debug)]
pub(crate) struct RawSegment {
    pub index: u64,
    pub raw: MmapRaw,
    pub synced: usize,
}

/// Retired entries the handoff holds before a roll would have to grow the vector.
pub(crate) const RETIRED_CAPACITY: usize = 8;

impl Shared {
    pub(crate) fn new(
        mode: Durability,
        next_seq: u64,
        write_off: usize,
        active_index: u64,
    ) -> Self {
        Shared {
            mode,
            cursor: Padded(WriteCursor {
                written_next: AtomicU64::new(next_seq),
                write_off: AtomicU64::new(write_off as u64),
            }),
            durable_next: Padded(AtomicU64::new(next_seq)),
            handoff: Mutex::new(Handoff {
                prepared: None,
                next_index: active_index + 1,
                active_index,
                retired: Vec::with_capacity(RETIRED_CAPACITY),
                raws: Vec::new(),
                stop: false,
                prepare_error: None,
                flush_error: None,
            }),
            wake: Condvar::new(),
        }
    }

    /// One past the last committed sequence, as the mode defines committed.
    ///
    /// Acquire: pairs with the release store that advanced it, so a thread that sees `n` also
    /// sees records `..n` in the segment maps.
    #[inline]
    pub(crate) fn committed_next(&self) -> u64 {
        match self.mode {
            Durability::PageCache => self.cursor.0.written_next.load(Ordering::Acquire),
            Durability::Periodic { .. } | Durability::Batch => {
                self.durable_next.0.load(Ordering::Acquire)
            }
        }
    }

    /// Locks the handoff. A panic elsewhere cannot leave it inconsistent (every update is a
    /// single field write), so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Handoff> {
        self.handoff.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The background threads' last error, if any.
    pub(crate) fn error(&self) -> Option<String> {
        let h = self.lock();
        h.flush_error.clone().or_else(|| h.prepare_error.clone())
    }
}

/// What the background threads need to know.
#[derive(Debug)]
pub(crate) struct Settings {
    pub dir: PathBuf,
    pub segment_size: u64,
    pub pretouch: bool,
    /// fsync the directory after creating a segment (not in `PageCache` mode).
    pub sync_dir: bool,
}

/// The background threads: their handles, and their OS thread ids (for a caller that
/// places them on cores; see [`crate::Writer::background_threads`]).
#[derive(Debug, Default)]
pub(crate) struct Threads {
    pub handles: Vec<JoinHandle<()>>,
    pub ids: Vec<i32>,
}

/// Starts the background threads: the segment preparer always, and in periodic mode the
/// flusher, with `raw`, the msync-only map of the active segment. Two threads, so a slow
/// msync (the disk's speed) never delays the segment the writer is waiting for. Returns once
/// each has said its thread id.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    settings: Settings,
    raw: Option<RawSegment>,
) -> Result<Threads> {
    let dir = settings.dir.clone();
    let mut threads = Threads::default();
    let (started, ids) = std::sync::mpsc::channel();
    let s = Arc::clone(shared);
    let tell = started.clone();
    let preparer = std::thread::Builder::new()
        .name("tickline-journal".into())
        .spawn(move || {
            let _ = tell.send(thread_id());
            prepare_loop(&s, &settings);
        })
        .map_err(|e| Error::io("spawn the segment thread for", &dir, e))?;
    threads.handles.push(preparer);
    if let Durability::Periodic { interval_ms } = shared.mode {
        let s = Arc::clone(shared);
        let interval = Duration::from_millis(interval_ms);
        let flusher = std::thread::Builder::new()
            .name("tickline-journal-sync".into())
            .spawn(move || {
                let _ = started.send(thread_id());
                flush_loop(&s, interval, raw);
            })
            .map_err(|e| Error::io("spawn the msync thread for", &dir, e));
        match flusher {
            Ok(t) => threads.handles.push(t),
            Err(e) => {
                stop(shared, threads.handles);
                return Err(e);
            }
        }
    }
    // Each thread sends first thing; a thread that died before sending has no id to give.
    threads.ids = ids.iter().take(threads.handles.len()).collect();
    Ok(threads)
}

/// The calling thread's OS thread id.
fn thread_id() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}

/// Stops the background threads and waits for them; `false` if one panicked.
pub(crate) fn stop(shared: &Shared, threads: Vec<JoinHandle<()>>) -> bool {
    shared.lock().stop = true;
    shared.wake.notify_all();
    // Join every thread, even after one has failed.
    let joined: Vec<bool> = threads.into_iter().map(|t| t.join().is_ok()).collect();
    joined.into_iter().all(|ok| ok)
}

/// Marks the threads failed if one unwinds, so a writer waiting for a segment does not
/// wait forever and the committed sequence is known to be stuck.
struct PanicGuard<'a>(&'a Shared);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut h = self.0.lock();
            h.prepare_error = Some("journal background thread panicked".into());
            h.flush_error.get_or_insert_with(|| "journal background thread panicked".into());
            drop(h);
            self.0.wake.notify_all();
        }
    }
}

/// How long to wait before trying again to prepare a segment after a failure.
const PREPARE_RETRY: Duration = Duration::from_secs(1);

/// Keeps the next segment prepared, and (outside periodic mode, where the flusher does it
/// after its last msync) unmaps retired segments.
fn prepare_loop(shared: &Shared, settings: &Settings) {
    let _guard = PanicGuard(shared);
    let periodic = matches!(shared.mode, Durability::Periodic { .. });
    let mut retired: Vec<Retired> = Vec::with_capacity(RETIRED_CAPACITY);
    let mut retry_at: Option<Instant> = None;
    // Built once: naming each new segment then allocates nothing.
    let mut paths = segment::SegmentPaths::new(&settings.dir);
    loop {
        let may_prepare = retry_at.is_none_or(|t| Instant::now() >= t);
        let want = {
            let mut h = shared.lock();
            if h.stop {
                return;
            }
            if !periodic {
                std::mem::swap(&mut h.retired, &mut retired);
            }
            (h.prepared.is_none() && may_prepare).then_some(h.next_index)
        };
        if let Some(index) = want {
            let prepared = segment::prepare(
                &mut paths,
                index,
                settings.segment_size,
                settings.pretouch,
                periodic,
                settings.sync_dir,
            );
            let mut h = shared.lock();
            match prepared {
                Ok((segment, raw)) => {
                    if let Some(raw) = raw {
                        h.raws.push(RawSegment { index, raw, synced: 0 });
                    }
                    h.prepared = Some(segment);
                    h.prepare_error = None;
                    retry_at = None;
                }
                Err(e) => {
                    h.prepare_error = Some(e.to_string());
                    retry_at = Some(Instant::now() + PREPARE_RETRY);
                }
            }
            drop(h);
            shared.wake.notify_all();
        }
        retired.clear();

        let h = shared.lock();
        let prepare_due = h.prepared.is_none() && retry_at.is_none();
        if h.stop || (!periodic && !h.retired.is_empty()) || prepare_due {
            continue;
        }
        let timeout = retry_at
            .map_or(Duration::from_secs(1), |t| t.saturating_duration_since(Instant::now()));
        drop(shared.wake.wait_timeout(h, timeout).unwrap_or_else(PoisonError::into_inner));
    }
}

/// Periodic mode: every interval, msyncs what the writer appended and advances the durable
/// sequence; msyncs retired segments to their ends and unmaps them. Ends after a last flush.
fn flush_loop(shared: &Shared, interval: Duration, raw: Option<RawSegment>) {
    let _guard = PanicGuard(shared);
    let mut raws: Vec<RawSegment> = raw.into_iter().collect();
    let mut retired: Vec<Retired> = Vec::with_capacity(RETIRED_CAPACITY);
    let mut failed = false;
    loop {
        let (stop, active_index, written_next, write_off) = {
            let mut h = shared.lock();
            std::mem::swap(&mut h.retired, &mut retired);
            raws.append(&mut h.raws);
            // Read under the lock: a roll (which moves the active segment and resets
            // `write_off`) cannot happen between these loads, so every record below
            // `written_next` is in `retired` or in the active segment below `write_off`.
            let c = &shared.cursor.0;
            let written_next = c.written_next.load(Ordering::Acquire);
            let write_off = c.write_off.load(Ordering::Relaxed) as usize;
            (h.stop, h.active_index, written_next, write_off)
        };
        if !failed {
            match flush(&mut raws, &retired, active_index, write_off) {
                Ok(()) => shared.durable_next.0.store(written_next, Ordering::Release),
                Err(e) => {
                    // Sticky: what is durable is no longer known, so committed stops here.
                    failed = true;
                    shared.lock().flush_error = Some(e.to_string());
                }
            }
        }
        retired.clear();
        if stop {
            return;
        }
        let h = shared.lock();
        if h.stop || !h.retired.is_empty() {
            continue;
        }
        drop(shared.wake.wait_timeout(h, interval).unwrap_or_else(PoisonError::into_inner));
    }
}

/// msyncs the retired segments to their ends, then the active one up to `write_off`.
fn flush(
    raws: &mut Vec<RawSegment>,
    retired: &[Retired],
    active_index: u64,
    write_off: usize,
) -> std::io::Result<()> {
    for r in retired {
        let from = raws.iter().find(|s| s.index == r.index).map_or(0, |s| s.synced);
        if r.end > from {
            r.map.flush_range(from, r.end - from)?;
        }
        raws.retain(|s| s.index != r.index);
    }
    if let Some(s) = raws.iter_mut().find(|s| s.index == active_index) {
        let end = write_off.min(s.raw.len());
        if end > s.synced {
            s.raw.flush_range(s.synced, end - s.synced)?;
            s.synced = end;
        }
    }
    Ok(())
}
