//! The threads that take requests from tiny_http and answer them.
//!
//! The pool grows on demand: a thread that takes a request while no other is waiting starts one more,
//! up to one per connection (the proxy keeps at most one request per connection in flight), so a long
//! tail never delays other requests. Spare threads end after `HTTP_WORKER_IDLE`, down to
//! `HTTP_WORKERS_MIN`.

use super::conn::Conn;
use super::handlers::{self, Incoming, Reply};
use super::respond::{self, HttpError};
use super::{tail, Shared};
use crate::error::{Error, ErrorKind};
use crate::limits;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub(crate) struct Workers {
    total: AtomicUsize,
    idle: AtomicUsize,
}

impl Workers {
    pub(crate) fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }
}

/// Starts one more worker if under `cap`.
pub(crate) fn spawn(shared: &Arc<Shared>, cap: usize) -> bool {
    let w = &shared.workers;
    if w.total
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < cap).then_some(n + 1)
        })
        .is_err()
    {
        return false;
    }
    let sh = Arc::clone(shared);
    let started = std::thread::Builder::new()
        .name("plasmite-http".into())
        .stack_size(limits::HTTP_THREAD_STACK_BYTES)
        .spawn(move || run(sh));
    if started.is_err() {
        w.total.fetch_sub(1, Ordering::SeqCst);
        return false;
    }
    true
}

fn cap(shared: &Shared) -> usize {
    shared.limits.connections_max + limits::HTTP_WORKERS_MIN
}

fn run(shared: Arc<Shared>) {
    let w = &shared.workers;
    loop {
        w.idle.fetch_add(1, Ordering::SeqCst);
        let got = match shared.http() {
            Some(http) => http.recv_timeout(limits::HTTP_WORKER_IDLE),
            None => Ok(None),
        };
        let idle_now = w.idle.fetch_sub(1, Ordering::SeqCst) - 1;
        if shared.stopping() {
            break;
        }
        match got {
            Ok(Some(req)) => {
                if idle_now == 0 {
                    spawn(&shared, cap(&shared));
                }
                handle(&shared, req);
            }
            Ok(None) => {
                // tiny_http's timed wait can swallow the wake-up of a request pushed as it times
                // out: look once more before going.
                if let Some(Ok(Some(req))) = shared.http().map(|h| h.try_recv()) {
                    handle(&shared, req);
                    continue;
                }
                // Retire only while another thread waits, so a request never sits unseen.
                if w.idle.load(Ordering::SeqCst) == 0 {
                    continue;
                }
                let retired = w
                    .total
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n > limits::HTTP_WORKERS_MIN).then_some(n - 1)
                    });
                if retired.is_ok() {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    w.total.fetch_sub(1, Ordering::SeqCst);
}

/// Answers one request; a panic in a handler becomes a 500 envelope, never a dead thread.
///
/// Answers are written straight to the client connection: tiny_http's writer would add a copy through
/// the private socket and a thread hop. tiny_http is then given an empty writer for the request, so
/// it writes nothing and keeps its order of requests.
fn handle(shared: &Arc<Shared>, mut req: tiny_http::Request) {
    let conn = handlers::conn_id(&req).and_then(|id| shared.conns.get(id));
    let reply = reply_safely(shared, conn.as_ref(), &mut req);
    let Some(conn) = conn else {
        // Not from a client connection (the proxy's liveness probe): answer through tiny_http.
        let _ = match reply {
            Reply::Json { status, body } => req.respond(respond::json(status, body, &[])),
            Reply::Error(e) => req.respond(respond::error(&e)),
            Reply::Tail(_) | Reply::Raw(_) => Ok(()),
        };
        return;
    };
    if conn.muted() {
        // The proxy cut this request short and sends its own answer.
        drop(req.into_writer());
        conn.response_done();
        return;
    }
    let head_only = req.method() == &tiny_http::Method::Head;
    let connection = connection_header(&req);
    let sent = answer(&conn, reply, head_only, connection);
    drop(req.into_writer());
    if !sent {
        // The client stopped reading or went away.
        conn.kill();
    }
    conn.response_done();
}

/// Runs the handlers on one request; a panic in a handler becomes a 500 envelope.
pub(crate) fn reply_safely(
    shared: &Arc<Shared>,
    conn: Option<&Arc<Conn>>,
    req: &mut impl Incoming,
) -> Reply {
    catch_unwind(AssertUnwindSafe(|| handlers::reply(shared, conn, req))).unwrap_or_else(|_| {
        Reply::Error(HttpError::new(
            500,
            Error::new(
                ErrorKind::Internal,
                "the server failed while handling this request (a bug)",
            ),
        ))
    })
}

/// Writes a reply straight to the client connection. False when the client stopped reading or
/// went away.
pub(crate) fn answer(
    conn: &Conn,
    reply: Reply,
    head_only: bool,
    connection: Option<&'static str>,
) -> bool {
    match reply {
        Reply::Json { status, body } => {
            let mut h = Vec::new();
            h.extend(connection.map(|v| ("Connection", v)));
            conn.client
                .write_all(&respond::raw(status, &h, &body, head_only))
                .is_ok()
        }
        Reply::Error(e) => {
            let mut h: Vec<(&str, &str)> =
                e.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            h.extend(connection.map(|v| ("Connection", v)));
            conn.client
                .write_all(&respond::raw(
                    e.status,
                    &h,
                    &respond::envelope(&e.error),
                    head_only,
                ))
                .is_ok()
        }
        Reply::Tail(plan) => {
            catch_unwind(AssertUnwindSafe(|| tail::stream(plan, &conn.client))).unwrap_or(false)
        }
        // A complete answer built by the handler (the web UI's embedded files).
        Reply::Raw(answer) => conn.client.write_all(&answer).is_ok(),
    }
}

/// The `Connection` header of the answer: `close` when the request ends the connection, `keep-alive`
/// for an HTTP/1.0 request asking to keep it.
pub(crate) fn connection_header(req: &impl Incoming) -> Option<&'static str> {
    let asked = req.header("Connection").map(str::to_ascii_lowercase);
    let has = |t: &str| {
        asked
            .as_deref()
            .is_some_and(|a| a.split(',').any(|x| x.trim() == t))
    };
    let old = req.minor() == 0;
    if has("close") || (old && !has("keep-alive")) {
        Some("close")
    } else if old {
        Some("keep-alive")
    } else {
        None
    }
}
