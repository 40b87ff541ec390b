//! Recording every received frame: `<recv_ns> <frame>` per line, plain or gzip — the format
//! [`crate::capture::CaptureReader`] reads and `../shared/data/binance-spot/*.gz` uses.
//!
//! The feed thread only copies the line into a 64 KiB chunk; full chunks go to a writer
//! thread (which compresses and does the file I/O) and come back empty for reuse, so in
//! steady state recording allocates nothing and makes no syscall on the feed thread. If the
//! writer falls more than [`QUEUED_CHUNKS`] chunks behind, chunks are dropped and counted
//! rather than stalling the feed. A frame's newlines (JSON whitespace) become spaces so a
//! frame stays one line; empty frames are skipped.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use flate2::write::GzEncoder;
use tickline_engine::telemetry::Counter;
use tickline_engine::types::Nanos;

use crate::ws::ConnectionError;

/// Bytes per chunk handed to the writer thread.
pub const CHUNK_BYTES: usize = 64 << 10;
/// Chunks that may wait for the writer thread before new ones are dropped.
pub const QUEUED_CHUNKS: usize = 64;

/// Where a feed records its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureConfig {
    /// The capture file (created or truncated).
    pub path: PathBuf,
    /// Gzip it; `None` = when the name ends in `.gz`.
    pub gzip: Option<bool>,
}

/// Counters of a capture (written by the feed thread).
#[derive(Debug, Default)]
pub struct CaptureCounters {
    /// Lines recorded.
    pub lines: Counter,
    /// Bytes recorded (lines, newline included).
    pub bytes: Counter,
    /// Lines lost because the writer thread fell behind.
    pub dropped_lines: Counter,
    /// Frames that had newlines replaced to stay on one line.
    pub rewritten: Counter,
}

/// Records frames to a capture file.
#[derive(Debug)]
pub struct CaptureWriter {
    path: PathBuf,
    chunk: Vec<u8>,
    chunk_lines: u64,
    tx: Option<SyncSender<Vec<u8>>>,
    free: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    counters: Arc<CaptureCounters>,
}

fn sink(file: File, gzip: bool) -> Box<dyn Write + Send> {
    let file = BufWriter::with_capacity(1 << 20, file);
    if gzip {
        Box::new(GzEncoder::new(file, flate2::Compression::fast()))
    } else {
        Box::new(file)
    }
}

impl CaptureWriter {
    /// Creates (truncates) `path`; gzip when `gzip` says so, or by default when the name
    /// ends in `.gz`.
    pub fn create(path: &Path, gzip: Option<bool>) -> Result<CaptureWriter, ConnectionError> {
        let gzip = gzip.unwrap_or_else(|| path.extension().is_some_and(|e| e == "gz"));
        let file = File::create(path)
            .map_err(|source| ConnectionError::Capture { path: path.to_path_buf(), source })?;
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUED_CHUNKS);
        let (free_tx, free) = mpsc::sync_channel::<Vec<u8>>(QUEUED_CHUNKS + 2);
        for _ in 0..2 {
            let _ = free_tx.try_send(Vec::with_capacity(CHUNK_BYTES));
        }
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || {
                let mut out = sink(file, gzip);
                for mut chunk in rx {
                    out.write_all(&chunk)?;
                    chunk.clear();
                    let _ = free_tx.try_send(chunk);
                }
                out.flush()?;
                drop(out); // a GzEncoder writes its trailer on drop
                Ok(())
            })
            .map_err(|source| ConnectionError::Capture { path: path.to_path_buf(), source })?;
        Ok(CaptureWriter {
            path: path.to_path_buf(),
            chunk: Vec::with_capacity(CHUNK_BYTES),
            chunk_lines: 0,
            tx: Some(tx),
            free,
            thread: Some(thread),
            counters: Arc::new(CaptureCounters::default()),
        })
    }

    /// The capture file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The counters.
    pub fn counters(&self) -> &Arc<CaptureCounters> {
        &self.counters
    }

    /// Records one frame received at `recv_ns`.
    #[inline]
    pub fn write(&mut self, recv_ns: Nanos, frame: &[u8]) {
        if frame.is_empty() {
            return;
        }
        let start = self.chunk.len();
        // Writing into a Vec cannot fail.
        let _ = write!(self.chunk, "{} ", recv_ns.0.max(0));
        let at = self.chunk.len();
        self.chunk.extend_from_slice(frame);
        if frame.iter().any(|&c| c == b'\n' || c == b'\r') {
            for c in &mut self.chunk[at..] {
                if *c == b'\n' || *c == b'\r' {
                    *c = b' ';
                }
            }
            self.counters.rewritten.inc();
        }
        self.chunk.push(b'\n');
        self.chunk_lines += 1;
        self.counters.lines.inc();
        self.counters.bytes.add((self.chunk.len() - start) as u64);
        if self.chunk.len() >= CHUNK_BYTES {
            self.hand_off();
        }
    }

    fn hand_off(&mut self) {
        let Some(tx) = &self.tx else { return };
        let next = self.free.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES));
        let full = std::mem::replace(&mut self.chunk, next);
        let lines = std::mem::take(&mut self.chunk_lines);
        match tx.try_send(full) {
            Ok(()) => {}
            Err(TrySendError::Full(mut back)) => {
                self.counters.dropped_lines.add(lines);
                back.clear();
                self.chunk = back;
            }
            Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped_lines.add(lines);
                self.tx = None;
            }
        }
    }

    /// Writes what is buffered and waits for the file to be complete (cold path).
    pub fn finish(&mut self) -> io::Result<()> {
        if !self.chunk.is_empty() {
            if let Some(tx) = &self.tx {
                let full = std::mem::take(&mut self.chunk);
                let _ = tx.send(full);
            }
        }
        self.tx = None;
        match self.thread.take() {
            Some(t) => {
                t.join().unwrap_or_else(|_| Err(io::Error::other("capture thread panicked")))
            }
            None => Ok(()),
        }
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!(path = %self.path.display(), error = %e, "capture not completed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    #[test]
    fn round_trips_through_the_reader_plain_and_gzip() {
        let dir = std::env::temp_dir().join(format!("tickline-capw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["c.txt", "c.gz"] {
            let path = dir.join(name);
            let mut w = CaptureWriter::create(&path, None).unwrap();
            for i in 0..20_000i64 {
                w.write(Nanos(1_000 + i), format!("{{\"i\":{i}}}").as_bytes());
            }
            w.write(Nanos(5), b"");
            w.write(Nanos(7), b"{\"a\":\n1}");
            w.finish().unwrap();
            assert_eq!(w.counters().lines.get(), 20_001);
            assert_eq!(w.counters().rewritten.get(), 1);
            assert_eq!(w.counters().dropped_lines.get(), 0);
            let mut r = CaptureReader::open(&path).unwrap();
            let first = r.next_frame().unwrap().unwrap();
            assert_eq!((first.recv_ns, first.frame), (Nanos(1_000), &b"{\"i\":0}"[..]));
            let mut n = 1;
            let mut last = Vec::new();
            while let Some(f) = r.next_frame().unwrap() {
                n += 1;
                last = f.frame.to_vec();
            }
            assert_eq!(n, 20_001);
            assert_eq!(last, b"{\"a\": 1}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
