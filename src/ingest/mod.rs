//! Record framing for `pls poke`: turns a byte stream (stdin or a file) into
//! compact JSON records, one per input document.
//!
//! Owns the input modes (JSON Lines, a single JSON document, jq-style
//! concatenated values, RFC 7464 JSON text sequences, text/event-stream and
//! auto-detection), record numbering and error recovery.
//! Invariants:
//! - Memory is bounded: one fixed read buffer plus at most one pending record
//!   (a record over the limit is reported and skipped without buffering it).
//! - Every record handed out is valid, compact JSON per `crate::json::compact`.
//! - `Invalid`/`TooLarge` errors leave the reader usable (it has already
//!   moved to the next resync point); after an `Io` error it yields nothing.
//! - Record numbers count emitted records and failed records alike.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod buffer;
mod concat;
mod error;
mod lines;
mod sse;

#[cfg(test)]
mod tests;

use std::io::Read;

pub use error::{IngestError, IngestErrorKind};

use crate::json::scanner::Scanner;
use crate::limits::INGEST_RECORD_BYTES_MAX;
use buffer::{Fill, InputBuf};

/// How the input stream is divided into records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Detect from the first non-whitespace bytes (see the spec in NOTES.md).
    Auto,
    /// One JSON value per line; blank lines skipped.
    Jsonl,
    /// The whole input is one JSON value (one record).
    Json,
    /// RFC 7464 JSON text sequence (records start with RS, 0x1E).
    Seq,
    /// Whitespace-separated JSON values, each possibly multi-line (jq output).
    Jq,
    /// text/event-stream: the `data:` lines of each event form one record.
    EventStream,
}

impl Mode {
    /// Every mode, in the order of the `--in` choices.
    pub const ALL: [Mode; 6] = [
        Mode::Auto,
        Mode::Jsonl,
        Mode::Json,
        Mode::Seq,
        Mode::Jq,
        Mode::EventStream,
    ];
}

impl Mode {
    /// Parses a CLI name: `auto`, `jsonl`, `json`, `seq`, `jq`, `event-stream`.
    pub fn parse(name: &str) -> Option<Mode> {
        Some(match name {
            "auto" => Mode::Auto,
            "jsonl" => Mode::Jsonl,
            "json" => Mode::Json,
            "seq" => Mode::Seq,
            "jq" => Mode::Jq,
            "event-stream" => Mode::EventStream,
            _ => return None,
        })
    }

    /// The CLI name accepted by [`Mode::parse`].
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Jsonl => "jsonl",
            Mode::Json => "json",
            Mode::Seq => "seq",
            Mode::Jq => "jq",
            Mode::EventStream => "event-stream",
        }
    }
}

/// Where a successfully read record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordInfo {
    /// 1-based record number.
    pub index: u64,
    /// 1-based input line where the record's text starts.
    pub line: u64,
}

/// What the reader must discard before looking for the next record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skip {
    /// Nothing; the next byte may start a record.
    None,
    /// Discard through the next LF.
    PastLf,
    /// Discard up to (not including) the next RS.
    ToRs,
    /// Keep validating the too-large value in `Reader::scanner`, discarding it.
    Value,
}

/// Internal framer result: `Ok(None)` is a clean end of input.
type Framed = Result<Option<RecordInfo>, IngestError>;

/// Streaming record reader; see the module docs.
pub struct Reader<R: Read> {
    input: InputBuf<R>,
    mode: Mode,
    record_bytes_max: usize,
    index: u64,
    finished: bool,
    skip: Skip,
    scanner: Scanner,
    sse: sse::SseState,
}

impl<R: Read> Reader<R> {
    /// A reader with the default record limit `INGEST_RECORD_BYTES_MAX`.
    pub fn new(inner: R, mode: Mode) -> Self {
        Self::with_limits(inner, mode, INGEST_RECORD_BYTES_MAX)
    }

    /// A reader whose records may be at most `record_bytes_max` bytes of raw
    /// input text (leading and trailing whitespace not counted).
    pub fn with_limits(inner: R, mode: Mode, record_bytes_max: usize) -> Self {
        Self {
            input: InputBuf::new(inner, record_bytes_max),
            mode,
            record_bytes_max,
            index: 0,
            finished: false,
            skip: Skip::None,
            scanner: Scanner::new(),
            sse: sse::SseState::default(),
        }
    }

    /// The mode in use: the requested one, or what `Auto` detected (still
    /// `Auto` before the first call or for empty input).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Clears `out` and writes the compact JSON of the next record into it.
    /// Returns `None` at the end of input (and after an `Io` error).
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Option<Result<RecordInfo, IngestError>> {
        out.clear();
        if self.finished {
            return None;
        }
        let result = self.next_framed(out);
        if result.is_err() {
            out.clear();
        }
        match result {
            Ok(Some(info)) => Some(Ok(info)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => Some(Err(e)),
        }
    }

    fn next_framed(&mut self, out: &mut Vec<u8>) -> Framed {
        if self.mode == Mode::Auto {
            match self.detect()? {
                Some(mode) => self.mode = mode,
                None => return Ok(None),
            }
        }
        match self.mode {
            Mode::Auto | Mode::Jq => self.next_concat(out),
            Mode::Json => self.next_json(out),
            Mode::Jsonl => self.next_jsonl(out),
            Mode::Seq => self.next_seq(out),
            Mode::EventStream => self.next_sse(out),
        }
    }

    /// Picks the framing for `Auto` from the first non-whitespace bytes;
    /// `None` for an empty (or whitespace-only) input.
    fn detect(&mut self) -> Result<Option<Mode>, IngestError> {
        const SSE_PREFIXES: [&[u8]; 5] = [b"data:", b"event:", b"id:", b"retry:", b":"];
        loop {
            if !self.input.skip_ws() {
                if self.fill()? == Fill::Eof {
                    return Ok(None);
                }
                continue;
            }
            let data = self.input.data();
            if data.first() == Some(&0x1E) {
                return Ok(Some(Mode::Seq));
            }
            if SSE_PREFIXES.iter().any(|p| data.starts_with(p)) {
                return Ok(Some(Mode::EventStream));
            }
            let undecided = SSE_PREFIXES
                .iter()
                .any(|p| p.len() > data.len() && p.starts_with(data));
            if !undecided || self.fill()? == Fill::Eof {
                return Ok(Some(Mode::Jq));
            }
        }
    }

    /// Reads more input, turning an I/O failure into a final error.
    fn fill(&mut self) -> Result<Fill, IngestError> {
        self.input.fill().map_err(|e| {
            self.finished = true;
            IngestError {
                index: self.index + 1,
                line: self.input.line(),
                kind: IngestErrorKind::Io(e),
            }
        })
    }

    /// Allocates the next record number.
    fn next_index(&mut self) -> u64 {
        self.index += 1;
        self.index
    }

    /// Builds a `TooLarge` error for record `index` starting at `line`.
    fn too_large(&self, index: u64, line: u64) -> IngestError {
        IngestError {
            index,
            line,
            kind: IngestErrorKind::TooLarge {
                limit: self.record_bytes_max,
            },
        }
    }

    /// Discards input through the next `needle` (inclusive when `past`).
    /// Returns false if the input ended first.
    fn skip_to(&mut self, needle: u8, past: bool) -> Result<bool, IngestError> {
        loop {
            let data = self.input.data();
            if let Some(i) = buffer::find_byte(data, needle) {
                self.input.consume(i + usize::from(past));
                self.skip = Skip::None;
                return Ok(true);
            }
            let n = data.len();
            self.input.consume(n);
            if self.fill()? == Fill::Eof {
                self.skip = Skip::None;
                return Ok(false);
            }
        }
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<(RecordInfo, Vec<u8>), IngestError>;

    /// Convenience wrapper over [`Reader::next_into`] allocating per record.
    fn next(&mut self) -> Option<Self::Item> {
        let mut out = Vec::new();
        self.next_into(&mut out)
            .map(|result| result.map(|info| (info, out)))
    }
}
