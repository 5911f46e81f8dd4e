//! Number grammar (RFC 8259) and the serde_json range check.
//!
//! Invariant: a number accepted here also parses with serde_json's default
//! (non-`float_roundtrip`, non-`arbitrary_precision`) number parser, whose
//! overflow-to-infinity rule is reproduced exactly by [`overflows_serde`].

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::error::{JsonError, JsonErrorKind};

/// Why number scanning stopped without a complete number.
pub(crate) enum NumStop {
    /// Input ended and more bytes could extend or complete the number.
    Eof,
    /// The number is malformed or out of range.
    Invalid(JsonError),
}

/// Integer-part digit count above which overflow becomes possible without an
/// exponent (serde_json keeps up to ~19 significant digits, max is ~1.8e308).
const INT_DIGITS_ALWAYS_SAFE: usize = 288;

/// Scans a number starting at `p0` (a `-` or a digit). When `last` is false,
/// reaching the end of input is `Eof` because more digits may follow.
pub(crate) fn scan_number(input: &[u8], p0: usize, last: bool) -> Result<usize, NumStop> {
    let invalid = |p| NumStop::Invalid(JsonError::new(p, JsonErrorKind::InvalidNumber));
    let need_digit = |p: usize| match input.get(p) {
        Some(b) if b.is_ascii_digit() => Ok(()),
        Some(_) => Err(invalid(p)),
        None if last => Err(invalid(p)),
        None => Err(NumStop::Eof),
    };
    let mut p = p0;
    if input.get(p) == Some(&b'-') {
        p += 1;
    }
    need_digit(p)?;
    let int_start = p;
    if input.get(p) == Some(&b'0') {
        p += 1;
        if input.get(p).is_some_and(u8::is_ascii_digit) {
            return Err(invalid(p));
        }
    } else {
        p = skip_digits(input, p);
    }
    let int_digits = p - int_start;
    if input.get(p) == Some(&b'.') {
        p += 1;
        need_digit(p)?;
        p = skip_digits(input, p);
    }
    let mut has_exp = false;
    if matches!(input.get(p), Some(b'e' | b'E')) {
        has_exp = true;
        p += 1;
        if matches!(input.get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        need_digit(p)?;
        p = skip_digits(input, p);
    }
    if p == input.len() && !last {
        return Err(NumStop::Eof);
    }
    if (has_exp || int_digits > INT_DIGITS_ALWAYS_SAFE)
        && overflows_serde(input.get(p0..p).unwrap_or_default())
    {
        return Err(NumStop::Invalid(JsonError::new(
            p0,
            JsonErrorKind::NumberOutOfRange,
        )));
    }
    Ok(p)
}

fn skip_digits(input: &[u8], mut p: usize) -> usize {
    while input.get(p).is_some_and(u8::is_ascii_digit) {
        p += 1;
    }
    p
}

/// `1e289` ..= `1e308`: the only powers of ten for which `significand * 10^e`
/// can overflow when `significand < 2^64`.
const POW10_HIGH: [f64; 20] = [
    1e289, 1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, 1e300, 1e301,
    1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];

/// True when `sig * 10 + digit` would overflow `u64` (serde_json's rule).
fn u64_overflows(sig: u64, digit: u64) -> bool {
    sig > u64::MAX / 10 || (sig == u64::MAX / 10 && digit > u64::MAX % 10)
}

/// Reproduces serde_json's default float path for a grammatically valid
/// number `text` and reports whether it rejects it as out of range.
pub(crate) fn overflows_serde(text: &[u8]) -> bool {
    let mut sig: u64 = 0;
    let mut exp: i32 = 0;
    let mut bytes = text.iter().copied().peekable();
    bytes.next_if_eq(&b'-');
    let mut full = false;
    while let Some(b) = bytes.next_if(u8::is_ascii_digit) {
        let digit = u64::from(b - b'0');
        full = full || u64_overflows(sig, digit);
        if full {
            exp = exp.saturating_add(1);
        } else {
            sig = sig * 10 + digit;
        }
    }
    if bytes.next_if_eq(&b'.').is_some() {
        let mut full_frac = false;
        while let Some(b) = bytes.next_if(u8::is_ascii_digit) {
            let digit = u64::from(b - b'0');
            full_frac = full_frac || u64_overflows(sig, digit);
            if !full_frac {
                sig = sig * 10 + digit;
                exp -= 1;
            }
        }
    }
    if bytes.next_if(|b| matches!(b, b'e' | b'E')).is_some() {
        let negative = bytes.next_if_eq(&b'-').is_some();
        if !negative {
            bytes.next_if_eq(&b'+');
        }
        let mut e: i32 = 0;
        while let Some(b) = bytes.next_if(u8::is_ascii_digit) {
            let digit = i32::from(b - b'0');
            if e > i32::MAX / 10 || (e == i32::MAX / 10 && digit > i32::MAX % 10) {
                return sig != 0 && !negative;
            }
            e = e * 10 + digit;
        }
        exp = if negative {
            exp.saturating_sub(e)
        } else {
            exp.saturating_add(e)
        };
    }
    if sig == 0 || exp < 289 {
        return false;
    }
    match usize::try_from(exp - 289)
        .ok()
        .and_then(|i| POW10_HIGH.get(i))
    {
        Some(pow) => (sig as f64 * pow).is_infinite(),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_end_at_the_first_non_number_byte() {
        let table: &[(&str, usize)] = &[
            ("0", 1),
            ("-0", 2),
            ("1.50", 4),
            ("1e5", 3),
            ("1E+05", 5),
            ("-12.5e-3,", 8),
            ("123]", 3),
            ("0.0e0 ", 5),
        ];
        for (input, end) in table {
            assert!(
                matches!(scan_number(input.as_bytes(), 0, true), Ok(e) if e == *end),
                "{input}"
            );
        }
    }

    #[test]
    fn malformed_numbers_are_invalid() {
        for input in ["01", "-", "-a", "1.", "1.e5", "1e", "1e+", "-01", "00"] {
            assert!(
                matches!(scan_number(input.as_bytes(), 0, true), Err(NumStop::Invalid(e)) if e.kind == JsonErrorKind::InvalidNumber),
                "{input}"
            );
        }
    }

    #[test]
    fn number_at_end_of_streaming_input_needs_more() {
        for input in ["1", "-", "1.", "1.5", "1e", "1e5", "0"] {
            assert!(
                matches!(scan_number(input.as_bytes(), 0, false), Err(NumStop::Eof)),
                "{input}"
            );
        }
        assert!(matches!(scan_number(b"12 ", 0, false), Ok(2)));
    }

    #[test]
    fn range_check_matches_serde_json() {
        let long_int = format!("1{}", "0".repeat(400));
        let just_fits = format!("1{}", "0".repeat(308));
        let cases = [
            "1e308",
            "1e309",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "17976931348623157e292",
            "17976931348623159e292",
            "18446744073709551615e289",
            "0e999999999999999999",
            "1e999999999999999999",
            "1e-999999999999999999",
            "-1e400",
            "0.0000000000000000000000000001e330",
            "123456789012345678901234567890e280",
            long_int.as_str(),
            just_fits.as_str(),
        ];
        for case in cases {
            let serde_ok = serde_json::from_str::<serde_json::Value>(case).is_ok();
            assert_eq!(!overflows_serde(case.as_bytes()), serde_ok, "{case}");
        }
    }
}
