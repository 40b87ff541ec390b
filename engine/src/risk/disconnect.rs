//! Cancel-on-disconnect: how a gateway tells risk its venue session dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Shared between a gateway (any thread) and the risk stage (the strategy thread).
///
/// When the gateway loses its venue session it calls [`CancelOnDisconnect::disconnected`]:
/// from then on risk rejects new orders and replaces (`venue_disconnected`) — cancels still
/// pass — and the first check after it sends a cancel-all through the normal path, so every
/// open order is pulled as soon as the session is back (venues that cancel on disconnect
/// themselves answer it with nothing to do). Open orders keep counting at their worst case
/// until the venue's reports say otherwise. [`CancelOnDisconnect::reconnected`] lets new
/// orders through again. Each call is one atomic store; risk reads one relaxed load per order.
#[derive(Debug)]
pub struct CancelOnDisconnect {
    connected: AtomicBool,
    disconnects: AtomicU64,
}

impl Default for CancelOnDisconnect {
    fn default() -> Self {
        CancelOnDisconnect::new()
    }
}

impl CancelOnDisconnect {
    /// Connected.
    pub const fn new() -> CancelOnDisconnect {
        CancelOnDisconnect { connected: AtomicBool::new(true), disconnects: AtomicU64::new(0) }
    }

    /// The venue session dropped (gateway thread).
    pub fn disconnected(&self) {
        self.disconnects.fetch_add(1, Ordering::AcqRel);
        self.connected.store(false, Ordering::Release);
    }

    /// The venue session is back (gateway thread).
    pub fn reconnected(&self) {
        self.connected.store(true, Ordering::Release);
    }

    /// Whether the session is up.
    #[inline]
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Disconnects so far (risk compares it with the count it has acted on).
    #[inline]
    pub fn disconnects(&self) -> u64 {
        self.disconnects.load(Ordering::Acquire)
    }
}
