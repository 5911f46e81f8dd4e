//! The Model Context Protocol (MCP 2025-06-18) over pools: tools (pool list/info/create/delete,
//! append, get, read, wait) and pools as resources (`plasmite://pool/NAME`).
//!
//! Pure core, thin transports: [`Server::handle`] turns one JSON-RPC message into a [`Step`] (a reply,
//! nothing, a cancellation, or a tool [`Call`] to run); [`Server::run`] runs a call. The stdio
//! transport ([`stdio`]) runs blocking calls (`wait`) on their own threads so that it keeps reading
//! and can deliver `notifications/cancelled`; the HTTP transport runs calls inline. No state lives
//! between messages besides the in-flight calls a transport tracks, so both transports share it all.
//!
//! Errors: protocol mistakes are JSON-RPC errors (`rpc`); a tool that fails (bad arguments included)
//! answers a result with `isError: true` whose text is the error envelope with the stable kind.

mod exec;
pub mod rpc;
pub mod stdio;
pub mod tools;

use crate::api::{Canceller, Client, PoolRef, TailOptions, TailStart};
use crate::error::{Error, ErrorKind, Result};
use rpc::{Id, Incoming};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tools::{Need, Tool};

/// Protocol revisions we speak, newest first. A client asking for another gets the newest.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];

/// URI prefix of pool resources.
pub const RESOURCE_PREFIX: &str = "plasmite://pool/";

/// Which operations clients may perform (the server's `--access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub reads: bool,
    pub writes: bool,
}

impl Access {
    /// Everything.
    pub const READ_WRITE: Access = Access {
        reads: true,
        writes: true,
    };

    fn allows(self, need: Need) -> bool {
        match need {
            Need::Read => self.reads,
            Need::Write => self.writes,
        }
    }
}

/// Cancels one call from another thread (the transport fires it on `notifications/cancelled`).
#[derive(Debug, Default)]
pub struct Cancel {
    flag: AtomicBool,
    tail: Mutex<Option<Canceller>>,
}

impl Cancel {
    /// Stops the call: a blocked `wait` returns promptly and the call gets no reply.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        if let Ok(t) = self.tail.lock() {
            if let Some(c) = t.as_ref() {
                c.cancel();
            }
        }
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Registers the tail a call blocks on (cancelled at once if the call already was).
    fn watch(&self, c: Canceller) {
        if let Ok(mut t) = self.tail.lock() {
            if self.is_cancelled() {
                c.cancel();
            }
            *t = Some(c);
        }
    }
}

/// Caps on what a network client may create (the HTTP server's `--max-pool-size` and `--max-pools`),
/// applied by `pool_create` and `append` with `create`. The stdio server has none, like the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub pool_size_max: u64,
    pub pools_max: usize,
}

/// Blocking calls in progress by (session, id), so that a `notifications/cancelled` arriving in
/// another HTTP request reaches them. The session is the client's `Mcp-Session-Id` ("" without one).
#[derive(Debug, Default)]
pub struct Waits(Mutex<HashMap<(String, Id), Arc<Cancel>>>);

impl Waits {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Id), Arc<Cancel>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a call; `None` when a call with this key is already in progress.
    pub fn begin(&self, key: &(String, Id)) -> Option<Arc<Cancel>> {
        let mut m = self.map();
        if m.contains_key(key) {
            return None;
        }
        let c = Arc::new(Cancel::default());
        m.insert(key.clone(), Arc::clone(&c));
        Some(c)
    }

    /// Forgets a call that ended.
    pub fn end(&self, key: &(String, Id)) {
        self.map().remove(key);
    }

    /// Cancels the call with this key, if one is in progress.
    pub fn cancel(&self, key: &(String, Id)) {
        if let Some(c) = self.map().get(key) {
            c.cancel();
        }
    }
}

/// A `tools/call` to run.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: Id,
    tool: &'static Tool,
    args: Map<String, Value>,
}

impl Call {
    /// Whether the call may block for long (a transport should run it off its reading thread).
    pub fn blocks(&self) -> bool {
        self.tool.blocks()
    }

    /// The tool's name.
    pub fn tool(&self) -> &'static str {
        self.tool.name
    }

    /// The `pool` argument, when it is a string.
    pub fn pool(&self) -> Option<&str> {
        self.args.get("pool").and_then(Value::as_str)
    }
}

/// What to do with one incoming message.
#[derive(Debug)]
pub enum Step {
    /// Send this reply.
    Reply(Value),
    /// Send nothing (a notification, a response).
    Nothing,
    /// Cancel the in-flight call with this id, if there is one.
    Cancel(Id),
    /// Run this tool call, then send [`Server::run`]'s reply.
    Call(Call),
}

/// Whether the JSON-RPC message `bytes` is a call that may block (a `wait`): the HTTP transport runs
/// those on their own thread, so the connection's thread sees the client leave and cancels them.
pub fn may_block(bytes: &[u8]) -> bool {
    match rpc::decode(bytes) {
        Incoming::Request { method, params, .. } => {
            method == "tools/call"
                && params
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(tools::find)
                    .is_some_and(Tool::blocks)
        }
        _ => false,
    }
}

/// The MCP server over one pool directory.
#[derive(Debug, Clone)]
pub struct Server {
    client: Client,
    access: Access,
    caps: Option<Caps>,
}

impl Server {
    /// A server over `client`'s directory with `access`.
    pub fn new(client: Client, access: Access) -> Server {
        Server {
            client,
            access,
            caps: None,
        }
    }

    /// The same server with caps on what clients may create.
    pub fn with_caps(mut self, caps: Caps) -> Server {
        self.caps = Some(caps);
        self
    }

    /// The reply to a call refused before it ran (e.g. no room for one more wait).
    pub fn refuse(&self, call: &Call, e: Error) -> Value {
        rpc::result(&call.id, tool_result(Err(e)))
    }

    /// Classifies and answers one message (everything but tool calls is answered here).
    pub fn handle(&self, bytes: &[u8]) -> Step {
        match rpc::decode(bytes) {
            Incoming::Invalid(reply) => Step::Reply(reply),
            Incoming::Response => Step::Nothing,
            Incoming::Notification { method, params } => match method.as_str() {
                "notifications/cancelled" => match params.get("requestId").and_then(id_of) {
                    Some(id) => Step::Cancel(id),
                    None => Step::Nothing,
                },
                _ => Step::Nothing,
            },
            Incoming::Request { id, method, params } => self.request(id, &method, params),
        }
    }

    /// Runs a call; `None` when it was cancelled (a cancelled request gets no reply).
    pub fn run(&self, call: &Call, cancel: &Cancel) -> Option<Value> {
        let out = if self.access.allows(call.tool.need) {
            exec::run(
                &self.client,
                self.caps.as_ref(),
                call.tool,
                &call.args,
                cancel,
            )
        } else {
            Err(refused(self.access, call.tool.need))
        };
        if cancel.is_cancelled() {
            return None;
        }
        Some(rpc::result(&call.id, tool_result(out)))
    }

    /// [`Server::handle`], running any call inline: the reply to send, if any.
    pub fn respond(&self, bytes: &[u8]) -> Option<Value> {
        match self.handle(bytes) {
            Step::Reply(v) => Some(v),
            Step::Nothing | Step::Cancel(_) => None,
            Step::Call(c) => self.run(&c, &Cancel::default()),
        }
    }

    /// The tools this server's access mode allows.
    pub fn tools(&self) -> impl Iterator<Item = &'static Tool> + '_ {
        tools::TOOLS.iter().filter(|t| self.access.allows(t.need))
    }

    fn request(&self, id: Id, method: &str, params: Map<String, Value>) -> Step {
        let reply = match method {
            "initialize" => self.initialize(&params),
            "ping" => Ok(json!({})),
            "tools/list" => {
                Ok(json!({"tools": self.tools().map(Tool::to_json).collect::<Vec<_>>()}))
            }
            "tools/call" => {
                let name = params.get("name").and_then(Value::as_str);
                let Some(tool) = name.and_then(tools::find) else {
                    let what = name.map_or("tools/call needs a tool name".to_owned(), |n| {
                        format!("unknown tool {n:?}")
                    });
                    return Step::Reply(rpc::error(Some(&id), rpc::INVALID_PARAMS, &what));
                };
                let args = match params.get("arguments") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(o)) => o.clone(),
                    Some(_) => {
                        let msg = "tools/call arguments must be an object";
                        return Step::Reply(rpc::error(Some(&id), rpc::INVALID_PARAMS, msg));
                    }
                };
                return Step::Call(Call { id, tool, args });
            }
            "resources/list" => self.resources_list(),
            "resources/templates/list" => Ok(json!({"resourceTemplates": self.templates()})),
            "resources/read" => self.resources_read(&params),
            _ => Err((rpc::METHOD_NOT_FOUND, format!("unknown method {method:?}"))),
        };
        Step::Reply(match reply {
            Ok(v) => rpc::result(&id, v),
            Err((code, msg)) => rpc::error(Some(&id), code, &msg),
        })
    }

    fn initialize(&self, params: &Map<String, Value>) -> Result<Value, (i64, String)> {
        let Some(asked) = params.get("protocolVersion").and_then(Value::as_str) else {
            return Err((
                rpc::INVALID_PARAMS,
                "initialize needs a protocolVersion string".into(),
            ));
        };
        let version = negotiate(asked);
        let mut caps = json!({"tools": {"listChanged": false}});
        if self.access.reads {
            caps["resources"] = json!({"subscribe": false, "listChanged": false});
        }
        Ok(json!({
            "protocolVersion": version,
            "capabilities": caps,
            "serverInfo": {"name": "plasmite", "title": "plasmite pools", "version": env!("CARGO_PKG_VERSION")},
            "instructions": "Pools are bounded, persistent logs of JSON messages shared by processes and agents. \
        append writes a message; read returns stored ones; wait blocks until a matching message arrives (pass \
        since_seq = the next_seq you last saw, so nothing is missed between calls).",
        }))
    }

    fn templates(&self) -> Vec<Value> {
        if !self.access.reads {
            return Vec::new();
        }
        vec![
            json!({"uriTemplate": format!("{RESOURCE_PREFIX}{{name}}"), "name": "pool",
            "description": "A pool: its info and newest messages", "mimeType": "application/json"}),
        ]
    }

    fn resources_list(&self) -> Result<Value, (i64, String)> {
        let mut out = Vec::new();
        if self.access.reads {
            let pools = self
                .client
                .list_pools()
                .map_err(|e| (rpc::INTERNAL_ERROR, e.to_string()))?;
            for l in pools {
                out.push(json!({
                    "uri": format!("{RESOURCE_PREFIX}{}", l.name),
                    "name": l.name,
                    "description": "Pool info and its newest messages",
                    "mimeType": "application/json",
                }));
            }
        }
        Ok(json!({ "resources": out }))
    }

    fn resources_read(&self, params: &Map<String, Value>) -> Result<Value, (i64, String)> {
        let Some(uri) = params.get("uri").and_then(Value::as_str) else {
            return Err((
                rpc::INVALID_PARAMS,
                "resources/read needs a uri string".into(),
            ));
        };
        let not_found = || {
            (
                rpc::RESOURCE_NOT_FOUND,
                format!("resource not found: {uri}"),
            )
        };
        let name = uri.strip_prefix(RESOURCE_PREFIX).ok_or_else(not_found)?;
        if !self.access.reads || crate::api::check_name(name).is_err() {
            return Err(not_found());
        }
        let body = match pool_resource(&self.client, name) {
            Ok(v) => v,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_found()),
            Err(e) => return Err((rpc::INTERNAL_ERROR, e.to_string())),
        };
        Ok(
            json!({"contents": [{"uri": uri, "mimeType": "application/json", "text": body.to_string()}]}),
        )
    }
}

/// A pool resource: `{"pool": info, "messages": [newest…]}`.
fn pool_resource(client: &Client, name: &str) -> Result<Value> {
    let pool = client.open_pool(&PoolRef::name(name))?;
    let mut info = pool.info()?.to_json();
    info["name"] = name.into();
    let start = TailStart::Last(crate::limits::MCP_RESOURCE_MESSAGES);
    let mut tail = pool.tail(TailOptions {
        start,
        ..TailOptions::default()
    })?;
    let mut messages = Vec::new();
    while let Some(ev) = tail.try_next_ref() {
        if let crate::api::TailEventRef::Message(m) = ev? {
            messages.push(m.to_message().to_json());
        }
    }
    Ok(json!({"pool": info, "messages": messages}))
}

fn id_of(v: &Value) -> Option<Id> {
    match v {
        Value::String(s) => Some(Id::Str(s.clone())),
        Value::Number(n) => n.as_i64().map(Id::Num),
        _ => None,
    }
}

/// The version to answer for `asked`.
pub fn negotiate(asked: &str) -> &'static str {
    PROTOCOL_VERSIONS
        .iter()
        .copied()
        .find(|v| *v == asked)
        .unwrap_or(PROTOCOL_VERSIONS[0])
}

fn refused(access: Access, need: Need) -> Error {
    let (what, mode) = match need {
        Need::Write => ("this server is read-only", "read-only"),
        Need::Read => ("this server is write-only", "write-only"),
    };
    let _ = access;
    Error::new(ErrorKind::Permission, what)
        .with_hint(format!("the server runs with --access {mode}"))
}

/// A `CallToolResult`: structured content plus its text, or `isError` with the error envelope.
pub(crate) fn tool_result(out: Result<Value>) -> Value {
    match out {
        Ok(v) => {
            json!({"content": [{"type": "text", "text": v.to_string()}], "structuredContent": v, "isError": false})
        }
        Err(e) => {
            json!({"content": [{"type": "text", "text": e.to_json().to_string()}], "isError": true})
        }
    }
}
