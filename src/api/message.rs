//! Messages as library users see them, validated JSON text, and the envelope encoder shared by the CLI
//! and the HTTP server.
//!
//! The envelope is `{"seq":N,"time":"RFC 3339 UTC, 9 fraction digits","meta":{"tags":[...]},"data":…}`,
//! keys in that order. `data` is written exactly as stored (compact JSON text: key order and number text
//! as the writer gave them), never re-encoded.

use crate::error::{Error, Result};
use crate::pool::reader::FrameBuf;

/// Compact, validated JSON text of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(String);

impl JsonText {
    /// Validates `bytes` as exactly one JSON value and keeps its compact form (whitespace between tokens
    /// removed; key order, numbers and escapes preserved).
    pub fn parse(bytes: &[u8]) -> Result<JsonText> {
        let mut out = Vec::with_capacity(bytes.len());
        crate::json::compact(bytes, &mut out).map_err(|e| {
            Error::usage(e.to_string()).with_hint("data must be one JSON value, e.g. '{\"a\":1}'")
        })?;
        Ok(JsonText::from_compact(out))
    }

    /// Serializes a `serde_json::Value` compactly.
    pub fn from_value(v: &serde_json::Value) -> JsonText {
        JsonText(v.to_string())
    }

    /// Wraps bytes that `crate::json::compact` produced.
    pub(crate) fn from_compact(bytes: Vec<u8>) -> JsonText {
        JsonText(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }

    /// The compact text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Position in the pool's order, from 1, without gaps.
    pub seq: u64,
    /// Commit time in nanoseconds since the Unix epoch (never decreases with seq).
    pub time_ns: u64,
    /// Tags, in the order given at append.
    pub tags: Vec<String>,
    /// Compact JSON text of the data, exactly as stored.
    pub data: String,
}

impl Message {
    /// Copies a verified frame out of a read buffer.
    pub(crate) fn from_frame(f: &FrameBuf) -> Message {
        Message {
            seq: f.seq(),
            time_ns: f.time_ns(),
            tags: f.tags().map(str::to_owned).collect(),
            data: f.data().to_owned(),
        }
    }

    /// The data parsed as a `serde_json::Value`.
    pub fn data_value(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.data).map_err(|e| {
            Error::new(
                crate::ErrorKind::Corrupt,
                format!("stored data does not parse: {e}"),
            )
            .with_seq(self.seq)
        })
    }

    /// The time as RFC 3339 UTC with nanoseconds.
    pub fn time_rfc3339(&self) -> String {
        crate::time::format_rfc3339_nanos(self.time_ns)
    }

    /// Appends the compact envelope (no newline).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        write_envelope(
            self.seq,
            self.time_ns,
            self.tags.iter().map(String::as_str),
            &self.data,
            out,
        );
    }

    /// The envelope as a `serde_json::Value`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = Vec::new();
        self.write_json(&mut v);
        serde_json::from_slice(&v).unwrap_or(serde_json::Value::Null)
    }
}

/// A borrowed view of a message in a tail's read buffer (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct MessageRef<'a>(pub(crate) &'a FrameBuf);

impl<'a> MessageRef<'a> {
    /// The seq.
    pub fn seq(&self) -> u64 {
        self.0.seq()
    }
    /// Commit time, ns since the Unix epoch.
    pub fn time_ns(&self) -> u64 {
        self.0.time_ns()
    }
    /// The tags.
    pub fn tags(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0.tags()
    }
    /// Compact JSON text of the data.
    pub fn data(&self) -> &'a str {
        self.0.data()
    }
    /// An owned copy.
    pub fn to_message(&self) -> Message {
        Message::from_frame(self.0)
    }
    /// Appends the compact envelope (no newline).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        write_envelope(self.seq(), self.time_ns(), self.tags(), self.data(), out);
    }
}

/// Appends `{"seq":…,"time":"…","meta":{"tags":[…]},"data":…}` to `out`.
pub fn write_envelope<'t>(
    seq: u64,
    time_ns: u64,
    tags: impl Iterator<Item = &'t str>,
    data: &str,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"{\"seq\":");
    push_u64(seq, out);
    out.extend_from_slice(b",\"time\":\"");
    crate::time::write_rfc3339_nanos(time_ns, out);
    out.extend_from_slice(b"\",\"meta\":{\"tags\":[");
    for (i, t) in tags.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(t, out);
    }
    out.extend_from_slice(b"]},\"data\":");
    out.extend_from_slice(data.as_bytes());
    out.push(b'}');
}

fn push_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `s` as a JSON string literal.
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_keeps_key_order_and_data_text() {
        let m = Message {
            seq: 12,
            time_ns: 1_700_000_000_123_456_789,
            tags: vec!["a\"b".into(), "c\u{1}".into()],
            data: r#"{"z":1,"a":1.50}"#.into(),
        };
        let mut out = vec![];
        m.write_json(&mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            r#"{"seq":12,"time":"2023-11-14T22:13:20.123456789Z","meta":{"tags":["a\"b","c\u0001"]},"data":{"z":1,"a":1.50}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["meta"]["tags"][0], "a\"b");
    }

    #[test]
    fn json_text_compacts_and_refuses_garbage() {
        assert_eq!(
            JsonText::parse(b" { \"a\" : [1, 2] } ").unwrap().as_str(),
            r#"{"a":[1,2]}"#
        );
        let e = JsonText::parse(b"{nope").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Usage);
    }
}
