//! What a venue's book sync did with one update.

/// What one diff or snapshot did to a synced book (same meaning for every venue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Held until a snapshot arrives (venues where the client fetches the snapshot).
    Buffered,
    /// Dropped: no snapshot yet and the venue pushes its own (venues that send one on
    /// subscribe), so the update cannot be used.
    Unsynced,
    /// Already covered by the book (an old or repeated update); ignored.
    DroppedStale,
    /// Applied to a synced book.
    Applied {
        /// Whether the best bid or ask (price or size) changed.
        top_changed: bool,
    },
    /// A snapshot was loaded (and any buffered diffs replayed): the book is valid again.
    Synced,
    /// A sequence gap: the book was reset and needs a new snapshot.
    Gap,
    /// Another discontinuity (snapshot older than the stream, overlapping update): the book
    /// was reset and needs a new snapshot.
    Resync,
}
