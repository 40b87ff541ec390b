//! What the admin port shows beyond the engine's telemetry, filled by the parts that own it.
//!
//! Telemetry (stage counters, rings, latency histograms, risk counters, the halt switch) comes
//! from the pipeline. Positions and PnL, open orders, fills, feed connection state, gateway
//! session state, risk limit use and journal lag belong to parts that report them through
//! [`StateSource`]. Each method returns `None` while no part reports it, and the endpoints then
//! say so (`"available": false` with the reason) instead of showing an empty list or a zero
//! that would look like a fact.
//!
//! Contract for implementors: methods are called on the sidecar thread, at most a few times
//! per request; they must not take a lock a hot thread takes and must not block. Publish a copy
//! from the owning thread (a seqlock, atomics, or a cold-path swap) and read that.

use rust_decimal::Decimal;

/// One feed connection.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FeedState {
    /// Feed name, as in the config.
    pub name: String,
    /// The venue connection is up. A feed with no venue connection (synthetic, capture
    /// replay) counts as connected while it is live: not finished, not stopped.
    pub connected: bool,
    /// Every order book is in sync with the venue (always true for synthetic and capture
    /// feeds, and for a venue feed subscribed to no depth channel).
    pub books_synced: bool,
    /// Age of the last tick published, nanoseconds.
    pub last_tick_age_ns: Option<u64>,
    /// Frames received.
    pub frames: Option<u64>,
    /// Sequence gaps detected.
    pub gaps: Option<u64>,
    /// Book resyncs.
    pub resyncs: Option<u64>,
    /// Reconnects.
    pub reconnects: Option<u64>,
}

/// The order gateway's venue session.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GatewayState {
    /// Venue name.
    pub venue: String,
    /// Logged on and able to take orders.
    pub logged_on: bool,
}

/// The journal.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct JournalState {
    /// The writer can append.
    pub writable: bool,
    /// Bytes written so far this session (frames with their headers).
    pub bytes: u64,
    /// Records produced but not yet committed: waiting in the records ring, or appended and
    /// not yet committed.
    pub lag_records: u64,
    /// Bytes appended but not yet committed.
    pub lag_bytes: u64,
    /// Age of the oldest record appended but not yet committed, seconds (0 when none).
    pub lag_seconds: f64,
    /// Sequence number of the last record committed, if any.
    pub committed_seq: Option<u64>,
}

/// A position in one instrument.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// Instrument symbol.
    pub instrument: String,
    /// Venue.
    pub venue: String,
    /// Signed quantity.
    pub qty: Decimal,
    /// Average entry price; `None` when flat.
    pub avg_price: Option<Decimal>,
    /// Last mark price; `None` without one.
    pub mark: Option<Decimal>,
    /// Realized PnL before fees, in the quote currency.
    pub realized_pnl: Decimal,
    /// Unrealized PnL at the last mark; `None` without a mark.
    pub unrealized_pnl: Option<Decimal>,
    /// Fees paid.
    pub fees: Decimal,
    /// Realized + unrealized − fees.
    pub net_pnl: Decimal,
    /// Fills applied.
    pub fills: u64,
}

/// PnL over every instrument (one quote currency assumed).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PnlTotals {
    /// Net PnL.
    pub net: Decimal,
    /// Highest net PnL seen.
    pub peak: Decimal,
}

/// An order the venue has not finished with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OpenOrder {
    /// Client order id.
    pub client_id: u64,
    /// Strategy name.
    pub strategy: String,
    /// Instrument symbol.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Limit price.
    pub price: Decimal,
    /// Quantity ordered.
    pub qty: Decimal,
    /// Quantity filled.
    pub filled: Decimal,
    /// Order state (`pending_new`, `new`, `partially_filled`, `pending_cancel`, ...).
    pub state: String,
    /// When it was sent, nanoseconds since the epoch.
    pub sent_ns: i64,
}

/// One fill.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Fill {
    /// When the venue reported it, nanoseconds since the epoch.
    pub ts_ns: i64,
    /// Client order id.
    pub client_id: u64,
    /// Strategy name.
    pub strategy: String,
    /// Instrument symbol.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `partial_fill` or `fill` (the order is done).
    pub kind: String,
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Fee in the quote currency; negative for a rebate.
    pub fee: Decimal,
}

/// A risk limit and how much of it is used.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RiskLimitUse {
    /// Limit name (as `PUT /risk/limits` takes it).
    pub name: String,
    /// Instrument symbol for per-instrument limits.
    pub instrument: Option<String>,
    /// The limit.
    pub limit: Decimal,
    /// Current use, in the limit's unit; `None` when the engine does not publish it.
    pub used: Option<Decimal>,
}

/// State reported by the parts that own it. Every method defaults to "not reported".
pub trait StateSource: Send + Sync {
    /// Feed connections.
    fn feeds(&self) -> Option<Vec<FeedState>> {
        None
    }
    /// The gateway's venue session.
    fn gateway(&self) -> Option<GatewayState> {
        None
    }
    /// The journal.
    fn journal(&self) -> Option<JournalState> {
        None
    }
    /// Positions and PnL.
    fn positions(&self) -> Option<Vec<Position>> {
        None
    }
    /// PnL over every instrument.
    fn pnl(&self) -> Option<PnlTotals> {
        None
    }
    /// Open orders.
    fn open_orders(&self) -> Option<Vec<OpenOrder>> {
        None
    }
    /// How many orders are open (the list's length when only the list is reported).
    fn open_order_count(&self) -> Option<u64> {
        self.open_orders().map(|o| o.len() as u64)
    }
    /// The latest `limit` fills, newest first.
    fn fills(&self, limit: usize) -> Option<Vec<Fill>> {
        let _ = limit;
        None
    }
    /// Risk limits and their use.
    fn risk_limits(&self) -> Option<Vec<RiskLimitUse>> {
        None
    }
}

/// A source that reports nothing beyond telemetry (tests, tools without a risk stage).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoState;

impl StateSource for NoState {}

/// Why each part is missing when its source reports nothing, for the endpoints to say.
pub mod missing {
    /// Positions and PnL.
    pub const POSITIONS: &str = "no risk stage publishes positions to this admin port";
    /// Open orders.
    pub const ORDERS: &str =
        "no risk stage publishes its order list to this admin port; the open-order count is in /status";
    /// Fills.
    pub const FILLS: &str =
        "no strategy stage publishes its fills to this admin port; the fills counter is in /status";
    /// Feed connection state.
    pub const FEEDS: &str =
        "no feed handler publishes its connection or book-sync state to this admin port; tick counters come from telemetry";
    /// Gateway session.
    pub const GATEWAY: &str = "no venue adapter publishes its session state to this admin port";
    /// Journal.
    pub const JOURNAL: &str =
        "this run writes no journal ([journal] enabled = false; `tickline run --journal DIR` turns it on)";
    /// Risk limits.
    pub const LIMITS: &str = "no risk stage publishes its limits to this admin port";
}
