//! Framing for concatenated JSON values (`jq`/`auto` modes) and for a single
//! whole-input document (`json` mode).
//!
//! Invariants: a record is validated incrementally by the resumable scanner,
//! so bytes are examined once even when a record spans many reads; after a
//! parse error the reader resumes at a line start (see `resync_after_error`);
//! a too-large value is validated to its end while being discarded.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Read;

use super::buffer::Fill;
use super::{Framed, IngestError, IngestErrorKind, Reader, RecordInfo, Skip};
use crate::json::scanner::{skip_ws, Scanner, Step};
use crate::json::{emit, JsonError, JsonErrorKind};

/// How one value attempt ended.
enum Attempt {
    /// Record emitted; its text was `len` bytes.
    Record(RecordInfo, usize),
    /// Error already reported as `IngestError` and resync state set.
    Failed(IngestError),
    /// No value: the input holds only whitespace.
    Empty,
}

impl<R: Read> Reader<R> {
    /// Next record of a whitespace-separated stream of JSON values.
    pub(super) fn next_concat(&mut self, out: &mut Vec<u8>) -> Framed {
        if !self.finish_skip()? {
            return Ok(None);
        }
        match self.read_value(out)? {
            Attempt::Record(info, _) => Ok(Some(info)),
            Attempt::Failed(e) => Err(e),
            Attempt::Empty => Ok(None),
        }
    }

    /// The single record of `json` mode; anything but whitespace after it is
    /// an error for that record. The reader is finished afterwards.
    pub(super) fn next_json(&mut self, out: &mut Vec<u8>) -> Framed {
        self.finished = true;
        let (info, len) = match self.read_value(out)? {
            Attempt::Record(info, len) => (info, len),
            Attempt::Failed(e) => return Err(e),
            Attempt::Empty => return Ok(None),
        };
        let mut offset = len;
        loop {
            let before = self.input.data().len();
            let more = self.input.skip_ws();
            offset += before - self.input.data().len();
            if more {
                let e = JsonError::new(offset, JsonErrorKind::TrailingData);
                return Err(invalid(info.index, info.line, e));
            }
            if self.fill()? == Fill::Eof {
                return Ok(Some(info));
            }
        }
    }

    /// Runs pending skips; returns false if the input ended meanwhile.
    fn finish_skip(&mut self) -> Result<bool, IngestError> {
        loop {
            match self.skip {
                Skip::None => return Ok(true),
                Skip::Value => self.skip_value()?,
                Skip::PastLf | Skip::ToRs => {
                    if !self.skip_to(b'\n', true)? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Reads one value starting at the next non-whitespace byte.
    fn read_value(&mut self, out: &mut Vec<u8>) -> Result<Attempt, IngestError> {
        while !self.input.skip_ws() {
            if self.fill()? == Fill::Eof {
                return Ok(Attempt::Empty);
            }
        }
        let line = self.input.line();
        let mut scanner = Scanner::new();
        loop {
            let data = self.input.data();
            // Never look past the first byte over the limit: what is found there must not depend
            // on how much input one read happened to bring (an error there or "too large").
            let view = data
                .get(..self.record_bytes_max.saturating_add(1))
                .unwrap_or(data);
            let last = self.input.eof() && view.len() == data.len();
            match scanner.run(view, last) {
                Step::Complete { start, end } => {
                    self.index += 1;
                    let index = self.index;
                    let len = end - start;
                    if len > self.record_bytes_max {
                        self.input.consume(end);
                        return Ok(Attempt::Failed(self.too_large(index, line)));
                    }
                    emit(
                        data.get(start..end).unwrap_or_default(),
                        scanner.ws_inside(),
                        out,
                    );
                    if scanner.ws_inside() {
                        self.input.consume(end);
                    } else {
                        self.input.advance(end, 0);
                    }
                    return Ok(Attempt::Record(RecordInfo { index, line }, len));
                }
                Step::Invalid(e) => {
                    let index = self.next_index();
                    self.resync_after_error(e.offset);
                    return Ok(Attempt::Failed(invalid(index, line, e)));
                }
                Step::NeedMore if view.len() > self.record_bytes_max => {
                    return Ok(Attempt::Failed(self.start_skip_value(scanner, line)));
                }
                Step::NeedMore => {
                    if self.fill()? == Fill::Full {
                        return Ok(Attempt::Failed(self.start_skip_value(scanner, line)));
                    }
                }
            }
        }
    }

    /// Reports the pending value as too large and switches to discarding it.
    fn start_skip_value(&mut self, scanner: Scanner, line: u64) -> IngestError {
        let index = self.next_index();
        self.scanner = scanner;
        self.skip = Skip::Value;
        self.too_large(index, line)
    }

    /// Continues validating a too-large value, discarding validated bytes,
    /// until it ends (or fails, which resyncs at a line start).
    fn skip_value(&mut self) -> Result<(), IngestError> {
        loop {
            match self.scanner.run(self.input.data(), self.input.eof()) {
                Step::Complete { end, .. } => {
                    self.input.consume(end);
                    self.skip = Skip::None;
                    return Ok(());
                }
                Step::Invalid(e) => {
                    self.resync_after_error(e.offset);
                    return Ok(());
                }
                Step::NeedMore => {
                    // Discard what is validated, but keep a line break followed only by whitespace:
                    // if the next token breaks the value, the resync must see that it starts its
                    // line, as it would with all the input at hand.
                    let k = self.scanner.pos();
                    let data = self.input.data();
                    let keep = data
                        .get(..k)
                        .and_then(|d| d.iter().rposition(|&b| b == b'\n'))
                        .filter(|&lf| skip_ws(data, lf + 1) >= k)
                        .unwrap_or(k);
                    self.input.consume(keep);
                    self.scanner.rebase(keep);
                    if self.fill()? == Fill::Full {
                        self.skip = Skip::PastLf;
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Chooses where to resume after a parse error at `offset` (relative to
    /// the pending record): at the start of the error's own line when the
    /// offending token is the first thing on a line after the record's first
    /// line (e.g. a truncated JSON line followed by a good one), otherwise at
    /// the line after the error.
    fn resync_after_error(&mut self, offset: usize) {
        let data = self.input.data();
        let offset = offset.min(data.len());
        let before = data.get(..offset).unwrap_or_default();
        if let Some(lf) = before.iter().rposition(|&b| b == b'\n') {
            if skip_ws(before, lf + 1) == offset {
                self.input.consume(lf + 1);
                self.skip = Skip::None;
                return;
            }
        }
        self.input.consume(offset);
        self.skip = Skip::PastLf;
    }
}

/// An `Invalid` error for record `index` starting at `line`.
fn invalid(index: u64, line: u64, e: JsonError) -> IngestError {
    IngestError {
        index,
        line,
        kind: IngestErrorKind::Invalid(e),
    }
}
