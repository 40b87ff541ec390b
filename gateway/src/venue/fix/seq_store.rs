//! FIX sequence numbers that survive a restart: one small file, one fixed-size record
//! rewritten in place (a `pwrite`, no allocation) whenever the numbers move.
//!
//! The session writes ahead: the outbound number is saved before the message that uses it
//! goes to the socket, so a crash can skip a number (the venue asks for a resend and gets a
//! gap fill) but never reuse one (which the venue would answer with a Logout). The record is
//! not fsynced: it survives the process dying, not the host losing power.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::codec::num::parse_u64;
use crate::error::{Error, Result};

const MAGIC: &[u8] = b"tickline-fix-seq v1 out=";
const IN: &[u8] = b" in=";
const DIGITS: usize = 20;
/// `MAGIC` + 20 digits + `IN` + 20 digits + newline.
const RECORD: usize = 24 + DIGITS + 4 + DIGITS + 1;

/// The next outbound and expected inbound sequence numbers, on disk.
#[derive(Debug)]
pub struct SeqStore {
    file: File,
    path: PathBuf,
    record: [u8; RECORD],
    saved: (u64, u64),
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
        let mut store =
            SeqStore { file, path: path.to_owned(), record: [b'0'; RECORD], saved: (0, 0) };
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
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
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
        std::fs::write(&path, b"hello").unwrap();
        let e = SeqStore::open(&path).unwrap_err().to_string();
        assert!(e.contains("venue.seq") && e.contains("delete it"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
