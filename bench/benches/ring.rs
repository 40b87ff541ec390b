//! Criterion benches of the ring against its baselines, every contender side by side in one
//! group per question:
//!
//! - `ring_throughput`: 1 producer, 1 consumer, 1M `u64` per iteration (elements/s).
//! - `ring_rtt`: ping-pong round trip (A pushes on ring 1, B pops and pushes back on ring 2,
//!   A waits for it); `atomic` is the machine's floor.
//!
//! Both threads busy-spin with the engine's `BusySpin`. Criterion reports means; for
//! percentiles run `ring-harness`. Each sample runs on a fresh thread pair; thread start-up
//! and the per-sample warm-up are outside the timed region (the contender loops time
//! themselves).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use tickline_bench::ring_contenders::{ping_pong, throughput, Contender, RunOptions};

/// Messages per throughput iteration.
const MSGS: u64 = 1_000_000;

/// Untimed round trips per RTT sample, so both threads are spinning hot when timing starts.
const WARMUP: u64 = 1_000;

fn ring_throughput(c: &mut Criterion) {
    let opts = RunOptions::default();
    let mut group = c.benchmark_group("ring_throughput");
    group.throughput(Throughput::Elements(MSGS));
    // Flat: every sample the same size, so a 1M-message iteration is not repeated 5000 times
    // in the last samples of a linear ramp.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    for contender in Contender::ALL.into_iter().filter(|c| c.streams()) {
        group.bench_function(contender.name(), |b| {
            b.iter_custom(|iters| {
                let run =
                    throughput(contender, iters * MSGS, &opts).expect("a streaming contender");
                assert_eq!(run.received, iters * MSGS, "{} lost messages", contender.name());
                run.elapsed
            })
        });
    }
    group.finish();
}

fn ring_rtt(c: &mut Criterion) {
    let opts = RunOptions::default();
    let mut group = c.benchmark_group("ring_rtt");
    for contender in Contender::ALL {
        group.bench_function(contender.name(), |b| {
            b.iter_custom(|iters| {
                let run = ping_pong(contender, iters, WARMUP, &opts, None);
                assert_eq!(run.completed, iters, "{} lost round trips", contender.name());
                run.elapsed.max(Duration::from_nanos(1))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ring_throughput, ring_rtt);
criterion_main!(benches);
