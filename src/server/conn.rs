//! Connection state shared by a connection's thread and, while a long answer runs (a streaming tail,
//! an MCP `wait`), the thread answering it; and the registry of live connections (the connection
//! limits, per address and in total).
//!
//! Invariants: at most one request per connection is in flight (the connection thread handles the
//! next one only after the previous answer ended); once a connection is closed, no long answer starts
//! on it and a running one is stopped.

use super::stream::ClientStream;
use crate::api::Canceller;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What stops a long answer when its client goes: a streaming tail, or an MCP `wait`.
pub(crate) enum Stopper {
    Tail(Canceller),
    Mcp(Arc<crate::mcp::Cancel>),
}

impl Stopper {
    fn stop(&self) {
        match self {
            Stopper::Tail(c) => c.cancel(),
            Stopper::Mcp(c) => c.cancel(),
        }
    }
}

/// One client connection.
pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) client: ClientStream,
    /// How long one answer may take to be accepted by the client, in total.
    pub(crate) write_timeout: Duration,
    state: Mutex<State>,
    cv: Condvar,
}

struct State {
    in_flight: bool,
    /// When the last answer ended (or the connection opened): the idle clock.
    idle_since: Instant,
    long: Option<Stopper>,
    closed: bool,
}

impl Conn {
    pub(crate) fn new(id: u64, client: ClientStream, write_timeout: Duration) -> Conn {
        Conn {
            id,
            client,
            write_timeout,
            state: Mutex::new(State {
                in_flight: false,
                idle_since: Instant::now(),
                long: None,
                closed: false,
            }),
            cv: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `data` whole within the write timeout (over all its partial writes).
    pub(crate) fn send(&self, data: &[u8]) -> std::io::Result<()> {
        self.client
            .write_all_by(data, Instant::now() + self.write_timeout)
    }

    /// Waits until no request is in flight, then marks one. False when the connection closed.
    pub(crate) fn begin_request(&self) -> bool {
        let mut s = self.lock();
        while s.in_flight && !s.closed {
            s = self.cv.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if s.closed {
            return false;
        }
        s.in_flight = true;
        true
    }

    /// The answer was written whole (or given up).
    pub(crate) fn response_done(&self) {
        let mut s = self.lock();
        s.in_flight = false;
        s.idle_since = Instant::now();
        drop(s);
        self.cv.notify_all();
    }

    /// Waits until no answer is being written (a tail cancelled by `close` ends soon).
    pub(crate) fn wait_idle(&self) {
        let mut s = self.lock();
        while s.in_flight {
            s = self.cv.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Whether a request is in flight, and since when the connection is idle otherwise.
    pub(crate) fn activity(&self) -> (bool, Instant) {
        let s = self.lock();
        (s.in_flight, s.idle_since)
    }

    /// Registers the running long answer; false (and nothing registered) when the connection already
    /// closed.
    pub(crate) fn set_long(&self, s: Stopper) -> bool {
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        st.long = Some(s);
        true
    }

    pub(crate) fn clear_long(&self) {
        self.lock().long = None;
    }

    /// Ends a running long answer early (a tail's stream still ends properly), leaving the
    /// connection open.
    pub(crate) fn cancel_long(&self) {
        if let Some(t) = self.lock().long.take() {
            t.stop();
        }
    }

    /// The client went away or the connection is being torn down: stop the long answer, wake waiters.
    pub(crate) fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        if let Some(t) = s.long.take() {
            t.stop();
        }
        drop(s);
        self.cv.notify_all();
    }

    /// Tears everything down from outside (server shutdown, or a client that stopped reading).
    pub(crate) fn kill(&self) {
        self.close();
        self.client.shutdown();
    }
}

/// Live connections: their number in total and per client address, and each by id (for shutdown).
#[derive(Default)]
pub(crate) struct Registry {
    map: Mutex<HashMap<u64, Arc<Conn>>>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    next_id: AtomicU64,
    active: AtomicUsize,
}

/// Why a connection got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    Total,
    PerIp,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_ip(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.per_ip.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves a slot if fewer than `max` connections are open, and fewer than `per_ip` from `ip`.
    pub(crate) fn try_reserve(&self, ip: IpAddr, max: usize, per_ip: usize) -> Result<(), Full> {
        let mut ips = self.lock_ip();
        let n = ips.get(&ip).copied().unwrap_or(0);
        if n >= per_ip {
            return Err(Full::PerIp);
        }
        self.active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| Full::Total)?;
        ips.insert(ip, n + 1);
        Ok(())
    }

    /// Gives back a slot reserved by `try_reserve`.
    pub(crate) fn release(&self, ip: IpAddr) {
        let mut ips = self.lock_ip();
        match ips.get_mut(&ip) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                ips.remove(&ip);
            }
        }
        self.active.fetch_sub(1, Ordering::SeqCst);
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn insert(&self, c: Arc<Conn>) {
        self.lock().insert(c.id, c);
    }

    /// Forgets a connection (its slot is given back separately, by `release`).
    pub(crate) fn remove(&self, id: u64) {
        self.lock().remove(&id);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_in_total() {
        let r = Registry::default();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(r.try_reserve(a, 3, 2), Ok(()));
        assert_eq!(r.try_reserve(a, 3, 2), Ok(()));
        assert_eq!(r.try_reserve(a, 3, 2), Err(Full::PerIp));
        assert_eq!(r.try_reserve(b, 3, 2), Ok(()));
        assert_eq!(r.try_reserve(b, 3, 2), Err(Full::Total));
        r.release(a);
        assert_eq!(r.active(), 2);
        assert_eq!(r.try_reserve(a, 3, 2), Ok(()));
        r.release(b);
        r.release(a);
        r.release(a);
        assert_eq!(r.active(), 0);
        assert!(r.lock_ip().is_empty());
    }
}
