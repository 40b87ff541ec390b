//! Ring contenders: our ring and the queues we compare it with, behind one pair of small
//! traits, driven by one throughput loop and one ping-pong loop.
//!
//! Every contender runs on exactly two threads (A and B, pinned when [`RunOptions::cores`] is
//! set), carries `u64` payloads `1..=n` with the same capacity, and waits with the same
//! [`Wait`] (except the blocking channel, which blocks inside `crossbeam_channel` by design).
//! Each side checks every value it receives, so a run reports whether everything arrived in
//! order as well as how long it took.

mod array_queue;
mod atomic;
mod channel;
mod disruptor;
mod tickline;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use core_affinity::CoreId;
use hdrhistogram::Histogram;
use tickline_engine::ring::{WaitStrategy, Waiter};

/// Slots in every contender's queue unless [`RunOptions::capacity`] says otherwise.
pub const DEFAULT_CAPACITY: usize = 1024;

/// A queue (or the bare-atomic floor) under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Contender {
    /// `tickline_engine::ring`, policy `Block`.
    Tickline,
    /// disruptor-rs: single producer, one `EventPoller`.
    Disruptor,
    /// `crossbeam_queue::ArrayQueue`.
    ArrayQueue,
    /// `crossbeam_channel::bounded`, blocking `send`/`recv`.
    Channel,
    /// Two `CachePadded<AtomicU64>` flags: the machine's floor for a round trip. One value in
    /// flight at a time, so it has no throughput run.
    Atomic,
}

impl Contender {
    /// Every contender, ours first.
    pub const ALL: [Contender; 5] = [
        Contender::Tickline,
        Contender::Disruptor,
        Contender::ArrayQueue,
        Contender::Channel,
        Contender::Atomic,
    ];

    /// Short stable name, used in tables, JSON and criterion ids.
    pub const fn name(self) -> &'static str {
        match self {
            Contender::Tickline => "tickline",
            Contender::Disruptor => "disruptor",
            Contender::ArrayQueue => "array-queue",
            Contender::Channel => "channel",
            Contender::Atomic => "atomic",
        }
    }

    /// Whether the contender can hold more than one value in flight (has a throughput run).
    pub const fn streams(self) -> bool {
        !matches!(self, Contender::Atomic)
    }
}

/// How a thread waits when its queue is empty (or full).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Spin with no `spin_loop` hint at all: the lowest-latency floor, bench-only.
    HotSpin,
    /// One of the engine's strategies (`BusySpin` for benches, `SpinYield` for tests on 2 cores).
    Engine(WaitStrategy),
}

impl Wait {
    /// Short stable name for reports.
    pub fn name(self) -> String {
        match self {
            Wait::HotSpin => "hot-spin".to_owned(),
            Wait::Engine(WaitStrategy::BusySpin) => "busy-spin".to_owned(),
            Wait::Engine(WaitStrategy::SpinYield { spins }) => format!("spin-yield({spins})"),
            Wait::Engine(WaitStrategy::Park { spins, park_us }) => {
                format!("park({spins}, {park_us}us)")
            }
        }
    }

    fn idle(self) -> Idle {
        match self {
            Wait::HotSpin => Idle(None),
            Wait::Engine(s) => Idle(Some(s.waiter())),
        }
    }
}

/// Per-thread wait state for a [`Wait`].
#[derive(Debug)]
pub(crate) struct Idle(Option<Waiter>);

impl Idle {
    #[inline(always)]
    pub(crate) fn idle(&mut self) {
        if let Some(w) = &mut self.0 {
            w.idle();
        }
    }

    #[inline(always)]
    pub(crate) fn reset(&mut self) {
        if let Some(w) = &mut self.0 {
            w.reset();
        }
    }
}

/// Settings shared by every run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// How both threads wait.
    pub wait: Wait,
    /// Slots per queue (a power of two: our ring and the disruptor require it).
    pub capacity: usize,
    /// Cores for thread A (producer / pinger) and thread B (consumer / echoer); unpinned if
    /// `None`.
    pub cores: Option<[CoreId; 2]>,
}

impl Default for RunOptions {
    /// Busy-spin, [`DEFAULT_CAPACITY`] slots, unpinned.
    fn default() -> RunOptions {
        RunOptions {
            wait: Wait::Engine(WaitStrategy::BusySpin),
            capacity: DEFAULT_CAPACITY,
            cores: None,
        }
    }
}

/// Resolves core ids `a` and `b` to pinnable cores, or says why they cannot be used.
pub fn resolve_cores(a: usize, b: usize) -> Result<[CoreId; 2], String> {
    let ids = core_affinity::get_core_ids()
        .ok_or_else(|| "cannot list this machine's cores for pinning".to_owned())?;
    let find = |id: usize| {
        ids.iter().copied().find(|c| c.id == id).ok_or_else(|| {
            let have: Vec<String> = ids.iter().map(|c| c.id.to_string()).collect();
            format!("core {id} is not available (this process may run on {})", have.join(","))
        })
    };
    Ok([find(a)?, find(b)?])
}

/// One throughput run: thread A pushes `1..=msgs`, thread B drains them.
#[derive(Clone, Copy, Debug)]
pub struct ThroughputRun {
    /// Messages pushed.
    pub msgs: u64,
    /// Messages the consumer received before the queue closed.
    pub received: u64,
    /// Whether every received value was the next one expected.
    pub in_order: bool,
    /// From the first push to the last value received.
    pub elapsed: Duration,
}

impl ThroughputRun {
    /// Millions of messages per second.
    pub fn mmsgs_per_sec(&self) -> f64 {
        self.received as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE) / 1e6
    }
}

/// One ping-pong run: A sends `i` on ring 1, B echoes it on ring 2, A waits for it.
#[derive(Clone, Copy, Debug)]
pub struct PingPongRun {
    /// Timed round trips asked for (after the warm-up).
    pub trips: u64,
    /// Timed round trips that came back with the value sent.
    pub completed: u64,
    /// Values B echoed, warm-up included.
    pub echoed: u64,
    /// Wall time of the timed round trips.
    pub elapsed: Duration,
}

/// The sending end of a contender.
pub(crate) trait Sender: Send {
    /// Sends `v`, waiting with `idle` while the queue is full.
    fn send(&mut self, v: u64, idle: &mut Idle);
}

/// What a non-blocking receive found.
pub(crate) enum Poll {
    /// This many values were handed over.
    Ready(usize),
    /// Nothing yet.
    Empty,
    /// The sender is gone and everything it sent has been received.
    Closed,
}

/// The receiving end of a contender.
pub(crate) trait Receiver: Send {
    /// Hands up to `max` available values to `f` without waiting.
    fn try_drain(&mut self, max: usize, f: impl FnMut(u64)) -> Poll;

    /// Waits with `idle` for at least one value, then hands up to `max` to `f`. Returns how
    /// many, or `None` once the queue is closed and drained.
    #[inline(always)]
    fn drain(&mut self, max: usize, idle: &mut Idle, mut f: impl FnMut(u64)) -> Option<usize> {
        loop {
            match self.try_drain(max, &mut f) {
                Poll::Ready(n) => {
                    idle.reset();
                    return Some(n);
                }
                Poll::Empty => idle.idle(),
                Poll::Closed => return None,
            }
        }
    }
}

/// Moves `msgs` values from thread A to thread B through `contender`. `None` for a contender
/// that cannot stream ([`Contender::streams`]).
pub fn throughput(contender: Contender, msgs: u64, opts: &RunOptions) -> Option<ThroughputRun> {
    let cap = opts.capacity;
    Some(match contender {
        Contender::Tickline => stream(tickline::pair(cap), msgs, opts),
        Contender::Disruptor => stream(disruptor::pair(cap), msgs, opts),
        Contender::ArrayQueue => stream(array_queue::pair(cap), msgs, opts),
        Contender::Channel => stream(channel::pair(cap), msgs, opts),
        Contender::Atomic => return None,
    })
}

/// Runs `warmup` untimed then `trips` timed round trips through `contender`, recording each
/// timed trip's nanoseconds into `hist` if given (without it no clock is read per trip).
pub fn ping_pong(
    contender: Contender,
    trips: u64,
    warmup: u64,
    opts: &RunOptions,
    hist: Option<&mut Histogram<u64>>,
) -> PingPongRun {
    let cap = opts.capacity;
    match contender {
        Contender::Tickline => {
            bounce(tickline::pair(cap), tickline::pair(cap), trips, warmup, opts, hist)
        }
        Contender::Disruptor => {
            bounce(disruptor::pair(cap), disruptor::pair(cap), trips, warmup, opts, hist)
        }
        Contender::ArrayQueue => {
            bounce(array_queue::pair(cap), array_queue::pair(cap), trips, warmup, opts, hist)
        }
        Contender::Channel => {
            bounce(channel::pair(cap), channel::pair(cap), trips, warmup, opts, hist)
        }
        Contender::Atomic => bounce(atomic::pair(), atomic::pair(), trips, warmup, opts, hist),
    }
}

/// The harness's own cost per timed round trip: two clock reads, as p50 nanoseconds.
pub fn clock_overhead_ns(samples: u32) -> u64 {
    let mut hist = new_histogram();
    for _ in 0..samples {
        let t0 = Instant::now();
        let ns = t0.elapsed().as_nanos();
        hist.saturating_record(u64::try_from(ns).unwrap_or(u64::MAX));
    }
    hist.value_at_quantile(0.5)
}

/// A histogram for nanosecond latencies: 1 ns to 60 s, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that `new_with_bounds` accepts (low >= 1, high >= 2 * low,
    // sigfig <= 5); failing here is a bug in this line, not a runtime condition.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

fn stream<S: Sender, R: Receiver>(
    (mut tx, mut rx): (S, R),
    msgs: u64,
    opts: &RunOptions,
) -> ThroughputRun {
    let batch = opts.capacity;
    let (start, (end, received, in_order)) = run_pair(
        opts,
        move |idle| {
            let start = Instant::now();
            for v in 1..=msgs {
                tx.send(v, idle);
            }
            // `tx` drops here and closes the queue.
            start
        },
        move |idle| {
            let mut next = 1u64;
            let mut in_order = true;
            while next <= msgs {
                let got = rx.drain(batch, idle, |v| {
                    in_order &= v == next;
                    next += 1;
                });
                if got.is_none() {
                    break;
                }
            }
            (Instant::now(), next - 1, in_order)
        },
    );
    ThroughputRun { msgs, received, in_order, elapsed: end.saturating_duration_since(start) }
}

fn bounce<S1, R1, S2, R2>(
    (mut ping_tx, mut ping_rx): (S1, R1),
    (mut pong_tx, mut pong_rx): (S2, R2),
    trips: u64,
    warmup: u64,
    opts: &RunOptions,
    hist: Option<&mut Histogram<u64>>,
) -> PingPongRun
where
    S1: Sender,
    R1: Receiver,
    S2: Sender,
    R2: Receiver,
{
    let ((completed, elapsed), echoed) = run_pair(
        opts,
        move |idle| {
            // Returns whether `v` came back; false only if B is gone.
            let mut trip = |v: u64, idle: &mut Idle| {
                ping_tx.send(v, idle);
                let mut back = 0;
                pong_rx.drain(1, idle, |x| back = x).is_some() && back == v
            };
            for v in 1..=warmup {
                if !trip(v, idle) {
                    return (0, Duration::ZERO);
                }
            }
            let mut completed = 0;
            let start = Instant::now();
            match hist {
                Some(hist) => {
                    for v in warmup + 1..=warmup + trips {
                        let t0 = Instant::now();
                        let ok = trip(v, idle);
                        let ns = t0.elapsed().as_nanos();
                        hist.saturating_record(u64::try_from(ns).unwrap_or(u64::MAX));
                        completed += u64::from(ok);
                    }
                }
                None => {
                    for v in warmup + 1..=warmup + trips {
                        completed += u64::from(trip(v, idle));
                    }
                }
            }
            (completed, start.elapsed())
            // `ping_tx` drops here, closing ring 1, which lets B finish.
        },
        move |idle| {
            let mut echoed = 0;
            loop {
                let mut v = 0;
                if ping_rx.drain(1, idle, |x| v = x).is_none() {
                    return echoed;
                }
                pong_tx.send(v, idle);
                echoed += 1;
            }
        },
    );
    PingPongRun { trips, completed, echoed, elapsed }
}

/// Runs `a` and `b` on two fresh threads (pinned per `opts.cores`), released together once
/// both are up, and returns both results. A panic on either thread is re-raised here.
fn run_pair<RA, RB>(
    opts: &RunOptions,
    a: impl FnOnce(&mut Idle) -> RA + Send,
    b: impl FnOnce(&mut Idle) -> RB + Send,
) -> (RA, RB)
where
    RA: Send,
    RB: Send,
{
    let ready = AtomicUsize::new(0);
    let ready = &ready;
    let start = move |core: Option<CoreId>, idle: &mut Idle| {
        if let Some(core) = core {
            // Best effort: the caller resolved `core` against this process's cores.
            core_affinity::set_for_current(core);
        }
        // A spin gate rather than `std::sync::Barrier`, so neither side starts its clock
        // while the other is still being woken by the kernel.
        ready.fetch_add(1, Ordering::AcqRel);
        while ready.load(Ordering::Acquire) < 2 {
            idle.idle();
        }
        idle.reset();
    };
    let wait = opts.wait;
    let cores = opts.cores;
    std::thread::scope(|s| {
        let hb = s.spawn(move || {
            let mut idle = wait.idle();
            start(cores.map(|c| c[1]), &mut idle);
            b(&mut idle)
        });
        let ha = s.spawn(move || {
            let mut idle = wait.idle();
            start(cores.map(|c| c[0]), &mut idle);
            a(&mut idle)
        });
        let ra = ha.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        let rb = hb.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (ra, rb)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yielding() -> RunOptions {
        RunOptions { wait: Wait::Engine(WaitStrategy::spin_yield()), capacity: 8, cores: None }
    }

    #[test]
    fn every_streaming_contender_moves_every_message_in_order() {
        // Capacity 8 and 10_000 messages: the producer finds the queue full many times.
        for c in Contender::ALL.into_iter().filter(|c| c.streams()) {
            let run = throughput(c, 10_000, &yielding()).expect("streams");
            assert_eq!((run.received, run.in_order), (10_000, true), "{}", c.name());
        }
        assert!(throughput(Contender::Atomic, 10, &yielding()).is_none());
    }

    #[test]
    fn every_contender_echoes_every_round_trip() {
        for c in Contender::ALL {
            let mut hist = new_histogram();
            let run = ping_pong(c, 500, 50, &yielding(), Some(&mut hist));
            assert_eq!((run.completed, run.echoed), (500, 550), "{}", c.name());
            assert_eq!(hist.len(), 500, "{}", c.name());
            let run = ping_pong(c, 100, 0, &yielding(), None);
            assert_eq!((run.completed, run.echoed), (100, 100), "{}", c.name());
        }
    }

    #[test]
    fn unknown_core_is_refused_with_its_id() {
        let err = resolve_cores(0, usize::MAX).expect_err("no such core");
        assert!(err.contains(&usize::MAX.to_string()) || err.contains("cannot list"), "{err}");
    }
}
