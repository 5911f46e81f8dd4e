//! JSON-RPC 2.0 framing as MCP uses it: one message in, a classified [`Incoming`] out; replies built as
//! `serde_json::Value`s. Pure: no I/O, and [`decode`] never panics on any bytes (fuzzed).
//!
//! MCP 2025-06-18 removed batches, so a JSON array is one Invalid Request, answered with a null id.
//! A request id is a string or an integer (never null); a message with a `method` and no `id` is a
//! notification and is never answered.

use serde_json::{Map, Value};

/// Invalid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Valid JSON that is not a request we accept (a batch, a wrong `jsonrpc`, a bad id).
pub const INVALID_REQUEST: i64 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// The method exists but its params are wrong (and an unknown tool name, per MCP).
pub const INVALID_PARAMS: i64 = -32602;
/// A bug on our side.
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP: `resources/read` of a URI that names no resource.
pub const RESOURCE_NOT_FOUND: i64 = -32002;

/// A request id: a string or an integer, echoed back verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    Num(i64),
    Str(String),
}

impl Id {
    fn from_value(v: &Value) -> Option<Id> {
        match v {
            Value::String(s) => Some(Id::Str(s.clone())),
            Value::Number(n) => n.as_i64().map(Id::Num),
            _ => None,
        }
    }

    /// The id as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Id::Num(n) => Value::from(*n),
            Id::Str(s) => Value::from(s.clone()),
        }
    }
}

/// What one message is.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A request: it gets exactly one reply (unless cancelled).
    Request {
        id: Id,
        method: String,
        params: Map<String, Value>,
    },
    /// A notification: never answered.
    Notification {
        method: String,
        params: Map<String, Value>,
    },
    /// A response to a request we never send; ignored.
    Response,
    /// Not acceptable: answer this error reply.
    Invalid(Value),
}

/// Classifies one message (one line of stdio, one HTTP body).
pub fn decode(bytes: &[u8]) -> Incoming {
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return Incoming::Invalid(error(None, PARSE_ERROR, &format!("parse error: {e}"))),
    };
    let obj =
        match v {
            Value::Object(o) => o,
            Value::Array(_) => return Incoming::Invalid(error(
                None,
                INVALID_REQUEST,
                "batches are not supported: send one JSON-RPC message at a time (MCP 2025-06-18)",
            )),
            _ => {
                return Incoming::Invalid(error(
                    None,
                    INVALID_REQUEST,
                    "a JSON-RPC message is a JSON object",
                ))
            }
        };
    let id = match obj.get("id") {
        None => None,
        Some(raw) => match Id::from_value(raw) {
            Some(id) => Some(id),
            None => {
                return Incoming::Invalid(error(
                    None,
                    INVALID_REQUEST,
                    "the id must be a string or an integer",
                ))
            }
        },
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Incoming::Invalid(error(
            id.as_ref(),
            INVALID_REQUEST,
            "jsonrpc must be \"2.0\"",
        ));
    }
    let method = match obj.get("method") {
        Some(Value::String(m)) => m.clone(),
        Some(_) => {
            return Incoming::Invalid(error(
                id.as_ref(),
                INVALID_REQUEST,
                "method must be a string",
            ))
        }
        None if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) => {
            return Incoming::Response
        }
        None => {
            return Incoming::Invalid(error(id.as_ref(), INVALID_REQUEST, "no method"));
        }
    };
    let params = match obj.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return match id {
                Some(id) => {
                    Incoming::Invalid(error(Some(&id), INVALID_PARAMS, "params must be an object"))
                }
                None => Incoming::Notification {
                    method,
                    params: Map::new(),
                },
            }
        }
    };
    match id {
        Some(id) => Incoming::Request { id, method, params },
        None => Incoming::Notification { method, params },
    }
}

/// A success reply.
pub fn result(id: &Id, result: Value) -> Value {
    let mut o = Map::new();
    o.insert("jsonrpc".into(), "2.0".into());
    o.insert("id".into(), id.to_value());
    o.insert("result".into(), result);
    o.into()
}

/// An error reply (`id` null when the request's id could not be read).
pub fn error(id: Option<&Id>, code: i64, message: &str) -> Value {
    let mut e = Map::new();
    e.insert("code".into(), code.into());
    e.insert("message".into(), message.into());
    let mut o = Map::new();
    o.insert("jsonrpc".into(), "2.0".into());
    o.insert("id".into(), id.map_or(Value::Null, Id::to_value));
    o.insert("error".into(), e.into());
    o.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(v: &Incoming) -> Option<i64> {
        match v {
            Incoming::Invalid(r) => r["error"]["code"].as_i64(),
            _ => None,
        }
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        let r = decode(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#);
        assert!(
            matches!(r, Incoming::Request { id: Id::Num(7), ref method, .. } if method == "ping")
        );
        let r = decode(br#"{"jsonrpc":"2.0","id":"a","method":"x","params":{"k":1}}"#);
        assert!(
            matches!(r, Incoming::Request { id: Id::Str(ref s), ref params, .. } if s == "a" && params.len() == 1)
        );
        let n = decode(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert!(matches!(n, Incoming::Notification { .. }));
        let resp = decode(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert_eq!(resp, Incoming::Response);
    }

    #[test]
    fn malformed_messages_get_the_spec_codes() {
        assert_eq!(code(&decode(b"{")), Some(PARSE_ERROR));
        assert_eq!(code(&decode(b"")), Some(PARSE_ERROR));
        assert_eq!(code(&decode(b"[]")), Some(INVALID_REQUEST));
        let batch = decode(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
        assert_eq!(code(&batch), Some(INVALID_REQUEST));
        assert_eq!(code(&decode(b"3")), Some(INVALID_REQUEST));
        assert_eq!(
            code(&decode(br#"{"id":1,"method":"ping"}"#)),
            Some(INVALID_REQUEST)
        );
        let null_id = decode(br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#);
        assert_eq!(code(&null_id), Some(INVALID_REQUEST));
        let frac = decode(br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#);
        assert_eq!(code(&frac), Some(INVALID_REQUEST));
        let no_method = decode(br#"{"jsonrpc":"2.0","id":4}"#);
        assert_eq!(code(&no_method), Some(INVALID_REQUEST));
        if let Incoming::Invalid(r) = no_method {
            assert_eq!(r["id"], 4);
        }
        let bad_params = decode(br#"{"jsonrpc":"2.0","id":2,"method":"ping","params":[1]}"#);
        assert_eq!(code(&bad_params), Some(INVALID_PARAMS));
    }

    #[test]
    fn replies_echo_the_id() {
        let r = result(&Id::Str("x".into()), Value::Null);
        assert_eq!(r["id"], "x");
        assert_eq!(r["jsonrpc"], "2.0");
        let e = error(None, METHOD_NOT_FOUND, "nope");
        assert!(e["id"].is_null());
        assert_eq!(e["error"]["code"], METHOD_NOT_FOUND);
    }
}
