//! Fault injection: what the simulated venue does wrong, and when.
//!
//! A fault is written `KIND@N` (once, at the N-th data frame the venue produces) or
//! `KIND%N` (at every N-th), with an optional `:ARG`:
//!
//! | kind | effect | arg |
//! |---|---|---|
//! | `drop` | the next book diff is applied to the venue's book but not sent: a gap | |
//! | `disconnect` | every connection is cut (TCP closed, no close frame) | |
//! | `close` | every connection gets a WebSocket close frame | |
//! | `stall` | the venue sends nothing (data or pings) for ARG ms | ms (5000) |
//! | `malformed` | a truncated copy of the frame, its first `,` made `;`, is sent first | |
//! | `oversized` | a text frame of ARG bytes is sent first | bytes (2 MiB) |
//! | `binary` | a binary frame is sent first | |
//! | `ping-storm` | ARG pings are sent back to back first | count (1000) |
//! | `reorder` | the previous book diff is sent again (out of order) | |
//! | `bad` | a bookTicker/bbo frame with one bad value is sent first | `wrong-type`, `unknown-symbol`, `negative`, `overflow`, `too-precise`, `bad-number`, `missing-field`, `unknown-stream`, `symbol-mismatch`, `bad-sequence` |

use std::str::FromStr;

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Skip the next book diff.
    Drop,
    /// Cut every connection.
    Disconnect,
    /// Close every connection politely.
    Close,
    /// Send nothing for this many ms.
    Stall(u64),
    /// A truncated frame.
    Malformed,
    /// A frame of this many bytes.
    Oversized(usize),
    /// A binary frame.
    Binary,
    /// This many pings.
    PingStorm(u32),
    /// The previous book diff again.
    Reorder,
    /// A frame with one bad value of this kind.
    Bad(BadValue),
}

/// Which value a `bad` fault spoils.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum BadValue {
    WrongType,
    UnknownSymbol,
    Negative,
    Overflow,
    TooPrecise,
    BadNumber,
    MissingField,
    UnknownStream,
    SymbolMismatch,
    BadSequence,
}

impl BadValue {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [BadValue; 10] = [
        BadValue::WrongType,
        BadValue::UnknownSymbol,
        BadValue::Negative,
        BadValue::Overflow,
        BadValue::TooPrecise,
        BadValue::BadNumber,
        BadValue::MissingField,
        BadValue::UnknownStream,
        BadValue::SymbolMismatch,
        BadValue::BadSequence,
    ];

    /// CLI name.
    pub const fn name(self) -> &'static str {
        match self {
            BadValue::WrongType => "wrong-type",
            BadValue::UnknownSymbol => "unknown-symbol",
            BadValue::Negative => "negative",
            BadValue::Overflow => "overflow",
            BadValue::TooPrecise => "too-precise",
            BadValue::BadNumber => "bad-number",
            BadValue::MissingField => "missing-field",
            BadValue::UnknownStream => "unknown-stream",
            BadValue::SymbolMismatch => "symbol-mismatch",
            BadValue::BadSequence => "bad-sequence",
        }
    }
}

/// When a fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Once, at this data frame (1-based).
    At(u64),
    /// At every multiple of this.
    Every(u64),
}

/// A fault and when it fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What.
    pub kind: FaultKind,
    /// When.
    pub when: When,
}

impl Fault {
    /// Whether it fires at data frame `n` (1-based).
    pub fn fires_at(&self, n: u64) -> bool {
        match self.when {
            When::At(k) => n == k,
            When::Every(k) => k > 0 && n % k == 0,
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let usage = || {
            format!("fault {s:?}: expected KIND@N or KIND%N with an optional :ARG (e.g. drop@100, stall@500:3000, bad%50:negative)")
        };
        let (spec, arg) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let (name, when) = if let Some((k, n)) = spec.split_once('@') {
            (k, When::At(n.parse().map_err(|_| usage())?))
        } else if let Some((k, n)) = spec.split_once('%') {
            (k, When::Every(n.parse().map_err(|_| usage())?))
        } else {
            return Err(usage());
        };
        let num = |default: u64| -> Result<u64, String> {
            arg.map_or(Ok(default), |a| a.parse().map_err(|_| usage()))
        };
        let kind = match name {
            "drop" => FaultKind::Drop,
            "disconnect" => FaultKind::Disconnect,
            "close" => FaultKind::Close,
            "stall" => FaultKind::Stall(num(5_000)?),
            "malformed" => FaultKind::Malformed,
            "oversized" => FaultKind::Oversized(num(2 << 20)? as usize),
            "binary" => FaultKind::Binary,
            "ping-storm" => FaultKind::PingStorm(num(1_000)? as u32),
            "reorder" => FaultKind::Reorder,
            "bad" => {
                let a = arg.ok_or_else(usage)?;
                let v = BadValue::ALL.into_iter().find(|v| v.name() == a).ok_or_else(|| {
                    let names: Vec<_> = BadValue::ALL.iter().map(|v| v.name()).collect();
                    format!("fault {s:?}: bad value must be one of {}", names.join(", "))
                })?;
                FaultKind::Bad(v)
            }
            _ => return Err(format!("fault {s:?}: unknown kind {name:?}")),
        };
        if matches!(when, When::At(0) | When::Every(0)) {
            return Err(format!("fault {s:?}: frames count from 1"));
        }
        Ok(Fault { kind, when })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(
            "drop@100".parse::<Fault>().unwrap(),
            Fault { kind: FaultKind::Drop, when: When::At(100) }
        );
        assert_eq!("stall@5:300".parse::<Fault>().unwrap().kind, FaultKind::Stall(300));
        assert_eq!("ping-storm%7".parse::<Fault>().unwrap().when, When::Every(7));
        assert_eq!(
            "bad@3:too-precise".parse::<Fault>().unwrap().kind,
            FaultKind::Bad(BadValue::TooPrecise)
        );
        for bad in ["drop", "drop@x", "nope@1", "bad@1", "bad@1:weird", "drop@0", "stall@1:x"] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
        let f: Fault = "binary%10".parse().unwrap();
        assert!(f.fires_at(20) && !f.fires_at(21));
    }
}
