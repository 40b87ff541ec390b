//! The fallback path: `simd-json`'s tape, reused frame after frame.
//!
//! The tape, its stage-1 buffers and the mutable copy of the input `simd-json` needs are kept
//! between frames, so once they have grown to the largest frame seen the fallback does not
//! allocate either. [`Val`] walks the tape directly: it finds keys in any order and ignores
//! fields it is not asked for, which is the whole point of the fallback.

use std::fmt;

use simd_json::{Buffers, Node, StaticNode, Tape};
use tickline_engine::types::Scale;

use crate::decode_error::DecodeError;

/// Smallest frame size the buffers are first sized for.
const MIN_SIZED_FOR: usize = 16 * 1024;

/// Reusable `simd-json` state.
pub(crate) struct TapeScratch {
    input: Vec<u8>,
    buffers: Buffers,
    // Frame length the buffers hold without growing. `simd-json` regrows its padded input copy
    // to the exact length of each longer frame, so we size it ourselves, doubling.
    sized_for: usize,
    // Always empty between calls; `Tape::reset` gives it the lifetime of each new input.
    tape: Tape<'static>,
}

impl fmt::Debug for TapeScratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TapeScratch")
            .field("input_capacity", &self.input.capacity())
            .field("tape_capacity", &self.tape.0.capacity())
            .finish()
    }
}

impl Default for TapeScratch {
    fn default() -> Self {
        TapeScratch::new()
    }
}

impl TapeScratch {
    pub(crate) fn new() -> TapeScratch {
        TapeScratch {
            input: Vec::new(),
            buffers: Buffers::new(0),
            sized_for: 0,
            tape: Tape(Vec::new()),
        }
    }

    fn reserve(&mut self, len: usize) {
        if len > self.sized_for {
            let n = len.max(self.sized_for.saturating_mul(2)).max(MIN_SIZED_FOR);
            self.buffers = Buffers::new(n);
            self.input.reserve(n.saturating_sub(self.input.len()));
            self.sized_for = n;
        }
    }

    /// Parses `frame` and hands its root value to `read`. Invalid JSON is
    /// [`DecodeError::Malformed`].
    pub(crate) fn parse<R>(
        &mut self,
        frame: &[u8],
        read: impl FnOnce(Val<'_, '_>) -> Result<R, DecodeError>,
    ) -> Result<R, DecodeError> {
        self.input.clear();
        self.reserve(frame.len());
        self.input.extend_from_slice(frame);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let out = match simd_json::fill_tape(&mut self.input, &mut self.buffers, &mut tape) {
            Ok(()) => read(Val { nodes: &tape.0 }),
            Err(_) => Err(DecodeError::Malformed),
        };
        self.tape = tape.reset();
        out
    }
}

/// Number of tape nodes a value occupies, itself included.
#[inline]
fn span(node: &Node<'_>) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// One JSON value on a tape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Val<'t, 'i> {
    // The value's own node first, then exactly its descendants.
    nodes: &'t [Node<'i>],
}

impl<'t, 'i> Val<'t, 'i> {
    #[inline]
    fn head(&self) -> Result<&'t Node<'i>, DecodeError> {
        self.nodes.first().ok_or(DecodeError::Malformed)
    }

    /// Whether the value is an object.
    pub(crate) fn is_object(&self) -> bool {
        matches!(self.nodes.first(), Some(Node::Object { .. }))
    }

    /// The member `key` of an object, if present; the first one if repeated.
    pub(crate) fn get(&self, key: &str) -> Result<Option<Val<'t, 'i>>, DecodeError> {
        let &Node::Object { len, .. } = self.head()? else {
            return Err(DecodeError::WrongType);
        };
        let mut idx = 1;
        for _ in 0..len {
            let Some(Node::String(k)) = self.nodes.get(idx) else {
                return Err(DecodeError::Malformed);
            };
            idx += 1;
            let n = span(self.nodes.get(idx).ok_or(DecodeError::Malformed)?);
            let value = self.nodes.get(idx..idx + n).ok_or(DecodeError::Malformed)?;
            if *k == key {
                return Ok(Some(Val { nodes: value }));
            }
            idx += n;
        }
        Ok(None)
    }

    /// The member `key`, which must be present.
    #[inline]
    pub(crate) fn field(&self, key: &str) -> Result<Val<'t, 'i>, DecodeError> {
        self.get(key)?.ok_or(DecodeError::MissingField)
    }

    /// A string's contents.
    #[inline]
    pub(crate) fn str(&self) -> Result<&'i str, DecodeError> {
        match self.head()? {
            Node::String(s) => Ok(s),
            _ => Err(DecodeError::WrongType),
        }
    }

    /// A decimal string parsed at `scale`.
    #[inline]
    pub(crate) fn decimal(&self, scale: Scale) -> Result<i64, DecodeError> {
        super::parse_decimal(self.str()?.as_bytes(), scale)
    }

    /// A non-negative integer.
    pub(crate) fn uint(&self) -> Result<u64, DecodeError> {
        match self.head()? {
            Node::Static(StaticNode::U64(v)) => Ok(*v),
            Node::Static(StaticNode::I64(v)) => {
                u64::try_from(*v).map_err(|_| DecodeError::Negative)
            }
            Node::Static(StaticNode::F64(v)) if *v < 0.0 => Err(DecodeError::Negative),
            // A float here is a fraction or an integer too large for 64 bits; neither is an id.
            _ => Err(DecodeError::WrongType),
        }
    }

    /// A signed integer.
    pub(crate) fn int(&self) -> Result<i64, DecodeError> {
        match self.head()? {
            Node::Static(StaticNode::I64(v)) => Ok(*v),
            Node::Static(StaticNode::U64(v)) => {
                i64::try_from(*v).map_err(|_| DecodeError::Overflow)
            }
            _ => Err(DecodeError::WrongType),
        }
    }

    /// A boolean.
    pub(crate) fn boolean(&self) -> Result<bool, DecodeError> {
        match self.head()? {
            Node::Static(StaticNode::Bool(b)) => Ok(*b),
            _ => Err(DecodeError::WrongType),
        }
    }

    /// An array's elements.
    pub(crate) fn items(&self) -> Result<Items<'t, 'i>, DecodeError> {
        match self.head()? {
            &Node::Array { len, .. } => {
                Ok(Items { nodes: self.nodes.get(1..).unwrap_or(&[]), left: len })
            }
            _ => Err(DecodeError::WrongType),
        }
    }
}

/// The elements of a tape array.
#[derive(Clone, Debug)]
pub(crate) struct Items<'t, 'i> {
    nodes: &'t [Node<'i>],
    left: usize,
}

impl<'t, 'i> Items<'t, 'i> {
    /// The next element; a truncated tape is [`DecodeError::Malformed`].
    pub(crate) fn next_val(&mut self) -> Result<Option<Val<'t, 'i>>, DecodeError> {
        if self.left == 0 {
            return Ok(None);
        }
        let n = span(self.nodes.first().ok_or(DecodeError::Malformed)?);
        let (head, tail) = (
            self.nodes.get(..n).ok_or(DecodeError::Malformed)?,
            self.nodes.get(n..).unwrap_or(&[]),
        );
        self.nodes = tail;
        self.left -= 1;
        Ok(Some(Val { nodes: head }))
    }

    /// Elements not yet read.
    pub(crate) fn len(&self) -> usize {
        self.left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_objects_and_arrays_in_any_order() {
        let mut s = TapeScratch::new();
        let frame = br#"{"z":[1,[2,3],{"k":4}],"a":{"b":"x"},"n":-3,"u":7,"f":1.5,"t":true}"#;
        let got = s
            .parse(frame, |root| {
                let a = root.field("a")?.field("b")?.str()?.to_owned();
                let mut items = root.field("z")?.items()?;
                assert_eq!(items.len(), 3);
                let first = items.next_val()?.unwrap().uint()?;
                let inner = items.next_val()?.unwrap().items()?.len();
                let k = items.next_val()?.unwrap().field("k")?.uint()?;
                assert!(items.next_val()?.is_none());
                assert_eq!(root.field("n")?.uint(), Err(DecodeError::Negative));
                assert_eq!(root.field("n")?.int(), Ok(-3));
                assert_eq!(root.field("f")?.uint(), Err(DecodeError::WrongType));
                assert_eq!(root.field("t")?.boolean(), Ok(true));
                assert_eq!(root.field("u")?.str(), Err(DecodeError::WrongType));
                assert_eq!(root.field("missing").err(), Some(DecodeError::MissingField));
                assert_eq!(root.field("a")?.items().err(), Some(DecodeError::WrongType));
                Ok((a, first, inner, k, root.field("u")?.uint()?))
            })
            .unwrap();
        assert_eq!(got, ("x".to_owned(), 1, 2, 4, 7));
        assert_eq!(s.parse(b"{\"a\":", |_| Ok(())), Err(DecodeError::Malformed));
        assert_eq!(s.parse(b"{\"a\":1}x", |_| Ok(())), Err(DecodeError::Malformed));
        assert_eq!(s.parse(&[b'"', 0xff, b'"'], |_| Ok(())), Err(DecodeError::Malformed));
        // Reusable after an error.
        assert_eq!(s.parse(b"[1]", |v| Ok(v.items()?.len())), Ok(1));
    }
}
