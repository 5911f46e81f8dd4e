//! `Tail`: a blocking iterator of messages, local or remote, with the same rules for both doors:
//! `max` counts delivered messages, `timeout` is an idle timeout (seconds with none delivered), `tags`
//! keeps the messages carrying every listed tag, and messages a lapped reader lost are counted in
//! `lost` (the iterator carries on from the oldest message still there). `end` says why it stopped
//! (`"max"`, `"timeout"`, `"cancelled"`, or `"error"` when a remote stream failed for good), and
//! `next_seq` where a new tail would carry on (`pool.tail(since_seq=t.next_seq)`), as the Rust API's
//! `Tail::end` and `Tail::next_seq` do.
//!
//! Both doors are one code path over the core's `PoolTail` (a local pool's futex wait, or a remote
//! pool's follower thread, which reads ahead into a bounded queue). Events already available are
//! taken with the GIL held (no release per message). Otherwise the tail releases the GIL and waits
//! at most `WAIT_SLICE` at a time (`PoolTail::next_ref_until`, which does not end the core tail),
//! then checks for signals (so Ctrl-C raises `KeyboardInterrupt` promptly) and whether its pool was
//! closed (then it raises `UsageError`).
//!
//! The class is frozen: `cancel()`, `close()` and the counters work from any thread while another one
//! iterates; the iteration state sits behind a mutex that only one thread at a time may hold (a second
//! iterating thread gets `UsageError` instead of waiting, which could deadlock on the GIL). Once
//! cancellation is observed nothing more is delivered.

use crate::errors::{err, usage};
use crate::message::Message;
use plasmite::api::{EventRef, TailCanceller};
use plasmite::PoolTail;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};

/// The longest a tail waits with the GIL released before it checks signals and its pool again.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Where a tail's messages come from: the core tail of either door.
struct Source {
    tail: PoolTail,
    /// The `since_seq` asked for: `next_seq` never says less (a local tail from beyond the newest
    /// reads from the edge and skips what is below it).
    floor: u64,
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

/// Cancellation shared with other threads: the flag, and the core tail's canceller so that a wait
/// in progress returns at once.
struct Cancel {
    flag: AtomicBool,
    waker: TailCanceller,
}

impl Cancel {
    fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.waker.cancel();
    }
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

fn has_tags<'a, I: Iterator<Item = &'a str>>(wanted: &[String], have: impl Fn() -> I) -> bool {
    wanted.iter().all(|w| have().any(|h| h == w.as_str()))
}

impl Source {
    /// The seq the next message will have at least.
    fn next_seq(&self) -> u64 {
        self.tail.next_seq().unwrap_or(0).max(self.floor)
    }

    /// The next event without waiting (GIL held).
    fn now(&mut self, py: Python<'_>, tags: &[String]) -> PyResult<Now> {
        let got = match self.tail.try_next_ref() {
            Some(Ok(EventRef::Message(m))) if has_tags(tags, || m.tags()) => {
                Now::Message(Message::from_view(py, &m))
            }
            Some(Ok(EventRef::Message(_))) => Now::Lost(0),
            Some(Ok(EventRef::Dropped { lost })) => Now::Lost(lost),
            Some(Err(e)) => return Err(err(e)),
            None => Now::Nothing,
        };
        match got {
            Now::Nothing if self.tail.end().is_some() => Ok(Now::Ended),
            other => Ok(other),
        }
    }

    /// Waits for the next event until `until` (GIL released).
    fn wait(&mut self, until: Instant) -> plasmite::Result<Owned> {
        let got = match self.tail.next_ref_until(until) {
            Some(Ok(EventRef::Message(m))) => Owned::Message(m.to_message()),
            Some(Ok(EventRef::Dropped { lost })) => Owned::Lost(lost),
            Some(Err(e)) => return Err(e),
            None => Owned::Nothing,
        };
        match got {
            Owned::Nothing if self.tail.end().is_some() => Ok(Owned::Ended),
            other => Ok(other),
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
    /// A tail over `tail`; `floor` is the `since_seq` asked for (0 for none).
    pub fn new(tail: PoolTail, floor: u64, spec: TailSpec) -> Tail {
        let cancel = Arc::new(Cancel {
            flag: AtomicBool::new(false),
            waker: tail.canceller(),
        });
        let source = Source { tail, floor };
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
            let got = py.detach(|| src.wait(until));
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
