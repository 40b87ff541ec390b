//! Reading frame captures: one `<recv_ns> <frame>` per line, plain or gzip.
//!
//! This is the format of `../shared/data/binance-spot/*.gz`: the local receive time in
//! nanoseconds since the epoch, one space, then the frame exactly as received. A REST depth
//! snapshot appears as a line of its own at the moment it arrived (see
//! [`crate::venue::binance::is_depth_snapshot`]), so replaying a capture in order reproduces
//! the buffering the venue's sync procedure needs.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use tickline_engine::types::Nanos;

use crate::error::{Error, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One captured frame, borrowed from the reader until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapturedFrame<'a> {
    /// 1-based line number in the capture.
    pub line: u64,
    /// Local receive time.
    pub recv_ns: Nanos,
    /// The frame bytes (no trailing newline).
    pub frame: &'a [u8],
}

/// Reads a capture line by line, reusing one line buffer.
pub struct CaptureReader<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    path: PathBuf,
}

impl<R> fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader").field("path", &self.path).field("line", &self.line).finish()
    }
}

impl CaptureReader<Box<dyn BufRead + Send>> {
    /// Opens a capture file, gzip-compressed or plain (detected from its first bytes).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let io = |source| Error::CaptureIo { path: path.clone(), source };
        let mut file = BufReader::with_capacity(1 << 16, File::open(&path).map_err(io)?);
        let gz = file.fill_buf().map_err(io)?.starts_with(&GZIP_MAGIC);
        let reader: Box<dyn BufRead + Send> = if gz {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        Ok(CaptureReader::from_reader(reader, path))
    }
}

impl<R: BufRead> CaptureReader<R> {
    /// Reads a capture from any buffered reader; `name` appears in errors.
    pub fn from_reader(reader: R, name: impl Into<PathBuf>) -> Self {
        CaptureReader { reader, buf: Vec::with_capacity(1 << 16), line: 0, path: name.into() }
    }

    /// The capture's path or name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next frame, or `None` at the end. Blank lines are skipped.
    pub fn next_frame(&mut self) -> Result<Option<CapturedFrame<'_>>> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| Error::CaptureIo { path: self.path.clone(), source })?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            if !self.buf.is_empty() {
                break;
            }
        }
        let bad = |reason| Error::CaptureLine { path: self.path.clone(), line: self.line, reason };
        let space = self
            .buf
            .iter()
            .position(|&c| c == b' ')
            .ok_or_else(|| bad("no space after the receive time"))?;
        let (ns, frame) = (&self.buf[..space], &self.buf[space + 1..]);
        if ns.is_empty() || !ns.iter().all(u8::is_ascii_digit) {
            return Err(bad("receive time is not a decimal integer"));
        }
        let recv_ns = std::str::from_utf8(ns)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| bad("receive time overflows 64 bits"))?;
        if frame.is_empty() {
            return Err(bad("empty frame"));
        }
        Ok(Some(CapturedFrame { line: self.line, recv_ns: Nanos(recv_ns), frame }))
    }
}

impl<R: Read> CaptureReader<BufReader<R>> {
    /// Reads a capture from an unbuffered reader.
    pub fn from_unbuffered(reader: R, name: impl Into<PathBuf>) -> Self {
        CaptureReader::from_reader(BufReader::new(reader), name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn frames(text: &[u8]) -> Result<Vec<(u64, i64, Vec<u8>)>> {
        let mut r = CaptureReader::from_reader(text, "test");
        let mut out = Vec::new();
        while let Some(f) = r.next_frame()? {
            out.push((f.line, f.recv_ns.0, f.frame.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn reads_lines_and_skips_blanks() {
        let got = frames(b"1 {\"a\":1}\n\n2 {\"b\": 2}\r\n3 x y").unwrap();
        assert_eq!(
            got,
            vec![
                (1, 1, b"{\"a\":1}".to_vec()),
                (3, 2, b"{\"b\": 2}".to_vec()),
                (4, 3, b"x y".to_vec())
            ]
        );
    }

    #[test]
    fn bad_lines_name_the_line() {
        for (text, reason) in [
            (&b"1 {}\nnospace\n"[..], "no space"),
            (b"1 {}\n-5 {}\n", "not a decimal"),
            (b"1 {}\n99999999999999999999 {}\n", "overflows"),
            (b"1 {}\n5 \n", "empty frame"),
        ] {
            let err = frames(text).unwrap_err().to_string();
            assert!(err.contains("test line 2") && err.contains(reason), "{err}");
        }
    }

    #[test]
    fn opens_gzip_and_plain_files() {
        let dir = std::env::temp_dir().join(format!("tickline-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("c.txt");
        std::fs::write(&plain, b"10 {\"x\":1}\n").unwrap();
        let gz = dir.join("c.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"11 {\"y\":2}\n12 {\"z\":3}\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let mut r = CaptureReader::open(&plain).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().recv_ns, Nanos(10));
        assert!(r.next_frame().unwrap().is_none());
        let mut r = CaptureReader::open(&gz).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().frame, b"{\"y\":2}");
        assert_eq!(r.next_frame().unwrap().unwrap().recv_ns, Nanos(12));
        assert!(r.next_frame().unwrap().is_none());
        let missing = CaptureReader::open(dir.join("missing.gz")).unwrap_err();
        assert!(missing.to_string().contains("missing.gz"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
