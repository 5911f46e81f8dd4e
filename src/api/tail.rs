//! Tails: blocking streams of messages in seq order, from the live edge, from a seq, the last N, or
//! from a time; with an optional count, idle timeout, deadline and cancellation from another thread.
//!
//! A tail buffers exactly one message (its read buffer): it never reads ahead, so a slow consumer only
//! falls behind, and if writers lap it, it reports how many messages it lost and carries on from the
//! oldest ([`GapPolicy::Continue`]), or ends with a `RetentionGap` error naming the first missing seq
//! before delivering anything after the gap ([`GapPolicy::Error`]). Gaps are seen on the raw frames,
//! before any filter a caller applies. Once cancellation is observed, nothing more is delivered. A
//! tail waiting for messages checks every `TAIL_FILE_CHECK_INTERVAL` that its pool file is still
//! linked at its path; when it was deleted or replaced, the tail yields one `NotFound` error naming
//! the path and ends.

use super::message::{Message, MessageRef};
use super::pool::{read_error, state_error, Pool};
use crate::error::Result;
use crate::pool::reader::{self, Cursor, FrameBuf, ReadError, Step, View};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a tail starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TailStart {
    /// Only messages appended after the tail starts.
    #[default]
    Edge,
    /// From this seq, inclusive (from the oldest if it was evicted; the gap is reported).
    Since(u64),
    /// The last N messages, then new ones.
    Last(u64),
    /// The first message committed at or after this time (ns since the epoch).
    SinceTime(u64),
}

/// What a tail does when messages it has not read were evicted (it was lapped, or it started at a
/// seq older than the oldest held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GapPolicy {
    /// Report the gap ([`TailEvent::Dropped`]) and carry on from the oldest message.
    #[default]
    Continue,
    /// End the tail with an error of kind `RetentionGap` (its `seq` the first missing seq, its
    /// `lost` how many), before any later message; the tail then reports [`TailEnd::Cancelled`].
    Error,
}

impl GapPolicy {
    /// The names used by the CLI (`--on-gap`) and the HTTP protocol (`gap_policy=`).
    pub const NAMES: [&'static str; 2] = ["continue", "error"];

    /// Parses a name of [`GapPolicy::NAMES`].
    pub fn from_name(name: &str) -> Option<GapPolicy> {
        match name {
            "continue" => Some(GapPolicy::Continue),
            "error" => Some(GapPolicy::Error),
            _ => None,
        }
    }
}

/// Options of a tail.
#[derive(Debug, Clone, Copy, Default)]
pub struct TailOptions {
    /// An external flag (e.g. set by a signal handler) that cancels the tail like [`Canceller::cancel`].
    pub interrupt: Option<&'static AtomicBool>,
    pub start: TailStart,
    /// Stop after this many messages.
    pub max: Option<u64>,
    /// Stop when no message arrives for this long.
    pub idle_timeout: Option<Duration>,
    /// Stop at this instant.
    pub deadline: Option<Instant>,
    /// Carry on after a gap (the default) or end with a `RetentionGap` error.
    pub gap_policy: GapPolicy,
}

/// What a tail yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailEvent {
    /// The next message.
    Message(Message),
    /// `lost` messages were overwritten (or unreadable) before this tail could read them.
    Dropped { lost: u64 },
}

/// A borrowed event (no allocation per message).
#[derive(Debug, Clone, Copy)]
pub enum TailEventRef<'a> {
    Message(MessageRef<'a>),
    Dropped { lost: u64 },
}

/// Why a tail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailEnd {
    /// `max` messages were delivered.
    Max,
    /// Nothing arrived within the idle timeout, or the deadline passed.
    Timeout,
    /// [`Canceller::cancel`] was called, or the tail ended on an error (a `RetentionGap`).
    Cancelled,
}

/// Cancels a tail from any thread; the tail's pending wait returns promptly.
#[derive(Debug, Clone)]
pub struct Canceller {
    flag: Arc<AtomicBool>,
    pool: Pool,
}

impl Canceller {
    /// Stops the tail: no message is delivered after the tail observes this.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.pool.inner.file.region().wake_all();
    }
}

/// A blocking stream of messages. Iterate it, or call [`Tail::next_ref`] for zero-copy access.
#[derive(Debug)]
pub struct Tail {
    pool: Pool,
    cur: Cursor,
    view: View,
    buf: FrameBuf,
    opts: TailOptions,
    delivered: u64,
    last_activity: Instant,
    cancel: Arc<AtomicBool>,
    pending_skip: bool,
    /// A gap found at the start: (first missing seq, lost).
    pending_drop: Option<(u64, u64)>,
    /// Messages below this seq are skipped (a `Since` beyond the current newest).
    min_seq: u64,
    ended: Option<TailEnd>,
    /// When the pool file was last seen linked at its path (checked while waiting).
    file_checked: Instant,
    /// The pool file was deleted or replaced: the error was yielded, nothing more comes.
    gone: bool,
}

/// Whether a waiting tail is due to check its file again.
fn file_check_due(last: Instant, now: Instant) -> bool {
    now.saturating_duration_since(last) >= crate::limits::TAIL_FILE_CHECK_INTERVAL
}

impl Tail {
    pub(crate) fn new(pool: Pool, opts: TailOptions) -> Result<Tail> {
        let region = pool.inner.file.region();
        let mut view = View::load(region).map_err(state_error)?;
        let mut pending_drop = None;
        let cur = match opts.start {
            TailStart::Edge => view.edge(),
            TailStart::Last(n) => {
                let seq = view
                    .state
                    .next_seq
                    .saturating_sub(n)
                    .max(view.state.oldest_seq);
                locate_or_oldest(&pool, &mut view, seq)?
            }
            TailStart::Since(seq) => {
                if seq < view.state.oldest_seq {
                    let first = seq.max(1);
                    pending_drop = Some((first, view.state.oldest_seq - first)).filter(|d| d.1 > 0);
                    view.oldest()
                } else if seq >= view.state.next_seq {
                    view.edge()
                } else {
                    locate_or_oldest(&pool, &mut view, seq)?
                }
            }
            TailStart::SinceTime(t) => reader::seek_time(region, t).map_err(read_error)?,
        };
        Ok(Tail {
            pool,
            cur,
            view,
            buf: FrameBuf::default(),
            opts,
            delivered: 0,
            last_activity: Instant::now(),
            cancel: Arc::new(AtomicBool::new(false)),
            pending_skip: false,
            pending_drop,
            min_seq: match opts.start {
                TailStart::Since(s) => s,
                _ => 0,
            },
            ended: None,
            file_checked: Instant::now(),
            gone: false,
        })
    }

    /// A handle that cancels this tail from another thread.
    pub fn canceller(&self) -> Canceller {
        Canceller {
            flag: Arc::clone(&self.cancel),
            pool: self.pool.clone(),
        }
    }

    /// Why the tail ended, once it has.
    pub fn end(&self) -> Option<TailEnd> {
        self.ended
    }

    /// The gap found at the start, before anything was read: (first missing seq, how many), when the
    /// tail starts at a seq older than the oldest held.
    pub fn start_gap(&self) -> Option<(u64, u64)> {
        self.pending_drop
    }

    /// The seq the tail will deliver next (resume point for reconnects).
    pub fn next_seq(&self) -> u64 {
        self.cur.seq
    }

    /// Replaces the deadline (e.g. to restart a timeout after a message the caller kept).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.opts.deadline = deadline;
    }

    /// The next event without copying the message out; `None` when the tail ended (see [`Tail::end`]).
    pub fn next_ref(&mut self) -> Option<Result<TailEventRef<'_>>> {
        self.next_ref_inner(true, None)
    }

    /// Like [`Tail::next_ref`] but never waits: `None` with [`Tail::end`] still `None` means "caught up".
    pub fn try_next_ref(&mut self) -> Option<Result<TailEventRef<'_>>> {
        self.next_ref_inner(false, None)
    }

    /// Like [`Tail::next_ref`] but waits only until `until`: `None` with [`Tail::end`] still `None`
    /// means nothing came by then, and the tail goes on (unlike a deadline, which ends it). For
    /// callers that wait in slices (to look at signals between them) without restarting the tail.
    pub fn next_ref_until(&mut self, until: Instant) -> Option<Result<TailEventRef<'_>>> {
        self.next_ref_inner(true, Some(until))
    }

    fn next_ref_inner(
        &mut self,
        block: bool,
        until: Option<Instant>,
    ) -> Option<Result<TailEventRef<'_>>> {
        match self.advance(block, until)? {
            Ok(Some(lost)) => Some(Ok(TailEventRef::Dropped { lost })),
            Ok(None) => Some(Ok(TailEventRef::Message(MessageRef(&self.buf)))),
            Err(e) => Some(Err(e)),
        }
    }

    /// Moves to the next event: `Ok(None)` = a message is in `buf`, `Ok(Some(n))` = n dropped.
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
            || self
                .opts
                .interrupt
                .is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// `until`: the caller's own limit on this wait (the tail does not end when it passes).
    fn advance(&mut self, block: bool, until: Option<Instant>) -> Option<Result<Option<u64>>> {
        let region = self.pool.inner.file.region();
        loop {
            if self.ended.is_some() || self.gone {
                return None;
            }
            if self.cancelled() {
                self.ended = Some(TailEnd::Cancelled);
                return None;
            }
            if let Some((first, lost)) = self.pending_drop.take() {
                return Some(self.gap(first, lost));
            }
            if self.opts.max.is_some_and(|m| self.delivered >= m) {
                self.ended = Some(TailEnd::Max);
                return None;
            }
            if self.pending_skip {
                self.pending_skip = false;
                match reader::skip_corrupt(region, &mut self.cur, &mut self.view) {
                    Ok(lost) if lost > 0 => return Some(Ok(Some(lost))),
                    Ok(_) => {}
                    Err(e) => return Some(Err(read_error(e))),
                }
            }
            let seen = region.notify_value();
            match reader::read_next(region, &mut self.cur, &mut self.view, &mut self.buf) {
                Ok(Step::Frame) if self.buf.seq() < self.min_seq => continue,
                Ok(Step::Frame) => {
                    self.delivered += 1;
                    if self.opts.idle_timeout.is_some() {
                        self.last_activity = Instant::now();
                    }
                    return Some(Ok(None));
                }
                // The cursor now points at the oldest message: the gap is just below it.
                Ok(Step::Lapped { lost }) => {
                    return Some(self.gap(self.cur.seq.saturating_sub(lost), lost))
                }
                Ok(Step::CaughtUp) => {}
                Err(e @ ReadError::Corrupt { .. }) => {
                    self.pending_skip = true;
                    return Some(Err(read_error(e)));
                }
                Err(e) => return Some(Err(read_error(e))),
            }
            if !block {
                return None;
            }
            let now = Instant::now();
            if file_check_due(self.file_checked, now) {
                self.file_checked = now;
                if let Err(e) = self.pool.inner.file.check_linked(true) {
                    // Nothing will ever be appended to an unlinked file: say so and end.
                    self.gone = true;
                    return Some(Err(e));
                }
            }
            let Some(mut wait) = self.wait_budget() else {
                self.ended = Some(TailEnd::Timeout);
                return None;
            };
            if let Some(u) = until {
                match u.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => wait = wait.min(left),
                    _ => return None,
                }
            }
            let version = self.view.version;
            let (cancel, interrupt) = (&self.cancel, self.opts.interrupt);
            region.wait(seen, wait, || {
                cancel.load(Ordering::SeqCst)
                    || interrupt.is_some_and(|f| f.load(Ordering::SeqCst))
                    || region.version_after_copy() != version
            });
        }
    }

    /// A gap of `lost` messages from `first`: a drop event, or the end of the tail with an error.
    fn gap(&mut self, first: u64, lost: u64) -> Result<Option<u64>> {
        match self.opts.gap_policy {
            GapPolicy::Continue => Ok(Some(lost)),
            GapPolicy::Error => {
                self.ended = Some(TailEnd::Cancelled);
                Err(crate::error::Error::retention_gap(first, lost))
            }
        }
    }

    /// How long the next sleep may last; `None` when a timeout or the deadline has passed.
    fn wait_budget(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut budget = crate::limits::WAIT_SLICE;
        if let Some(t) = self.opts.idle_timeout {
            let left = (self.last_activity + t).checked_duration_since(now)?;
            budget = budget.min(left);
        }
        if let Some(d) = self.opts.deadline {
            budget = budget.min(d.checked_duration_since(now)?);
        }
        (!budget.is_zero()).then_some(budget)
    }
}

/// The cursor of `seq`, or of the oldest message if `seq` was evicted meanwhile or cannot be reached
/// (damage): a tail reports corruption in its stream when it reads it, never at its start.
fn locate_or_oldest(pool: &Pool, view: &mut View, seq: u64) -> Result<Cursor> {
    match reader::locate_stable(pool.inner.file.region(), view, seq) {
        Ok(Some(c)) => Ok(c),
        Ok(None) | Err(ReadError::Corrupt { .. }) => Ok(view.oldest()),
        Err(e) => Err(read_error(e)),
    }
}

impl Iterator for Tail {
    type Item = Result<TailEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.advance(true, None)? {
            Ok(Some(lost)) => Ok(TailEvent::Dropped { lost }),
            Ok(None) => Ok(TailEvent::Message(Message::from_frame(&self.buf))),
            Err(e) => Err(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_tail_checks_its_file_once_the_interval_has_passed() {
        let t0 = Instant::now();
        let i = crate::limits::TAIL_FILE_CHECK_INTERVAL;
        assert!(!file_check_due(t0, t0));
        assert!(!file_check_due(t0, t0 + i - Duration::from_nanos(1)));
        assert!(file_check_due(t0, t0 + i));
        assert!(
            !file_check_due(t0 + i, t0),
            "a clock read out of order is not due"
        );
    }
}
