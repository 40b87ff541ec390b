//! Position figures published by the risk thread for any other thread to read.
//!
//! Each instrument's figures sit behind a single-writer seqlock of atomics: the writer bumps
//! the sequence to odd, stores the fields, and bumps it to even; a reader retries until it
//! reads the same even sequence on both sides, so it never sees half of an update. No lock,
//! no `unsafe`, nothing the writer ever waits for.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use rust_decimal::Decimal;

use super::Position;
use crate::telemetry::SeqCell;
use crate::types::{InstrumentRegistry, Px, Scale};

const QTY: usize = 0;
const COST: usize = 1;
const REALIZED: usize = 2;
const FEES: usize = 3;
const MARK: usize = 4;
const FILLS: usize = 5;

/// One instrument's figures (signed ones stored as their two's-complement bits).
type Cell = SeqCell<6>;

/// One instrument's position as published: values at the instrument's scales.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PositionSnapshot {
    /// Instrument symbol.
    pub symbol: String,
    /// Venue.
    pub venue: String,
    /// Signed position.
    pub position: Decimal,
    /// Exact average price (rounded past 28 digits); `None` when flat.
    pub avg_price: Option<Decimal>,
    /// Last mark (reference) price.
    pub mark: Decimal,
    /// Realized PnL before fees.
    pub realized: Decimal,
    /// Unrealized PnL at the mark.
    pub unrealized: Decimal,
    /// Fees paid.
    pub fees: Decimal,
    /// Realized + unrealized − fees.
    pub net: Decimal,
    /// Fills applied.
    pub fills: u64,
}

/// Totals over every instrument.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PositionTotals {
    /// Net PnL over every instrument (one quote currency assumed).
    pub net_pnl: Decimal,
    /// Highest net PnL seen (the drawdown limit's reference).
    pub peak_pnl: Decimal,
}

/// Published positions of every instrument (written by the risk thread only).
#[derive(Debug)]
pub struct PositionTelemetry {
    cells: Vec<Cell>,
    names: Vec<(String, String, Scale, Scale)>,
    money_scale: u32,
    total: AtomicI64,
    peak: AtomicI64,
}

/// `raw × 10^-scale` as a decimal, rounded toward zero past 28 places (cold path).
pub(crate) fn decimal(raw: i128, scale: u32) -> Decimal {
    let (raw, scale) = if scale > 28 { (raw / 10i128.pow(scale - 28), 28) } else { (raw, scale) };
    Decimal::try_from_i128_with_scale(raw, scale)
        .unwrap_or(if raw < 0 { Decimal::MIN } else { Decimal::MAX })
        .normalize()
}

fn sat(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

impl PositionTelemetry {
    /// Zeroed figures for every instrument of `registry`.
    pub fn new(registry: &InstrumentRegistry, money_scale: u32) -> PositionTelemetry {
        PositionTelemetry {
            cells: registry.iter().map(|_| Cell::default()).collect(),
            names: registry
                .iter()
                .map(|i| (i.symbol.clone(), i.venue.clone(), i.price_scale, i.qty_scale))
                .collect(),
            money_scale,
            total: AtomicI64::new(0),
            peak: AtomicI64::new(0),
        }
    }

    #[inline]
    fn write(&self, i: usize, f: impl FnOnce(&[AtomicU64; 6])) {
        if let Some(c) = self.cells.get(i) {
            c.write(f);
        }
    }

    /// Publishes a position after a fill (risk thread only). Values beyond 64 bits saturate.
    #[inline]
    pub fn publish(&self, i: usize, p: &Position) {
        self.write(i, |w| {
            w[QTY].store(p.qty().raw() as u64, Ordering::Relaxed);
            w[COST].store(sat(p.cost_basis()) as u64, Ordering::Relaxed);
            w[REALIZED].store(sat(p.realized()) as u64, Ordering::Relaxed);
            w[FEES].store(sat(p.fees()) as u64, Ordering::Relaxed);
            w[MARK].store(p.mark().raw() as u64, Ordering::Relaxed);
            w[FILLS].store(p.fills(), Ordering::Relaxed);
        });
    }

    /// Publishes a new mark (risk thread only).
    #[inline]
    pub fn publish_mark(&self, i: usize, mark: Px) {
        self.write(i, |w| w[MARK].store(mark.raw() as u64, Ordering::Relaxed));
    }

    /// Publishes the net PnL total, raw at the money scale (risk thread only).
    #[inline]
    pub fn publish_total(&self, total: i128) {
        self.total.store(sat(total), Ordering::Relaxed);
    }

    /// Publishes the peak net PnL, raw at the money scale (risk thread only).
    #[inline]
    pub fn publish_peak(&self, peak: i128) {
        self.peak.store(sat(peak), Ordering::Relaxed);
    }

    fn read(&self, i: usize) -> Option<Position> {
        let w = self.cells.get(i)?.read();
        Some(Position::from_parts(
            w[QTY] as i64,
            i128::from(w[COST] as i64),
            i128::from(w[REALIZED] as i64),
            i128::from(w[FEES] as i64),
            Px::from_raw(w[MARK] as i64),
            w[FILLS],
        ))
    }

    /// Every instrument's position, as decimals (cold path).
    pub fn snapshot(&self) -> Vec<PositionSnapshot> {
        (0..self.cells.len())
            .filter_map(|i| {
                let p = self.read(i)?;
                let (symbol, venue, ps, qs) = self.names.get(i)?.clone();
                let money =
                    |raw: i128| decimal(raw, u32::from(ps.places()) + u32::from(qs.places()));
                let unrealized = p.unrealized().unwrap_or(0);
                Some(PositionSnapshot {
                    symbol,
                    venue,
                    position: p.qty().to_decimal(qs).normalize(),
                    avg_price: p.avg_price_decimal(ps, qs),
                    mark: p.mark().to_decimal(ps).normalize(),
                    realized: money(p.realized()),
                    unrealized: money(unrealized),
                    fees: money(p.fees()),
                    net: money(p.net().unwrap_or(0)),
                    fills: p.fills(),
                })
            })
            .collect()
    }

    /// Net and peak PnL over every instrument (cold path).
    pub fn totals(&self) -> PositionTotals {
        let d = |v: i64| decimal(i128::from(v), self.money_scale);
        PositionTotals {
            net_pnl: d(self.total.load(Ordering::Relaxed)),
            peak_pnl: d(self.peak.load(Ordering::Relaxed)),
        }
    }
}
