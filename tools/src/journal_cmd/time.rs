//! Timestamps on the command line and in output: nanoseconds since the epoch, RFC 3339 UTC.
//!
//! Hand-rolled (Howard Hinnant's civil-date algorithms) rather than a date crate: the tools
//! need UTC only, in two directions, and nothing else of a calendar.

use std::time::{SystemTime, UNIX_EPOCH};

const NS: i64 = 1_000_000_000;
const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `ns` since the epoch as RFC 3339 UTC with nanoseconds: `2024-08-08T12:00:00.000000001Z`.
pub fn format_ns(ns: i64) -> String {
    let secs = ns.div_euclid(NS);
    let frac = ns.rem_euclid(NS);
    let (days, sod) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Wall-clock now, ns since the epoch.
pub fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// Parses a time: ns since the epoch (`1723118400000000000`), RFC 3339
/// (`2024-08-08T12:00:00Z`, `2024-08-08T12:00:00.5+02:00`), or a span before now (`-10m`,
/// `-2h`, `-1d`).
pub fn parse_time(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "{text:?} is not a time: use ns since the epoch, RFC 3339 \
             (2024-08-08T12:00:00Z) or a span before now (-10m)"
        )
    };
    if let Some(span) = t.strip_prefix('-') {
        let d = parse_span(span).ok_or_else(bad)?;
        return Ok(now_ns().saturating_sub(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
        return t.parse::<i64>().map_err(|_| bad());
    }
    parse_rfc3339(t).ok_or_else(bad)
}

/// `"10s"`, `"5m"`, `"2h"`, `"7d"` (and what `config::parse_duration` reads).
pub fn parse_span(text: &str) -> Option<std::time::Duration> {
    let t = text.trim();
    match t.strip_suffix('d') {
        Some(days) if days.bytes().all(|b| b.is_ascii_digit()) && !days.is_empty() => {
            Some(std::time::Duration::from_secs(days.parse::<u64>().ok()?.checked_mul(86_400)?))
        }
        _ => crate::config::parse_duration(t),
    }
}

fn parse_rfc3339(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &t[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        frac = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    let offset = match &t[i..] {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let oh: i64 = o[1..3].parse().ok()?;
            let om: i64 = o[4..6].parse().ok()?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + s - offset;
    secs.checked_mul(NS)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_back() {
        for ns in [0, 1, 1_723_118_400_123_456_789, -1, 951_782_400_000_000_000] {
            let s = format_ns(ns);
            assert_eq!(parse_time(&s), Ok(ns), "{s}");
        }
        assert_eq!(format_ns(1_723_118_400_000_000_001), "2024-08-08T12:00:00.000000001Z");
        assert_eq!(parse_time("2024-08-08T14:00:00+02:00"), Ok(1_723_118_400_000_000_000));
        assert_eq!(parse_time("2024-08-08T12:00:00.5Z"), Ok(1_723_118_400_500_000_000));
        assert_eq!(parse_time("1723118400000000000"), Ok(1_723_118_400_000_000_000));
        let ago = parse_time("-1h").unwrap();
        assert!((now_ns() - ago - 3_600_000_000_000).abs() < 60_000_000_000);
        for bad in ["", "yesterday", "2024-13-01T00:00:00Z", "2024-08-08T12:00:00", "-5x"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_span("2d"), Some(std::time::Duration::from_secs(172_800)));
    }
}
