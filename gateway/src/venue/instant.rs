//! The instant venue: acknowledges every order and fills it in full at its limit price.
//!
//! The embedded default's in-process venue. Responses are queued when an order is submitted
//! and handed out on the next poll, so the reverse path (exec ring, risk, strategy) runs
//! exactly as it would for a real venue.

use std::collections::VecDeque;

use tickline_engine::risk::RiskApproved;
use tickline_engine::stage::{ExecBatch, Venue};
use tickline_engine::types::{Action, ClientOrderId, ExecKind, ExecReport, Nanos, Order, Px, Qty};

/// The instant-fill venue.
#[derive(Debug)]
pub struct InstantVenue {
    name: String,
    queue: VecDeque<ExecReport>,
    next_venue_id: u64,
    orders: u64,
}

impl InstantVenue {
    /// A venue whose response queue starts with room for `capacity` reports (it grows past
    /// that only if the reverse path stalls for that long).
    pub fn new(name: &str, capacity: usize) -> InstantVenue {
        let mut queue = VecDeque::with_capacity(capacity);
        // Written once now: reports walk the whole ring buffer as they come and go, and each
        // page they reached for the first time was a page fault on the hot thread (one per
        // 4 KiB page, so one per 56 or 57 reports of 72 bytes, for the first 65,536), which
        // stalls behind any memory-map change the journal's segment thread is making.
        queue.resize(queue.capacity(), ExecReport::BLANK);
        queue.clear();
        InstantVenue { name: name.to_owned(), queue, next_venue_id: 1, orders: 0 }
    }

    /// Orders received.
    pub fn orders(&self) -> u64 {
        self.orders
    }
}

impl Venue for InstantVenue {
    fn name(&self) -> &str {
        &self.name
    }

    #[inline]
    fn submit(&mut self, order: RiskApproved<Order>, now: Nanos) {
        self.orders += 1;
        let i = order.get().intent;
        let venue_order_id = self.next_venue_id;
        self.next_venue_id += 1;
        let report = |kind, last_qty: Qty, cum_qty: Qty, leaves_qty: Qty| ExecReport {
            ts: now,
            client_id: i.client_id,
            venue_order_id,
            last_px: if last_qty.is_zero() { Px::ZERO } else { i.price },
            last_qty,
            cum_qty,
            leaves_qty,
            fee: 0,
            instrument: i.instrument,
            strategy: i.strategy,
            kind,
            side: i.side,
        };
        match i.action {
            Action::New => {
                self.queue.push_back(report(ExecKind::New, Qty::ZERO, Qty::ZERO, i.qty));
                self.queue.push_back(report(ExecKind::Fill, i.qty, i.qty, Qty::ZERO));
            }
            // Every order fills at once, so a cancel-all finds nothing open.
            Action::Cancel if i.target == ClientOrderId::ALL => {}
            Action::Cancel => {
                self.queue.push_back(report(ExecKind::Cancelled, Qty::ZERO, Qty::ZERO, Qty::ZERO));
            }
            Action::Replace => {
                self.queue.push_back(report(ExecKind::Replaced, Qty::ZERO, Qty::ZERO, i.qty));
            }
        }
    }

    #[inline]
    fn poll(&mut self, _now: Nanos, out: &mut ExecBatch) {
        while !out.is_full() {
            let Some(r) = self.queue.pop_front() else { break };
            if let Err(r) = out.push(r) {
                self.queue.push_front(r);
                break;
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.queue.len()
    }
}
