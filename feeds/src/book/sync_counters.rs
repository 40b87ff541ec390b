//! Counters of a venue's book sync procedure.

use tickline_engine::telemetry::Counter;

/// What a book sync did, per instrument. Written by the feed thread only; hand the `Arc` from
/// the sync's `counters()` to the sidecar to read them.
#[derive(Debug, Default)]
pub struct SyncCounters {
    /// Diffs applied to a synced book.
    pub applied: Counter,
    /// Diffs dropped because the book already covers them (`u <= lastUpdateId`, duplicates).
    pub dropped_stale: Counter,
    /// Diffs held while waiting for a snapshot.
    pub buffered: Counter,
    /// Sequence gaps detected on a synced book (each also starts a resync).
    pub gaps: Counter,
    /// Times the book was thrown away and a new snapshot asked for (gaps included).
    pub resyncs: Counter,
    /// Snapshots loaded.
    pub snapshots: Counter,
    /// Times the diff buffer hit its limit while waiting for a snapshot and was emptied.
    pub buffer_overflows: Counter,
    /// Updates dropped because no snapshot had arrived yet (venues that push their own).
    pub dropped_unsynced: Counter,
    /// 1 while the book is in sync with the venue (a snapshot loaded, no gap since), else 0.
    pub synced: Counter,
}

impl SyncCounters {
    /// All counters at zero.
    pub fn new() -> SyncCounters {
        SyncCounters::default()
    }
}
