//! Error type for the JSON validator: a byte offset plus a stable kind.
//!
//! Invariant: `JsonErrorKind::as_str` strings never change once published; the
//! main crate and scripts match on them.

use std::fmt;

/// Why a JSON text was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonErrorKind {
    /// The input held only whitespace (or nothing).
    Empty,
    /// A byte that cannot appear at this position.
    UnexpectedByte,
    /// The input ended inside an array or object, or where a value was expected.
    UnexpectedEnd,
    /// The input ended inside a string.
    UnterminatedString,
    /// Bytes inside a string that are not valid UTF-8.
    InvalidUtf8,
    /// A raw control character (below 0x20) inside a string.
    ControlCharacter,
    /// A backslash escape that JSON does not define, or a malformed `\u` escape.
    InvalidEscape,
    /// A `\u` escape naming an unpaired UTF-16 surrogate.
    LoneSurrogate,
    /// A malformed number (leading zero, missing digits, ...).
    InvalidNumber,
    /// A number too large for serde_json (it would become infinite).
    NumberOutOfRange,
    /// A misspelled or truncated `true`, `false` or `null`.
    InvalidLiteral,
    /// Arrays/objects nested deeper than `JSON_DEPTH_MAX`.
    DepthExceeded,
    /// Something other than whitespace after the single top-level value.
    TrailingData,
}

impl JsonErrorKind {
    /// Stable machine-readable name, e.g. `"unterminated_string"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::UnexpectedByte => "unexpected_byte",
            Self::UnexpectedEnd => "unexpected_end",
            Self::UnterminatedString => "unterminated_string",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::ControlCharacter => "control_character",
            Self::InvalidEscape => "invalid_escape",
            Self::LoneSurrogate => "lone_surrogate",
            Self::InvalidNumber => "invalid_number",
            Self::NumberOutOfRange => "number_out_of_range",
            Self::InvalidLiteral => "invalid_literal",
            Self::DepthExceeded => "depth_exceeded",
            Self::TrailingData => "trailing_data",
        }
    }

    /// Human description used by `Display`, e.g. `"unterminated string"`.
    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "no JSON value (empty input)",
            Self::UnexpectedByte => "unexpected byte",
            Self::UnexpectedEnd => "unexpected end of input",
            Self::UnterminatedString => "unterminated string",
            Self::InvalidUtf8 => "invalid UTF-8",
            Self::ControlCharacter => "raw control character in string",
            Self::InvalidEscape => "invalid escape sequence",
            Self::LoneSurrogate => "unpaired surrogate in \\u escape",
            Self::InvalidNumber => "invalid number",
            Self::NumberOutOfRange => "number out of range",
            Self::InvalidLiteral => "invalid literal",
            Self::DepthExceeded => "nesting too deep",
            Self::TrailingData => "trailing data after the value",
        }
    }
}

impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected JSON text: where (byte offset into the input given to the
/// validator) and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JsonError {
    /// Byte offset of the offending byte (or of the end of input).
    pub offset: usize,
    /// What went wrong.
    pub kind: JsonErrorKind,
}

impl JsonError {
    /// Builds an error at `offset`.
    pub fn new(offset: usize, kind: JsonErrorKind) -> Self {
        Self { offset, kind }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid JSON at byte {}: {}",
            self.offset,
            self.kind.message()
        )
    }
}

impl std::error::Error for JsonError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_offset_and_reason() {
        let e = JsonError::new(17, JsonErrorKind::UnterminatedString);
        assert_eq!(
            e.to_string(),
            "invalid JSON at byte 17: unterminated string"
        );
        assert_eq!(e.kind.as_str(), "unterminated_string");
    }

    #[test]
    fn kind_names_are_distinct_snake_case() {
        use JsonErrorKind::*;
        let all = [
            Empty,
            UnexpectedByte,
            UnexpectedEnd,
            UnterminatedString,
            InvalidUtf8,
            ControlCharacter,
            InvalidEscape,
            LoneSurrogate,
            InvalidNumber,
            NumberOutOfRange,
            InvalidLiteral,
            DepthExceeded,
            TrailingData,
        ];
        let mut names: Vec<&str> = all.iter().map(|k| k.as_str()).collect();
        assert!(names.iter().all(|n| n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
