//! Wire symbol → instrument, resolved without allocating.
//!
//! Built once at start-up from the [`InstrumentRegistry`] for one venue. Keys are fixed-size
//! byte arrays kept sorted, so a lookup is a binary search over inline bytes: no hashing of a
//! `String`, no allocation, no pointer chasing.

use tickline_engine::types::{Instrument, InstrumentId, InstrumentRegistry, Scale};

use crate::error::{Error, Result};

/// Longest wire symbol the table holds.
pub const MAX_SYMBOL_LEN: usize = 32;

const NO_SLOT: u32 = u32::MAX;

/// How an instrument's registry symbol becomes its wire key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCase {
    /// ASCII-lowercased (Binance stream names: `btcusdt@trade`).
    Lower,
    /// Exactly as registered (OKX `instId`: `BTC-USDT`).
    AsIs,
}

/// One instrument of the table: its wire key, id, dense slot and scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymbolEntry {
    key: [u8; MAX_SYMBOL_LEN],
    len: u8,
    /// The instrument.
    pub id: InstrumentId,
    /// Dense index of the instrument within this table (`0..len`), for per-venue arrays.
    pub slot: u32,
    /// Decimal places of prices.
    pub price_scale: Scale,
    /// Decimal places of quantities.
    pub qty_scale: Scale,
}

impl SymbolEntry {
    /// The wire key bytes.
    #[inline]
    pub fn key(&self) -> &[u8] {
        &self.key[..usize::from(self.len)]
    }

    /// Whether `symbol` names this entry, ignoring ASCII case (Binance payloads spell the
    /// symbol in upper case while stream names are lower case).
    #[inline]
    pub fn matches_ignore_case(&self, symbol: &[u8]) -> bool {
        self.key().eq_ignore_ascii_case(symbol)
    }
}

/// The frozen wire-symbol table of one venue.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    sorted: Vec<SymbolEntry>,
    by_slot: Vec<SymbolEntry>,
    slot_of_id: Vec<u32>,
}

impl SymbolTable {
    /// The table of every registry instrument whose venue is `venue` (ASCII case-insensitive),
    /// in registry order.
    pub fn build(registry: &InstrumentRegistry, venue: &str, case: KeyCase) -> Result<SymbolTable> {
        SymbolTable::from_instruments(
            registry.iter().filter(|i| i.venue.eq_ignore_ascii_case(venue)),
            case,
        )
    }

    /// The table of these instruments, slots in iteration order.
    pub fn from_instruments<'r>(
        instruments: impl IntoIterator<Item = &'r Instrument>,
        case: KeyCase,
    ) -> Result<SymbolTable> {
        let mut table = SymbolTable::default();
        for inst in instruments {
            let bytes = inst.symbol.as_bytes();
            if bytes.len() > MAX_SYMBOL_LEN || bytes.is_empty() {
                return Err(Error::SymbolTooLong {
                    venue: inst.venue.clone(),
                    symbol: inst.symbol.clone(),
                    max: MAX_SYMBOL_LEN,
                });
            }
            let mut key = [0u8; MAX_SYMBOL_LEN];
            key[..bytes.len()].copy_from_slice(bytes);
            if case == KeyCase::Lower {
                key.make_ascii_lowercase();
            }
            let slot = u32::try_from(table.by_slot.len()).unwrap_or(NO_SLOT);
            let entry = SymbolEntry {
                key,
                // MAX_SYMBOL_LEN fits a u8, checked above.
                len: bytes.len() as u8,
                id: inst.id,
                slot,
                price_scale: inst.price_scale,
                qty_scale: inst.qty_scale,
            };
            if let Some(other) = table.by_slot.iter().find(|e| e.key() == entry.key()) {
                let first = String::from_utf8_lossy(other.key()).into_owned();
                return Err(Error::DuplicateSymbol {
                    venue: inst.venue.clone(),
                    first,
                    second: inst.symbol.clone(),
                });
            }
            let idx = inst.id.index();
            if table.slot_of_id.len() <= idx {
                table.slot_of_id.resize(idx + 1, NO_SLOT);
            }
            table.slot_of_id[idx] = slot;
            table.by_slot.push(entry);
        }
        table.sorted = table.by_slot.clone();
        table.sorted.sort_unstable_by(|a, b| a.key().cmp(b.key()));
        Ok(table)
    }

    /// The entry whose wire key is exactly `wire`.
    #[inline]
    pub fn lookup(&self, wire: &[u8]) -> Option<&SymbolEntry> {
        self.sorted.binary_search_by(|e| e.key().cmp(wire)).ok().and_then(|i| self.sorted.get(i))
    }

    /// The slot of an instrument, if this table carries it.
    #[inline]
    pub fn slot_of(&self, id: InstrumentId) -> Option<usize> {
        match self.slot_of_id.get(id.index()) {
            Some(&s) if s != NO_SLOT => Some(s as usize),
            _ => None,
        }
    }

    /// The entry of an instrument id.
    #[inline]
    pub fn get(&self, id: InstrumentId) -> Option<&SymbolEntry> {
        self.slot_of(id).and_then(|s| self.by_slot.get(s))
    }

    /// The entry in a slot.
    #[inline]
    pub fn by_slot(&self, slot: usize) -> Option<&SymbolEntry> {
        self.by_slot.get(slot)
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.by_slot.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_slot.is_empty()
    }

    /// Entries in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &SymbolEntry> {
        self.by_slot.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use tickline_engine::types::InstrumentSpec;

    fn spec(venue: &str, sym: &str) -> InstrumentSpec {
        InstrumentSpec {
            symbol: sym.into(),
            venue: venue.into(),
            price_scale: 2,
            qty_scale: 5,
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, 5),
        }
    }

    #[test]
    fn lookup_by_wire_key_and_id() {
        let reg = InstrumentRegistry::build(&[
            spec("binance", "BTCUSDT"),
            spec("okx", "BTC-USDT"),
            spec("binance", "ETHUSDT"),
        ])
        .unwrap();
        let t = SymbolTable::build(&reg, "binance", KeyCase::Lower).unwrap();
        assert_eq!(t.len(), 2);
        let eth = t.lookup(b"ethusdt").unwrap();
        assert_eq!(eth.id, InstrumentId(2));
        assert_eq!(eth.slot, 1);
        assert!(eth.matches_ignore_case(b"ETHUSDT"));
        assert!(t.lookup(b"ETHUSDT").is_none());
        assert!(t.lookup(b"xrpusdt").is_none());
        assert!(t.lookup(b"").is_none());
        assert_eq!(t.slot_of(InstrumentId(0)), Some(0));
        assert_eq!(t.slot_of(InstrumentId(1)), None);
        assert_eq!(t.slot_of(InstrumentId(99)), None);
        let okx = SymbolTable::build(&reg, "okx", KeyCase::AsIs).unwrap();
        assert_eq!(okx.lookup(b"BTC-USDT").unwrap().id, InstrumentId(1));
    }

    #[test]
    fn rejects_case_collisions_and_long_symbols() {
        let reg =
            InstrumentRegistry::build(&[spec("binance", "BTCUSDT"), spec("binance", "btcusdt")])
                .unwrap();
        let err = SymbolTable::build(&reg, "binance", KeyCase::Lower).unwrap_err();
        assert!(err.to_string().contains("same wire symbol"), "{err}");
        let long = "X".repeat(MAX_SYMBOL_LEN + 1);
        let reg = InstrumentRegistry::build(&[spec("binance", &long)]).unwrap();
        assert!(matches!(
            SymbolTable::build(&reg, "binance", KeyCase::Lower),
            Err(Error::SymbolTooLong { .. })
        ));
    }
}
