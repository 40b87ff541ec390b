//! Risk limits in fixed point, as the risk stage checks them, and their run-time changes.
//!
//! Every limit is an `Option`: `None` is "not configured", and an order that needs a limit
//! that is not configured is rejected (`limit_not_configured`), never passed. Quantities are
//! raw at the instrument's `qty_scale`, per-instrument notionals raw at its notional scale
//! (`price_scale + qty_scale`), and money over every instrument raw at the registry's money
//! scale ([`crate::position::money_scale`]).

use rust_decimal::Decimal;

use crate::position::money_scale;
use crate::types::{Instrument, InstrumentId, InstrumentRegistry, Qty};

/// Open orders (resting, in flight, pending replacements) the risk stage can track at once;
/// `max_open_orders` may not exceed it.
pub const MAX_OPEN_ORDERS: u32 = 2_048;

/// Largest rate or burst a token bucket accepts.
pub const MAX_RATE: u64 = 1_000_000_000;

/// A token bucket's refill rate and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: u64,
    /// Bucket size: how many may go at once after a quiet spell.
    pub burst: u64,
}

/// Limits of one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstrumentLimits {
    /// Largest order quantity.
    pub max_order_qty: Option<Qty>,
    /// Largest `price × qty`, raw at the notional scale.
    pub max_order_notional: Option<i128>,
    /// Largest distance of an order's price from the reference price, in basis points.
    pub price_collar_bps: Option<u32>,
    /// Largest absolute position, counting open and in-flight orders at their worst case.
    pub max_position: Option<Qty>,
    /// Open and in-flight orders on the instrument, at most.
    pub max_open_orders: Option<u32>,
    /// New orders and replaces per second (token bucket).
    pub order_rate: Option<Rate>,
    /// Messages (new, replace, cancel) per second (token bucket).
    pub message_rate: Option<Rate>,
}

impl InstrumentLimits {
    /// Whether every limit is configured.
    pub fn complete(&self) -> bool {
        self.max_order_qty.is_some()
            && self.max_order_notional.is_some()
            && self.price_collar_bps.is_some()
            && self.max_position.is_some()
            && self.max_open_orders.is_some()
            && self.order_rate.is_some()
            && self.message_rate.is_some()
    }
}

/// Every limit the risk stage enforces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiskLimits {
    /// Open and in-flight orders over every instrument, at most.
    pub max_open_orders: Option<u32>,
    /// Gross exposure (each instrument's worst-case position at its reference price, summed),
    /// raw at the money scale.
    pub max_gross_notional: Option<i128>,
    /// New orders and replaces per second over every instrument.
    pub order_rate: Option<Rate>,
    /// Messages per second over every instrument.
    pub message_rate: Option<Rate>,
    /// Largest loss since the start of the UTC day (realized + unrealized − fees), raw at the
    /// money scale; beyond it trading halts.
    pub daily_loss_limit: Option<i128>,
    /// Largest fall of net PnL from its peak, raw at the money scale; beyond it trading halts.
    pub max_drawdown: Option<i128>,
    /// Fills per second (token bucket); an empty bucket halts trading until an operator
    /// resumes.
    pub execution_throttle: Option<Rate>,
    /// Window in which an identical new order is a duplicate, ns; 0 turns the check off.
    pub duplicate_window_ns: Option<i64>,
    /// Largest age of an instrument's last quote for a new order, ns; 0 turns the check off.
    pub max_quote_age_ns: Option<i64>,
    /// Per instrument, indexed by [`InstrumentId`].
    pub instruments: Vec<InstrumentLimits>,
}

impl RiskLimits {
    /// No limit configured: every new order is rejected (the fail-closed start).
    pub fn unconfigured(registry: &InstrumentRegistry) -> RiskLimits {
        RiskLimits {
            instruments: vec![InstrumentLimits::default(); registry.len()],
            ..RiskLimits::default()
        }
    }

    /// Every limit at its widest: for tests and benches that exercise something else. A
    /// config never produces this; an operator must write each limit.
    pub fn permissive(registry: &InstrumentRegistry) -> RiskLimits {
        let wide = Rate { per_second: MAX_RATE, burst: MAX_RATE };
        RiskLimits {
            max_open_orders: Some(MAX_OPEN_ORDERS),
            max_gross_notional: Some(i128::MAX),
            order_rate: Some(wide),
            message_rate: Some(wide),
            daily_loss_limit: Some(i128::MAX),
            max_drawdown: Some(i128::MAX),
            execution_throttle: Some(wide),
            duplicate_window_ns: Some(0),
            max_quote_age_ns: Some(0),
            instruments: vec![
                InstrumentLimits {
                    max_order_qty: Some(Qty::from_raw(i64::MAX)),
                    max_order_notional: Some(i128::MAX),
                    price_collar_bps: Some(u32::MAX),
                    max_position: Some(Qty::from_raw(i64::MAX)),
                    max_open_orders: Some(MAX_OPEN_ORDERS),
                    order_rate: Some(wide),
                    message_rate: Some(wide),
                };
                registry.len()
            ],
        }
    }

    /// Whether every global limit is configured.
    pub fn global_complete(&self) -> bool {
        self.max_open_orders.is_some()
            && self.max_gross_notional.is_some()
            && self.order_rate.is_some()
            && self.message_rate.is_some()
            && self.daily_loss_limit.is_some()
            && self.max_drawdown.is_some()
            && self.execution_throttle.is_some()
            && self.duplicate_window_ns.is_some()
            && self.max_quote_age_ns.is_some()
    }

    /// The limits that are not configured, as config keys (for a start-up warning: orders
    /// that need them will be rejected).
    pub fn missing(&self, registry: &InstrumentRegistry) -> Vec<String> {
        let mut out = Vec::new();
        let global = [
            ("max_open_orders", self.max_open_orders.is_none()),
            ("max_gross_notional", self.max_gross_notional.is_none()),
            ("order_rate", self.order_rate.is_none()),
            ("message_rate", self.message_rate.is_none()),
            ("daily_loss_limit", self.daily_loss_limit.is_none()),
            ("max_drawdown", self.max_drawdown.is_none()),
            ("execution_throttle", self.execution_throttle.is_none()),
            ("duplicate_window", self.duplicate_window_ns.is_none()),
            ("max_quote_age", self.max_quote_age_ns.is_none()),
        ];
        out.extend(global.iter().filter(|(_, m)| *m).map(|(k, _)| format!("risk.{k}")));
        for (inst, l) in registry.iter().zip(&self.instruments) {
            let fields = [
                ("max_order_qty", l.max_order_qty.is_none()),
                ("max_order_notional", l.max_order_notional.is_none()),
                ("price_collar_bps", l.price_collar_bps.is_none()),
                ("max_position", l.max_position.is_none()),
                ("max_open_orders", l.max_open_orders.is_none()),
                ("order_rate", l.order_rate.is_none()),
                ("message_rate", l.message_rate.is_none()),
            ];
            out.extend(
                fields
                    .iter()
                    .filter(|(_, m)| *m)
                    .map(|(k, _)| format!("risk.instruments.{}.{k}", inst.symbol)),
            );
        }
        out
    }

    /// Sets one limit by name (operator control). `instrument` picks one instrument for the
    /// per-instrument limits; without it they change on every instrument, and the limits that
    /// exist at both levels (`max_open_orders`, `order_rate`, `order_burst`, `message_rate`,
    /// `message_burst`) change the global one. Durations are in seconds. Returns what changed;
    /// a refused value leaves every limit as it was.
    pub fn set(
        &mut self,
        registry: &InstrumentRegistry,
        name: &str,
        instrument: Option<InstrumentId>,
        value: Decimal,
    ) -> Result<String, String> {
        let scope = |i: Option<InstrumentId>| {
            i.and_then(|id| registry.get(id)).map_or_else(|| "all".to_owned(), |i| i.symbol.clone())
        };
        let targets: Vec<&Instrument> = match instrument {
            Some(id) => vec![registry.get(id).ok_or_else(|| format!("unknown instrument {id}"))?],
            None => registry.iter().collect(),
        };
        let global_only = |what: &str| -> Result<(), String> {
            match instrument {
                Some(_) => Err(format!("{what} is a global limit: give no instrument")),
                None => Ok(()),
            }
        };
        let mut next = self.clone();
        match name {
            "max_order_qty" | "max_position" => {
                for inst in &targets {
                    let q = Qty::from_decimal(value, inst.qty_scale)
                        .map_err(|e| format!("{name} {value} for {}: {e}", inst.symbol))?;
                    if q.raw() < 0 || (name == "max_order_qty" && q.raw() == 0) {
                        return Err(format!("{name} {value}: must be positive"));
                    }
                    let l = &mut next.instruments[inst.id.index()];
                    if name == "max_order_qty" {
                        l.max_order_qty = Some(q);
                    } else {
                        l.max_position = Some(q);
                    }
                }
            }
            "max_order_notional" => {
                for inst in &targets {
                    let scale = notional_scale(inst);
                    let raw = fixed_i128(value, scale)
                        .map_err(|e| format!("{name} {value} for {}: {e}", inst.symbol))?;
                    next.instruments[inst.id.index()].max_order_notional = Some(raw);
                }
            }
            "price_collar_bps" => {
                let bps = whole_u32(value).filter(|b| *b > 0).ok_or_else(|| {
                    format!("{name} {value}: must be a whole number of basis points > 0")
                })?;
                for inst in &targets {
                    next.instruments[inst.id.index()].price_collar_bps = Some(bps);
                }
            }
            "max_open_orders" => {
                let n = whole_u32(value).filter(|n| *n <= MAX_OPEN_ORDERS).ok_or_else(|| {
                    format!("{name} {value}: must be a whole number at most {MAX_OPEN_ORDERS}")
                })?;
                match instrument {
                    Some(id) => next.instruments[id.index()].max_open_orders = Some(n),
                    None => next.max_open_orders = Some(n),
                }
            }
            "order_rate" | "order_burst" | "message_rate" | "message_burst" => {
                let v = whole_rate(value).ok_or_else(|| {
                    format!("{name} {value}: must be a whole number 0..={MAX_RATE}")
                })?;
                let burst = name.ends_with("_burst");
                let orders = name.starts_with("order");
                let apply = |r: &mut Option<Rate>| set_rate(r, v, burst);
                match instrument {
                    Some(id) => {
                        let l = &mut next.instruments[id.index()];
                        apply(if orders { &mut l.order_rate } else { &mut l.message_rate });
                    }
                    None => {
                        apply(if orders { &mut next.order_rate } else { &mut next.message_rate })
                    }
                }
            }
            "execution_rate" | "execution_burst" => {
                global_only(name)?;
                let v = whole_rate(value).ok_or_else(|| {
                    format!("{name} {value}: must be a whole number 0..={MAX_RATE}")
                })?;
                set_rate(&mut next.execution_throttle, v, name.ends_with("_burst"));
            }
            "max_gross_notional" | "daily_loss_limit" | "max_drawdown" => {
                global_only(name)?;
                let raw = fixed_i128(value, money_scale(registry))
                    .map_err(|e| format!("{name} {value}: {e}"))?;
                match name {
                    "max_gross_notional" => next.max_gross_notional = Some(raw),
                    "daily_loss_limit" => next.daily_loss_limit = Some(raw),
                    _ => next.max_drawdown = Some(raw),
                }
            }
            "duplicate_window" | "max_quote_age" => {
                global_only(name)?;
                let ns = seconds_to_ns(value)
                    .ok_or_else(|| format!("{name} {value}: must be seconds >= 0 (0 = off)"))?;
                if name == "duplicate_window" {
                    next.duplicate_window_ns = Some(ns);
                } else {
                    next.max_quote_age_ns = Some(ns);
                }
            }
            _ => return Err(format!("unknown risk limit {name:?}")),
        }
        *self = next;
        Ok(format!("risk {name}[{}] = {value}", scope(instrument)))
    }
}

fn set_rate(r: &mut Option<Rate>, v: u64, burst: bool) {
    let mut rate = r.unwrap_or(Rate { per_second: v, burst: v });
    if burst {
        rate.burst = v;
    } else {
        rate.per_second = v;
    }
    *r = Some(rate);
}

/// `price_scale + qty_scale` of an instrument.
pub(crate) fn notional_scale(inst: &Instrument) -> u32 {
    u32::from(inst.price_scale.places()) + u32::from(inst.qty_scale.places())
}

/// A non-negative decimal as a raw `i128` at `scale` decimal places, exactly.
pub(crate) fn fixed_i128(value: Decimal, scale: u32) -> Result<i128, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err("must not be negative".into());
    }
    let v = value.normalize();
    if v.scale() > scale {
        return Err(format!("more decimal places than the scale of {scale} allows"));
    }
    let shift = scale - v.scale();
    10i128
        .checked_pow(shift)
        .and_then(|f| v.mantissa().checked_mul(f))
        .ok_or_else(|| format!("does not fit at a scale of {scale}"))
}

fn whole_u32(value: Decimal) -> Option<u32> {
    let v = value.normalize();
    if v.scale() != 0 || v.is_sign_negative() {
        return None;
    }
    u32::try_from(v.mantissa()).ok()
}

fn whole_rate(value: Decimal) -> Option<u64> {
    let v = value.normalize();
    if v.scale() != 0 || v.is_sign_negative() {
        return None;
    }
    u64::try_from(v.mantissa()).ok().filter(|v| *v <= MAX_RATE)
}

fn seconds_to_ns(value: Decimal) -> Option<i64> {
    if value.is_sign_negative() && !value.is_zero() {
        return None;
    }
    let ns = value.checked_mul(Decimal::from(1_000_000_000u64))?;
    if ns.normalize().scale() != 0 {
        return None;
    }
    i64::try_from(ns.normalize().mantissa()).ok()
}
