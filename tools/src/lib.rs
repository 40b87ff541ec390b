//! The `tickline` binary's library half: config loading and validation, wiring every crate
//! into a pipeline, the run command and its summary.
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

pub mod config;
pub mod run;
pub mod summary;
pub mod wiring;
