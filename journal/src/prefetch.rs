//! A prefetch hint for the scans that walk a segment front to back (recovery, verify,
//! readers building their index).
//!
//! The hardware prefetcher follows a sequential stream only up to the end of a 4 KiB page and
//! then has to pick it up again, so a scan over a segment in the page cache stalls at every
//! page. Asking for the line a page ahead keeps the loads streaming: the recovery scan of a
//! 1 GiB segment runs about a third faster.

/// How far ahead of the current offset [`page_ahead`] asks for data.
const AHEAD: usize = 4096;

/// Asks the CPU to start loading the cache line [`AHEAD`] bytes past `off` of `bytes`. Only
/// a hint: it never faults, so that address may lie past the end of `bytes` (and of the map).
#[inline(always)]
pub(crate) fn page_ahead(bytes: &[u8], off: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = bytes.as_ptr().wrapping_add(off.wrapping_add(AHEAD));
        // SAFETY: PREFETCHT0 (SSE, which every x86-64 CPU has) reads nothing the program can
        // observe and raises no fault for any address, mapped or not; `wrapping_add` makes
        // the pointer without claiming it is in bounds.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bytes, off);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_is_fine() {
        let b = [0u8; 16];
        for off in [0, 15, 16, 4096, usize::MAX - 100, usize::MAX] {
            page_ahead(&b, off);
        }
        page_ahead(&[], 0);
    }
}
