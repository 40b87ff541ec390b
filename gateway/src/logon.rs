//! Whether a venue adapter is logged on, published for the admin port.
//!
//! The adapter's thread writes it when its session state changes (one relaxed store, never
//! per order); the sidecar reads it. FIX: logged on from the Logon until a Logout or the
//! connection drops. The in-process venues (instant, sim) have no session and are always
//! logged on.
//!
//! ```
//! use tickline_gateway::logon::LogonState;
//!
//! assert!(LogonState::always("sim").is_logged_on());
//! let fix = LogonState::new("fix-venue");
//! assert!(!fix.is_logged_on());
//! fix.set(true);
//! assert!(fix.is_logged_on() && fix.venue() == "fix-venue");
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A venue's logon state (one writer: the thread running the adapter).
#[derive(Debug)]
pub struct LogonState {
    venue: String,
    logged_on: AtomicBool,
}

impl LogonState {
    /// Not logged on yet.
    pub fn new(venue: &str) -> LogonState {
        LogonState { venue: venue.to_owned(), logged_on: AtomicBool::new(false) }
    }

    /// A venue with no session to log on to: always logged on.
    pub fn always(venue: &str) -> Arc<LogonState> {
        Arc::new(LogonState { venue: venue.to_owned(), logged_on: AtomicBool::new(true) })
    }

    /// Publishes the state (the adapter's thread, on a change).
    #[inline]
    pub fn set(&self, logged_on: bool) {
        self.logged_on.store(logged_on, Ordering::Release);
    }

    /// Whether the adapter is logged on now.
    pub fn is_logged_on(&self) -> bool {
        self.logged_on.load(Ordering::Acquire)
    }

    /// The venue's name, as in the config.
    pub fn venue(&self) -> &str {
        &self.venue
    }
}
