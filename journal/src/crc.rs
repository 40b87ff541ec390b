//! CRC32C of a record frame, with the SSE4.2 `crc32` instruction inline where the CPU has it.
//!
//! A frame's CRC covers its first 24 bytes and its payload: about 90 bytes for a typical
//! record. Through the `crc32c` crate that is two calls, each with its own feature dispatch
//! and alignment handling, which cost several times the dozen `crc32` instructions the bytes
//! need; on the append path and in the recovery scan that was most of the per-record time.
//! Here the header goes in as the three words the caller already holds and the payload word
//! by word: one call, one chain of `crc32` instructions. Whole-buffer checksums still go to
//! the `crc32c` crate, whose three-way interleaving wins on long inputs.

/// CRC32C of the header words `head` (bytes 0..24 of a frame, as little-endian words)
/// followed by `payload`: the value a frame stores at bytes 24..28. Equal to
/// `crc32c_append(crc32c(head bytes), payload)`.
#[inline]
pub(crate) fn frame(head: [u64; 3], payload: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("sse4.2") {
            // SAFETY: `sse42::frame` needs only that the CPU supports SSE4.2, which was
            // checked just above (a cached load after the first call).
            return unsafe { sse42::frame(head, payload) };
        }
    }
    portable(head, payload)
}

/// [`frame`] through the `crc32c` crate (its own hardware dispatch, or tables).
fn portable(head: [u64; 3], payload: &[u8]) -> u32 {
    let mut b = [0u8; 24];
    for (dst, w) in b.chunks_exact_mut(8).zip(head) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
    crc32c::crc32c_append(crc32c::crc32c(&b), payload)
}

#[cfg(target_arch = "x86_64")]
mod sse42 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};

    /// [`super::frame`] with the `crc32` instruction. The instruction consumes a word's bytes
    /// lowest address first, as the byte-wise CRC does, so little-endian words give the
    /// same value as the bytes.
    ///
    /// # Safety
    ///
    /// The CPU must support SSE4.2.
    #[inline]
    #[target_feature(enable = "sse4.2")]
    pub(super) unsafe fn frame(head: [u64; 3], payload: &[u8]) -> u32 {
        let mut crc = u64::from(u32::MAX);
        for w in head {
            // SAFETY: our caller guarantees SSE4.2.
            crc = unsafe { word(crc, w) };
        }
        let mut words = payload.chunks_exact(8);
        for w in words.by_ref() {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            // SAFETY: as above.
            crc = unsafe { word(crc, u64::from_le_bytes(x)) };
        }
        // The instruction keeps the CRC in the low 32 bits.
        let mut crc = crc as u32;
        for &b in words.remainder() {
            // SAFETY: as above.
            crc = unsafe { byte(crc, b) };
        }
        !crc
    }

    /// # Safety
    ///
    /// The CPU must support SSE4.2.
    #[inline]
    #[target_feature(enable = "sse4.2")]
    unsafe fn word(crc: u64, w: u64) -> u64 {
        // Safe to call in a function with the feature enabled since Rust 1.87; the block
        // keeps the crate building on its declared rust-version.
        #[allow(unused_unsafe)]
        // SAFETY: our caller guarantees SSE4.2.
        unsafe {
            _mm_crc32_u64(crc, w)
        }
    }

    /// # Safety
    ///
    /// The CPU must support SSE4.2.
    #[inline]
    #[target_feature(enable = "sse4.2")]
    unsafe fn byte(crc: u32, b: u8) -> u32 {
        #[allow(unused_unsafe)]
        // SAFETY: as for `word`.
        unsafe {
            _mm_crc32_u8(crc, b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(head: [u64; 3]) -> Vec<u8> {
        head.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn known_value() {
        // crc32c("123456789") = 0xe3069283, split across header and payload.
        let head = [
            u64::from_le_bytes(*b"12345678"),
            u64::from_le_bytes(*b"9abcdefg"),
            u64::from_le_bytes(*b"hijklmno"),
        ];
        let mut all = bytes(head);
        all.extend_from_slice(b"pqr");
        assert_eq!(frame(head, b"pqr"), crc32c::crc32c(&all));
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    }

    proptest! {
        /// The inline path and the crate agree on every header and payload length.
        #[test]
        fn matches_the_crate(head: [u64; 3], payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut all = bytes(head);
            all.extend_from_slice(&payload);
            let want = crc32c::crc32c(&all);
            prop_assert_eq!(frame(head, &payload), want);
            prop_assert_eq!(portable(head, &payload), want);
        }
    }
}
