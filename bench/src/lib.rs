//! tickline's benchmarks: measurement code shared by the criterion benches (`benches/`) and the
//! harness binaries (`src/bin/`), so both measure the same implementation of each contender.
//!
//! Nothing here runs in the pipeline. Timing lives here and only here; tests of this crate check
//! that each contender moved every message, never how fast.
//!
//! ```
//! use tickline_bench::ring_contenders::{ping_pong, throughput, Contender, RunOptions, Wait};
//! use tickline_engine::ring::WaitStrategy;
//!
//! let opts = RunOptions { wait: Wait::Engine(WaitStrategy::spin_yield()), ..RunOptions::default() };
//! let run = throughput(Contender::Tickline, 1_000, &opts).unwrap();
//! assert_eq!((run.received, run.in_order), (1_000, true));
//! let rtt = ping_pong(Contender::Atomic, 100, 10, &opts, None);
//! assert_eq!(rtt.completed, 100);
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod batch;
pub mod pipeline;
pub mod ring_contenders;
pub mod ring_harness;
