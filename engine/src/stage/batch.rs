//! A fixed-capacity batch: how stages hand several events to the next without allocating.

/// Up to `N` `Copy` values, stored inline. Pushing past capacity is refused, never grown.
pub struct Batch<T: Copy, const N: usize> {
    items: [Option<T>; N],
    len: usize,
    limit: usize,
}

impl<T: Copy, const N: usize> std::fmt::Debug for Batch<T, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("len", &self.len).field("capacity", &N).finish()
    }
}

impl<T: Copy, const N: usize> Default for Batch<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy, const N: usize> Batch<T, N> {
    /// An empty batch.
    pub const fn new() -> Self {
        Batch { items: [None; N], len: 0, limit: N }
    }

    /// Appends `v`; gives it back if the batch is full.
    #[inline]
    pub fn push(&mut self, v: T) -> Result<(), T> {
        if self.len >= self.limit {
            return Err(v);
        }
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(v);
                self.len += 1;
                Ok(())
            }
            None => Err(v),
        }
    }

    /// Values in the batch.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether another push would be refused.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len >= self.limit
    }

    /// Free slots left.
    #[inline]
    pub fn room(&self) -> usize {
        self.limit.saturating_sub(self.len)
    }

    /// Caps how many values the batch accepts (at most `N`), for a consumer with less room.
    #[inline]
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(N);
    }

    /// The value at `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        if i < self.len {
            self.items[i]
        } else {
            None
        }
    }

    /// Empties the batch.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_capacity_and_reads_back() {
        let mut b = Batch::<u64, 2>::new();
        assert_eq!(b.push(1), Ok(()));
        assert_eq!(b.push(2), Ok(()));
        assert_eq!(b.push(3), Err(3));
        assert!(b.is_full());
        assert_eq!((b.get(0), b.get(1), b.get(2)), (Some(1), Some(2), None));
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.get(0), None);
    }
}
