//! Text decoders: stdin ingest framing, the JSON validator/compactor, the `--where` language.

use super::Bytes;
use crate::filter::Filter;
use crate::ingest::{IngestErrorKind, Mode, Reader};
use crate::json::{self as pjson, Scan};
use std::io::Read;

const MODES: [Mode; 6] = Mode::ALL;
const RECORD_LIMITS: [usize; 4] = [8, 100, 4096, crate::limits::INGEST_RECORD_BYTES_MAX];

/// A reader handing out the input in chunks whose sizes cycle through `sizes` (0 = a spurious
/// `Interrupted` error, which readers must retry), optionally failing for good after `fail_at` bytes.
struct Chunked<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
    fail_at: Option<usize>,
    given: usize,
    interrupted: bool,
}

impl Read for Chunked<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.given >= f) {
            return Err(std::io::Error::other("injected read failure"));
        }
        let size = self.sizes.get(self.turn % self.sizes.len().max(1)).copied();
        self.turn += 1;
        let n = match size {
            Some(0) if !self.interrupted => {
                self.interrupted = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            Some(s) => usize::from(s.max(1)),
            None => usize::MAX,
        };
        self.interrupted = false;
        let n = n.min(out.len()).min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        out.get_mut(..n).unwrap_or(&mut []).copy_from_slice(head);
        self.data = rest;
        self.given += n;
        Ok(n)
    }
}

/// One reader outcome, comparable across chunkings.
#[derive(Debug, PartialEq, Eq)]
enum Out {
    Rec(u64, u64, Vec<u8>),
    Err(u64, u64, String),
}

fn read_all(
    input: &[u8],
    mode: Mode,
    limit: usize,
    sizes: &[u8],
    fail_at: Option<usize>,
) -> Vec<Out> {
    let src = Chunked {
        data: input,
        sizes,
        turn: 0,
        fail_at,
        given: 0,
        interrupted: false,
    };
    let mut reader = Reader::with_limits(src, mode, limit);
    let mut got = Vec::new();
    let mut out = Vec::new();
    while let Some(r) = reader.next_into(&mut out) {
        match r {
            Ok(info) => {
                let mut again = Vec::new();
                let c = pjson::compact(&out, &mut again);
                assert!(
                    c.is_ok() && again == out,
                    "record {} is not compact JSON: {:?}",
                    info.index,
                    String::from_utf8_lossy(&out)
                );
                assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
                assert!(out.len() <= input.len());
                got.push(Out::Rec(info.index, info.line, out.clone()));
            }
            Err(e) => {
                assert!(out.is_empty(), "no output with an error");
                let is_io = matches!(e.kind, IngestErrorKind::Io(_));
                assert!(
                    !is_io || fail_at.is_some(),
                    "I/O error from a reader that never fails"
                );
                got.push(Out::Err(e.index, e.line, e.to_string()));
                if is_io {
                    assert!(
                        reader.next_into(&mut out).is_none(),
                        "nothing after an I/O error"
                    );
                    break;
                }
            }
        }
        assert!(
            got.len() <= input.len() + 1,
            "more records than input bytes"
        );
    }
    assert!(
        reader.next_into(&mut out).is_none(),
        "the end stays the end"
    );
    got
}

/// Fuzz target body for stdin ingest: every mode, whole and in arbitrary chunks, must agree.
pub fn ingest(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mode = MODES[usize::from(b.u8()) % MODES.len()];
    let limit = RECORD_LIMITS[usize::from(b.u8()) % RECORD_LIMITS.len()];
    let nsizes = usize::from(b.u8() % 8);
    let sizes = b.take(nsizes);
    let input = b.rest();
    let whole = read_all(input, mode, limit, &[], None);
    let chunked = read_all(input, mode, limit, sizes, None);
    assert_eq!(
        chunked, whole,
        "chunks {sizes:?} vs whole input, mode {mode:?}"
    );
    if input.len() <= 512 {
        assert_eq!(
            read_all(input, mode, limit, &[1], None),
            whole,
            "byte by byte"
        );
    }
    // A read failure part-way: the records before it are the same, then one I/O error ends the stream.
    let cut = usize::from(sizes.first().copied().unwrap_or(0)) * 3 % (input.len() + 1);
    let failed = read_all(input, mode, limit, sizes, Some(cut));
    assert!(
        matches!(failed.last(), Some(Out::Err(..))),
        "the failure is reported"
    );
}

/// Fuzz target body for `json::compact` / `json::scan_value`: accept exactly what serde_json accepts,
/// and the compact text parses to the same value.
pub fn json(data: &[u8]) {
    let mut out = b"prefix".to_vec();
    let ours = pjson::compact(data, &mut out);
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    match (&ours, theirs) {
        (Ok(()), Ok(value)) => {
            let body = out.get(b"prefix".len()..).unwrap_or(&[]);
            let reparsed = serde_json::from_slice::<serde_json::Value>(body);
            assert!(
                reparsed.as_ref().is_ok_and(|v| *v == value),
                "compact form reparses equal"
            );
            let mut again = Vec::new();
            assert!(
                pjson::compact(body, &mut again).is_ok() && again == body,
                "compact is idempotent"
            );
            match pjson::scan_value(data) {
                Scan::Complete { start, end } => {
                    let mut c = Vec::new();
                    let v = data.get(start..end).unwrap_or(&[]);
                    assert!(
                        pjson::compact(v, &mut c).is_ok() && c == body,
                        "scan_value bounds the value"
                    );
                }
                // A top-level number or literal reaching the end of the buffer may still grow.
                Scan::Incomplete => assert!(
                    !body.starts_with(b"[") && !body.starts_with(b"{") && !body.starts_with(b"\"")
                ),
                other => panic!("compact accepted, scan_value says {other:?}"),
            }
        }
        (Err(e), Err(_)) => {
            assert_eq!(out, b"prefix", "output untouched on error");
            assert!(e.offset <= data.len());
        }
        (ours, theirs) => panic!(
            "disagree on {:?}: ours {ours:?}, serde_json {theirs:?}",
            String::from_utf8_lossy(data)
        ),
    }
    split_resume(data);
}

/// Scanning in two pieces gives the same verdict as scanning whole.
fn split_resume(doc: &[u8]) {
    use crate::json::scanner::{Scanner, Step};
    let whole = Scanner::new().run(doc, true);
    let split = doc.first().map_or(0, |&b| usize::from(b)) % (doc.len() + 1);
    let mut scanner = Scanner::new();
    let first = scanner.run(doc.get(..split).unwrap_or(&[]), false);
    let got = if first == Step::NeedMore {
        assert!(scanner.pos() <= split);
        scanner.run(doc, true)
    } else {
        first
    };
    assert_eq!(got, whole, "split at {split}");
}

/// Fuzz target body for `--where`: the first line is the expression, the rest the message envelope
/// (any JSON value; a default envelope when it does not parse).
pub fn filter(data: &[u8]) {
    let (src, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            data.get(..i).unwrap_or(&[]),
            data.get(i + 1..).unwrap_or(&[]),
        ),
        None => (data, &[][..]),
    };
    let src = String::from_utf8_lossy(src);
    let input = serde_json::from_slice::<serde_json::Value>(rest).unwrap_or_else(|_| {
        serde_json::json!({
            "seq": 7, "time": "2024-05-01T12:00:00.000000000Z",
            "meta": {"tags": ["a", "b c"]},
            "data": {"n": 1.5, "s": String::from_utf8_lossy(rest), "a": [1, "x", null, true, {"k": []}]}
        })
    });
    let f = match Filter::parse(&src) {
        Ok(f) => f,
        Err(e) => {
            assert!(e.pos <= src.chars().count() + 1, "{e}");
            return;
        }
    };
    assert_eq!(f.source(), src);
    let matched = f.matches(&input);
    match f.eval(&input) {
        Ok(outs) => {
            let truthy = outs
                .iter()
                .any(|v| !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false)));
            assert_eq!(matched, Ok(truthy), "matches agrees with eval");
        }
        Err(e) => {
            let _ = (e.to_string(), e.is_limit());
        }
    }
    assert_eq!(f.matches(&input), matched, "evaluation is deterministic");
}
