//! A WebSocket message body as the connection hands it to a decoder.

/// The body of one WebSocket data message, tagged with its opcode.
///
/// Decoders accept [`Payload::Text`] only: every venue here sends JSON text, so a binary
/// message is bad input ([`crate::DecodeError::Binary`]), not something to guess at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// A text message (UTF-8 JSON).
    Text(&'a [u8]),
    /// A binary message.
    Binary(&'a [u8]),
}

impl<'a> Payload<'a> {
    /// The raw bytes, whatever the opcode.
    #[inline]
    pub const fn bytes(self) -> &'a [u8] {
        match self {
            Payload::Text(b) | Payload::Binary(b) => b,
        }
    }

    /// Length in bytes.
    #[inline]
    pub const fn len(self) -> usize {
        self.bytes().len()
    }

    /// Whether the body is empty.
    #[inline]
    pub const fn is_empty(self) -> bool {
        self.bytes().is_empty()
    }
}
