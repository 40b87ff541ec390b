//! Reading a journal: records in sequence order across segments, from a sequence number, a
//! time, or the beginning.

use std::path::Path;

use crate::cursor::{Cursor, Step};
use crate::error::{Error, Result};
use crate::record::{OwnedRecord, Record, Start};

/// Iterates a journal's records in order, CRC-checking each.
///
/// Works on a journal another process is writing: it reads what is there and returns `None`
/// at the live end (use a [`Tailer`](crate::Tailer) to wait for more). Stops at the first bad
/// record with [`Error::Corrupt`] naming the segment, offset, sequence and problem.
///
/// ```
/// # fn main() -> tickline_journal::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("tickline-reader-doc-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// # let mut cfg = tickline_journal::JournalConfig::new(&dir);
/// # cfg.segment_size = 1 << 16;
/// # let mut w = tickline_journal::Writer::open(&cfg)?;
/// # for i in 0..1000u64 { w.append(1, i as i64, &i.to_le_bytes())?; }
/// # w.close()?;
/// use tickline_journal::{Reader, Start};
///
/// let mut reader = Reader::open_at(&dir, Start::Seq(700))?;
/// let rec = reader.next_record()?.expect("record 700");
/// assert_eq!((rec.seq, rec.payload), (700, &700u64.to_le_bytes()[..]));
/// assert_eq!(reader.count(), 299);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Reader {
    cursor: Cursor,
    failed: bool,
}

impl Reader {
    /// A reader at the first record of the journal in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Reader> {
        Self::open_at(dir, Start::Beginning)
    }

    /// A reader at `start`.
    pub fn open_at(dir: impl AsRef<Path>, start: Start) -> Result<Reader> {
        let mut cursor = Cursor::new(dir.as_ref())?;
        cursor.seek(start)?;
        Ok(Reader { cursor, failed: false })
    }

    /// Moves to record `seq` (random access through the sparse index: a binary search over
    /// segment headers, then over the segment's index, then at most a few hundred hops).
    /// `seq` may be the next sequence to be written; beyond that is
    /// [`Error::SeqUnavailable`], as is a pruned one.
    pub fn seek(&mut self, seq: u64) -> Result<()> {
        self.failed = false;
        self.cursor.seek_seq(seq)
    }

    /// Moves to `start`.
    pub fn seek_to(&mut self, start: Start) -> Result<()> {
        self.failed = false;
        self.cursor.seek(start)
    }

    /// The sequence of the record `next_record` returns next.
    pub fn next_seq(&self) -> u64 {
        self.cursor.next_seq()
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        self.cursor.dir()
    }

    /// The next record, borrowed from the map; `None` at the end of the journal.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        match self.cursor.step(true)? {
            Step::Record { off, info } => Ok(Some(self.cursor.take(off, info))),
            Step::End => Ok(None),
            Step::Bad { corruption, .. } => Err(Error::corrupt(corruption)),
        }
    }
}

/// Owned records; after an error the iterator ends.
impl Iterator for Reader {
    type Item = Result<OwnedRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_record() {
            Ok(r) => r.map(|r| Ok(r.to_owned_record())),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
