//! The v0 wire format shared by the server and the remote client: request bodies, message envelopes,
//! tail stream lines and error envelopes.
//!
//! Message data travels as raw JSON text: bodies are taken apart with the strict scanner of
//! `crate::json` (never through a `serde_json::Value`), so key order, number spelling and escapes of
//! `data` survive a round trip through the server exactly as they do locally.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::api::{write_envelope, write_json_string, Durability, JsonText, Message};
use crate::error::{Error, ErrorKind, Result};
use crate::json::{self, decode_string};
use std::borrow::Cow;

fn bad(why: impl std::fmt::Display) -> Error {
    Error::usage(format!("invalid JSON body: {why}"))
}

/// One member of an object: the decoded name (borrowed unless it has escapes) and the raw value.
pub type Member<'a> = (Cow<'a, str>, &'a [u8]);

/// The members of a JSON object, in order: the decoded key and the raw text of the value (the
/// strict walk of `crate::json::members`: every value is one valid JSON value).
pub fn members(text: &[u8]) -> Result<Vec<Member<'_>>> {
    json::members(text)
        .map(|m| {
            let m = m.map_err(bad)?;
            let key = m.name().ok_or_else(|| bad("expected a member name"))?;
            Ok((key, m.value))
        })
        .collect()
}

/// A whole number written as plain digits, else through serde_json (which refuses signs and
/// fractions).
fn decode_u64(raw: &[u8]) -> Option<u64> {
    if !raw.is_empty() && raw.len() < 20 && raw.iter().all(u8::is_ascii_digit) {
        return Some(raw.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')));
    }
    serde_json::from_slice(raw).ok()
}

/// Compact JSON text of a value the scanner already validated (compacted only if it has whitespace).
fn data_text(raw: &[u8]) -> Result<String> {
    if raw
        .iter()
        .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        return Ok(JsonText::parse(raw)?.as_str().to_owned());
    }
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| bad("invalid UTF-8"))
}

/// The members of a request body, refusing unknown and repeated names.
fn fields<'a>(body: &'a [u8], allowed: &[&str]) -> Result<Vec<Member<'a>>> {
    let m = members(body)?;
    for (i, (k, _)) in m.iter().enumerate() {
        if !allowed.contains(&k.as_ref()) {
            return Err(Error::usage(format!("unknown field {k:?}"))
                .with_hint(format!("this endpoint takes: {}", allowed.join(", "))));
        }
        if m.iter().take(i).any(|(k2, _)| k2 == k) {
            return Err(Error::usage(format!("field {k:?} given twice")));
        }
    }
    Ok(m)
}

fn field<'a>(m: &[Member<'a>], name: &str) -> Option<&'a [u8]> {
    m.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

fn string_field(m: &[Member<'_>], name: &str) -> Result<Option<String>> {
    field(m, name)
        .map(|raw| {
            decode_string(raw)
                .map(Cow::into_owned)
                .ok_or_else(|| Error::usage(format!("field {name:?} must be a string")))
        })
        .transpose()
}

fn u64_field(m: &[Member<'_>], name: &str) -> Result<Option<u64>> {
    field(m, name)
        .map(|raw| {
            decode_u64(raw)
                .ok_or_else(|| Error::usage(format!("field {name:?} must be a whole number")))
        })
        .transpose()
}

fn tags_of(raw: &[u8]) -> Result<Vec<String>> {
    if raw == b"[]" {
        return Ok(Vec::new());
    }
    serde_json::from_slice::<Vec<String>>(raw)
        .map_err(|_| Error::usage("\"tags\" must be an array of strings"))
}

fn required<T>(v: Option<T>, name: &str) -> Result<T> {
    v.ok_or_else(|| Error::usage(format!("missing field {name:?}")))
}

/// `{"pool": NAME, "size_bytes": N?}` (create) or `{"pool": NAME}` (open).
pub fn parse_pool_request(body: &[u8], with_size: bool) -> Result<(String, Option<u64>)> {
    let allowed: &[&str] = if with_size {
        &["pool", "size_bytes"]
    } else {
        &["pool"]
    };
    let m = fields(body, allowed)?;
    let name = required(string_field(&m, "pool")?, "pool")?;
    Ok((name, u64_field(&m, "size_bytes")?))
}

/// An append request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    pub data: JsonText,
    pub tags: Vec<String>,
    pub durability: Durability,
}

/// `{"data": …, "tags"|"descrips": [..]?, "durability": "fast"|"flush"?}`.
pub fn parse_append(body: &[u8]) -> Result<AppendRequest> {
    let m = fields(body, &["data", "tags", "descrips", "durability"])?;
    let data = JsonText::parse(required(field(&m, "data"), "data")?)?;
    let tags_raw = match (field(&m, "tags"), field(&m, "descrips")) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "give either \"tags\" or \"descrips\" (its alias), not both",
            ))
        }
        (t, d) => t.or(d),
    };
    let tags = match tags_raw {
        Some(raw) => tags_of(raw)?,
        None => Vec::new(),
    };
    let durability = match string_field(&m, "durability")? {
        Some(d) => Durability::parse(&d)?,
        None => Durability::Fast,
    };
    Ok(AppendRequest {
        data,
        tags,
        durability,
    })
}

/// The body of an append request.
pub fn append_body(data: &str, tags: &[String], durability: Durability) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(b",\"tags\":[");
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(t, &mut out);
    }
    out.extend_from_slice(b"],\"durability\":\"");
    out.extend_from_slice(durability.as_str().as_bytes());
    out.extend_from_slice(b"\"}");
    out
}

/// `{"message": ENVELOPE}`.
pub fn message_body(m: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(m.data.len() + 96);
    out.extend_from_slice(b"{\"message\":");
    write_envelope(
        m.seq,
        m.time_ns,
        m.tags.iter().map(String::as_str),
        &m.data,
        &mut out,
    );
    out.push(b'}');
    out
}

/// A tail line telling that `lost` messages were overwritten; the stream goes on at `next_seq`.
pub fn write_drop(lost: u64, next_seq: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(
        format!("{{\"drop\":{{\"lost\":{lost},\"next_seq\":{next_seq}}}}}").as_bytes(),
    );
}

/// One line of a tail stream, decoded.
#[derive(Debug)]
pub enum Line {
    Message(Message),
    /// `lost` messages were overwritten before they could be sent; the stream continues at `next_seq`.
    Drop {
        lost: u64,
        next_seq: u64,
    },
    /// An error envelope (a `Corrupt` one is followed by more lines; any other ends the stream).
    Error(Error),
}

/// Decodes a message envelope (`meta.descrips` is accepted for `meta.tags`).
pub fn parse_message(raw: &[u8]) -> Result<Message> {
    message_of(&members(raw)?)
}

fn message_of(m: &[Member<'_>]) -> Result<Message> {
    let seq = u64_field(m, "seq")?;
    let time = string_field(m, "time")?;
    let (Some(seq), Some(time), Some(meta), Some(data)) =
        (seq, time, field(m, "meta"), field(m, "data"))
    else {
        return Err(bad("a message needs seq, time, meta and data"));
    };
    let time_ns = crate::time::parse_rfc3339(&time).map_err(|e| bad(format!("time: {e}")))?;
    let meta = members(meta)?;
    let tags = match field(&meta, "tags").or_else(|| field(&meta, "descrips")) {
        Some(raw) => tags_of(raw)?,
        None => Vec::new(),
    };
    Ok(Message {
        seq,
        time_ns,
        tags,
        data: data_text(data)?,
    })
}

/// Decodes `{"message": ENVELOPE}`.
pub fn parse_message_body(body: &[u8]) -> Result<Message> {
    let m = members(body)?;
    parse_message(field(&m, "message").ok_or_else(|| bad("missing \"message\""))?)
}

/// Decodes one tail line.
pub fn parse_line(line: &[u8]) -> Result<Line> {
    let m = members(line)?;
    if let Some(d) = field(&m, "drop") {
        let d = members(d)?;
        return Ok(Line::Drop {
            lost: u64_field(&d, "lost")?.unwrap_or(0),
            next_seq: u64_field(&d, "next_seq")?.unwrap_or(0),
        });
    }
    if field(&m, "error").is_some() {
        let v: serde_json::Value = serde_json::from_slice(line).map_err(bad)?;
        return Ok(Line::Error(
            error_from_envelope(&v).ok_or_else(|| bad("an error line without kind and message"))?,
        ));
    }
    message_of(&m).map(Line::Message)
}

/// Rebuilds an [`Error`] from `{"error":{"kind","message","hint"?,"path"?,"seq"?,"offset"?}}`.
pub fn error_from_envelope(v: &serde_json::Value) -> Option<Error> {
    let e = v.get("error")?;
    let kind = ErrorKind::from_name(e.get("kind")?.as_str()?).unwrap_or(ErrorKind::Internal);
    let mut err = Error::new(kind, e.get("message")?.as_str()?);
    if let Some(h) = e.get("hint").and_then(|h| h.as_str()) {
        err = err.with_hint(h);
    }
    if let Some(p) = e.get("path").and_then(|p| p.as_str()) {
        err = err.with_path(p);
    }
    if let Some(s) = e.get("seq").and_then(|s| s.as_u64()) {
        err = err.with_seq(s);
    }
    if let Some(o) = e.get("offset").and_then(|o| o.as_u64()) {
        err = err.with_offset(o);
    }
    if let Some(n) = e.get("lost").and_then(|n| n.as_u64()) {
        err = err.with_lost(n);
    }
    Some(err)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)] // tests may panic
mod tests {
    use super::*;

    #[test]
    fn members_keep_raw_values() {
        let m = members(br#" { "a" : {"z":1, "b":1.50} , "d\u0061ta":[1] } "#).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "a");
        assert_eq!(m[0].1, br#"{"z":1, "b":1.50}"#);
        assert_eq!(m[1].0, "data");
        assert!(members(b"{}").unwrap().is_empty());
        for bad in [
            &b""[..],
            b"[]",
            b"{",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"{\"a\":1} x",
            b"{1:2}",
            b"{\"a\":1",
            b"{\"a\":tru}",
        ] {
            assert!(members(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn append_requests() {
        let a =
            parse_append(br#"{"data": {"z":1,"a":1.50}, "descrips":["x"], "durability":"flush"}"#)
                .unwrap();
        assert_eq!(a.data.as_str(), r#"{"z":1,"a":1.50}"#);
        assert_eq!(a.tags, vec!["x".to_owned()]);
        assert_eq!(a.durability, Durability::Flush);
        let a = parse_append(br#"{"data":null}"#).unwrap();
        assert_eq!((a.data.as_str(), a.durability), ("null", Durability::Fast));
        for bad in [
            &br#"{"data":1,"durability":"slow"}"#[..],
            br#"{"tags":[]}"#,
            br#"{"data":1,"tags":"x"}"#,
            br#"{"data":1,"tags":[],"descrips":[]}"#,
            br#"{"data":1,"data":2}"#,
            br#"{"data":1,"extra":2}"#,
            br#"{"data":01}"#,
        ] {
            let e = parse_append(bad).unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::Usage,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let body = append_body(r#"{"a":1}"#, &["t\"".to_owned()], Durability::Fast);
        let back = parse_append(&body).unwrap();
        assert_eq!(back.tags, vec!["t\"".to_owned()]);
    }

    #[test]
    fn envelopes_and_lines_round_trip() {
        let m = Message {
            seq: 9,
            time_ns: 1_700_000_000_000_000_001,
            tags: vec!["a".into()],
            data: r#"{"k":[1,2.0]}"#.into(),
        };
        let body = message_body(&m);
        assert_eq!(parse_message_body(&body).unwrap(), m);
        let line = &body[11..body.len() - 1];
        assert!(matches!(parse_line(line).unwrap(), Line::Message(x) if x == m));
        let mut d = Vec::new();
        write_drop(5, 12, &mut d);
        assert!(matches!(
            parse_line(&d).unwrap(),
            Line::Drop {
                lost: 5,
                next_seq: 12
            }
        ));
        let e = Error::corrupt("bad", 8).with_seq(3);
        let line = serde_json::to_vec(&e.to_json()).unwrap();
        match parse_line(&line).unwrap() {
            Line::Error(back) => {
                assert_eq!(back.kind(), ErrorKind::Corrupt);
                assert_eq!((back.seq(), back.offset()), (Some(3), Some(8)));
            }
            other => panic!("{other:?}"),
        }
    }
}
