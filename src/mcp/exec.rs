//! Tool execution over [`crate::api`]: each tool reads its arguments through [`Args`], calls the
//! library, and returns its structured result (a JSON object matching the tool's output schema) or an
//! [`Error`] with its stable kind.
//!
//! `read` never blocks; `wait` blocks at most `MCP_WAIT_TIMEOUT_MS_MAX` and stops promptly when its
//! [`Cancel`] fires. A `--where` that could not be decided (a limit) is an error, never "no match".

use super::tools::{Args, Tool};
use super::{Cancel, Caps};
use crate::api::{
    Client, Durability, Message, Pool, PoolRef, TailEnd, TailEvent, TailOptions, TailStart,
};
use crate::error::{Error, ErrorKind, Result};
use crate::filter::Filter;
use crate::limits;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// Runs `tool` with `args`.
pub fn run(
    client: &Client,
    caps: Option<&Caps>,
    tool: &'static Tool,
    args: &Map<String, Value>,
    cancel: &Cancel,
) -> Result<Value> {
    let a = Args::new(tool, args)?;
    match tool.name {
        "pool_list" => pool_list(client),
        "pool_info" => {
            let name = a.pool()?;
            Ok(info_json(&name, &open(client, &name)?)?)
        }
        "pool_create" => {
            let name = a.pool()?;
            let size = a
                .u64_in(
                    "size_bytes",
                    limits::POOL_SIZE_BYTES_MIN,
                    limits::POOL_SIZE_BYTES_MAX,
                )?
                .unwrap_or(limits::POOL_SIZE_BYTES_DEFAULT);
            check_caps(client, caps, size)?;
            let pool = client.create_pool(&PoolRef::name(&name), size)?;
            info_json(&name, &pool)
        }
        "pool_delete" => {
            let name = a.pool()?;
            client.delete_pool(&PoolRef::name(&name))?;
            Ok(json!({"name": name, "deleted": true}))
        }
        "append" => append(client, caps, &a),
        "get" => {
            let name = a.pool()?;
            let seq = a.u64_in("seq", 1, u64::MAX)?.unwrap_or(1);
            Ok(open(client, &name)?.get(seq)?.to_json())
        }
        "read" => read(client, &a),
        "wait" => wait(client, &a, cancel),
        other => Err(Error::new(
            ErrorKind::Internal,
            format!("tool {other} has no implementation"),
        )),
    }
}

fn open(client: &Client, name: &str) -> Result<Pool> {
    client.open_pool(&PoolRef::name(name)).map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            e.with_hint("create it with the pool_create tool, or append with create: true")
        } else {
            e
        }
    })
}

fn info_json(name: &str, pool: &Pool) -> Result<Value> {
    let mut v = pool.info()?.to_json();
    if let Value::Object(o) = &mut v {
        o.insert("name".into(), name.into());
    }
    Ok(v)
}

fn pool_list(client: &Client) -> Result<Value> {
    let mut pools = Vec::new();
    for l in client.list_pools()? {
        let mut v = match &l.info {
            Ok(info) => info.to_json(),
            Err(e) => json!({"error": e.to_json()["error"]}),
        };
        if let Value::Object(o) = &mut v {
            o.insert("name".into(), l.name.into());
        }
        pools.push(v);
    }
    Ok(json!({ "pools": pools }))
}

fn append(client: &Client, caps: Option<&Caps>, a: &Args<'_>) -> Result<Value> {
    let name = a.pool()?;
    let data = a.value("data").cloned().unwrap_or(Value::Null);
    let tags = a.tags()?;
    let durability = match a.str("durability")? {
        None => Durability::Fast,
        Some(d) => Durability::parse(d)?,
    };
    let pool = if a.flag("create")? {
        if matches!(open(client, &name), Err(ref e) if e.kind() == ErrorKind::NotFound) {
            check_caps(client, caps, limits::POOL_SIZE_BYTES_DEFAULT)?;
        }
        client.open_or_create_pool(&PoolRef::name(&name), limits::POOL_SIZE_BYTES_DEFAULT)?
    } else {
        open(client, &name)?
    };
    Ok(pool.append(&data, &tags, durability)?.to_json())
}

/// `Permission` when creating a pool of `size` would pass the caps (HTTP's `--max-pool-size`,
/// `--max-pools`).
fn check_caps(client: &Client, caps: Option<&Caps>, size: u64) -> Result<()> {
    let Some(c) = caps else { return Ok(()) };
    if size > c.pool_size_max {
        return Err(Error::new(
            ErrorKind::Permission,
            format!(
                "pools created over HTTP are at most {} bytes (asked for {size})",
                c.pool_size_max
            ),
        )
        .with_hint("ask for less, or start the server with a larger --max-pool-size"));
    }
    let count = client.list_pools()?.len();
    if count >= c.pools_max {
        return Err(Error::new(
            ErrorKind::Permission,
            format!(
                "the pool directory already holds {count} pools (the limit is {})",
                c.pools_max
            ),
        )
        .with_hint("delete pools, or start the server with a larger --max-pools"));
    }
    Ok(())
}

/// Tags and the `--where` expression of `read` and `wait`.
struct Select {
    tags: Vec<String>,
    filter: Option<Filter>,
}

impl Select {
    fn of(a: &Args<'_>) -> Result<Select> {
        let filter = match a.str("where")? {
            None => None,
            Some(src) => Some(Filter::parse(src).map_err(|e| {
                Error::usage(format!("where {src:?}: {e}"))
                    .with_offset(e.pos as u64)
                    .with_hint("the language is plasmite's --where (run 'plasmite help where')")
            })?),
        };
        Ok(Select {
            tags: a.tags()?,
            filter,
        })
    }

    fn matches(&self, m: &Message) -> Result<bool> {
        if !self.tags.iter().all(|t| m.tags.contains(t)) {
            return Ok(false);
        }
        match &self.filter {
            None => Ok(true),
            Some(f) => f.matches(&m.to_json()).map_err(|e| {
                Error::usage(format!(
                    "where could not be decided for message {}: {e}",
                    m.seq
                ))
                .with_seq(m.seq)
                .with_hint("simplify the expression")
            }),
        }
    }
}

fn read(client: &Client, a: &Args<'_>) -> Result<Value> {
    let name = a.pool()?;
    let since = a.u64_in("since_seq", 1, u64::MAX)?;
    let last = a.u64_in("last", 1, u64::MAX)?;
    let max = a
        .u64_in("max", 1, limits::MCP_READ_MESSAGES_MAX)?
        .unwrap_or(limits::MCP_READ_MESSAGES_MAX);
    let start = match (since, last) {
        (Some(_), Some(_)) => return Err(Error::usage("read: give since_seq or last, not both")),
        (Some(s), None) => TailStart::Since(s),
        (None, l) => TailStart::Last(l.unwrap_or(limits::MCP_READ_MESSAGES_DEFAULT)),
    };
    let select = Select::of(a)?;
    let pool = open(client, &name)?;
    let mut tail = pool.tail(TailOptions {
        start,
        ..TailOptions::default()
    })?;
    let (mut out, mut bytes, mut dropped, mut stopped) = (Vec::new(), 0usize, 0u64, false);
    while let Some(ev) = tail.try_next_ref() {
        let m = match ev? {
            crate::api::TailEventRef::Dropped { lost } => {
                dropped += lost;
                continue;
            }
            crate::api::TailEventRef::Message(m) => m.to_message(),
        };
        if !select.matches(&m)? {
            continue;
        }
        bytes += m.data.len();
        out.push(m.to_json());
        if out.len() as u64 >= max || bytes >= limits::MCP_READ_BYTES_MAX {
            stopped = true;
            break;
        }
    }
    let next_seq = tail.next_seq();
    let more = stopped
        && pool
            .info()?
            .bounds
            .is_some_and(|(_, newest)| newest >= next_seq);
    let mut v = json!({"messages": out, "next_seq": next_seq, "more": more});
    if dropped > 0 {
        v["dropped"] = dropped.into();
    }
    Ok(v)
}

fn wait(client: &Client, a: &Args<'_>, cancel: &Cancel) -> Result<Value> {
    let name = a.pool()?;
    let start = match a.u64_in("since_seq", 1, u64::MAX)? {
        Some(s) => TailStart::Since(s),
        None => TailStart::Edge,
    };
    let ms = a
        .u64_in("timeout_ms", 0, limits::MCP_WAIT_TIMEOUT_MS_MAX)?
        .unwrap_or(limits::MCP_WAIT_TIMEOUT_MS_DEFAULT);
    let select = Select::of(a)?;
    let pool = open(client, &name)?;
    let deadline = Instant::now() + Duration::from_millis(ms);
    let mut tail = pool.tail(TailOptions {
        start,
        deadline: Some(deadline),
        ..TailOptions::default()
    })?;
    cancel.watch(tail.canceller());
    let mut found = None;
    for ev in tail.by_ref() {
        match ev? {
            TailEvent::Dropped { .. } => {}
            TailEvent::Message(m) => {
                if select.matches(&m)? {
                    found = Some(m);
                    break;
                }
            }
        }
    }
    let timed_out = found.is_none() && tail.end() == Some(TailEnd::Timeout);
    if found.is_none() && !timed_out {
        return Err(Error::new(ErrorKind::Busy, "wait cancelled"));
    }
    Ok(json!({
        "message": found.as_ref().map_or(Value::Null, Message::to_json),
        "timed_out": timed_out,
        "next_seq": tail.next_seq(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_stops_at_the_byte_budget_and_says_there_is_more() {
        let dir = std::env::temp_dir().join(format!("plasmite-mcp-read-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let client = Client::new(&dir);
        let pool = client
            .create_pool(&PoolRef::name("big"), 64 * 1024 * 1024)
            .unwrap();
        let chunk = limits::MCP_READ_BYTES_MAX / 4;
        let data = Value::String("x".repeat(chunk - 2));
        for _ in 0..6 {
            pool.append(&data, &[] as &[&str], Durability::Fast)
                .unwrap();
        }
        let tool = super::super::tools::find("read").unwrap();
        let args = json!({"pool": "big", "since_seq": 1})
            .as_object()
            .cloned()
            .unwrap();
        let v = run(&client, None, tool, &args, &Cancel::default()).unwrap();
        // Exactly four messages reach the budget; the fifth is not read.
        assert_eq!(v["messages"].as_array().unwrap().len(), 4);
        assert_eq!(v["more"], true);
        assert_eq!(v["next_seq"], 5);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
