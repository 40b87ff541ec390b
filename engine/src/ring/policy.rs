//! What a producer does when its ring is full.

/// A ring's declared full-ring policy.
///
/// Market data may be lossy (with a counter); orders and execution reports must use
/// [`FullPolicy::Block`], which never drops and raises an alarm counter instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FullPolicy {
    /// Back-pressure: the producer waits for the slowest consumer. Counts each time it finds
    /// the ring full (`full_total`). Nothing is ever dropped.
    Block,
    /// The producer never waits and overwrites the oldest slot; a consumer that was lapped
    /// skips ahead and counts what it missed (`dropped_total`).
    DropOldest,
    /// The producer never waits; while the ring is full it keeps only the latest value per
    /// key (for ticks, per instrument) and publishes those as space frees up
    /// (`conflated_total` counts the values replaced).
    Conflate,
}

impl FullPolicy {
    /// Whether the policy can lose values (with a counter).
    pub const fn is_lossy(self) -> bool {
        !matches!(self, FullPolicy::Block)
    }
}
