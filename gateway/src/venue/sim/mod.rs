//! The simulated exchange: the embedded default's venue.
//!
//! Orders travel to the exchange and reports travel back with a configurable one-way
//! latency; the exchange matches them against a book rebuilt from the feed's quotes and
//! trades with price-time priority and queue position (see [`matching`](self) for the rules),
//! charges maker and taker fees, and rejects bad parameters. Every report passes through the
//! gateway's [`OrderTracker`] like a real venue's would.
//!
//! Market data arrives through [`Venue::on_tick`], which the runtime calls only when the
//! gateway runs on the strategy's thread. `tickline`'s wiring keeps it there for this venue
//! (an explicit layout that splits them is refused at start-up): on another thread the
//! exchange would see no book, rest every limit order forever and expire every IOC.
//!
//! Deterministic: the output is a function of the calls made (`submit`, `on_tick`, `poll`)
//! and their timestamps, nothing else (no wall clock, no randomness, no hashing order).
//!
//! ```
//! use std::sync::Arc;
//! use tickline_engine::stage::{ExecBatch, Venue};
//! use tickline_engine::types::{InstrumentRegistry, InstrumentSpec, Nanos};
//! use tickline_gateway::venue::sim::{SimConfig, SimVenue};
//!
//! let spec = InstrumentSpec {
//!     symbol: "A".into(), venue: "sim".into(), price_scale: 2, qty_scale: 0,
//!     tick_size: "0.01".parse().unwrap(), lot_size: "1".parse().unwrap(),
//! };
//! let registry = Arc::new(InstrumentRegistry::build(&[spec]).unwrap());
//! let mut sim = SimVenue::new("sim", registry, SimConfig::default());
//! let mut out = ExecBatch::new();
//! sim.poll(Nanos(0), &mut out);
//! assert!(out.is_empty() && sim.in_flight() == 0);
//! ```

mod book;
mod matching;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;

use tickline_engine::risk::RiskApproved;
use tickline_engine::stage::{ExecBatch, Venue};
use tickline_engine::types::{
    Action, ClientOrderId, ExecReport, InstrumentId, InstrumentRegistry, Level, Nanos, Order,
    OrderIntent, Qty, Side, Tick, TickKind,
};

use crate::order::{Applied, GatewayIds, OrderTracker, TrackerStats, VenueEvent};
use matching::{Exchange, Fees};

/// Simulated exchange settings. Every default is the value of [`SimConfig::default`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// One-way latency in nanoseconds: an order reaches the exchange this long after it was
    /// submitted, and a report reaches the gateway this long after the exchange made it.
    /// Default 0.
    pub latency_ns: i64,
    /// Maker fee in parts per billion of the notional (negative for a rebate). Default 0.
    pub maker_fee_ppb: i64,
    /// Taker fee in parts per billion of the notional. Default 0.
    pub taker_fee_ppb: i64,
    /// Orders tracked (live plus recently finished), and the most that may rest at once.
    /// Default 4096.
    pub max_orders: usize,
    /// Price levels kept per side of each book. Default 32.
    pub depth: usize,
    /// Messages in flight each way and reports waiting for the exec ring, preallocated.
    /// Default 65536 (the queues grow past it only if the reverse path stalls that long).
    pub queue_capacity: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            latency_ns: 0,
            maker_fee_ppb: 0,
            taker_fee_ppb: 0,
            max_orders: 4096,
            depth: 32,
            queue_capacity: 65_536,
        }
    }
}

/// A message on its way to the exchange.
#[derive(Clone, Copy, Debug)]
enum SimMsg {
    New(OrderIntent),
    Cancel { target: ClientOrderId, request: ClientOrderId },
    Replace { target: ClientOrderId, new: OrderIntent },
}

/// The simulated exchange behind the `Venue` trait.
#[derive(Debug)]
pub struct SimVenue {
    name: String,
    latency: i64,
    tracker: OrderTracker,
    exchange: Exchange,
    inbound: VecDeque<(Nanos, SimMsg)>,
    outbound: VecDeque<(Nanos, VenueEvent)>,
    reports: VecDeque<ExecReport>,
    /// Exchange time: never goes backwards.
    clock: Nanos,
    ids: GatewayIds,
}

impl SimVenue {
    /// A simulated exchange for the instruments of `registry`.
    pub fn new(name: &str, registry: Arc<InstrumentRegistry>, cfg: SimConfig) -> SimVenue {
        let fees = Fees { maker_ppb: cfg.maker_fee_ppb, taker_ppb: cfg.taker_fee_ppb };
        SimVenue {
            name: name.to_owned(),
            latency: cfg.latency_ns.max(0),
            tracker: OrderTracker::new(cfg.max_orders),
            exchange: Exchange::new(&registry, cfg.depth.max(1), cfg.max_orders, fees),
            inbound: VecDeque::with_capacity(cfg.queue_capacity),
            outbound: VecDeque::with_capacity(cfg.queue_capacity),
            reports: VecDeque::with_capacity(cfg.queue_capacity),
            clock: Nanos::ZERO,
            // A fixed start keeps runs identical; sim ids never leave the process.
            ids: GatewayIds::new(Nanos::ZERO),
        }
    }

    /// The tracker's counters (anomalies, refusals).
    pub fn tracker_stats(&self) -> Arc<TrackerStats> {
        self.tracker.stats()
    }

    /// Orders resting on the simulated book.
    pub fn resting(&self) -> usize {
        self.exchange.resting()
    }

    /// Public size ahead of a resting order at its price level.
    pub fn queue_ahead(&self, id: ClientOrderId) -> Option<Qty> {
        self.exchange.queue_ahead(id)
    }

    /// Best bid and ask of the simulated book.
    pub fn top(&self, instrument: InstrumentId) -> (Option<Level>, Option<Level>) {
        self.exchange.book(instrument).map_or((None, None), |b| (b.bids.best(), b.asks.best()))
    }

    /// Replaces one side of an instrument's book with L2 levels, best first (for callers
    /// that have depth; quotes only ever set the touch).
    pub fn set_depth(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        levels: &[Level],
        now: Nanos,
    ) {
        self.advance(now);
        let t = self.stamp(now);
        let due = t.add_nanos(self.latency);
        let out = &mut self.outbound;
        self.exchange.set_side(instrument, side, levels, t, &mut |ev| out.push_back((due, ev)));
    }

    #[inline]
    fn stamp(&mut self, t: Nanos) -> Nanos {
        if t > self.clock {
            self.clock = t;
        }
        self.clock
    }

    /// Runs every message that has reached the exchange by `now`.
    fn advance(&mut self, now: Nanos) {
        while let Some(&(due, msg)) = self.inbound.front() {
            if due > now {
                break;
            }
            self.inbound.pop_front();
            let t = self.stamp(due);
            let back = t.add_nanos(self.latency);
            let out = &mut self.outbound;
            let mut emit = |ev: VenueEvent| out.push_back((back, ev));
            match msg {
                SimMsg::New(i) => self.exchange.new_order(&i, t, &mut emit),
                SimMsg::Cancel { target, request } => {
                    self.exchange.cancel(target, request, t, &mut emit)
                }
                SimMsg::Replace { target, new } => {
                    self.exchange.replace(target, &new, t, &mut emit)
                }
            }
        }
    }

    /// Hands every report that has reached the gateway by `now` to the tracker.
    fn release(&mut self, now: Nanos) {
        while let Some(&(due, mut ev)) = self.outbound.front() {
            if due > now {
                break;
            }
            self.outbound.pop_front();
            ev.ts = due;
            if let Applied::Report(r) = self.tracker.apply(&ev) {
                self.reports.push_back(r);
            }
        }
        while let Some(id) = self.tracker.take_deferred_cancel() {
            let request = self.ids.next_id();
            if self.tracker.begin_cancel(id, request).is_ok() {
                self.inbound.push_back((
                    now.add_nanos(self.latency),
                    SimMsg::Cancel { target: id, request },
                ));
            }
        }
    }
}

impl Venue for SimVenue {
    fn name(&self) -> &str {
        &self.name
    }

    #[inline]
    fn submit(&mut self, order: RiskApproved<Order>, now: Nanos) {
        let o = order.get();
        let i = o.intent;
        let due = now.add_nanos(self.latency);
        match i.action {
            Action::New => match self.tracker.track_new(o, now) {
                Ok(()) => self.inbound.push_back((due, SimMsg::New(i))),
                Err((_, r)) => self.reports.push_back(r),
            },
            Action::Cancel if i.target == ClientOrderId::ALL => {
                let (ids, inbound) = (&mut self.ids, &mut self.inbound);
                self.tracker.cancel_all(
                    || ids.next_id(),
                    |o, request| {
                        inbound.push_back((due, SimMsg::Cancel { target: o.id, request }));
                    },
                );
            }
            Action::Cancel => match self.tracker.track_cancel(o, now) {
                Ok(_) => self
                    .inbound
                    .push_back((due, SimMsg::Cancel { target: i.target, request: i.client_id })),
                Err((_, r)) => self.reports.push_back(r),
            },
            Action::Replace => match self.tracker.track_replace(o, now) {
                Ok(_) => {
                    self.inbound.push_back((due, SimMsg::Replace { target: i.target, new: i }))
                }
                Err((_, r)) => self.reports.push_back(r),
            },
        }
        if self.latency == 0 {
            self.advance(now);
        }
    }

    #[inline]
    fn on_tick(&mut self, tick: &Tick) {
        let now = tick.recv_ns();
        self.advance(now);
        let t = self.stamp(now);
        let back = t.add_nanos(self.latency);
        let out = &mut self.outbound;
        let mut emit = |ev: VenueEvent| out.push_back((back, ev));
        match tick.kind() {
            TickKind::Quote => {
                if let (Some(bid), Some(ask)) = (tick.bid(), tick.ask()) {
                    self.exchange.on_quote(tick.instrument(), bid, ask, t, &mut emit);
                }
            }
            TickKind::Trade => {
                if let Some((trade, aggressor)) = tick.last_trade() {
                    self.exchange.on_trade(tick.instrument(), trade, aggressor, t, &mut emit);
                }
            }
        }
    }

    #[inline]
    fn poll(&mut self, now: Nanos, out: &mut ExecBatch) {
        self.advance(now);
        self.release(now);
        while !out.is_full() {
            let Some(r) = self.reports.pop_front() else { break };
            if let Err(r) = out.push(r) {
                self.reports.push_front(r);
                break;
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.inbound.len() + self.outbound.len() + self.reports.len()
    }
}
