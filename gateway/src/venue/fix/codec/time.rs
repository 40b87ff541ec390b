//! FIX `UTCTimestamp` (`YYYYMMDD-HH:MM:SS.sss`) from engine nanoseconds, with the date part
//! cached so a timestamp costs a few divisions.

use tickline_engine::types::Nanos;

/// Bytes in a millisecond `UTCTimestamp`.
pub const TIMESTAMP_LEN: usize = 21;

const NS_PER_DAY: i64 = 86_400_000_000_000;

/// Formats timestamps; remembers the last day's `YYYYMMDD-`.
#[derive(Clone, Debug)]
pub struct TimestampCache {
    day: i64,
    date: [u8; 9],
}

impl Default for TimestampCache {
    fn default() -> Self {
        TimestampCache { day: i64::MIN, date: *b"19700101-" }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
pub const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01 (H. Hinnant's `days_from_civil`).
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[inline]
fn two(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

impl TimestampCache {
    /// Writes `t` as `YYYYMMDD-HH:MM:SS.sss` into `out` (at least [`TIMESTAMP_LEN`] bytes).
    #[inline]
    pub fn write(&mut self, t: Nanos, out: &mut [u8; TIMESTAMP_LEN]) {
        let day = t.0.div_euclid(NS_PER_DAY);
        if day != self.day {
            self.set_day(day);
        }
        let in_day = t.0.rem_euclid(NS_PER_DAY);
        let ms = (in_day / 1_000_000) as u32;
        let (secs, millis) = (ms / 1000, ms % 1000);
        out[..9].copy_from_slice(&self.date);
        two(&mut out[9..11], secs / 3600);
        out[11] = b':';
        two(&mut out[12..14], secs / 60 % 60);
        out[14] = b':';
        two(&mut out[15..17], secs % 60);
        out[17] = b'.';
        out[18] = b'0' + (millis / 100) as u8;
        out[19] = b'0' + (millis / 10 % 10) as u8;
        out[20] = b'0' + (millis % 10) as u8;
    }

    #[cold]
    fn set_day(&mut self, day: i64) {
        self.day = day;
        let (y, m, d) = civil_from_days(day);
        let y = y.clamp(0, 9999) as u32;
        two(&mut self.date[0..2], y / 100);
        two(&mut self.date[2..4], y % 100);
        two(&mut self.date[4..6], m);
        two(&mut self.date[6..8], d);
        self.date[8] = b'-';
    }
}

/// Parses `YYYYMMDD-HH:MM:SS[.sss[sss[sss]]]` into nanoseconds since the epoch.
pub fn parse_timestamp(b: &[u8]) -> Option<Nanos> {
    if b.len() < 17 || b[8] != b'-' || b[11] != b':' || b[14] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| super::num::parse_u64(&b[r]);
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(12..14)?, num(15..17)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut frac_ns = 0i64;
    if b.len() > 17 {
        let frac = &b[18..];
        if b[17] != b'.' || frac.is_empty() || frac.len() > 9 {
            return None;
        }
        let f = super::num::parse_u64(frac)? as i64;
        frac_ns = f * 10i64.pow(9 - frac.len() as u32);
    }
    let days = days_from_civil(y as i64, m as u32, d as u32);
    let secs = days * 86_400 + (hh * 3600 + mm * 60 + ss) as i64;
    // Past 2262 the nanoseconds do not fit an i64.
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns).map(Nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fmt(t: i64) -> String {
        let mut out = [0u8; TIMESTAMP_LEN];
        TimestampCache::default().write(Nanos(t), &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn known_instants() {
        assert_eq!(fmt(0), "19700101-00:00:00.000");
        // 2024-08-08 23:54:15.208 UTC
        assert_eq!(fmt(1_723_161_255_208_999_999), "20240808-23:54:15.208");
        // 2000-02-29 (a leap day in a century leap year)
        assert_eq!(fmt(951_782_400_000_000_000), "20000229-00:00:00.000");
        assert_eq!(
            parse_timestamp(b"20240808-23:54:15.208"),
            Some(Nanos(1_723_161_255_208_000_000))
        );
        assert_eq!(parse_timestamp(b"20240808-23:54:15"), Some(Nanos(1_723_161_255_000_000_000)));
        assert_eq!(parse_timestamp(b"20241308-23:54:15"), None);
        assert_eq!(parse_timestamp(b"20240808 23:54:15"), None);
        assert_eq!(parse_timestamp(b"99991231-23:59:59.999"), None, "past i64 nanoseconds");
    }

    proptest! {
        #[test]
        fn format_parse_round_trip(ms in 0i64..9_000_000_000_000) {
            let t = ms * 1_000_000;
            let mut cache = TimestampCache::default();
            let mut out = [0u8; TIMESTAMP_LEN];
            cache.write(Nanos(t), &mut out);
            prop_assert_eq!(parse_timestamp(&out), Some(Nanos(t)));
            // The cached date agrees with a fresh one on the next write.
            cache.write(Nanos(t + 1_000_000), &mut out);
            let mut fresh = [0u8; TIMESTAMP_LEN];
            TimestampCache::default().write(Nanos(t + 1_000_000), &mut fresh);
            prop_assert_eq!(out, fresh);
        }
    }
}
