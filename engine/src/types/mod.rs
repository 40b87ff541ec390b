//! Hot-path types: everything that crosses a ring is `Copy`, `#[repr(C)]`, free of padding
//! (proved by `bytemuck::NoUninit`) and sized at compile time.

mod exec;
mod instrument;
mod order;
mod px;
mod tick;
mod time;
mod tsc;

pub use exec::{ExecKind, ExecReport};
pub use instrument::{Instrument, InstrumentId, InstrumentRegistry, InstrumentSpec, RegistryError};
pub use order::{
    Action, ClientOrderId, ClientOrderIdGen, OrdType, Order, OrderIntent, Side, StrategyId,
    TimeInForce,
};
pub use px::{parse_fixed, FixedDisplay, FixedError, ParseFixedError, Px, Qty, Scale, MAX_SCALE};
pub use tick::{Aggressor, Level, Tick, TickFlags, TickKind};
pub use time::{Clock, Nanos};
