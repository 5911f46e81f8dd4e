//! Framing for text/event-stream input: the `data:` lines of one event,
//! joined with `\n`, form one JSON record.
//!
//! Invariants: lines are processed as they stream in (a long `data:` line is
//! copied into the event buffer piecewise, never held twice); the event
//! buffer never exceeds the record limit (plus one pending CR); other fields
//! (`event:`, `id:`, `retry:`, unknown ones) and `:` comments are ignored.
//! Lines end with LF or CRLF.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Read;

use super::buffer::{find_byte, trim_end_len, Fill};
use super::{Framed, IngestError, IngestErrorKind, Reader, RecordInfo};
use crate::json::compact;
use crate::limits::INGEST_READ_BUFFER_BYTES_MAX;

/// Longest line prefix needed to classify a line (`data: `).
const PREFIX_BYTES_MAX: usize = 6;

/// Where the reader is within the current line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LineState {
    /// At the start of a line.
    #[default]
    Start,
    /// Copying the value of a `data` line (which began at this event offset).
    Data { value_start: usize },
    /// Skipping a comment or non-data field line.
    Ignore,
}

/// Event assembly state kept across calls.
#[derive(Debug, Default)]
pub(super) struct SseState {
    event: Vec<u8>,
    has_data: bool,
    line: u64,
    state: LineState,
    /// The event outgrew the limit (already reported); drop its data.
    discard: bool,
}

impl SseState {
    /// Capacity held by the event buffer (for memory-bound tests).
    #[cfg(test)]
    pub(super) fn event_capacity(&self) -> usize {
        self.event.capacity()
    }
}

/// How a line starts.
enum LineKind {
    /// Empty line: dispatch the event. Holds the bytes to consume.
    Blank(usize),
    /// A `data` field; holds the length of `data:` plus one optional space.
    Data(usize),
    /// Anything else.
    Other,
}

/// Classifies the line at the start of `data`, or `None` if more bytes are
/// needed (fewer than 6 bytes, no line end yet, input not finished).
fn classify(data: &[u8], eof: bool) -> Option<LineKind> {
    let head = data.get(..PREFIX_BYTES_MAX.min(data.len())).unwrap_or(data);
    let lf = find_byte(head, b'\n');
    if lf.is_none() && head.len() < PREFIX_BYTES_MAX && !eof {
        return None;
    }
    let line = head.get(..lf.unwrap_or(head.len())).unwrap_or(head);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some(match line {
        [] if lf.is_some() => LineKind::Blank(lf.map_or(0, |i| i + 1)),
        [] => LineKind::Other,
        [b'd', b'a', b't', b'a', b':', b' ', ..] => LineKind::Data(6),
        [b'd', b'a', b't', b'a', b':', ..] => LineKind::Data(5),
        b"data" => LineKind::Data(4),
        _ => LineKind::Other,
    })
}

impl<R: Read> Reader<R> {
    /// Next record of a text/event-stream.
    pub(super) fn next_sse(&mut self, out: &mut Vec<u8>) -> Framed {
        loop {
            if self.input.data().is_empty() && self.fill()? == Fill::Eof {
                self.sse.state = LineState::Start;
                return self.dispatch(out);
            }
            match self.sse.state {
                LineState::Start => {
                    let Some(kind) = classify(self.input.data(), self.input.eof()) else {
                        self.fill()?;
                        continue;
                    };
                    match kind {
                        LineKind::Blank(n) => {
                            self.input.consume(n);
                            if let Some(info) = self.dispatch(out)? {
                                return Ok(Some(info));
                            }
                        }
                        LineKind::Data(n) => self.begin_data_line(n),
                        LineKind::Other => self.sse.state = LineState::Ignore,
                    }
                }
                LineState::Data { value_start } => self.copy_data(value_start)?,
                LineState::Ignore => {
                    let data = self.input.data();
                    match find_byte(data, b'\n') {
                        Some(i) => {
                            self.input.advance(i + 1, 1);
                            self.sse.state = LineState::Start;
                        }
                        None => self.input.advance(data.len(), 0),
                    }
                }
            }
        }
    }

    /// Consumes a `data:` prefix of `n` bytes and starts collecting its value.
    fn begin_data_line(&mut self, n: usize) {
        self.input.advance(n, 0);
        let sse = &mut self.sse;
        if !sse.discard {
            if sse.has_data {
                sse.event.push(b'\n');
            } else {
                sse.has_data = true;
                sse.line = self.input.line();
            }
        }
        sse.state = LineState::Data {
            value_start: sse.event.len(),
        };
    }

    /// Copies buffered bytes of the current data line into the event; an
    /// event outgrowing the limit is reported once and then discarded.
    fn copy_data(&mut self, value_start: usize) -> Result<(), IngestError> {
        let data = self.input.data();
        let lf = find_byte(data, b'\n');
        let chunk = data.get(..lf.unwrap_or(data.len())).unwrap_or_default();
        let n = chunk.len();
        let ended = lf.is_some() || self.input.eof();
        let sse = &mut self.sse;
        let mut too_large = false;
        if !sse.discard {
            // A CR at the end of the chunk is (or may turn out to be) the
            // line ending, so it does not count against the limit yet.
            let last = match chunk.last() {
                Some(b) => Some(b),
                None => sse.event.get(value_start..).and_then(<[u8]>::last),
            };
            let cr = usize::from(last == Some(&b'\r'));
            let len = sse.event.len() + n;
            too_large = len - cr > self.record_bytes_max;
            if !too_large {
                reserve_bounded(&mut sse.event, n, self.record_bytes_max + 1);
                sse.event.extend_from_slice(chunk);
            }
        }
        if let Some(i) = lf {
            self.input.advance(i + 1, 1);
        } else {
            self.input.advance(n, 0);
        }
        let sse = &mut self.sse;
        if ended {
            if sse.event.len() > value_start && sse.event.last() == Some(&b'\r') {
                sse.event.pop();
            }
            sse.state = LineState::Start;
        }
        if too_large {
            sse.discard = true;
            sse.event = Vec::new();
            let line = sse.line;
            let index = self.next_index();
            return Err(self.too_large(index, line));
        }
        Ok(())
    }

    /// Ends the current event: emits its data as a record if it has any.
    fn dispatch(&mut self, out: &mut Vec<u8>) -> Framed {
        let sse = &mut self.sse;
        let had_data = sse.has_data && !sse.discard;
        sse.has_data = false;
        sse.discard = false;
        let result = if had_data && trim_end_len(&sse.event) > 0 {
            self.index += 1;
            let info = RecordInfo {
                index: self.index,
                line: sse.line,
            };
            match compact(&sse.event, out) {
                Ok(()) => Ok(Some(info)),
                Err(e) => Err(IngestError {
                    index: info.index,
                    line: info.line,
                    kind: IngestErrorKind::Invalid(e),
                }),
            }
        } else {
            Ok(None)
        };
        sse.event.clear();
        if sse.event.capacity() > INGEST_READ_BUFFER_BYTES_MAX {
            sse.event = Vec::new();
        }
        result
    }
}

/// Makes room for `extra` more bytes, doubling but never past `cap_max`
/// (unless the bytes themselves need more).
fn reserve_bounded(buf: &mut Vec<u8>, extra: usize, cap_max: usize) {
    let needed = buf.len() + extra;
    if needed > buf.capacity() {
        let target = needed.max(buf.capacity().saturating_mul(2).min(cap_max));
        buf.reserve_exact(target - buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_recognises_data_blank_and_other_lines() {
        let table: &[(&[u8], bool, Option<&str>)] = &[
            (b"data: 1\n", false, Some("data6")),
            (b"data:1\n", false, Some("data5")),
            (b"data\n", false, Some("data4")),
            (b"data\r\n", false, Some("data4")),
            (b"\n", false, Some("blank1")),
            (b"\r\nx", false, Some("blank2")),
            (b"event: x\n", false, Some("other")),
            (b": hi\n", false, Some("other")),
            (b"dat", false, None),
            (b"data:", false, None),
            (b"data:", true, Some("data5")),
            (b"datum: 1\n", false, Some("other")),
        ];
        for (input, eof, want) in table {
            let got = classify(input, *eof).map(|k| match k {
                LineKind::Blank(n) => format!("blank{n}"),
                LineKind::Data(n) => format!("data{n}"),
                LineKind::Other => "other".to_string(),
            });
            assert_eq!(
                got.as_deref(),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
