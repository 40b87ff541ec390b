//! Dense instrument identifiers and the registry that resolves them at start-up.
//!
//! Strings (symbols, venue names) live only at the feed and gateway edges; everything that
//! crosses a ring names an instrument by its dense [`InstrumentId`], an index into the
//! [`InstrumentRegistry`] frozen before any thread starts.

use std::collections::HashMap;
use std::fmt;

use rust_decimal::Decimal;

use super::px::{FixedError, Px, Qty, Scale};

/// Dense index of an instrument in the [`InstrumentRegistry`].
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bytemuck::NoUninit,
    bytemuck::AnyBitPattern,
)]
#[repr(transparent)]
pub struct InstrumentId(pub u32);

impl InstrumentId {
    /// The id as a `usize` index into per-instrument tables.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One tradable instrument on one venue, with its fixed-point scales and grids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrument {
    /// Dense id (its index in the registry).
    pub id: InstrumentId,
    /// Venue symbol as the venue spells it (`BTCUSDT`).
    pub symbol: String,
    /// Venue name (`binance`, `okx`, `synthetic`).
    pub venue: String,
    /// Decimal places of prices.
    pub price_scale: Scale,
    /// Decimal places of quantities.
    pub qty_scale: Scale,
    /// Smallest price increment, at `price_scale`.
    pub tick_size: Px,
    /// Smallest quantity increment, at `qty_scale`.
    pub lot_size: Qty,
}

/// What an operator writes to declare an instrument (config edge, decimals as strings).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    /// Venue symbol.
    pub symbol: String,
    /// Venue name.
    pub venue: String,
    /// Decimal places of prices.
    pub price_scale: u8,
    /// Decimal places of quantities.
    pub qty_scale: u8,
    /// Tick size as a decimal string, e.g. `"0.01"`.
    pub tick_size: Decimal,
    /// Lot size as a decimal string, e.g. `"0.00001"`.
    pub lot_size: Decimal,
}

/// Why the registry could not be built; each names the offending instrument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two specs with the same venue and symbol.
    #[error("instrument {venue}:{symbol} is declared twice")]
    Duplicate {
        /// Venue.
        venue: String,
        /// Symbol.
        symbol: String,
    },
    /// A scale above the maximum.
    #[error("instrument {symbol}: {field} = {value} exceeds the maximum scale of 18")]
    BadScale {
        /// Symbol.
        symbol: String,
        /// Which field.
        field: &'static str,
        /// The value given.
        value: u8,
    },
    /// A tick or lot size that is not positive or not representable at the scale.
    #[error(
        "instrument {symbol}: {field} = {value} is not a positive multiple of the scale ({reason})"
    )]
    BadStep {
        /// Symbol.
        symbol: String,
        /// Which field.
        field: &'static str,
        /// The value given.
        value: Decimal,
        /// Why.
        reason: String,
    },
    /// An empty symbol or venue.
    #[error("instrument #{index}: symbol and venue must not be empty")]
    Empty {
        /// Position in the list.
        index: usize,
    },
    /// More instruments than a `u32` can index.
    #[error("too many instruments")]
    TooMany,
}

/// The frozen set of instruments, indexed densely by [`InstrumentId`].
#[derive(Clone, Debug, Default)]
pub struct InstrumentRegistry {
    instruments: Vec<Instrument>,
    by_key: HashMap<(String, String), InstrumentId>,
}

impl InstrumentRegistry {
    /// Builds the registry from specs, in order; ids are their positions.
    pub fn build(specs: &[InstrumentSpec]) -> Result<InstrumentRegistry, RegistryError> {
        let mut reg = InstrumentRegistry::default();
        for (index, spec) in specs.iter().enumerate() {
            if spec.symbol.is_empty() || spec.venue.is_empty() {
                return Err(RegistryError::Empty { index });
            }
            let scale = |field: &'static str, value: u8| {
                Scale::new(value).ok_or_else(|| RegistryError::BadScale {
                    symbol: spec.symbol.clone(),
                    field,
                    value,
                })
            };
            let price_scale = scale("price_scale", spec.price_scale)?;
            let qty_scale = scale("qty_scale", spec.qty_scale)?;
            let step_err = |field: &'static str, value: Decimal, reason: String| {
                RegistryError::BadStep { symbol: spec.symbol.clone(), field, value, reason }
            };
            let fixed_reason = |e: FixedError| e.to_string();
            let tick_size = Px::from_decimal(spec.tick_size, price_scale)
                .map_err(|e| step_err("tick_size", spec.tick_size, fixed_reason(e)))?;
            let lot_size = Qty::from_decimal(spec.lot_size, qty_scale)
                .map_err(|e| step_err("lot_size", spec.lot_size, fixed_reason(e)))?;
            if !tick_size.is_positive() {
                return Err(step_err("tick_size", spec.tick_size, "must be > 0".into()));
            }
            if !lot_size.is_positive() {
                return Err(step_err("lot_size", spec.lot_size, "must be > 0".into()));
            }
            let id = InstrumentId(u32::try_from(index).map_err(|_| RegistryError::TooMany)?);
            let key = (spec.venue.clone(), spec.symbol.clone());
            if reg.by_key.insert(key, id).is_some() {
                return Err(RegistryError::Duplicate {
                    venue: spec.venue.clone(),
                    symbol: spec.symbol.clone(),
                });
            }
            reg.instruments.push(Instrument {
                id,
                symbol: spec.symbol.clone(),
                venue: spec.venue.clone(),
                price_scale,
                qty_scale,
                tick_size,
                lot_size,
            });
        }
        Ok(reg)
    }

    /// The instrument with this id, if any.
    #[inline]
    pub fn get(&self, id: InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id.index())
    }

    /// Resolves a venue symbol (cold path: start-up and edges).
    pub fn lookup(&self, venue: &str, symbol: &str) -> Option<InstrumentId> {
        self.by_key.get(&(venue.to_owned(), symbol.to_owned())).copied()
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// All instruments in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn spec(sym: &str) -> InstrumentSpec {
        InstrumentSpec {
            symbol: sym.into(),
            venue: "binance".into(),
            price_scale: 2,
            qty_scale: 5,
            tick_size: Decimal::from_str("0.01").unwrap(),
            lot_size: Decimal::from_str("0.00001").unwrap(),
        }
    }

    #[test]
    fn ids_are_dense_and_resolvable() {
        let reg = InstrumentRegistry::build(&[spec("BTCUSDT"), spec("ETHUSDT")]).unwrap();
        assert_eq!(reg.lookup("binance", "ETHUSDT"), Some(InstrumentId(1)));
        assert_eq!(reg.get(InstrumentId(0)).unwrap().tick_size, Px::from_raw(1));
        assert_eq!(reg.get(InstrumentId(1)).unwrap().lot_size, Qty::from_raw(1));
        assert!(reg.get(InstrumentId(2)).is_none());
    }

    #[test]
    fn rejects_duplicates_and_bad_grids() {
        let dup = InstrumentRegistry::build(&[spec("BTCUSDT"), spec("BTCUSDT")]).unwrap_err();
        assert!(dup.to_string().contains("binance:BTCUSDT is declared twice"), "{dup}");
        let mut bad = spec("X");
        bad.tick_size = Decimal::from_str("0.001").unwrap();
        let err = InstrumentRegistry::build(&[bad]).unwrap_err();
        assert!(err.to_string().contains("tick_size"), "{err}");
        let mut bad = spec("X");
        bad.lot_size = Decimal::ZERO;
        assert!(InstrumentRegistry::build(&[bad]).is_err());
        let mut bad = spec("X");
        bad.price_scale = 19;
        assert!(matches!(InstrumentRegistry::build(&[bad]), Err(RegistryError::BadScale { .. })));
    }
}
