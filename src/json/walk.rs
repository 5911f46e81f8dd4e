//! The one raw-JSON walker: the members of an object as raw values, with their offsets, without
//! building a tree.
//!
//! Owns [`members`] (an iterator of [`Member`]s), [`members_of_valid`] and [`decode_string`]. With
//! [`members`] every key and value is delimited by the strict scanner ([`super::scan_value`]), so a
//! member's raw text is always one valid JSON value: that is the walk for text from outside (request
//! bodies, tail lines). [`members_of_valid`] is the same walk for text this crate validated already
//! (stored message data): values are delimited by quotes and bracket depth only, about twice as fast,
//! and malformed text still ends the walk with an error, never a panic or an out-of-bounds read.
//! Both share one state machine, inlined into the caller's loop: compact text costs one compare per
//! separator, and [`Member::raw_name`] lets a caller match escape-free keys by their bytes, without
//! decoding.
//! Invariants: no recursion (nested objects are walked by calling the walk again on a member's value),
//! no panics on any input, offsets index into the text given to the walk.

use super::scanner::skip_ws;
use super::{scan_value, JsonError, JsonErrorKind, Scan};
use std::borrow::Cow;

/// One member of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    /// The raw key, quotes included (decode it with [`decode_string`] or [`Member::name`]).
    pub key: &'a [u8],
    /// The raw text of the value (one valid JSON value, exactly as written).
    pub value: &'a [u8],
    /// Offset of the key's opening quote.
    pub key_offset: usize,
    /// Offset of the value's first byte.
    pub value_offset: usize,
}

impl<'a> Member<'a> {
    /// The decoded key (borrowed unless it has escapes); `None` only for a key the scanner accepted
    /// but that is not valid UTF-8 after unescaping (never, for validated text).
    pub fn name(&self) -> Option<Cow<'a, str>> {
        decode_string(self.key)
    }

    /// The key's bytes between the quotes when it has no escapes: then they are the name itself, so
    /// comparing them with a name's bytes compares names, with no decoding. `None` for an escaped key.
    #[inline]
    pub fn raw_name(&self) -> Option<&'a [u8]> {
        let inner = self.key.get(1..self.key.len().saturating_sub(1))?;
        (!inner.contains(&b'\\')).then_some(inner)
    }

    /// The key without quotes when it has no escapes (the common case, no allocation).
    pub fn plain_name(&self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_name()?).ok()
    }
}

/// Why a walk stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    /// Offset into the walked text.
    pub offset: usize,
    /// What was expected or went wrong.
    pub why: &'static str,
    /// The scanner's error, when a value itself is invalid.
    pub json: Option<JsonError>,
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.json {
            Some(e) => write!(f, "{} at byte {}", e.kind.message(), self.offset),
            None => write!(f, "{} at byte {}", self.why, self.offset),
        }
    }
}

/// Iterator over the members of the object `text` holds (optionally surrounded by whitespace).
/// After the last member it checks that nothing but whitespace follows the object; the first error
/// ends the iteration.
#[derive(Debug, Clone)]
pub struct Members<'a> {
    text: &'a [u8],
    pos: usize,
    state: State,
    /// Delimit values by quotes and depth only (the text was validated before).
    valid: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening brace.
    Open,
    /// After a member: a comma or the closing brace comes next.
    Next,
    Done,
}

/// Walks the members of the object in `text`.
pub fn members(text: &[u8]) -> Members<'_> {
    Members {
        text,
        pos: 0,
        state: State::Open,
        valid: false,
    }
}

/// Walks the members of the object in `text`, which this crate already validated (stored data):
/// the same members as [`members`] for valid text, without validating again.
pub fn members_of_valid(text: &[u8]) -> Members<'_> {
    Members {
        valid: true,
        ..members(text)
    }
}

/// `p` itself unless a whitespace byte is there: one compare for compact text, the common case.
#[inline(always)]
fn ws(t: &[u8], p: usize) -> usize {
    match t.get(p) {
        Some(b' ' | b'\t' | b'\n' | b'\r') => skip_ws(t, p + 1),
        _ => p,
    }
}

/// Just past the closing quote of the string whose body starts at `i`, in validated text (an
/// escape is skipped whole). `None` if the text ends first.
#[inline(always)]
fn string_end(t: &[u8], mut i: usize) -> Option<usize> {
    loop {
        match *t.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// End of the value starting at `p` in already validated text: strings by their closing quote,
/// containers by bracket depth, scalars up to the next delimiter. `None` if the text ends first.
#[inline(always)]
fn end_of_valid(t: &[u8], p: usize) -> Option<usize> {
    match *t.get(p)? {
        b'"' => string_end(t, p + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = p;
            loop {
                match *t.get(i)? {
                    b'"' => {
                        i = string_end(t, i + 1)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        b',' | b':' | b'}' | b']' => None,
        _ => {
            let mut i = p + 1;
            while let Some(b) = t.get(i) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            Some(i)
        }
    }
}

impl<'a> Members<'a> {
    #[cold]
    fn fail(&mut self, offset: usize, why: &'static str) -> Option<Result<Member<'a>, WalkError>> {
        self.state = State::Done;
        Some(Err(WalkError {
            offset,
            why,
            json: None,
        }))
    }

    /// The bounds of the value starting at `p` (after whitespace).
    #[inline(always)]
    fn value_at(&self, p: usize) -> Result<(usize, usize), WalkError> {
        if !self.valid {
            return self.scanned_value_at(p);
        }
        let start = ws(self.text, p);
        match end_of_valid(self.text, start) {
            Some(end) => Ok((start, end)),
            None => Err(WalkError {
                offset: start,
                why: "malformed value",
                json: None,
            }),
        }
    }

    /// [`Self::value_at`] for text from outside: the strict scanner delimits (and validates) it.
    #[inline(never)]
    fn scanned_value_at(&self, p: usize) -> Result<(usize, usize), WalkError> {
        let rest = self.text.get(p..).unwrap_or_default();
        match scan_value(rest) {
            Scan::Complete { start, end } => Ok((p + start, p + end)),
            Scan::Invalid(e) => Err(WalkError {
                offset: p + e.offset,
                why: "invalid value",
                json: Some(e),
            }),
            Scan::Incomplete | Scan::Empty => Err(WalkError {
                offset: self.text.len(),
                why: "unexpected end",
                json: Some(JsonError::new(
                    self.text.len(),
                    JsonErrorKind::UnexpectedEnd,
                )),
            }),
        }
    }

    /// The member whose key starts at or after `p` (after whitespace).
    #[inline(always)]
    fn member(&mut self, p: usize) -> Option<Result<Member<'a>, WalkError>> {
        let t = self.text;
        let p = ws(t, p);
        if t.get(p) != Some(&b'"') {
            return self.fail(p, "expected a member name");
        }
        let (ks, ke) = match self.value_at(p) {
            Ok(b) => b,
            Err(e) => {
                self.state = State::Done;
                return Some(Err(e));
            }
        };
        let colon = ws(t, ke);
        if t.get(colon) != Some(&b':') {
            return self.fail(colon, "expected ':' after a member name");
        }
        let (vs, ve) = match self.value_at(colon + 1) {
            Ok(b) => b,
            Err(e) => {
                self.state = State::Done;
                return Some(Err(e));
            }
        };
        self.pos = ve;
        self.state = State::Next;
        Some(Ok(Member {
            key: t.get(ks..ke).unwrap_or_default(),
            value: t.get(vs..ve).unwrap_or_default(),
            key_offset: ks,
            value_offset: vs,
        }))
    }

    /// After the closing brace at `brace`: only whitespace may follow.
    #[inline(always)]
    fn close(&mut self, brace: usize) -> Option<Result<Member<'a>, WalkError>> {
        let after = ws(self.text, brace + 1);
        if after != self.text.len() {
            return self.fail(after, "data after the object");
        }
        self.state = State::Done;
        None
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<Member<'a>, WalkError>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let t = self.text;
        let p = ws(t, self.pos);
        match (self.state, t.get(p)) {
            (State::Done, _) => None,
            (State::Open, Some(b'{')) => {
                let first = ws(t, p + 1);
                if t.get(first) == Some(&b'}') {
                    return self.close(first);
                }
                self.member(first)
            }
            (State::Open, _) => self.fail(p, "expected an object"),
            (State::Next, Some(b',')) => self.member(p + 1),
            (State::Next, Some(b'}')) => self.close(p),
            (State::Next, _) => self.fail(p, "expected ',' or '}'"),
        }
    }
}

/// A JSON string literal (quotes included) already validated by the scanner, decoded: borrowed
/// unless it has escapes (only then through serde_json). `None` if `raw` is not a string literal.
pub fn decode_string(raw: &[u8]) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if inner.contains(&b'\\') {
        serde_json::from_slice::<String>(raw).ok().map(Cow::Owned)
    } else {
        std::str::from_utf8(inner).ok().map(Cow::Borrowed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn walk(text: &str) -> Result<Vec<(String, String, usize)>, WalkError> {
        members(text.as_bytes())
            .map(|m| {
                m.map(|m| {
                    (
                        m.name().unwrap().into_owned(),
                        String::from_utf8(m.value.to_vec()).unwrap(),
                        m.value_offset,
                    )
                })
            })
            .collect()
    }

    #[test]
    fn members_come_in_order_with_raw_values_and_offsets() {
        let got = walk(r#" { "a" : [1, {"x":"}"}] , "b\u0021":1.50,"c":{} } "#).unwrap();
        assert_eq!(
            got,
            vec![
                ("a".into(), r#"[1, {"x":"}"}]"#.into(), 9),
                ("b!".into(), "1.50".into(), 36),
                ("c".into(), "{}".into(), 45),
            ]
        );
        assert_eq!(walk("{}").unwrap(), vec![]);
    }

    #[test]
    fn malformed_objects_end_the_walk_with_an_error() {
        for bad in [
            "",
            "[1]",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1 \"b\":2}",
            "{a:1}",
            "{\"a\":1} x",
            "{\"a\":[1,}",
        ] {
            assert!(walk(bad).is_err(), "{bad:?}");
        }
        let e = walk("{\"a\":1,]").unwrap_err();
        assert_eq!(e.offset, 7);
    }

    #[test]
    fn the_walk_of_valid_text_finds_the_same_members() {
        for text in [
            r#" { "a" : [1, {"x":"}\"]"}] , "b\u0021":1.50,"c":{} , "d":"q\\"} "#,
            r#"{}"#,
            r#"{"n":-1e5,"t":true,"z":null}"#,
        ] {
            let strict: Vec<_> = members(text.as_bytes()).collect();
            let fast: Vec<_> = members_of_valid(text.as_bytes()).collect();
            assert_eq!(strict, fast, "{text}");
            assert!(strict.iter().all(Result::is_ok), "{text}");
        }
    }

    #[test]
    fn the_walk_of_valid_text_never_panics_on_garbage() {
        for bad in [
            "",
            "{",
            "{\"a",
            "{\"a\":",
            "{\"a\":[",
            "{\"a\":]}",
            "{\"a\":\"\\",
            "{\"a\":1,",
            "{,}",
            "{\"a\":}}",
            "{\"a\":1}x",
        ] {
            let got: Vec<_> = members_of_valid(bad.as_bytes()).collect();
            assert!(got.iter().any(Result::is_err), "{bad:?}");
        }
    }

    #[test]
    fn the_first_error_ends_the_iteration() {
        let mut it = members(b"{\"a\":1,\"b\":nope,\"c\":2}");
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }

    #[test]
    fn plain_names_borrow_and_escaped_names_decode() {
        let m = members(br#"{"k":1,"\n":2}"#)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(m[0].plain_name(), Some("k"));
        assert_eq!(m[1].plain_name(), None);
        assert_eq!(m[1].name().unwrap(), "\n");
        assert_eq!(decode_string(b"1"), None);
    }

    #[test]
    fn raw_names_are_the_bytes_of_escape_free_keys_only() {
        let text = r#"{"k":1,"\n":2,"a\"":3,"é":4,"":5}"#;
        for m in [members(text.as_bytes()), members_of_valid(text.as_bytes())] {
            let m = m.collect::<Result<Vec<_>, _>>().unwrap();
            let raw: Vec<_> = m.iter().map(Member::raw_name).collect();
            let e = "é".as_bytes();
            assert_eq!(raw, [Some(&b"k"[..]), None, None, Some(e), Some(&b""[..])]);
            assert_eq!(m[2].name().unwrap(), "a\"");
        }
    }

    #[test]
    fn the_walk_of_valid_text_skips_whitespace_anywhere() {
        let text = "\t{\n \"a\" :\r\n[ 1 , \"x\" ]\n,\t\"b\":\ttrue \n,\"c\"\n:\n-2.5e3\n}\n ";
        let fast: Vec<_> = members_of_valid(text.as_bytes()).collect();
        assert_eq!(fast, members(text.as_bytes()).collect::<Vec<_>>());
        let values: Vec<_> = fast.iter().map(|m| m.as_ref().unwrap().value).collect();
        assert_eq!(values, [&b"[ 1 , \"x\" ]"[..], b"true", b"-2.5e3"]);
    }

    #[test]
    fn duplicate_keys_are_all_walked_in_order() {
        let got = walk(r#"{"a":1,"a":2,"b":3,"a":4}"#).unwrap();
        let keys: Vec<_> = got.iter().map(|(k, v, _)| format!("{k}={v}")).collect();
        assert_eq!(keys, ["a=1", "a=2", "b=3", "a=4"]);
    }

    #[test]
    fn every_truncation_of_an_object_ends_the_walk_of_valid_text_with_an_error() {
        let text = br#"{"a":[1,{"x":"}\"]"}],"b\u0021":-1.5,"c":{},"d":"q\\"}"#;
        assert!(members_of_valid(text).all(|m| m.is_ok()));
        for end in 0..text.len() {
            let cut = &text[..end];
            let got: Vec<_> = members_of_valid(cut).collect();
            assert!(
                got.last().is_some_and(Result::is_err),
                "{:?}",
                String::from_utf8_lossy(cut)
            );
            let err = got.last().unwrap().as_ref().unwrap_err();
            assert!(err.offset <= cut.len());
        }
    }

    #[test]
    fn non_objects_end_the_walk_of_valid_text_at_once() {
        for text in ["[1,2]", "\"s\"", "1", "null", " ", "}"] {
            let got: Vec<_> = members_of_valid(text.as_bytes()).collect();
            assert_eq!(got.len(), 1, "{text}");
            assert!(got[0].is_err(), "{text}");
        }
    }
}
