//! What a feed tells the admin port about its connection: one handle per feed, taken (an
//! `Arc` clone) before the feed is handed to the runtime, read by the sidecar thread.
//!
//! Everything behind it is a single-writer atomic the feed thread already keeps, so reading
//! it takes no lock and costs the feed nothing.
//!
//! ```
//! use tickline_feeds::feed_health::FeedHealth;
//!
//! // A synthetic feed has no venue connection: connected while the runtime polls it.
//! let h = FeedHealth::Local { frames: None };
//! let r = h.report(true);
//! assert!(r.connected && r.books_synced && r.frames.is_none());
//! assert!(!h.report(false).connected);
//! ```

use std::sync::Arc;

use crate::telemetry::FeedTelemetry;
use crate::venue_telemetry::VenueFeedTelemetry;

/// A feed's health handle.
#[derive(Clone, Debug)]
pub enum FeedHealth {
    /// A live venue feed (Binance, OKX): its connection state and book-sync counters.
    Venue(Arc<VenueFeedTelemetry>),
    /// A feed with no venue connection (synthetic, capture replay). It counts as connected
    /// while it is live (the runtime still polls it: not finished, not stopped), and its books
    /// as synced: a synthetic feed keeps no book, and a capture replays the venue's own
    /// sequence (its gaps are the recording's, counted in the handler's telemetry). `frames`
    /// are the frames a capture's handler decoded.
    Local {
        /// Frame counters, for a feed that reads frames.
        frames: Option<Arc<FeedTelemetry>>,
    },
}

/// A feed's health now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedHealthReport {
    /// The venue connection is open (local feeds: the feed is live).
    pub connected: bool,
    /// Every order book the feed keeps is in sync with the venue.
    pub books_synced: bool,
    /// Frames received, where the feed reads frames.
    pub frames: Option<u64>,
    /// Sequence gaps detected over its books (venue feeds).
    pub gaps: Option<u64>,
    /// Book resyncs, gaps and reconnects included (venue feeds).
    pub resyncs: Option<u64>,
    /// Reconnects (venue feeds).
    pub reconnects: Option<u64>,
}

impl FeedHealth {
    /// The feed's health; `live` is whether the runtime still polls it (used by local feeds,
    /// whose connection is the feed itself).
    pub fn report(&self, live: bool) -> FeedHealthReport {
        match self {
            FeedHealth::Venue(t) => FeedHealthReport {
                connected: t.connected(),
                books_synced: t.books_synced(),
                frames: Some(t.handler.frames.get()),
                gaps: Some(t.gaps()),
                resyncs: Some(t.resyncs()),
                reconnects: Some(t.conn.reconnects.get()),
            },
            FeedHealth::Local { frames } => FeedHealthReport {
                connected: live,
                books_synced: true,
                frames: frames.as_ref().map(|f| f.frames.get()),
                gaps: None,
                resyncs: None,
                reconnects: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use tickline_engine::types::InstrumentId;

    use super::*;
    use crate::book::SyncCounters;
    use crate::reasonability::ReasonabilityCounters;
    use crate::ws::{ConnState, ConnTelemetry};

    #[test]
    fn a_venue_feed_reports_its_connection_and_books() {
        let books: Vec<_> =
            (0..2).map(|i| (InstrumentId(i), Arc::new(SyncCounters::new()))).collect();
        let t = Arc::new(VenueFeedTelemetry::new(
            Arc::new(ConnTelemetry::new()),
            Arc::new(FeedTelemetry::new()),
            books.clone(),
            Arc::new(ReasonabilityCounters::default()),
            None,
        ));
        let h = FeedHealth::Venue(Arc::clone(&t));
        let r = h.report(true);
        assert!(!r.connected && !r.books_synced, "{r:?}");
        t.conn.set_state(ConnState::Open);
        books[0].1.synced.set(1);
        let r = h.report(true);
        assert!(r.connected && !r.books_synced, "one book still waits for its snapshot");
        books[1].1.synced.set(1);
        books[1].1.gaps.inc();
        books[0].1.resyncs.add(2);
        t.conn.reconnects.inc();
        t.handler.frames.add(7);
        assert_eq!(
            h.report(false),
            FeedHealthReport {
                connected: true,
                books_synced: true,
                frames: Some(7),
                gaps: Some(1),
                resyncs: Some(2),
                reconnects: Some(1),
            },
            "a venue feed's connection is its socket's, not the runtime's"
        );
        t.conn.set_state(ConnState::Waiting);
        assert!(!h.report(true).connected);
    }

    #[test]
    fn a_feed_without_depth_has_no_book_to_sync() {
        let mut t = VenueFeedTelemetry::new(
            Arc::new(ConnTelemetry::new()),
            Arc::new(FeedTelemetry::new()),
            vec![(InstrumentId(0), Arc::new(SyncCounters::new()))],
            Arc::new(ReasonabilityCounters::default()),
            None,
        );
        assert!(!t.books_synced());
        t.keeps_books = false;
        assert!(t.books_synced());
    }
}
