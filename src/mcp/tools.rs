//! The tool table: names, descriptions, input and output JSON Schemas, what access each needs, and
//! the argument reader that enforces the input schemas (a wrong argument is a `Usage` error naming it,
//! never a panic).
//!
//! Invariant (unit-tested): every tool's arguments are read only through [`Args`], and every property
//! [`Args`] reads is declared in that tool's input schema; unknown properties are refused.

use crate::error::{Error, Result};
use serde_json::{json, Map, Value};

/// What a tool needs from the access mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

/// One tool.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub need: Need,
    /// Whether the tool changes nothing (MCP `readOnlyHint`).
    pub read_only: bool,
    input: fn() -> Value,
    output: fn() -> Value,
}

impl Tool {
    /// Whether a call may block for long (`wait`, up to `MCP_WAIT_TIMEOUT_MS_MAX`).
    pub fn blocks(&self) -> bool {
        self.name == "wait"
    }

    /// The input schema.
    pub fn input_schema(&self) -> Value {
        (self.input)()
    }
    /// The output schema (what `structuredContent` conforms to).
    pub fn output_schema(&self) -> Value {
        (self.output)()
    }
    /// The `tools/list` entry.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema(),
            "outputSchema": self.output_schema(),
            "annotations": {
                "readOnlyHint": self.read_only,
                "destructiveHint": self.name == "pool_delete",
                "idempotentHint": self.read_only,
                "openWorldHint": false,
            },
        })
    }
}

/// Every tool, in listing order.
pub static TOOLS: &[Tool] = &[
    Tool {
        name: "pool_list",
        title: "List pools",
        description: "Lists the pools of the pool directory with their bounds and usage.",
        need: Need::Read,
        read_only: true,
        input: || object(json!({}), &[]),
        output: || {
            object(
                json!({"pools": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "error": {"type": "object"}
                }, "required": ["name"]}}}),
                &["pools"],
            )
        },
    },
    Tool {
        name: "pool_info",
        title: "Pool info",
        description: "Shows one pool's size, oldest and newest seq, message count and usage.",
        need: Need::Read,
        read_only: true,
        input: || object(json!({"pool": pool_prop()}), &["pool"]),
        output: info_schema,
    },
    Tool {
        name: "pool_create",
        title: "Create a pool",
        description: "Creates a pool (a bounded ring of messages: when full, the oldest are overwritten). Fails if it exists.",
        need: Need::Write,
        read_only: false,
        input: || {
            object(
                json!({
                    "pool": pool_prop(),
                    "size_bytes": {"type": "integer", "minimum": crate::limits::POOL_SIZE_BYTES_MIN,
                        "maximum": crate::limits::POOL_SIZE_BYTES_MAX,
                        "description": "Pool file size in bytes (default 1 MiB)"}
                }),
                &["pool"],
            )
        },
        output: info_schema,
    },
    Tool {
        name: "pool_delete",
        title: "Delete a pool",
        description: "Deletes a pool file and every message in it.",
        need: Need::Write,
        read_only: false,
        input: || object(json!({"pool": pool_prop()}), &["pool"]),
        output: || {
            object(
                json!({"name": {"type": "string"}, "deleted": {"type": "boolean"}}),
                &["name", "deleted"],
            )
        },
    },
    Tool {
        name: "append",
        title: "Append a message",
        description: "Appends one JSON value as a message, with optional tags; returns the message with its seq.",
        need: Need::Write,
        read_only: false,
        input: || {
            object(
                json!({
                    "pool": pool_prop(),
                    "data": {"description": "Any JSON value: the message body"},
                    "tags": tags_prop(),
                    "durability": {"type": "string", "enum": ["fast", "flush"],
                        "description": "fast returns after the write; flush also syncs to disk (default fast)"},
                    "create": {"type": "boolean", "description": "Create the pool (1 MiB) if it does not exist"}
                }),
                &["pool", "data"],
            )
        },
        output: envelope_schema,
    },
    Tool {
        name: "get",
        title: "Get a message",
        description: "Fetches the message with sequence number seq.",
        need: Need::Read,
        read_only: true,
        input: || object(json!({"pool": pool_prop(), "seq": seq_prop("Sequence number")}), &["pool", "seq"]),
        output: envelope_schema,
    },
    Tool {
        name: "read",
        title: "Read messages",
        description: "Returns stored messages in seq order (from since_seq, or the last N, default the last 20), \
filtered by tags and a --where expression. Never waits; continue from next_seq when more is true.",
        need: Need::Read,
        read_only: true,
        input: || {
            object(
                json!({
                    "pool": pool_prop(),
                    "since_seq": seq_prop("Start at this seq (inclusive)"),
                    "last": {"type": "integer", "minimum": 1, "description": "Start with the last N messages (default 20)"},
                    "max": {"type": "integer", "minimum": 1, "maximum": crate::limits::MCP_READ_MESSAGES_MAX,
                        "description": "Most messages returned"},
                    "tags": tags_prop(),
                    "where": where_prop(),
                }),
                &["pool"],
            )
        },
        output: || {
            object(
                json!({
                    "messages": {"type": "array", "items": envelope_schema()},
                    "next_seq": {"type": "integer"},
                    "more": {"type": "boolean", "description": "A limit stopped the read before the newest message"},
                    "dropped": {"type": "integer", "description": "Messages overwritten before they could be read"}
                }),
                &["messages", "next_seq", "more"],
            )
        },
    },
    Tool {
        name: "wait",
        title: "Wait for a message",
        description: "Blocks until a message matching tags and the --where expression arrives (after the call, or from \
since_seq), or until timeout_ms passes. Cancellable.",
        need: Need::Read,
        read_only: true,
        input: || {
            object(
                json!({
                    "pool": pool_prop(),
                    "since_seq": seq_prop("Also consider stored messages from this seq (inclusive)"),
                    "tags": tags_prop(),
                    "where": where_prop(),
                    "timeout_ms": {"type": "integer", "minimum": 0, "maximum": crate::limits::MCP_WAIT_TIMEOUT_MS_MAX,
                        "description": "Give up after this long (default 30000)"}
                }),
                &["pool"],
            )
        },
        output: || {
            object(
                json!({
                    "message": {"anyOf": [envelope_schema(), {"type": "null"}]},
                    "timed_out": {"type": "boolean"},
                    "next_seq": {"type": "integer"}
                }),
                &["message", "timed_out", "next_seq"],
            )
        },
    },
];

/// The tool named `name`.
pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

fn object(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

fn pool_prop() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
        "maxLength": crate::limits::POOL_NAME_BYTES_MAX, "description": "Pool name"})
}

fn tags_prop() -> Value {
    json!({"type": "array", "items": {"type": "string"}, "maxItems": crate::limits::TAGS_PER_MESSAGE_MAX})
}

fn seq_prop(what: &str) -> Value {
    json!({"type": "integer", "minimum": 1, "description": what})
}

fn where_prop() -> Value {
    json!({"type": "string", "maxLength": crate::limits::FILTER_SOURCE_BYTES_MAX,
        "description": "A plasmite --where expression over the envelope {seq,time,meta:{tags},data}, e.g. .data.level == \"error\""})
}

fn envelope_schema() -> Value {
    json!({"type": "object", "properties": {
        "seq": {"type": "integer"},
        "time": {"type": "string"},
        "meta": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
        "data": {}
    }, "required": ["seq", "time", "meta", "data"]})
}

fn info_schema() -> Value {
    json!({"type": "object", "properties": {
        "name": {"type": "string"},
        "file_size": {"type": "integer"},
        "bounds": {"type": "object"},
        "message_count": {"type": "integer"},
        "used_percent": {"type": "number"}
    }, "required": ["name", "file_size", "bounds", "message_count"]})
}

/// Reads one tool's arguments against its schema.
pub struct Args<'a> {
    map: &'a Map<String, Value>,
    tool: &'static Tool,
}

impl<'a> Args<'a> {
    /// Refuses properties the schema does not declare.
    pub fn new(tool: &'static Tool, map: &'a Map<String, Value>) -> Result<Args<'a>> {
        let schema = tool.input_schema();
        for k in map.keys() {
            if schema["properties"].get(k).is_none() {
                return Err(
                    Error::usage(format!("{}: unknown argument {k:?}", tool.name))
                        .with_hint(format!("{} takes: {}", tool.name, names(&schema))),
                );
            }
        }
        for r in schema["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap_or_default();
            if !map.contains_key(r) {
                return Err(Error::usage(format!(
                    "{}: missing argument {r:?}",
                    tool.name
                )));
            }
        }
        Ok(Args { map, tool })
    }

    fn bad(&self, key: &str, want: &str) -> Error {
        Error::usage(format!(
            "{}: argument {key:?} must be {want}",
            self.tool.name
        ))
    }

    /// A present argument (`data` may be any JSON value, `null` included).
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// The pool name (names only: an agent cannot reach paths outside the pool directory).
    pub fn pool(&self) -> Result<String> {
        let name = self
            .map
            .get("pool")
            .and_then(Value::as_str)
            .ok_or_else(|| self.bad("pool", "a pool name"))?;
        crate::api::check_name(name)?;
        Ok(name.to_owned())
    }

    /// An optional integer in `min..=max`.
    pub fn u64_in(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ if max == u64::MAX => {
                    Err(self.bad(key, &format!("an integer of at least {min}")))
                }
                _ => Err(self.bad(key, &format!("an integer from {min} to {max}"))),
            },
        }
    }

    /// An optional string.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad(key, "a string")),
        }
    }

    /// An optional boolean (default false).
    pub fn flag(&self, key: &str) -> Result<bool> {
        match self.map.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.bad(key, "true or false")),
        }
    }

    /// `tags`: an array of strings (default empty).
    pub fn tags(&self) -> Result<Vec<String>> {
        match self.map.get("tags") {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) if a.len() <= crate::limits::TAGS_PER_MESSAGE_MAX => a
                .iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.bad("tags", "an array of strings")),
            Some(_) => Err(self.bad(
                "tags",
                &format!(
                    "an array of at most {} strings",
                    crate::limits::TAGS_PER_MESSAGE_MAX
                ),
            )),
        }
    }
}

fn names(schema: &Value) -> String {
    match schema["properties"].as_object() {
        Some(p) if !p.is_empty() => p.keys().cloned().collect::<Vec<_>>().join(", "),
        _ => "no arguments".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_object_schemas_and_a_unique_name() {
        for (i, t) in TOOLS.iter().enumerate() {
            assert!(TOOLS.iter().skip(i + 1).all(|o| o.name != t.name));
            assert_eq!(t.input_schema()["type"], "object", "{}", t.name);
            assert_eq!(t.output_schema()["type"], "object", "{}", t.name);
            for r in t.input_schema()["required"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap_or_default();
                assert!(
                    t.input_schema()["properties"].get(r).is_some(),
                    "{}",
                    t.name
                );
            }
            assert_eq!(t.read_only, t.need == Need::Read, "{}", t.name);
        }
    }

    #[test]
    fn args_refuse_unknown_missing_and_mistyped_arguments() {
        let get = find("get").unwrap();
        let map = |v: Value| v.as_object().cloned().unwrap_or_default();
        let unknown = map(json!({"pool": "a", "seq": 1, "nope": 1}));
        assert!(Args::new(get, &unknown).is_err());
        let missing = map(json!({"pool": "a"}));
        assert!(Args::new(get, &missing).is_err());
        let m = map(json!({"pool": "../x", "seq": 0}));
        let a = Args::new(get, &m).unwrap();
        assert!(a.pool().is_err());
        assert!(a.u64_in("seq", 1, u64::MAX).is_err());
        let m = map(json!({"pool": "ok", "tags": ["a", 1]}));
        let a = Args::new(find("read").unwrap(), &m).unwrap();
        assert_eq!(a.pool().unwrap(), "ok");
        assert!(a.tags().is_err());
        let too_many: Vec<String> = (0..=crate::limits::TAGS_PER_MESSAGE_MAX)
            .map(|i| i.to_string())
            .collect();
        let m = map(json!({"pool": "ok", "tags": too_many}));
        assert!(Args::new(find("read").unwrap(), &m)
            .unwrap()
            .tags()
            .is_err());
    }
}
