//! `GET /v0/pools/{pool}/tail`: a JSON Lines stream written to the connection with chunked framing,
//! on the tail's own thread (the connection's thread keeps reading the client meanwhile).
//!
//! One chunk carries every line available without waiting, up to `HTTP_TAIL_CHUNK_BYTES`; it is written
//! and flushed as soon as the tail catches up, so a live message leaves within one wake-up. The
//! stream ends at `max` messages, at its deadline (`timeout_ms`, capped by the server), when the client
//! goes away (the connection thread cancels the tail), when one chunk is not accepted by the client
//! within the write timeout, or after an error that is not `Corrupt` (with `gap_policy=error`, a
//! `RetentionGap` error line in place of the drop line, the headers being sent already). The socket's send buffer is
//! bounded (`HTTP_TAIL_SEND_BUFFER_BYTES`), so a reader that stops pins little kernel memory.

use super::conn::{Conn, Stopper};
use super::handlers::Reply;
use super::respond::{envelope, HttpError, VERSION_HEADER};
use super::routes::{number, query};
use super::wire::write_drop;
use super::Shared;
use crate::api::{GapPolicy, Tail, TailEventRef, TailOptions, TailStart};
use crate::error::{Error, ErrorKind};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::proto::NEXT_SEQ_HEADER;

/// A counted place among the server's concurrent tails.
pub(crate) struct TailSlot(Arc<Shared>);

impl TailSlot {
    pub(crate) fn acquire(shared: &Arc<Shared>) -> Result<TailSlot, HttpError> {
        let max = shared.limits.tails_max;
        shared
            .tails
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .map(|_| TailSlot(Arc::clone(shared)))
            .map_err(|_| {
                HttpError::new(
                    423,
                    Error::new(
                        ErrorKind::Busy,
                        format!("too many tails (the limit is {max})"),
                    )
                    .with_hint("retry later, or start the server with a larger --max-tails"),
                )
                .with_header("Retry-After", "1")
            })
    }
}

impl Drop for TailSlot {
    fn drop(&mut self) {
        self.0.tails.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A tail ready to stream.
pub(crate) struct TailPlan {
    tail: Tail,
    _slot: TailSlot,
}

/// Checks the request and opens the tail (errors are answered normally, before any streaming).
pub(crate) fn plan(
    shared: &Arc<Shared>,
    _conn: &Arc<Conn>,
    minor: u8,
    name: &str,
    q: &str,
) -> Result<Reply, HttpError> {
    let mut since = None;
    let mut max = None;
    let mut timeout_ms = None;
    let mut gap_policy = GapPolicy::Continue;
    for (k, v) in query(q, &["since_seq", "max", "timeout_ms", "gap_policy"])? {
        match k {
            "since_seq" => since = Some(number("since_seq", v)?),
            "max" => max = Some(number("max", v)?),
            "gap_policy" => {
                gap_policy = GapPolicy::from_name(v).ok_or_else(|| {
                    Error::usage(format!("gap_policy {v:?}: expected continue or error"))
                })?
            }
            _ => timeout_ms = Some(number("timeout_ms", v)?),
        }
    }
    if since == Some(0) {
        return Err(Error::usage("since_seq starts at 1").into());
    }
    if minor == 0 {
        return Err(HttpError::new(
            505,
            Error::usage("tails are streamed with chunked encoding and need HTTP/1.1"),
        ));
    }
    let pool = shared.pools.open_for_tail(name)?;
    let slot = TailSlot::acquire(shared)?;
    let cap = shared.limits.tail_timeout_max;
    let timeout = timeout_ms.map_or(cap, |ms| Duration::from_millis(ms).min(cap));
    let tail = pool.tail(TailOptions {
        start: since.map_or(TailStart::Edge, TailStart::Since),
        max,
        deadline: Some(Instant::now() + timeout),
        gap_policy,
        ..Default::default()
    })?;
    if let (GapPolicy::Error, Some((first, lost))) = (gap_policy, tail.start_gap()) {
        // Known before streaming: answered with the kind's status (410) instead of a 200 stream.
        return Err(Error::retention_gap(first, lost).into());
    }
    Ok(Reply::Tail(Box::new(TailPlan { tail, _slot: slot })))
}

/// Room left before each chunk for its size line (up to 8 hex digits and CRLF).
const PAD: usize = 10;

enum Step {
    Line,
    Nothing,
    Fatal,
}

/// Streams the tail to the client, from the status line (with `extra` headers) to the last chunk.
/// False when the client could not be written to.
pub(crate) fn stream(mut plan: Box<TailPlan>, conn: &Conn, extra: &[(&str, &str)]) -> bool {
    if !conn.set_long(Stopper::Tail(plan.tail.canceller())) {
        return true;
    }
    let _ = conn
        .client
        .set_send_buffer(crate::limits::HTTP_TAIL_SEND_BUFFER_BYTES);
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/jsonl\r\nTransfer-Encoding: chunked\r\n\
         {}: {}\r\n{NEXT_SEQ_HEADER}: {}\r\nCache-Control: no-store\r\n",
        VERSION_HEADER.0,
        VERSION_HEADER.1,
        plan.tail.next_seq()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let ok = conn.send(head.as_bytes()).is_ok() && pump(&mut plan.tail, conn);
    conn.clear_long();
    ok
}

fn pump(tail: &mut Tail, w: &Conn) -> bool {
    let chunk_max = crate::limits::HTTP_TAIL_CHUNK_BYTES;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut done = false;
    while !done {
        buf.clear();
        buf.resize(PAD, b' ');
        match next_line(tail, true, &mut buf) {
            Step::Line => {}
            Step::Nothing => done = true,
            Step::Fatal => done = true,
        }
        while !done && buf.len() - PAD < chunk_max {
            match next_line(tail, false, &mut buf) {
                Step::Line => {}
                Step::Nothing => break,
                Step::Fatal => done = true,
            }
        }
        if buf.len() > PAD && write_chunk(w, &mut buf).is_err() {
            tail.canceller().cancel();
            return false;
        }
    }
    w.send(b"0\r\n\r\n").is_ok()
}

/// Frames `buf[PAD..]` as one chunk (the size line goes right before the data) and sends it.
fn write_chunk(w: &Conn, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let size = format!("{:x}\r\n", buf.len() - PAD);
    let start = PAD - size.len();
    if let Some(dst) = buf.get_mut(start..PAD) {
        dst.copy_from_slice(size.as_bytes());
    }
    buf.extend_from_slice(b"\r\n");
    w.send(buf.get(start..).unwrap_or_default())
}

/// Appends the next event as one line.
fn next_line(tail: &mut Tail, block: bool, out: &mut Vec<u8>) -> Step {
    let ev = if block {
        tail.next_ref()
    } else {
        tail.try_next_ref()
    };
    let lost = match ev {
        None => return Step::Nothing,
        Some(Ok(TailEventRef::Message(m))) => {
            m.write_json(out);
            out.push(b'\n');
            return Step::Line;
        }
        Some(Ok(TailEventRef::Dropped { lost })) => lost,
        Some(Err(e)) => {
            out.extend_from_slice(&envelope(&e));
            out.push(b'\n');
            return if e.kind() == ErrorKind::Corrupt {
                Step::Line
            } else {
                Step::Fatal
            };
        }
    };
    write_drop(lost, tail.next_seq(), out);
    out.push(b'\n');
    Step::Line
}
