//! Wire symbol → instrument, resolved without allocating.
//!
//! Built once at start-up from the [`InstrumentRegistry`] for one venue. Keys are fixed-size
//! byte arrays; a lookup reads the wire symbol's first and last eight bytes (which, with its
//! length, are the whole symbol when it has at most 16 bytes), hashes them into an
//! open-addressed index built at start-up and compares those words with the bucket's: no
//! hashing of a `String`, no allocation, no byte-by-byte comparison for ordinary symbols.

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

    /// The wire key zero-padded to [`MAX_SYMBOL_LEN`] bytes, for comparing a word at a time.
    #[inline]
    pub(crate) fn padded_key(&self) -> &[u8; MAX_SYMBOL_LEN] {
        &self.key
    }

    /// Whether `symbol` names this entry, ignoring ASCII case (Binance payloads spell the
    /// symbol in upper case while stream names are lower case).
    #[inline]
    pub fn matches_ignore_case(&self, symbol: &[u8]) -> bool {
        self.key().eq_ignore_ascii_case(symbol)
    }
}

/// Keys up to this long are fully determined by their length, first and last words.
const WORDS_COVER: usize = 16;

/// The first and last eight bytes of `key` (four, or single bytes, for shorter keys). Together
/// with the length they determine every byte of a key of at most [`WORDS_COVER`] bytes: the
/// two windows overlap to cover it.
#[inline]
fn key_words(key: &[u8]) -> (u64, u64) {
    let n = key.len();
    let le64 = |b: &[u8]| b.first_chunk::<8>().map_or(0, |c| u64::from_le_bytes(*c));
    let le32 = |b: &[u8]| b.first_chunk::<4>().map_or(0, |c| u64::from(u32::from_le_bytes(*c)));
    match n {
        8.. => (le64(key), le64(&key[n - 8..])),
        4..=7 => (le32(key), le32(&key[n - 4..])),
        1..=3 => (u64::from(key[0]) | u64::from(key[n / 2]) << 8 | u64::from(key[n - 1]) << 16, 0),
        0 => (0, 0),
    }
}

#[inline]
fn key_hash(first: u64, last: u64, len: usize) -> u64 {
    (first ^ last.rotate_left(29) ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// One place of the lookup index: a key's length and words, and its slot. Length 0 is empty.
#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    first: u64,
    last: u64,
    len: u32,
    slot: u32,
}

/// The frozen wire-symbol table of one venue.
#[derive(Clone, Debug)]
pub struct SymbolTable {
    by_slot: Vec<SymbolEntry>,
    slot_of_id: Vec<u32>,
    // Open addressing with linear probing, a power of two at least twice the entries, so a
    // probe always reaches an empty bucket.
    index: Vec<Bucket>,
    index_shift: u32,
}

impl Default for SymbolTable {
    fn default() -> Self {
        let mut table = SymbolTable {
            by_slot: Vec::new(),
            slot_of_id: Vec::new(),
            index: Vec::new(),
            index_shift: 0,
        };
        table.build_index();
        table
    }
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
        table.build_index();
        Ok(table)
    }

    /// Builds the lookup index over `by_slot`.
    fn build_index(&mut self) {
        let size = (self.by_slot.len() * 2).next_power_of_two().max(8);
        self.index = vec![Bucket::default(); size];
        self.index_shift = 64 - size.trailing_zeros();
        for entry in &self.by_slot {
            let (first, last) = key_words(entry.key());
            let mut i = self.bucket_of(first, last, entry.key().len());
            while self.index[i].len != 0 {
                i = (i + 1) & (size - 1);
            }
            // Keys are at most MAX_SYMBOL_LEN bytes and slots fit a u32 (checked at build).
            self.index[i] = Bucket { first, last, len: u32::from(entry.len), slot: entry.slot };
        }
    }

    #[inline]
    fn bucket_of(&self, first: u64, last: u64, len: usize) -> usize {
        (key_hash(first, last, len) >> self.index_shift) as usize
    }

    /// The entry whose wire key is exactly `wire`.
    #[inline]
    pub fn lookup(&self, wire: &[u8]) -> Option<&SymbolEntry> {
        let len = wire.len();
        if len == 0 || len > MAX_SYMBOL_LEN {
            return None;
        }
        let (first, last) = key_words(wire);
        let mask = self.index.len() - 1;
        let mut i = self.bucket_of(first, last, len);
        loop {
            let b = self.index.get(i)?;
            if b.len == 0 {
                return None;
            }
            if b.len as usize == len && b.first == first && b.last == last {
                let entry = self.by_slot.get(b.slot as usize)?;
                // Longer keys have bytes between the two words.
                if len <= WORDS_COVER || entry.key() == wire {
                    return Some(entry);
                }
            }
            i = (i + 1) & mask;
        }
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
    fn long_keys_are_compared_in_full() {
        // Same length, same first and last eight bytes: only the middle tells them apart.
        let reg = InstrumentRegistry::build(&[
            spec("v", "AAAAAAAA-X-BBBBBBBB"),
            spec("v", "AAAAAAAA-Y-BBBBBBBB"),
        ])
        .unwrap();
        let t = SymbolTable::build(&reg, "v", KeyCase::AsIs).unwrap();
        assert_eq!(t.lookup(b"AAAAAAAA-X-BBBBBBBB").unwrap().id, InstrumentId(0));
        assert_eq!(t.lookup(b"AAAAAAAA-Y-BBBBBBBB").unwrap().id, InstrumentId(1));
        assert!(t.lookup(b"AAAAAAAA-Z-BBBBBBBB").is_none());
        assert!(SymbolTable::default().lookup(b"x").is_none());
    }

    /// The index finds exactly what a scan of every entry finds, for keys of every length
    /// (near-misses included: the same words with another length, one byte changed).
    #[test]
    fn index_agrees_with_a_linear_scan() {
        use proptest::prelude::*;
        let key =
            proptest::collection::vec(prop::sample::select(&b"ab01-"[..]), 1..=MAX_SYMBOL_LEN);
        proptest!(|(keys in proptest::collection::vec(key.clone(), 0..40),
                    probes in proptest::collection::vec(key, 0..40),
                    flip in any::<prop::sample::Index>())| {
            let mut keys: Vec<Vec<u8>> = keys;
            keys.sort();
            keys.dedup();
            let specs: Vec<InstrumentSpec> = keys
                .iter()
                .map(|k| spec("v", std::str::from_utf8(k).unwrap()))
                .collect();
            let reg = InstrumentRegistry::build(&specs).unwrap();
            let t = SymbolTable::build(&reg, "v", KeyCase::AsIs).unwrap();
            let scan = |wire: &[u8]| t.iter().find(|e| e.key() == wire).map(|e| e.id);
            let mut queries = probes;
            for k in &keys {
                queries.push(k.clone());
                let mut near = k.clone();
                let i = flip.index(near.len());
                near[i] ^= 1;
                queries.push(near);
                queries.push(k[..k.len() - 1].to_vec());
            }
            queries.push(Vec::new());
            queries.push(vec![b'a'; MAX_SYMBOL_LEN + 1]);
            for q in &queries {
                let found = t.lookup(q).map(|e| e.id);
                prop_assert_eq!(found, scan(q), "{:?}", String::from_utf8_lossy(q));
            }
            for k in &keys {
                prop_assert!(t.lookup(k).is_some());
            }
        });
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
