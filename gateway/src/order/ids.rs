//! Client order ids the gateway makes itself: the per-order cancels of a cancel-all, cancels
//! deferred behind a replace, and cancel-on-disconnect.
//!
//! They come from an [`ClientOrderIdGen`] (session start in the high half, so unique across
//! restarts like the strategies' ids) with bit 63 set, which the strategies' ids never have
//! before 2038 (their high half is seconds since the epoch, below 2^31 until then), so the
//! two ranges cannot collide.

use tickline_engine::types::{ClientOrderId, ClientOrderIdGen, Nanos};

/// Bit that marks an id the gateway made.
pub const GATEWAY_ID_BIT: u64 = 1 << 63;

/// Generator of gateway-made client order ids.
#[derive(Clone, Debug)]
pub struct GatewayIds(ClientOrderIdGen);

impl GatewayIds {
    /// Ids for a session that started at `start`.
    pub fn new(start: Nanos) -> GatewayIds {
        GatewayIds(ClientOrderIdGen::new(start))
    }

    /// The next id.
    #[inline]
    pub fn next_id(&mut self) -> ClientOrderId {
        ClientOrderId(self.0.next_id().0 | GATEWAY_ID_BIT)
    }

    /// Whether `id` was made by a gateway.
    #[inline]
    pub const fn is_gateway_id(id: ClientOrderId) -> bool {
        id.0 & GATEWAY_ID_BIT != 0 && id.0 != ClientOrderId::ALL.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_ids_never_collide_with_strategy_ids() {
        let start = Nanos(1_700_000_000_000_000_000);
        let mut strategy = ClientOrderIdGen::new(start);
        let mut gateway = GatewayIds::new(start);
        let (s, g) = (strategy.next_id(), gateway.next_id());
        assert_ne!(s, g);
        assert!(GatewayIds::is_gateway_id(g) && !GatewayIds::is_gateway_id(s));
        assert!(!GatewayIds::is_gateway_id(ClientOrderId::ALL));
        assert_eq!(gateway.next_id().0, g.0 + 1);
    }
}
