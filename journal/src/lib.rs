//! tickline's journal: a memory-mapped, append-only, segmented record log that survives
//! `kill -9`, with recovery, readers, a live tailer, verification and retention helpers.
//!
//! # Where it sits
//!
//! The journal thread is a consumer of the engine's rings: it takes each record a hot stage
//! publishes (tick, intent, risk decision, order, execution report, admin action) and
//! [`Writer::append`]s it. On a 2-core host that thread shares the second core with the
//! sidecar; the hot path never waits on it. The journal knows nothing of engine types: a
//! record is a type number (`u16`), a timestamp in ns (`i64`) and payload bytes, and the
//! engine decides what they mean. The `tickline journal` and `tickline replay` tools read
//! journals through [`Reader`], [`Tailer`], [`verify`] and the [retention
//! helpers](list_segments).
//!
//! # Threads
//!
//! - The **journal thread** owns the [`Writer`]. `append` copies into the mapped segment,
//!   computes a CRC32C and publishes with two atomic stores: no allocation, lock or syscall.
//! - The writer's **segment thread** (`tickline-journal`) prepares the next segment
//!   (created, `fallocate`d, mapped, every page touched) so the writer does not page-fault
//!   on it, and unmaps finished segments.
//! - In periodic mode, the writer's **msync thread** (`tickline-journal-sync`) msyncs what
//!   was appended every interval and advances the committed sequence. It is a thread of its
//!   own so a slow disk delays durability, never the next segment.
//! - **Any thread** can read the committed sequence through a [`CommitWatch`].
//! - **Other processes** read with [`Reader`] / [`Tailer`]; one process writes (the directory's
//!   `writer.lock` is `flock`ed, so a second writer gets [`Error::Locked`]).
//!
//! # Durability
//!
//! A record counts as committed when its [`Durability`] mode says so: on append
//! (`PageCache`), after the background msync that covers it (`Periodic`), or after the
//! [`Writer::commit`] that covers it (`Batch`). A committed record survives `kill -9` in
//! every mode, and a machine crash in the last two.
//!
//! # Layout
//!
//! A journal is a directory of segment files `{index:020}.tlj`, each pre-allocated to the
//! configured size; records never span segments. Little-endian throughout.
//!
//! ```text
//! segment header (64 bytes)              record frame (8-byte aligned)
//! +-----+----+-----------------------+   +-----+-----+----------------------------------+
//! | off | len| field                 |   | off | len | field                            |
//! +-----+----+-----------------------+   +-----+-----+----------------------------------+
//! |   0 |  8 | magic "TICKLJNL"      |   |   0 |   4 | payload length                   |
//! |   8 |  2 | format version (1)    |   |   4 |   2 | record type                      |
//! |  10 |  2 | header length (64)    |   |   6 |   2 | marker 0x544c (word 0..8 zero =  |
//! |  12 |  2 | frame header len (32) |   |     |     |   no record yet)                 |
//! |  14 |  2 | reserved              |   |   8 |   8 | sequence number                  |
//! |  16 |  8 | segment index         |   |  16 |   8 | timestamp, ns                    |
//! |  24 |  8 | first sequence        |   |  24 |   4 | CRC32C(bytes 0..24 ++ payload)   |
//! |  32 |  8 | created, ns (wall)    |   |  28 |   4 | reserved                         |
//! |  40 |  8 | capacity (file size)  |   |  32 | len | payload                          |
//! |  48 | 12 | reserved              |   |     | 0-7 | zero padding to 8                |
//! |  60 |  4 | CRC32C(bytes 0..60)   |   +-----+-----+----------------------------------+
//! +-----+----+-----------------------+
//! then frames from offset 64, then zeros to the end of the file
//! ```
//!
//! The first 8 bytes of a frame (and the magic of a header) are written last, behind a
//! release fence, so readers in other processes see a record whole or not at all, and a
//! writer killed mid-append leaves a zero word that recovery treats as the end. See
//! [`format`](mod@format) for the details.
//!
//! # Example
//!
//! ```
//! use tickline_journal::{Durability, JournalConfig, Reader, Writer};
//!
//! # fn main() -> tickline_journal::Result<()> {
//! let dir = std::env::temp_dir().join(format!("tickline-journal-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let mut config = JournalConfig::new(&dir);
//! config.segment_size = 1 << 20;
//! config.durability = Durability::Batch;
//!
//! let mut writer = Writer::open(&config)?;
//! let seq = writer.append(1, 1_700_000_000_000_000_000, b"tick")?;
//! writer.append(3, 1_700_000_000_000_000_100, b"order")?;
//! assert_eq!(writer.commit()?, Some(seq + 1));
//! writer.close()?;
//!
//! let records: Vec<_> = Reader::open(&dir)?.collect::<Result<_, _>>()?;
//! assert_eq!(records[1].payload, b"order");
//! assert!(tickline_journal::verify(&dir)?.is_clean());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod background;
pub mod config;
mod crc;
mod cursor;
pub mod error;
pub mod format;
mod index;
mod lock;
mod map;
mod prefetch;
mod reader;
mod record;
mod recovery;
mod retention;
mod segment;
mod tailer;
mod verify;
mod writer;

pub use config::{Durability, JournalConfig, RecoveryPolicy};
pub use error::{AppendError, Corruption, Error, Problem, Result};
pub use lock::LOCK_FILE_NAME;
pub use reader::Reader;
pub use record::{OwnedRecord, Record, Start};
pub use recovery::{Recovery, Truncation};
pub use retention::{
    backup, backup_with, list_segments, prune, BackupReport, PruneBudget, PruneReport, SegmentInfo,
    SegmentState,
};
pub use tailer::{TailOptions, Tailer};
pub use verify::{verify, verify_with, VerifyReport};
pub use writer::{CommitWatch, Writer, WriterStats};
