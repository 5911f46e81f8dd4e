//! Strict JSON (RFC 8259) validation and compaction without building a tree.
//!
//! Owns: [`compact`] (validate exactly one value and append its compact form)
//! and [`scan_value`] (find where the first value in a buffer ends); [`walk`], the one walker over
//! an object's members as raw values (used by the wire format and by `filter::needs`).
//! Invariants:
//! - Anything accepted here parses with `serde_json::from_slice::<Value>`
//!   (same depth limit, same surrogate and number-range rules) and the compact
//!   output parses to an equal value.
//! - Compaction only removes whitespace outside strings: key order, duplicate
//!   keys, number text and string bytes/escapes are preserved exactly.
//! - No recursion, no allocation besides growing the caller's output vector,
//!   no panics on any input; on error the output vector is left unchanged.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod error;
mod number;
pub(crate) mod scanner;
mod string;
pub mod walk;

#[cfg(test)]
mod tests;

pub use error::{JsonError, JsonErrorKind};
pub use walk::{decode_string, members, members_of_valid, Member, Members, WalkError};

use scanner::{skip_ws, Scanner, Step};

/// Result of [`scan_value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// The first value occupies `input[start..end]` (leading whitespace
    /// skipped; bytes after `end` are not examined except the one right after
    /// a top-level number or literal, which must be whitespace or punctuation).
    Complete {
        /// Offset of the value's first byte.
        start: usize,
        /// Offset just past the value's last byte.
        end: usize,
    },
    /// The buffer holds a valid prefix of a value; more bytes could complete
    /// it (a top-level number or literal reaching the end counts as this).
    Incomplete,
    /// The buffer is empty or whitespace only.
    Empty,
    /// The bytes cannot start a valid JSON value.
    Invalid(JsonError),
}

/// Validates that `input` is exactly one JSON value (optionally surrounded by
/// whitespace) and appends its compact form to `out`.
///
/// On error `out` keeps its original contents and the error offset indexes
/// into `input`.
pub fn compact(input: &[u8], out: &mut Vec<u8>) -> Result<(), JsonError> {
    let mut scanner = Scanner::new();
    match scanner.run(input, true) {
        Step::Complete { start, end } => {
            let after = skip_ws(input, end);
            if after != input.len() {
                return Err(JsonError::new(after, JsonErrorKind::TrailingData));
            }
            let value = input.get(start..end).unwrap_or_default();
            emit(value, scanner.ws_inside(), out);
            Ok(())
        }
        Step::Invalid(e) => Err(e),
        Step::NeedMore => Err(JsonError::new(input.len(), JsonErrorKind::UnexpectedEnd)),
    }
}

/// Skips leading whitespace and locates the end of the first complete JSON
/// value in `input`, for framing concatenated or streamed documents.
pub fn scan_value(input: &[u8]) -> Scan {
    let mut scanner = Scanner::new();
    match scanner.run(input, false) {
        Step::Complete { start, end } => Scan::Complete { start, end },
        Step::Invalid(e) => Scan::Invalid(e),
        Step::NeedMore if scanner.start().is_none() => Scan::Empty,
        Step::NeedMore => Scan::Incomplete,
    }
}

/// Appends already-validated `value` to `out`, dropping whitespace outside
/// strings when `has_ws` says there is any.
pub(crate) fn emit(value: &[u8], has_ws: bool, out: &mut Vec<u8>) {
    if !has_ws {
        out.extend_from_slice(value);
        return;
    }
    out.reserve(value.len());
    let mut run_start = 0;
    let mut i = 0;
    while let Some(&b) = value.get(i) {
        match b {
            b'"' => i = string::skip_valid_string(value, i + 1),
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.extend_from_slice(value.get(run_start..i).unwrap_or_default());
                i = skip_ws(value, i);
                run_start = i;
            }
            _ => i += 1,
        }
    }
    out.extend_from_slice(value.get(run_start..).unwrap_or_default());
}
