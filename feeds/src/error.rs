//! Cold-path errors of the feeds crate: start-up, capture files, replay.
//!
//! Hot-path decode failures are [`crate::DecodeError`], a `Copy` kind; this enum is for
//! things an operator reads, so each variant names the file, line or instrument at fault.

use std::path::PathBuf;

use tickline_engine::types::InstrumentId;

/// A cold-path error of the feeds crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A capture file could not be opened or read.
    #[error("capture {path}: {source} (check the path and that the file is readable)")]
    CaptureIo {
        /// The capture file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A capture line is not `<recv_ns> <frame>`.
    #[error("capture {path} line {line}: {reason} (expected `<recv_ns> <frame JSON>`)")]
    CaptureLine {
        /// The capture file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A symbol too long for the allocation-free symbol table.
    #[error("{venue} instrument {symbol}: symbol longer than {max} bytes")]
    SymbolTooLong {
        /// Venue.
        venue: String,
        /// Symbol.
        symbol: String,
        /// The limit.
        max: usize,
    },
    /// Two instruments of one venue map to the same wire symbol (e.g. differing only in case
    /// where the venue's streams are lowercase).
    #[error("{venue} instruments {first} and {second} have the same wire symbol")]
    DuplicateSymbol {
        /// Venue.
        venue: String,
        /// One symbol.
        first: String,
        /// The other.
        second: String,
    },
    /// An instrument id that this handler does not carry.
    #[error("instrument {id} is not a {venue} instrument of this handler")]
    UnknownInstrument {
        /// Venue.
        venue: &'static str,
        /// The id.
        id: InstrumentId,
    },
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
