//! Following a live journal, typically one another process is writing.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cursor::{Cursor, Step};
use crate::error::{Error, Result};
use crate::format::FrameInfo;
use crate::record::{Record, Start};

/// How a [`Tailer`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailOptions {
    /// Sleep between polls in [`Tailer::next_timeout`]. Default 1 ms.
    pub poll_interval: Duration,
    /// How long bad bytes at the live end may stay unchanged before they are reported as
    /// corruption. A writer killed mid-append leaves such bytes until the next writer's
    /// recovery zeroes them; default 2 s.
    pub torn_grace: Duration,
}

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions { poll_interval: Duration::from_millis(1), torn_grace: Duration::from_secs(2) }
    }
}

/// Follows a journal as it grows, across segment rolls, by polling the mapped segment for
/// the next record's first word and, at the end of a segment, the next segment's header.
///
/// Restartable: open it again at `Start::Seq(last_seen + 1)` or at a time. Polling costs no
/// syscall while records are flowing and about two (`fstat`, `pread`) per poll at the end.
///
/// A tailer sees a record as soon as it is appended, before it counts as committed. A
/// `kill -9` of the writer loses no appended record, so that view never has to be taken
/// back; only a machine crash can lose records a tailer has already seen (those appended
/// after the last msync, in `Periodic` and `Batch` modes; anything not yet written back, in
/// `PageCache` mode).
#[derive(Debug)]
pub struct Tailer {
    cursor: Cursor,
    opts: TailOptions,
    /// Bad bytes seen at the live end: ((segment, offset), when first seen).
    stuck: Option<((u64, u64), Instant)>,
    /// When the tailer last listed the directory at the end of the data.
    looked_beyond: Option<Instant>,
}

/// How often a tailer at the end of the data checks for segments past a missing one.
const LOOK_BEYOND_EVERY: Duration = Duration::from_secs(1);

impl Tailer {
    /// A tailer on the journal in `dir`, starting at `start`. The directory must exist; the
    /// journal in it may be empty.
    pub fn open(dir: impl AsRef<Path>, start: Start, opts: TailOptions) -> Result<Tailer> {
        let mut cursor = Cursor::new(dir.as_ref())?;
        cursor.seek(start)?;
        Ok(Tailer { cursor, opts, stuck: None, looked_beyond: None })
    }

    /// The sequence of the next record the tailer will return.
    pub fn next_seq(&self) -> u64 {
        self.cursor.next_seq()
    }

    /// The next record if one is there now, without waiting.
    pub fn poll(&mut self) -> Result<Option<Record<'_>>> {
        match self.poll_step()? {
            Some((off, info)) => Ok(Some(self.cursor.take(off, info))),
            None => Ok(None),
        }
    }

    /// The next record, waiting up to `timeout` for it; `None` if none came.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Record<'_>>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((off, info)) = self.poll_step()? {
                return Ok(Some(self.cursor.take(off, info)));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(self.opts.poll_interval.min(deadline - now));
        }
    }

    fn poll_step(&mut self) -> Result<Option<(usize, FrameInfo)>> {
        // Listing the directory for segments beyond a missing one costs more than a poll
        // should; do it at most once per `LOOK_BEYOND_EVERY`.
        let look_beyond = self.looked_beyond.is_none_or(|t| t.elapsed() >= LOOK_BEYOND_EVERY);
        if look_beyond {
            self.looked_beyond = Some(Instant::now());
        }
        match self.cursor.step(look_beyond)? {
            Step::Record { off, info } => {
                self.stuck = None;
                Ok(Some((off, info)))
            }
            Step::End => {
                self.stuck = None;
                Ok(None)
            }
            Step::Bad { corruption, live } => {
                if !live {
                    return Err(Error::corrupt(corruption));
                }
                let key = (corruption.segment, corruption.offset);
                match self.stuck {
                    Some((k, since)) if k == key => {
                        if since.elapsed() >= self.opts.torn_grace {
                            return Err(Error::corrupt(corruption));
                        }
                    }
                    _ => {
                        if self.opts.torn_grace.is_zero() {
                            return Err(Error::corrupt(corruption));
                        }
                        self.stuck = Some((key, Instant::now()));
                    }
                }
                Ok(None)
            }
        }
    }
}
