//! Table tests for `compact`/`scan_value` and a randomized cross-check
//! against serde_json.

#![allow(clippy::indexing_slicing)] // tests may panic on bad indices

use super::*;
use crate::limits::JSON_DEPTH_MAX;
use JsonErrorKind::*;

fn compact_str(input: &[u8]) -> Result<String, JsonError> {
    let mut out = Vec::new();
    compact(input, &mut out).map(|()| String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn valid_inputs_compact_to_expected_text() {
    let table: &[(&str, &str)] = &[
        ("0", "0"),
        (" -0 ", "-0"),
        ("1.50", "1.50"),
        ("1e5", "1e5"),
        ("-12.5E-03", "-12.5E-03"),
        ("true", "true"),
        ("\tnull\r\n", "null"),
        (r#""a b\n\u00e9\"""#, r#""a b\n\u00e9\"""#),
        ("[ ]", "[]"),
        ("{ }", "{}"),
        (
            r#"{ "a" : 1 , "a" : [ 1 , { } ] }"#,
            r#"{"a":1,"a":[1,{}]}"#,
        ),
        (
            "{\n  \"k\": \"v w\",\n  \"z\": null\n}\n",
            r#"{"k":"v w","z":null}"#,
        ),
        (
            r#"["\ud83d\ude00", "😀", "\/"]"#,
            r#"["\ud83d\ude00","😀","\/"]"#,
        ),
        (r#"{"b":2,"a":1}"#, r#"{"b":2,"a":1}"#),
        ("\"\x7f\"", "\"\x7f\""),
    ];
    for (input, want) in table {
        assert_eq!(
            compact_str(input.as_bytes()).as_deref(),
            Ok(*want),
            "{input}"
        );
    }
}

#[test]
fn invalid_inputs_report_kind_and_offset() {
    let table: &[(&[u8], usize, JsonErrorKind)] = &[
        (b"", 0, Empty),
        (b"  \n ", 4, Empty),
        (b"1 2", 2, TrailingData),
        (b"{} x", 3, TrailingData),
        (b"1x", 1, UnexpectedByte),
        (b"truex", 4, UnexpectedByte),
        (b"+1", 0, UnexpectedByte),
        (b".5", 0, UnexpectedByte),
        (b"1.", 2, InvalidNumber),
        (b"01", 1, InvalidNumber),
        (b"-", 1, InvalidNumber),
        (b"1e400", 0, NumberOutOfRange),
        (b"NaN", 0, UnexpectedByte),
        (b"Infinity", 0, UnexpectedByte),
        (b"-Infinity", 1, InvalidNumber),
        (b"tru", 0, InvalidLiteral),
        (b"nul1", 0, InvalidLiteral),
        (b"\"abc", 4, UnterminatedString),
        (b"{\"a\":\"x\ny\"}", 7, ControlCharacter),
        (b"\"\\a\"", 1, InvalidEscape),
        (b"\"\\ud800\"", 1, LoneSurrogate),
        (b"\"\\udfff\"", 1, LoneSurrogate),
        (b"\"\xff\"", 1, InvalidUtf8),
        (b"\xef\xbb\xbf{}", 0, UnexpectedByte),
        (b"[1,]", 3, UnexpectedByte),
        (b"[1 2]", 3, UnexpectedByte),
        (b"{\"a\" 1}", 5, UnexpectedByte),
        (b"{\"a\":1,}", 7, UnexpectedByte),
        (b"{1:2}", 1, UnexpectedByte),
        (b"[1}", 2, UnexpectedByte),
        (b"{\"a\":1]", 6, UnexpectedByte),
        (b"[1, 2", 5, UnexpectedEnd),
        (b"{\"a\":", 5, UnexpectedEnd),
        (b"[\xc3\xa9]", 1, UnexpectedByte),
    ];
    for (input, offset, kind) in table {
        let mut out = b"keep".to_vec();
        let got = compact(input, &mut out);
        assert_eq!(
            got,
            Err(JsonError::new(*offset, *kind)),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(out, b"keep");
    }
}

#[test]
fn compact_appends_to_existing_output() {
    let mut out = b"x".to_vec();
    assert_eq!(compact(b" [1, 2] ", &mut out), Ok(()));
    assert_eq!(out, b"x[1,2]");
}

fn nested(depth: usize) -> Vec<u8> {
    let mut doc = b"[".repeat(depth);
    doc.extend_from_slice(&b"]".repeat(depth));
    doc
}

#[test]
fn depth_limit_edge_matches_serde_json() {
    let at = nested(JSON_DEPTH_MAX);
    let mut out = Vec::new();
    assert_eq!(compact(&at, &mut out), Ok(()));
    assert!(serde_json::from_slice::<serde_json::Value>(&at).is_ok());
    let over = nested(JSON_DEPTH_MAX + 1);
    assert_eq!(
        compact(&over, &mut out),
        Err(JsonError::new(JSON_DEPTH_MAX, DepthExceeded))
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&over).is_err());
}

#[test]
fn very_deep_input_is_rejected_without_stack_overflow() {
    let doc = b"[{\"a\":".repeat(1_000_000);
    let mut out = Vec::new();
    assert!(matches!(compact(&doc, &mut out), Err(e) if e.kind == DepthExceeded));
}

#[test]
fn scan_value_finds_boundaries_for_streaming() {
    let table: &[(&[u8], Scan)] = &[
        (b"", Scan::Empty),
        (b" \n\t", Scan::Empty),
        (b"  {\"a\":1} {", Scan::Complete { start: 2, end: 9 }),
        (b"[1,2]\n[3]", Scan::Complete { start: 0, end: 5 }),
        (b"\"x\"\"y\"", Scan::Complete { start: 0, end: 3 }),
        (b"12 ", Scan::Complete { start: 0, end: 2 }),
        (b"true\n", Scan::Complete { start: 0, end: 4 }),
        (b"true", Scan::Incomplete),
        (b"12", Scan::Incomplete),
        (b"-", Scan::Incomplete),
        (b"tr", Scan::Incomplete),
        (b"{\"a\":", Scan::Incomplete),
        (b"[1, \"ab", Scan::Incomplete),
        (b"\"\xe2\x82", Scan::Incomplete),
        (
            b"12x",
            Scan::Invalid(JsonError {
                offset: 2,
                kind: UnexpectedByte,
            }),
        ),
        (
            b"]",
            Scan::Invalid(JsonError {
                offset: 0,
                kind: UnexpectedByte,
            }),
        ),
        (
            b"[1 2",
            Scan::Invalid(JsonError {
                offset: 3,
                kind: UnexpectedByte,
            }),
        ),
    ];
    for (input, want) in table {
        assert_eq!(
            scan_value(input),
            *want,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// Small deterministic PRNG (xorshift64*), enough for test generation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WS: &[&str] = &["", "", "", " ", "\n", "\t", "\r\n", "  "];
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "1.50",
    "1e5",
    "-2.5E-3",
    "12345678901234567890123",
    "1e308",
    "1e309",
    "0.1e-400",
    "3.14159",
    "-1",
    "1E+2",
    "18446744073709551616",
];
const STRINGS: &[&str] = &[
    "",
    "a",
    "sensor-7",
    "a b",
    "\\n\\t\\\"",
    "\\u00e9",
    "\\ud83d\\ude00",
    "é",
    "😀",
    "\\/",
    "\\u0000",
    "x\\\\",
];

fn gen_value(rng: &mut Rng, depth: usize, out: &mut String) {
    let ws = |rng: &mut Rng, out: &mut String| out.push_str(rng.pick(WS));
    match rng.below(if depth > 4 { 4 } else { 6 }) {
        0 => out.push_str(rng.pick(NUMBERS)),
        1 => out.push_str(rng.pick(&["true", "false", "null"])),
        2 | 3 => {
            out.push('"');
            out.push_str(rng.pick(STRINGS));
            out.push('"');
        }
        4 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                gen_value(rng, depth + 1, out);
                ws(rng, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                out.push('"');
                out.push_str(rng.pick(STRINGS));
                out.push('"');
                ws(rng, out);
                out.push(':');
                ws(rng, out);
                gen_value(rng, depth + 1, out);
            }
            out.push('}');
        }
    }
}

const MUTATION_BYTES: &[u8] =
    b" \n\"\\{}[],:0123456789.eE+-tfnuxa\x00\x1f\x7f\x80\xc3\xe2\xed\xf0\xff";

fn mutate(rng: &mut Rng, doc: &mut Vec<u8>) {
    for _ in 0..=rng.below(3) {
        let pos = rng.below(doc.len() + 1);
        let byte = MUTATION_BYTES[rng.below(MUTATION_BYTES.len())];
        match rng.below(4) {
            0 if pos < doc.len() => doc[pos] = byte,
            1 if pos < doc.len() => {
                doc.remove(pos);
            }
            2 => doc.truncate(pos),
            _ => doc.insert(pos, byte),
        }
    }
}

/// Validating `doc` in two pieces (split at `split`) must give the same
/// outcome as validating it whole.
fn check_split_resume(doc: &[u8], split: usize) {
    use super::scanner::{Scanner, Step};
    let whole = Scanner::new().run(doc, true);
    let mut scanner = Scanner::new();
    let first = scanner.run(&doc[..split], false);
    let got = if first == Step::NeedMore {
        assert!(scanner.pos() <= split);
        scanner.run(doc, true)
    } else {
        first
    };
    // A top-level scalar cut at the split is only complete once the
    // delimiter is seen, so compare against the whole-document verdict.
    assert_eq!(
        got,
        whole,
        "{:?} split at {split}",
        String::from_utf8_lossy(doc)
    );
}

fn check_against_serde(doc: &[u8]) -> bool {
    let mut out = b"prefix".to_vec();
    let ours = compact(doc, &mut out);
    let theirs = serde_json::from_slice::<serde_json::Value>(doc);
    let shown = String::from_utf8_lossy(doc);
    match (ours, theirs) {
        (Ok(()), Ok(value)) => {
            let body = &out[b"prefix".len()..];
            let reparsed: serde_json::Value =
                serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
            assert_eq!(reparsed, value, "{shown}");
            assert!(!body.iter().any(|b| b" \n\t\r".contains(b)) || doc.contains(&b'"'));
            true
        }
        (Err(e), Err(_)) => {
            assert_eq!(out, b"prefix", "{shown}");
            assert!(e.offset <= doc.len(), "{shown}");
            false
        }
        (ours, theirs) => panic!("disagree on {shown:?}: ours {ours:?}, serde {theirs:?}"),
    }
}

#[test]
fn compact_accepts_exactly_what_serde_json_accepts() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..40_000 {
        let mut doc = String::new();
        doc.push_str(rng.pick(WS));
        gen_value(&mut rng, 0, &mut doc);
        doc.push_str(rng.pick(WS));
        let mut bytes = doc.into_bytes();
        check_against_serde(&bytes);
        mutate(&mut rng, &mut bytes);
        check_split_resume(&bytes, rng.below(bytes.len() + 1));
        if check_against_serde(&bytes) {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(
        accepted > 1000 && rejected > 1000,
        "{accepted} / {rejected}"
    );
}

#[test]
fn handwritten_edge_cases_agree_with_serde_json() {
    let cases: &[&[u8]] = &[
        b"\"\\uD834\\uDD1E\"",
        b"\"\\uDBFF\\uDFFF\"",
        b"\"\\uD800\\uDBFF\"",
        b"\"\\u12\"",
        b"\"\\U0041\"",
        b"\"\xf4\x8f\xbf\xbf\"",
        b"\"\xf4\x90\x80\x80\"",
        b"\"\xed\x9f\xbf\"",
        b"\"\xed\xa0\x80\"",
        b"\"\xe0\xa0\x80\"",
        b"\"\xc2\x80\"",
        b"\"\xc1\xbf\"",
        b"-0.0e-0",
        b"1E-2",
        b"1e-",
        b"[1e]",
        b"[-]",
        b"[00]",
        b"[0.]",
        b"{\"a\":tru}",
        b"[\"a\"\"b\"]",
        b"{\"a\"}",
        b"{\"a\":1 \"b\":2}",
        b" \x0b 1",
        b"1 \x0c",
        b"\"\t\"",
        b"[1]\x00",
        b"123456789012345678901234567890e280",
        b"17976931348623159e292",
        b"0.0000000000000000000000001e333",
    ];
    for case in cases {
        check_against_serde(case);
    }
}
