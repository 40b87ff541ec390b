//! Integer-nanosecond timestamps and the engine clock.
//!
//! Every timestamp that crosses a ring is a [`Nanos`]: signed nanoseconds since the Unix epoch.
//! The [`Clock`] reads the CPU's time-stamp counter where it is invariant (`tsc.rs`: one
//! `RDTSC` and a multiply, disciplined against the system clock by a background thread), and
//! otherwise the monotonic clock (a vDSO call, no syscall); either way it adds an epoch anchor
//! taken once at start-up, so stamps are comparable across threads, never go backwards, and
//! still read as wall-clock times in the journal.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bytemuck::NoUninit,
    bytemuck::AnyBitPattern,
)]
#[repr(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    /// The epoch itself; also "no timestamp".
    pub const ZERO: Nanos = Nanos(0);

    /// From milliseconds since the epoch (venue event times).
    #[inline]
    pub const fn from_millis(ms: i64) -> Nanos {
        Nanos(ms.saturating_mul(1_000_000))
    }

    /// Nanoseconds elapsed from `earlier` to `self`, saturating at zero.
    #[inline]
    pub const fn since(self, earlier: Nanos) -> u64 {
        let d = self.0.saturating_sub(earlier.0);
        if d < 0 {
            0
        } else {
            d as u64
        }
    }

    /// `self + ns`, saturating.
    #[inline]
    pub const fn add_nanos(self, ns: i64) -> Nanos {
        Nanos(self.0.saturating_add(ns))
    }
}

struct Anchor {
    instant: Instant,
    epoch_ns: i64,
}

fn anchor() -> &'static Anchor {
    static ANCHOR: OnceLock<Anchor> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        let instant = Instant::now();
        let epoch_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Anchor { instant, epoch_ns }
    })
}

/// The system source: the monotonic clock plus the epoch anchor.
fn system_now() -> i64 {
    let a = anchor();
    let elapsed = a.instant.elapsed().as_nanos();
    a.epoch_ns.saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
}

fn tsc_source() -> Option<&'static super::tsc::TscClock> {
    static SOURCE: OnceLock<Option<&'static super::tsc::TscClock>> = OnceLock::new();
    *SOURCE.get_or_init(|| {
        let _ = anchor();
        super::tsc::clock(system_now)
    })
}

/// The engine's clock: monotonic, anchored to the epoch once per process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock;

impl Clock {
    /// Anchors the clock and picks its source (measuring the TSC takes about 10 ms); call
    /// once at start-up so the first hot-path read does no work.
    pub fn init() {
        let _ = tsc_source();
    }

    /// The current time.
    #[inline]
    pub fn now() -> Nanos {
        match tsc_source() {
            Some(tsc) => Nanos(tsc.now()),
            None => Nanos(system_now()),
        }
    }

    /// The OS thread id of the clock's background thread (the TSC source's discipline
    /// thread), if it has one, so a pipeline can keep it off its hot cores.
    pub fn helper_thread() -> Option<i32> {
        tsc_source().and_then(|_| super::tsc::discipline_thread())
    }

    /// Which source the clock reads: `"tsc"` or `"system"`.
    pub fn source() -> &'static str {
        if tsc_source().is_some() {
            "tsc"
        } else {
            "system"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_epoch_anchored() {
        Clock::init();
        let a = Clock::now();
        let b = Clock::now();
        assert!(b >= a);
        // After 2020-01-01 and before 2100.
        assert!(a.0 > 1_577_836_800_000_000_000 && a.0 < 4_102_444_800_000_000_000);
        assert_eq!(b.since(a), (b.0 - a.0) as u64);
        assert_eq!(a.since(b.add_nanos(1)), 0);
        assert_eq!(Nanos::from_millis(1_723_161_255_208).0, 1_723_161_255_208_000_000);
    }

    /// Whatever the source, the clock agrees with the system clock and moves forward on
    /// every thread.
    #[test]
    fn clock_tracks_the_system_clock_across_threads() {
        Clock::init();
        let skew = |a: Nanos| (a.0 - system_now()).abs();
        assert!(
            skew(Clock::now()) < 1_000_000,
            "{} within 1 ms of the system clock",
            Clock::source()
        );
        let threads: Vec<_> = (0..2)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut last = Clock::now();
                    for _ in 0..200_000 {
                        let t = Clock::now();
                        assert!(t >= last, "went back {} ns", last.0 - t.0);
                        last = t;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(skew(Clock::now()) < 1_000_000);
    }
}
