//! The TSC clock: [`super::Clock`]'s fast source on x86-64 hosts with an invariant TSC.
//!
//! A read is one `RDTSC` and a fixed-point multiply against an anchor (TSC value, epoch
//! nanoseconds, nanoseconds per tick in 32.32 fixed point), about half a `clock_gettime`
//! call through the vDSO. The anchor sits behind a seqlock so readers on any thread never
//! block.
//!
//! The tick rate is first measured over [`FIRST_WINDOW`] at start-up, then disciplined by a
//! background thread against the system's monotonic clock: each correction measures the rate
//! over the whole run so far, and sets the rate for the next period so that the offset
//! accumulated so far is slewed away over it (never stepped back), within
//! [`MAX_SLEW_PPM`]; a clock found more than [`MAX_STEP_BEHIND_NS`] behind steps forward.
//! Stamps therefore stay within microseconds of the system clock over any run length, and do
//! not go backwards (a correction can at most leave a sub-nanosecond rounding step, which
//! [`super::Nanos::since`] saturates).
//!
//! Used only where the CPU says its TSC runs at a constant rate in every power state
//! (`constant_tsc` and `nonstop_tsc`), and not when `TICKLINE_CLOCK=system` asks for the
//! system clock.

use std::sync::atomic::{fence, AtomicI32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Start-up measurement of the tick rate.
const FIRST_WINDOW: Duration = Duration::from_millis(10);
/// Time between corrections once settled, and the first few (shorter) ones.
const PERIOD: Duration = Duration::from_secs(1);
const EARLY_PERIODS: [Duration; 4] = [
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(500),
];
/// The largest rate change a correction may make, in parts per million.
const MAX_SLEW_PPM: u64 = 500;
/// An offset behind the system clock beyond which a correction steps forward instead of
/// slewing (at [`MAX_SLEW_PPM`], 1 ms takes 2 s to slew away).
const MAX_STEP_BEHIND_NS: i64 = 1_000_000;
/// Fixed-point fraction bits of the rate.
const FRAC: u32 = 32;

/// The anchor, behind a seqlock (one writer: start-up, then the discipline thread).
struct Anchor {
    seq: AtomicU64,
    tsc: AtomicU64,
    ns: AtomicU64,
    mult: AtomicU64,
}

/// The start of the run's measurement, for the whole-run rate.
#[derive(Clone, Copy)]
struct Pair {
    tsc: u64,
    ns: i64,
}

pub(super) struct TscClock {
    anchor: Anchor,
    first: Pair,
}

#[inline(always)]
fn rdtsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC reads the time-stamp counter; it has no operands, touches no memory
        // and is available on every x86-64 CPU (whether it is usable as a clock is checked
        // once, by `usable`, before this clock is chosen).
        unsafe { std::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        0
    }
}

/// `ns0 + (tsc - tsc0) * mult / 2^32`, saturating.
#[inline(always)]
fn project(tsc: u64, tsc0: u64, ns0: i64, mult: u64) -> i64 {
    let d = tsc.saturating_sub(tsc0);
    let add = (u128::from(d) * u128::from(mult)) >> FRAC;
    ns0.saturating_add(i64::try_from(add).unwrap_or(i64::MAX))
}

impl TscClock {
    /// The current time in epoch nanoseconds.
    #[inline(always)]
    pub(super) fn now(&self) -> i64 {
        let a = &self.anchor;
        loop {
            let s1 = a.seq.load(Ordering::Acquire);
            let tsc0 = a.tsc.load(Ordering::Relaxed);
            let ns0 = a.ns.load(Ordering::Relaxed) as i64;
            let mult = a.mult.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if s1 & 1 == 0 && a.seq.load(Ordering::Relaxed) == s1 {
                return project(rdtsc(), tsc0, ns0, mult);
            }
            std::hint::spin_loop();
        }
    }

    fn publish(&self, tsc: u64, ns: i64, mult: u64) {
        let a = &self.anchor;
        let s = a.seq.load(Ordering::Relaxed);
        a.seq.store(s + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        a.tsc.store(tsc, Ordering::Relaxed);
        a.ns.store(ns as u64, Ordering::Relaxed);
        a.mult.store(mult, Ordering::Relaxed);
        a.seq.store(s + 2, Ordering::Release);
    }

    /// One correction against the system clock `sys` (epoch nanoseconds from the monotonic
    /// clock); `period` is the time until the next one.
    fn discipline(&self, sys: &impl Fn() -> i64, period: Duration) {
        let now = paired(sys);
        let a = &self.anchor;
        let cur = project(
            now.tsc,
            a.tsc.load(Ordering::Relaxed),
            a.ns.load(Ordering::Relaxed) as i64,
            a.mult.load(Ordering::Relaxed),
        );
        let Some(rate) = rate(self.first, now) else { return };
        // Ticks in the next period, at the measured rate.
        let ticks = ((period.as_nanos() << FRAC) / u128::from(rate.max(1))).max(1);
        let err = now.ns - cur;
        if err > MAX_STEP_BEHIND_NS {
            // Far behind (the host paused this VM, or moved it): catch up at once. A step
            // forward never makes the clock run backwards; a clock ahead is only slewed.
            self.publish(now.tsc, now.ns, rate);
            return;
        }
        let adjust = (i128::from(err) << FRAC) / i128::try_from(ticks).unwrap_or(i128::MAX);
        let bound = i128::from(rate * MAX_SLEW_PPM / 1_000_000);
        let mult = (i128::from(rate) + adjust.clamp(-bound, bound)).max(1);
        self.publish(now.tsc, cur, u64::try_from(mult).unwrap_or(rate));
    }
}

/// A TSC reading and a system-clock reading taken together: the tightest of a few tries,
/// the TSC value taken midway.
fn paired(sys: &impl Fn() -> i64) -> Pair {
    let mut best = (u64::MAX, Pair { tsc: 0, ns: 0 });
    for _ in 0..8 {
        let a = rdtsc();
        let ns = sys();
        let b = rdtsc();
        let width = b.wrapping_sub(a);
        if width < best.0 {
            best = (width, Pair { tsc: a + width / 2, ns });
        }
    }
    best.1
}

/// Nanoseconds per tick (32.32 fixed point) from `a` to `b`; `None` if the TSC did not move
/// forward or the rate is absurd (under 50 MHz or over 20 GHz).
fn rate(a: Pair, b: Pair) -> Option<u64> {
    let ticks = b.tsc.checked_sub(a.tsc).filter(|&t| t > 0)?;
    let ns = u64::try_from(b.ns - a.ns).ok().filter(|&n| n > 0)?;
    let mult = (u128::from(ns) << FRAC) / u128::from(ticks);
    let mult = u64::try_from(mult).ok()?;
    // 20 GHz .. 50 MHz: 0.05 .. 20 ns per tick.
    ((1u64 << FRAC) / 20..=(20u64 << FRAC)).contains(&mult).then_some(mult)
}

/// Whether this host's TSC can serve as the clock, and the operator did not ask otherwise.
fn usable() -> bool {
    match std::env::var("TICKLINE_CLOCK").as_deref() {
        Ok("system") => return false,
        Ok("tsc") | Ok("auto") | Err(_) => {}
        Ok(other) => {
            tracing::warn!(value = other, "TICKLINE_CLOCK is tsc, system or auto; using auto");
        }
    }
    if !cfg!(target_arch = "x86_64") {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else { return false };
    let flags = info.lines().find(|l| l.starts_with("flags")).unwrap_or("");
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    has("constant_tsc") && has("nonstop_tsc")
}

/// The process's TSC clock, or `None` where the system clock serves. Measured (blocking for
/// [`FIRST_WINDOW`]) on first use; starts the discipline thread.
pub(super) fn clock(sys: fn() -> i64) -> Option<&'static TscClock> {
    static CLOCK: OnceLock<Option<TscClock>> = OnceLock::new();
    let mut measured = false;
    let clock = CLOCK
        .get_or_init(|| {
            measured = true;
            if !usable() {
                return None;
            }
            let first = paired(&sys);
            let start = Instant::now();
            while start.elapsed() < FIRST_WINDOW {
                std::thread::sleep(FIRST_WINDOW.saturating_sub(start.elapsed()));
            }
            let second = paired(&sys);
            let mult = rate(first, second)?;
            let anchor = Anchor {
                seq: AtomicU64::new(0),
                tsc: AtomicU64::new(first.tsc),
                ns: AtomicU64::new(first.ns as u64),
                mult: AtomicU64::new(mult),
            };
            Some(TscClock { anchor, first })
        })
        .as_ref();
    if let (true, Some(c)) = (measured, clock) {
        // The call that measured the clock starts its one discipline thread.
        start_discipline(c, sys);
    }
    clock
}

/// The discipline thread's OS thread id; 0 until it runs.
static DISCIPLINE_THREAD: AtomicI32 = AtomicI32::new(0);

/// The discipline thread's OS thread id, once it has started (for moving it off the hot
/// cores).
pub(super) fn discipline_thread() -> Option<i32> {
    Some(DISCIPLINE_THREAD.load(Ordering::Acquire)).filter(|&t| t != 0)
}

fn start_discipline(clock: &'static TscClock, sys: fn() -> i64) {
    let (started, id) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("tsc-clock".into()).spawn(move || {
        let _ = started.send(crate::runtime::affinity::current_thread_id());
        for period in EARLY_PERIODS.into_iter().chain(std::iter::repeat(PERIOD)) {
            std::thread::sleep(period);
            clock.discipline(&sys, period);
        }
    });
    match spawned {
        // Known before the clock is handed out, so a pipeline started next can place it.
        Ok(_) => {
            if let Ok(tid) = id.recv() {
                DISCIPLINE_THREAD.store(tid, Ordering::Release);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not start the TSC clock's discipline thread"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_is_fixed_point_and_saturates() {
        // 0.5 ns per tick.
        let half = 1u64 << (FRAC - 1);
        assert_eq!(project(1_000, 0, 10, half), 510);
        assert_eq!(project(1_000, 2_000, 10, half), 10, "a TSC behind the anchor adds nothing");
        assert_eq!(project(u64::MAX, 0, i64::MAX - 1, 20u64 << FRAC), i64::MAX);
    }

    #[test]
    fn rate_refuses_a_stalled_or_absurd_counter() {
        let p = |tsc, ns| Pair { tsc, ns };
        assert_eq!(rate(p(0, 0), p(2_000, 1_000)), Some(1u64 << (FRAC - 1)));
        assert_eq!(rate(p(5, 0), p(5, 1_000)), None, "the TSC did not move");
        assert_eq!(rate(p(5, 0), p(4, 1_000)), None, "the TSC went back");
        assert_eq!(rate(p(0, 0), p(1_000, 0)), None, "the system clock did not move");
        assert_eq!(rate(p(0, 0), p(1, 1_000_000)), None, "1 GHz of nanoseconds per tick");
        assert_eq!(rate(p(0, 0), p(1_000_000, 1)), None, "a 1 PHz counter");
    }

    /// A correction slews an offset away over the next period instead of stepping, within
    /// the bound, and never makes the clock run backwards.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn discipline_slews_toward_the_system_clock() {
        let c = TscClock {
            anchor: Anchor {
                seq: AtomicU64::new(0),
                tsc: AtomicU64::new(0),
                ns: AtomicU64::new(0),
                mult: AtomicU64::new(1 << FRAC),
            },
            first: Pair { tsc: rdtsc(), ns: 0 },
        };
        // A system clock that runs 1 ns per tick from `first`; the anchor is 250 µs behind
        // it, well inside the step threshold: slewing it away over 1 s takes 250 ppm.
        let first = c.first;
        let sys = move || (rdtsc() - first.tsc) as i64;
        c.publish(first.tsc, -250_000, 1 << FRAC);
        // Long enough that the measured rate is 1 to well within the slew bound.
        std::thread::sleep(Duration::from_millis(50));
        let before = c.now();
        c.discipline(&sys, Duration::from_secs(1));
        let after = c.now();
        assert!(after >= before);
        assert!(sys() - after > 200_000, "slewed, not stepped: still about 250 µs behind");
        let mult = c.anchor.mult.load(Ordering::Relaxed);
        let ppm = |p: u64| (1u64 << FRAC) + (1u64 << FRAC) * p / 1_000_000;
        assert!(mult > ppm(200), "runs about 250 ppm faster to catch up");
        assert!(mult < ppm(300), "no faster than the offset needs");
        // 900 µs behind needs 900 ppm over the period: held to the bound, still not a step.
        c.publish(rdtsc(), sys() - 900_000, 1 << FRAC);
        c.discipline(&sys, Duration::from_secs(1));
        assert!(sys() - c.now() > 800_000, "slewed, not stepped");
        let mult = c.anchor.mult.load(Ordering::Relaxed);
        // The bound applies to the measured rate, which is 1 only to within a few ppm (the
        // paired reads are tens of ticks wide).
        assert!(mult > ppm(MAX_SLEW_PPM - 10) && mult < ppm(MAX_SLEW_PPM + 10), "at the bound");
        assert_eq!(c.anchor.seq.load(Ordering::Relaxed) % 2, 0);
        // Ten seconds behind: one step forward, to within a few microseconds.
        c.publish(rdtsc(), sys() - 10_000_000_000, 1 << FRAC);
        let behind = c.now();
        c.discipline(&sys, Duration::from_secs(1));
        let caught_up = c.now();
        assert!(caught_up > behind + 9_000_000_000);
        assert!((caught_up - sys()).abs() < 1_000_000, "within 1 ms after the step");
    }
}
