//! The FIX 4.4 tag=value codec: encoding into one preallocated buffer, framing and parsing
//! out of the receive buffer. Nothing here allocates after construction; `bench/benches/fix.rs`
//! times it and `gateway/tests/zero_alloc.rs` proves it.

pub mod decode;
pub mod encode;
pub mod num;
pub mod scan;
pub mod tags;
pub mod time;

pub use decode::{
    decode_cancel_reject, decode_execution_report, frame, DecodeError, ExecFields, FieldProblem,
    Frame, Garble, Message, Tag,
};
pub use encode::{
    checksum, new_order_single, order_cancel_replace_request, order_cancel_request, Encoder,
    OrderFields, SOH,
};
