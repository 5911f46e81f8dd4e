//! RFC 3339 timestamps <-> unix nanoseconds, pure (no clock access).
//!
//! Owns the one textual time format of plasmite envelopes:
//! `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` — UTC, always nine fraction digits, exactly
//! [`RFC3339_NANOS_LEN`] bytes. Invariants:
//! - the representable range is the `u64` nanosecond range: 1970-01-01T00:00:00Z up to
//!   2554-07-21T23:34:33.709551615Z; later or earlier instants are rejected by the parser;
//! - `parse_rfc3339(&format_rfc3339_nanos(n)) == Ok(n)` for every `u64` `n`;
//! - the parser never panics on any input (it reads bytes with `.get()` only).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::limits::RFC3339_FRACTION_DIGITS_MAX;
use std::fmt;

/// Byte length of every string produced by [`format_rfc3339_nanos`].
pub const RFC3339_NANOS_LEN: usize = 30;

const NANOS_PER_SEC: u64 = 1_000_000_000;
const SECS_PER_DAY: u64 = 86_400;
/// Days from 0000-03-01 (start of the shifted proleptic Gregorian calendar) to 1970-01-01.
const DAYS_0000_03_01_TO_EPOCH: i64 = 719_468;
const DAYS_PER_400_YEARS: i64 = 146_097;

/// Formats `unix_ns` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn format_rfc3339_nanos(unix_ns: u64) -> String {
    rfc3339_nanos_bytes(unix_ns)
        .iter()
        .map(|&b| b as char)
        .collect()
}

/// Appends the [`format_rfc3339_nanos`] text of `unix_ns` to `out` with no intermediate
/// allocation (hot path: one envelope per message in `peek`).
pub fn write_rfc3339_nanos(unix_ns: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&rfc3339_nanos_bytes(unix_ns));
}

/// `PAIRS[n]` is the two ASCII digits of `n` (0..=99).
static PAIRS: [[u8; 2]; 100] = make_pairs();

// Compile-time table construction: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
const fn make_pairs() -> [[u8; 2]; 100] {
    let mut table = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        table[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    table
}

/// Two ASCII digits of `v % 100`.
#[inline(always)]
fn pair(v: u32) -> [u8; 2] {
    match PAIRS.get((v % 100) as usize) {
        Some(p) => *p,
        None => *b"00",
    }
}

#[inline]
fn rfc3339_nanos_bytes(unix_ns: u64) -> [u8; RFC3339_NANOS_LEN] {
    let secs = unix_ns / NANOS_PER_SEC;
    let frac = (unix_ns % NANOS_PER_SEC) as u32;
    // u64::MAX ns is ~213_503 days, so the day count always fits in u32.
    let days = (secs / SECS_PER_DAY) as u32;
    let sod = (secs % SECS_PER_DAY) as u32;
    let (y, mo, d) = civil_from_days(days);
    let [y0, y1] = pair(y / 100);
    let [y2, y3] = pair(y);
    let [mo0, mo1] = pair(mo);
    let [d0, d1] = pair(d);
    let [h0, h1] = pair(sod / 3600);
    let [mi0, mi1] = pair(sod / 60 % 60);
    let [s0, s1] = pair(sod % 60);
    let [f0, f1] = pair(frac / 10_000_000);
    let [f2, f3] = pair(frac / 100_000);
    let [f4, f5] = pair(frac / 1_000);
    let [f6, f7] = pair(frac / 10);
    let f8 = b'0' + (frac % 10) as u8;
    [
        y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0, s1,
        b'.', f0, f1, f2, f3, f4, f5, f6, f7, f8, b'Z',
    ]
}

/// Converts days since 1970-01-01 to (year, month 1..=12, day 1..=31).
///
/// Counts in a calendar whose years start on March 1st (so the leap day is the last
/// day of a year) and replaces every division by a non-power-of-two with a
/// multiply-and-shift ("Euclidean affine function") where possible; exact for the whole
/// `u64` nanosecond range (checked exhaustively by the round-trip test against
/// [`days_from_civil`]).
#[inline]
fn civil_from_days(days: u32) -> (u32, u32, u32) {
    // Day number counted from 0000-03-01; at most ~933 000, so 4n + 3 fits in u32.
    let n = days + DAYS_0000_03_01_TO_EPOCH as u32;
    // Century, and day within it: the 4n + 3 form applies the 400-year rule.
    let n1 = 4 * n + 3;
    let century = n1 / DAYS_PER_400_YEARS as u32;
    let day_of_century = n1 % DAYS_PER_400_YEARS as u32 / 4;
    // Year within the century (high half) and day within the year (low half) from one
    // 64-bit product; 2_939_745 / 2^32 approximates 4 / 1461 (days per 4 years).
    let p = 2_939_745 * (4 * u64::from(day_of_century) + 3);
    let year_of_century = (p >> 32) as u32;
    let day_of_year = (p as u32) / 2_939_745 / 4;
    // Month (March = 3 .. February = 14) and day, via 2_141 / 2^16 ~ 5 / 153.
    let m = 2_141 * day_of_year + 197_913;
    let shifted_month = m >> 16;
    let day = (m & 0xFFFF) / 2_141 + 1;
    let january_or_february = day_of_year >= 306;
    let year = 100 * century + year_of_century + u32::from(january_or_february);
    let month = if january_or_february {
        shifted_month - 12
    } else {
        shifted_month
    };
    (year, month, day)
}

/// Converts a valid (year, month, day) to days since 1970-01-01 (negative before).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_400_YEARS + day_of_era - DAYS_0000_03_01_TO_EPOCH
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// What went wrong while parsing a timestamp (stable, machine-readable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeErrorKind {
    /// A required character or digit is missing or wrong.
    Syntax,
    /// A field is outside its range (month 13, day 31 in April, hour 24, ...).
    FieldRange,
    /// More than [`RFC3339_FRACTION_DIGITS_MAX`] fraction digits.
    FractionTooLong,
    /// The instant is before 1970-01-01T00:00:00Z.
    BeforeEpoch,
    /// The instant does not fit in `u64` nanoseconds (after 2554-07-21).
    OutOfRange,
    /// Extra characters after a complete timestamp.
    TrailingInput,
}

/// A timestamp parse failure: kind, byte offset into the input, and a short detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    /// Machine-readable category.
    pub kind: TimeErrorKind,
    /// Byte offset where the problem was found.
    pub position: usize,
    /// Human description of the problem.
    pub detail: &'static str,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid RFC 3339 timestamp at byte {}: {}",
            self.position, self.detail
        )
    }
}

impl std::error::Error for TimeError {}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn err(&self, kind: TimeErrorKind, detail: &'static str) -> TimeError {
        TimeError {
            kind,
            position: self.pos,
            detail,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Reads exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize, what: &'static str) -> Result<i64, TimeError> {
        let mut value = 0i64;
        for _ in 0..n {
            match self.peek() {
                Some(b @ b'0'..=b'9') => value = value * 10 + i64::from(b - b'0'),
                _ => return Err(self.err(TimeErrorKind::Syntax, what)),
            }
            self.pos += 1;
        }
        Ok(value)
    }

    fn expect(&mut self, accepted: &[u8], what: &'static str) -> Result<u8, TimeError> {
        match self.peek() {
            Some(b) if accepted.contains(&b) => {
                self.pos += 1;
                Ok(b)
            }
            _ => Err(self.err(TimeErrorKind::Syntax, what)),
        }
    }

    /// Reads a bounded field of `n` digits, checking `lo..=hi`.
    fn field(&mut self, n: usize, lo: i64, hi: i64, what: &'static str) -> Result<i64, TimeError> {
        let start = self.pos;
        let value = self.digits(n, what)?;
        if value < lo || value > hi {
            return Err(TimeError {
                kind: TimeErrorKind::FieldRange,
                position: start,
                detail: what,
            });
        }
        Ok(value)
    }

    /// Reads an optional `.fraction` as nanoseconds.
    fn fraction(&mut self) -> Result<u64, TimeError> {
        if self.peek() != Some(b'.') {
            return Ok(0);
        }
        self.pos += 1;
        let start = self.pos;
        let mut nanos = 0u64;
        let mut count = 0usize;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            if count == RFC3339_FRACTION_DIGITS_MAX {
                return Err(self.err(
                    TimeErrorKind::FractionTooLong,
                    "at most 9 fraction digits (nanoseconds)",
                ));
            }
            nanos = nanos * 10 + u64::from(b - b'0');
            count += 1;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err(TimeErrorKind::Syntax, "expected digits after '.'"));
        }
        Ok(nanos * 10u64.pow((RFC3339_FRACTION_DIGITS_MAX - count) as u32))
    }

    /// Reads `Z`/`z` or `+HH:MM`/`-HH:MM`; returns the offset east of UTC in seconds.
    fn offset(&mut self) -> Result<i64, TimeError> {
        let sign = self.expect(b"Zz+-", "expected 'Z' or a '+HH:MM'/'-HH:MM' offset")?;
        if sign == b'Z' || sign == b'z' {
            return Ok(0);
        }
        let hours = self.field(2, 0, 23, "offset hours must be 00-23")?;
        self.expect(b":", "expected ':' in offset")?;
        let minutes = self.field(2, 0, 59, "offset minutes must be 00-59")?;
        let magnitude = hours * 3600 + minutes * 60;
        Ok(if sign == b'-' { -magnitude } else { magnitude })
    }
}

/// Parses an RFC 3339 timestamp into unix nanoseconds.
///
/// Accepts `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` with `T`/`t` and `Z`/`z` in
/// either case. Leap seconds (`:60`) are rejected. Instants before 1970 or beyond the
/// `u64` nanosecond range are errors.
pub fn parse_rfc3339(s: &str) -> Result<u64, TimeError> {
    let mut c = Cursor {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4, "expected a 4-digit year")?;
    c.expect(b"-", "expected '-' after the year")?;
    let month = c.field(2, 1, 12, "month must be 01-12")?;
    c.expect(b"-", "expected '-' after the month")?;
    let day_pos = c.pos;
    let day = c.field(2, 1, 31, "day must be 01-31")?;
    if day > days_in_month(year, month) {
        return Err(TimeError {
            kind: TimeErrorKind::FieldRange,
            position: day_pos,
            detail: "day does not exist in that month",
        });
    }
    c.expect(b"Tt", "expected 'T' between date and time")?;
    let hour = c.field(2, 0, 23, "hour must be 00-23")?;
    c.expect(b":", "expected ':' after the hour")?;
    let minute = c.field(2, 0, 59, "minute must be 00-59")?;
    c.expect(b":", "expected ':' after the minute")?;
    let second = c.field(
        2,
        0,
        59,
        "second must be 00-59 (leap seconds are not accepted)",
    )?;
    let nanos = c.fraction()?;
    let offset = c.offset()?;
    if c.pos != s.len() {
        return Err(c.err(
            TimeErrorKind::TrailingInput,
            "unexpected text after the timestamp",
        ));
    }
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let secs = u64::try_from(secs).map_err(|_| TimeError {
        kind: TimeErrorKind::BeforeEpoch,
        position: 0,
        detail: "timestamps before 1970-01-01T00:00:00Z are not supported",
    })?;
    secs.checked_mul(NANOS_PER_SEC)
        .and_then(|ns| ns.checked_add(nanos))
        .ok_or(TimeError {
            kind: TimeErrorKind::OutOfRange,
            position: 0,
            detail: "timestamps after 2554-07-21T23:34:33.709551615Z are not supported",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const U64_MAX_TEXT: &str = "2554-07-21T23:34:33.709551615Z";

    #[test]
    fn formats_epoch_and_known_instants() {
        let cases: &[(u64, &str)] = &[
            (0, "1970-01-01T00:00:00.000000000Z"),
            (1, "1970-01-01T00:00:00.000000001Z"),
            (951_782_400_000_000_000, "2000-02-29T00:00:00.000000000Z"),
            (4_107_542_400_000_000_000, "2100-03-01T00:00:00.000000000Z"),
            (1_795_256_043_123_456_789, "2026-11-21T10:14:03.123456789Z"),
            (u64::MAX, U64_MAX_TEXT),
        ];
        for &(ns, text) in cases {
            assert_eq!(format_rfc3339_nanos(ns), text, "format {ns}");
            assert_eq!(parse_rfc3339(text), Ok(ns), "parse {text}");
        }
    }

    #[test]
    fn formatted_length_is_constant() {
        for ns in [0, 1, 999_999_999, 1 << 40, 1 << 60, u64::MAX] {
            assert_eq!(format_rfc3339_nanos(ns).len(), RFC3339_NANOS_LEN);
        }
    }

    #[test]
    fn write_appends_to_existing_buffer() {
        let mut out = b"x=".to_vec();
        write_rfc3339_nanos(0, &mut out);
        assert_eq!(out, b"x=1970-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn round_trips_every_day_boundary_through_2554() {
        // Every day from 1970 to the end of the u64 range, at a non-trivial time of day.
        let last_day = u64::MAX / NANOS_PER_SEC / SECS_PER_DAY;
        for day in 0..last_day {
            let ns = (day * SECS_PER_DAY + 3_661) * NANOS_PER_SEC + 42;
            let text = format_rfc3339_nanos(ns);
            assert_eq!(parse_rfc3339(&text), Ok(ns), "{text}");
        }
    }

    #[test]
    fn civil_conversions_agree_on_leap_days() {
        for (y, m, d) in [(2000, 2, 29), (2024, 2, 29), (2100, 3, 1), (2400, 2, 29)] {
            let days = days_from_civil(y, m, d);
            let back = civil_from_days(days as u32);
            assert_eq!(back, (y as u32, m as u32, d as u32));
        }
    }

    #[test]
    fn accepts_lowercase_offsets_and_short_fractions() {
        let cases: &[(&str, u64)] = &[
            ("2026-01-02t03:04:05z", 1_767_323_045_000_000_000),
            ("2026-01-02T03:04:05.5Z", 1_767_323_045_500_000_000),
            ("2026-01-02T05:04:05+02:00", 1_767_323_045_000_000_000),
            ("2026-01-02T00:34:05-02:30", 1_767_323_045_000_000_000),
            ("2026-01-02T03:04:05-00:00", 1_767_323_045_000_000_000),
            ("1970-01-01T01:00:00+01:00", 0),
        ];
        for &(text, ns) in cases {
            assert_eq!(parse_rfc3339(text), Ok(ns), "{text}");
        }
    }

    fn kind_of(text: &str) -> Option<TimeErrorKind> {
        parse_rfc3339(text).err().map(|e| e.kind)
    }

    #[test]
    fn rejects_malformed_and_out_of_range_timestamps() {
        use TimeErrorKind::*;
        let cases: &[(&str, TimeErrorKind)] = &[
            ("", Syntax),
            ("2026", Syntax),
            ("2026-01-02", Syntax),
            ("2026-01-02 03:04:05Z", Syntax),
            ("2026-01-02T03:04:05", Syntax),
            ("2026-01-02T03:04Z", Syntax),
            ("2026-1-02T03:04:05Z", Syntax),
            ("2026-01-02T03:04:05.Z", Syntax),
            ("2026-01-02T03:04:05+0200", Syntax),
            ("２026-01-02T03:04:05Z", Syntax),
            ("2026-13-02T03:04:05Z", FieldRange),
            ("2026-00-02T03:04:05Z", FieldRange),
            ("2026-04-31T03:04:05Z", FieldRange),
            ("2025-02-29T03:04:05Z", FieldRange),
            ("2100-02-29T03:04:05Z", FieldRange),
            ("2026-01-02T24:00:00Z", FieldRange),
            ("2026-01-02T23:60:00Z", FieldRange),
            ("2026-12-31T23:59:60Z", FieldRange),
            ("2026-01-02T03:04:05+24:00", FieldRange),
            ("2026-01-02T03:04:05ZZ", TrailingInput),
            ("2026-01-02T03:04:05Z ", TrailingInput),
            ("1969-12-31T23:59:59.999999999Z", BeforeEpoch),
            ("1970-01-01T00:00:00+00:01", BeforeEpoch),
            ("0000-01-01T00:00:00Z", BeforeEpoch),
            ("9999-12-31T23:59:59.999999999Z", OutOfRange),
            ("2554-07-21T23:34:33.709551616Z", OutOfRange),
        ];
        for &(text, kind) in cases {
            assert_eq!(kind_of(text), Some(kind), "{text:?}");
        }
    }

    #[test]
    fn accepts_leap_days_and_rejects_nonexistent_ones() {
        assert!(parse_rfc3339("2000-02-29T00:00:00Z").is_ok());
        assert!(parse_rfc3339("2400-02-29T00:00:00Z").is_ok());
        assert!(parse_rfc3339("2024-02-29T12:00:00Z").is_ok());
        assert_eq!(
            kind_of("1900-02-29T00:00:00Z"),
            Some(TimeErrorKind::FieldRange)
        );
    }

    #[test]
    fn fraction_digit_limit_edge() {
        let at_limit = format!(
            "2026-01-02T03:04:05.{}Z",
            "1".repeat(RFC3339_FRACTION_DIGITS_MAX)
        );
        let past = format!(
            "2026-01-02T03:04:05.{}Z",
            "1".repeat(RFC3339_FRACTION_DIGITS_MAX + 1)
        );
        assert_eq!(parse_rfc3339(&at_limit), Ok(1_767_323_045_111_111_111));
        assert_eq!(kind_of(&past), Some(TimeErrorKind::FractionTooLong));
    }

    #[test]
    fn no_panic_on_mutated_or_truncated_input() {
        let valid = "2026-01-02T03:04:05.123456789+02:00";
        let bytes = valid.as_bytes();
        for cut in 0..=bytes.len() {
            let _ = parse_rfc3339(valid.get(..cut).unwrap_or(""));
        }
        for pos in 0..bytes.len() {
            for replacement in ["", "0", "9", "-", ":", "T", "Z", ".", "+", " ", "é", "99"] {
                let mut text = String::from(valid.get(..pos).unwrap_or(""));
                text.push_str(replacement);
                text.push_str(valid.get(pos + 1..).unwrap_or(""));
                let _ = parse_rfc3339(&text);
            }
        }
    }

    #[test]
    fn u64_range_edge() {
        assert_eq!(parse_rfc3339(U64_MAX_TEXT), Ok(u64::MAX));
        assert_eq!(
            kind_of("2554-07-21T23:34:34Z"),
            Some(TimeErrorKind::OutOfRange)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
    }

    #[test]
    fn error_reports_position_and_message() {
        let err = parse_rfc3339("2026-13-01T00:00:00Z").err();
        let err = err.as_ref();
        assert_eq!(err.map(|e| e.position), Some(5));
        assert_eq!(
            err.map(ToString::to_string).as_deref(),
            Some("invalid RFC 3339 timestamp at byte 5: month must be 01-12")
        );
    }
}
