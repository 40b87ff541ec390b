//! Gateway errors: set-up and configuration only. The hot path reports trouble through
//! counters and execution reports, never through `Result`s that allocate.

use std::path::PathBuf;

/// A gateway error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is out of range; names the key.
    #[error("gateway config `{key}`: {problem}")]
    Config {
        /// The config key, as the operator wrote it (`gateway.port`).
        key: &'static str,
        /// What is wrong and what to do.
        problem: String,
    },
    /// The FIX sequence-number file could not be read or written.
    #[error("FIX sequence file {}: {source}", path.display())]
    SeqFile {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The FIX sequence-number file is not one this gateway wrote.
    #[error("FIX sequence file {}: {problem}; fix or delete it (deleting resets both sequence numbers to 1, which the venue must agree to)", path.display())]
    SeqFileCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The OS refused a socket or poller the FIX session needs.
    #[error("FIX session set-up ({what}): {source}")]
    Io {
        /// What was being set up.
        what: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Gateway result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
