//! `Tail`: a blocking iterator of messages, local or remote, with the same rules for both doors:
//! `max` counts delivered messages, `timeout` is an idle timeout (seconds with none delivered), `tags`
//! keeps the messages carrying every listed tag, and messages a lapped reader lost are counted in
//! `lost` (the iterator carries on from the oldest message still there). `end` says why it stopped
//! (`"max"`, `"timeout"`, `"cancelled"`, or `"error"` when a remote stream failed for good), and
//! `next_seq` where a new tail would carry on (`pool.tail(since_seq=t.next_seq)`), as the Rust API's
//! `Tail::end` and `Tail::next_seq` do.
//!
//! Events already available are taken with the GIL held (no release per message). Otherwise the tail
//! releases the GIL and waits at most `WAIT_SLICE` at a time, then checks for signals (so Ctrl-C
//! raises `KeyboardInterrupt` promptly) and whether its pool was closed (then it raises `UsageError`).
//! A local core tail whose slice deadline ended it is restarted from its next seq (never below the
//! `since_seq` asked for), which keeps its position and its loss reports.
//!
//! The class is frozen: `cancel()`, `close()` and the counters work from any thread while another one
//! iterates; the iteration state sits behind a mutex that only one thread at a time may hold (a second
//! iterating thread gets `UsageError` instead of waiting, which could deadlock on the GIL). Once
//! cancellation is observed nothing more is delivered.

use crate::errors::{err, usage};
use crate::message::Message;
use crate::remote::{Got, RemoteEvent, RemoteTail};
use plasmite::api::{Canceller, TailEnd, TailEventRef, TailStart};
use plasmite::{Result, TailOptions};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

/// The longest a tail waits with the GIL released before it checks signals and its pool again.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Where a tail's messages come from.
pub enum Source {
    Local {
        pool: plasmite::Pool,
        tail: Box<plasmite::Tail>,
        /// The `since_seq` asked for: a restarted core tail never starts below it.
        floor: u64,
    },
    Remote(RemoteTail),
}

/// The caller's choices, the same for both sources.
pub struct TailSpec {
    pub pool_closed: Arc<AtomicBool>,
    pub tags: Vec<String>,
    pub max: Option<u64>,
    pub idle: Option<Duration>,
}

/// Why a tail stopped (stored in an `AtomicU8`; 0 = not yet).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum End {
    Max = 1,
    Timeout = 2,
    Cancelled = 3,
    Error = 4,
}

impl End {
    fn name(code: u8) -> Option<&'static str> {
        match code {
            1 => Some("max"),
            2 => Some("timeout"),
            3 => Some("cancelled"),
            4 => Some("error"),
            _ => None,
        }
    }
}

/// Cancellation shared with other threads: the flag, and the canceller of the current local core
/// tail (replaced on every restart) so that a wait in progress wakes at once.
#[derive(Default)]
struct Cancel {
    flag: AtomicBool,
    waker: Mutex<Option<Canceller>>,
}

impl Cancel {
    fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        if let Some(c) = lock(&self.waker).as_ref() {
            c.cancel();
        }
    }

    fn set_waker(&self, c: Option<Canceller>) {
        let set_before = c.is_some();
        *lock(&self.waker) = c;
        // A cancel that took the lock before the new canceller was stored still reaches it.
        if set_before && self.is_set() {
            if let Some(c) = lock(&self.waker).as_ref() {
                c.cancel();
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An event copied out while the GIL was released.
enum Owned {
    Message(plasmite::Message),
    Lost(u64),
    Nothing,
    Ended,
}

/// An event taken with the GIL held.
enum Now {
    Message(Message),
    Lost(u64),
    Nothing,
    Ended,
}

fn start_options(since: Option<u64>) -> TailOptions {
    TailOptions {
        start: since.map_or(TailStart::Edge, TailStart::Since),
        ..Default::default()
    }
}

fn has_tags<'a, I: Iterator<Item = &'a str>>(wanted: &[String], have: impl Fn() -> I) -> bool {
    wanted.iter().all(|w| have().any(|h| h == w.as_str()))
}

impl Source {
    pub fn local(pool: plasmite::Pool, since: Option<u64>) -> Result<Source> {
        let tail = Box::new(pool.tail(start_options(since))?);
        Ok(Source::Local {
            pool,
            tail,
            floor: since.unwrap_or(0),
        })
    }

    /// The seq the next message will have at least.
    fn next_seq(&self) -> u64 {
        match self {
            Source::Local { tail, floor, .. } => tail.next_seq().max(*floor),
            Source::Remote(r) => r.next_seq(),
        }
    }

    fn canceller(&self) -> Option<Canceller> {
        match self {
            Source::Local { tail, .. } => Some(tail.canceller()),
            Source::Remote(_) => None,
        }
    }

    /// The next event without waiting (GIL held).
    fn now(&mut self, py: Python<'_>, tags: &[String]) -> PyResult<Now> {
        match self {
            Source::Local { tail, .. } => {
                let got = match tail.try_next_ref() {
                    Some(Ok(TailEventRef::Message(m))) if has_tags(tags, || m.tags()) => {
                        Now::Message(Message::from_ref(py, &m))
                    }
                    Some(Ok(TailEventRef::Message(_))) => Now::Lost(0),
                    Some(Ok(TailEventRef::Dropped { lost })) => Now::Lost(lost),
                    Some(Err(e)) => return Err(err(e)),
                    None => Now::Nothing,
                };
                match got {
                    Now::Nothing if tail.end().is_some() => Ok(Now::Ended),
                    other => Ok(other),
                }
            }
            Source::Remote(r) => match r.try_next().map_err(err)? {
                Got::Event(RemoteEvent::Message(m))
                    if has_tags(tags, || m.tags.iter().map(String::as_str)) =>
                {
                    Ok(Now::Message(Message::from_core(py, &m)))
                }
                Got::Event(RemoteEvent::Message(_)) => Ok(Now::Lost(0)),
                Got::Event(RemoteEvent::Lost(n)) => Ok(Now::Lost(n)),
                Got::Nothing => Ok(Now::Nothing),
                Got::Ended => Ok(Now::Ended),
            },
        }
    }

    /// Waits for the next event until `until` (GIL released).
    fn wait(&mut self, until: Instant, cancel: &Cancel) -> Result<Owned> {
        match self {
            Source::Local { pool, tail, floor } => {
                tail.set_deadline(Some(until));
                match tail.next_ref() {
                    Some(Ok(TailEventRef::Message(m))) => Ok(Owned::Message(m.to_message())),
                    Some(Ok(TailEventRef::Dropped { lost })) => Ok(Owned::Lost(lost)),
                    Some(Err(e)) => Err(e),
                    None => match tail.end() {
                        Some(TailEnd::Timeout) => {
                            let from = tail.next_seq().max(*floor);
                            **tail = pool.tail(start_options(Some(from)))?;
                            cancel.set_waker(Some(tail.canceller()));
                            Ok(Owned::Nothing)
                        }
                        Some(_) => Ok(Owned::Ended),
                        None => Ok(Owned::Nothing),
                    },
                }
            }
            Source::Remote(r) => {
                let wait = until.saturating_duration_since(Instant::now());
                Ok(match r.next_within(wait)? {
                    Got::Event(RemoteEvent::Message(m)) => Owned::Message(m),
                    Got::Event(RemoteEvent::Lost(n)) => Owned::Lost(n),
                    Got::Nothing => Owned::Nothing,
                    Got::Ended => Owned::Ended,
                })
            }
        }
    }
}

/// What only the iterating thread touches.
struct State {
    source: Option<Source>,
    last_delivery: Instant,
}

/// A blocking iterator of `Message`s (also a context manager).
#[pyclass(frozen, module = "plasmite", name = "Tail")]
pub struct Tail {
    state: Mutex<State>,
    spec: TailSpec,
    cancel: Arc<Cancel>,
    delivered: AtomicU64,
    lost: AtomicU64,
    next_seq: AtomicU64,
    end: AtomicU8,
}

impl Tail {
    pub fn new(source: Source, spec: TailSpec) -> Tail {
        let cancel = Arc::new(Cancel::default());
        cancel.set_waker(source.canceller());
        Tail {
            next_seq: AtomicU64::new(source.next_seq()),
            state: Mutex::new(State {
                source: Some(source),
                last_delivery: Instant::now(),
            }),
            spec,
            cancel,
            delivered: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            end: AtomicU8::new(0),
        }
    }

    /// Records why the tail stopped; the first reason stays.
    fn finish(&self, why: End) {
        let _ = self
            .end
            .compare_exchange(0, why as u8, Ordering::SeqCst, Ordering::SeqCst);
    }

    fn ended(&self) -> bool {
        self.end.load(Ordering::SeqCst) != 0
    }

    fn deliver(&self, st: &mut State, m: Message) -> Option<Message> {
        let n = self.delivered.fetch_add(1, Ordering::SeqCst) + 1;
        if self.spec.max.is_some_and(|max| n >= max) {
            self.finish(End::Max);
            st.source = None;
        }
        if self.spec.idle.is_some() {
            st.last_delivery = Instant::now();
        }
        Some(m)
    }

    fn next_message(&self, py: Python<'_>) -> PyResult<Option<Message>> {
        let mut st = match self.state.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                return Err(usage(
                    "another thread is iterating this tail (one thread at a time may)",
                ))
            }
        };
        let st = &mut *st;
        if self.spec.max.is_some_and(|m| m == 0) {
            self.finish(End::Max);
        }
        loop {
            if self.cancel.is_set() {
                self.finish(End::Cancelled);
            }
            if self.ended() {
                st.source = None;
                return Ok(None);
            }
            if self.spec.pool_closed.load(Ordering::SeqCst) {
                st.source = None;
                return Err(usage("the tail's pool was closed"));
            }
            let Some(src) = st.source.as_mut() else {
                self.finish(End::Error);
                continue;
            };
            let got = src.now(py, &self.spec.tags);
            self.next_seq.store(src.next_seq(), Ordering::SeqCst);
            match got? {
                Now::Message(m) => return Ok(self.deliver(st, m)),
                Now::Lost(n) => {
                    self.lost.fetch_add(n, Ordering::SeqCst);
                    continue;
                }
                Now::Ended => {
                    self.finish(End::Error);
                    continue;
                }
                Now::Nothing => {}
            }
            let now = Instant::now();
            let mut until = now + WAIT_SLICE;
            if let Some(idle) = self.spec.idle {
                let end = st.last_delivery + idle;
                if end <= now {
                    self.finish(End::Timeout);
                    continue;
                }
                until = until.min(end);
            }
            let cancel = Arc::clone(&self.cancel);
            let got = py.detach(|| src.wait(until, &cancel));
            self.next_seq.store(src.next_seq(), Ordering::SeqCst);
            py.check_signals()?;
            match got.map_err(err)? {
                _ if self.cancel.is_set() => {}
                Owned::Message(m)
                    if has_tags(&self.spec.tags, || m.tags.iter().map(String::as_str)) =>
                {
                    let m = Message::from_core(py, &m);
                    return Ok(self.deliver(st, m));
                }
                Owned::Message(_) | Owned::Nothing => {}
                Owned::Lost(n) => {
                    self.lost.fetch_add(n, Ordering::SeqCst);
                }
                Owned::Ended => self.finish(End::Error),
            }
        }
    }
}

#[pymethods]
impl Tail {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Message>> {
        self.next_message(py)
    }

    /// Messages lost so far: overwritten by writers before this tail could read them.
    #[getter]
    fn lost(&self) -> u64 {
        self.lost.load(Ordering::SeqCst)
    }

    /// Messages delivered so far.
    #[getter]
    fn delivered_count(&self) -> u64 {
        self.delivered.load(Ordering::SeqCst)
    }

    /// Why the tail stopped: `None` while it may deliver more, else `"max"`, `"timeout"`,
    /// `"cancelled"` (`cancel()` or `close()`) or `"error"` (a remote stream failed; it was raised).
    #[getter]
    fn end(&self) -> Option<&'static str> {
        End::name(self.end.load(Ordering::SeqCst))
    }

    /// The seq the next message will have at least: a new tail from here carries on where this one
    /// stopped (`pool.tail(since_seq=t.next_seq)`).
    #[getter]
    fn next_seq(&self) -> u64 {
        self.next_seq.load(Ordering::SeqCst)
    }

    /// Stops the tail from any thread: a wait in progress returns, nothing more is delivered.
    fn cancel(&self) {
        self.finish(End::Cancelled);
        self.cancel.cancel();
    }

    /// Cancels the tail and frees what it holds (at once, or when the iterating thread sees it).
    fn close(&self) {
        self.cancel();
        if let Ok(mut st) = self.state.try_lock() {
            st.source = None;
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.close();
        false
    }
}
