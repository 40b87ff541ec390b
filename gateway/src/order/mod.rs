//! The order state machine and the tracker every venue adapter runs its orders and reports
//! through.

mod ids;
mod index;
mod state;
mod tracker;

#[cfg(test)]
mod tests;

pub use ids::{GatewayIds, GATEWAY_ID_BIT};
pub use state::{step, OrdEvent, OrdState, Step};
pub use tracker::{
    Anomaly, Applied, OrderTracker, Refusal, TrackedOrder, TrackerStats, VenueEvent,
};
