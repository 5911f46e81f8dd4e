//! Parsing of SIZE, DURATION and `--since` TIME values (pure string → value).
//!
//! Owns the unit vocabulary of the CLI:
//! - SIZE: a non-negative integer with an optional binary suffix, case-insensitive:
//!   none or `B` (bytes), `K`/`KB`/`KiB` (×1024), `M`/`MB`/`MiB`, `G`/`GB`/`GiB`,
//!   `T`/`TB`/`TiB`. `KB` means 1024 here, on purpose: pool sizes are binary.
//!   Bounded by [`SIZE_BYTES_MAX`].
//! - DURATION: a non-negative integer followed by a lowercase unit, one of `ns`, `us`,
//!   `ms`, `s`, `m`, `h`, `d` (`d` = 86 400 s). A bare number is an error (the unit is
//!   mandatory so `--timeout 5` cannot silently mean milliseconds or seconds).
//!   Bounded by [`DURATION_SECONDS_MAX`].
//! - `--since` TIME: an RFC 3339 timestamp (see `crate::time::parse_rfc3339`) or a
//!   DURATION meaning "that long before now".
//!
//! Invariants: nothing here panics on any input; errors carry a stable kind.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::limits::{DURATION_SECONDS_MAX, SIZE_BYTES_MAX};
use crate::time::{parse_rfc3339, TimeErrorKind};
use std::fmt;
use std::time::Duration;

/// A parsed `--since` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// An absolute instant, unix nanoseconds.
    Absolute {
        /// Nanoseconds since 1970-01-01T00:00:00Z.
        unix_ns: u64,
    },
    /// "This long before now" (the caller reads the clock).
    Ago(Duration),
}

/// Machine-readable category of a unit parse failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitErrorKind {
    /// Empty string.
    Empty,
    /// Leading `-`.
    Negative,
    /// Contains a decimal point.
    Fractional,
    /// No digits where a number was expected.
    NotANumber,
    /// A DURATION without a unit.
    MissingUnit,
    /// A suffix that is not in the vocabulary.
    UnknownUnit,
    /// Above the limit (or above `u64`).
    TooLarge,
    /// A `--since` value that looked like a timestamp but did not parse.
    Timestamp(TimeErrorKind),
}

/// A unit parse failure with a human message and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    /// Stable category.
    pub kind: UnitErrorKind,
    /// What is wrong, without naming the flag (the caller adds that).
    pub message: String,
    /// What to type instead, if there is a useful suggestion.
    pub hint: Option<String>,
}

impl UnitError {
    fn new(kind: UnitErrorKind, message: impl Into<String>, hint: Option<&str>) -> Self {
        UnitError {
            kind,
            message: message.into(),
            hint: hint.map(str::to_owned),
        }
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnitError {}

const SIZE_HINT: &str =
    "use a whole number of bytes with an optional K, M, G or T suffix, e.g. 64K or 8M";
const DURATION_HINT: &str =
    "use a whole number with a unit: ns, us, ms, s, m, h or d (e.g. 500ms, 5s, 2h)";

/// Splits `text` into its leading ASCII-digit run and the rest, after the common
/// empty/negative/fraction checks.
fn split_number<'a>(text: &'a str, hint: &str) -> Result<(u64, &'a str), UnitError> {
    if text.is_empty() {
        return Err(UnitError::new(
            UnitErrorKind::Empty,
            "value is empty",
            Some(hint),
        ));
    }
    if text.starts_with('-') {
        return Err(UnitError::new(
            UnitErrorKind::Negative,
            format!("'{text}' is negative"),
            Some(hint),
        ));
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, rest) = text.split_at(digits_end);
    if rest.starts_with('.') || rest.starts_with(',') {
        return Err(UnitError::new(
            UnitErrorKind::Fractional,
            format!("'{text}' is not a whole number"),
            Some(hint),
        ));
    }
    if digits.is_empty() {
        return Err(UnitError::new(
            UnitErrorKind::NotANumber,
            format!("'{text}' does not start with a number"),
            Some(hint),
        ));
    }
    let value = digits.parse::<u64>().map_err(|_| {
        UnitError::new(
            UnitErrorKind::TooLarge,
            format!("'{text}' is too large"),
            None,
        )
    })?;
    Ok((value, rest))
}

/// Parses a SIZE (`64K`, `8M`, `1G`, `1048576`, `2MiB`, ...) into bytes.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let (value, suffix) = split_number(text, SIZE_HINT)?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(UnitError::new(
                UnitErrorKind::UnknownUnit,
                format!("unknown size suffix '{suffix}'"),
                Some(SIZE_HINT),
            ))
        }
    };
    match value.checked_mul(1u64 << shift) {
        Some(bytes) if bytes <= SIZE_BYTES_MAX => Ok(bytes),
        _ => Err(UnitError::new(
            UnitErrorKind::TooLarge,
            format!("'{text}' is larger than the maximum of {SIZE_BYTES_MAX} bytes (1 PiB)"),
            None,
        )),
    }
}

/// Parses a DURATION (`500ms`, `2s`, `5m`, `1h`, `2d`, `10us`, `7ns`).
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let (value, unit) = split_number(text, DURATION_HINT)?;
    let nanos_per_unit: u128 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        "" => {
            return Err(UnitError::new(
                UnitErrorKind::MissingUnit,
                format!("'{text}' has no unit"),
                Some(&format!("add a unit, e.g. {text}s or {text}ms")),
            ))
        }
        _ => {
            return Err(UnitError::new(
                UnitErrorKind::UnknownUnit,
                format!("unknown duration unit '{unit}'"),
                Some(DURATION_HINT),
            ))
        }
    };
    let total = u128::from(value) * nanos_per_unit;
    let max = u128::from(DURATION_SECONDS_MAX) * 1_000_000_000;
    if total > max {
        return Err(UnitError::new(
            UnitErrorKind::TooLarge,
            format!("'{text}' is longer than the maximum of {DURATION_SECONDS_MAX}s (100 years)"),
            None,
        ));
    }
    // total <= max < u64::MAX seconds, so both conversions are exact.
    let secs = (total / 1_000_000_000) as u64;
    let nanos = (total % 1_000_000_000) as u32;
    Ok(Duration::new(secs, nanos))
}

/// Whether `text` should be read as a timestamp rather than a relative duration:
/// four digits then `-` (as in `2026-...`).
fn looks_like_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() > 4 && b.iter().take(4).all(u8::is_ascii_digit) && b.get(4) == Some(&b'-')
}

/// Parses a `--since` value: an RFC 3339 timestamp or a DURATION ago.
pub fn parse_since(text: &str) -> Result<Since, UnitError> {
    if looks_like_timestamp(text) {
        return parse_rfc3339(text)
            .map(|unix_ns| Since::Absolute { unix_ns })
            .map_err(|e| {
                UnitError::new(
                    UnitErrorKind::Timestamp(e.kind),
                    e.to_string(),
                    Some("use an RFC 3339 timestamp like 2026-01-02T03:04:05Z, or a relative time like 30s, 5m, 1h, 2d"),
                )
            });
    }
    parse_duration(text).map(Since::Ago).map_err(|mut e| {
        e.hint = Some("use a relative time like 30s, 5m, 1h, 2d, or an RFC 3339 timestamp like 2026-01-02T03:04:05Z".to_owned());
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_binary_suffixes_in_any_case() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("1048576", 1_048_576),
            ("512b", 512),
            ("64K", 65_536),
            ("64k", 65_536),
            ("64KB", 65_536),
            ("64KiB", 65_536),
            ("64kib", 65_536),
            ("8M", 8 << 20),
            ("8mb", 8 << 20),
            ("8MiB", 8 << 20),
            ("1G", 1 << 30),
            ("1GB", 1 << 30),
            ("1gib", 1 << 30),
            ("2T", 2 << 40),
        ];
        for &(text, bytes) in cases {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
    }

    fn size_kind(text: &str) -> Option<UnitErrorKind> {
        parse_size(text).err().map(|e| e.kind)
    }

    #[test]
    fn sizes_reject_bad_input_with_kinds() {
        use UnitErrorKind::*;
        let cases: &[(&str, UnitErrorKind)] = &[
            ("", Empty),
            ("-1", Negative),
            ("-1K", Negative),
            ("1.5M", Fractional),
            ("1,5M", Fractional),
            ("M", NotANumber),
            (" 1M", NotANumber),
            ("1 M", UnknownUnit),
            ("1X", UnknownUnit),
            ("1KK", UnknownUnit),
            ("1P", UnknownUnit),
            ("99999999999999999999", TooLarge),
            ("18446744073709551615K", TooLarge),
        ];
        for &(text, kind) in cases {
            assert_eq!(size_kind(text), Some(kind), "{text:?}");
        }
    }

    #[test]
    fn size_limit_edge() {
        assert_eq!(parse_size(&SIZE_BYTES_MAX.to_string()), Ok(SIZE_BYTES_MAX));
        assert_eq!(parse_size("1024T"), Ok(SIZE_BYTES_MAX));
        assert_eq!(
            size_kind(&(SIZE_BYTES_MAX + 1).to_string()),
            Some(UnitErrorKind::TooLarge)
        );
        assert_eq!(size_kind("1025T"), Some(UnitErrorKind::TooLarge));
    }

    #[test]
    fn durations_accept_every_unit() {
        let cases: &[(&str, Duration)] = &[
            ("0s", Duration::ZERO),
            ("7ns", Duration::from_nanos(7)),
            ("10us", Duration::from_micros(10)),
            ("500ms", Duration::from_millis(500)),
            ("2s", Duration::from_secs(2)),
            ("5m", Duration::from_secs(300)),
            ("1h", Duration::from_secs(3600)),
            ("2d", Duration::from_secs(172_800)),
            ("1500ms", Duration::from_millis(1500)),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    fn duration_kind(text: &str) -> Option<UnitErrorKind> {
        parse_duration(text).err().map(|e| e.kind)
    }

    #[test]
    fn durations_reject_bad_input_with_kinds() {
        use UnitErrorKind::*;
        let cases: &[(&str, UnitErrorKind)] = &[
            ("", Empty),
            ("5", MissingUnit),
            ("-5s", Negative),
            ("1.5s", Fractional),
            ("s", NotANumber),
            ("5S", UnknownUnit),
            ("5sec", UnknownUnit),
            ("1h30m", UnknownUnit),
            ("5 s", UnknownUnit),
            ("99999999999999999999s", TooLarge),
        ];
        for &(text, kind) in cases {
            assert_eq!(duration_kind(text), Some(kind), "{text:?}");
        }
    }

    #[test]
    fn bare_number_duration_hint_suggests_units() {
        let err = parse_duration("5").err();
        assert_eq!(
            err.and_then(|e| e.hint).as_deref(),
            Some("add a unit, e.g. 5s or 5ms")
        );
    }

    #[test]
    fn duration_limit_edge() {
        let max = DURATION_SECONDS_MAX;
        assert_eq!(
            parse_duration(&format!("{max}s")),
            Ok(Duration::from_secs(max))
        );
        assert_eq!(parse_duration("36500d"), Ok(Duration::from_secs(max)));
        assert_eq!(
            duration_kind(&format!("{}s", max + 1)),
            Some(UnitErrorKind::TooLarge)
        );
        assert_eq!(duration_kind("36501d"), Some(UnitErrorKind::TooLarge));
        assert_eq!(
            duration_kind(&format!("{}ns", u128::from(max) * 1_000_000_000 + 1)),
            Some(UnitErrorKind::TooLarge)
        );
    }

    #[test]
    fn since_accepts_timestamps_and_relative_durations() {
        assert_eq!(
            parse_since("2026-01-02T03:04:05Z"),
            Ok(Since::Absolute {
                unix_ns: 1_767_323_045_000_000_000
            })
        );
        assert_eq!(
            parse_since("2026-01-02t05:04:05.25+02:00"),
            Ok(Since::Absolute {
                unix_ns: 1_767_323_045_250_000_000
            })
        );
        assert_eq!(parse_since("30s"), Ok(Since::Ago(Duration::from_secs(30))));
        assert_eq!(
            parse_since("2d"),
            Ok(Since::Ago(Duration::from_secs(172_800)))
        );
    }

    #[test]
    fn since_rejects_bad_timestamps_and_durations() {
        let kind = |t: &str| parse_since(t).err().map(|e| e.kind);
        assert_eq!(
            kind("2026-13-02T03:04:05Z"),
            Some(UnitErrorKind::Timestamp(TimeErrorKind::FieldRange))
        );
        assert_eq!(
            kind("2026-01-02"),
            Some(UnitErrorKind::Timestamp(TimeErrorKind::Syntax))
        );
        assert_eq!(
            kind("1969-01-01T00:00:00Z"),
            Some(UnitErrorKind::Timestamp(TimeErrorKind::BeforeEpoch))
        );
        assert_eq!(kind("yesterday"), Some(UnitErrorKind::NotANumber));
        assert_eq!(kind("-5m"), Some(UnitErrorKind::Negative));
        assert_eq!(kind("30"), Some(UnitErrorKind::MissingUnit));
    }
}
