//! The only proof that an order passed pre-trade risk.

use crate::types::Order;

/// A value the risk stage approved. It has no public constructor: only [`crate::risk`] can
/// make one, and venue adapters accept nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct RiskApproved<T>(T);

impl<T> RiskApproved<T> {
    /// Approval (risk module only).
    #[inline]
    pub(crate) const fn new(value: T) -> RiskApproved<T> {
        RiskApproved(value)
    }

    /// The approved value.
    #[inline]
    pub const fn get(&self) -> &T {
        &self.0
    }

    /// The approved value, giving up the proof.
    #[inline]
    pub fn into_inner(self) -> T {
        self.0
    }
}

// SAFETY: `RiskApproved<Order>` is `repr(transparent)` over `Order`, which is `NoUninit`
// (no padding, all bytes initialised), so it has the same layout and the same guarantee.
// `NoUninit` only lets bytes be *read out* of a value; it gives no way to make one from bytes,
// so no code outside this module can forge an approval through it.
unsafe impl bytemuck::NoUninit for RiskApproved<Order> {}
