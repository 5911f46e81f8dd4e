//! `POST /mcp` of `plasmite serve` over the HTTP port with raw JSON-RPC bodies: the handshake, tools,
//! 202 for notifications, `GET` 405, the token, the browser rules, the access mode, the creation caps,
//! the protocol-version header, a wait woken by a `poke` from another process, and cancellation from
//! another request.

use crate::support::{make_pool, pls, raw_request, serve, HttpConn, Resp, TempDir};
use plasmite::server::Access;
use serde_json::{json, Value};
use std::net::SocketAddr;

fn rpc(id: i64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

fn call(id: i64, name: &str, args: Value) -> String {
    rpc(id, "tools/call", json!({"name": name, "arguments": args}))
}

fn post(addr: SocketAddr, token: Option<&str>, body: &str) -> Resp {
    HttpConn::open(addr).request("POST", "/mcp", token, Some(body))
}

fn tool_ok(r: &Resp) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["result"]["isError"], false, "{v}");
    v["result"]["structuredContent"].clone()
}

fn tool_kind(r: &Resp) -> String {
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["result"]["isError"], true, "{v}");
    let text: Value =
        serde_json::from_str(v["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    text["error"]["kind"].as_str().unwrap().to_owned()
}

#[test]
fn mcp_http_handshake_tools_and_methods() {
    let dir = TempDir::new("mcp-http");
    let s = serve(dir.path(), |_| {});
    let init = post(
        s.addr(),
        None,
        &rpc(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}}),
        ),
    );
    assert_eq!(init.status, 200);
    assert_eq!(
        init.header("Content-Type").as_deref(),
        Some("application/json")
    );
    assert_eq!(init.json()["result"]["protocolVersion"], "2025-06-18");
    let note = post(
        s.addr(),
        None,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(note.status, 202);
    assert!(note.body.is_empty());
    let get = HttpConn::open(s.addr()).request("GET", "/mcp", None, None);
    assert_eq!(get.status, 405);
    assert_eq!(get.header("Allow").as_deref(), Some("POST"));
    let a = tool_ok(&post(
        s.addr(),
        None,
        &call(
            2,
            "append",
            json!({"pool": "chat", "data": {"x": 1}, "create": true}),
        ),
    ));
    assert_eq!(a["seq"], 1);
    let r = tool_ok(&post(
        s.addr(),
        None,
        &call(3, "read", json!({"pool": "chat", "where": ".data.x == 1"})),
    ));
    assert_eq!(r["messages"][0]["data"], json!({"x": 1}));
    // /v0 sees it, and an MCP delete drops the server's cached handle (a later append makes a new file).
    let v0 = HttpConn::open(s.addr()).request("GET", "/v0/pools/chat/messages/1", None, None);
    assert_eq!(v0.status, 200);
    tool_ok(&post(
        s.addr(),
        None,
        &call(4, "pool_delete", json!({"pool": "chat"})),
    ));
    let gone = HttpConn::open(s.addr()).request(
        "POST",
        "/v0/pools/chat/append",
        None,
        Some(r#"{"data":1}"#),
    );
    assert_eq!(gone.status, 404, "{}", gone.text());
    let batch = post(s.addr(), None, &format!("[{}]", rpc(5, "ping", json!({}))));
    assert_eq!(batch.json()["error"]["code"], -32600);
    let unknown = post(s.addr(), None, &rpc(6, "nope", json!({})));
    assert_eq!(unknown.json()["error"]["code"], -32601);
    let parse = post(s.addr(), None, "{");
    assert_eq!(parse.json()["error"]["code"], -32700);
    let bad_args = post(
        s.addr(),
        None,
        &call(7, "get", json!({"pool": "chat", "seq": "one"})),
    );
    assert_eq!(tool_kind(&bad_args), "Usage");
    // An unsupported protocol version header is a 400; a supported one is fine.
    let mut c = HttpConn::open(s.addr());
    let body = rpc(8, "ping", json!({}));
    let req = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nMCP-Protocol-Version: 1999-01-01\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.send(req.as_bytes());
    assert_eq!(c.read_response().status, 400);
    let req = req.replace("1999-01-01", "2025-06-18");
    c.send(req.as_bytes());
    assert_eq!(c.read_response().json()["result"], json!({}));
}

#[test]
fn mcp_http_is_behind_the_token_the_browser_rules_and_the_limits() {
    let dir = TempDir::new("mcp-http-guard");
    let s = serve(dir.path(), |c| {
        c.token = Some("sekrit".into());
        c.limits.body_bytes_max = 4096;
        c.limits.pool_size_max = 128 * 1024;
    });
    let ping = rpc(1, "ping", json!({}));
    assert_eq!(post(s.addr(), None, &ping).status, 401);
    assert_eq!(post(s.addr(), Some("wrong"), &ping).status, 401);
    assert_eq!(post(s.addr(), Some("sekrit"), &ping).status, 200);
    let mut c = HttpConn::open(s.addr());
    let req = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\nAuthorization: Bearer sekrit\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{ping}",
        ping.len()
    );
    c.send(req.as_bytes());
    assert_eq!(c.read_response().status, 403);
    let mut c = HttpConn::open(s.addr());
    c.send(&raw_request(
        "POST",
        "/mcp",
        Some("sekrit"),
        Some(&"x".repeat(5000)),
    ));
    assert_eq!(c.read_response().status, 413);
    let big = post(
        s.addr(),
        Some("sekrit"),
        &call(
            2,
            "pool_create",
            json!({"pool": "big", "size_bytes": 1 << 20}),
        ),
    );
    assert_eq!(tool_kind(&big), "Permission");
    let fits = post(
        s.addr(),
        Some("sekrit"),
        &call(
            3,
            "pool_create",
            json!({"pool": "small", "size_bytes": 128 * 1024}),
        ),
    );
    tool_ok(&fits);
}

#[test]
fn mcp_http_read_only_server_lists_no_write_tools() {
    let dir = TempDir::new("mcp-http-ro");
    make_pool(dir.path(), "chat", None);
    let s = serve(dir.path(), |c| c.access = Access::ReadOnly);
    let list = post(s.addr(), None, &rpc(1, "tools/list", json!({}))).json();
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pool_list", "pool_info", "get", "read", "wait"]);
    let w = post(
        s.addr(),
        None,
        &call(2, "append", json!({"pool": "chat", "data": 1})),
    );
    assert_eq!(tool_kind(&w), "Permission");
}

#[test]
fn mcp_http_wait_is_woken_by_a_poke_and_cancelled_from_another_request() {
    let dir = TempDir::new("mcp-http-wait");
    make_pool(dir.path(), "jobs", None);
    let s = serve(dir.path(), |_| {});
    let addr = s.addr();
    let waiter = std::thread::spawn(move || {
        post(
            addr,
            None,
            &call(
                1,
                "wait",
                json!({"pool": "jobs", "since_seq": 1, "timeout_ms": 120000}),
            ),
        )
    });
    assert_eq!(
        pls(dir.path(), &["poke", "jobs", "{\"go\":true}"], None).code,
        0
    );
    let r = tool_ok(&waiter.join().unwrap());
    assert_eq!(r["message"]["data"], json!({"go": true}));
    assert_eq!(r["timed_out"], false);

    // Longer than the test's patience: only the cancellation can end it.
    let waiter = std::thread::spawn(move || {
        let mut c = HttpConn::open(addr);
        let body = call(7, "wait", json!({"pool": "jobs", "timeout_ms": 300000}));
        let req = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nMcp-Session-Id: s1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        c.send(req.as_bytes());
        c.read_response()
    });
    let cancel =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}})
            .to_string();
    let cancel_req = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nMcp-Session-Id: s1\r\nContent-Length: {}\r\n\r\n{cancel}",
        cancel.len()
    );
    // The wait may not have registered yet: cancel until it answers (each cancel is a 202).
    let done = crate::support::eventually(crate::procs::PATIENCE, || {
        let mut c = HttpConn::open(addr);
        c.send(cancel_req.as_bytes());
        assert_eq!(c.read_response().status, 202);
        waiter.is_finished()
    });
    assert!(done, "the cancelled wait did not end");
    let r = waiter.join().unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(r.body.is_empty());
}

#[test]
fn mcp_http_wait_ends_when_its_client_closes_the_connection() {
    let dir = TempDir::new("mcp-http-wait-gone");
    make_pool(dir.path(), "jobs", None);
    let s = serve(dir.path(), |_| {});
    let addr = s.addr();
    // A wait far longer than the test's patience: only the client going away can end it.
    let mut c = HttpConn::open(addr);
    let body = call(3, "wait", json!({"pool": "jobs", "timeout_ms": 300000}));
    let req = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.send(req.as_bytes());
    assert!(
        crate::support::eventually(crate::procs::PATIENCE, || s.tails() == 1),
        "the wait took a tail place"
    );
    drop(c);
    assert!(
        crate::support::eventually(crate::procs::PATIENCE, || s.tails() == 0),
        "the wait of a client that left still holds its place"
    );
    // The server goes on answering waits.
    let r = tool_ok(&post(
        addr,
        None,
        &call(4, "wait", json!({"pool": "jobs", "timeout_ms": 0})),
    ));
    assert_eq!(r["timed_out"], true);
}
