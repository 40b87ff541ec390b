//! Errors: the crate-wide [`Error`], the hot path's small [`AppendError`], and the
//! [`Corruption`] report that names a bad spot in a journal.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The journal's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong outside the append hot path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system call on a journal file or directory failed.
    #[error("journal: cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done ("open", "map", "msync", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// Another writer holds the journal directory.
    #[error(
        "journal {} is already open for writing by {holder}; a journal has one writer: \
         stop that process or give this one another directory",
        dir.display()
    )]
    Locked {
        /// The journal directory.
        dir: PathBuf,
        /// Who holds the lock, as far as the lock file says ("pid 1234" or "an unknown process").
        holder: String,
    },

    /// A configuration value is out of range. Raised once, at open.
    #[error("invalid journal config `{key}`: {problem}")]
    Config {
        /// The config key, as spelled in TOML.
        key: &'static str,
        /// What is wrong and what is allowed.
        problem: String,
    },

    /// A reader or the writer's recovery met bytes that are not a valid journal.
    #[error("corrupt journal: {0}; run `tickline journal verify` for a full report")]
    Corrupt(Box<Corruption>),

    /// Recovery found a bad record with valid records after it. That is damage in the middle
    /// of the data, not a write torn by a crash, so recovery refuses to cut it off on its own.
    #[error(
        "journal recovery refused: {bad}; valid records follow at offset {valid_offset} \
         (seq {valid_seq}), so this is corruption, not a torn write. Restore the journal from a \
         backup, or open it with `recovery = \"truncate_corrupt\"` to drop everything from \
         offset {} of that segment",
        bad.offset
    )]
    CorruptTail {
        /// The first bad record.
        bad: Box<Corruption>,
        /// Offset of the first valid record after it, in the same segment.
        valid_offset: u64,
        /// That record's sequence number.
        valid_seq: u64,
    },

    /// A sequence number asked for is not in the journal.
    #[error(
        "journal {}: sequence {seq} is not available (it holds {first}..{next}; \
         earlier ones were pruned, later ones not written yet)",
        dir.display()
    )]
    SeqUnavailable {
        /// The journal directory.
        dir: PathBuf,
        /// The sequence asked for.
        seq: u64,
        /// First sequence present.
        first: u64,
        /// One past the last sequence present.
        next: u64,
    },

    /// An append failed (see [`AppendError`]).
    #[error(transparent)]
    Append(#[from] AppendError),

    /// A writer's background thread (segment preparation, periodic msync) failed.
    #[error("journal background thread failed: {0}")]
    Background(String),

    /// A backup could not be made or did not verify.
    #[error("journal backup to {}: {problem}", dest.display())]
    Backup {
        /// The backup directory.
        dest: PathBuf,
        /// What went wrong.
        problem: String,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done to which path.
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io { op, path: path.to_path_buf(), source }
    }

    /// Wraps a corruption report.
    pub(crate) fn corrupt(c: Corruption) -> Self {
        Error::Corrupt(Box::new(c))
    }

    /// The corruption report, if this error is one.
    pub fn corruption(&self) -> Option<&Corruption> {
        match self {
            Error::Corrupt(c) => Some(c),
            Error::CorruptTail { bad, .. } => Some(bad),
            _ => None,
        }
    }
}

/// A failed append. Small and `Copy`: the hot path never allocates to report an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The payload cannot fit in one segment. Nothing was written.
    #[error(
        "journal record of {len} bytes is larger than a segment can hold ({max} bytes); \
         raise `segment_size`"
    )]
    TooLarge {
        /// Payload length asked for.
        len: usize,
        /// Largest payload a segment holds.
        max: usize,
    },
    /// The active segment is full and the background thread could not prepare the next one
    /// (disk full, permissions...). Nothing was written; the append may be retried, and
    /// [`Writer::background_error`](crate::Writer::background_error) says what failed.
    #[error("journal segment full and the next segment could not be prepared; see the writer's background error")]
    SegmentUnavailable,
}

// The hot path returns it by value: keep it small.
const _: () = assert!(std::mem::size_of::<AppendError>() <= 24);

/// Where a journal is damaged and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    /// Segment index (the number in the segment's file name).
    pub segment: u64,
    /// Segment file.
    pub path: PathBuf,
    /// Byte offset in the segment file.
    pub offset: u64,
    /// Sequence number of the record expected at that spot, when known.
    pub seq: Option<u64>,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} ({}) offset {}", self.segment, self.path.display(), self.offset)?;
        if let Some(seq) = self.seq {
            write!(f, ", seq {seq}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// What is wrong with a segment header, a record, or the chain of segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file is shorter than a segment header but not empty.
    #[error("file of {len} bytes is too short for a segment header (64 bytes)")]
    HeaderTooShort {
        /// File length.
        len: u64,
    },
    /// The file does not start with the segment magic: not a tickline journal segment.
    #[error("not a tickline journal segment (bad magic)")]
    BadSegmentMagic,
    /// The segment was written by a format version this build does not read.
    #[error("segment format version {found} is not supported (this build reads version 1)")]
    UnsupportedVersion {
        /// Version in the header.
        found: u16,
    },
    /// The segment header's checksum does not match.
    #[error("segment header CRC mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    HeaderCrcMismatch {
        /// CRC stored in the header.
        stored: u32,
        /// CRC of the header bytes.
        computed: u32,
    },
    /// The header's fixed fields (lengths, reserved bytes, capacity) are not valid.
    #[error("segment header has invalid fixed fields ({what})")]
    BadHeaderField {
        /// Which field.
        what: &'static str,
    },
    /// The index in the header differs from the index in the file name (a renamed file).
    #[error("segment header says index {in_header} but the file name says {in_name}")]
    IndexMismatch {
        /// Index from the file name.
        in_name: u64,
        /// Index from the header.
        in_header: u64,
    },
    /// The file is shorter than the capacity its header records (truncated).
    #[error("segment file is {file} bytes but its header says {header} (truncated?)")]
    CapacityMismatch {
        /// Capacity in the header.
        header: u64,
        /// File length.
        file: u64,
    },
    /// A segment without a header sits before segments that have one.
    #[error("segment has no header but later segments do")]
    UnstartedInMiddle,
    /// A segment index is missing from the sequence of files.
    #[error("segment {expected} is missing (next file is segment {found})")]
    SegmentMissing {
        /// Index expected.
        expected: u64,
        /// Index found.
        found: u64,
    },
    /// A record's marker is wrong: not the start of a record.
    #[error("bad record marker {found:#06x}")]
    BadFrameMagic {
        /// Marker found.
        found: u16,
    },
    /// A record's reserved header bytes are not zero.
    #[error("record reserved bytes are not zero ({found:#010x})")]
    ReservedNonZero {
        /// Value found.
        found: u32,
    },
    /// A record's length runs past the end of the segment.
    #[error("record length {len} runs past the end of the segment ({room} bytes left)")]
    LengthOutOfBounds {
        /// Payload length in the record header.
        len: u32,
        /// Bytes available for the payload.
        room: u64,
    },
    /// A record's checksum does not match its bytes.
    #[error("record CRC mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    CrcMismatch {
        /// CRC stored in the record.
        stored: u32,
        /// CRC of the record's bytes.
        computed: u32,
    },
    /// The padding after a record's payload is not zero.
    #[error("record padding is not zero")]
    PaddingNonZero,
    /// A record carries the wrong sequence number.
    #[error("record has sequence {found}, expected {expected}")]
    SequenceMismatch {
        /// Sequence expected.
        expected: u64,
        /// Sequence found.
        found: u64,
    },
    /// A segment does not start where the previous one ended.
    #[error(
        "sequence break: expected sequence {expected} next, the next segment starts at {found}"
    )]
    SequenceGap {
        /// Sequence expected.
        expected: u64,
        /// Sequence found.
        found: u64,
    },
    /// Non-zero bytes after the last record of a segment (a torn write, or damage).
    #[error("{bytes} bytes of non-zero data after the last record (torn write or damage)")]
    TrailingGarbage {
        /// Length of the span from the first to the last non-zero byte.
        bytes: u64,
    },
}
