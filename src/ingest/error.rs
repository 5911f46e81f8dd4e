//! Errors produced while framing input records.
//!
//! Invariant: `as_str` names are stable machine-readable kinds; `index` and
//! `line` always identify the record the error belongs to (1-based).

use std::fmt;
use std::io;

use crate::json::JsonError;

/// What went wrong with one record (or with the underlying reader).
#[derive(Debug)]
pub enum IngestErrorKind {
    /// The record is not valid JSON; the offset is relative to the first
    /// byte of the record's text.
    Invalid(JsonError),
    /// The record's text is longer than `limit` bytes.
    TooLarge {
        /// The reader's record size limit in bytes.
        limit: usize,
    },
    /// Reading the input failed; the reader is finished afterwards.
    Io(io::Error),
}

impl IngestErrorKind {
    /// Stable machine-readable kind: `invalid_json`, `too_large` or `io`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_json",
            Self::TooLarge { .. } => "too_large",
            Self::Io(_) => "io",
        }
    }
}

/// A failed record: which one, where it starts, and why.
#[derive(Debug)]
pub struct IngestError {
    /// 1-based record number (records and failed records share the count).
    pub index: u64,
    /// 1-based input line where the record starts (for `Io`, the line the
    /// reader had reached).
    pub line: u64,
    /// The reason.
    pub kind: IngestErrorKind,
}

impl IngestError {
    /// Stable machine-readable kind (see [`IngestErrorKind::as_str`]).
    pub fn as_str(&self) -> &'static str {
        self.kind.as_str()
    }

    /// Whether the reader can go on to the next record after this error.
    pub fn is_recoverable(&self) -> bool {
        !matches!(self.kind, IngestErrorKind::Io(_))
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            IngestErrorKind::Invalid(e) => {
                write!(f, "record {} (line {}): {e}", self.index, self.line)
            }
            IngestErrorKind::TooLarge { limit } => write!(
                f,
                "record {} (line {}): record larger than {limit} bytes",
                self.index, self.line
            ),
            IngestErrorKind::Io(e) => {
                write!(f, "read error at line {}: {e}", self.line)
            }
        }
    }
}

impl std::error::Error for IngestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            IngestErrorKind::Invalid(e) => Some(e),
            IngestErrorKind::TooLarge { .. } => None,
            IngestErrorKind::Io(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::JsonErrorKind;

    #[test]
    fn display_names_record_line_and_reason() {
        let e = IngestError {
            index: 3,
            line: 7,
            kind: IngestErrorKind::Invalid(JsonError::new(17, JsonErrorKind::UnterminatedString)),
        };
        assert_eq!(
            e.to_string(),
            "record 3 (line 7): invalid JSON at byte 17: unterminated string"
        );
        assert_eq!(e.as_str(), "invalid_json");
        assert!(e.is_recoverable());
        let e = IngestError {
            index: 1,
            line: 1,
            kind: IngestErrorKind::TooLarge { limit: 10 },
        };
        assert_eq!(
            e.to_string(),
            "record 1 (line 1): record larger than 10 bytes"
        );
        assert_eq!(e.as_str(), "too_large");
        let e = IngestError {
            index: 2,
            line: 5,
            kind: IngestErrorKind::Io(io::Error::other("boom")),
        };
        assert_eq!(e.to_string(), "read error at line 5: boom");
        assert!(!e.is_recoverable());
    }
}
