//! [`PoolTail`]: one tail over either door, with the options of [`TailOptions`] and the events of a
//! local [`Tail`]: a message, `lost` N, an error (a `Corrupt` one is skipped and the tail goes on;
//! any other ends it), and the end (count reached, timeout, cancelled).
//!
//! A local tail waits on the pool's futex. A remote one is followed by a thread (`crate::remote::
//! Follow`, which resumes broken streams without duplicates) that hands events over a bounded
//! channel; the consumer waits on the channel in slices of [`limits::TAIL_CANCEL_POLL`], so
//! cancellation and the interrupt flag are seen as quickly for both doors. `stop_after` (peek
//! `--no-follow`) ends either tail once the seq that was newest when it started has been read.
//!
//! A remote tail's follower stops once it has handed over `max` messages (its stream closes then,
//! not when the server next writes). [`PoolTail::next_ref_until`] waits in slices without ending
//! the tail.

use super::handle::PoolHandle;
use super::message::{Message, MessageRef};
use super::tail::{Canceller, GapPolicy, Tail, TailEnd, TailEventRef, TailOptions, TailStart};
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
use crate::remote::{Event, Follow};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A message of either door, borrowed until the next call on the tail.
#[derive(Debug, Clone, Copy)]
pub enum MessageView<'a> {
    /// In a local tail's read buffer.
    Frame(MessageRef<'a>),
    /// Received from a server.
    Owned(&'a Message),
}

/// The tags of a [`MessageView`].
#[derive(Debug, Clone)]
pub enum Tags<'a, I> {
    Frame(I),
    Owned(std::slice::Iter<'a, String>),
}

impl<'a, I: Iterator<Item = &'a str>> Iterator for Tags<'a, I> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match self {
            Tags::Frame(i) => i.next(),
            Tags::Owned(i) => i.next().map(String::as_str),
        }
    }
}

impl<'a> MessageView<'a> {
    /// The seq.
    pub fn seq(&self) -> u64 {
        match self {
            MessageView::Frame(m) => m.seq(),
            MessageView::Owned(m) => m.seq,
        }
    }
    /// Commit time, ns since the Unix epoch.
    pub fn time_ns(&self) -> u64 {
        match self {
            MessageView::Frame(m) => m.time_ns(),
            MessageView::Owned(m) => m.time_ns,
        }
    }
    /// The tags, in order.
    pub fn tags(&self) -> Tags<'a, impl Iterator<Item = &'a str> + 'a> {
        match self {
            MessageView::Frame(m) => Tags::Frame(m.tags()),
            MessageView::Owned(m) => Tags::Owned(m.tags.iter()),
        }
    }
    /// Compact JSON text of the data.
    pub fn data(&self) -> &'a str {
        match self {
            MessageView::Frame(m) => m.data(),
            MessageView::Owned(m) => &m.data,
        }
    }
    /// An owned copy.
    pub fn to_message(&self) -> Message {
        match self {
            MessageView::Frame(m) => m.to_message(),
            MessageView::Owned(m) => (*m).clone(),
        }
    }
}

/// An event of a [`PoolTail`].
#[derive(Debug, Clone, Copy)]
pub enum EventRef<'a> {
    Message(MessageView<'a>),
    /// `lost` messages were overwritten before this tail could read them.
    Dropped {
        lost: u64,
    },
}

/// Cancels a [`PoolTail`] from another thread. `Send + Sync`.
#[derive(Debug, Clone)]
pub enum TailCanceller {
    Local(Canceller),
    Remote(Arc<AtomicBool>),
}

impl TailCanceller {
    /// Stops the tail: nothing is delivered after the tail observes this.
    pub fn cancel(&self) {
        match self {
            TailCanceller::Local(c) => c.cancel(),
            TailCanceller::Remote(f) => f.store(true, Ordering::SeqCst),
        }
    }
}

/// A tail of either door.
#[derive(Debug)]
pub struct PoolTail {
    door: Door,
    /// End once a message with this seq or above has been read (`--no-follow`).
    stop_after: Option<u64>,
    ended: Option<TailEnd>,
}

#[derive(Debug)]
enum Door {
    Local(Tail),
    Remote(RemoteTail),
}

impl PoolTail {
    pub(crate) fn new(pool: &PoolHandle, opts: TailOptions) -> Result<PoolTail> {
        let door = match pool {
            PoolHandle::Local(p) => Door::Local(p.tail(opts)?),
            PoolHandle::Remote(_) => Door::Remote(RemoteTail::new(pool, opts)?),
        };
        Ok(PoolTail {
            door,
            stop_after: None,
            ended: None,
        })
    }

    /// Ends the tail once it has read the message that is the newest now (without waiting for
    /// more); ends at once if the pool is empty. Messages before the tail's start are not read.
    pub fn stop_at_newest(&mut self, pool: &PoolHandle) -> Result<()> {
        let first = match &self.door {
            Door::Local(t) => Some(t.next_seq()),
            Door::Remote(r) => r.first,
        };
        match (pool.info()?.bounds, first) {
            (Some((_, newest)), Some(first)) if first <= newest => self.stop_after = Some(newest),
            // Empty, or starting past the newest (`--tail 0`, the live edge): nothing to read.
            _ => self.ended = Some(TailEnd::Max),
        }
        Ok(())
    }

    /// The seq the tail reads next (a local tail), or the seq the next message will have at least
    /// after the events taken so far (a remote one; `None` for a remote tail from the live edge
    /// until its first event, the server deciding where the edge is).
    pub fn next_seq(&self) -> Option<u64> {
        match &self.door {
            Door::Local(t) => Some(t.next_seq()),
            Door::Remote(r) => r.next,
        }
    }

    /// A gap known at the start of a local tail: (first missing seq, how many).
    pub fn start_gap(&self) -> Option<(u64, u64)> {
        match &self.door {
            Door::Local(t) => t.start_gap(),
            Door::Remote(_) => None,
        }
    }

    /// A handle that cancels this tail from another thread.
    pub fn canceller(&self) -> TailCanceller {
        match &self.door {
            Door::Local(t) => TailCanceller::Local(t.canceller()),
            Door::Remote(r) => TailCanceller::Remote(Arc::clone(&r.cancel)),
        }
    }

    /// Why the tail ended, once it has.
    pub fn end(&self) -> Option<TailEnd> {
        self.ended.or(match &self.door {
            Door::Local(t) => t.end(),
            Door::Remote(r) => r.ended,
        })
    }

    /// Replaces the deadline (e.g. to restart a timeout after a message the caller kept). A remote
    /// tail's stream already open keeps its length, so pass the first deadline in [`TailOptions`]:
    /// moving it later (pushing it back) is what this is for.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        match &mut self.door {
            Door::Local(t) => t.set_deadline(deadline),
            Door::Remote(r) => *r.deadline.lock().unwrap_or_else(|p| p.into_inner()) = deadline,
        }
    }

    /// The next event, waiting for one; `None` when the tail ended (see [`PoolTail::end`]).
    pub fn next_ref(&mut self) -> Option<Result<EventRef<'_>>> {
        self.next_inner(Wait::Forever)
    }

    /// Like [`PoolTail::next_ref`] but never waits: `None` with [`PoolTail::end`] still `None`
    /// means "caught up".
    pub fn try_next_ref(&mut self) -> Option<Result<EventRef<'_>>> {
        self.next_inner(Wait::Never)
    }

    /// Like [`PoolTail::next_ref`] but waits only until `until`: `None` with [`PoolTail::end`]
    /// still `None` means nothing came by then, and the tail goes on (a deadline would end it).
    /// For callers that wait in slices, e.g. to look at signals or their own timeouts in between.
    pub fn next_ref_until(&mut self, until: Instant) -> Option<Result<EventRef<'_>>> {
        self.next_inner(Wait::Until(until))
    }

    fn next_inner(&mut self, wait: Wait) -> Option<Result<EventRef<'_>>> {
        if self.ended.is_some() {
            return None;
        }
        let stop = self.stop_after;
        let ev = match &mut self.door {
            Door::Local(t) => {
                let ev = match wait {
                    Wait::Never => t.try_next_ref(),
                    Wait::Forever => t.next_ref(),
                    Wait::Until(u) => t.next_ref_until(u),
                };
                ev.map(|r| {
                    r.map(|e| match e {
                        TailEventRef::Message(m) => EventRef::Message(MessageView::Frame(m)),
                        TailEventRef::Dropped { lost } => EventRef::Dropped { lost },
                    })
                })
            }
            Door::Remote(r) => r.next(wait),
        };
        if let (Some(Ok(EventRef::Message(m))), Some(s)) = (&ev, stop) {
            if m.seq() >= s {
                self.ended = Some(TailEnd::Max);
            }
        }
        ev
    }
}

/// How long a call on a tail may wait.
#[derive(Debug, Clone, Copy)]
enum Wait {
    Never,
    Forever,
    Until(Instant),
}

/// What the follower thread hands over.
enum Msg {
    /// An event, and the seq the follower resumes at after it.
    Event(Event, Option<u64>),
    /// The deadline passed (`Ok`) or following failed.
    End(Result<()>),
}

/// The consumer side of a remote tail.
struct RemoteTail {
    rx: Receiver<Msg>,
    deadline: Arc<Mutex<Option<Instant>>>,
    cancel: Arc<AtomicBool>,
    interrupt: Option<&'static AtomicBool>,
    max: Option<u64>,
    idle: Option<std::time::Duration>,
    delivered: u64,
    /// The seq the tail starts at; `None` for the live edge.
    first: Option<u64>,
    /// The seq the next message will have at least, after the events taken so far (`None`: the
    /// live edge, before any event).
    next: Option<u64>,
    current: Option<Message>,
    ended: Option<TailEnd>,
}

impl std::fmt::Debug for RemoteTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteTail")
            .field("delivered", &self.delivered)
            .field("ended", &self.ended)
            .finish()
    }
}

impl RemoteTail {
    fn new(pool: &PoolHandle, opts: TailOptions) -> Result<RemoteTail> {
        let PoolHandle::Remote(r) = pool else {
            return Err(Error::new(ErrorKind::Internal, "not a remote pool"));
        };
        let since = match opts.start {
            TailStart::Edge => None,
            TailStart::Since(s) => Some(s),
            TailStart::Last(n) => pool
                .info()?
                .bounds
                .map(|(old, new)| (new + 1).saturating_sub(n).max(old)),
            TailStart::SinceTime(_) => {
                return Err(Error::usage(
                    "a remote tail cannot start at a time: the protocol starts tails at a seq",
                )
                .with_hint("start from the last N messages or from a seq"))
            }
        };
        let first = opts.idle_timeout.map(|t| Instant::now() + t);
        let deadline = Arc::new(Mutex::new(match (opts.deadline, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }));
        let (tx, rx) = mpsc::sync_channel::<Msg>(limits::REMOTE_TAIL_QUEUE_EVENTS);
        let follow = Follow::new(r.connect_again()?, since);
        let d = Arc::clone(&deadline);
        let (policy, max) = (opts.gap_policy, opts.max);
        std::thread::Builder::new()
            .name("plasmite-follow".into())
            .spawn(move || run_follower(follow, policy, max, &d, &tx))
            .map_err(|e| Error::io("cannot start the follower thread", e))?;
        Ok(RemoteTail {
            rx,
            deadline,
            cancel: Arc::new(AtomicBool::new(false)),
            interrupt: opts.interrupt,
            max: opts.max,
            idle: opts.idle_timeout,
            delivered: 0,
            first: since,
            next: since,
            current: None,
            ended: None,
        })
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
            || self.interrupt.is_some_and(|f| f.load(Ordering::SeqCst))
    }

    fn next(&mut self, wait: Wait) -> Option<Result<EventRef<'_>>> {
        loop {
            if self.ended.is_some() {
                return None;
            }
            if self.cancelled() {
                self.ended = Some(TailEnd::Cancelled);
                return None;
            }
            if self.max.is_some_and(|m| self.delivered >= m) {
                self.ended = Some(TailEnd::Max);
                return None;
            }
            let slice = match wait {
                Wait::Never => None,
                Wait::Forever => Some(limits::TAIL_CANCEL_POLL),
                Wait::Until(u) => {
                    Some(limits::TAIL_CANCEL_POLL.min(u.saturating_duration_since(Instant::now())))
                }
            };
            let msg = match slice {
                Some(slice) => match self.rx.recv_timeout(slice) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => match wait {
                        Wait::Until(u) if Instant::now() >= u => return None,
                        _ => continue,
                    },
                    Err(RecvTimeoutError::Disconnected) => return Some(Err(stopped())),
                },
                None => match self.rx.try_recv() {
                    Ok(m) => m,
                    Err(TryRecvError::Empty) => return None,
                    Err(TryRecvError::Disconnected) => return Some(Err(stopped())),
                },
            };
            if let Msg::Event(_, Some(resume)) = &msg {
                self.next = self.next.max(Some(*resume));
            }
            match msg {
                Msg::Event(Event::Message(m), _) => {
                    self.delivered += 1;
                    if let Some(t) = self.idle {
                        *self.deadline.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(Instant::now() + t);
                    }
                    let m = self.current.insert(m);
                    return Some(Ok(EventRef::Message(MessageView::Owned(m))));
                }
                Msg::Event(Event::Drop { lost }, _) => return Some(Ok(EventRef::Dropped { lost })),
                Msg::Event(Event::Skipped(e), _) => return Some(Err(e)),
                Msg::End(Ok(())) => {
                    self.ended = Some(TailEnd::Timeout);
                    return None;
                }
                Msg::End(Err(e)) => {
                    self.ended = Some(TailEnd::Cancelled);
                    return Some(Err(e));
                }
            }
        }
    }
}

fn stopped() -> Error {
    Error::new(ErrorKind::Internal, "the follower thread stopped")
}

/// The follower thread: events until the deadline (which the consumer may push back), an error,
/// `max` messages handed over, or the consumer going away. Under [`GapPolicy::Error`] a drop line
/// ends it with a `RetentionGap` (the server's drop line names the seq after the gap, so the first
/// missing one is that minus `lost`), before any later message is handed over.
fn run_follower(
    mut f: Follow,
    policy: GapPolicy,
    max: Option<u64>,
    deadline: &Mutex<Option<Instant>>,
    tx: &SyncSender<Msg>,
) {
    let mut sent = 0u64;
    if max == Some(0) {
        return;
    }
    loop {
        let d = *deadline.lock().unwrap_or_else(|p| p.into_inner());
        let msg = match f.next(d) {
            Ok(Some(Event::Drop { lost })) if policy == GapPolicy::Error => {
                let first = f.resume_seq().unwrap_or(0).saturating_sub(lost);
                Msg::End(Err(Error::retention_gap(first, lost)))
            }
            Ok(Some(ev)) => {
                sent += u64::from(matches!(ev, Event::Message(_)));
                Msg::Event(ev, f.resume_seq())
            }
            Ok(None) => {
                let now = *deadline.lock().unwrap_or_else(|p| p.into_inner());
                if now.is_some_and(|t| t > Instant::now()) {
                    continue;
                }
                Msg::End(Ok(()))
            }
            Err(e) => Msg::End(Err(e)),
        };
        // After `max` messages the consumer ends on its own: nothing more is read for it.
        let end = matches!(msg, Msg::End(_)) || max.is_some_and(|m| sent >= m);
        if tx.send(msg).is_err() || end {
            return;
        }
    }
}
