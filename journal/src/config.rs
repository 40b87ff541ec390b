//! Writer configuration: where the journal lives, how big its segments are, and when a record
//! counts as committed.
//!
//! Parsed from the `[journal]` table of the engine's TOML; every default is stated on its
//! field, and [`JournalConfig::validate`] runs once at open.
//!
//! ```
//! use tickline_journal::{Durability, JournalConfig};
//!
//! let cfg: JournalConfig = toml::from_str(r#"
//!     dir = "/var/lib/tickline/journal"
//!     segment_size = 134217728
//!     durability = { mode = "periodic", interval_ms = 5 }
//! "#).unwrap();
//! assert_eq!(cfg.durability, Durability::Periodic { interval_ms: 5 });
//! cfg.validate().unwrap();
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Default segment size: 64 MiB. Big enough that a roll is rare (about once a second at a
/// million 64-byte records per second), small enough that recovery, which scans the last
/// segment, stays in the tens of milliseconds.
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 << 20;
/// Smallest segment size accepted: 64 KiB.
pub const MIN_SEGMENT_SIZE: u64 = 64 << 10;
/// Largest segment size accepted: 1 GiB. Recovery scans one whole segment, so this bounds
/// start-up time.
pub const MAX_SEGMENT_SIZE: u64 = 1 << 30;
/// Default flush interval of [`Durability::Periodic`]: 10 ms.
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 10;

/// Configuration of a journal [`Writer`](crate::Writer).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// Directory holding the segment files. Created if missing. Required.
    pub dir: PathBuf,
    /// Size of each segment file in bytes, pre-allocated when the segment is prepared. A
    /// multiple of 4096 between 64 KiB and 1 GiB. Default [`DEFAULT_SEGMENT_SIZE`] (64 MiB).
    /// A record's payload must fit in one segment.
    #[serde(default = "default_segment_size")]
    pub segment_size: u64,
    /// When a record counts as committed. Default: periodic msync every 10 ms.
    #[serde(default)]
    pub durability: Durability,
    /// Touch every page of a prepared segment before the writer needs it, so the append path
    /// does not page-fault. Default `true`; turn off only to save memory in tests.
    #[serde(default = "default_pretouch")]
    pub pretouch: bool,
    /// What recovery may cut off at open. Default [`RecoveryPolicy::TruncateTornTail`].
    #[serde(default)]
    pub recovery: RecoveryPolicy,
}

/// When an appended record counts as committed, i.e. when
/// [`Writer::committed`](crate::Writer::committed) covers it.
///
/// Every mode survives `kill -9` of the engine for every record it reports committed (the
/// data is in the kernel's page cache the moment `append` returns). The modes differ in what
/// they promise about a crash of the whole machine (power loss, kernel panic).
///
/// An msync cleans the pages it writes back, and the kernel write-protects clean pages of a
/// shared file map, so after each msync the writer takes one minor fault on the page it was
/// filling. The kernel's own writeback (by default after 30 s) does the same to pages
/// prepared long before the writer reaches them.
///
/// In TOML: `{ mode = "page_cache" }`, `{ mode = "periodic", interval_ms = 10 }` or
/// `{ mode = "batch" }`; `interval_ms` is required for `periodic` and refused elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "DurabilityToml", into = "DurabilityToml")]
pub enum Durability {
    /// Committed as soon as `append` returns: the record is in the page cache and the kernel
    /// writes it back in its own time. Survives a process crash, not a machine crash. No
    /// syscall ever; `commit()` is a no-op. New segment files are not fsynced into the
    /// directory either (the other modes do that before a segment's records count as
    /// committed).
    PageCache,
    /// A background thread msyncs what was appended every `interval_ms`; records count as
    /// committed once an msync covering them has returned. Survives a machine crash for
    /// committed records; the committed sequence lags appends by up to about one interval.
    /// The writer thread makes no syscall; `commit()` is a no-op.
    Periodic {
        /// Milliseconds between msyncs, 1..=60000.
        interval_ms: u64,
    },
    /// `commit()` msyncs everything appended since the last commit on the calling thread
    /// and then marks it committed. Survives a machine crash for committed records. Appends
    /// themselves make no syscall; `commit()` blocks for the msync.
    Batch,
}

impl Default for Durability {
    /// Periodic msync every [`DEFAULT_FLUSH_INTERVAL_MS`] (10 ms).
    fn default() -> Self {
        Durability::Periodic { interval_ms: DEFAULT_FLUSH_INTERVAL_MS }
    }
}

/// What recovery may cut off when it opens a journal whose last segment ends badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryPolicy {
    /// Cut off a torn tail: bad or partial bytes after the last valid record with no valid
    /// record after them, which is what a crash mid-append leaves. A bad record followed by
    /// valid ones is damage, and open fails with [`Error::CorruptTail`]. The default.
    #[default]
    TruncateTornTail,
    /// Also cut off everything from the first bad record of the last segment on, valid
    /// records after it included. An operator's choice after reading `verify`'s report.
    TruncateCorrupt,
}

/// The TOML shape of [`Durability`]. Serde's internally tagged enums let unknown keys
/// through on unit variants, so the mode is parsed flat and checked here.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DurabilityToml {
    mode: DurabilityMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval_ms: Option<u64>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum DurabilityMode {
    PageCache,
    Periodic,
    Batch,
}

impl TryFrom<DurabilityToml> for Durability {
    type Error = String;

    fn try_from(t: DurabilityToml) -> std::result::Result<Self, String> {
        match (t.mode, t.interval_ms) {
            (DurabilityMode::Periodic, Some(interval_ms)) => {
                Ok(Durability::Periodic { interval_ms })
            }
            (DurabilityMode::Periodic, None) => {
                Err("durability mode \"periodic\" needs `interval_ms`".into())
            }
            (DurabilityMode::PageCache, None) => Ok(Durability::PageCache),
            (DurabilityMode::Batch, None) => Ok(Durability::Batch),
            (DurabilityMode::PageCache | DurabilityMode::Batch, Some(_)) => {
                Err("`interval_ms` applies only to durability mode \"periodic\"".into())
            }
        }
    }
}

impl From<Durability> for DurabilityToml {
    fn from(d: Durability) -> Self {
        match d {
            Durability::PageCache => {
                DurabilityToml { mode: DurabilityMode::PageCache, interval_ms: None }
            }
            Durability::Periodic { interval_ms } => {
                DurabilityToml { mode: DurabilityMode::Periodic, interval_ms: Some(interval_ms) }
            }
            Durability::Batch => DurabilityToml { mode: DurabilityMode::Batch, interval_ms: None },
        }
    }
}

fn default_segment_size() -> u64 {
    DEFAULT_SEGMENT_SIZE
}

fn default_pretouch() -> bool {
    true
}

impl JournalConfig {
    /// A configuration for `dir` with every other field at its default.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        JournalConfig {
            dir: dir.into(),
            segment_size: DEFAULT_SEGMENT_SIZE,
            durability: Durability::default(),
            pretouch: true,
            recovery: RecoveryPolicy::default(),
        }
    }

    /// Checks every value; [`Writer::open`](crate::Writer::open) calls it first.
    pub fn validate(&self) -> Result<()> {
        if self.dir.as_os_str().is_empty() {
            return Err(Error::Config { key: "dir", problem: "must not be empty".into() });
        }
        let size = self.segment_size;
        if !(MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&size) || size % 4096 != 0 {
            return Err(Error::Config {
                key: "segment_size",
                problem: format!(
                    "{size} bytes; must be a multiple of 4096 between {MIN_SEGMENT_SIZE} \
                     (64 KiB) and {MAX_SEGMENT_SIZE} (1 GiB)"
                ),
            });
        }
        if let Durability::Periodic { interval_ms } = self.durability {
            if !(1..=60_000).contains(&interval_ms) {
                return Err(Error::Config {
                    key: "durability.interval_ms",
                    problem: format!("{interval_ms} ms; must be between 1 and 60000"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_modes_parse() {
        let c: JournalConfig = toml::from_str("dir = \"j\"").unwrap();
        assert_eq!(c, JournalConfig::new("j"));
        let c: JournalConfig =
            toml::from_str("dir = \"j\"\ndurability = { mode = \"batch\" }").unwrap();
        assert_eq!(c.durability, Durability::Batch);
        let c: JournalConfig =
            toml::from_str("dir = \"j\"\ndurability = { mode = \"page_cache\" }").unwrap();
        assert_eq!(c.durability, Durability::PageCache);
        let c: JournalConfig =
            toml::from_str("dir = \"j\"\nrecovery = \"truncate_corrupt\"").unwrap();
        assert_eq!(c.recovery, RecoveryPolicy::TruncateCorrupt);
    }

    #[test]
    fn serializes_back_to_what_it_parses() {
        for d in [Durability::PageCache, Durability::Batch, Durability::Periodic { interval_ms: 7 }]
        {
            let mut c = JournalConfig::new("j");
            c.durability = d;
            c.recovery = RecoveryPolicy::TruncateCorrupt;
            let text = toml::to_string(&c).unwrap();
            assert_eq!(toml::from_str::<JournalConfig>(&text).unwrap(), c, "{text}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<JournalConfig>("dir = \"j\"\nsegment_bytes = 4").is_err());
        assert!(toml::from_str::<JournalConfig>(
            "dir = \"j\"\ndurability = { mode = \"batch\", interval_ms = 3 }"
        )
        .is_err());
        assert!(toml::from_str::<JournalConfig>("segment_size = 65536").is_err());
        assert!(toml::from_str::<JournalConfig>(
            "dir = \"j\"\ndurability = { mode = \"periodic\" }"
        )
        .is_err());
        assert!(toml::from_str::<JournalConfig>(
            "dir = \"j\"\ndurability = { mode = \"periodic\", interval_ms = 2, x = 1 }"
        )
        .is_err());
    }

    #[test]
    fn validate_names_the_key() {
        let mut c = JournalConfig::new("j");
        c.segment_size = 65537;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("segment_size"), "{e}");
        let mut c = JournalConfig::new("j");
        c.durability = Durability::Periodic { interval_ms: 0 };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("interval_ms"), "{e}");
        JournalConfig::new("j").validate().unwrap();
    }
}
