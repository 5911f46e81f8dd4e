//! `plsm_stream_t`: a tail over a pool, with a tag filter, a message budget (`max`), a per-call
//! timeout, and cancellation from any thread.
//!
//! Invariants:
//! - Only `plsm_stream_next` touches the stream's state (`inner`), and the header's contract is that
//!   one thread at a time calls it (as for any C stream object). No lock guards `inner`: an
//!   uncontended mutex was a sixth of the cost of a `next` in the benchmark.
//! - `plsm_stream_cancel` touches only `shared`: it sets the flag and cancels the current Rust tail,
//!   whose wait returns promptly. `next` checks the flag before delivering, so once cancellation is
//!   observed no message is delivered.
//! - A timeout ends the current Rust tail; `next` replaces it by one starting at the seq the old one
//!   would have delivered next, so a timeout loses nothing. The replacement's canceller is installed
//!   under the same lock `cancel` takes, and the flag is checked after, so no cancel is lost.

use super::error::{guard, plsm_error_t};
use super::ffi::{check_out, tags_arg, write_out};
use super::message::{plsm_message_t, MessageBlock};
use super::pool::{plsm_pool_t, pool_arg};
use plasmite::api::{Canceller, Pool, Tail, TailEnd, TailEventRef, TailOptions, TailStart};
use plasmite::{Error, ErrorKind};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const EVENT_MESSAGE: i32 = 1;
pub const EVENT_LOST: i32 = 2;
pub const EVENT_TIMEOUT: i32 = 3;
pub const EVENT_END: i32 = 4;
pub const EVENT_CANCELLED: i32 = 5;

/// Layout of `plsm_tail_options_t` (ABI 0.1).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct plsm_tail_options_t {
    pub struct_size: u32,
    pub flags: u32,
    pub since_seq: u64,
    pub max: u64,
    pub timeout_ms: u64,
    pub tags: *const *const std::ffi::c_char,
    pub tag_count: usize,
}

#[derive(Debug)]
struct Shared {
    cancelled: AtomicBool,
    canceller: Mutex<Canceller>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    tail: Tail,
    tags: Vec<String>,
    max: Option<u64>,
    timeout: Option<Duration>,
    delivered: u64,
    /// A terminal event (END or CANCELLED) every later call returns.
    done: Option<i32>,
    msg: MessageBlock,
}

/// A tail (opaque to C).
#[derive(Debug)]
pub struct plsm_stream_t {
    shared: Arc<Shared>,
    inner: UnsafeCell<Inner>,
}

/// Checked tail options.
struct Config {
    start: TailStart,
    max: Option<u64>,
    timeout: Option<Duration>,
    tags: Vec<String>,
}

/// The options C passed, checked (NULL means all defaults).
///
/// # Safety
/// `opts` is NULL or points to `opts.struct_size` readable bytes.
unsafe fn options_arg(opts: *const plsm_tail_options_t) -> Result<Config, Error> {
    if opts.is_null() {
        return Ok(Config {
            start: TailStart::Edge,
            max: None,
            timeout: None,
            tags: Vec::new(),
        });
    }
    // SAFETY: non-null; the first field of every version is the u32 struct_size.
    let size = unsafe { opts.cast::<u32>().read_unaligned() } as usize;
    let ours = std::mem::size_of::<plsm_tail_options_t>();
    if size < ours {
        return Err(Error::usage(format!(
            "plsm_tail_options_t.struct_size is {size}, at least {ours} expected"
        ))
        .with_hint("set struct_size = sizeof(plsm_tail_options_t)"));
    }
    // SAFETY: at least `ours` readable bytes (struct_size >= ours, contract).
    let o = unsafe { opts.read_unaligned() };
    // SAFETY: the caller's struct is `size` readable bytes; fields we do not know must be zero.
    let extra = unsafe { std::slice::from_raw_parts(opts.cast::<u8>().add(ours), size - ours) };
    if extra.iter().any(|&b| b != 0) || o.flags != 0 {
        return Err(Error::usage(
            "plsm_tail_options_t sets fields or flags this library does not know",
        )
        .with_hint("link a newer libplasmite, or leave the new fields zero"));
    }
    // SAFETY: forwarded contract for the tag array.
    let tags = unsafe { tags_arg(o.tags, o.tag_count, "opts.tags") }?;
    let start = match o.since_seq {
        0 => TailStart::Edge,
        s => TailStart::Since(s),
    };
    Ok(Config {
        start,
        max: (o.max > 0).then_some(o.max),
        timeout: (o.timeout_ms > 0).then(|| Duration::from_millis(o.timeout_ms)),
        tags: tags.into_iter().map(str::to_owned).collect(),
    })
}

/// Starts a tail.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_pool_tail(
    pool: *const plsm_pool_t,
    opts: *const plsm_tail_options_t,
    out: *mut *mut plsm_stream_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(out, "out")?;
        // SAFETY: forwarded contract for each argument.
        let (p, cfg) = unsafe { (pool_arg(pool)?, options_arg(opts)?) };
        let tail = p.tail(TailOptions {
            start: cfg.start,
            ..TailOptions::default()
        })?;
        let shared = Arc::new(Shared {
            cancelled: AtomicBool::new(false),
            canceller: Mutex::new(tail.canceller()),
        });
        let s = Box::new(plsm_stream_t {
            shared,
            inner: UnsafeCell::new(Inner {
                pool: p.clone(),
                tail,
                tags: cfg.tags,
                max: cfg.max,
                timeout: cfg.timeout,
                delivered: 0,
                done: None,
                msg: MessageBlock::new(),
            }),
        });
        // SAFETY: `out` checked non-null above.
        unsafe { write_out(out, Box::into_raw(s)) };
        Ok(())
    })
}

/// What one `next` produced.
enum Next {
    Message,
    Lost(u64),
    Event(i32),
}

impl Inner {
    fn next(&mut self, shared: &Shared) -> Result<Next, Error> {
        if let Some(ev) = self.done {
            return Ok(Next::Event(ev));
        }
        if shared.cancelled.load(Ordering::SeqCst) {
            return Ok(self.finish(EVENT_CANCELLED));
        }
        if self.max.is_some_and(|m| self.delivered >= m) {
            return Ok(self.finish(EVENT_END));
        }
        self.tail
            .set_deadline(self.timeout.map(|t| Instant::now() + t));
        loop {
            match self.tail.next_ref() {
                Some(Ok(TailEventRef::Message(m))) => {
                    let tags = &self.tags;
                    if !tags.iter().all(|want| m.tags().any(|t| t == want)) {
                        continue;
                    }
                    self.msg.fill(m.seq(), m.time_ns(), m.tags(), m.data());
                    self.delivered += 1;
                    return Ok(Next::Message);
                }
                Some(Ok(TailEventRef::Dropped { lost })) => return Ok(Next::Lost(lost)),
                Some(Err(e)) => return Err(e),
                None => break,
            }
        }
        match self.tail.end() {
            Some(TailEnd::Cancelled) => Ok(self.finish(EVENT_CANCELLED)),
            Some(TailEnd::Timeout) => {
                self.restart(shared)?;
                Ok(Next::Event(EVENT_TIMEOUT))
            }
            other => Err(Error::new(
                ErrorKind::Internal,
                format!("tail ended unexpectedly ({other:?})"),
            )),
        }
    }

    fn finish(&mut self, ev: i32) -> Next {
        self.done = Some(ev);
        Next::Event(ev)
    }

    /// Replaces the ended Rust tail by one resuming where it stopped.
    fn restart(&mut self, shared: &Shared) -> Result<(), Error> {
        let tail = self.pool.tail(TailOptions {
            start: TailStart::Since(self.tail.next_seq()),
            ..TailOptions::default()
        })?;
        let mut c = shared
            .canceller
            .lock()
            .map_err(|_| Error::new(ErrorKind::Internal, "stream state poisoned"))?;
        *c = tail.canceller();
        self.tail = tail;
        if shared.cancelled.load(Ordering::SeqCst) {
            c.cancel();
        }
        Ok(())
    }
}

/// Waits for the next event.
///
/// # Safety
/// Pointer arguments as the header says; `stream` is not freed during the call.
#[no_mangle]
pub unsafe extern "C" fn plsm_stream_next(
    stream: *mut plsm_stream_t,
    out_event: *mut i32,
    out_msg: *mut *const plsm_message_t,
    out_lost: *mut u64,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(stream, "stream")?;
        check_out(out_event, "out_event")?;
        // SAFETY: non-null live stream; only shared references are made (cancel may run concurrently).
        let s = unsafe { &*stream };
        // SAFETY: only `next` touches `inner`, and the header's contract is that no two threads call
        // `next` on one stream at once, so this is the only reference to it for the call.
        let inner = unsafe { &mut *s.inner.get() };
        let (event, lost) = match inner.next(&s.shared)? {
            Next::Message => (EVENT_MESSAGE, 0),
            Next::Lost(n) => (EVENT_LOST, n),
            Next::Event(ev) => (ev, 0),
        };
        // SAFETY: out_event checked non-null; out_msg and out_lost are NULL or writable (contract).
        unsafe {
            write_out(out_event, event);
            if !out_msg.is_null() {
                let m = if event == EVENT_MESSAGE {
                    inner.msg.public()
                } else {
                    std::ptr::null()
                };
                write_out(out_msg, m);
            }
            if !out_lost.is_null() {
                write_out(out_lost, lost);
            }
        }
        Ok(())
    })
}

/// Cancels a stream from any thread; NULL is fine.
///
/// # Safety
/// `stream` is NULL or a live stream (not freed before this returns).
#[no_mangle]
pub unsafe extern "C" fn plsm_stream_cancel(stream: *mut plsm_stream_t) {
    if stream.is_null() {
        return;
    }
    // SAFETY: non-null live stream; only `shared` is touched, through a shared reference.
    let shared = unsafe { &(*stream).shared };
    shared.cancelled.store(true, Ordering::SeqCst);
    if let Ok(c) = shared.canceller.lock() {
        c.cancel();
    }
}

/// Frees a stream; NULL is fine.
///
/// # Safety
/// `stream` is NULL or a live stream that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn plsm_stream_free(stream: *mut plsm_stream_t) {
    if !stream.is_null() {
        // SAFETY: a Box leaked by plsm_pool_tail, freed once (contract).
        drop(unsafe { Box::from_raw(stream) });
    }
}
