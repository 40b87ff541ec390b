//! Venue adapters, one folder (or file) per venue. Each implements
//! [`tickline_engine::stage::Venue`] and runs its orders through an
//! [`crate::order::OrderTracker`].

pub mod fix;
pub mod instant;
pub mod sim;
