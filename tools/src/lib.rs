//! The `tickline` binary's library half: config loading and validation, wiring every crate
//! into a pipeline, the run command and its summary, and the metrics and admin HTTP sidecar
//! ([`admin`]).
//!
//! `tools` is the only crate that knows all the others; it runs on the main thread and never
//! on a hot core.
//!
//! ```
//! let loaded = tickline_tools::config::Config::load(None).expect("embedded default is valid");
//! assert!(!loaded.config.feeds.is_empty());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod config;
pub mod feed_config;
pub mod feed_sim;
pub mod journal_cmd;
pub mod journal_probe;
pub mod journal_sink;
pub mod preflight;
pub mod reload;
pub mod replay_cmd;
pub mod replay_journal;
pub mod run;
pub mod security;
pub mod summary;
pub mod wiring;
