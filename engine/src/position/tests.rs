//! Positions against a `rust_decimal` reference: every figure after every fill.

use std::sync::Arc;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{Position, PositionBook};
use crate::types::{
    ClientOrderId, ExecKind, ExecReport, InstrumentId, InstrumentRegistry, InstrumentSpec, Nanos,
    Px, Qty, Scale, Side, StrategyId,
};

/// The reference: average cost in decimals, in the instrument's own units.
#[derive(Debug, Default)]
struct Reference {
    pos: Decimal,
    basis: Decimal,
    realized: Decimal,
    fees: Decimal,
    cash: Decimal,
}

impl Reference {
    fn fill(&mut self, buy: bool, q: Decimal, x: Decimal, fee: Decimal, unit: Decimal) {
        let s = if buy { Decimal::ONE } else { Decimal::NEGATIVE_ONE };
        self.fees += fee;
        self.cash -= s * q * x;
        if self.pos.is_zero() || self.pos.is_sign_negative() != buy {
            self.pos += s * q;
            self.basis += q * x;
            return;
        }
        let open = self.pos.abs();
        let c = q.min(open);
        let removed = if c == open {
            self.basis
        } else {
            // floor(basis × c / open) at the notional unit, by exact integer division.
            let scaled = self.basis / unit * c;
            (scaled - scaled % open) / open * unit
        };
        let proceeds = c * x - removed;
        self.realized += if self.pos.is_sign_positive() { proceeds } else { -proceeds };
        if q > c {
            self.pos = s * (q - c);
            self.basis = (q - c) * x;
        } else {
            self.pos += s * c;
            self.basis -= removed;
        }
    }

    fn unrealized(&self, mark: Decimal) -> Decimal {
        if self.pos.is_zero() || mark.is_zero() {
            return Decimal::ZERO;
        }
        let sign = if self.pos.is_sign_positive() { Decimal::ONE } else { Decimal::NEGATIVE_ONE };
        self.pos * mark - sign * self.basis
    }
}

fn dec(raw: i128, scale: u32) -> Decimal {
    Decimal::from_i128_with_scale(raw, scale)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_figure_matches_the_decimal_reference(
        ps in 0u8..=8,
        qs in 0u8..=8,
        fills in proptest::collection::vec(
            (any::<bool>(), 1i64..1_000_000, 1i64..1_000_000, -1_000i64..10_000, 0i64..1_000_000),
            1..60,
        ),
    ) {
        let (p_scale, q_scale) = (Scale::new(ps).unwrap(), Scale::new(qs).unwrap());
        let notional = u32::from(ps) + u32::from(qs);
        let unit = dec(1, notional);
        let mut ours = Position::new();
        let mut reference = Reference::default();
        for (buy, q, x, fee, mark) in fills {
            let side = if buy { Side::Buy } else { Side::Sell };
            ours.apply_fill(side, Qty::from_raw(q), Px::from_raw(x), fee).unwrap();
            let (qd, xd) = (dec(q.into(), qs.into()), dec(x.into(), ps.into()));
            reference.fill(buy, qd, xd, dec(fee.into(), notional), unit);

            prop_assert_eq!(ours.qty().to_decimal(q_scale), reference.pos);
            prop_assert_eq!(dec(ours.cost_basis(), notional), reference.basis);
            prop_assert_eq!(dec(ours.realized(), notional), reference.realized);
            prop_assert_eq!(dec(ours.fees(), notional), reference.fees);
            // No unit made or lost: cash flows = realized − sign × basis, always.
            let sign = if reference.pos.is_zero() {
                Decimal::ZERO
            } else if reference.pos.is_sign_positive() {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            prop_assert_eq!(reference.cash, reference.realized - sign * reference.basis);
            if reference.pos.is_zero() {
                prop_assert_eq!(reference.realized, reference.cash);
                prop_assert_eq!(ours.avg_price(), None);
            } else {
                let avg = ours.avg_price_decimal(p_scale, q_scale).unwrap();
                prop_assert_eq!(avg, (reference.basis / reference.pos.abs()).normalize());
                let floor = ours.avg_price().unwrap().to_decimal(p_scale);
                prop_assert!(floor <= avg && avg - floor < dec(1, ps.into()));
            }
            ours.set_mark(Px::from_raw(mark));
            let md = dec(mark.into(), ps.into());
            prop_assert_eq!(dec(ours.unrealized().unwrap(), notional), reference.unrealized(md));
            prop_assert_eq!(
                dec(ours.net().unwrap(), notional),
                reference.realized + reference.unrealized(md) - reference.fees
            );
        }
    }

    #[test]
    fn book_totals_add_instruments_of_different_scales_exactly(
        fills in proptest::collection::vec(
            (0u32..2, any::<bool>(), 1i64..100_000, 1i64..100_000, 0i64..1_000, 1i64..100_000),
            1..40,
        ),
    ) {
        let spec = |s: &str, ps: u8, qs: u8| InstrumentSpec {
            symbol: s.into(),
            venue: "v".into(),
            price_scale: ps,
            qty_scale: qs,
            tick_size: Decimal::new(1, ps.into()),
            lot_size: Decimal::new(1, qs.into()),
        };
        let reg = Arc::new(InstrumentRegistry::build(&[spec("A", 2, 6), spec("B", 4, 0)]).unwrap());
        let mut book = PositionBook::new(&reg);
        prop_assert_eq!(book.money_scale(), 8);
        let mut refs = [Reference::default(), Reference::default()];
        let mut marks = [Decimal::ZERO; 2];
        let scales = [(2u32, 6u32), (4, 0)];
        for (i, buy, q, x, fee, mark) in fills {
            let (ps, qs) = scales[i as usize];
            let report = ExecReport {
                ts: Nanos(1),
                client_id: ClientOrderId(1),
                venue_order_id: 1,
                last_px: Px::from_raw(x),
                last_qty: Qty::from_raw(q),
                cum_qty: Qty::from_raw(q),
                leaves_qty: Qty::ZERO,
                fee,
                instrument: InstrumentId(i),
                strategy: StrategyId(0),
                kind: ExecKind::PartialFill,
                side: if buy { Side::Buy } else { Side::Sell },
            };
            book.on_exec(&report).unwrap();
            refs[i as usize].fill(buy, dec(q.into(), qs), dec(x.into(), ps), dec(fee.into(), ps + qs), dec(1, ps + qs));
            book.mark(InstrumentId(i), Px::from_raw(mark));
            marks[i as usize] = dec(mark.into(), ps);
            let expected: Decimal = refs
                .iter()
                .zip(marks)
                .map(|(r, m)| r.realized + r.unrealized(m) - r.fees)
                .sum();
            prop_assert_eq!(dec(book.total_pnl(), 8), expected);
        }
        let snap = book.telemetry().snapshot();
        prop_assert_eq!(snap.len(), 2);
        for (s, r) in snap.iter().zip(&refs) {
            prop_assert_eq!(s.position, r.pos.normalize());
            prop_assert_eq!(s.realized, r.realized.normalize());
        }
    }
}
