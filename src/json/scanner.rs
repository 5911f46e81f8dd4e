//! Resumable, non-recursive JSON validator for one top-level value.
//!
//! Owns the grammar state machine shared by `compact`, `scan_value` and the
//! ingest reader. Invariants:
//! - No recursion: nesting is a depth counter plus a 127-bit container stack,
//!   capped at `JSON_DEPTH_MAX`.
//! - `Scanner::pos` is always a resume checkpoint: every byte before it has
//!   been validated, and the saved phase describes what must come next. After
//!   `Step::NeedMore` the caller may append bytes to the input (the prefix up to
//!   `pos` must stay identical) and call `run` again.
//! - Positions are offsets into the slice passed to `run`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::error::{JsonError, JsonErrorKind};
use super::number::{scan_number, NumStop};
use super::string::{scan_string, StrStop};
use crate::limits::JSON_DEPTH_MAX;

/// What the validator expects next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the top-level value; leading whitespace is not "inside".
    Start,
    /// A value is required (after `:`, or after `,` in an array).
    Value,
    /// Just after `[`: a value or `]`.
    ArrayFirst,
    /// Just after `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value inside a container: `,` or the closing bracket.
    After,
    /// Inside an object key string.
    InKey,
    /// Inside a string value.
    InString,
    /// The top-level value is complete.
    Done,
}

/// Outcome of one `Scanner::run` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The top-level value occupies `start..end`.
    Complete { start: usize, end: usize },
    /// Input ended before the value did (only when `last` was false).
    NeedMore,
    /// The input is not valid JSON.
    Invalid(JsonError),
}

/// Resumable validator state; see the module invariants.
#[derive(Clone, Debug)]
pub(crate) struct Scanner {
    /// Resume checkpoint (see module docs).
    pos: usize,
    /// Offset of the top-level value's first byte, once seen.
    start: Option<usize>,
    /// Open containers.
    depth: usize,
    /// Bit `i` set when the container at depth `i + 1` is an object.
    stack: u128,
    phase: Phase,
    /// Whitespace was seen inside the value outside strings.
    ws_inside: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Returns the first non-whitespace position at or after `p`.
#[inline]
pub(crate) fn skip_ws(input: &[u8], mut p: usize) -> usize {
    while input.get(p).is_some_and(|&b| is_ws(b)) {
        p += 1;
    }
    p
}

/// Bytes that may directly follow a top-level number or literal.
#[inline]
fn is_delimiter(b: u8) -> bool {
    is_ws(b) || matches!(b, b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"')
}

impl Scanner {
    /// A scanner positioned at offset 0, expecting a top-level value.
    pub(crate) fn new() -> Self {
        Self {
            pos: 0,
            start: None,
            depth: 0,
            stack: 0,
            phase: Phase::Start,
            ws_inside: false,
        }
    }

    /// Resume checkpoint: bytes before it are validated.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Offset of the top-level value's first byte, if reached.
    pub(crate) fn start(&self) -> Option<usize> {
        self.start
    }

    /// Whether the value contains whitespace outside strings (so compaction
    /// must strip it rather than copy the bytes verbatim).
    pub(crate) fn ws_inside(&self) -> bool {
        self.ws_inside
    }

    /// Shifts all positions down by `k` after the caller discarded the first
    /// `k` bytes of its buffer (`k` must not exceed `pos()`).
    pub(crate) fn rebase(&mut self, k: usize) {
        self.pos = self.pos.saturating_sub(k);
        self.start = self.start.map(|s| s.saturating_sub(k));
    }

    /// Validates from the checkpoint over `input`. With `last`, the end of
    /// `input` is the end of the document (never `NeedMore`; an all-whitespace
    /// input is `Empty`).
    pub(crate) fn run(&mut self, input: &[u8], last: bool) -> Step {
        let mut pos = self.pos;
        let body = pos;
        let resumed = match self.phase {
            Phase::Done => Err(Step::Complete {
                start: self.start.unwrap_or(0),
                end: pos,
            }),
            // Resuming inside a string: `pos` is a safe point in its body.
            Phase::InKey => self.string_body(input, &mut pos, body, true, last),
            Phase::InString => self.string_body(input, &mut pos, body, false, last),
            _ => Ok(()),
        };
        let step = match resumed {
            Err(step) => step,
            Ok(()) => loop {
                let b = match input.get(pos) {
                    Some(&b) if b > b' ' => b,
                    _ => {
                        let next = skip_ws(input, pos);
                        if next != pos && self.phase != Phase::Start {
                            self.ws_inside = true;
                        }
                        pos = next;
                        match input.get(pos) {
                            Some(&b) => b,
                            None => break self.end_of_input(pos, last),
                        }
                    }
                };
                if let Err(step) = self.token(input, &mut pos, b, last) {
                    break step;
                }
            },
        };
        self.pos = pos;
        step
    }

    /// What running out of input means in the current phase.
    fn end_of_input(&self, pos: usize, last: bool) -> Step {
        match (last, self.phase) {
            (false, _) => Step::NeedMore,
            (true, Phase::Start) => invalid(pos, JsonErrorKind::Empty),
            (true, _) => invalid(pos, JsonErrorKind::UnexpectedEnd),
        }
    }

    /// Consumes the token starting with byte `b` at `*pos`.
    #[inline(always)]
    fn token(&mut self, input: &[u8], pos: &mut usize, b: u8, last: bool) -> Result<(), Step> {
        match (self.phase, b) {
            (Phase::Start, _) => {
                self.start = Some(*pos);
                self.value(input, pos, b, last)
            }
            (Phase::Value, _) => self.value(input, pos, b, last),
            (Phase::ArrayFirst, b']') | (Phase::ObjectFirst, b'}') => self.close(input, pos),
            (Phase::ArrayFirst, _) => self.value(input, pos, b, last),
            (Phase::ObjectFirst | Phase::Key, b'"') => self.string(input, pos, true, last),
            (Phase::Colon, b':') => {
                *pos += 1;
                self.phase = Phase::Value;
                Ok(())
            }
            (Phase::After, b',') => {
                *pos += 1;
                self.phase = if self.in_object() {
                    Phase::Key
                } else {
                    Phase::Value
                };
                Ok(())
            }
            (Phase::After, b']') if !self.in_object() => self.close(input, pos),
            (Phase::After, b'}') if self.in_object() => self.close(input, pos),
            _ => Err(invalid(*pos, JsonErrorKind::UnexpectedByte)),
        }
    }

    /// Consumes the value starting with byte `b` at `*pos`.
    #[inline(always)]
    fn value(&mut self, input: &[u8], pos: &mut usize, b: u8, last: bool) -> Result<(), Step> {
        match b {
            b'"' => self.string(input, pos, false, last),
            b'{' | b'[' => self.open(pos, b == b'{'),
            b'-' | b'0'..=b'9' => match scan_number(input, *pos, last) {
                Ok(end) => self.scalar_end(input, pos, end),
                Err(NumStop::Eof) => Err(Step::NeedMore),
                Err(NumStop::Invalid(e)) => Err(Step::Invalid(e)),
            },
            b't' | b'f' | b'n' => {
                let word: &[u8] = match b {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                match literal(input, *pos, word) {
                    // Like a number, a top-level literal is only known to be
                    // complete once the byte after it (or the end) is seen.
                    Ok(end) if self.depth == 0 && end == input.len() && !last => {
                        Err(Step::NeedMore)
                    }
                    Ok(end) => self.scalar_end(input, pos, end),
                    Err(None) if !last => Err(Step::NeedMore),
                    Err(_) => Err(invalid(*pos, JsonErrorKind::InvalidLiteral)),
                }
            }
            _ => Err(invalid(*pos, JsonErrorKind::UnexpectedByte)),
        }
    }

    /// Consumes a whole string starting at the quote at `*pos`; on running
    /// out of input, parks in `InString` at a safe point inside it.
    #[inline(always)]
    fn string(&mut self, input: &[u8], pos: &mut usize, key: bool, last: bool) -> Result<(), Step> {
        self.string_body(input, pos, *pos + 1, key, last)
    }

    /// Scans a string body from `body` (inside the string) to its end.
    #[inline(always)]
    fn string_body(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        body: usize,
        key: bool,
        last: bool,
    ) -> Result<(), Step> {
        match scan_string(input, body) {
            Ok(end) if key => {
                // Fast path: a colon right after the key.
                if input.get(end) == Some(&b':') {
                    *pos = end + 1;
                    self.phase = Phase::Value;
                } else {
                    *pos = end;
                    self.phase = Phase::Colon;
                }
                Ok(())
            }
            Ok(end) => {
                *pos = end;
                self.finish_value(input, pos)
            }
            Err(StrStop::Eof(_)) if last => {
                Err(invalid(input.len(), JsonErrorKind::UnterminatedString))
            }
            Err(StrStop::Eof(safe)) => {
                *pos = safe;
                self.phase = if key { Phase::InKey } else { Phase::InString };
                Err(Step::NeedMore)
            }
            Err(StrStop::Invalid(e)) => Err(Step::Invalid(e)),
        }
    }

    /// Finishes a number or literal ending at `end`; at top level the next
    /// byte must be a delimiter so `12x` or `truex` are not split silently.
    fn scalar_end(&mut self, input: &[u8], pos: &mut usize, end: usize) -> Result<(), Step> {
        if self.depth == 0 {
            if let Some(&next) = input.get(end) {
                if !is_delimiter(next) {
                    return Err(invalid(end, JsonErrorKind::UnexpectedByte));
                }
            }
        }
        *pos = end;
        self.finish_value(input, pos)
    }

    fn open(&mut self, pos: &mut usize, object: bool) -> Result<(), Step> {
        if self.depth >= JSON_DEPTH_MAX {
            return Err(invalid(*pos, JsonErrorKind::DepthExceeded));
        }
        let bit = 1u128.wrapping_shl(self.depth as u32);
        if object {
            self.stack |= bit;
        } else {
            self.stack &= !bit;
        }
        self.depth += 1;
        *pos += 1;
        self.phase = if object {
            Phase::ObjectFirst
        } else {
            Phase::ArrayFirst
        };
        Ok(())
    }

    fn close(&mut self, input: &[u8], pos: &mut usize) -> Result<(), Step> {
        self.depth = self.depth.saturating_sub(1);
        *pos += 1;
        self.finish_value(input, pos)
    }

    /// Sets the phase after a complete value ending at `*pos`, consuming a
    /// directly following `,` (the common case in compact input) in one go.
    /// At top level this stops the scan with `Err(Step::Complete)`.
    #[inline(always)]
    fn finish_value(&mut self, input: &[u8], pos: &mut usize) -> Result<(), Step> {
        if self.depth == 0 {
            self.phase = Phase::Done;
            return Err(Step::Complete {
                start: self.start.unwrap_or(0),
                end: *pos,
            });
        } else if input.get(*pos) == Some(&b',') {
            *pos += 1;
            self.phase = if self.in_object() {
                Phase::Key
            } else {
                Phase::Value
            };
        } else {
            self.phase = Phase::After;
        }
        Ok(())
    }

    #[inline]
    fn in_object(&self) -> bool {
        let top = self.depth.saturating_sub(1) as u32;
        self.stack.wrapping_shr(top) & 1 == 1
    }
}

fn invalid(offset: usize, kind: JsonErrorKind) -> Step {
    Step::Invalid(JsonError::new(offset, kind))
}

/// Matches `word` at `p`; `Err(None)` when input ends inside a valid prefix.
fn literal(input: &[u8], p: usize, word: &[u8]) -> Result<usize, Option<()>> {
    for (i, &expected) in word.iter().enumerate() {
        match input.get(p + i) {
            Some(&b) if b == expected => {}
            Some(_) => return Err(Some(())),
            None => return Err(None),
        }
    }
    Ok(p + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_chunks(input: &[u8], split: usize) -> Step {
        let mut sc = Scanner::new();
        match sc.run(input.get(..split).unwrap_or(input), false) {
            Step::NeedMore => {}
            other => return other,
        }
        assert!(sc.pos() <= split);
        sc.run(input, true)
    }

    #[test]
    fn resuming_at_every_split_gives_the_same_result() {
        let docs: &[&str] = &[
            r#" {"a": [1, 2.5e3, "x\u00e9y", {"b": null}], "c": true} "#,
            r#""\ud83d\ude00 é 😀""#,
            "[[[], {}], -0.5, false]",
            "12345",
            r#"{"a" 1}"#,
            "[1, 2,]",
        ];
        for doc in docs {
            let whole = Scanner::new().run(doc.as_bytes(), true);
            for split in 0..=doc.len() {
                assert_eq!(run_chunks(doc.as_bytes(), split), whole, "{doc} @ {split}");
            }
        }
    }

    #[test]
    fn ws_inside_is_only_set_for_whitespace_within_the_value() {
        let mut sc = Scanner::new();
        assert!(matches!(
            sc.run(b"  [1,2]  ", true),
            Step::Complete { start: 2, end: 7 }
        ));
        assert!(!sc.ws_inside());
        let mut sc = Scanner::new();
        assert!(matches!(sc.run(b"[1, 2]", true), Step::Complete { .. }));
        assert!(sc.ws_inside());
        let mut sc = Scanner::new();
        assert!(matches!(sc.run(b"[\"a b\"]", true), Step::Complete { .. }));
        assert!(!sc.ws_inside());
    }

    #[test]
    fn rebase_keeps_validation_going_after_discarding_a_prefix() {
        let doc = br#"{"key": "value", "n": [1, 2, 3]}"#;
        let mut sc = Scanner::new();
        assert_eq!(
            sc.run(doc.get(..20).unwrap_or_default(), false),
            Step::NeedMore
        );
        let k = sc.pos();
        sc.rebase(k);
        assert!(matches!(
            sc.run(doc.get(k..).unwrap_or_default(), true),
            Step::Complete { end, .. } if end == doc.len() - k
        ));
    }
}
