//! `NativeTail`: a tail whose waits run on a worker thread of its own, never on the event loop (nor on
//! libuv's thread pool, which a few waiting tails would exhaust).
//!
//! Protocol with `index.js`: JavaScript calls `pull(max)`; the worker reads up to `max` events (waiting
//! for the first, then taking only what is already there) and calls the batch callback once with
//! `{"items":[ENVELOPE | {"lost":N}, ..],"end":null|"max"|"timeout"|"cancelled","error":ENVELOPE|null}`.
//! The worker reads only after a pull, so a slow consumer is never buffered for (backpressure). The
//! `max`, `timeout` and tag filters are applied here, the same way for local and remote sources.
//! After `cancel()` the worker delivers nothing more; `index.js` also drops any batch in flight.

use crate::error::{js_u64, to_napi};
use crate::limits;
use napi::threadsafe_function::{ErrorStrategy, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi_derive::napi;
use plasmite::api::{Canceller, Pool, Tail, TailEnd, TailEventRef, TailOptions, TailStart};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Options of `pool.tail()` as `index.js` passes them.
#[napi(object)]
pub struct TailArgs {
    pub since_seq: Option<f64>,
    pub max: Option<f64>,
    pub timeout_ms: Option<f64>,
    pub tags: Option<Vec<String>>,
    /// Most messages per hand-off (`index.js` checks 1..=4096 and pulls that many); `1` also tells a
    /// remote source to read nothing ahead.
    pub batch: Option<f64>,
}

/// One step of a source.
pub(crate) enum Step {
    /// A message passed the tag filter and its envelope was appended to the batch.
    Wrote,
    /// A message did not pass the tag filter.
    Skipped,
    /// Messages were lost (overwritten before they were read).
    Lost(u64),
    /// Nothing is available right now (non-blocking steps only).
    CaughtUp,
    /// The deadline passed with nothing.
    Timeout,
    /// The source was cancelled.
    Cancelled,
}

/// Where a tail's events come from: a local `Tail` or a remote follower.
pub(crate) trait Source: Send {
    /// The next event, waiting until `until` when `block`; a message is written to `out` only when
    /// it carries every tag of `tags`.
    fn step(
        &mut self,
        until: Option<Instant>,
        block: bool,
        tags: &[String],
        out: &mut Vec<u8>,
    ) -> plasmite::Result<Step>;

    /// A closure that wakes a pending wait from another thread after the cancel flag was set; `None`
    /// when the source waits in slices short enough to notice the flag by itself.
    fn waker(&self) -> Option<Box<dyn Fn() + Send>> {
        None
    }
}

/// Whether a message's tags include every wanted tag.
pub(crate) fn has_tags<'a, I: Iterator<Item = &'a str>>(
    have: impl Fn() -> I,
    want: &[String],
) -> bool {
    want.iter().all(|w| have().any(|h| h == w))
}

struct Local {
    tail: Tail,
    canceller: Canceller,
}

/// A source over a local pool.
pub(crate) fn local_source(pool: &Pool, args: &TailArgs) -> plasmite::Result<Box<dyn Source>> {
    let start = match args.since_seq {
        Some(s) => TailStart::Since(js_u64(s, "sinceSeq")?),
        None => TailStart::Edge,
    };
    let tail = pool.tail(TailOptions {
        start,
        ..TailOptions::default()
    })?;
    let canceller = tail.canceller();
    Ok(Box::new(Local { tail, canceller }))
}

impl Source for Local {
    fn step(
        &mut self,
        until: Option<Instant>,
        block: bool,
        tags: &[String],
        out: &mut Vec<u8>,
    ) -> plasmite::Result<Step> {
        self.tail.set_deadline(until);
        let ev = if block {
            self.tail.next_ref()
        } else {
            self.tail.try_next_ref()
        };
        match ev {
            Some(Ok(TailEventRef::Message(m))) => {
                if has_tags(|| m.tags(), tags) {
                    m.write_json(out);
                    Ok(Step::Wrote)
                } else {
                    Ok(Step::Skipped)
                }
            }
            Some(Ok(TailEventRef::Dropped { lost })) => Ok(Step::Lost(lost)),
            Some(Err(e)) => Err(e),
            None => Ok(match self.tail.end() {
                None => Step::CaughtUp,
                Some(TailEnd::Cancelled) => Step::Cancelled,
                Some(TailEnd::Timeout | TailEnd::Max) => Step::Timeout,
            }),
        }
    }

    fn waker(&self) -> Option<Box<dyn Fn() + Send>> {
        let c = self.canceller.clone();
        Some(Box::new(move || c.cancel()))
    }
}

/// A running tail as JavaScript holds it.
#[napi]
pub struct NativeTail {
    pulls: Option<mpsc::Sender<u32>>,
    cancel: Arc<AtomicBool>,
    waker: Option<Box<dyn Fn() + Send>>,
    /// Dropped at `cancel`: the function (and what it closes over) is a GC root while held.
    on_batch: Option<ThreadsafeFunction<String, ErrorStrategy::Fatal>>,
}

/// Starts the worker thread of a tail.
pub(crate) fn start(
    env: &Env,
    mut source: Box<dyn Source>,
    args: TailArgs,
    mut on_batch: ThreadsafeFunction<String, ErrorStrategy::Fatal>,
) -> napi::Result<NativeTail> {
    // A tail keeps the process alive only while a batch is awaited (`pull` refers, `idle` lets go).
    on_batch.unref(env)?;
    let max = args
        .max
        .map(|m| js_u64(m, "max"))
        .transpose()
        .map_err(to_napi)?;
    let timeout = args
        .timeout_ms
        .map(|t| js_u64(t, "timeoutMs").map(Duration::from_millis))
        .transpose()
        .map_err(to_napi)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<u32>();
    let mut worker = Worker {
        tags: args.tags.unwrap_or_default(),
        max,
        timeout,
        delivered: 0,
        last_activity: Instant::now(),
        cancel: Arc::clone(&cancel),
    };
    // The source moves into the thread: take its waker first.
    let waker = source.waker();
    let cb = on_batch.clone();
    std::thread::Builder::new()
        .name("plasmite-tail".into())
        .spawn(move || {
            while let Ok(n) = rx.recv() {
                let (text, done) = worker.batch(source.as_mut(), n);
                if worker.cancel.load(Ordering::SeqCst) {
                    break;
                }
                cb.call(text, ThreadsafeFunctionCallMode::NonBlocking);
                if done {
                    break;
                }
            }
        })
        .map_err(|e| to_napi(plasmite::Error::io("cannot start the tail's thread", e)))?;
    Ok(NativeTail {
        pulls: Some(tx),
        cancel,
        waker,
        on_batch: Some(on_batch),
    })
}

#[napi]
impl NativeTail {
    /// Asks the worker for the next batch (at most `max` items).
    #[napi]
    pub fn pull(&mut self, env: Env, max: u32) -> napi::Result<()> {
        let n = max.clamp(1, limits::TAIL_BATCH_MESSAGES_MAX);
        if let (Some(tx), Some(f)) = (&self.pulls, &mut self.on_batch) {
            // Keep the process alive while a batch is awaited (a tail waiting for another process's
            // messages is real work); `idle` lets it go again.
            f.refer(&env)?;
            if tx.send(n).is_err() {
                f.unref(&env)?;
            }
        }
        Ok(())
    }

    /// Says no batch is awaited: the tail no longer keeps the process alive.
    #[napi]
    pub fn idle(&mut self, env: Env) -> napi::Result<()> {
        match &mut self.on_batch {
            Some(f) => f.unref(&env),
            None => Ok(()),
        }
    }

    /// Cancels the tail: nothing is delivered after this; a pending wait returns promptly.
    #[napi]
    pub fn cancel(&mut self, env: Env) -> napi::Result<()> {
        self.cancel.store(true, Ordering::SeqCst);
        self.pulls = None;
        // Taken, not borrowed: the waker holds the pool (a local tail's canceller maps it), and a
        // cancelled tail must not keep it until the garbage collector runs (a `deletePool` after the
        // tail ended would be Busy meanwhile).
        if let Some(w) = self.waker.take() {
            w();
        }
        if let Some(mut f) = self.on_batch.take() {
            f.unref(&env)?;
        }
        Ok(())
    }
}

impl Drop for NativeTail {
    /// A tail collected without `cancel` stops its worker too (its channel closes; a wait is woken).
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        if let Some(w) = &self.waker {
            w();
        }
    }
}

struct Worker {
    tags: Vec<String>,
    max: Option<u64>,
    timeout: Option<Duration>,
    delivered: u64,
    last_activity: Instant,
    cancel: Arc<AtomicBool>,
}

impl Worker {
    /// Reads one batch of at most `n` items; returns its JSON text and whether the tail is over.
    fn batch(&mut self, source: &mut dyn Source, n: u32) -> (String, bool) {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"{\"items\":[");
        let mut items = 0u32;
        let mut end: Option<&str> = None;
        let mut error = None;
        // The timeout counts the time the reader waits: from this pull (or the last message) on,
        // not the time JavaScript spent before asking again.
        self.last_activity = Instant::now();
        while items < n && out.len() < limits::TAIL_BATCH_BYTES_MAX {
            if self.max.is_some_and(|m| self.delivered >= m) {
                end = Some("max");
                break;
            }
            if self.cancel.load(Ordering::SeqCst) {
                end = Some("cancelled");
                break;
            }
            let until = self.timeout.map(|t| self.last_activity + t);
            let mark = out.len();
            if items > 0 {
                out.push(b',');
            }
            match source.step(until, items == 0, &self.tags, &mut out) {
                Ok(Step::Wrote) => {
                    items += 1;
                    self.delivered += 1;
                    self.last_activity = Instant::now();
                }
                Ok(Step::Lost(lost)) => {
                    out.extend_from_slice(format!("{{\"lost\":{lost}}}").as_bytes());
                    items += 1;
                }
                Ok(Step::Skipped) => out.truncate(mark),
                Ok(Step::CaughtUp) => {
                    out.truncate(mark);
                    if items > 0 {
                        break;
                    }
                }
                Ok(Step::Timeout) => {
                    out.truncate(mark);
                    end = Some("timeout");
                    break;
                }
                Ok(Step::Cancelled) => {
                    out.truncate(mark);
                    end = Some("cancelled");
                    break;
                }
                Err(e) => {
                    out.truncate(mark);
                    error = Some(e);
                    break;
                }
            }
        }
        if end.is_none() && error.is_none() && self.max.is_some_and(|m| self.delivered >= m) {
            end = Some("max");
        }
        out.extend_from_slice(b"],\"end\":");
        match end {
            Some(e) => {
                out.push(b'"');
                out.extend_from_slice(e.as_bytes());
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"error\":");
        match &error {
            Some(e) => out.extend_from_slice(e.to_json().to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        let done = end.is_some() || error.is_some();
        let text = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        (text, done)
    }
}
