//! Market-data reasonability: flags on the tick that tell risk not to trust a price.
//!
//! - **Crossed** (`CROSSED`): set by the handlers (bid at or above ask); counted here.
//! - **Stale** (`STALE`): an instrument with no update for [`ReasonabilityConfig::stale_after`]
//!   gets its last quote re-published with `STALE`, once per silence, and every instrument's
//!   last quote is re-published with `STALE` when the connection drops. Risk keys its checks
//!   off the latest tick per instrument, so silence must itself produce a tick. Staleness is
//!   judged by local receive time, not the venue's event time: the two clocks are not
//!   synchronised, and a skew would flag every tick.
//! - **Out of band** (`OUT_OF_BAND`): a quote mid or trade price more than
//!   [`ReasonabilityConfig::band_bps`] from the last good price. The band re-anchors on a
//!   `RESYNC` tick (a fresh snapshot is the venue's own word) and after
//!   [`ReasonabilityConfig::reanchor_after`] consecutive out-of-band prices (the market really
//!   moved), so a genuine jump is flagged for a bounded stretch rather than forever.
//!
//! Runs on the feed thread inside its poll: per tick a few compares, no allocation.

use std::sync::Arc;
use std::time::Duration;

use tickline_engine::telemetry::Counter;
use tickline_engine::types::{InstrumentId, Nanos, Tick, TickFlags, TickKind};

/// Default silence after which an instrument's last quote is re-published as `STALE`.
pub const DEFAULT_BOOK_STALE_AFTER: Duration = Duration::from_secs(5);
/// Default band around the last good price, in basis points (5 %).
pub const DEFAULT_BAND_BPS: u32 = 500;
/// Default run of consecutive out-of-band prices that moves the band to them.
pub const DEFAULT_REANCHOR_AFTER: u32 = 32;

/// Reasonability limits; every default is the named constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReasonabilityConfig {
    /// Silence per instrument before `STALE` ([`DEFAULT_BOOK_STALE_AFTER`]; zero = off).
    pub stale_after: Duration,
    /// Band in basis points ([`DEFAULT_BAND_BPS`]; 0 = off).
    pub band_bps: u32,
    /// Consecutive out-of-band prices that re-anchor the band ([`DEFAULT_REANCHOR_AFTER`];
    /// 0 = never).
    pub reanchor_after: u32,
}

impl Default for ReasonabilityConfig {
    fn default() -> Self {
        ReasonabilityConfig {
            stale_after: DEFAULT_BOOK_STALE_AFTER,
            band_bps: DEFAULT_BAND_BPS,
            reanchor_after: DEFAULT_REANCHOR_AFTER,
        }
    }
}

/// What the checks found, over all instruments of a feed.
#[derive(Debug, Default)]
pub struct ReasonabilityCounters {
    /// `STALE` ticks published.
    pub stale: Counter,
    /// Ticks flagged `OUT_OF_BAND`.
    pub out_of_band: Counter,
    /// Crossed quotes seen.
    pub crossed: Counter,
    /// Times a band moved to a sustained out-of-band price.
    pub reanchors: Counter,
}

#[derive(Clone, Copy, Debug, Default)]
struct InstrumentState {
    tracked: bool,
    /// Last good price (raw), 0 = none yet.
    reference: i64,
    out_run: u32,
    last_update: Nanos,
    last_quote: Option<Tick>,
    stale: bool,
}

/// Per-instrument reasonability state of one feed.
#[derive(Debug)]
pub struct Reasonability {
    cfg: ReasonabilityConfig,
    stale_ns: u64,
    states: Vec<InstrumentState>,
    next_sweep: Nanos,
    counters: Arc<ReasonabilityCounters>,
}

#[inline]
fn outside_band(px: i64, reference: i64, band_bps: u32) -> bool {
    let diff = (i128::from(px) - i128::from(reference)).abs();
    diff * 10_000 > i128::from(band_bps) * i128::from(reference)
}

impl Reasonability {
    /// State for `instruments` (allocated once here).
    pub fn new(
        instruments: impl IntoIterator<Item = InstrumentId>,
        cfg: ReasonabilityConfig,
    ) -> Reasonability {
        let mut states = Vec::new();
        for id in instruments {
            if states.len() <= id.index() {
                states.resize(id.index() + 1, InstrumentState::default());
            }
            states[id.index()].tracked = true;
        }
        Reasonability {
            stale_ns: u64::try_from(cfg.stale_after.as_nanos()).unwrap_or(u64::MAX),
            cfg,
            states,
            next_sweep: Nanos::ZERO,
            counters: Arc::new(ReasonabilityCounters::default()),
        }
    }

    /// The counters (clone the `Arc` for the sidecar).
    pub fn counters(&self) -> &Arc<ReasonabilityCounters> {
        &self.counters
    }

    /// Checks one tick from the venue, adding `OUT_OF_BAND` when its price is outside the
    /// band, and records it as the instrument's latest.
    #[inline]
    pub fn check(&mut self, tick: Tick) -> Tick {
        let Some(s) = self.states.get_mut(tick.instrument().index()).filter(|s| s.tracked) else {
            return tick;
        };
        s.last_update = tick.recv_ns();
        s.stale = false;
        let crossed = tick.flags().contains(TickFlags::CROSSED);
        if crossed {
            self.counters.crossed.inc();
        }
        let price = match tick.kind() {
            TickKind::Quote if !crossed => tick.mid().map(|p| p.raw()),
            TickKind::Quote => None,
            TickKind::Trade => tick.last_trade().map(|(l, _)| l.px.raw()),
        };
        let mut tick = tick;
        if let (Some(px), true) = (price.filter(|&p| p > 0), self.cfg.band_bps > 0) {
            if s.reference == 0 || tick.flags().contains(TickFlags::RESYNC) {
                s.reference = px;
                s.out_run = 0;
            } else if outside_band(px, s.reference, self.cfg.band_bps) {
                tick = tick.with_flags(TickFlags::OUT_OF_BAND);
                self.counters.out_of_band.inc();
                s.out_run += 1;
                if self.cfg.reanchor_after > 0 && s.out_run >= self.cfg.reanchor_after {
                    s.reference = px;
                    s.out_run = 0;
                    self.counters.reanchors.inc();
                }
            } else {
                s.reference = px;
                s.out_run = 0;
            }
        }
        if tick.kind() == TickKind::Quote {
            s.last_quote = Some(tick);
        }
        tick
    }

    /// Re-publishes, with `STALE`, the last quote of every instrument silent for longer than
    /// the limit (once per silence). Cheap to call every poll: it looks at the instruments at
    /// most four times per limit.
    pub fn sweep(&mut self, now: Nanos, mut emit: impl FnMut(Tick)) {
        if self.stale_ns == 0 || now < self.next_sweep {
            return;
        }
        self.next_sweep = now.add_nanos((self.stale_ns / 4).max(1_000_000) as i64);
        for s in self.states.iter_mut().filter(|s| s.tracked && !s.stale) {
            if let Some(q) = s.last_quote {
                if now.since(s.last_update) > self.stale_ns {
                    s.stale = true;
                    self.counters.stale.inc();
                    emit(q.with_flags(TickFlags::STALE).with_recv_ns(now));
                }
            }
        }
    }

    /// The connection dropped: every instrument's last quote is re-published with `STALE`.
    pub fn invalidate_all(&mut self, now: Nanos, mut emit: impl FnMut(Tick)) {
        for s in self.states.iter_mut().filter(|s| s.tracked && !s.stale) {
            if let Some(q) = s.last_quote {
                s.stale = true;
                self.counters.stale.inc();
                emit(q.with_flags(TickFlags::STALE).with_recv_ns(now));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickline_engine::types::{Aggressor, Level, Px, Qty};

    const A: InstrumentId = InstrumentId(1);

    fn quote(bid: i64, ask: i64, recv: i64) -> Tick {
        let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
        Tick::quote(A, l(bid), l(ask), 1, Nanos::ZERO, Nanos(recv))
    }

    #[test]
    fn band_flags_and_reanchors() {
        let cfg = ReasonabilityConfig { band_bps: 100, reanchor_after: 3, ..Default::default() };
        let mut r = Reasonability::new([A], cfg);
        assert_eq!(r.check(quote(9_999, 10_001, 1)).flags(), TickFlags::default());
        // 0.5 % move: inside a 1 % band.
        assert!(!r.check(quote(10_049, 10_051, 2)).flags().contains(TickFlags::OUT_OF_BAND));
        // 5 % jump: out of band three times, then the band moves.
        for _ in 0..3 {
            assert!(r.check(quote(10_549, 10_551, 3)).flags().contains(TickFlags::OUT_OF_BAND));
        }
        assert!(!r.check(quote(10_549, 10_551, 4)).flags().contains(TickFlags::OUT_OF_BAND));
        let trade = Tick::trade(
            A,
            Level { px: Px::from_raw(20_000), qty: Qty::from_raw(1) },
            Aggressor::Buy,
            1,
            Nanos::ZERO,
            Nanos(5),
        );
        assert!(r.check(trade).flags().contains(TickFlags::OUT_OF_BAND));
        // A resync re-anchors at once.
        let resync = quote(19_999, 20_001, 6).with_flags(TickFlags::RESYNC);
        assert!(!r.check(resync).flags().contains(TickFlags::OUT_OF_BAND));
        assert_eq!((r.counters().out_of_band.get(), r.counters().reanchors.get()), (4, 1));
        // Crossed quotes are counted, not banded.
        r.check(quote(30_000, 29_000, 7).with_flags(TickFlags::CROSSED));
        assert_eq!(r.counters().crossed.get(), 1);
        // Untracked instruments pass through.
        let other =
            Tick::quote(InstrumentId(0), Level::default(), Level::default(), 0, Nanos(0), Nanos(0));
        assert_eq!(r.check(other), other);
    }

    #[test]
    fn silence_and_disconnects_republish_the_last_quote_as_stale() {
        let cfg =
            ReasonabilityConfig { stale_after: Duration::from_millis(10), ..Default::default() };
        let mut r = Reasonability::new([A], cfg);
        let mut out = Vec::new();
        r.sweep(Nanos(1), |t| out.push(t));
        assert!(out.is_empty(), "nothing to republish before a quote");
        r.check(quote(100, 101, 1_000_000));
        r.sweep(Nanos(5_000_000), |t| out.push(t));
        assert!(out.is_empty());
        r.sweep(Nanos(20_000_000), |t| out.push(t));
        assert_eq!(out.len(), 1);
        assert!(out[0].flags().contains(TickFlags::STALE));
        assert_eq!((out[0].recv_ns(), out[0].bid()), (Nanos(20_000_000), quote(100, 101, 0).bid()));
        // Once per silence.
        r.sweep(Nanos(90_000_000), |t| out.push(t));
        assert_eq!(out.len(), 1);
        // A fresh quote clears it; a disconnect flags it again at once.
        r.check(quote(100, 101, 95_000_000));
        r.invalidate_all(Nanos(96_000_000), |t| out.push(t));
        assert_eq!(out.len(), 2);
        assert_eq!(r.counters().stale.get(), 2);
    }
}
