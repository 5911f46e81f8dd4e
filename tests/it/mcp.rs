//! `plasmite mcp`: the Model Context Protocol over stdio, driven with raw JSON-RPC lines against the
//! real binary (handshake, every tool good and bad, resources, wait woken by another process,
//! cancellation, access modes, malformed messages).

use crate::procs::{wait_bounded, PATIENCE};
use crate::support::{bin, pls, TempDir};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};

/// A running `plasmite --dir D mcp ARGS`.
struct Mcp {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Mcp {
    fn start(dir: &TempDir, args: &[&str]) -> Mcp {
        let mut child = Command::new(bin())
            .arg("--dir")
            .arg(dir.path())
            .arg("mcp")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Mcp {
            child,
            stdin,
            lines,
        }
    }

    fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, v: Value) {
        self.send_raw(&v.to_string());
    }

    /// The next reply line (every line on stdout must be one JSON-RPC object).
    fn recv(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(PATIENCE)
            .expect("no reply from plasmite mcp");
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        v
    }

    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let v = self.recv();
        assert_eq!(v["id"], id, "{v}");
        v
    }

    /// A tools/call result (the JSON-RPC `result`).
    fn tool(&mut self, id: i64, name: &str, args: Value) -> Value {
        let v = self.request(id, "tools/call", json!({"name": name, "arguments": args}));
        v["result"].clone()
    }

    /// Closes stdin, waits for the exit, returns the lines written after the last `recv`.
    fn finish(mut self) -> Vec<Value> {
        drop(self.stdin.take());
        let status = wait_bounded(&mut self.child, PATIENCE);
        assert!(status.success(), "{status:?}");
        self.lines
            .iter()
            .map(|l| serde_json::from_str(&l).unwrap())
            .collect()
    }
}

fn init(m: &mut Mcp) -> Value {
    let r = m.request(
        0,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}),
    );
    m.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    r
}

/// The stable error kind of an `isError` tool result.
fn tool_error_kind(r: &Value) -> String {
    assert_eq!(r["isError"], true, "{r}");
    assert!(r.get("structuredContent").is_none(), "{r}");
    let text = r["content"][0]["text"].as_str().unwrap();
    let v: Value = serde_json::from_str(text).unwrap();
    v["error"]["kind"].as_str().unwrap().to_owned()
}

/// The structured content of a successful tool result (also given as text).
fn ok(r: &Value) -> Value {
    assert_eq!(r["isError"], false, "{r}");
    let text: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, r["structuredContent"]);
    r["structuredContent"].clone()
}

fn tool_names(m: &mut Mcp, id: i64) -> Vec<String> {
    let r = m.request(id, "tools/list", json!({}));
    let tools = r["result"]["tools"].as_array().unwrap();
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
    }
    tools
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn mcp_initialize_negotiates_the_protocol_version() {
    let dir = TempDir::new("mcp-init");
    let mut m = Mcp::start(&dir, &[]);
    let r = init(&mut m);
    assert_eq!(r["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(r["result"]["serverInfo"]["name"], "plasmite");
    assert!(r["result"]["capabilities"]["tools"].is_object());
    assert!(r["result"]["capabilities"]["resources"].is_object());
    let older = m.request(1, "initialize", json!({"protocolVersion": "2025-03-26"}));
    assert_eq!(older["result"]["protocolVersion"], "2025-03-26");
    let unknown = m.request(2, "initialize", json!({"protocolVersion": "1999-01-01"}));
    assert_eq!(unknown["result"]["protocolVersion"], "2025-06-18");
    let missing = m.request(3, "initialize", json!({}));
    assert_eq!(missing["error"]["code"], -32602);
    let ping = m.request(4, "ping", json!({}));
    assert_eq!(ping["result"], json!({}));
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_pool_tools_create_list_info_delete() {
    let dir = TempDir::new("mcp-pools");
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    let names = tool_names(&mut m, 1);
    let want = [
        "pool_list",
        "pool_info",
        "pool_create",
        "pool_delete",
        "append",
        "get",
        "read",
        "wait",
    ];
    assert_eq!(names, want);
    let c = ok(&m.tool(
        2,
        "pool_create",
        json!({"pool": "chat", "size_bytes": 65536}),
    ));
    assert_eq!(c["name"], "chat");
    assert_eq!(c["file_size"], 65536);
    assert_eq!(c["message_count"], 0);
    let again = m.tool(3, "pool_create", json!({"pool": "chat"}));
    assert_eq!(tool_error_kind(&again), "AlreadyExists");
    let small = m.tool(4, "pool_create", json!({"pool": "x", "size_bytes": 1}));
    assert_eq!(tool_error_kind(&small), "Usage");
    let escape = m.tool(5, "pool_create", json!({"pool": "../etc"}));
    assert_eq!(tool_error_kind(&escape), "Usage");
    let l = ok(&m.tool(6, "pool_list", json!({})));
    assert_eq!(l["pools"].as_array().unwrap().len(), 1);
    assert_eq!(l["pools"][0]["name"], "chat");
    let extra = m.tool(7, "pool_list", json!({"all": true}));
    assert_eq!(tool_error_kind(&extra), "Usage");
    let i = ok(&m.tool(8, "pool_info", json!({"pool": "chat"})));
    assert_eq!(i["bounds"], json!({}));
    let none = m.tool(9, "pool_info", json!({"pool": "nope"}));
    assert_eq!(tool_error_kind(&none), "NotFound");
    let missing = m.tool(10, "pool_info", json!({}));
    assert_eq!(tool_error_kind(&missing), "Usage");
    let d = ok(&m.tool(11, "pool_delete", json!({"pool": "chat"})));
    assert_eq!(d, json!({"name": "chat", "deleted": true}));
    let gone = m.tool(12, "pool_delete", json!({"pool": "chat"}));
    assert_eq!(tool_error_kind(&gone), "NotFound");
    assert!(!dir.join("chat.plasmite").exists());
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_append_get_read_with_tags_and_where() {
    let dir = TempDir::new("mcp-msgs");
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    let no_pool = m.tool(1, "append", json!({"pool": "log", "data": 1}));
    assert_eq!(tool_error_kind(&no_pool), "NotFound");
    let a = ok(&m.tool(
        2,
        "append",
        json!({"pool": "log", "data": {"level": "info"}, "tags": ["a"], "create": true}),
    ));
    assert_eq!(a["seq"], 1);
    assert_eq!(a["meta"]["tags"], json!(["a"]));
    for (id, level) in [(3, "error"), (4, "info"), (5, "error")] {
        let r = m.tool(
            id,
            "append",
            json!({"pool": "log", "data": {"level": level}, "tags": ["b"], "durability": "flush"}),
        );
        ok(&r);
    }
    let bad_dur = m.tool(
        6,
        "append",
        json!({"pool": "log", "data": 1, "durability": "slow"}),
    );
    assert_eq!(tool_error_kind(&bad_dur), "Usage");
    let bad_tags = m.tool(7, "append", json!({"pool": "log", "data": 1, "tags": "b"}));
    assert_eq!(tool_error_kind(&bad_tags), "Usage");
    let no_data = m.tool(8, "append", json!({"pool": "log"}));
    assert_eq!(tool_error_kind(&no_data), "Usage");

    let g = ok(&m.tool(9, "get", json!({"pool": "log", "seq": 2})));
    assert_eq!(g["data"], json!({"level": "error"}));
    let missing = m.tool(10, "get", json!({"pool": "log", "seq": 99}));
    assert_eq!(tool_error_kind(&missing), "NotFound");
    for (id, seq) in [
        (11, json!(0)),
        (12, json!("2")),
        (13, json!(-1)),
        (14, json!(1.5)),
    ] {
        let r = m.tool(id, "get", json!({"pool": "log", "seq": seq}));
        assert_eq!(tool_error_kind(&r), "Usage", "{seq}");
    }

    let all = ok(&m.tool(20, "read", json!({"pool": "log"})));
    let seqs = |v: &Value| -> Vec<u64> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&all), [1, 2, 3, 4]);
    assert_eq!(all["next_seq"], 5);
    assert_eq!(all["more"], false);
    let errs = ok(&m.tool(
        21,
        "read",
        json!({"pool": "log", "where": ".data.level == \"error\"", "tags": ["b"]}),
    ));
    assert_eq!(seqs(&errs), [2, 4]);
    let page = ok(&m.tool(22, "read", json!({"pool": "log", "since_seq": 2, "max": 2})));
    assert_eq!(seqs(&page), [2, 3]);
    assert_eq!(page["more"], true);
    assert_eq!(page["next_seq"], 4);
    let last = ok(&m.tool(23, "read", json!({"pool": "log", "last": 1})));
    assert_eq!(seqs(&last), [4]);
    let bad_where = m.tool(24, "read", json!({"pool": "log", "where": ".data ==="}));
    assert_eq!(tool_error_kind(&bad_where), "Usage");
    let both = m.tool(
        25,
        "read",
        json!({"pool": "log", "last": 1, "since_seq": 1}),
    );
    assert_eq!(tool_error_kind(&both), "Usage");
    let too_many = m.tool(26, "read", json!({"pool": "log", "max": 1001}));
    assert_eq!(tool_error_kind(&too_many), "Usage");
    let max_ok = ok(&m.tool(27, "read", json!({"pool": "log", "max": 1000})));
    assert_eq!(seqs(&max_ok), [1, 2, 3, 4]);
    // The CLI sees what the tools wrote.
    let cli = pls(dir.path(), &["get", "log", "4"], None);
    assert_eq!(cli.lines()[0]["data"], json!({"level": "error"}));
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_pool_resources_list_and_read() {
    let dir = TempDir::new("mcp-res");
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    ok(&m.tool(
        1,
        "append",
        json!({"pool": "chat", "data": "hi", "create": true}),
    ));
    let l = m.request(2, "resources/list", json!({}));
    let res = &l["result"]["resources"];
    assert_eq!(res.as_array().unwrap().len(), 1);
    assert_eq!(res[0]["uri"], "plasmite://pool/chat");
    let r = m.request(3, "resources/read", json!({"uri": "plasmite://pool/chat"}));
    let c = &r["result"]["contents"][0];
    assert_eq!(c["uri"], "plasmite://pool/chat");
    assert_eq!(c["mimeType"], "application/json");
    let body: Value = serde_json::from_str(c["text"].as_str().unwrap()).unwrap();
    assert_eq!(body["pool"]["name"], "chat");
    assert_eq!(body["messages"][0]["data"], "hi");
    for (id, uri) in [
        (4, "plasmite://pool/nope"),
        (5, "plasmite://pool/../x"),
        (6, "file:///etc/passwd"),
    ] {
        let e = m.request(id, "resources/read", json!({"uri": uri}));
        assert_eq!(e["error"]["code"], -32002, "{uri}");
    }
    let no_uri = m.request(7, "resources/read", json!({}));
    assert_eq!(no_uri["error"]["code"], -32602);
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_wait_is_woken_by_a_poke_from_another_process() {
    let dir = TempDir::new("mcp-wait");
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    ok(&m.tool(1, "pool_create", json!({"pool": "jobs"})));
    let wait = json!({"pool": "jobs", "since_seq": 1, "tags": ["go"], "where": ".data.n > 1", "timeout_ms": 120000});
    m.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "wait", "arguments": wait}}));
    // The reader keeps answering while the wait blocks: the ping's reply comes first.
    let ping = m.request(3, "ping", json!({}));
    assert_eq!(ping["result"], json!({}));
    // Neither an untagged message nor a tagged one failing the filter wakes it for good.
    assert_eq!(
        pls(dir.path(), &["poke", "jobs", "{\"n\":5}"], None).code,
        0
    );
    assert_eq!(
        pls(
            dir.path(),
            &["poke", "jobs", "--tag", "go", "{\"n\":1}"],
            None
        )
        .code,
        0
    );
    let started = std::time::Instant::now();
    assert_eq!(
        pls(
            dir.path(),
            &["poke", "jobs", "--tag", "go", "{\"n\":2}"],
            None
        )
        .code,
        0
    );
    let r = m.recv();
    eprintln!(
        "wait answered {:?} after the matching poke exited",
        started.elapsed()
    );
    assert_eq!(r["id"], 2, "{r}");
    let s = ok(&r["result"]);
    assert_eq!(s["message"]["seq"], 3);
    assert_eq!(s["message"]["data"], json!({"n": 2}));
    assert_eq!(s["timed_out"], false);
    assert_eq!(s["next_seq"], 4);
    // A short wait with nothing new times out with a null message.
    let t = ok(&m.tool(4, "wait", json!({"pool": "jobs", "timeout_ms": 0})));
    assert_eq!(t["timed_out"], true);
    assert!(t["message"].is_null());
    let over = m.tool(5, "wait", json!({"pool": "jobs", "timeout_ms": 300001}));
    assert_eq!(tool_error_kind(&over), "Usage");
    let bad = m.tool(6, "wait", json!({"pool": "nope"}));
    assert_eq!(tool_error_kind(&bad), "NotFound");
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_cancelled_wait_stops_and_is_never_answered() {
    let dir = TempDir::new("mcp-cancel");
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    ok(&m.tool(1, "pool_create", json!({"pool": "jobs"})));
    // Longer than PATIENCE: if cancellation did not stop it, finish() below would fail.
    let wait = json!({"pool": "jobs", "timeout_ms": 300000});
    m.send(json!({"jsonrpc": "2.0", "id": "w", "method": "tools/call", "params": {"name": "wait", "arguments": wait}}));
    assert_eq!(m.request(2, "ping", json!({}))["result"], json!({}));
    m.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "w", "reason": "test"}}));
    // Cancelling an unknown request is ignored.
    m.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 404}}));
    assert_eq!(m.request(3, "ping", json!({}))["result"], json!({}));
    let rest = m.finish();
    assert!(rest.iter().all(|v| v["id"] != "w"), "{rest:?}");
}

#[test]
fn mcp_read_only_server_lists_no_write_tools() {
    let dir = TempDir::new("mcp-ro");
    crate::support::make_pool(dir.path(), "chat", None);
    let mut m = Mcp::start(&dir, &["--access", "read-only"]);
    init(&mut m);
    assert_eq!(
        tool_names(&mut m, 1),
        ["pool_list", "pool_info", "get", "read", "wait"]
    );
    let w = m.tool(2, "append", json!({"pool": "chat", "data": 1}));
    assert_eq!(tool_error_kind(&w), "Permission");
    let d = m.tool(3, "pool_delete", json!({"pool": "chat"}));
    assert_eq!(tool_error_kind(&d), "Permission");
    assert!(dir.join("chat.plasmite").exists());
    ok(&m.tool(4, "read", json!({"pool": "chat"})));
    assert!(m.finish().is_empty());

    let mut wo = Mcp::start(&dir, &["--access", "write-only"]);
    let r = init(&mut wo);
    assert!(r["result"]["capabilities"].get("resources").is_none());
    assert_eq!(
        tool_names(&mut wo, 1),
        ["pool_create", "pool_delete", "append"]
    );
    let g = wo.tool(2, "read", json!({"pool": "chat"}));
    assert_eq!(tool_error_kind(&g), "Permission");
    assert!(wo.finish().is_empty());
}

#[test]
fn mcp_malformed_json_rpc_is_answered_per_spec() {
    let dir = TempDir::new("mcp-bad");
    let mut m = Mcp::start(&dir, &[]);
    let cases: &[(&str, i64)] = &[
        ("{not json", -32700),
        (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, -32600),
        ("[]", -32600),
        ("42", -32600),
        (r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#, -32600),
        (r#"{"id":9,"method":"ping"}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":9,"method":7}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":9}"#, -32600),
        (
            r#"{"jsonrpc":"2.0","id":9,"method":"ping","params":[1]}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/frobnicate"}"#,
            -32601,
        ),
        (
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"nope"}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"get","arguments":[1]}}"#,
            -32602,
        ),
    ];
    for (line, code) in cases {
        m.send_raw(line);
        let v = m.recv();
        assert_eq!(v["error"]["code"], *code, "{line} -> {v}");
        let id_known = line.contains("\"id\":9");
        assert_eq!(
            v["id"],
            if id_known { json!(9) } else { Value::Null },
            "{line}"
        );
    }
    // Notifications (no id), responses and blank lines get no reply, not even for an unknown method.
    m.send_raw(r#"{"jsonrpc":"2.0","method":"ping"}"#);
    m.send_raw(r#"{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}"#);
    m.send_raw(r#"{"jsonrpc":"2.0","id":5,"result":{}}"#);
    m.send_raw("");
    let ping = m.request(10, "ping", json!({}));
    assert_eq!(ping["result"], json!({}));
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_read_and_resources_default_to_the_newest_messages() {
    let dir = TempDir::new("mcp-newest");
    let pool = crate::support::make_pool(dir.path(), "many", None);
    let n = plasmite::limits::MCP_READ_MESSAGES_DEFAULT + 1;
    assert_eq!(n, plasmite::limits::MCP_RESOURCE_MESSAGES + 1);
    for i in 1..=n {
        pool.append(&json!(i), &[] as &[&str], plasmite::Durability::Fast)
            .unwrap();
    }
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    let r = ok(&m.tool(1, "read", json!({"pool": "many"})));
    let msgs = r["messages"].as_array().unwrap();
    assert_eq!(msgs.len() as u64, n - 1);
    assert_eq!(msgs[0]["seq"], 2);
    let res = m.request(2, "resources/read", json!({"uri": "plasmite://pool/many"}));
    let text = res["result"]["contents"][0]["text"].as_str().unwrap();
    let body: Value = serde_json::from_str(text).unwrap();
    assert_eq!(body["messages"].as_array().unwrap().len() as u64, n - 1);
    assert_eq!(body["messages"][0]["seq"], 2);
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_waits_beyond_the_limit_are_busy() {
    let dir = TempDir::new("mcp-waits");
    crate::support::make_pool(dir.path(), "jobs", None);
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    let max = plasmite::limits::MCP_WAITS_MAX as i64;
    let wait = json!({"name": "wait", "arguments": {"pool": "jobs", "timeout_ms": 300000}});
    for id in 1..=max {
        m.send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": wait}));
    }
    let busy = m.request(max + 1, "tools/call", wait.clone());
    assert_eq!(tool_error_kind(&busy["result"]), "Busy");
    // A duplicate id of a call in progress is refused.
    let dup = m.request(1, "tools/call", wait.clone());
    assert_eq!(dup["error"]["code"], -32600);
    for id in 1..=max {
        m.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}}));
    }
    assert!(m.finish().is_empty());
}

#[test]
fn mcp_where_stopped_by_a_limit_is_an_error_not_a_miss() {
    let dir = TempDir::new("mcp-where-limit");
    let pool = crate::support::make_pool(dir.path(), "big", None);
    let past = vec![0; plasmite::limits::FILTER_OUTPUTS_MAX + 1];
    pool.append(&json!(past), &[] as &[&str], plasmite::Durability::Fast)
        .unwrap();
    let mut m = Mcp::start(&dir, &[]);
    init(&mut m);
    let args = json!({"pool": "big", "since_seq": 1, "where": "([.data[]] | length) > 0"});
    let r = m.tool(1, "read", args.clone());
    assert_eq!(tool_error_kind(&r), "Usage");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("could not be decided"), "{text}");
    let w = m.tool(2, "wait", args);
    assert_eq!(tool_error_kind(&w), "Usage");
    assert!(m.finish().is_empty());
}
