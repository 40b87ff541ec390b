//! The [`StateSource`] `tickline run` serves: what the engine already publishes without a lock
//! (the risk thread's position seqlocks, its open-order gauge and gross exposure), with the
//! risk limits as configured. Feed connection state, the gateway session, order and fill lists
//! and the journal's lag are not published yet and stay "not reported".

use std::sync::Arc;

use rust_decimal::Decimal;
use tickline_engine::risk::{RiskConfig, RiskTelemetry};

use super::source::{PnlTotals, Position, RiskLimitUse, StateSource};

/// Positions, PnL, open orders and global limits, read from the risk stage's telemetry.
#[derive(Debug)]
pub struct EngineState {
    risk: Arc<RiskTelemetry>,
    limits: RiskConfig,
    money_scale: u32,
}

impl EngineState {
    /// Reads `risk`; `limits` as configured; `money_scale` the decimal places of money figures
    /// (`tickline_engine::position::money_scale`).
    pub fn new(risk: Arc<RiskTelemetry>, limits: RiskConfig, money_scale: u32) -> EngineState {
        EngineState { risk, limits, money_scale }
    }

    fn money(&self, raw: i64) -> Decimal {
        Decimal::try_from_i128_with_scale(i128::from(raw), self.money_scale.min(28))
            .unwrap_or(Decimal::MAX)
            .normalize()
    }
}

impl StateSource for EngineState {
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

    fn open_order_count(&self) -> Option<u64> {
        Some(self.risk.open_orders.get())
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
