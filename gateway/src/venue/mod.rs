//! Venue adapters, one folder (or file) per venue.

pub mod instant;
