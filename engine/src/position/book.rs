//! Every instrument's position, and the money totals the loss limits watch.

use std::sync::Arc;

use super::{Position, PositionError, PositionTelemetry};
use crate::types::{ExecReport, InstrumentId, InstrumentRegistry, Px};

/// The money scale of a registry: the largest notional scale (`price_scale + qty_scale`) of
/// any instrument, so every instrument's money converts to it by an exact multiplication.
pub fn money_scale(registry: &InstrumentRegistry) -> u32 {
    registry
        .iter()
        .map(|i| u32::from(i.price_scale.places()) + u32::from(i.qty_scale.places()))
        .max()
        .unwrap_or(0)
}

/// `raw × factor`, saturating. Both within `i64` (a position's PnL and a power of ten below
/// 10^19, the case on every tick), the product fits an `i128` and needs no overflow check;
/// the overflow-checked multiply is kept for the rest.
#[inline(always)]
fn money(raw: i128, factor: i128) -> i128 {
    match (i64::try_from(raw), i64::try_from(factor)) {
        (Ok(a), Ok(b)) => i128::from(a) * i128::from(b),
        _ => raw.saturating_mul(factor),
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    position: Position,
    /// `10^(money_scale − notional_scale)`.
    factor: i128,
    /// This instrument's net PnL at the money scale, as last added into the total.
    net_money: i128,
}

/// Positions of every instrument, owned by the risk stage's thread.
#[derive(Debug)]
pub struct PositionBook {
    slots: Vec<Slot>,
    money_scale: u32,
    total: i128,
    telemetry: Arc<PositionTelemetry>,
}

impl PositionBook {
    /// Flat positions for every instrument of `registry`.
    pub fn new(registry: &InstrumentRegistry) -> PositionBook {
        let money_scale = money_scale(registry);
        let slots = registry
            .iter()
            .map(|i| {
                let notional = u32::from(i.price_scale.places()) + u32::from(i.qty_scale.places());
                Slot {
                    position: Position::new(),
                    factor: 10i128.pow(money_scale - notional),
                    net_money: 0,
                }
            })
            .collect();
        PositionBook {
            slots,
            money_scale,
            total: 0,
            telemetry: Arc::new(PositionTelemetry::new(registry, money_scale)),
        }
    }

    /// The published figures, for the sidecar and the summary.
    pub fn telemetry(&self) -> &Arc<PositionTelemetry> {
        &self.telemetry
    }

    /// Decimal places of money totals.
    pub fn money_scale(&self) -> u32 {
        self.money_scale
    }

    /// An instrument's position.
    #[inline]
    pub fn get(&self, id: InstrumentId) -> Option<&Position> {
        self.slots.get(id.index()).map(|s| &s.position)
    }

    /// Net PnL (realized + unrealized − fees) over every instrument, raw at the money scale.
    /// Saturates rather than wraps, so a runaway loss still reads as a loss.
    #[inline]
    pub fn total_pnl(&self) -> i128 {
        self.total
    }

    /// `raw` at `id`'s notional scale, converted to the money scale (saturating).
    #[inline]
    pub fn to_money(&self, id: InstrumentId, raw: i128) -> i128 {
        self.slots.get(id.index()).map_or(i128::MAX, |s| money(raw, s.factor))
    }

    /// Applies a fill report. Reports that are not fills are ignored.
    #[inline]
    pub fn on_exec(&mut self, report: &ExecReport) -> Result<(), PositionError> {
        if !report.kind.is_fill() {
            return Ok(());
        }
        let i = report.instrument.index();
        let Some(slot) = self.slots.get_mut(i) else { return Err(PositionError::Overflow) };
        slot.position.apply_fill(report.side, report.last_qty, report.last_px, report.fee)?;
        self.refresh(i, true);
        Ok(())
    }

    /// Replaces an instrument's position (an earlier session's, restored at start-up) and
    /// publishes it. Cold path.
    pub(crate) fn restore(&mut self, id: InstrumentId, position: Position) {
        let i = id.index();
        let Some(slot) = self.slots.get_mut(i) else { return };
        slot.position = position;
        self.refresh(i, true);
    }

    /// Marks an instrument at `px` (its reference price).
    #[inline]
    pub fn mark(&mut self, id: InstrumentId, px: Px) {
        let i = id.index();
        let Some(slot) = self.slots.get_mut(i) else { return };
        if slot.position.mark() == px {
            return;
        }
        slot.position.set_mark(px);
        // Only a non-flat position's PnL moves with the mark.
        let moved = slot.position.qty().raw() != 0;
        if moved {
            self.refresh(i, false);
        } else {
            self.telemetry.publish_mark(i, px);
        }
    }

    #[inline]
    fn refresh(&mut self, i: usize, filled: bool) {
        let Some(slot) = self.slots.get_mut(i) else { return };
        let net = slot.position.net().map_or_else(
            || if slot.position.realized() < 0 { i128::MIN } else { i128::MAX },
            |n| money(n, slot.factor),
        );
        self.total = self.total.saturating_sub(slot.net_money).saturating_add(net);
        slot.net_money = net;
        if filled {
            self.telemetry.publish(i, &slot.position);
        } else {
            self.telemetry.publish_mark(i, slot.position.mark());
        }
        self.telemetry.publish_total(self.total);
    }
}

#[cfg(test)]
mod tests {
    use super::money;
    use proptest::prelude::*;

    #[test]
    fn money_saturates_where_the_product_does() {
        assert_eq!(money(3, 10), 30);
        assert_eq!(money(-3, 1_000), -3_000);
        assert_eq!(money(i128::from(i64::MIN), i128::from(i64::MIN)), i128::from(i64::MIN).pow(2));
        // Past i64 on either side: the checked multiply.
        assert_eq!(money(i128::MAX / 2, 10), i128::MAX);
        assert_eq!(money(i128::MIN / 2, 10), i128::MIN);
        assert_eq!(money(-(1i128 << 70), 1 << 60), i128::MIN);
        assert_eq!(money(1 << 70, 10), 10 << 70);
    }

    proptest! {
        #[test]
        fn money_agrees_with_saturating_mul(
            raw in prop_oneof![any::<i64>().prop_map(i128::from), any::<i128>()],
            exp in 0u32..=38,
        ) {
            let factor = 10i128.pow(exp);
            prop_assert_eq!(money(raw, factor), raw.saturating_mul(factor));
        }
    }
}
