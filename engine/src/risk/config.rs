//! The `[risk]` config section: every limit as an operator writes it (decimal strings,
//! durations), resolved once against the instrument registry into fixed-point [`RiskLimits`].
//!
//! No limit has a default. A limit left out is *not configured*, and every order that needs
//! it is rejected (`limit_not_configured`) — the stage fails closed; `tickline` warns at
//! start-up, naming each missing key.
//!
//! ```toml
//! [risk]
//! max_open_orders = 200                       # over every instrument
//! max_gross_notional = "50000"                # quote currency, worst case at reference prices
//! order_rate = { per_second = 2000, burst = 200 }
//! message_rate = { per_second = 5000, burst = 500 }
//! daily_loss_limit = "1000"                   # → halt (cause risk_limit) + cancel-all
//! max_drawdown = "500"                        # from peak net PnL → halt + cancel-all
//! execution_throttle = { per_second = 1000, burst = 1000 }   # fills; → halt until resumed
//! duplicate_window = "1ms"                    # "0s" turns the check off
//! max_quote_age = "5s"                        # "0s" turns the check off
//!
//! [risk.instrument_defaults]                  # every instrument, unless overridden below
//! max_order_qty = "1"
//! max_order_notional = "1000"
//! price_collar_bps = 500
//! max_position = "5"
//! max_open_orders = 20
//! order_rate = { per_second = 1000, burst = 100 }
//! message_rate = { per_second = 2000, burst = 200 }
//!
//! [risk.instruments.SYN-C]                    # overrides, field by field
//! max_order_qty = "100"
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::limits::{fixed_i128, notional_scale, InstrumentLimits, Rate, RiskLimits};
use super::{MAX_OPEN_ORDERS, MAX_RATE};
use crate::config::ConfigError;
use crate::position::money_scale;
use crate::types::{InstrumentRegistry, Qty};

/// `[risk]`: global limits, per-instrument defaults and per-instrument overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Open and in-flight orders over every instrument (at most 2048).
    #[serde(default)]
    pub max_open_orders: Option<u32>,
    /// Gross exposure over every instrument, quote currency (decimal string).
    #[serde(default)]
    pub max_gross_notional: Option<Decimal>,
    /// New orders and replaces per second over every instrument.
    #[serde(default)]
    pub order_rate: Option<Rate>,
    /// Messages (new, replace, cancel) per second over every instrument.
    #[serde(default)]
    pub message_rate: Option<Rate>,
    /// Largest loss since the start of the UTC day, quote currency.
    #[serde(default)]
    pub daily_loss_limit: Option<Decimal>,
    /// Largest fall of net PnL from its peak, quote currency.
    #[serde(default)]
    pub max_drawdown: Option<Decimal>,
    /// Fills per second; running dry halts trading until an operator resumes.
    #[serde(default)]
    pub execution_throttle: Option<Rate>,
    /// Identical new orders within this window are duplicates (`"1ms"`; `"0s"` = off).
    #[serde(default)]
    pub duplicate_window: Option<String>,
    /// Largest age of an instrument's last quote for a new order (`"5s"`; `"0s"` = off).
    #[serde(default)]
    pub max_quote_age: Option<String>,
    /// Per-instrument limits applying to every instrument.
    #[serde(default)]
    pub instrument_defaults: InstrumentRiskConfig,
    /// Per-instrument overrides by symbol, field by field.
    #[serde(default)]
    pub instruments: BTreeMap<String, InstrumentRiskConfig>,
}

/// Per-instrument limits as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentRiskConfig {
    /// Largest order quantity (decimal string, > 0).
    #[serde(default)]
    pub max_order_qty: Option<Decimal>,
    /// Largest `price × qty`, quote currency.
    #[serde(default)]
    pub max_order_notional: Option<Decimal>,
    /// Price collar around the reference price, basis points (> 0).
    #[serde(default)]
    pub price_collar_bps: Option<u32>,
    /// Largest absolute position counting open and in-flight orders at their worst case.
    #[serde(default)]
    pub max_position: Option<Decimal>,
    /// Open and in-flight orders on the instrument (at most 2048).
    #[serde(default)]
    pub max_open_orders: Option<u32>,
    /// New orders and replaces per second.
    #[serde(default)]
    pub order_rate: Option<Rate>,
    /// Messages per second.
    #[serde(default)]
    pub message_rate: Option<Rate>,
}

/// Parses `"250ms"`, `"5s"`, `"2m"`, `"1h"`, `"500us"`, `"100ns"` into nanoseconds.
pub fn parse_duration_ns(text: &str) -> Option<i64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().ok()?;
    let mult: i64 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn rate(key: &str, r: Option<Rate>) -> Result<Option<Rate>, ConfigError> {
    match r {
        Some(r) if r.per_second > MAX_RATE || r.burst > MAX_RATE => {
            Err(ConfigError::new(key, format!("per_second and burst must be at most {MAX_RATE}")))
        }
        r => Ok(r),
    }
}

fn open_orders(key: &str, n: Option<u32>) -> Result<Option<u32>, ConfigError> {
    match n {
        Some(n) if n > MAX_OPEN_ORDERS => Err(ConfigError::new(
            key,
            format!("{n} is above the order table's capacity of {MAX_OPEN_ORDERS}"),
        )),
        n => Ok(n),
    }
}

impl RiskConfig {
    /// Validates every value against `registry` and converts it to fixed point. Errors name
    /// the key (`risk.instruments.BTCUSDT.max_order_qty`).
    pub fn resolve(&self, registry: &InstrumentRegistry) -> Result<RiskLimits, ConfigError> {
        for symbol in self.instruments.keys() {
            if !registry.iter().any(|i| &i.symbol == symbol) {
                return Err(ConfigError::new(
                    format!("risk.instruments.{symbol}"),
                    format!("unknown instrument {symbol:?}: declare it in [[instruments]]"),
                ));
            }
        }
        let scale = money_scale(registry);
        let money = |key: &str, v: Option<Decimal>| -> Result<Option<i128>, ConfigError> {
            v.map(|d| {
                fixed_i128(d, scale)
                    .map_err(|e| ConfigError::new(format!("risk.{key}"), format!("{d}: {e}")))
            })
            .transpose()
        };
        let duration = |key: &str, v: &Option<String>| -> Result<Option<i64>, ConfigError> {
            v.as_deref()
                .map(|s| {
                    parse_duration_ns(s).ok_or_else(|| {
                        ConfigError::new(
                            format!("risk.{key}"),
                            format!("{s:?} is not a duration like \"1ms\", \"5s\", \"0s\""),
                        )
                    })
                })
                .transpose()
        };
        let mut limits = RiskLimits {
            max_open_orders: open_orders("risk.max_open_orders", self.max_open_orders)?,
            max_gross_notional: money("max_gross_notional", self.max_gross_notional)?,
            order_rate: rate("risk.order_rate", self.order_rate)?,
            message_rate: rate("risk.message_rate", self.message_rate)?,
            daily_loss_limit: money("daily_loss_limit", self.daily_loss_limit)?,
            max_drawdown: money("max_drawdown", self.max_drawdown)?,
            execution_throttle: rate("risk.execution_throttle", self.execution_throttle)?,
            duplicate_window_ns: duration("duplicate_window", &self.duplicate_window)?,
            max_quote_age_ns: duration("max_quote_age", &self.max_quote_age)?,
            instruments: Vec::with_capacity(registry.len()),
        };
        for inst in registry.iter() {
            let over = self.instruments.get(&inst.symbol);
            let d = &self.instrument_defaults;
            // The key an operator should fix: the override's when it set the field.
            let key = |field: &str, overridden: bool| {
                if overridden {
                    format!("risk.instruments.{}.{field}", inst.symbol)
                } else {
                    format!("risk.instrument_defaults.{field}")
                }
            };
            macro_rules! pick {
                ($f:ident) => {{
                    let o = over.and_then(|o| o.$f.clone());
                    let set = o.is_some();
                    (o.or_else(|| d.$f.clone()), key(stringify!($f), set))
                }};
            }
            let qty = |v: Option<Decimal>, key: String, allow_zero: bool| {
                v.map(|v| {
                    let q = Qty::from_decimal(v, inst.qty_scale)
                        .map_err(|e| ConfigError::new(&key, format!("{v}: {e}")))?;
                    if q.raw() < 0 || (!allow_zero && q.raw() == 0) {
                        return Err(ConfigError::new(&key, format!("{v} must be positive")));
                    }
                    Ok(q)
                })
                .transpose()
            };
            let (v, k) = pick!(max_order_qty);
            let max_order_qty = qty(v, k, false)?;
            let (v, k) = pick!(max_position);
            let max_position = qty(v, k, true)?;
            let (v, k) = pick!(max_order_notional);
            let max_order_notional = v
                .map(|v| {
                    fixed_i128(v, notional_scale(inst))
                        .map_err(|e| ConfigError::new(&k, format!("{v}: {e}")))
                })
                .transpose()?;
            let (v, k) = pick!(price_collar_bps);
            if v == Some(0) {
                return Err(ConfigError::new(k, "must be at least 1 basis point"));
            }
            let price_collar_bps = v;
            let (v, k) = pick!(max_open_orders);
            let max_open_orders = open_orders(&k, v)?;
            let (v, k) = pick!(order_rate);
            let order_rate = rate(&k, v)?;
            let (v, k) = pick!(message_rate);
            let message_rate = rate(&k, v)?;
            limits.instruments.push(InstrumentLimits {
                max_order_qty,
                max_order_notional,
                price_collar_bps,
                max_position,
                max_open_orders,
                order_rate,
                message_rate,
            });
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::InstrumentSpec;

    fn registry() -> InstrumentRegistry {
        let spec = |s: &str, ps: u8, qs: u8| InstrumentSpec {
            symbol: s.into(),
            venue: "v".into(),
            price_scale: ps,
            qty_scale: qs,
            tick_size: Decimal::new(1, ps.into()),
            lot_size: Decimal::new(1, qs.into()),
        };
        InstrumentRegistry::build(&[spec("A", 2, 3), spec("B", 4, 0)]).unwrap()
    }

    const FULL: &str = r#"
        max_open_orders = 10
        max_gross_notional = "1000.5"
        order_rate = { per_second = 100, burst = 10 }
        message_rate = { per_second = 200, burst = 20 }
        daily_loss_limit = "50"
        max_drawdown = "25"
        execution_throttle = { per_second = 10, burst = 10 }
        duplicate_window = "1ms"
        max_quote_age = "0s"
        [instrument_defaults]
        max_order_qty = "2"
        max_order_notional = "300"
        price_collar_bps = 100
        max_position = "5"
        max_open_orders = 4
        order_rate = { per_second = 10, burst = 2 }
        message_rate = { per_second = 20, burst = 4 }
        [instruments.B]
        max_order_qty = "7"
    "#;

    #[test]
    fn resolves_to_fixed_point_with_overrides() {
        let reg = registry();
        let cfg: RiskConfig = toml::from_str(FULL).unwrap();
        let l = cfg.resolve(&reg).unwrap();
        assert!(l.global_complete() && l.instruments.iter().all(InstrumentLimits::complete));
        assert!(l.missing(&reg).is_empty());
        // Money scale = max(2+3, 4+0) = 5.
        assert_eq!(l.max_gross_notional, Some(100_050_000));
        assert_eq!(l.duplicate_window_ns, Some(1_000_000));
        assert_eq!(l.instruments[0].max_order_qty, Some(Qty::from_raw(2_000)));
        assert_eq!(l.instruments[0].max_order_notional, Some(30_000_000));
        assert_eq!(l.instruments[1].max_order_qty, Some(Qty::from_raw(7)));
        assert_eq!(l.instruments[1].max_order_notional, Some(3_000_000));
    }

    #[test]
    fn errors_name_the_key_and_missing_limits_are_listed() {
        let reg = registry();
        let bad = |from: &str, to: &str| {
            let cfg: RiskConfig = toml::from_str(&FULL.replace(from, to)).unwrap();
            cfg.resolve(&reg).unwrap_err().to_string()
        };
        let e = bad("[instruments.B]", "[instruments.NOPE]");
        assert!(e.contains("risk.instruments.NOPE"), "{e}");
        let e = bad("max_order_qty = \"7\"", "max_order_qty = \"7.5\"");
        assert!(e.contains("risk.instruments.B.max_order_qty"), "{e}");
        let e = bad("max_order_qty = \"2\"", "max_order_qty = \"0\"");
        assert!(e.contains("risk.instrument_defaults.max_order_qty"), "{e}");
        let e = bad("daily_loss_limit = \"50\"", "daily_loss_limit = \"0.000001\"");
        assert!(e.contains("risk.daily_loss_limit"), "{e}");
        let e = bad("duplicate_window = \"1ms\"", "duplicate_window = \"soon\"");
        assert!(e.contains("risk.duplicate_window"), "{e}");
        let e = bad("max_open_orders = 10", "max_open_orders = 10000");
        assert!(e.contains("risk.max_open_orders"), "{e}");
        let e = bad("price_collar_bps = 100", "price_collar_bps = 0");
        assert!(e.contains("price_collar_bps"), "{e}");
        assert!(toml::from_str::<RiskConfig>("bogus = 1").is_err(), "unknown keys refused");
        let none = RiskConfig::default().resolve(&reg).unwrap();
        let missing = none.missing(&reg);
        assert_eq!(missing.len(), 9 + 2 * 7, "{missing:?}");
        assert!(missing.contains(&"risk.instruments.B.max_position".to_owned()));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("250ms"), Some(250_000_000));
        assert_eq!(parse_duration_ns("0s"), Some(0));
        assert_eq!(parse_duration_ns("5us"), Some(5_000));
        assert_eq!(parse_duration_ns("5"), None);
        assert_eq!(parse_duration_ns("5d"), None);
    }
}
