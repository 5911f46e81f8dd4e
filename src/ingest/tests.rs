//! Behaviour tests for every framing mode, error recovery, limits and
//! arbitrary read boundaries.

#![allow(clippy::indexing_slicing)] // tests may panic on bad indices

use super::*;
use std::io;

/// Reader handing out at most `chunk` bytes per `read` call.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.chunk.min(out.len()).min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        out[..n].copy_from_slice(head);
        self.data = rest;
        Ok(n)
    }
}

/// One reader outcome in comparable form.
#[derive(Debug, PartialEq, Eq)]
enum Out {
    /// `index`, `line`, compact text.
    Rec(u64, u64, String),
    /// `index`, `line`, error kind, JSON error kind if any.
    Err(u64, u64, &'static str, Option<&'static str>),
}

fn rec(index: u64, line: u64, text: &str) -> Out {
    Out::Rec(index, line, text.to_string())
}

fn read_all_chunked(input: &[u8], mode: Mode, limit: usize, chunk: usize) -> Vec<Out> {
    let mut reader = Reader::with_limits(Chunked { data: input, chunk }, mode, limit);
    let mut got = Vec::new();
    let mut out = Vec::new();
    while let Some(result) = reader.next_into(&mut out) {
        got.push(match result {
            Ok(info) => Out::Rec(info.index, info.line, String::from_utf8_lossy(&out).into()),
            Err(e) => {
                assert!(out.is_empty());
                let json = match &e.kind {
                    IngestErrorKind::Invalid(j) => Some(j.kind.as_str()),
                    _ => None,
                };
                Out::Err(e.index, e.line, e.as_str(), json)
            }
        });
        assert!(got.len() < 10_000, "runaway reader");
    }
    assert!(reader.next_into(&mut out).is_none());
    got
}

/// Reads `input` whole and in 1-byte and 7-byte reads; all must agree.
fn read_all(input: &[u8], mode: Mode, limit: usize) -> Vec<Out> {
    let whole = read_all_chunked(input, mode, limit, usize::MAX);
    for chunk in [1, 7] {
        let got = read_all_chunked(input, mode, limit, chunk);
        assert_eq!(got, whole, "chunk {chunk}, mode {mode:?}");
    }
    whole
}

fn read(input: &str, mode: Mode) -> Vec<Out> {
    read_all(input.as_bytes(), mode, INGEST_RECORD_BYTES_MAX)
}

#[test]
fn mode_names_round_trip() {
    for name in ["auto", "jsonl", "json", "seq", "jq", "event-stream"] {
        assert_eq!(Mode::parse(name).map(Mode::as_str), Some(name));
    }
    assert_eq!(Mode::parse("ndjson"), None);
}

#[test]
fn empty_input_yields_no_records_in_every_mode() {
    for mode in Mode::ALL {
        assert_eq!(read("", mode), vec![], "{mode:?}");
        assert_eq!(read(" \n\r\n\t", mode), vec![], "{mode:?}");
    }
}

#[test]
fn jsonl_reads_one_value_per_line_skipping_blank_lines_and_crs() {
    let input = "{\"a\": 1}\r\n\r\n  [1, 2]  \n\"s\"\n3";
    let want = vec![
        rec(1, 1, r#"{"a":1}"#),
        rec(2, 3, "[1,2]"),
        rec(3, 4, r#""s""#),
        rec(4, 5, "3"),
    ];
    assert_eq!(read(input, Mode::Jsonl), want);
    assert_eq!(read(input, Mode::Auto), want);
}

#[test]
fn jsonl_bad_line_is_reported_and_following_lines_still_come_out() {
    let input = "{\"a\":1}\n{\"b\":\n{\"c\":3}\n{\"d\":\"x}\n[4]\n";
    let want = vec![
        rec(1, 1, r#"{"a":1}"#),
        Out::Err(2, 2, "invalid_json", Some("unexpected_end")),
        rec(3, 3, r#"{"c":3}"#),
        Out::Err(4, 4, "invalid_json", Some("unterminated_string")),
        rec(5, 5, "[4]"),
    ];
    assert_eq!(read(input, Mode::Jsonl), want);
}

#[test]
fn auto_mode_resyncs_at_the_next_line_after_a_bad_record() {
    // Line 2 lacks its closing brace: the error is found at line 3's `{`,
    // which is where reading resumes.
    let input = "{\"a\":1}\n{\"b\":1\n{\"c\":3}\n{\"d\":\"x}\n[4]\n}garbage ] {\n5\n";
    let want = vec![
        rec(1, 1, r#"{"a":1}"#),
        Out::Err(2, 2, "invalid_json", Some("unexpected_byte")),
        rec(3, 3, r#"{"c":3}"#),
        Out::Err(4, 4, "invalid_json", Some("control_character")),
        rec(5, 5, "[4]"),
        Out::Err(6, 6, "invalid_json", Some("unexpected_byte")),
        rec(7, 7, "5"),
    ];
    assert_eq!(read(input, Mode::Auto), want);
    assert_eq!(read(input, Mode::Jq), want);
}

#[test]
fn json_mode_reads_one_pretty_document_as_one_record() {
    let input = "\n{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"x y\"\n}\n\n";
    assert_eq!(
        read(input, Mode::Json),
        vec![rec(1, 2, r#"{"a":[1,2],"b":"x y"}"#)]
    );
    assert_eq!(read("[1,\n 2]", Mode::Json), vec![rec(1, 1, "[1,2]")]);
    assert_eq!(
        read("{\"a\":1}\n{\"b\":2}\n", Mode::Json),
        vec![Out::Err(1, 1, "invalid_json", Some("trailing_data"))]
    );
    assert_eq!(
        read("{\"a\":\n", Mode::Json),
        vec![Out::Err(1, 1, "invalid_json", Some("unexpected_end"))]
    );
}

#[test]
fn jq_mode_splits_concatenated_pretty_documents() {
    let input = "{\n  \"a\": 1\n}\n{\n  \"b\": [\n    2\n  ]\n}\n[]{\"c\":3}\"s\" 4\ntrue";
    let want = vec![
        rec(1, 1, r#"{"a":1}"#),
        rec(2, 4, r#"{"b":[2]}"#),
        rec(3, 9, "[]"),
        rec(4, 9, r#"{"c":3}"#),
        rec(5, 9, r#""s""#),
        rec(6, 9, "4"),
        rec(7, 10, "true"),
    ];
    assert_eq!(read(input, Mode::Jq), want);
    assert_eq!(read(input, Mode::Auto), want);
}

#[test]
fn seq_mode_reports_a_bad_record_and_resyncs_at_the_next_rs() {
    let input = "\x1e{\"a\":1}\n\x1e{\"b\":\n\x1e\x1e  [2]\n\n\x1e3\x1e\n";
    let want = vec![
        rec(1, 1, r#"{"a":1}"#),
        Out::Err(2, 2, "invalid_json", Some("unexpected_end")),
        rec(3, 3, "[2]"),
        rec(4, 5, "3"),
    ];
    assert_eq!(read(input, Mode::Seq), want);
    assert_eq!(read(input, Mode::Auto), want);
}

#[test]
fn event_stream_joins_data_lines_and_ignores_other_fields() {
    let input = concat!(
        ": comment\r\n",
        "event: update\r\n",
        "id: 7\n",
        "data: {\"a\":\n",
        "data:  1}\n",
        "retry: 10\n",
        "\n",
        "event: ping\n",
        "\n",
        "data:[1,\n",
        "data\n",
        "data: 2]\r\n",
        "\r\n",
        "data: {bad}\n",
        "\n",
        "data: \"last\"",
    );
    let want = vec![
        rec(1, 4, r#"{"a":1}"#),
        rec(2, 10, "[1,2]"),
        Out::Err(3, 14, "invalid_json", Some("unexpected_byte")),
        rec(4, 16, r#""last""#),
    ];
    assert_eq!(read(input, Mode::EventStream), want);
    assert_eq!(read(input, Mode::Auto), want);
}

#[test]
fn auto_detects_event_stream_from_any_field_prefix() {
    for first in ["data: 1", "event: x", "id: 1", "retry: 5", ": hi"] {
        let input = format!("{first}\n\ndata: 2\n\n");
        let got = read(&input, Mode::Auto);
        assert_eq!(got.last(), Some(&rec(got.len() as u64, 3, "2")), "{first}");
    }
}

/// A compact object whose text is exactly `len` bytes (`len >= 8`).
fn doc_of_len(len: usize) -> String {
    format!("{{\"k\":\"{}\"}}", "x".repeat(len - 8))
}

#[test]
fn record_at_the_limit_is_accepted_and_one_byte_more_is_too_large() {
    let limit = 100;
    let at = doc_of_len(limit);
    let over = doc_of_len(limit + 1);
    assert_eq!(at.len(), limit);
    type Frame = fn(&str) -> String;
    let framings: [(Mode, Frame); 5] = [
        (Mode::Jsonl, |d| format!("  {d}  \r\n")),
        (Mode::Jq, |d| format!("  {d}  \n")),
        (Mode::Json, |d| format!(" {d}\n")),
        (Mode::Seq, |d| format!("\x1e{d}\n")),
        (Mode::EventStream, |d| format!("data: {d}\r\n\r\n")),
    ];
    for (mode, frame) in framings {
        let good = read_all(frame(&at).as_bytes(), mode, limit);
        assert_eq!(good, vec![rec(1, 1, &at)], "{mode:?}");
        let bad = read_all(frame(&over).as_bytes(), mode, limit);
        assert_eq!(bad, vec![Out::Err(1, 1, "too_large", None)], "{mode:?}");
    }
}

#[test]
fn default_record_limit_edge_is_inclusive() {
    for (len, ok) in [
        (INGEST_RECORD_BYTES_MAX, true),
        (INGEST_RECORD_BYTES_MAX + 1, false),
    ] {
        let input = format!("{}\n1\n", doc_of_len(len));
        let mut reader = Reader::new(input.as_bytes(), Mode::Auto);
        let mut out = Vec::new();
        let first = reader.next_into(&mut out);
        if ok {
            assert!(matches!(first, Some(Ok(info)) if info.index == 1));
            assert_eq!(out.len(), len);
        } else {
            assert!(matches!(first, Some(Err(ref e)) if e.as_str() == "too_large"));
        }
        assert!(matches!(reader.next_into(&mut out), Some(Ok(info)) if info.index == 2));
        assert_eq!(out, b"1");
    }
}

#[test]
fn too_large_records_are_skipped_and_reading_continues() {
    let limit = 50;
    let big = doc_of_len(500);
    let pretty_big = format!(
        "{{\n  \"a\": [\n{}\n  ]\n}}",
        "    1,\n".repeat(100) + "    2"
    );
    let cases: [(Mode, String, u64, u64); 4] = [
        (Mode::Jsonl, format!("1\n{big}\n2\n"), 2, 3),
        (Mode::Auto, format!("1\n{pretty_big}\n2\n"), 2, 107),
        (Mode::Seq, format!("\x1e1\n\x1e{big}\n\x1e2\n"), 2, 3),
        (
            Mode::EventStream,
            format!("data: 1\n\ndata: {big}\ndata: 3\n\ndata: 2\n\n"),
            3,
            6,
        ),
    ];
    for (mode, input, err_line, last_line) in cases {
        let got = read_all(input.as_bytes(), mode, limit);
        let want = vec![
            rec(1, 1, "1"),
            Out::Err(2, err_line, "too_large", None),
            rec(3, last_line, "2"),
        ];
        assert_eq!(got, want, "{mode:?}");
    }
}

/// Generator of `remaining` `x` bytes followed by `tail`.
struct Huge {
    remaining: usize,
    tail: &'static [u8],
}

impl Read for Huge {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            let n = self.tail.len().min(out.len());
            out[..n].copy_from_slice(&self.tail[..n]);
            self.tail = &self.tail[n..];
            return Ok(n);
        }
        let n = self.remaining.min(out.len());
        out[..n].fill(b'x');
        self.remaining -= n;
        Ok(n)
    }
}

#[test]
fn oversized_record_does_not_grow_memory_past_limit_plus_read_buffer() {
    use crate::limits::INGEST_READ_BUFFER_BYTES_MAX;
    let limit = 100_000;
    for mode in [Mode::Jsonl, Mode::Jq, Mode::Seq, Mode::EventStream] {
        let prefix: &[u8] = match mode {
            Mode::Seq => b"\x1e[\"",
            Mode::EventStream => b"data: [\"",
            _ => b"[\"",
        };
        let tail: &'static [u8] = match mode {
            Mode::Seq => b"\"]\n\x1e7\n",
            Mode::EventStream => b"\"]\n\ndata: 7\n\n",
            _ => b"\"]\n7\n",
        };
        let body = Huge {
            remaining: 20_000_000,
            tail,
        };
        let mut reader = Reader::with_limits(prefix.chain(body), mode, limit);
        let mut out = Vec::new();
        let first = reader.next_into(&mut out);
        assert!(
            matches!(first, Some(Err(ref e)) if e.as_str() == "too_large"),
            "{mode:?}"
        );
        assert!(reader.input.allocated() <= limit + INGEST_READ_BUFFER_BYTES_MAX);
        let second = reader.next_into(&mut out);
        assert!(
            matches!(second, Some(Ok(info)) if info.index == 2),
            "{mode:?}"
        );
        assert_eq!(out, b"7");
        assert!(reader.input.allocated() <= limit + INGEST_READ_BUFFER_BYTES_MAX);
        assert!(reader.sse.event_capacity() <= limit + 1);
        assert!(reader.next_into(&mut out).is_none());
    }
}

/// Fails on the second read.
struct FailSecond(bool);

impl Read for FailSecond {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.0 {
            return Err(io::Error::other("disk on fire"));
        }
        self.0 = true;
        out[..4].copy_from_slice(b"1\n2\n");
        Ok(4)
    }
}

#[test]
fn io_error_is_reported_once_then_the_reader_stops() {
    for mode in [Mode::Auto, Mode::Jsonl, Mode::Seq, Mode::EventStream] {
        let mut reader = Reader::new(FailSecond(false), mode);
        let mut outcomes = Vec::new();
        let mut out = Vec::new();
        while let Some(r) = reader.next_into(&mut out) {
            outcomes.push(r.map_err(|e| e.as_str()));
        }
        assert!(
            matches!(outcomes.last(), Some(Err("io"))),
            "{mode:?}: {outcomes:?}"
        );
    }
}

#[test]
fn iterator_yields_owned_records() {
    let reader = Reader::new(&b"1\n[2]\nx\n3"[..], Mode::Auto);
    let got: Vec<_> = reader
        .map(|r| r.map(|(info, v)| (info.index, v)).map_err(|e| e.index))
        .collect();
    assert_eq!(
        got,
        vec![
            Ok((1, b"1".to_vec())),
            Ok((2, b"[2]".to_vec())),
            Err(3),
            Ok((4, b"3".to_vec()))
        ]
    );
}

#[test]
fn every_read_boundary_gives_the_same_records() {
    let inputs: &[(&str, Mode)] = &[
        (
            "{\"a\": \"\\ud83d\\ude00 é\"}\n[1,\n2]\n  \"x\"  12 -3.5e2\n",
            Mode::Auto,
        ),
        ("\x1e{\"a\":1}\n\x1e[\n2]\n", Mode::Auto),
        ("data: {\"a\":\r\ndata: \"é\"}\r\n\r\n", Mode::Auto),
        ("1\r\n\r\n2\n{bad\n3", Mode::Jsonl),
    ];
    for (input, mode) in inputs {
        for chunk in 1..=input.len() {
            let whole = read_all_chunked(input.as_bytes(), *mode, 1000, usize::MAX);
            let got = read_all_chunked(input.as_bytes(), *mode, 1000, chunk);
            assert_eq!(got, whole, "{input:?} chunk {chunk}");
        }
    }
}

/// Small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

const DOCS: &[&str] = &[
    r#"{"i":1,"name":"a b","tags":["x","y"],"v":1.50}"#,
    r#"[1,2,{"k":null}]"#,
    r#""str\n\u00e9""#,
    "-0",
    "true",
    r#"{"nested":{"deep":[[],[{}]]},"e":"😀"}"#,
];

const GARBAGE: &[&str] = &[
    "{\"a\":", "}", "[1,,2]", "tru", "\"open", "nul1", "01", "\u{1e}",
];

/// Random pieces (documents, some pretty-printed, blank lines and garbage)
/// plus the records expected from the documents.
fn random_pieces(rng: &mut Rng, garbage: bool) -> (Vec<String>, Vec<String>) {
    let mut pieces = Vec::new();
    let mut docs = Vec::new();
    for _ in 0..rng.below(12) {
        match rng.below(if garbage { 5 } else { 4 }) {
            0 => pieces.push(String::new()),
            4 => pieces.push(GARBAGE[rng.below(GARBAGE.len())].to_string()),
            n => {
                let doc = DOCS[rng.below(DOCS.len())];
                let value: serde_json::Value = serde_json::from_str(doc).unwrap_or_default();
                if n == 3 {
                    // serde re-serializes (key order, number text), so the
                    // expected record is serde's compact form of that value.
                    pieces.push(serde_json::to_string_pretty(&value).unwrap_or_default());
                    docs.push(serde_json::to_string(&value).unwrap_or_default());
                } else {
                    pieces.push(doc.to_string());
                    docs.push(doc.to_string());
                }
            }
        }
    }
    (pieces, docs)
}

/// The same pieces framed for each mode.
fn frame_pieces(pieces: &[String], mode: Mode) -> String {
    let mut text = String::new();
    for piece in pieces {
        match mode {
            Mode::Seq => text.push('\u{1e}'),
            Mode::EventStream => {
                for line in piece.lines() {
                    text.push_str("data: ");
                    text.push_str(line);
                    text.push('\n');
                }
            }
            _ => {}
        }
        if mode != Mode::EventStream {
            text.push_str(piece);
        }
        text.push('\n');
    }
    text
}

#[test]
fn random_streams_frame_identically_for_any_read_size() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for round in 0..3000 {
        let garbage = round % 2 == 1;
        let (pieces, docs) = random_pieces(&mut rng, garbage);
        let chunk = 1 + rng.below(16);
        for mode in [
            Mode::Auto,
            Mode::Jq,
            Mode::Jsonl,
            Mode::Seq,
            Mode::EventStream,
        ] {
            let text = frame_pieces(&pieces, mode);
            let whole = read_all_chunked(text.as_bytes(), mode, 4096, usize::MAX);
            let got = read_all_chunked(text.as_bytes(), mode, 4096, chunk);
            assert_eq!(got, whole, "{text:?} chunk {chunk} {mode:?}");
            let records: Vec<&str> = whole
                .iter()
                .map(|o| match o {
                    Out::Rec(_, _, json) => {
                        assert!(serde_json::from_str::<serde_json::Value>(json).is_ok());
                        json.as_str()
                    }
                    Out::Err(..) => "error",
                })
                .collect();
            if !garbage && mode != Mode::Jsonl {
                assert_eq!(records, docs, "{text:?} {mode:?}");
            }
        }
    }
}

#[test]
fn an_invalid_record_past_the_limit_gets_the_same_error_whatever_the_read_sizes() {
    // Found by fuzzing: the string breaks (raw LF) at byte 9, past the 8-byte limit; whole-input
    // reads said "invalid JSON", 1-byte reads "too large". Bytes past the limit are not examined.
    let input = b"{\" [0,2.E\n\"{\xff\xff\xff\xff\n";
    for mode in [Mode::Auto, Mode::Jq] {
        let got = read_all(input, mode, 8);
        assert_eq!(got[0], Out::Err(1, 1, "too_large", None), "{mode:?}");
    }
}

#[test]
fn the_resync_after_a_too_large_value_does_not_depend_on_read_sizes() {
    // Found by fuzzing: a too-large value breaks on a token that starts the next line. Read whole,
    // the reader resumed at that line (one more error record); read in pieces, the line break had
    // already been discarded and the whole line was skipped.
    let input = b"{\"multi\":\n\xff\xff\xff\n[1]\n";
    for mode in [Mode::Auto, Mode::Jq] {
        let got = read_all(input, mode, 8);
        assert_eq!(
            got,
            vec![
                Out::Err(1, 1, "too_large", None),
                Out::Err(2, 2, "invalid_json", Some("unexpected_byte")),
                rec(3, 3, "[1]"),
            ],
            "{mode:?}"
        );
    }
}
