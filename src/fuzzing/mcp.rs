//! MCP message handling without a process: the JSON-RPC decoder, the dispatcher and the stdio line
//! transport on arbitrary bytes, against a read-only server over a directory that does not exist (so
//! nothing is written and every tool fails fast).

use crate::api::Client;
use crate::mcp::{rpc, stdio, Access, Server};
use serde_json::Value;

const CODES: [i64; 6] = [
    rpc::PARSE_ERROR,
    rpc::INVALID_REQUEST,
    rpc::METHOD_NOT_FOUND,
    rpc::INVALID_PARAMS,
    rpc::INTERNAL_ERROR,
    rpc::RESOURCE_NOT_FOUND,
];

/// Every reply is one JSON-RPC 2.0 object with exactly one of `result` and `error`; errors carry a
/// code of the spec; a request whose id could be read is answered with that id.
fn check_reply(v: &Value) {
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert!(v.get("id").is_some(), "{v}");
    assert_ne!(v.get("result").is_some(), v.get("error").is_some(), "{v}");
    if let Some(e) = v.get("error") {
        assert!(CODES.contains(&e["code"].as_i64().unwrap_or(0)), "{v}");
        assert!(e["message"].is_string(), "{v}");
    }
}

/// The whole input as one message, then as newline-delimited stdio input.
pub fn mcp(data: &[u8]) {
    let server = Server::new(
        Client::new("/nonexistent/plasmite-fuzz-mcp"),
        Access {
            reads: true,
            writes: false,
        },
    );
    match rpc::decode(data) {
        rpc::Incoming::Invalid(reply) => check_reply(&reply),
        rpc::Incoming::Request { id, .. } => {
            let reply = server.respond(data);
            let reply = reply.unwrap_or_else(|| panic!("request {id:?} got no reply"));
            check_reply(&reply);
            assert_eq!(reply["id"], id.to_value());
        }
        rpc::Incoming::Notification { .. } | rpc::Incoming::Response => {
            assert!(server.respond(data).is_none());
        }
    }
    let mut out = Vec::new();
    let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = Shared(std::sync::Arc::clone(&sink));
    assert!(stdio::serve(&server, data, writer).is_ok());
    if let Ok(bytes) = sink.lock() {
        out.extend_from_slice(&bytes);
    }
    assert!(out.is_empty() || out.ends_with(b"\n"));
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).unwrap_or(Value::Null);
        check_reply(&v);
    }
}

/// A writer into a shared buffer (the transport wants `Send + 'static`).
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
