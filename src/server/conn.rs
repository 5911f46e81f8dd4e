//! Connection state shared by a connection's two proxy threads and the request handlers, and the
//! registry that finds a connection by the id the proxy stamps on each forwarded request.
//!
//! Invariants: at most one request per connection is in flight (the reader forwards the next one only
//! after the handler marked the previous response done); once a connection is closed, no tail starts
//! on it and a running one is cancelled.

use super::stream::ClientStream;
use crate::api::Canceller;
use std::collections::HashMap;
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// One client connection.
pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) client: ClientStream,
    /// Our end of the private socket to tiny_http.
    pub(crate) backend: UnixStream,
    state: Mutex<State>,
    cv: Condvar,
}

struct State {
    in_flight: bool,
    /// The reader waits in `begin_request` (only then is a notification needed).
    waiting: bool,
    /// When the last response ended (or the connection opened): the idle clock.
    idle_since: Instant,
    tail: Option<Canceller>,
    closed: bool,
    /// The reader is lingering after a rejection: the writer must not shut the client's reading side.
    lingering: bool,
    /// Bytes from tiny_http are dropped (a request was cut short; our own answer replaces them).
    muted: bool,
    /// An answer the writer sends after tiny_http's last byte, before closing.
    last_words: Option<Vec<u8>>,
}

impl Conn {
    pub(crate) fn new(id: u64, client: ClientStream, backend: UnixStream) -> Conn {
        Conn {
            id,
            client,
            backend,
            state: Mutex::new(State {
                in_flight: false,
                waiting: false,
                idle_since: Instant::now(),
                tail: None,
                closed: false,
                lingering: false,
                muted: false,
                last_words: None,
            }),
            cv: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until no request is in flight, then marks one. False when the connection closed.
    pub(crate) fn begin_request(&self) -> bool {
        let mut s = self.lock();
        while s.in_flight && !s.closed {
            s.waiting = true;
            s = self.cv.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.waiting = false;
        if s.closed {
            return false;
        }
        s.in_flight = true;
        true
    }

    /// The handler wrote its whole response.
    pub(crate) fn response_done(&self) {
        let mut s = self.lock();
        s.in_flight = false;
        s.idle_since = Instant::now();
        let waiting = s.waiting;
        drop(s);
        if waiting {
            self.cv.notify_all();
        }
    }

    /// Whether a request is in flight, and since when the connection is idle otherwise.
    pub(crate) fn activity(&self) -> (bool, Instant) {
        let s = self.lock();
        (s.in_flight, s.idle_since)
    }

    /// Registers the running tail; false (and nothing registered) when the connection already closed.
    pub(crate) fn set_tail(&self, c: Canceller) -> bool {
        let mut s = self.lock();
        if s.closed {
            return false;
        }
        s.tail = Some(c);
        true
    }

    pub(crate) fn clear_tail(&self) {
        self.lock().tail = None;
    }

    /// The client went away or the connection is being torn down: cancel the tail, wake waiters.
    pub(crate) fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        if let Some(t) = s.tail.take() {
            t.cancel();
        }
        drop(s);
        self.cv.notify_all();
    }

    /// Ends the connection after in-flight output with `answer` (our own error response).
    /// `cut_short`: a request was partly forwarded, so tiny_http's answer to it is dropped.
    pub(crate) fn reject(&self, answer: Vec<u8>, cut_short: bool) {
        let mut s = self.lock();
        s.last_words = Some(answer);
        s.lingering = true;
        s.muted |= cut_short;
        if let Some(t) = s.tail.take() {
            t.cancel();
        }
    }

    pub(crate) fn muted(&self) -> bool {
        self.lock().muted
    }

    /// For the writer at the end: the answer to send last, and whether the reader lingers.
    pub(crate) fn finish(&self) -> (Option<Vec<u8>>, bool) {
        let mut s = self.lock();
        let words = s.last_words.take();
        let lingering = s.lingering;
        s.closed = true;
        if let Some(t) = s.tail.take() {
            t.cancel();
        }
        drop(s);
        self.cv.notify_all();
        (words, lingering)
    }

    /// Tears everything down from outside (server shutdown).
    pub(crate) fn kill(&self) {
        self.close();
        let _ = self.backend.shutdown(Shutdown::Both);
        self.client.shutdown();
    }
}

/// Live connections by id.
#[derive(Default)]
pub(crate) struct Registry {
    map: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    active: AtomicUsize,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves a slot if fewer than `max` connections are open.
    pub(crate) fn try_reserve(&self, max: usize) -> bool {
        self.active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives back a slot reserved by `try_reserve` (when no connection was registered in it).
    pub(crate) fn release(&self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn insert(&self, c: Arc<Conn>) {
        self.lock().insert(c.id, c);
    }

    pub(crate) fn get(&self, id: u64) -> Option<Arc<Conn>> {
        self.lock().get(&id).cloned()
    }

    /// Removes a connection and frees its slot.
    pub(crate) fn remove(&self, id: u64) {
        if self.lock().remove(&id).is_some() {
            self.release();
        }
    }

    /// Connections open now.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    pub(crate) fn kill_all(&self) {
        let all: Vec<Arc<Conn>> = self.lock().values().cloned().collect();
        for c in all {
            c.kill();
        }
    }
}
