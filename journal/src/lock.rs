//! The writer lock: one writer per journal directory.
//!
//! An exclusive `flock` on `writer.lock` in the journal directory. The kernel drops it when
//! the holder's file descriptor closes, including when the process is killed, so a crash
//! never leaves a stale lock behind. The file holds the holder's pid, for the error message
//! a second writer gets.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::{flock, FlockOperation};

use crate::error::{Error, Result};

/// Name of the lock file inside a journal directory.
pub const LOCK_FILE_NAME: &str = "writer.lock";

/// A held writer lock; released on drop.
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: File,
    path: PathBuf,
}

impl WriterLock {
    /// Takes the lock on `dir`, or fails at once with [`Error::Locked`] naming the holder.
    pub(crate) fn acquire(dir: &Path) -> Result<WriterLock> {
        let path = dir.join(LOCK_FILE_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        // `writer_is_live` takes the lock shared for a moment; a few retries keep that from
        // refusing a writer that starts at that moment.
        let mut tries = 0;
        let locked = loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Err(e) if e == rustix::io::Errno::WOULDBLOCK && tries < LOCK_TRIES => {
                    tries += 1;
                    std::thread::sleep(LOCK_RETRY);
                }
                other => break other,
            }
        };
        match locked {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                let mut text = String::new();
                let holder = match file.read_to_string(&mut text) {
                    Ok(_) => match text.trim().parse::<u32>() {
                        Ok(pid) => format!("pid {pid}"),
                        Err(_) => "an unknown process".to_string(),
                    },
                    Err(_) => "an unknown process".to_string(),
                };
                return Err(Error::Locked { dir: dir.to_path_buf(), holder });
            }
            Err(e) => return Err(Error::io("lock", &path, e.into())),
        }
        let pid = std::process::id();
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{pid}"))
            .map_err(|e| Error::io("write", &path, e))?;
        Ok(WriterLock { _file: file, path })
    }

    /// The lock file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

const LOCK_TRIES: u32 = 5;
const LOCK_RETRY: Duration = Duration::from_millis(2);

/// Whether a writer holds the journal in `dir` right now: takes the lock shared, without
/// waiting, and drops it at once.
pub(crate) fn writer_is_live(dir: &Path) -> Result<bool> {
    let path = dir.join(LOCK_FILE_NAME);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("open", &path, e)),
    };
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => {
            let _ = flock(&file, FlockOperation::Unlock);
            Ok(false)
        }
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(true),
        Err(e) => Err(Error::io("lock", &path, e.into())),
    }
}
