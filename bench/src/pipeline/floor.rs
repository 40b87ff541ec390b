//! The machine's floor: the same open-loop schedule as the latency phase, taken by a thread
//! that does nothing else.
//!
//! One thread, pinned where tickline's fused hot thread goes and busy-spinning, reads the
//! engine clock in a loop and, for every event whose due time has passed, records how late it
//! saw it. Nothing is handled, so what it measures is what the host takes away from any
//! thread on that core: the loop's own period at the median, and in the tail the
//! interruptions (timer interrupts, the hypervisor's other guests, the scheduler) that no
//! pipeline can be faster than. A pipeline's percentiles read against these: a p99.9 at the
//! floor's p99.9 is the host's, not the pipeline's.

use tickline_engine::alloc_count;
use tickline_engine::types::Clock;
use tickline_feeds::Pacer;

use super::{new_histogram, Window, WindowStats};

/// Runs the floor at `rate` events per second (all feeds together), on `core`.
pub(crate) fn run(rate: u64, window: &Window, core: Option<usize>) -> anyhow::Result<WindowStats> {
    anyhow::ensure!(rate > 0, "the floor needs a rate (it has no throughput phase)");
    let warmup = window.warmup;
    let measure = window.measure;
    let probe = std::thread::Builder::new().name("floor".into()).spawn(move || {
        if let Some(id) = core {
            let _ = core_affinity::set_for_current(core_affinity::CoreId { id });
        }
        let mut hist = new_histogram();
        // The feeds' own pacing: event k is due at start + k / rate.
        let mut pacer = Pacer::new(rate);
        let start = Clock::now();
        let measure_from = start.add_nanos(i64::try_from(warmup.as_nanos()).unwrap_or(i64::MAX));
        let measure_to =
            measure_from.add_nanos(i64::try_from(measure.as_nanos()).unwrap_or(i64::MAX));
        // The allocation count when the first measured event fell due.
        let mut allocs_at: Option<u64> = None;
        let mut now = start;
        loop {
            while let Some(due) = pacer.due(now) {
                if due >= measure_from && due < measure_to {
                    allocs_at.get_or_insert_with(alloc_count::total);
                    hist.saturating_record(now.since(due).max(1));
                }
                pacer.advance();
            }
            if now >= measure_to {
                return (hist, alloc_count::total() - allocs_at.unwrap_or_else(alloc_count::total));
            }
            std::hint::spin_loop();
            now = Clock::now();
        }
    })?;
    let (hist, allocs) =
        probe.join().map_err(|_| anyhow::anyhow!("the floor's probe thread panicked"))?;
    Ok(WindowStats {
        // The events are those due in the measured window: every one is one sample.
        secs: measure.as_secs_f64(),
        ticks: hist.len(),
        hist,
        conflated: 0,
        dropped: 0,
        lost: 0,
        allocs,
        records: 0,
    })
}
