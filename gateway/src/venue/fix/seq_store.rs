//! FIX sequence numbers that survive a restart: one small file, one fixed-size record
//! rewritten in place (a `pwrite`, no allocation) whenever the numbers move.
//!
//! The session writes ahead: the outbound number is saved before the message that uses it
//! goes to the socket, so a crash can skip a number (the venue asks for a resend and gets a
//! gap fill) but never reuse one (which the venue would answer with a Logout). The record is
//! not fsynced: it survives the process dying, not the host losing power.
//!
//! The file is the primary store. A [`SeqWatch`] publishes every save to another thread, so
//! `tickline run` can checkpoint the numbers in its journal: a second copy, which start-up
//! takes as a floor under the file's ([`read`] looks at the file without touching it).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::codec::num::parse_u64;
use crate::error::{Error, Result};

const MAGIC: &[u8] = b"tickline-fix-seq v1 out=";
const IN: &[u8] = b" in=";
const DIGITS: usize = 20;
/// `MAGIC` + 20 digits + `IN` + 20 digits + newline.
const RECORD: usize = 24 + DIGITS + 4 + DIGITS + 1;

/// The numbers a [`SeqStore`] last saved, for another thread to read (the journal
/// checkpoints them as a cross-check of the file). Two relaxed words: a reader may see one
/// number from a save and the other from the save before, each at most as new as the file.
#[derive(Debug, Default)]
pub struct SeqWatch {
    next_out: AtomicU64,
    next_in: AtomicU64,
}

impl SeqWatch {
    /// `(next outbound, next expected inbound)`, or `None` before the first save.
    pub fn get(&self) -> Option<(u64, u64)> {
        let out = self.next_out.load(Ordering::Relaxed);
        let inb = self.next_in.load(Ordering::Relaxed);
        (out != 0 && inb != 0).then_some((out, inb))
    }

    #[inline]
    fn set(&self, next_out: u64, next_in: u64) {
        self.next_out.store(next_out, Ordering::Relaxed);
        self.next_in.store(next_in, Ordering::Relaxed);
    }
}

/// The next outbound and expected inbound sequence numbers, on disk.
#[derive(Debug)]
pub struct SeqStore {
    file: File,
    path: PathBuf,
    record: [u8; RECORD],
    saved: (u64, u64),
    watch: Option<Arc<SeqWatch>>,
}

impl SeqStore {
    /// Opens (or creates) the file; returns the store and the numbers it held, `(1, 1)` for a
    /// new file. A file that is not a record this store wrote is an error, never a reset.
    pub fn open(path: &Path) -> Result<(SeqStore, (u64, u64))> {
        let io = |source| Error::SeqFile { path: path.to_owned(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(io)?;
        let seqs = if text.is_empty() {
            (1, 1)
        } else {
            parse(&text)
                .map_err(|problem| Error::SeqFileCorrupt { path: path.to_owned(), problem })?
        };
        let mut store = SeqStore {
            file,
            path: path.to_owned(),
            record: [b'0'; RECORD],
            saved: (0, 0),
            watch: None,
        };
        store.record[..MAGIC.len()].copy_from_slice(MAGIC);
        store.record[24 + DIGITS..24 + DIGITS + 4].copy_from_slice(IN);
        store.record[RECORD - 1] = b'\n';
        store.save(seqs.0, seqs.1).map_err(io)?;
        Ok((store, seqs))
    }

    /// Saves the numbers if they changed since the last save.
    #[inline]
    pub fn save(&mut self, next_out: u64, next_in: u64) -> std::io::Result<()> {
        if (next_out, next_in) == self.saved {
            return Ok(());
        }
        digits(&mut self.record[24..24 + DIGITS], next_out);
        digits(&mut self.record[24 + DIGITS + 4..24 + 2 * DIGITS + 4], next_in);
        self.file.write_all_at(&self.record, 0)?;
        self.saved = (next_out, next_in);
        if let Some(w) = &self.watch {
            w.set(next_out, next_in);
        }
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Publishes every save to `watch` from now on, starting with the numbers saved last.
    pub fn set_watch(&mut self, watch: Arc<SeqWatch>) {
        watch.set(self.saved.0, self.saved.1);
        self.watch = Some(watch);
    }
}

/// The numbers in the file at `path` without creating or changing it: `None` when there is
/// no file (or an empty one, which [`SeqStore::open`] reads as a fresh start). A file that is
/// not a record this store wrote is an error naming it.
pub fn read(path: &Path) -> Result<Option<(u64, u64)>> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::SeqFile { path: path.to_owned(), source }),
    };
    if text.is_empty() {
        return Ok(None);
    }
    parse(&text)
        .map(Some)
        .map_err(|problem| Error::SeqFileCorrupt { path: path.to_owned(), problem })
}

fn digits(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn parse(text: &[u8]) -> std::result::Result<(u64, u64), String> {
    if text.len() != RECORD || !text.starts_with(MAGIC) || text[RECORD - 1] != b'\n' {
        return Err(format!(
            "expected one {RECORD}-byte record starting {:?}",
            String::from_utf8_lossy(MAGIC)
        ));
    }
    let out = parse_u64(&text[24..24 + DIGITS]).ok_or("bad outbound number")?;
    if &text[24 + DIGITS..24 + DIGITS + 4] != IN {
        return Err("bad record layout".into());
    }
    let inb = parse_u64(&text[24 + DIGITS + 4..RECORD - 1]).ok_or("bad inbound number")?;
    if out == 0 || inb == 0 {
        return Err("sequence numbers start at 1".into());
    }
    Ok((out, inb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen_and_refuses_foreign_files() {
        let dir = std::env::temp_dir().join(format!("tickline-seq-{}", std::process::id()));
        let path = dir.join("sub/venue.seq");
        let _ = std::fs::remove_dir_all(&dir);
        let (mut s, seqs) = SeqStore::open(&path).unwrap();
        assert_eq!(seqs, (1, 1));
        s.save(17, 4).unwrap();
        s.save(18, 5).unwrap();
        drop(s);
        let (_, seqs) = SeqStore::open(&path).unwrap();
        assert_eq!(seqs, (18, 5));
        assert_eq!(read(&path).unwrap(), Some((18, 5)));
        assert_eq!(read(&dir.join("none.seq")).unwrap(), None);
        assert!(!dir.join("none.seq").exists(), "reading creates nothing");
        std::fs::write(&path, b"hello").unwrap();
        let e = SeqStore::open(&path).unwrap_err().to_string();
        assert!(e.contains("venue.seq") && e.contains("delete it"), "{e}");
        assert!(read(&path).unwrap_err().to_string().contains("venue.seq"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_watch_follows_every_save() {
        let path = std::env::temp_dir().join(format!("tickline-seq-watch-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let (mut s, _) = SeqStore::open(&path).unwrap();
        let w = Arc::new(SeqWatch::default());
        assert_eq!(w.get(), None);
        s.set_watch(Arc::clone(&w));
        assert_eq!(w.get(), Some((1, 1)), "what the store holds at once");
        s.save(5, 3).unwrap();
        assert_eq!(w.get(), Some((5, 3)));
        let _ = std::fs::remove_file(&path);
    }
}
