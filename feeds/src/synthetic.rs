//! A deterministic, seeded synthetic feed: the default market data of `tickline run`.
//!
//! Each instrument's mid price takes a random walk on its tick grid; every step publishes a
//! quote, and one step in `trade_every` also publishes a trade at the touch. The same seed
//! gives the same ticks, in the same order, on every run.
//!
//! Pacing is open-loop (`pace.rs`): at a set rate, tick `k` is due at
//! `start + k / rate` and is stamped with that due time as its receive time, so a pipeline
//! that falls behind shows the delay in its tick-to-order latency instead of hiding it (no
//! coordinated omission). At rate 0 the feed produces as fast as it is polled, stamped with
//! the poll's clock read.

use tickline_engine::stage::{Feed, FeedStatus, TickBatch};
use tickline_engine::types::{Aggressor, InstrumentId, Level, Nanos, Px, Qty, Tick, TickFlags};

use crate::feed_health::FeedHealth;
use crate::pace::Pacer;

/// One instrument the synthetic feed quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntheticInstrument {
    /// Instrument.
    pub id: InstrumentId,
    /// Starting mid price.
    pub start: Px,
    /// Tick size (price grid).
    pub tick: Px,
    /// Lot size (size grid).
    pub lot: Qty,
}

/// Synthetic feed settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// Feed name.
    pub name: String,
    /// Random seed.
    pub seed: u64,
    /// Ticks per second over all instruments; 0 = as fast as polled.
    pub rate: u64,
    /// Publish a trade every this many steps (0 = never).
    pub trade_every: u32,
    /// Stop after this many ticks (0 = never).
    pub max_ticks: u64,
    /// Instruments, quoted round-robin.
    pub instruments: Vec<SyntheticInstrument>,
}

#[derive(Clone, Copy, Debug)]
struct State {
    inst: SyntheticInstrument,
    mid_ticks: i64,
    seq: u64,
}

/// The synthetic feed.
#[derive(Debug)]
pub struct SyntheticFeed {
    spec: SyntheticSpec,
    states: Vec<State>,
    rng: u64,
    produced: u64,
    /// Steps left until the next trade (0: the feed publishes no trades). A countdown, not
    /// `step % trade_every`: no division per tick.
    until_trade: u32,
    next: usize,
    /// When the next tick is due.
    pacer: Pacer,
    pending_trade: Option<Tick>,
    stopped: bool,
    /// Nothing is due before this time: a poll before it returns at once. Set after every
    /// fill to the next due time when the feed is paced and live, else to the start of time
    /// (every poll fills).
    quiet_until: Nanos,
    /// The next tick, built by an idle poll before it falls due (paced feeds only): a venue's
    /// message exists before it arrives, so at its due time the feed only hands it over and
    /// tick-to-order measures the pipeline, not the price walk's arithmetic.
    staged: Option<Tick>,
}

impl SyntheticFeed {
    /// A feed producing `spec`'s instruments. An instrument with a non-positive tick size or
    /// start price is quoted at one tick.
    pub fn new(spec: SyntheticSpec) -> SyntheticFeed {
        let states = spec
            .instruments
            .iter()
            .map(|&inst| {
                let tick = inst.tick.raw().max(1);
                State { inst, mid_ticks: (inst.start.raw() / tick).max(4), seq: 0 }
            })
            .collect();
        let rng = spec.seed ^ 0x9e37_79b9_7f4a_7c15;
        let pacer = Pacer::new(spec.rate);
        let until_trade = spec.trade_every;
        SyntheticFeed {
            spec,
            states,
            rng: if rng == 0 { 1 } else { rng },
            produced: 0,
            until_trade,
            next: 0,
            pacer,
            pending_trade: None,
            stopped: false,
            quiet_until: Nanos(i64::MIN),
            staged: None,
        }
    }

    /// The health handle for the admin port: connected while live, keeps no book (see
    /// [`FeedHealth::Local`]).
    pub fn health(&self) -> FeedHealth {
        FeedHealth::Local { frames: None }
    }

    /// Ticks produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    #[inline]
    fn rand(&mut self) -> u64 {
        // xorshift64*: fast, deterministic, good enough for a price walk.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    #[inline]
    fn make(&mut self, recv: Nanos) -> Tick {
        if let Some(t) = self.pending_trade.take() {
            return t.with_recv_ns(recv);
        }
        let i = self.next;
        self.next += 1;
        if self.next == self.states.len() {
            self.next = 0;
        }
        let r = self.rand();
        let trade = match self.until_trade {
            0 => false,
            1 => {
                self.until_trade = self.spec.trade_every;
                true
            }
            _ => {
                self.until_trade -= 1;
                false
            }
        };
        let s = &mut self.states[i];
        // Walk: -1, 0 or +1 tick, never below 2 ticks.
        let delta = (r % 3) as i64 - 1;
        s.mid_ticks = (s.mid_ticks + delta).max(2);
        let tick = s.inst.tick.raw().max(1);
        let lot = s.inst.lot.raw().max(1);
        let bid = Px::from_raw((s.mid_ticks - 1) * tick);
        let ask = Px::from_raw((s.mid_ticks + 1) * tick);
        let bid_qty = Qty::from_raw(lot * (1 + ((r >> 8) % 100) as i64));
        let ask_qty = Qty::from_raw(lot * (1 + ((r >> 16) % 100) as i64));
        s.seq += 1;
        let exch = recv;
        let quote = Tick::quote(
            s.inst.id,
            Level { px: bid, qty: bid_qty },
            Level { px: ask, qty: ask_qty },
            s.seq,
            exch,
            recv,
        )
        .with_flags(TickFlags::SYNTHETIC);
        if trade {
            let buy = (r >> 24) & 1 == 1;
            let (px, aggressor) = if buy { (ask, Aggressor::Buy) } else { (bid, Aggressor::Sell) };
            let qty = Qty::from_raw(lot * (1 + ((r >> 32) % 10) as i64));
            s.seq += 1;
            self.pending_trade = Some(
                Tick::trade(s.inst.id, Level { px, qty }, aggressor, s.seq, exch, recv)
                    .with_flags(TickFlags::SYNTHETIC),
            );
        }
        quote
    }
}

impl Feed for SyntheticFeed {
    fn name(&self) -> &str {
        &self.spec.name
    }

    #[inline]
    fn poll(&mut self, now: Nanos, out: &mut TickBatch) -> FeedStatus {
        // A spinning loop polls a paced feed far more often than a tick falls due: answer
        // "nothing yet" with one comparison, without the set-up of the producing loop.
        if now < self.quiet_until {
            if self.staged.is_none() {
                self.stage();
            }
            return FeedStatus::Live;
        }
        self.fill(now, out)
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.quiet_until = Nanos(i64::MIN);
        self.staged = None;
    }
}

impl SyntheticFeed {
    /// Produces every tick due at `now`, as many as `out` holds.
    #[inline(never)]
    fn fill(&mut self, now: Nanos, out: &mut TickBatch) -> FeedStatus {
        if self.stopped || self.states.is_empty() {
            return FeedStatus::Finished;
        }
        let cap = if self.spec.max_ticks > 0 { self.spec.max_ticks } else { u64::MAX };
        while !out.is_full() {
            if self.produced >= cap {
                return FeedStatus::Finished;
            }
            let Some(recv) = self.pacer.due(now) else { break };
            // A staged tick was built for this very due time: it is the tick `make` would
            // build now.
            let t = match self.staged.take() {
                Some(t) => t,
                None => self.make(recv),
            };
            debug_assert_eq!(t.recv_ns(), recv, "a staged tick is for the next due time");
            if let Err(t) = out.push(t) {
                self.staged = Some(t);
                break;
            }
            self.produced += 1;
            self.pacer.advance();
        }
        self.quiet_until = match self.pacer.next_due() {
            Some(next) if self.produced < cap => next,
            _ => Nanos(i64::MIN),
        };
        FeedStatus::Live
    }

    /// Builds the next tick ahead of its due time. Called by an idle poll only, so after the
    /// last tick's handling, never before it; and only while `quiet_until` is set, so the
    /// feed is paced, live and under its cap.
    #[inline(never)]
    fn stage(&mut self) {
        if let Some(due) = self.pacer.next_due() {
            self.staged = Some(self.make(due));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickline_engine::types::TickKind;

    fn spec(rate: u64, max: u64) -> SyntheticSpec {
        SyntheticSpec {
            name: "synthetic".into(),
            seed: 7,
            rate,
            trade_every: 4,
            max_ticks: max,
            instruments: vec![
                SyntheticInstrument {
                    id: InstrumentId(0),
                    start: Px::from_raw(10_000),
                    tick: Px::from_raw(1),
                    lot: Qty::from_raw(10),
                },
                SyntheticInstrument {
                    id: InstrumentId(1),
                    start: Px::from_raw(5_000),
                    tick: Px::from_raw(5),
                    lot: Qty::from_raw(1),
                },
            ],
        }
    }

    /// The ticks one poll at `now` hands over, and the feed's status.
    fn poll_once(feed: &mut SyntheticFeed, now: Nanos) -> (Vec<Tick>, FeedStatus) {
        let mut b = TickBatch::new();
        let st = feed.poll(now, &mut b);
        ((0..b.len()).filter_map(|i| b.get(i)).collect(), st)
    }

    fn drain(feed: &mut SyntheticFeed, now: Nanos) -> Vec<Tick> {
        let mut all = Vec::new();
        loop {
            let (ticks, st) = poll_once(feed, now);
            let done = st == FeedStatus::Finished || ticks.is_empty();
            all.extend(ticks);
            if done {
                return all;
            }
        }
    }

    #[test]
    fn same_seed_same_ticks_and_on_grid() {
        let a = drain(&mut SyntheticFeed::new(spec(0, 1000)), Nanos(1));
        let b = drain(&mut SyntheticFeed::new(spec(0, 1000)), Nanos(1));
        assert_eq!(a.len(), 1000);
        assert_eq!(a, b);
        let trades = a.iter().filter(|t| t.kind() == TickKind::Trade).count();
        assert_eq!(trades, 200, "a trade after every 4th quote: 5 ticks per 4 steps");
        for t in &a {
            let i = &spec(0, 0).instruments[t.instrument().index()];
            let px = t.bid().map_or_else(|| t.last_trade().unwrap().0.px, |l| l.px);
            assert!(px.is_multiple_of(i.tick) && px.is_positive());
            if let (Some(b), Some(a)) = (t.bid(), t.ask()) {
                assert!(b.px < a.px, "never crossed");
                assert!(b.qty.is_multiple_of(i.lot));
            }
            assert!(t.flags().contains(TickFlags::SYNTHETIC));
        }
    }

    #[test]
    fn a_trade_follows_every_nth_quote_and_only_that_one() {
        for every in [0u32, 1, 3, 4] {
            let mut sp = spec(0, 60);
            sp.trade_every = every;
            let ticks = drain(&mut SyntheticFeed::new(sp), Nanos(1));
            assert_eq!(ticks.len(), 60);
            let (mut quotes, mut trades) = (0u32, 0u32);
            let mut after_quote = false;
            for t in &ticks {
                if t.kind() == TickKind::Quote {
                    quotes += 1;
                    after_quote = true;
                    continue;
                }
                trades += 1;
                assert!(after_quote, "every {every}: a trade follows its quote");
                assert!(every > 0 && quotes % every == 0, "every {every}: after quote {quotes}");
                after_quote = false;
            }
            let want = quotes.checked_div(every).unwrap_or(0);
            // The last quote's trade may fall beyond the 60 ticks taken.
            assert!(trades == want || trades + 1 == want, "every {every}: {trades} trades");
            assert!(trades > 0 || every == 0);
        }
    }

    #[test]
    fn paced_feed_emits_only_due_ticks_stamped_with_due_time() {
        let mut f = SyntheticFeed::new(spec(1_000_000, 0)); // one tick per microsecond
        let mut b = TickBatch::new();
        f.poll(Nanos(1_000_000), &mut b);
        assert_eq!(b.len(), 1, "only tick 0 is due at start");
        b.clear();
        f.poll(Nanos(1_000_000 + 10_500), &mut b);
        assert_eq!(b.len(), 10, "ticks 1..=10 are due 10.5 µs later");
        assert_eq!(b.get(0).unwrap().recv_ns(), Nanos(1_001_000));
        assert_eq!(b.get(9).unwrap().recv_ns(), Nanos(1_010_000));
        f.stop();
        assert_eq!(f.poll(Nanos(2_000_000), &mut b), FeedStatus::Finished);
    }

    #[test]
    fn a_tick_staged_while_idle_is_the_tick_a_late_poll_builds() {
        // One tick per microsecond. `a` is polled between every two ticks, so each tick
        // after the first is built ahead by an idle poll; `b` is polled once, 40 µs late,
        // and builds all of them then.
        let (mut a, mut b) =
            (SyntheticFeed::new(spec(1_000_000, 0)), SyntheticFeed::new(spec(1_000_000, 0)));
        let start = 1_000_000;
        let mut staged = Vec::new();
        for k in 0..=40 {
            staged.extend(poll_once(&mut a, Nanos(start + k * 1_000)).0);
            let (between, _) = poll_once(&mut a, Nanos(start + k * 1_000 + 500));
            assert!(between.is_empty(), "nothing due between ticks");
            assert!(a.staged.is_some(), "an idle poll builds the next tick");
        }
        let (mut late, status) = poll_once(&mut b, Nanos(start));
        assert_eq!(status, FeedStatus::Live);
        late.extend(poll_once(&mut b, Nanos(start + 40_000)).0);
        assert_eq!(staged.len(), 41);
        assert_eq!(staged, late, "same ticks, same stamps");
        assert!(staged.iter().any(|t| t.kind() == TickKind::Trade));

        // A stop drops the staged tick; a capped feed stages nothing past its cap.
        a.stop();
        assert!(a.staged.is_none());
        // (A one-slot batch: the fill ends on a full batch just as the cap is reached, not
        // on the cap check.)
        let mut c = SyntheticFeed::new(spec(1_000_000, 1));
        let mut one = TickBatch::new();
        one.set_limit(1);
        assert_eq!(c.poll(Nanos(start), &mut one), FeedStatus::Live);
        assert_eq!(one.len(), 1);
        assert_eq!(poll_once(&mut c, Nanos(start + 500)), (vec![], FeedStatus::Finished));
        assert!(c.staged.is_none(), "the cap is reached: nothing to stage");
    }

    #[test]
    fn a_paced_feed_between_ticks_still_hears_stop_and_its_cap() {
        // One tick per millisecond, two in all; a batch with room for one, so each fill ends
        // on a full batch, not on the cap check.
        let mut f = SyntheticFeed::new(spec(1_000, 2));
        let one = || {
            let mut b = TickBatch::new();
            b.set_limit(1);
            b
        };
        assert_eq!(f.poll(Nanos(1_000_000), &mut one()), FeedStatus::Live);
        let mut b = one();
        assert_eq!(f.poll(Nanos(1_500_000), &mut b), FeedStatus::Live, "nothing due yet");
        assert!(b.is_empty());
        // The last tick fills the batch; the next poll, before a third would be due, ends.
        let mut b = one();
        assert_eq!(f.poll(Nanos(2_000_000), &mut b), FeedStatus::Live);
        assert_eq!(b.len(), 1);
        let capped = f.poll(Nanos(2_000_001), &mut one());
        assert_eq!(capped, FeedStatus::Finished, "capped between ticks");

        let mut b = TickBatch::new();
        let mut f = SyntheticFeed::new(spec(1_000, 0));
        assert_eq!(f.poll(Nanos(1_000_000), &mut b), FeedStatus::Live);
        f.stop();
        assert_eq!(f.poll(Nanos(1_000_001), &mut b), FeedStatus::Finished, "stopped between ticks");
    }
}
