//! The run summary printed when `tickline run` ends.

use std::fmt::Write as _;
use std::time::Duration;

use rust_decimal::Decimal;
use tickline_engine::position::PositionSnapshot;
use tickline_engine::risk::{RejectReason, RiskTelemetry};
use tickline_engine::telemetry::TelemetrySnapshot;

/// What a run did, for people (text) and scripts (JSON).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// Wall time from start to the last thread's exit.
    pub elapsed_s: f64,
    /// Ticks the strategy stage received.
    pub ticks: u64,
    /// Ticks per second over the run.
    pub ticks_per_s: f64,
    /// Intents the strategies emitted.
    pub intents: u64,
    /// Orders risk approved and the gateway sent.
    pub orders: u64,
    /// Orders the gateway stage handed to the venue.
    pub orders_sent: u64,
    /// Risk rejects by reason (only reasons that occurred).
    pub rejects: Vec<(String, u64)>,
    /// Fills.
    pub fills: u64,
    /// Execution reports.
    pub exec_reports: u64,
    /// Per ring: dropped (lapped), conflated, and back-pressure (full) counts.
    pub rings: Vec<RingLine>,
    /// Events lost to a stopped thread (zero in a clean run).
    pub lost: u64,
    /// Tick-to-order latency percentiles, nanoseconds.
    pub tick_to_order: tickline_engine::telemetry::Percentiles,
    /// Records the recorder wrote.
    pub recorded: u64,
    /// Positions and PnL of every instrument that traded.
    pub positions: Vec<PositionSnapshot>,
    /// Net PnL (realized + unrealized − fees) over every instrument, quote currency.
    pub net_pnl: Decimal,
    /// Highest net PnL of the run.
    pub peak_pnl: Decimal,
    /// Automatic halts risk tripped (loss, drawdown, repeated executions).
    pub risk_halts: u64,
    /// Orders still open (resting or in flight) at the end.
    pub open_orders: u64,
}

/// One ring's loss counters.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RingLine {
    /// Ring name.
    pub name: String,
    /// Values published.
    pub pushed: u64,
    /// Values lapped consumers missed.
    pub dropped: u64,
    /// Values conflated away.
    pub conflated: u64,
    /// Times the producer found it full.
    pub full: u64,
}

impl Summary {
    /// Builds the summary from final telemetry.
    pub fn new(t: &TelemetrySnapshot, risk: &RiskTelemetry, elapsed: Duration) -> Summary {
        let stage = |name: &str| t.stage(name).cloned();
        let strategy = stage("strategy");
        let gateway = stage("gateway");
        let ticks = strategy.as_ref().map_or(0, |s| s.events);
        let secs = elapsed.as_secs_f64().max(1e-9);
        Summary {
            elapsed_s: elapsed.as_secs_f64(),
            ticks,
            ticks_per_s: ticks as f64 / secs,
            intents: strategy.as_ref().map_or(0, |s| s.emitted),
            orders: risk.approved.get(),
            orders_sent: gateway.as_ref().map_or(0, |s| s.events),
            rejects: RejectReason::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), risk.rejects_of(*r)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            fills: t.fills,
            exec_reports: t.exec_reports,
            rings: t
                .rings
                .iter()
                .map(|r| RingLine {
                    name: r.name.clone(),
                    pushed: r.pushed,
                    dropped: r.dropped,
                    conflated: r.conflated,
                    full: r.full,
                })
                .collect(),
            lost: t.lost,
            tick_to_order: t.tick_to_order,
            recorded: stage("recorder").map_or(0, |s| s.emitted),
            positions: risk
                .positions
                .snapshot()
                .into_iter()
                .filter(|p| p.fills > 0 || !p.position.is_zero())
                .collect(),
            net_pnl: risk.positions.totals().net_pnl,
            peak_pnl: risk.positions.totals().peak_pnl,
            risk_halts: risk.auto_halts.get(),
            open_orders: risk.open_orders.get(),
        }
    }

    /// Human-readable text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "tickline run summary ({:.2} s)", self.elapsed_s);
        let _ = writeln!(s, "  ticks        {:>12}   ({:.0}/s)", self.ticks, self.ticks_per_s);
        let _ = writeln!(s, "  intents      {:>12}", self.intents);
        let _ = writeln!(
            s,
            "  orders       {:>12}   (sent to venue: {})",
            self.orders, self.orders_sent
        );
        let rejects: u64 = self.rejects.iter().map(|(_, n)| n).sum();
        let _ = writeln!(s, "  rejects      {:>12}", rejects);
        for (reason, n) in &self.rejects {
            let _ = writeln!(s, "    {reason:<24} {n}");
        }
        let _ = writeln!(
            s,
            "  fills        {:>12}   (exec reports: {})",
            self.fills, self.exec_reports
        );
        let _ = writeln!(
            s,
            "  pnl          {:>12}   (net: realized + unrealized - fees; peak {}; risk halts {}; open orders {})",
            self.net_pnl, self.peak_pnl, self.risk_halts, self.open_orders
        );
        for p in &self.positions {
            let avg = p.avg_price.map_or_else(|| "-".to_owned(), |a| a.round_dp(8).to_string());
            let _ = writeln!(
                s,
                "    {:<12} position {} @ {}  mark {}  realized {}  unrealized {}  fees {}  net {}  ({} fills)",
                p.symbol,
                p.position,
                avg,
                p.mark,
                p.realized,
                p.unrealized,
                p.fees,
                p.net,
                p.fills
            );
        }
        let _ = writeln!(s, "  recorded     {:>12}", self.recorded);
        let _ = writeln!(s, "  lost         {:>12}", self.lost);
        let _ = writeln!(s, "  rings (pushed / dropped / conflated / full):");
        for r in &self.rings {
            let _ = writeln!(
                s,
                "    {:<20} {} / {} / {} / {}",
                r.name, r.pushed, r.dropped, r.conflated, r.full
            );
        }
        let p = &self.tick_to_order;
        let _ = writeln!(
            s,
            "  tick-to-order ns (n={}): p50 {}  p99 {}  p99.9 {}  max {}",
            p.count, p.p50, p.p99, p.p999, p.max
        );
        s
    }
}
