//! A fixed-capacity map from client order id to a slot number, allocated once.
//!
//! Open addressing with linear probing and backward-shift deletion (no tombstones, so
//! lookups never degrade with churn). Key 0 marks an empty bucket: client order id 0 is never
//! issued (`ClientOrderIdGen` starts every session's counter at 1 under a non-zero base).

/// Id → slot map with room for `capacity` keys.
#[derive(Debug)]
pub(crate) struct IdIndex {
    keys: Vec<u64>,
    vals: Vec<u32>,
    mask: usize,
    len: usize,
    limit: usize,
}

impl IdIndex {
    /// A map that holds up to `capacity` keys at a load factor of at most one half.
    pub(crate) fn new(capacity: usize) -> IdIndex {
        let buckets = (capacity.max(4) * 2).next_power_of_two();
        IdIndex {
            keys: vec![0; buckets],
            vals: vec![0; buckets],
            mask: buckets - 1,
            len: 0,
            limit: capacity.max(4),
        }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        // Fibonacci hashing: ids are sequential, so spread them with a multiply.
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & self.mask
    }

    /// The slot of `key`.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        if key == 0 {
            return None;
        }
        let mut i = self.home(key);
        loop {
            let k = self.keys[i];
            if k == key {
                return Some(self.vals[i]);
            }
            if k == 0 {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts `key → val`; false if the key is 0, already present, or the map is full.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, val: u32) -> bool {
        if key == 0 || self.len >= self.limit {
            return false;
        }
        let mut i = self.home(key);
        loop {
            let k = self.keys[i];
            if k == key {
                return false;
            }
            if k == 0 {
                self.keys[i] = key;
                self.vals[i] = val;
                self.len += 1;
                return true;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes `key`; returns its slot.
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) -> Option<u32> {
        if key == 0 {
            return None;
        }
        let mut i = self.home(key);
        loop {
            let k = self.keys[i];
            if k == 0 {
                return None;
            }
            if k == key {
                break;
            }
            i = (i + 1) & self.mask;
        }
        let val = self.vals[i];
        // Backward shift: pull later members of the probe run into the hole.
        let mut hole = i;
        let mut j = (i + 1) & self.mask;
        loop {
            let k = self.keys[j];
            if k == 0 {
                break;
            }
            let home = self.home(k);
            // Move k into the hole if its home is not in (hole, j] (cyclically).
            let in_range =
                if hole <= j { home > hole && home <= j } else { home > hole || home <= j };
            if !in_range {
                self.keys[hole] = k;
                self.vals[hole] = self.vals[j];
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        self.keys[hole] = 0;
        self.len -= 1;
        Some(val)
    }

    /// Keys held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn insert_get_remove_and_refusals() {
        let mut m = IdIndex::new(4);
        assert!(!m.insert(0, 1), "key 0 is reserved");
        for k in 1..=4 {
            assert!(m.insert(k, k as u32 * 10));
        }
        assert!(!m.insert(5, 50), "full");
        assert!(!m.insert(2, 99), "duplicate");
        assert_eq!(m.get(2), Some(20));
        assert_eq!(m.remove(2), Some(20));
        assert_eq!(m.get(2), None);
        assert_eq!(m.remove(2), None);
        assert!(m.insert(5, 50));
        assert_eq!(
            (m.get(1), m.get(3), m.get(4), m.get(5)),
            (Some(10), Some(30), Some(40), Some(50))
        );
        assert_eq!(m.len(), 4);
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec((0u8..3, 1u64..64), 1..400)) {
            let mut m = IdIndex::new(48);
            let mut reference: HashMap<u64, u32> = HashMap::new();
            for (i, (op, key)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        let ok = m.insert(key, i as u32);
                        let expect = reference.len() < 48 && !reference.contains_key(&key);
                        prop_assert_eq!(ok, expect);
                        if ok { reference.insert(key, i as u32); }
                    }
                    1 => prop_assert_eq!(m.remove(key), reference.remove(&key)),
                    _ => prop_assert_eq!(m.get(key), reference.get(&key).copied()),
                }
                prop_assert_eq!(m.len(), reference.len());
            }
            for (k, v) in &reference {
                prop_assert_eq!(m.get(*k), Some(*v));
            }
        }
    }
}
