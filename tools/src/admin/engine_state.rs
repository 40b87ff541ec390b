//! The [`StateSource`] `tickline run` serves: what each part of the pipeline publishes
//! without a lock, read on the sidecar thread.
//!
//! | part | published by | as |
//! |---|---|---|
//! | positions, PnL, open-order count, gross exposure | risk stage (strategy thread) | position seqlocks, gauges |
//! | open orders | risk stage | [`OrderBoard`]: a seqlock cell per slot of its order table, written on approval, report and cancel |
//! | recent fills | strategy thread | [`FillLog`]: a seqlock ring of the last 1,024 fills |
//! | feed state | feed handlers and the runtime | [`FeedHealth`] (connection state, book-sync gauges, counters), the feed stage's last-emit time and finished flag |
//! | gateway logon | venue adapter | [`LogonState`] |
//! | journal | recorder thread | [`JournalProbe`] and the writer's [`CommitWatch`] |
//!
//! Risk limits are the configured ones. Each part left out of the builder stays "not
//! reported".
//!
//! [`OrderBoard`]: tickline_engine::risk::OrderBoard
//! [`FillLog`]: tickline_engine::telemetry::FillLog
//! [`FeedHealth`]: tickline_feeds::feed_health::FeedHealth
//! [`LogonState`]: tickline_gateway::logon::LogonState
//! [`JournalProbe`]: crate::journal_probe::JournalProbe

use std::sync::Arc;

use rust_decimal::Decimal;
use tickline_engine::risk::{RiskConfig, RiskTelemetry};
use tickline_engine::telemetry::Telemetry;
use tickline_engine::types::{
    Clock, ExecKind, InstrumentId, InstrumentRegistry, Nanos, Px, Qty, Scale, Side, StrategyId,
};
use tickline_journal::CommitWatch;

use super::source::{
    FeedState, Fill, GatewayState, JournalState, OpenOrder, PnlTotals, Position, RiskLimitUse,
    StateSource,
};
use crate::journal_probe::JournalProbe;
use crate::wiring::Probes;

/// What the journal publishes.
struct JournalLink {
    probe: Arc<JournalProbe>,
    watch: CommitWatch,
}

/// Positions, PnL, orders, fills, feeds, gateway and journal, read from what each publishes.
pub struct EngineState {
    risk: Arc<RiskTelemetry>,
    limits: RiskConfig,
    money_scale: u32,
    registry: Option<Arc<InstrumentRegistry>>,
    strategies: Vec<String>,
    telemetry: Option<Arc<Telemetry>>,
    probes: Option<Probes>,
    journal: Option<JournalLink>,
}

impl std::fmt::Debug for EngineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineState")
            .field("strategies", &self.strategies)
            .field("probes", &self.probes)
            .field("journal", &self.journal.is_some())
            .finish_non_exhaustive()
    }
}

impl EngineState {
    /// Reads `risk`; `limits` as configured; `money_scale` the decimal places of money figures
    /// (`tickline_engine::position::money_scale`).
    pub fn new(risk: Arc<RiskTelemetry>, limits: RiskConfig, money_scale: u32) -> EngineState {
        EngineState {
            risk,
            limits,
            money_scale,
            registry: None,
            strategies: Vec::new(),
            telemetry: None,
            probes: None,
            journal: None,
        }
    }

    /// Lists open orders and fills: `registry` names instruments and scales their figures,
    /// `strategies` are the strategy names in config order, `telemetry` the pipeline's (its
    /// fill log, and the feed stages' last-emit times).
    pub fn with_pipeline(
        mut self,
        registry: Arc<InstrumentRegistry>,
        strategies: Vec<String>,
        telemetry: Arc<Telemetry>,
    ) -> EngineState {
        self.registry = Some(registry);
        self.strategies = strategies;
        self.telemetry = Some(telemetry);
        self
    }

    /// Reports feed state and the gateway's logon from `probes`.
    pub fn with_probes(mut self, probes: Probes) -> EngineState {
        self.probes = Some(probes);
        self
    }

    /// Reports the journal: `probe` and `watch` from the run's journal.
    pub fn with_journal(mut self, probe: Arc<JournalProbe>, watch: CommitWatch) -> EngineState {
        self.journal = Some(JournalLink { probe, watch });
        self
    }

    fn money(&self, raw: i64) -> Decimal {
        Decimal::try_from_i128_with_scale(i128::from(raw), self.money_scale.min(28))
            .unwrap_or(Decimal::MAX)
            .normalize()
    }

    fn strategy_name(&self, id: StrategyId) -> String {
        match self.strategies.get(usize::from(id.0)) {
            Some(n) => n.clone(),
            None if id.0 == u16::MAX => "engine".into(),
            None => format!("strategy#{}", id.0),
        }
    }
}

/// An instrument's symbol and the decimal places of its prices and quantities.
fn listing(registry: &InstrumentRegistry, id: InstrumentId) -> Option<(&str, Scale, Scale)> {
    registry.get(id).map(|i| (i.symbol.as_str(), i.price_scale, i.qty_scale))
}

fn px(p: Px, scale: Scale) -> Decimal {
    p.to_decimal(scale).normalize()
}

fn qty(q: Qty, scale: Scale) -> Decimal {
    q.to_decimal(scale).normalize()
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

impl StateSource for EngineState {
    fn feeds(&self) -> Option<Vec<FeedState>> {
        let probes = self.probes.as_ref()?;
        let now = Clock::now();
        Some(
            probes
                .feeds
                .iter()
                .map(|(name, health)| {
                    let stage =
                        self.telemetry.as_ref().and_then(|t| t.stage(&format!("feed:{name}")));
                    let live = stage.is_none_or(|s| !s.is_finished());
                    let last = stage.map_or(0, |s| s.last_emit_ns.get());
                    let r = health.report(live);
                    FeedState {
                        name: name.clone(),
                        connected: r.connected,
                        books_synced: r.books_synced,
                        last_tick_age_ns: (last > 0).then(|| now.since(Nanos(last as i64))),
                        frames: r.frames,
                        gaps: r.gaps,
                        resyncs: r.resyncs,
                        reconnects: r.reconnects,
                    }
                })
                .collect(),
        )
    }

    fn gateway(&self) -> Option<GatewayState> {
        let g = &self.probes.as_ref()?.gateway;
        Some(GatewayState { venue: g.venue().to_owned(), logged_on: g.is_logged_on() })
    }

    fn journal(&self) -> Option<JournalState> {
        let j = self.journal.as_ref()?;
        let (written, committed) = (j.watch.written(), j.watch.committed());
        let appended = match (written, committed) {
            (Some(w), Some(c)) => w.saturating_sub(c),
            (Some(w), None) => w + 1,
            _ => 0,
        };
        // Records the strategy thread produced that the recorder has not appended yet.
        let queued = self.telemetry.as_ref().map_or(0, |t| {
            t.rings()
                .iter()
                .map(|r| r.snapshot())
                .find(|r| r.name == "records")
                .map_or(0, |r| r.depth)
        });
        let lag_seconds =
            j.probe.oldest_uncommitted().map_or(0.0, |t| Clock::now().since(t) as f64 / 1e9);
        Some(JournalState {
            writable: j.probe.writable(),
            bytes: j.probe.bytes(),
            lag_records: appended + queued,
            lag_bytes: j.probe.uncommitted_bytes(),
            lag_seconds,
            committed_seq: committed,
        })
    }

    fn positions(&self) -> Option<Vec<Position>> {
        Some(
            self.risk
                .positions
                .snapshot()
                .into_iter()
                .map(|p| Position {
                    instrument: p.symbol,
                    venue: p.venue,
                    qty: p.position,
                    avg_price: p.avg_price,
                    mark: Some(p.mark),
                    realized_pnl: p.realized,
                    unrealized_pnl: Some(p.unrealized),
                    fees: p.fees,
                    net_pnl: p.net,
                    fills: p.fills,
                })
                .collect(),
        )
    }

    fn pnl(&self) -> Option<PnlTotals> {
        let t = self.risk.positions.totals();
        Some(PnlTotals { net: t.net_pnl, peak: t.peak_pnl })
    }

    fn open_orders(&self) -> Option<Vec<OpenOrder>> {
        let registry = self.registry.as_ref()?;
        Some(
            self.risk
                .orders
                .snapshot()
                .into_iter()
                .filter_map(|o| {
                    let (symbol, ps, qs) = listing(registry, o.instrument)?;
                    Some(OpenOrder {
                        client_id: o.client_id.0,
                        strategy: self.strategy_name(o.strategy),
                        instrument: symbol.to_owned(),
                        side: side_name(o.side).into(),
                        price: px(o.price, ps),
                        qty: qty(o.qty, qs),
                        filled: qty(o.filled, qs),
                        state: o.state.as_str().into(),
                        sent_ns: o.sent_ns.0,
                    })
                })
                .collect(),
        )
    }

    fn open_order_count(&self) -> Option<u64> {
        Some(self.risk.open_orders.get())
    }

    fn fills(&self, limit: usize) -> Option<Vec<Fill>> {
        let (registry, telemetry) = (self.registry.as_ref()?, self.telemetry.as_ref()?);
        Some(
            telemetry
                .fill_log
                .latest(limit)
                .into_iter()
                .filter_map(|r| {
                    let (symbol, ps, qs) = listing(registry, r.instrument)?;
                    // Fees are raw at the notional's scale: price places + quantity places.
                    let fee_scale = (u32::from(ps.places()) + u32::from(qs.places())).min(28);
                    Some(Fill {
                        ts_ns: r.ts.0,
                        client_id: r.client_id.0,
                        strategy: self.strategy_name(r.strategy),
                        instrument: symbol.to_owned(),
                        side: side_name(r.side).into(),
                        kind: if r.kind == ExecKind::Fill { "fill" } else { "partial_fill" }.into(),
                        price: px(r.last_px, ps),
                        qty: qty(r.last_qty, qs),
                        fee: Decimal::try_from_i128_with_scale(i128::from(r.fee), fee_scale)
                            .unwrap_or(Decimal::MAX)
                            .normalize(),
                    })
                })
                .collect(),
        )
    }

    fn risk_limits(&self) -> Option<Vec<RiskLimitUse>> {
        let l = &self.limits;
        let totals = self.risk.positions.totals();
        let mut out = Vec::new();
        let mut push = |name: &str, limit: Option<Decimal>, used: Option<Decimal>| {
            if let Some(limit) = limit {
                out.push(RiskLimitUse { name: name.into(), instrument: None, limit, used });
            }
        };
        push(
            "max_open_orders",
            l.max_open_orders.map(Decimal::from),
            Some(Decimal::from(self.risk.open_orders.get())),
        );
        push(
            "max_gross_notional",
            l.max_gross_notional,
            Some(self.money(self.risk.gross_exposure())),
        );
        push("max_drawdown", l.max_drawdown, Some(totals.peak_pnl - totals.net_pnl));
        // The engine does not publish its start-of-day reference, so the use is not shown.
        push("daily_loss_limit", l.daily_loss_limit, None);
        Some(out)
    }
}
