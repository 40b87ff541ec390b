//! The hot-path decode error: one small `Copy` kind per way a venue frame can be bad.

/// Why a frame from a venue did not become an event.
///
/// One variant per kind of bad input, so telemetry can count each (see
/// [`crate::telemetry::DecodeErrorCounters`]). It never allocates and never carries the frame:
/// the caller still holds the bytes if it wants to log a sample of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[repr(u8)]
pub enum DecodeError {
    /// The frame is larger than the decoder's size limit.
    #[error("frame exceeds the size limit")]
    TooLarge = 0,
    /// A binary WebSocket frame where the venue sends text.
    #[error("binary frame where text was expected")]
    Binary = 1,
    /// Not valid JSON (truncated, bad syntax, invalid UTF-8).
    #[error("malformed JSON")]
    Malformed = 2,
    /// A required field is absent.
    #[error("a required field is missing")]
    MissingField = 3,
    /// A field has the wrong JSON type (a number where a string is expected, a fraction
    /// where an integer is expected, an object where an array is expected).
    #[error("a field has the wrong JSON type")]
    WrongType = 4,
    /// A stream, channel or event type this decoder does not handle.
    #[error("unknown stream, channel or event type")]
    UnknownStream = 5,
    /// A symbol that is not a configured instrument of this venue.
    #[error("unknown symbol")]
    UnknownSymbol = 6,
    /// The payload names a different instrument from the stream it arrived on.
    #[error("payload symbol does not match the stream")]
    SymbolMismatch = 7,
    /// A negative price, size or id.
    #[error("negative number")]
    Negative = 8,
    /// A number that does not fit 64 bits (at the instrument's scale, for prices and sizes).
    #[error("number overflows 64 bits")]
    Overflow = 9,
    /// A price or size with more decimal places than the instrument's scale.
    #[error("more decimal places than the instrument allows")]
    TooPrecise = 10,
    /// A price or size string that is not a plain decimal (`"abc"`, `"1e5"`, `""`).
    #[error("invalid number")]
    BadNumber = 11,
    /// Sequence ids that contradict each other within one frame (first id after final id).
    #[error("inconsistent sequence ids in one frame")]
    BadSequence = 12,
}

impl DecodeError {
    /// Number of kinds.
    pub const COUNT: usize = 13;

    /// Every kind, in discriminant order.
    pub const ALL: [DecodeError; DecodeError::COUNT] = [
        DecodeError::TooLarge,
        DecodeError::Binary,
        DecodeError::Malformed,
        DecodeError::MissingField,
        DecodeError::WrongType,
        DecodeError::UnknownStream,
        DecodeError::UnknownSymbol,
        DecodeError::SymbolMismatch,
        DecodeError::Negative,
        DecodeError::Overflow,
        DecodeError::TooPrecise,
        DecodeError::BadNumber,
        DecodeError::BadSequence,
    ];

    /// Dense index, for per-kind counter arrays.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// A stable snake-case name for metrics labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            DecodeError::TooLarge => "too_large",
            DecodeError::Binary => "binary",
            DecodeError::Malformed => "malformed",
            DecodeError::MissingField => "missing_field",
            DecodeError::WrongType => "wrong_type",
            DecodeError::UnknownStream => "unknown_stream",
            DecodeError::UnknownSymbol => "unknown_symbol",
            DecodeError::SymbolMismatch => "symbol_mismatch",
            DecodeError::Negative => "negative",
            DecodeError::Overflow => "overflow",
            DecodeError::TooPrecise => "too_precise",
            DecodeError::BadNumber => "bad_number",
            DecodeError::BadSequence => "bad_sequence",
        }
    }
}

const _: () = assert!(std::mem::size_of::<DecodeError>() == 1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_dense_and_names_are_unique() {
        for (i, kind) in DecodeError::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
        let mut names: Vec<_> = DecodeError::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DecodeError::COUNT);
    }
}
