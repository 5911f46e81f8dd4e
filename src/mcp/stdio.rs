//! The stdio transport: newline-delimited JSON-RPC on an input and an output stream (no logs on the
//! output: the caller logs to stderr).
//!
//! The reading thread answers every message in order, except blocking calls (`wait`), which run on
//! their own thread (at most `MCP_WAITS_MAX` at once) so that the reader keeps going and a
//! `notifications/cancelled` can reach them. Replies are written whole, one line each, under one
//! lock. At the end of the input, calls still running are let finish (and answered), then it returns.

use super::rpc::{self, Id};
use super::{Call, Cancel, Server, Step};
use crate::error::{Error, ErrorKind};
use crate::limits;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};

type InFlight = Arc<Mutex<HashMap<Id, Arc<Cancel>>>>;

/// Serves `input` until it ends; replies go to `output`.
pub fn serve<R: BufRead, W: Write + Send + 'static>(
    server: &Server,
    mut input: R,
    output: W,
) -> io::Result<()> {
    let out = Arc::new(Mutex::new(output));
    let in_flight: InFlight = Arc::default();
    let mut threads = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = read_line(&mut input, &mut line)?;
        let step = match read {
            Line::End => break,
            Line::TooLong => Step::Reply(rpc::error(
                None,
                rpc::INVALID_REQUEST,
                &format!(
                    "message longer than {} bytes",
                    limits::MCP_MESSAGE_BYTES_MAX
                ),
            )),
            Line::Text if line.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Text => server.handle(&line),
        };
        match step {
            Step::Reply(v) => write(&out, &v)?,
            Step::Nothing => {}
            Step::Cancel(id) => {
                if let Some(c) = lock(&in_flight).get(&id) {
                    c.cancel();
                }
            }
            Step::Call(call) if call.blocks() => {
                threads.retain(|t: &std::thread::JoinHandle<()>| !t.is_finished());
                if let Some(reply) = start(server, call, &in_flight, &out, &mut threads) {
                    write(&out, &reply)?;
                }
            }
            Step::Call(call) => {
                if let Some(reply) = server.run(&call, &Cancel::default()) {
                    write(&out, &reply)?;
                }
            }
        }
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Starts a blocking call on its own thread; returns the reply to send at once when it cannot start.
fn start<W: Write + Send + 'static>(
    server: &Server,
    call: Call,
    in_flight: &InFlight,
    out: &Arc<Mutex<W>>,
    threads: &mut Vec<std::thread::JoinHandle<()>>,
) -> Option<Value> {
    let cancel = Arc::new(Cancel::default());
    {
        let mut map = lock(in_flight);
        if map.contains_key(&call.id) {
            return Some(rpc::error(
                Some(&call.id),
                rpc::INVALID_REQUEST,
                "this id is already in use by a request in progress",
            ));
        }
        if map.len() >= limits::MCP_WAITS_MAX {
            let e = Error::new(
                ErrorKind::Busy,
                format!("{} waits are already in progress", limits::MCP_WAITS_MAX),
            )
            .with_hint("let one finish or cancel it");
            return Some(rpc::result(&call.id, super::tool_result(Err(e))));
        }
        map.insert(call.id.clone(), Arc::clone(&cancel));
    }
    let id = call.id.clone();
    let (server, map, out) = (server.clone(), Arc::clone(in_flight), Arc::clone(out));
    let spawned = std::thread::Builder::new()
        .name("mcp-wait".into())
        .spawn(move || {
            let reply = server.run(&call, &cancel);
            lock(&map).remove(&call.id);
            if let Some(r) = reply {
                let _ = write(&out, &r);
            }
        });
    match spawned {
        Ok(t) => {
            threads.push(t);
            None
        }
        Err(e) => {
            lock(in_flight).remove(&id);
            let e = Error::io("cannot start a thread for the wait", e);
            Some(rpc::result(&id, super::tool_result(Err(e))))
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn write<W: Write>(out: &Mutex<W>, v: &Value) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(v).map_err(io::Error::other)?;
    bytes.push(b'\n');
    let mut w = lock(out);
    w.write_all(&bytes)?;
    w.flush()
}

enum Line {
    Text,
    TooLong,
    End,
}

/// Reads one line (without its `\n` or `\r\n`) of at most `MCP_MESSAGE_BYTES_MAX` bytes; a longer
/// line is skipped whole.
fn read_line<R: BufRead>(input: &mut R, line: &mut Vec<u8>) -> io::Result<Line> {
    let mut too_long = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if line.is_empty() {
                Line::End
            } else {
                Line::Text
            });
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1),
            None => (buf, buf.len()),
        };
        let newline = done > chunk.len();
        if !too_long && line.len() + chunk.len() <= limits::MCP_MESSAGE_BYTES_MAX {
            line.extend_from_slice(chunk);
        } else {
            too_long = true;
            line.clear();
        }
        input.consume(done);
        if newline {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(if too_long { Line::TooLong } else { Line::Text });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_trimmed_and_bounded() {
        let max = limits::MCP_MESSAGE_BYTES_MAX;
        let mut input = Vec::new();
        input.extend_from_slice(b"a\r\n");
        input.extend(std::iter::repeat_n(b'x', max));
        input.push(b'\n');
        input.extend(std::iter::repeat_n(b'y', max + 1));
        input.extend_from_slice(b"\nlast");
        let mut r = io::BufReader::with_capacity(4096, &input[..]);
        let mut line = Vec::new();
        assert!(matches!(read_line(&mut r, &mut line), Ok(Line::Text)));
        assert_eq!(line, b"a");
        line.clear();
        assert!(matches!(read_line(&mut r, &mut line), Ok(Line::Text)));
        assert_eq!(line.len(), max);
        line.clear();
        assert!(matches!(read_line(&mut r, &mut line), Ok(Line::TooLong)));
        line.clear();
        assert!(matches!(read_line(&mut r, &mut line), Ok(Line::Text)));
        assert_eq!(line, b"last");
        line.clear();
        assert!(matches!(read_line(&mut r, &mut line), Ok(Line::End)));
    }
}
