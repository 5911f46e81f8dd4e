//! String-body validation: escapes, `\u` surrogate pairing, UTF-8 and raw
//! control characters.
//!
//! Invariant: on `Eof` the returned position is a *safe resume point*: it is
//! never inside an escape sequence, a surrogate pair or a multi-byte UTF-8
//! character, so scanning can restart there once more bytes arrive.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::error::{JsonError, JsonErrorKind};

/// Why string scanning stopped without reaching the closing quote.
pub(crate) enum StrStop {
    /// Input ended; resume from this position (inside the string).
    Eof(usize),
    /// The string is malformed.
    Invalid(JsonError),
}

/// Byte classes for the string fast path: 0 means "copy through".
const CLASS: [u8; 256] = build_classes();

// Evaluated at compile time only: an out-of-range index would be a build
// error, never a runtime panic.
#[allow(clippy::indexing_slicing)]
const fn build_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        if i < 0x20 || i == b'"' as usize || i == b'\\' as usize || i >= 0x80 {
            t[i] = 1;
        }
        i += 1;
    }
    t
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// True when any of the 8 bytes packed in `w` needs a closer look: a quote,
/// a backslash, a control character or a non-ASCII byte.
#[inline]
fn word_has_special(w: u64) -> bool {
    let quote = w ^ (LO * 0x22);
    let bslash = w ^ (LO * 0x5C);
    let t = (quote.wrapping_sub(LO) & !quote)
        | (bslash.wrapping_sub(LO) & !bslash)
        | w.wrapping_sub(LO * 0x20)
        | w;
    t & HI != 0
}

/// Skips plain bytes (printable ASCII other than `"` and `\`) from `p`.
#[inline(always)]
fn skip_plain(input: &[u8], mut p: usize) -> usize {
    while let Some(chunk) = input.get(p..p.wrapping_add(8)) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        if word_has_special(u64::from_le_bytes(bytes)) {
            break;
        }
        p += 8;
    }
    while let Some(&b) = input.get(p) {
        if CLASS.get(usize::from(b)).copied().unwrap_or(1) != 0 {
            break;
        }
        p += 1;
    }
    p
}

/// Scans a string body starting at `p` (just after the opening quote) and
/// returns the position just after the closing quote.
#[inline(always)]
pub(crate) fn scan_string(input: &[u8], mut p: usize) -> Result<usize, StrStop> {
    loop {
        p = skip_plain(input, p);
        let Some(&b) = input.get(p) else {
            return Err(StrStop::Eof(p));
        };
        let next = match b {
            b'"' => return Ok(p + 1),
            b'\\' => escape(input, p),
            0x00..=0x1F => Err(Some(JsonErrorKind::ControlCharacter)),
            _ => utf8_char(input, p),
        };
        match next {
            Ok(n) => p = n,
            Err(None) => return Err(StrStop::Eof(p)),
            Err(Some(kind)) => return Err(StrStop::Invalid(JsonError::new(p, kind))),
        }
    }
}

/// End (just past the closing quote) of an already-validated string whose
/// body starts at `p`; the end of `input` if it has no closing quote.
#[inline]
pub(crate) fn skip_valid_string(input: &[u8], mut p: usize) -> usize {
    loop {
        p = skip_plain(input, p);
        match input.get(p) {
            None => return input.len(),
            Some(b'"') => return p + 1,
            Some(b'\\') => p += 2,
            Some(_) => p += 1,
        }
    }
}

/// Result of a fixed-size token: `Err(None)` means "input ended inside it".
type Token = Result<usize, Option<JsonErrorKind>>;

/// Validates the escape starting with the backslash at `p`; returns its end.
fn escape(input: &[u8], p: usize) -> Token {
    match input.get(p + 1) {
        None => Err(None),
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(p + 2),
        Some(b'u') => unicode_escape(input, p),
        Some(_) => Err(Some(JsonErrorKind::InvalidEscape)),
    }
}

/// Validates `\uXXXX` at `p` (and its low-surrogate partner when needed).
fn unicode_escape(input: &[u8], p: usize) -> Token {
    let unit = hex4(input, p + 2)?;
    match unit {
        0xDC00..=0xDFFF => Err(Some(JsonErrorKind::LoneSurrogate)),
        0xD800..=0xDBFF => {
            match (input.get(p + 6), input.get(p + 7)) {
                (Some(b'\\'), Some(b'u')) => {}
                (None, _) | (Some(b'\\'), None) => return Err(None),
                _ => return Err(Some(JsonErrorKind::LoneSurrogate)),
            }
            match hex4(input, p + 8)? {
                0xDC00..=0xDFFF => Ok(p + 12),
                _ => Err(Some(JsonErrorKind::LoneSurrogate)),
            }
        }
        _ => Ok(p + 6),
    }
}

/// Reads four hex digits at `p` as a UTF-16 code unit.
fn hex4(input: &[u8], p: usize) -> Result<u32, Option<JsonErrorKind>> {
    let mut value = 0u32;
    for i in 0..4 {
        let digit = match input.get(p + i) {
            None => return Err(None),
            Some(&b) => (b as char)
                .to_digit(16)
                .ok_or(Some(JsonErrorKind::InvalidEscape))?,
        };
        value = value * 16 + digit;
    }
    Ok(value)
}

/// Validates the multi-byte UTF-8 character whose lead byte is at `p`.
fn utf8_char(input: &[u8], p: usize) -> Token {
    let invalid = Err(Some(JsonErrorKind::InvalidUtf8));
    let (len, lo, hi) = match input.get(p) {
        Some(0xC2..=0xDF) => (2, 0x80, 0xBF),
        Some(0xE0) => (3, 0xA0, 0xBF),
        Some(0xE1..=0xEC | 0xEE..=0xEF) => (3, 0x80, 0xBF),
        Some(0xED) => (3, 0x80, 0x9F),
        Some(0xF0) => (4, 0x90, 0xBF),
        Some(0xF1..=0xF3) => (4, 0x80, 0xBF),
        Some(0xF4) => (4, 0x80, 0x8F),
        _ => return invalid,
    };
    for i in 1..len {
        let (min, max) = if i == 1 { (lo, hi) } else { (0x80, 0xBF) };
        match input.get(p + i) {
            None => return Err(None),
            Some(&b) if (min..=max).contains(&b) => {}
            Some(_) => return invalid,
        }
    }
    Ok(p + len)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may panic on bad indices
mod tests {
    use super::*;

    fn scan(s: &[u8]) -> Result<usize, Option<(usize, JsonErrorKind)>> {
        scan_string(s, 0).map_err(|e| match e {
            StrStop::Eof(p) => {
                assert!(p <= s.len());
                None
            }
            StrStop::Invalid(e) => Some((e.offset, e.kind)),
        })
    }

    #[test]
    fn plain_and_escaped_strings_end_after_the_quote() {
        let table: &[(&[u8], usize)] = &[
            (b"\"", 1),
            (b"abc\"x", 4),
            (b"0123456789abcdefghij\"", 21),
            (b"a\\\"b\"", 5),
            (b"\\u00e9\\n\"", 9),
            (b"\\ud83d\\ude00\"", 13),
            ("é😀€\"".as_bytes(), 10),
            (b"\x7f\"", 2),
        ];
        for (input, end) in table {
            assert_eq!(
                scan(input),
                Ok(*end),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn malformed_strings_report_kind_and_offset() {
        use JsonErrorKind::*;
        let table: &[(&[u8], usize, JsonErrorKind)] = &[
            (b"ab\x01\"", 2, ControlCharacter),
            (b"ab\n\"", 2, ControlCharacter),
            (b"\\x\"", 0, InvalidEscape),
            (b"\\u12g4\"", 0, InvalidEscape),
            (b"\\udc00\"", 0, LoneSurrogate),
            (b"\\ud800\"", 0, LoneSurrogate),
            (b"\\ud800\\n\"", 0, LoneSurrogate),
            (b"\\ud800\\u0041\"", 0, LoneSurrogate),
            (b"\\ud800\\ud800\"", 0, LoneSurrogate),
            (b"a\xff\"", 1, InvalidUtf8),
            (b"a\xc0\x80\"", 1, InvalidUtf8),
            (b"a\xe0\x80\x80\"", 1, InvalidUtf8),
            (b"a\xed\xa0\x80\"", 1, InvalidUtf8),
            (b"a\xf4\x90\x80\x80\"", 1, InvalidUtf8),
            (b"a\xc3(\"", 1, InvalidUtf8),
        ];
        for (input, offset, kind) in table {
            assert_eq!(
                scan(input),
                Err(Some((*offset, *kind))),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn truncated_strings_stop_at_a_safe_point() {
        let table: &[(&[u8], usize)] = &[
            (b"abc", 3),
            (b"abc\\", 3),
            (b"abc\\u12", 3),
            (b"abc\\ud83d", 3),
            (b"abc\\ud83d\\", 3),
            (b"abc\\ud83d\\ude0", 3),
            (b"abc\xf0\x9f\x98", 3),
            (b"abc\\n", 5),
        ];
        for (input, safe) in table {
            assert!(
                matches!(scan_string(input, 0), Err(StrStop::Eof(p)) if p == *safe),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn word_check_flags_every_special_byte_position() {
        for special in [b'"', b'\\', 0x00, 0x1F, 0x80, 0xFF] {
            for pos in 0..8 {
                let mut bytes = *b"abcdefgh";
                bytes[pos] = special;
                assert!(word_has_special(u64::from_le_bytes(bytes)));
            }
        }
        assert!(!word_has_special(u64::from_le_bytes(*b" ~!#[]{}")));
    }
}
