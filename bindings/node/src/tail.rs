//! `NativeTail`: a tail whose waits run on a worker thread of its own, never on the event loop (nor on
//! libuv's thread pool, which a few waiting tails would exhaust).
//!
//! Protocol with `index.js`: JavaScript calls `pull(max)`; the worker reads up to `max` events (waiting
//! for the first, then taking only what is already there) and calls the batch callback once with
//! `{"items":[ENVELOPE | {"lost":N}, ..],"end":null|"max"|"timeout"|"cancelled","error":ENVELOPE|null}`.
//! The worker reads only after a pull, so a slow consumer is never buffered for (backpressure). The
//! `max`, `timeout` and tag filters are applied here, the same way for local and remote pools.
//! After `cancel()` the worker delivers nothing more; `index.js` also drops any batch in flight.
//!
//! Events come from the core's `PoolTail` of either door (`Source`). The worker waits with
//! `PoolTail::next_ref_until` (its own timeout decides the end, counted from the pull), and a
//! cancellation wakes a wait through the tail's `TailCanceller` (`Wake`). A remote `PoolTail` reads
//! ahead into a queue; `batch: 1` on a remote pool instead makes one `PoolTail` of `max: 1` per
//! message, when it is read, so nothing is read ahead of the loop (see `Source`).

use crate::error::{js_u64, to_napi};
use crate::limits;
use napi::threadsafe_function::{ErrorStrategy, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi_derive::napi;
use plasmite::api::{
    EventRef, GapPolicy, MessageView, PoolHandle, PoolTail, TailCanceller, TailEnd, TailOptions,
    TailStart,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
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
    /// `"continue"` (the default) or `"error"`: see `GapPolicy`.
    pub gap_policy: Option<String>,
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

/// Whether a message's tags include every wanted tag.
fn has_tags<'a, I: Iterator<Item = &'a str>>(have: impl Fn() -> I, want: &[String]) -> bool {
    want.iter().all(|w| have().any(|h| h == w))
}

/// Wakes the current core tail's wait from another thread once the cancel flag is set (the core
/// tail is replaced per message in `exact` mode, so the canceller is kept in a slot).
pub(crate) struct Wake {
    flag: Arc<AtomicBool>,
    current: Mutex<Option<TailCanceller>>,
}

impl Wake {
    fn set(&self, c: TailCanceller) {
        let mut slot = self.current.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock: a `wake` either ran before (the flag is set) or will see `c`.
        if self.flag.load(Ordering::SeqCst) {
            c.cancel();
        }
        *slot = Some(c);
    }

    fn wake(&self) {
        let slot = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref() {
            c.cancel();
        }
    }
}

/// Where a tail's events come from: the core tail of a local or remote pool.
pub(crate) struct Source {
    pool: PoolHandle,
    /// `None` between the per-message tails of `exact` mode (made when read).
    tail: Option<PoolTail>,
    /// `batch: 1` on a remote pool: a remote `PoolTail` reads ahead (its stream's socket and its
    /// queue hold what the server already sent), so each message is read by a `PoolTail` of its
    /// own (`max: 1`, whose follower stops after it), made when the loop asks, from `resume`: the
    /// pool is seen as it is then, and messages evicted meanwhile are lost, as a local tail sees them.
    exact: bool,
    resume: u64,
    gap_policy: GapPolicy,
    wake: Arc<Wake>,
}

/// A source over a pool of either door; its live edge is taken now.
pub(crate) fn source(pool: &PoolHandle, args: &TailArgs) -> plasmite::Result<Source> {
    // The live edge is pinned now (a remote tail asks the server), so a message appended after
    // `pool.tail()` returns is delivered by either door.
    let since = match args.since_seq {
        Some(s) => js_u64(s, "sinceSeq")?,
        None => pool.edge_seq()?,
    };
    let gap_policy = match args.gap_policy.as_deref() {
        None => GapPolicy::Continue,
        Some(name) => GapPolicy::from_name(name).ok_or_else(|| {
            plasmite::Error::usage(format!(
                "gapPolicy must be one of {:?}, got {name:?}",
                GapPolicy::NAMES
            ))
        })?,
    };
    let wake = Arc::new(Wake {
        flag: Arc::new(AtomicBool::new(false)),
        current: Mutex::new(None),
    });
    let exact = pool.is_remote() && args.batch == Some(1.0);
    let tail = if exact {
        None
    } else {
        let tail = pool.tail(TailOptions {
            start: TailStart::Since(since),
            gap_policy,
            ..TailOptions::default()
        })?;
        wake.set(tail.canceller());
        Some(tail)
    };
    Ok(Source {
        pool: pool.clone(),
        tail,
        exact,
        resume: since,
        gap_policy,
        wake,
    })
}

impl Source {
    /// The next event, waiting until `until` (for ever when `None`) when `block`; a message is
    /// written to `out` only when it carries every tag of `tags`.
    fn step(
        &mut self,
        until: Option<Instant>,
        block: bool,
        tags: &[String],
        out: &mut Vec<u8>,
    ) -> plasmite::Result<Step> {
        let tail = match &mut self.tail {
            Some(t) => t,
            None => {
                let t = self.pool.tail(TailOptions {
                    start: TailStart::Since(self.resume),
                    max: Some(1),
                    // Its follower (and its stream) ends with the wait, not later.
                    deadline: until,
                    gap_policy: self.gap_policy,
                    ..TailOptions::default()
                })?;
                self.wake.set(t.canceller());
                self.tail.insert(t)
            }
        };
        let ev = match (block, until) {
            (false, _) => tail.try_next_ref(),
            (true, None) => tail.next_ref(),
            (true, Some(u)) => tail.next_ref_until(u),
        };
        let step = match ev {
            Some(Ok(EventRef::Message(m))) => {
                self.resume = m.seq() + 1;
                if has_tags(|| m.tags(), tags) {
                    match m {
                        MessageView::Frame(f) => f.write_json(out),
                        MessageView::Owned(o) => o.write_json(out),
                    }
                    Step::Wrote
                } else {
                    Step::Skipped
                }
            }
            Some(Ok(EventRef::Dropped { lost })) => {
                self.resume = tail.next_seq().unwrap_or(self.resume);
                Step::Lost(lost)
            }
            Some(Err(e)) => return Err(e),
            None => match tail.end() {
                None if until.is_some_and(|u| Instant::now() >= u) => Step::Timeout,
                None => Step::CaughtUp,
                Some(TailEnd::Cancelled) => Step::Cancelled,
                Some(TailEnd::Timeout | TailEnd::Max) => Step::Timeout,
            },
        };
        if self.exact && matches!(step, Step::Wrote | Step::Skipped | Step::Lost(_)) {
            // The next read makes a new tail from `resume`.
            self.tail = None;
        }
        Ok(step)
    }
}

/// A running tail as JavaScript holds it.
#[napi]
pub struct NativeTail {
    pulls: Option<mpsc::Sender<u32>>,
    cancel: Arc<AtomicBool>,
    waker: Option<Arc<Wake>>,
    /// Dropped at `cancel`: the function (and what it closes over) is a GC root while held.
    on_batch: Option<ThreadsafeFunction<String, ErrorStrategy::Fatal>>,
}

/// Starts the worker thread of a tail.
pub(crate) fn start(
    env: &Env,
    mut source: Source,
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
    let cancel = Arc::clone(&source.wake.flag);
    let (tx, rx) = mpsc::channel::<u32>();
    let mut worker = Worker {
        tags: args.tags.unwrap_or_default(),
        max,
        timeout,
        delivered: 0,
        last_activity: Instant::now(),
        cancel: Arc::clone(&cancel),
    };
    // The source moves into the thread: keep its waker first.
    let waker = Some(Arc::clone(&source.wake));
    let cb = on_batch.clone();
    std::thread::Builder::new()
        .name("plasmite-tail".into())
        .spawn(move || {
            while let Ok(n) = rx.recv() {
                let (text, done) = worker.batch(&mut source, n);
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
            w.wake();
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
            w.wake();
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
    fn batch(&mut self, source: &mut Source, n: u32) -> (String, bool) {
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
