//! Framing for line-delimited input: JSON Lines (`jsonl`) and the RS-led
//! records of RFC 7464 JSON text sequences (`seq`).
//!
//! Invariants: a record is the text from its first non-whitespace byte up to
//! its terminator (LF, or the next RS), with trailing whitespace dropped; the
//! terminator search never rescans bytes; a record over the limit is reported
//! once and the rest of it is discarded up to the next terminator without
//! being buffered.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Read;

use super::buffer::{find_byte, trim_end_len, Fill};
use super::{Framed, IngestError, IngestErrorKind, Reader, RecordInfo, Skip};
use crate::json::compact;

/// The RFC 7464 record separator.
pub(super) const RS: u8 = 0x1E;

impl<R: Read> Reader<R> {
    /// Next record of JSON Lines input (blank lines skipped, CRLF allowed).
    pub(super) fn next_jsonl(&mut self, out: &mut Vec<u8>) -> Framed {
        if self.skip != Skip::None && !self.skip_to(b'\n', true)? {
            return Ok(None);
        }
        while !self.input.skip_ws() {
            if self.fill()? == Fill::Eof {
                return Ok(None);
            }
        }
        self.terminated_record(b'\n', out).map(Some)
    }

    /// Next record of an RFC 7464 JSON text sequence. Empty records are
    /// skipped; text before the first RS is treated as a record.
    pub(super) fn next_seq(&mut self, out: &mut Vec<u8>) -> Framed {
        if self.skip != Skip::None && !self.skip_to(RS, false)? {
            return Ok(None);
        }
        loop {
            if !self.input.skip_ws() {
                if self.fill()? == Fill::Eof {
                    return Ok(None);
                }
                continue;
            }
            if self.input.data().first() == Some(&RS) {
                self.input.advance(1, 0);
                continue;
            }
            return self.terminated_record(RS, out).map(Some);
        }
    }

    /// Reads the record starting at the current (non-whitespace) byte and
    /// ending before `terminator` or at end of input.
    fn terminated_record(
        &mut self,
        terminator: u8,
        out: &mut Vec<u8>,
    ) -> Result<RecordInfo, IngestError> {
        let line = self.input.line();
        let mut searched = 0;
        loop {
            let data = self.input.data();
            let found = data
                .get(searched..)
                .and_then(|rest| find_byte(rest, terminator))
                .map(|i| searched + i);
            let text_end = match found {
                Some(i) => i,
                None if self.input.eof() => data.len(),
                None => {
                    searched = data.len();
                    if trim_end_len(data) > self.record_bytes_max {
                        return Err(self.skip_oversized(line, terminator));
                    }
                    if self.fill()? == Fill::Full {
                        return Err(self.skip_oversized(line, terminator));
                    }
                    continue;
                }
            };
            let text = data.get(..trim_end_len(data.get(..text_end).unwrap_or_default()));
            let text = text.unwrap_or_default();
            // JSONL: consume the LF too; seq: leave the RS for the next call.
            let consumed = if terminator == b'\n' {
                (text_end + 1).min(data.len())
            } else {
                text_end
            };
            self.index += 1;
            let index = self.index;
            let result = if text.len() > self.record_bytes_max {
                Err(self.too_large(index, line))
            } else {
                compact(text, out).map_err(|e| IngestError {
                    index,
                    line,
                    kind: IngestErrorKind::Invalid(e),
                })
            };
            if terminator == b'\n' {
                self.input.advance(consumed, u64::from(found.is_some()));
            } else {
                self.input.consume(consumed);
            }
            return result.map(|()| RecordInfo { index, line });
        }
    }

    /// Reports the pending record as too large, drops what is buffered of it
    /// and arranges for the rest to be discarded up to `terminator`.
    fn skip_oversized(&mut self, line: u64, terminator: u8) -> IngestError {
        let index = self.next_index();
        let n = self.input.data().len();
        self.input.consume(n);
        self.skip = if terminator == b'\n' {
            Skip::PastLf
        } else {
            Skip::ToRs
        };
        self.too_large(index, line)
    }
}
