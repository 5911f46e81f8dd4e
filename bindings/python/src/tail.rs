//! `Tail`: a blocking iterator of messages, local or remote, with the same rules for both doors:
//! `max` counts delivered messages, `timeout` is an idle timeout (seconds with none delivered), `tags`
//! keeps the messages carrying every listed tag, and messages a lapped reader lost are counted in
//! `lost` (the iterator carries on from the oldest message still there).
//!
//! Events already available are taken with the GIL held (no release per message). Otherwise the tail
//! releases the GIL and waits at most `WAIT_SLICE` at a time, then checks for signals (so Ctrl-C
//! raises `KeyboardInterrupt` promptly) and whether its pool was closed (then it raises `UsageError`).
//! A local core tail whose slice deadline ended it is restarted from its next seq, which keeps its
//! position and its loss reports.

use crate::errors::{err, usage};
use crate::message::Message;
use crate::remote::{Got, RemoteEvent, RemoteTail};
use plasmite::api::{TailEnd, TailEventRef, TailStart};
use plasmite::{Result, TailOptions};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a tail waits with the GIL released before it checks signals and its pool again.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Where a tail's messages come from.
pub enum Source {
    Local {
        pool: plasmite::Pool,
        tail: Box<plasmite::Tail>,
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
        Ok(Source::Local { pool, tail })
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
    fn wait(&mut self, until: Instant) -> Result<Owned> {
        match self {
            Source::Local { pool, tail } => {
                tail.set_deadline(Some(until));
                match tail.next_ref() {
                    Some(Ok(TailEventRef::Message(m))) => Ok(Owned::Message(m.to_message())),
                    Some(Ok(TailEventRef::Dropped { lost })) => Ok(Owned::Lost(lost)),
                    Some(Err(e)) => Err(e),
                    None => match tail.end() {
                        Some(TailEnd::Timeout) => {
                            **tail = pool.tail(start_options(Some(tail.next_seq())))?;
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

/// A blocking iterator of `Message`s (also a context manager).
#[pyclass(module = "plasmite", name = "Tail")]
pub struct Tail {
    source: Option<Source>,
    spec: TailSpec,
    delivered: u64,
    lost: u64,
    last_delivery: Instant,
}

impl Tail {
    pub fn new(source: Source, spec: TailSpec) -> Tail {
        Tail {
            source: Some(source),
            spec,
            delivered: 0,
            lost: 0,
            last_delivery: Instant::now(),
        }
    }

    fn delivered(&mut self, m: Message) -> Option<Message> {
        self.delivered += 1;
        if self.spec.idle.is_some() {
            self.last_delivery = Instant::now();
        }
        Some(m)
    }

    fn next_message(&mut self, py: Python<'_>) -> PyResult<Option<Message>> {
        loop {
            if self.spec.pool_closed.load(Ordering::SeqCst) {
                self.source = None;
                return Err(usage("the tail's pool was closed"));
            }
            if self.spec.max.is_some_and(|m| self.delivered >= m) {
                self.source = None;
            }
            let Some(src) = self.source.as_mut() else {
                return Ok(None);
            };
            match src.now(py, &self.spec.tags)? {
                Now::Message(m) => return Ok(self.delivered(m)),
                Now::Lost(n) => {
                    self.lost += n;
                    continue;
                }
                Now::Ended => {
                    self.source = None;
                    continue;
                }
                Now::Nothing => {}
            }
            let now = Instant::now();
            let mut until = now + WAIT_SLICE;
            if let Some(idle) = self.spec.idle {
                let end = self.last_delivery + idle;
                if end <= now {
                    self.source = None;
                    continue;
                }
                until = until.min(end);
            }
            let got = py.detach(|| src.wait(until));
            py.check_signals()?;
            match got.map_err(err)? {
                Owned::Message(m)
                    if has_tags(&self.spec.tags, || m.tags.iter().map(String::as_str)) =>
                {
                    let m = Message::from_core(py, &m);
                    return Ok(self.delivered(m));
                }
                Owned::Message(_) | Owned::Nothing => {}
                Owned::Lost(n) => self.lost += n,
                Owned::Ended => self.source = None,
            }
        }
    }
}

#[pymethods]
impl Tail {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Message>> {
        self.next_message(py)
    }

    /// Messages lost so far: overwritten by writers before this tail could read them.
    #[getter]
    fn lost(&self) -> u64 {
        self.lost
    }

    /// Messages delivered so far.
    #[getter]
    fn delivered_count(&self) -> u64 {
        self.delivered
    }

    /// Ends the tail (the iterator is exhausted afterwards).
    fn close(&mut self) {
        self.source = None;
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __exit__(
        &mut self,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.close();
        false
    }
}
