//! The front of every connection: two threads between the client socket and tiny_http's private socket.
//!
//! The reader thread reads the client with deadlines (idle, head, body) and parses each request head
//! strictly (`head.rs`). It refuses what breaks a limit with our own error answer, answers every
//! request but tails itself, and forwards tails one at a time, stamped with the connection id. While a
//! tail is in flight it keeps reading, so a client that closes its connection is noticed at once and
//! its tail cancelled. Tails are written to the client by the request threads themselves; the writer
//! thread copies whatever tiny_http writes (normally nothing), and when tiny_http closes its side it
//! sends the reader's pending error answer, if any, and closes the client connection.
//!
//! Memory per connection is bounded: the reader holds at most one request head plus one read, the
//! writer one copy buffer; bodies stream through.

use super::conn::Conn;
use super::handlers::Incoming;
use super::head::{self, Head, CONN_HEADER};
use super::respond::raw_error;
use super::routes::{self, Route};
use super::stream::{timed_out, ClientStream};
use super::worker;
use super::Shared;
use crate::error::Error;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Smallest and largest read buffers (they grow only while a head or body needs it).
const BUF_MIN: usize = 2 * 1024;
const BUF_BODY: usize = 16 * 1024;
const COPY_MAX: usize = 64 * 1024;
/// How often a reader with a request in flight re-checks whether the response ended (idle clock).
const IN_FLIGHT_SLICE: Duration = Duration::from_secs(1);

/// Removes the connection from the registry when both of its threads are done.
struct Slot {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.conns.remove(self.id);
    }
}

/// Runs a freshly accepted connection (its slot is already reserved) on the calling thread.
pub(crate) fn run(shared: Arc<Shared>, sock: TcpStream) {
    let lim = &shared.limits;
    let _ = sock.set_nodelay(true);
    let _ = sock.set_write_timeout(Some(lim.write_timeout));
    let setup = (|| -> std::io::Result<(ClientStream, UnixStream)> {
        let client = match &shared.tls {
            #[cfg(feature = "tls")]
            Some(id) => ClientStream::Tls(Box::new(super::tls::TlsConn::new(sock, id)?)),
            _ => ClientStream::Plain(sock),
        };
        let backend = connect_backend(&shared)?;
        Ok((client, backend))
    })();
    let Ok((client, backend)) = setup else {
        shared.conns.release();
        return;
    };
    let id = shared.conns.next_id();
    let conn = Arc::new(Conn::new(id, client, backend));
    shared.conns.insert(Arc::clone(&conn));
    let slot = Arc::new(Slot {
        shared: Arc::clone(&shared),
        id,
    });
    let (wc, ws) = (Arc::clone(&conn), Arc::clone(&slot));
    let spawned = std::thread::Builder::new()
        .name("plasmite-out".into())
        .stack_size(crate::limits::HTTP_THREAD_STACK_BYTES)
        .spawn(move || {
            write_loop(&wc);
            drop(ws);
        });
    if spawned.is_err() {
        conn.kill();
        return;
    }
    read_loop(&shared, &conn);
    drop(slot);
}

/// Opens a private connection to tiny_http and waits until tiny_http serves it.
///
/// tiny_http hands each new connection to a thread pool that can leave a task queued behind busy
/// threads when several connections arrive at once (its idle count is read before woken threads
/// decrement it). Connections are therefore opened one at a time, each proven live by a `/healthz`
/// round trip before the next: with at most one task in flight the pool always sees its true idle
/// count and starts a thread when none is free.
fn connect_backend(shared: &Shared) -> std::io::Result<UnixStream> {
    let _one_at_a_time = shared
        .backend_gate
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let s = UnixStream::connect(&shared.backend_path)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    (&s).write_all(b"GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n")?;
    let mut got = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    loop {
        let n = (&s).read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other("the HTTP parser closed the probe"));
        }
        got.extend_from_slice(buf.get(..n).unwrap_or_default());
        if let Some(end) = head::find_end(&got, 0) {
            let head = String::from_utf8_lossy(got.get(..end).unwrap_or_default()).to_lowercase();
            let len: usize = head
                .split("content-length:")
                .nth(1)
                .and_then(|r| r.split("\r\n").next())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + len {
                break;
            }
        }
        if got.len() > 64 * 1024 {
            return Err(std::io::Error::other("unexpected probe answer"));
        }
    }
    s.set_read_timeout(None)?;
    Ok(s)
}

/// How the reader stops.
enum Stop {
    /// Close after in-flight output (client gone, idle, or asked to close).
    Quiet,
    /// Answer with this error, then close. `cut_short`: a request was partly forwarded.
    Reject {
        status: u16,
        error: Error,
        cut_short: bool,
    },
}

fn reject(status: u16, error: Error) -> Stop {
    Stop::Reject {
        status,
        error,
        cut_short: false,
    }
}

/// Bytes read from the client and not yet forwarded: `buf[start..end]`.
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

fn read_loop(shared: &Arc<Shared>, conn: &Arc<Conn>) {
    let mut inbox = Inbox {
        buf: Vec::new(),
        start: 0,
        end: 0,
        scratch: Vec::new(),
        wait: Duration::MAX,
    };
    let stop = loop {
        let head = match read_head(shared, conn, &mut inbox) {
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
        let parts = head::parts(&head_bytes).filter(answered_here);
        let here = parts.is_some();
        let done = match parts {
            Some(parts) => answer_here(shared, conn, &mut inbox, &head, parts),
            None => forward(shared, conn, &mut inbox, &head),
        };
        if let Err(stop) = done {
            break stop;
        }
        if head.close {
            // An answer given here is complete: close. A forwarded one may still be streaming.
            break match here {
                true => Stop::Quiet,
                false => watch_until_closed(shared, conn, &mut inbox),
            };
        }
    };
    match stop {
        Stop::Quiet => {
            // The client is gone (or idle): no tail may start on this connection any more.
            conn.close();
            let _ = conn.backend.shutdown(Shutdown::Write);
        }
        Stop::Reject {
            status,
            error,
            cut_short,
        } => {
            conn.reject(raw_error(status, &error), cut_short);
            let _ = conn.backend.shutdown(Shutdown::Write);
            linger(conn, &mut inbox);
        }
    }
}

/// Reads until a whole request head is buffered; enforces the idle, head-time and head-size limits.
fn read_head(shared: &Shared, conn: &Conn, inbox: &mut Inbox) -> Result<Head, Stop> {
    let lim = &shared.limits;
    let mut searched = 0;
    let mut first_byte: Option<Instant> = None;
    loop {
        if searched == 0 {
            inbox.skip_blank_lines();
        }
        let data = inbox.data();
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

/// Whether this thread answers the request itself: every request but tails. A tail streams for as
/// long as the client wants, and this thread must keep reading the client meanwhile (to see it go and
/// cancel the tail), so tails go to tiny_http's request threads. Answering here saves two thread
/// hand-offs per request (see spec/http.md, "Threading").
fn answered_here(p: &head::Parts<'_>) -> bool {
    let path = p.target.split_once('?').map_or(p.target, |(path, _)| path);
    !matches!(routes::route(p.method, path), Ok(Route::Tail(_)))
}

/// A request read whole by the proxy: the handlers' view of it.
struct Direct<'a> {
    parts: head::Parts<'a>,
    minor: u8,
    body: Vec<u8>,
}

impl Incoming for Direct<'_> {
    fn method(&self) -> &str {
        self.parts.method
    }
    fn url(&self) -> &str {
        self.parts.target
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.parts.header(name)
    }
    fn minor(&self) -> u8 {
        self.minor
    }
    fn body(&mut self, max: u64) -> std::io::Result<Vec<u8>> {
        let mut b = std::mem::take(&mut self.body);
        b.truncate(usize::try_from(max).unwrap_or(usize::MAX));
        Ok(b)
    }
}

/// Reads the request's body, runs the handlers on this thread and writes the answer.
fn answer_here(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    inbox: &mut Inbox,
    head: &Head,
    parts: head::Parts<'_>,
) -> Result<(), Stop> {
    inbox.consume(head.len);
    let mut body = Vec::with_capacity(head.content_length.min(BUF_BODY as u64) as usize);
    let got = receive_body(shared, conn, inbox, head, false, &mut |b| {
        body.extend_from_slice(b);
        true
    });
    if let Err(stop) = got {
        conn.response_done();
        return Err(stop);
    }
    let mut req = Direct {
        parts,
        minor: head.minor,
        body,
    };
    let reply = worker::reply_safely(shared, Some(conn), &mut req);
    let head_only = req.parts.method == "HEAD";
    let sent = worker::answer(conn, reply, head_only, worker::connection_header(&req));
    conn.response_done();
    match sent {
        true => Ok(()),
        // The client stopped reading or went away.
        false => Err(Stop::Quiet),
    }
}

/// Forwards one request: its head stamped with the connection id, then its body as it arrives.
/// `Expect: 100-continue` is answered here (tiny_http's own answer would travel behind ours).
fn forward(shared: &Shared, conn: &Conn, inbox: &mut Inbox, head: &Head) -> Result<(), Stop> {
    let head_bytes = inbox.data().get(..head.len).unwrap_or_default();
    let mut out = Vec::with_capacity(head.len + 40);
    match head.expect_continue {
        true => out.extend_from_slice(&head::without_expect(head_bytes)),
        false => out.extend_from_slice(head_bytes),
    }
    out.truncate(out.len().saturating_sub(2));
    out.extend_from_slice(format!("{CONN_HEADER}: {}\r\n\r\n", conn.id).as_bytes());
    inbox.consume(head.len);
    // The head goes out with the first part of the body, in one write.
    let mut first = Some(out);
    receive_body(
        shared,
        conn,
        inbox,
        head,
        true,
        &mut |b| match first.take() {
            Some(mut out) => {
                out.extend_from_slice(b);
                (&conn.backend).write_all(&out).is_ok()
            }
            None => (&conn.backend).write_all(b).is_ok(),
        },
    )
}

/// Passes the body of the request whose head was just consumed to `sink` as it arrives: once with
/// what is already buffered (maybe nothing), then each further read, within the body deadline.
/// Answers `Expect: 100-continue` when the body is not all there yet. `forwarded`: a request cut short
/// by the deadline was partly given to tiny_http (whose answer must then be dropped).
fn receive_body(
    shared: &Shared,
    conn: &Conn,
    inbox: &mut Inbox,
    head: &Head,
    forwarded: bool,
    sink: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), Stop> {
    let mut left = head.content_length;
    let now = (left as usize).min(inbox.data().len());
    if head.expect_continue
        && (now as u64) < left
        && conn
            .client
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .is_err()
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
            return Err(Stop::Reject {
                status: 408,
                error: Error::usage("request body not received in time").with_hint(format!(
                    "send the whole body within {} ms of the head",
                    shared.limits.body_timeout.as_millis()
                )),
                cut_short: forwarded,
            });
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

/// After a `Connection: close` request: read (and drop) until the client goes, so a closed connection
/// still cancels its tail.
fn watch_until_closed(shared: &Shared, conn: &Conn, inbox: &mut Inbox) -> Stop {
    loop {
        let wait = match conn.activity() {
            (true, _) => IN_FLIGHT_SLICE,
            (false, _) => shared.limits.idle_timeout,
        };
        if inbox.set_wait(&conn.client, wait).is_err() {
            return Stop::Quiet;
        }
        inbox.start = 0;
        inbox.end = 0;
        match inbox.fill(&conn.client, BUF_MIN) {
            Ok(Some(0)) => return Stop::Quiet,
            Ok(_) => {}
            Err(e) if timed_out(&e) && conn.activity().0 => {}
            Err(_) => return Stop::Quiet,
        }
    }
}

/// After a rejection: keep reading (and dropping) what the client still sends for a short while, so
/// our answer (sent by the writer thread) is read instead of lost to a connection reset. The socket
/// closes when both threads are done.
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

/// Copies tiny_http's output to the client; at its end sends our last answer, if any, and closes.
fn write_loop(conn: &Conn) {
    let mut buf = vec![0u8; BUF_MIN];
    loop {
        match (&conn.backend).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if !conn.muted()
                    && conn
                        .client
                        .write_all(buf.get(..n).unwrap_or_default())
                        .is_err()
                {
                    // The client stopped reading or went away: tear down, which cancels any tail.
                    conn.close();
                    let _ = conn.backend.shutdown(Shutdown::Both);
                    conn.client.shutdown();
                    return;
                }
                if n == buf.len() && buf.len() < COPY_MAX {
                    buf.resize(buf.len() * 2, 0);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let (last_words, lingering) = conn.finish();
    if let Some(w) = last_words {
        let _ = conn.client.write_all(&w);
    }
    conn.client.finish();
    if !lingering {
        conn.client.shutdown();
    }
}
