//! A FIX 4.4 initiator behind the `Venue` trait.
//!
//! Driven entirely from [`Venue::submit`] and [`Venue::poll`] on the gateway thread: the
//! socket is non-blocking (`mio`), every poll does at most one `epoll_wait(0)`, a read until
//! `WouldBlock`, and a write of what is queued. Nothing blocks, so the strategy and risk
//! stages never wait on the venue (on a fused thread they share its loop; on a split layout
//! orders and reports cross rings).
//!
//! - [`codec`]: allocation-free encoding and parsing, `BodyLength` and `CheckSum` checked on
//!   every message.
//! - [`session`]: the session layer (Logon with optional `ResetSeqNumFlag`, Heartbeat,
//!   TestRequest, ResendRequest, Reject, SequenceReset/GapFill, Logout), without I/O.
//! - [`transport`]: the TCP connection, reconnecting with exponential backoff.
//! - [`seq_store`]: sequence numbers persisted across restarts, written ahead of each send.
//! - [`throttle`]: the last-line message limit.
//!
//! Orders: NewOrderSingle (D), OrderCancelRequest (F), OrderCancelReplaceRequest (G) out;
//! ExecutionReport (8) and OrderCancelReject (9) in, through the [`OrderTracker`].
//!
//! While the session is not logged on, new orders and replaces are rejected at once (never
//! queued: a stale order sent on reconnect is worse than none) and counted. With
//! `cancel_on_disconnect`, every order open when the session dropped is cancelled as soon as
//! the next Logon completes, and a cancel-all while down is carried out then too; the optional
//! [`CancelOnDisconnect`] hook tells risk the session state. Orders over the throttle are
//! rejected; cancels are never held back (they reduce risk) but count against the window.

pub mod codec;
pub mod seq_store;
pub mod session;
pub mod throttle;
pub mod transport;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tickline_engine::risk::{CancelOnDisconnect, RiskApproved, SeedOrder};
use tickline_engine::stage::{ExecBatch, Venue};
use tickline_engine::telemetry::Counter;
use tickline_engine::types::{
    Action, ClientOrderId, Clock, ExecKind, ExecReport, InstrumentRegistry, Nanos, Order,
    OrderIntent, Px, Qty, Scale,
};

use crate::error::{Error, Result};
use crate::logon::LogonState;
use crate::order::{Applied, GatewayIds, OrderTracker, TrackedOrder, TrackerStats, VenueEvent};
use codec::decode::{decode_cancel_reject, decode_execution_report, DecodeError, Message, Tag};
use codec::encode::OrderFields;
use codec::tags::reject;
use seq_store::{SeqStore, SeqWatch};
use session::{
    DisconnectReason, Session, SessionConfig, SessionEvent, SessionState, SessionStats, Verdict,
};
use throttle::Throttle;
use transport::{LinkEvent, Transport};

/// FIX initiator settings. [`FixConfig::new`] fills every default, documented per field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixConfig {
    /// The acceptor's address.
    pub addr: SocketAddr,
    /// Our `SenderCompID` (49).
    pub sender_comp_id: String,
    /// The venue's `CompID`, our `TargetCompID` (56).
    pub target_comp_id: String,
    /// `HeartBtInt` in seconds. Default 30.
    pub heartbeat_secs: u32,
    /// `ResetSeqNumFlag=Y` on every Logon. Default false (numbers continue from the file).
    pub reset_on_logon: bool,
    /// Where sequence numbers persist.
    pub seq_file: PathBuf,
    /// First reconnect delay, doubled per failure. Default 100 ms.
    pub reconnect_min_ns: i64,
    /// Longest reconnect delay. Default 5 s.
    pub reconnect_max_ns: i64,
    /// Messages allowed per `throttle_window_ns` (0 = no throttle). Default 100.
    pub throttle_msgs: u32,
    /// The throttle's window. Default 1 s.
    pub throttle_window_ns: i64,
    /// Cancel every open order once the session is back after a drop. Default true.
    pub cancel_on_disconnect: bool,
    /// `Account` (1) on every order, if the venue wants one. Default none.
    pub account: Option<String>,
    /// Orders tracked (live plus recently finished). Default 4096.
    pub max_orders: usize,
}

impl FixConfig {
    /// Settings with every default.
    pub fn new(addr: SocketAddr, sender: &str, target: &str, seq_file: PathBuf) -> FixConfig {
        FixConfig {
            addr,
            sender_comp_id: sender.to_owned(),
            target_comp_id: target.to_owned(),
            heartbeat_secs: 30,
            reset_on_logon: false,
            seq_file,
            reconnect_min_ns: 100_000_000,
            reconnect_max_ns: 5_000_000_000,
            throttle_msgs: 100,
            throttle_window_ns: 1_000_000_000,
            cancel_on_disconnect: true,
            account: None,
            max_orders: 4096,
        }
    }

    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |key, problem: &str| Err(Error::Config { key, problem: problem.to_owned() });
        let comp_ok =
            |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic());
        if !comp_ok(&self.sender_comp_id) {
            return bad("gateway.sender_comp_id", "must be 1-64 printable ASCII characters");
        }
        if !comp_ok(&self.target_comp_id) {
            return bad("gateway.target_comp_id", "must be 1-64 printable ASCII characters");
        }
        if self.heartbeat_secs == 0 || self.heartbeat_secs > 3600 {
            return bad("gateway.heartbeat", "must be between 1 s and 1 h");
        }
        if self.reconnect_min_ns <= 0 || self.reconnect_max_ns < self.reconnect_min_ns {
            return bad("gateway.reconnect_max", "must be positive and at least reconnect_min");
        }
        if self.throttle_msgs > 0 && self.throttle_window_ns <= 0 {
            return bad("gateway.throttle_window", "must be positive");
        }
        if self.throttle_msgs > 1_000_000 {
            return bad("gateway.throttle_msgs", "at most 1000000 per window");
        }
        if let Some(a) = &self.account {
            if !comp_ok(a) {
                return bad("gateway.account", "must be 1-64 printable ASCII characters");
            }
        }
        if self.max_orders == 0 || self.max_orders > 1 << 24 {
            return bad("gateway.max_orders", "must be between 1 and 16777216");
        }
        if self.seq_file.as_os_str().is_empty() {
            return bad("gateway.seq_file", "must name a file");
        }
        Ok(())
    }
}

/// Adapter counters, readable from any thread.
#[derive(Debug, Default)]
pub struct FixStats {
    /// NewOrderSingles sent.
    pub orders_sent: Counter,
    /// OrderCancelRequests sent.
    pub cancels_sent: Counter,
    /// OrderCancelReplaceRequests sent.
    pub replaces_sent: Counter,
    /// Orders and replaces refused because the session was not logged on.
    pub rejected_offline: Counter,
    /// Orders and replaces refused by the throttle.
    pub throttled: Counter,
    /// Cancels sent by cancel-on-disconnect after a logon.
    pub cod_cancels: Counter,
    /// TCP connections established.
    pub connects: Counter,
    /// Connections lost (or refused).
    pub disconnects: Counter,
    /// ExecutionReports that report nothing to forward (pending states, restatements).
    pub exec_ignored: Counter,
    /// Application messages whose fields could not be read (rejected at session level).
    pub decode_errors: Counter,
    /// Writes of the sequence file that failed.
    pub seq_file_errors: Counter,
}

#[derive(Clone, Debug)]
struct Listing {
    symbol: Box<[u8]>,
    price: Scale,
    qty: Scale,
}

/// The FIX venue adapter.
#[derive(Debug)]
pub struct FixVenue {
    name: String,
    cfg: FixConfig,
    listings: Vec<Listing>,
    session: Session,
    transport: Transport,
    store: SeqStore,
    tracker: OrderTracker,
    throttle: Throttle,
    reports: VecDeque<ExecReport>,
    ids: GatewayIds,
    account: Option<Box<[u8]>>,
    cod_pending: bool,
    was_active: bool,
    hook: Option<Arc<CancelOnDisconnect>>,
    stats: Arc<FixStats>,
    logon: Arc<LogonState>,
}

impl FixVenue {
    /// A FIX venue for the instruments of `registry`. Reads the sequence file; connects on
    /// the first poll.
    pub fn new(name: &str, registry: &InstrumentRegistry, cfg: FixConfig) -> Result<FixVenue> {
        cfg.validate()?;
        let (store, (next_out, next_in)) = SeqStore::open(&cfg.seq_file)?;
        let session = Session::new(
            SessionConfig {
                sender_comp_id: cfg.sender_comp_id.clone(),
                target_comp_id: cfg.target_comp_id.clone(),
                heartbeat_secs: cfg.heartbeat_secs,
                reset_on_logon: cfg.reset_on_logon,
            },
            next_out,
            next_in,
        );
        let transport = Transport::new(cfg.addr, cfg.reconnect_min_ns, cfg.reconnect_max_ns)?;
        let listings = registry
            .iter()
            .map(|i| Listing {
                symbol: i.symbol.as_bytes().into(),
                price: i.price_scale,
                qty: i.qty_scale,
            })
            .collect();
        Ok(FixVenue {
            name: name.to_owned(),
            throttle: Throttle::new(cfg.throttle_msgs, cfg.throttle_window_ns),
            tracker: OrderTracker::new(cfg.max_orders),
            account: cfg.account.as_ref().map(|a| a.as_bytes().into()),
            cfg,
            listings,
            session,
            transport,
            store,
            reports: VecDeque::with_capacity(65_536),
            ids: GatewayIds::new(Clock::now()),
            cod_pending: false,
            was_active: false,
            hook: None,
            stats: Arc::new(FixStats::default()),
            logon: Arc::new(LogonState::new(name)),
        })
    }

    /// Tells `hook` (risk's cancel-on-disconnect) when the session drops and comes back.
    /// The session starts down, so risk holds new orders back until the first Logon.
    pub fn with_disconnect_hook(mut self, hook: Arc<CancelOnDisconnect>) -> FixVenue {
        if !self.session.is_active() {
            hook.disconnected();
        }
        self.hook = Some(hook);
        self
    }

    /// Publishes the sequence numbers to `watch` each time they are saved (the journal
    /// checkpoints them as a cross-check of the sequence file).
    pub fn with_seq_watch(mut self, watch: Arc<SeqWatch>) -> FixVenue {
        self.store.set_watch(watch);
        self
    }

    /// Tracks orders an earlier session left open at the venue, so its reports about them
    /// reach risk instead of being refused as unknown. With `cancel_on_disconnect` they are
    /// cancelled as soon as the first Logon completes: the session they were sent on dropped.
    /// Returns how many were taken (a duplicate id or a full table refuses one).
    pub fn restore_open_orders(&mut self, orders: &[SeedOrder]) -> usize {
        let taken = orders.iter().filter(|o| self.tracker.restore(o).is_ok()).count();
        if taken > 0 && self.cfg.cancel_on_disconnect {
            self.cod_pending = true;
        }
        if taken > 0 || orders.len() > taken {
            tracing::info!(
                venue = %self.name,
                restored = taken,
                refused = orders.len() - taken,
                cancel_on_logon = self.cfg.cancel_on_disconnect,
                "FIX orders left open by the previous session tracked"
            );
        }
        taken
    }

    /// Whether the session is logged on, for the admin port: from the Logon until a Logout
    /// or the connection drops.
    pub fn logon_state(&self) -> Arc<LogonState> {
        Arc::clone(&self.logon)
    }

    /// Adapter counters.
    pub fn stats(&self) -> Arc<FixStats> {
        Arc::clone(&self.stats)
    }

    /// Session counters.
    pub fn session_stats(&self) -> Arc<SessionStats> {
        self.session.stats()
    }

    /// Tracker counters.
    pub fn tracker_stats(&self) -> Arc<TrackerStats> {
        self.tracker.stats()
    }

    /// The session's state.
    pub fn session_state(&self) -> SessionState {
        self.session.state()
    }

    /// `(next outbound, next expected inbound)` sequence numbers.
    pub fn seqs(&self) -> (u64, u64) {
        self.session.seqs()
    }

    /// The sequence file.
    pub fn seq_file(&self) -> &std::path::Path {
        self.store.path()
    }

    /// Orders the tracker holds open.
    pub fn open_orders(&self) -> usize {
        self.tracker.open_orders()
    }

    /// Sends a TestRequest (operators, tests); the answer shows in
    /// [`SessionStats::test_requests_answered`].
    pub fn send_test_request(&mut self, now: Nanos) {
        self.session.send_test_request(now);
        self.after_send(now);
    }

    /// Logs out; the connection closes when the venue answers. It reconnects after the
    /// backoff unless dropped.
    pub fn logout(&mut self, now: Nanos) {
        self.logon.set(false);
        self.session.logout(now, b"");
        self.after_send(now);
    }

    fn listing(&self, o: &OrderIntent) -> Option<&Listing> {
        self.listings.get(o.instrument.index())
    }

    /// Encodes and queues one order message; true if it went into the send buffer.
    fn send(
        &mut self,
        now: Nanos,
        action: Action,
        i: &OrderIntent,
        target: Option<&TrackedOrder>,
    ) -> bool {
        let Some(l) = self.listings.get(i.instrument.index()) else { return false };
        let fields = match (action, target) {
            (Action::New, _) => OrderFields {
                cl_ord_id: i.client_id.0,
                orig_cl_ord_id: 0,
                symbol: &l.symbol,
                side: i.side,
                qty: i.qty.raw(),
                qty_scale: l.qty.places(),
                price: i.price.raw(),
                price_scale: l.price.places(),
                ord_type: i.ord_type,
                tif: i.tif,
                account: self.account.as_deref(),
            },
            (_, Some(o)) => OrderFields {
                cl_ord_id: i.client_id.0,
                orig_cl_ord_id: o.id.0,
                symbol: &l.symbol,
                side: o.side,
                qty: if action == Action::Replace { i.qty.raw() } else { o.qty.raw() },
                qty_scale: l.qty.places(),
                price: if action == Action::Replace { i.price.raw() } else { o.price.raw() },
                price_scale: l.price.places(),
                ord_type: o.ord_type,
                tif: o.tif,
                account: self.account.as_deref(),
            },
            (_, None) => return false,
        };
        let target_id = target.map_or(ClientOrderId(0), |o| o.id);
        if self.session.send_order(now, action, target_id, &fields).is_none() {
            return false;
        }
        self.throttle.record(now.0);
        match action {
            Action::New => self.stats.orders_sent.inc(),
            Action::Cancel => self.stats.cancels_sent.inc(),
            Action::Replace => self.stats.replaces_sent.inc(),
        }
        true
    }

    /// Cancels `o` with a gateway-made request id (cancel-all, cancel-on-disconnect,
    /// deferred cancels).
    fn send_gateway_cancel(&mut self, now: Nanos, target: ClientOrderId) -> bool {
        let request = self.ids.next_id();
        let Ok(o) = self.tracker.begin_cancel(target, request) else { return false };
        let intent = OrderIntent {
            decided_ns: now,
            tick_recv_ns: Nanos::ZERO,
            client_id: request,
            target,
            price: o.price,
            qty: o.qty,
            instrument: o.instrument,
            strategy: o.strategy,
            action: Action::Cancel,
            side: o.side,
            ord_type: o.ord_type,
            tif: o.tif,
            reserved: [0; 6],
        };
        if self.send(now, Action::Cancel, &intent, Some(&o)) {
            true
        } else {
            self.apply_refusal(now, Action::Cancel, request, target);
            false
        }
    }

    /// Cancels every open order; orders with a replace pending are cancelled once it is
    /// answered. Returns the cancels sent.
    fn cancel_everything(&mut self, now: Nanos) -> u64 {
        use crate::order::OrdState;
        let mut targets = [ClientOrderId(0); 64];
        let mut sent = 0;
        // In chunks, so nothing allocates while the tracker is walked; a cancelled order is
        // pending and not picked again.
        loop {
            let mut n = 0;
            self.tracker.for_each_open(|o| {
                let cancellable = matches!(
                    o.state,
                    OrdState::PendingNew | OrdState::New | OrdState::PartiallyFilled
                );
                if cancellable && n < targets.len() {
                    targets[n] = o.id;
                    n += 1;
                }
            });
            let mut progressed = false;
            for &target in &targets[..n] {
                if self.send_gateway_cancel(now, target) {
                    sent += 1;
                    progressed = true;
                }
            }
            if n < targets.len() || !progressed {
                break;
            }
        }
        self.tracker.cancel_after_replaces();
        sent
    }

    fn apply_refusal(
        &mut self,
        now: Nanos,
        action: Action,
        id: ClientOrderId,
        target: ClientOrderId,
    ) {
        if let Applied::Report(r) = self.tracker.request_refused(action, id, target, now) {
            self.reports.push_back(r);
        }
    }

    fn refuse_locally(&mut self, now: Nanos, i: &OrderIntent, offline: bool) {
        if offline {
            self.stats.rejected_offline.inc();
        } else {
            self.stats.throttled.inc();
        }
        let kind =
            if i.action == Action::New { ExecKind::Rejected } else { ExecKind::CancelRejected };
        self.reports.push_back(ExecReport::unfilled(i, kind, now));
    }

    /// Saves the sequence numbers (ahead of the bytes that use them), then writes.
    fn after_send(&mut self, now: Nanos) {
        if self.session.take_seq_dirty() {
            let (o, i) = self.session.seqs();
            if self.store.save(o, i).is_err() {
                self.stats.seq_file_errors.inc();
            }
        }
        if let Some(LinkEvent::Down(why)) = self.transport.flush(now, &mut self.session) {
            self.on_down(now, why);
        }
    }

    fn on_down(&mut self, now: Nanos, why: transport::LinkDown) {
        let _ = now;
        self.logon.set(false);
        self.stats.disconnects.inc();
        let was_active = std::mem::take(&mut self.was_active);
        if self.session.state() != SessionState::Disconnected {
            self.session.disconnected();
        }
        if was_active {
            tracing::warn!(venue = %self.name, reason = ?why, "FIX session down");
            if let Some(h) = &self.hook {
                h.disconnected();
            }
            if self.cfg.cancel_on_disconnect && self.tracker.open_orders() > 0 {
                self.cod_pending = true;
            }
        }
    }

    fn on_logged_on(&mut self, now: Nanos) {
        self.was_active = true;
        self.logon.set(true);
        self.transport.reset_backoff();
        tracing::info!(venue = %self.name, seqs = ?self.session.seqs(), "FIX session logged on");
        if let Some(h) = &self.hook {
            h.reconnected();
        }
        if std::mem::take(&mut self.cod_pending) {
            let n = self.cancel_everything(now);
            self.stats.cod_cancels.add(n);
        }
    }

    /// One poll's worth of I/O and session work.
    fn pump(&mut self, now: Nanos) {
        match self.transport.drive(now, &mut self.session) {
            LinkEvent::Up => {
                self.stats.connects.inc();
                self.session.connected(now);
            }
            LinkEvent::Down(why) => self.on_down(now, why),
            LinkEvent::Idle => {}
        }
        let mut logged_on = false;
        if self.transport.is_up() {
            let (tracker, reports, listings, stats) =
                (&mut self.tracker, &mut self.reports, &self.listings, &self.stats);
            self.session.process(now, &mut |ev| match ev {
                SessionEvent::LoggedOn => {
                    logged_on = true;
                    Verdict::Ok
                }
                SessionEvent::App(m) => on_app(m, now, tracker, reports, listings, stats),
                SessionEvent::Refused(app) => {
                    if let Applied::Report(r) =
                        tracker.request_refused(app.action, app.id, app.target, now)
                    {
                        reports.push_back(r);
                    }
                    Verdict::Ok
                }
            });
            self.session.timer(now);
        }
        if logged_on {
            self.on_logged_on(now);
        }
        while let Some(id) = self.tracker.take_deferred_cancel() {
            self.send_gateway_cancel(now, id);
        }
        self.after_send(now);
        // A Logout from either side ends the logon before the connection closes.
        if !self.session.is_active() && self.logon.is_logged_on() {
            self.logon.set(false);
        }
        if let Some(why) = self.session.take_disconnect() {
            tracing::info!(venue = %self.name, reason = ?why, "FIX session closing");
            let ev = self.transport.close(now);
            if let LinkEvent::Down(d) = ev {
                self.on_down(now, d);
            }
            let _ = why;
        }
    }
}

/// An application message from the venue: into a venue event, through the tracker.
fn on_app(
    m: &Message<'_>,
    now: Nanos,
    tracker: &mut OrderTracker,
    reports: &mut VecDeque<ExecReport>,
    listings: &[Listing],
    stats: &FixStats,
) -> Verdict {
    let cl = codec::decode::cl_ord_id(m, Tag::ClOrdId);
    let orig = codec::decode::cl_ord_id(m, Tag::OrigClOrdId);
    let known = cl
        .and_then(|c| tracker.get(ClientOrderId(c)))
        .or_else(|| orig.and_then(|o| tracker.get(ClientOrderId(o))))
        .copied();
    let id = |v: Option<u64>| ClientOrderId(v.unwrap_or(0));
    let ev = if m.msg_type() == b"9" {
        match decode_cancel_reject(m) {
            Ok(f) => VenueEvent {
                request: id(f.cl_ord_id),
                venue_order_id: f.order_id,
                ..VenueEvent::plain(ExecKind::CancelRejected, id(f.orig_cl_ord_id), now)
            },
            Err(e) => return decode_failed(stats, e),
        }
    } else {
        // Scales come from the order; an order we do not know still goes to the tracker,
        // which counts it.
        let Some(o) = known else {
            let _ = tracker.apply(&VenueEvent::plain(ExecKind::New, id(cl.or(orig)), now));
            return Verdict::Ok;
        };
        let Some(l) = listings.get(o.instrument.index()) else { return Verdict::Ok };
        let f = match decode_execution_report(m, l.price, l.qty) {
            Ok(f) => f,
            Err(e) => return decode_failed(stats, e),
        };
        let kind = match f.exec_type {
            b'0' => ExecKind::New,
            b'1' => ExecKind::PartialFill,
            b'2' => ExecKind::Fill,
            b'F' => {
                if f.ord_status == b'2' {
                    ExecKind::Fill
                } else {
                    ExecKind::PartialFill
                }
            }
            b'4' => ExecKind::Cancelled,
            b'5' => ExecKind::Replaced,
            b'8' => ExecKind::Rejected,
            b'C' => ExecKind::Expired,
            _ => {
                // Pending states, restatements, status: nothing to forward.
                stats.exec_ignored.inc();
                return Verdict::Ok;
            }
        };
        let (order, request) = match kind {
            // A cancel's answer names the cancel (11) and the order (41); an unsolicited
            // cancel names only the order.
            ExecKind::Cancelled => match f.orig_cl_ord_id {
                Some(orig) => (ClientOrderId(orig), id(f.cl_ord_id)),
                None => (id(f.cl_ord_id), ClientOrderId(0)),
            },
            ExecKind::Replaced | ExecKind::Rejected => (id(f.cl_ord_id), id(f.cl_ord_id)),
            _ => (id(f.cl_ord_id), ClientOrderId(0)),
        };
        VenueEvent {
            kind,
            id: order,
            request,
            venue_order_id: f.order_id,
            last_px: Px::from_raw(f.last_px),
            last_qty: Qty::from_raw(f.last_qty),
            cum_qty: Qty::from_raw(f.cum_qty),
            leaves_qty: Qty::from_raw(f.leaves_qty),
            fee: f.fee,
            ts: now,
        }
    };
    if let Applied::Report(r) = tracker.apply(&ev) {
        reports.push_back(r);
    }
    Verdict::Ok
}

#[cold]
fn decode_failed(stats: &FixStats, e: DecodeError) -> Verdict {
    stats.decode_errors.inc();
    match e {
        DecodeError::Missing(tag) => Verdict::Reject { reason: reject::REQUIRED_TAG_MISSING, tag },
        DecodeError::Format(tag) => Verdict::Reject { reason: reject::INCORRECT_DATA_FORMAT, tag },
    }
}

impl Venue for FixVenue {
    fn name(&self) -> &str {
        &self.name
    }

    fn submit(&mut self, order: RiskApproved<Order>, now: Nanos) {
        let o = order.get();
        let i = o.intent;
        let active = self.session.is_active();
        match i.action {
            Action::New => {
                if !active || self.listing(&i).is_none() {
                    self.refuse_locally(now, &i, true);
                } else if !self.throttle.allows(now.0) {
                    self.refuse_locally(now, &i, false);
                } else {
                    match self.tracker.track_new(o, now) {
                        Err((_, r)) => self.reports.push_back(r),
                        Ok(()) => {
                            if !self.send(now, Action::New, &i, None) {
                                self.apply_refusal(now, Action::New, i.client_id, ClientOrderId(0));
                            }
                        }
                    }
                }
            }
            Action::Cancel if i.target == ClientOrderId::ALL => {
                if active {
                    self.cancel_everything(now);
                } else {
                    // Carried out as soon as the session is back.
                    self.cod_pending = true;
                }
            }
            Action::Cancel => {
                if !active {
                    self.refuse_locally(now, &i, true);
                } else {
                    match self.tracker.track_cancel(o, now) {
                        Err((_, r)) => self.reports.push_back(r),
                        Ok(t) => {
                            if !self.send(now, Action::Cancel, &i, Some(&t)) {
                                self.apply_refusal(now, Action::Cancel, i.client_id, i.target);
                            }
                        }
                    }
                }
            }
            Action::Replace => {
                if !active {
                    self.refuse_locally(now, &i, true);
                } else if !self.throttle.allows(now.0) {
                    self.refuse_locally(now, &i, false);
                } else {
                    match self.tracker.track_replace(o, now) {
                        Err((_, r)) => self.reports.push_back(r),
                        Ok(t) => {
                            if !self.send(now, Action::Replace, &i, Some(&t)) {
                                self.apply_refusal(now, Action::Replace, i.client_id, i.target);
                            }
                        }
                    }
                }
            }
        }
        self.after_send(now);
    }

    fn poll(&mut self, now: Nanos, out: &mut ExecBatch) {
        self.pump(now);
        while !out.is_full() {
            let Some(r) = self.reports.pop_front() else { break };
            if let Err(r) = out.push(r) {
                self.reports.push_front(r);
                break;
            }
        }
    }

    fn in_flight(&self) -> usize {
        let pending = if self.session.is_active() { self.tracker.pending() } else { 0 };
        pending + self.reports.len()
    }
}

impl Drop for FixVenue {
    fn drop(&mut self) {
        // Best effort: a Logout the venue may see, and the numbers on disk.
        let now = Clock::now();
        if self.session.is_active() {
            self.session.logout(now, b"shutdown");
        }
        self.after_send(now);
        let (o, i) = self.session.seqs();
        let _ = self.store.save(o, i);
        let _ = DisconnectReason::LoggedOut;
    }
}
