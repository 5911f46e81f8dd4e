//! One HTTP/1.1 connection, on its own thread: read each request head with deadlines, parse it
//! strictly (`head.rs`), refuse what breaks a limit with an error answer, read the body, run the
//! handlers and write the answer. One parse per head, no other thread involved.
//!
//! A long answer is the one exception — a tail, or an MCP `wait` (which may block for minutes): it runs
//! on a second thread started for it, while this thread keeps reading the client, so a client that
//! closes its connection is noticed at once and the answer stopped (a pipelined request is buffered
//! meanwhile and handled after the answer ended, so answers keep the order of requests).
//!
//! Memory per connection is bounded: one request head plus one read, and one body up to `--max-body`.

use super::conn::Conn;
use super::handlers::{self, Request};
use super::head::{self, Head};
use super::respond::{self, raw_error};
use super::routes::{self, Route};
use super::stream::{timed_out, ClientStream};
use super::Shared;
use crate::error::{Error, ErrorKind};
use std::net::{IpAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Smallest and largest read buffers (they grow only while a head or body needs it).
const BUF_MIN: usize = 2 * 1024;
const BUF_BODY: usize = 16 * 1024;
/// How often a reader with a request in flight re-checks whether the answer ended (idle clock).
const IN_FLIGHT_SLICE: Duration = Duration::from_secs(1);

/// Gives the connection's slot back when its threads are done.
struct Slot {
    shared: Arc<Shared>,
    id: u64,
    peer: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.conns.remove(self.id);
        self.shared.conns.release(self.peer);
    }
}

/// Runs a freshly accepted connection (its slot is already reserved) on the calling thread.
pub(crate) fn run(shared: Arc<Shared>, sock: TcpStream, peer: IpAddr, accepted: Instant) {
    let lim = &shared.limits;
    let _ = sock.set_nodelay(true);
    let _ = sock.set_write_timeout(Some(lim.write_timeout));
    let id = shared.conns.next_id();
    let slot = Arc::new(Slot {
        shared: Arc::clone(&shared),
        id,
        peer,
    });
    let client = match &shared.tls {
        #[cfg(feature = "tls")]
        Some(tls) => match super::tls::TlsConn::new(sock, tls) {
            Ok(t) => ClientStream::Tls(Box::new(t)),
            Err(_) => return,
        },
        _ => ClientStream::Plain(sock),
    };
    let conn = Arc::new(Conn::new(id, client, lim.write_timeout));
    shared.conns.insert(Arc::clone(&conn));
    if shared.stopping() {
        conn.kill();
    }
    read_loop(&shared, &conn, &slot, accepted);
}

/// How the reader stops.
enum Stop {
    /// Close after in-flight output (client gone, idle, or asked to close).
    Quiet,
    /// Answer with this error, then close.
    Reject { status: u16, error: Error },
}

fn reject(status: u16, error: Error) -> Stop {
    Stop::Reject { status, error }
}

/// Bytes read from the client and not yet used: `buf[start..end]`.
struct Inbox {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    scratch: Vec<u8>,
    /// The read timeout set on the socket now.
    wait: Duration,
}

impl Inbox {
    /// Makes reads wait at most `wait`. The socket option is only changed when it must be shorter,
    /// or is much shorter than needed: a read that times out early just re-checks its deadline.
    fn set_wait(&mut self, client: &ClientStream, wait: Duration) -> std::io::Result<()> {
        if wait < self.wait || wait > self.wait.saturating_mul(2) {
            client.set_read_timeout(wait)?;
            self.wait = wait;
        }
        Ok(())
    }

    fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once into free space, growing the buffer up to `cap` bytes. `Some(0)` is the end of the
    /// stream; `None` means TLS records arrived without application data (the caller re-checks its
    /// deadlines, so such records cannot keep a connection alive).
    fn fill(&mut self, client: &ClientStream, cap: usize) -> std::io::Result<Option<usize>> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                let grown = (self.buf.len() * 2).clamp(BUF_MIN, cap.max(BUF_MIN));
                if grown <= self.buf.len() {
                    return Err(std::io::Error::other("read buffer full"));
                }
                self.buf.resize(grown, 0);
            }
        }
        if self.scratch.is_empty() && !matches!(client, ClientStream::Plain(_)) {
            self.scratch = vec![0; 8 * 1024];
        }
        let free = self.buf.get_mut(self.end..).unwrap_or_default();
        loop {
            match client.read(&mut self.scratch, free) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(n) => {
                    self.end += n.unwrap_or(0);
                    return Ok(n);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops blank lines some clients send between requests.
    fn skip_blank_lines(&mut self) {
        let n = self
            .data()
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.consume(n);
    }
}

fn read_loop(shared: &Arc<Shared>, conn: &Arc<Conn>, slot: &Arc<Slot>, accepted: Instant) {
    let mut inbox = Inbox {
        buf: Vec::new(),
        start: 0,
        end: 0,
        scratch: Vec::new(),
        wait: Duration::MAX,
    };
    // The first head's deadline counts from the accept: a silent connection holds its slot no longer.
    let mut started = Some(accepted);
    let stop = loop {
        let head = match read_head(shared, conn, &mut inbox, started.take()) {
            Ok(h) => h,
            Err(stop) => break stop,
        };
        if head.content_length > shared.limits.body_bytes_max {
            break reject(
                413,
                Error::usage(format!(
                    "request body too large: {} bytes (the limit is {})",
                    head.content_length, shared.limits.body_bytes_max
                ))
                .with_hint("send a smaller body, or start the server with a larger --max-body"),
            );
        }
        if !conn.begin_request() {
            break Stop::Quiet;
        }
        let head_bytes = inbox.data().get(..head.len).unwrap_or_default().to_vec();
        inbox.consume(head.len);
        let mut body = Vec::with_capacity(head.content_length.min(BUF_BODY as u64) as usize);
        let got = receive_body(shared, conn, &mut inbox, &head, &mut |b| {
            body.extend_from_slice(b);
            true
        });
        if let Err(stop) = got {
            conn.response_done();
            break stop;
        }
        let parts = head::parts(&head_bytes);
        let long = parts.as_ref().is_some_and(|p| is_long(p, &body));
        let done = if long {
            drop(parts);
            start_long(shared, conn, slot, head_bytes, body, &head)
        } else {
            answer_here(shared, conn, parts, body, &head)
        };
        if let Err(stop) = done {
            break stop;
        }
        if head.close {
            // An answer given here is complete: close. A long answer may still be running.
            break match long {
                true => watch_until_closed(conn, &mut inbox),
                false => Stop::Quiet,
            };
        }
    };
    match stop {
        Stop::Quiet => {
            // The client is gone (or idle): no tail may start on this connection any more.
            conn.close();
            conn.wait_idle();
            conn.client.finish();
            conn.client.shutdown();
        }
        Stop::Reject { status, error } => {
            // Answers keep their order: a streaming tail ends (early) before this one is sent.
            conn.cancel_long();
            conn.wait_idle();
            let _ = conn.send(&raw_error(status, &error));
            conn.client.finish();
            linger(conn, &mut inbox);
        }
    }
}

/// Whether the request is a long answer (a tail, an MCP `wait`), run on its own thread; every other
/// request is answered on the connection's thread.
fn is_long(p: &head::Parts<'_>, body: &[u8]) -> bool {
    let path = p.target.split_once('?').map_or(p.target, |(path, _)| path);
    match routes::route(p.method, path) {
        Ok(Route::Tail(_)) => true,
        Ok(Route::Mcp) => crate::mcp::may_block(body),
        _ => false,
    }
}

/// Runs the handlers on this thread (on the fields split once from the head) and writes the answer.
fn answer_here(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    parts: Option<head::Parts<'_>>,
    body: Vec<u8>,
    head: &Head,
) -> Result<(), Stop> {
    let Some(parts) = parts else {
        conn.response_done();
        return Err(reject(400, Error::usage("malformed request head")));
    };
    let mut req = Request {
        parts,
        minor: head.minor,
        body,
    };
    let reply = handlers::reply_safely(shared, conn, &mut req);
    let sent = handlers::answer(shared, conn, reply, &req);
    conn.response_done();
    match sent {
        true => Ok(()),
        // The client stopped reading or went away.
        false => Err(Stop::Quiet),
    }
}

/// Starts the thread that answers a long request (a tail, an MCP `wait`); this thread goes back to reading the client. If no
/// thread can be started, the request is answered 503 `Busy` here.
fn start_long(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    slot: &Arc<Slot>,
    head_bytes: Vec<u8>,
    body: Vec<u8>,
    head: &Head,
) -> Result<(), Stop> {
    let (sh, c, sl) = (Arc::clone(shared), Arc::clone(conn), Arc::clone(slot));
    let (minor, close) = (head.minor, head.close);
    let started = std::thread::Builder::new()
        .name("plasmite-tail".into())
        .stack_size(crate::limits::HTTP_THREAD_STACK_BYTES)
        .spawn(move || {
            if let Some(parts) = head::parts(&head_bytes) {
                let mut req = Request { parts, minor, body };
                let reply = handlers::reply_safely(&sh, &c, &mut req);
                if !handlers::answer(&sh, &c, reply, &req) {
                    // The client stopped reading or went away.
                    c.kill();
                } else if close {
                    c.client.finish();
                }
            }
            c.response_done();
            drop(sl);
        });
    if started.is_ok() {
        return Ok(());
    }
    let e = Error::new(
        ErrorKind::Busy,
        "the server cannot start a thread for this request now",
    )
    .with_hint("retry later; the server is out of threads or memory");
    let answer = respond::raw(503, &[("Retry-After", "1")], &respond::envelope(&e), false);
    let sent = conn.send(&answer);
    conn.response_done();
    sent.map_err(|_| Stop::Quiet)
}

/// After a `Connection: close` long answer: read (and drop) until the client goes or it ends, so a
/// closed connection still stops it.
fn watch_until_closed(conn: &Conn, inbox: &mut Inbox) -> Stop {
    while conn.activity().0 {
        if inbox.set_wait(&conn.client, IN_FLIGHT_SLICE).is_err() {
            break;
        }
        inbox.start = 0;
        inbox.end = 0;
        match inbox.fill(&conn.client, BUF_MIN) {
            Ok(Some(0)) => break,
            Ok(_) => {}
            Err(e) if timed_out(&e) => {}
            Err(_) => break,
        }
    }
    Stop::Quiet
}

/// Reads until a whole request head is buffered; enforces the idle, head-time and head-size limits.
/// `started`: the head's deadline runs from then (else from its first byte).
fn read_head(
    shared: &Shared,
    conn: &Conn,
    inbox: &mut Inbox,
    started: Option<Instant>,
) -> Result<Head, Stop> {
    let lim = &shared.limits;
    let mut searched = 0;
    // When the head's clock started: the accept for a connection's first head, else its first byte.
    let mut first_byte = started;
    loop {
        if searched == 0 {
            inbox.skip_blank_lines();
        }
        let data = inbox.data();
        if started.is_some() && data.first() == Some(&0x16) {
            // A TLS handshake record sent to plain HTTP: close at once, so the client fails fast
            // (its hint says to use http://) instead of waiting for a server hello.
            return Err(Stop::Quiet);
        }
        if !data.is_empty() {
            first_byte.get_or_insert_with(Instant::now);
            if let Some(end) = head::find_end(data, searched) {
                let bytes = data.get(..end).unwrap_or_default();
                if end > lim.head_bytes_max {
                    return Err(too_large_head(lim.head_bytes_max));
                }
                return head::parse(bytes, crate::limits::HTTP_HEADERS_COUNT_MAX).map_err(|e| {
                    if e == head::HeadError::TooLarge {
                        too_large_head(lim.head_bytes_max)
                    } else {
                        reject(e.status(), Error::usage(e.message()))
                    }
                });
            }
            searched = data.len();
            if searched >= lim.head_bytes_max {
                return Err(too_large_head(lim.head_bytes_max));
            }
        }
        let now = Instant::now();
        let wait = match first_byte {
            Some(t) => match (t + lim.head_timeout).checked_duration_since(now) {
                Some(left) if !left.is_zero() => left,
                _ => {
                    return Err(reject(
                        408,
                        Error::usage("request head not received in time").with_hint(format!(
                            "send the whole request head within {} ms",
                            lim.head_timeout.as_millis()
                        )),
                    ))
                }
            },
            None => match conn.activity() {
                (true, _) => IN_FLIGHT_SLICE,
                (false, since) => match (since + lim.idle_timeout).checked_duration_since(now) {
                    Some(left) if !left.is_zero() => left,
                    _ => return Err(Stop::Quiet),
                },
            },
        };
        if inbox.set_wait(&conn.client, wait).is_err() {
            return Err(Stop::Quiet);
        }
        match inbox.fill(&conn.client, lim.head_bytes_max + BUF_MIN) {
            Ok(Some(0)) => return Err(Stop::Quiet),
            Ok(Some(_)) => {}
            // A TLS handshake in progress counts as the start of the request head.
            Ok(None) => {
                if conn.client.handshaking() {
                    first_byte.get_or_insert_with(Instant::now);
                }
            }
            Err(e) if timed_out(&e) => {}
            Err(_) => return Err(Stop::Quiet),
        }
    }
}

fn too_large_head(max: usize) -> Stop {
    reject(
        431,
        Error::usage(format!(
            "request head too large (the limit is {max} bytes and {} header lines)",
            crate::limits::HTTP_HEADERS_COUNT_MAX
        )),
    )
}

/// Passes the body of the request whose head was just consumed to `sink` as it arrives: once with
/// what is already buffered (maybe nothing), then each further read, within the body deadline.
/// Answers `Expect: 100-continue` when the body is not all there yet.
fn receive_body(
    shared: &Shared,
    conn: &Conn,
    inbox: &mut Inbox,
    head: &Head,
    sink: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), Stop> {
    let mut left = head.content_length;
    let now = (left as usize).min(inbox.data().len());
    if head.expect_continue
        && (now as u64) < left
        && conn.send(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
    {
        return Err(Stop::Quiet);
    }
    if !sink(inbox.data().get(..now).unwrap_or_default()) {
        return Err(Stop::Quiet);
    }
    inbox.consume(now);
    left -= now as u64;
    let deadline = Instant::now() + shared.limits.body_timeout;
    while left > 0 {
        let Some(wait) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            return Err(reject(
                408,
                Error::usage("request body not received in time").with_hint(format!(
                    "send the whole body within {} ms of the head",
                    shared.limits.body_timeout.as_millis()
                )),
            ));
        };
        if inbox.set_wait(&conn.client, wait).is_err() {
            return Err(Stop::Quiet);
        }
        match inbox.fill(&conn.client, BUF_BODY) {
            Ok(Some(0)) => return Err(Stop::Quiet),
            Ok(_) => {}
            Err(e) if timed_out(&e) => continue,
            Err(_) => return Err(Stop::Quiet),
        }
        let n = (left as usize).min(inbox.data().len());
        if !sink(inbox.data().get(..n).unwrap_or_default()) {
            return Err(Stop::Quiet);
        }
        inbox.consume(n);
        left -= n as u64;
    }
    Ok(())
}

/// After a rejection: keep reading (and dropping) what the client still sends for a short while, so
/// our answer is read instead of lost to a connection reset.
fn linger(conn: &Conn, inbox: &mut Inbox) {
    let until = Instant::now() + crate::limits::HTTP_LINGER;
    let mut drained = 0usize;
    while drained < crate::limits::HTTP_LINGER_BYTES_MAX {
        let Some(wait) = until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            break;
        };
        if inbox.set_wait(&conn.client, wait).is_err() {
            break;
        }
        inbox.start = 0;
        inbox.end = 0;
        match inbox.fill(&conn.client, BUF_BODY) {
            Ok(Some(0)) | Err(_) => break,
            Ok(n) => drained += n.unwrap_or(0),
        }
    }
    conn.close();
}
