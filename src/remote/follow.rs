//! Following a remote pool across tail streams: each stream lasts at most one segment
//! (`REMOTE_TAIL_SEGMENT_MS`, or less to honour the caller's deadline); when it ends or breaks, the next
//! one starts at the seq after the last message seen (or at the seq the first stream announced, when
//! none was seen yet). Messages below that seq are dropped, so a reconnect never duplicates or
//! reorders; failed reconnects back off and give up after `REMOTE_RECONNECTS_MAX` in a row.

use super::{CallError, Remote, TailStream};
use crate::api::Message;
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
use crate::proto::wire::Line;
use std::time::{Duration, Instant};

/// What a follower yields.
#[derive(Debug)]
pub enum Event {
    Message(Message),
    /// `lost` messages were overwritten before they could be read.
    Drop {
        lost: u64,
    },
    /// A message failed verification on the server and was skipped (`Corrupt`); following goes on.
    Skipped(Error),
}

/// A resuming tail of a remote pool.
#[derive(Debug)]
pub struct Follow {
    remote: Remote,
    resume: Option<u64>,
    stream: Option<TailStream>,
    connected: bool,
    failures: u32,
    /// When the current stream opened, what `timeout_ms` it asked for, and whether it sent a line.
    opened: Option<(Instant, u64, bool)>,
}

impl std::fmt::Debug for TailStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailStream")
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

impl Follow {
    /// Follows from `since` (inclusive), or from the live edge when `None`.
    pub fn new(remote: Remote, since: Option<u64>) -> Follow {
        Follow {
            remote,
            resume: since,
            stream: None,
            connected: false,
            failures: 0,
            opened: None,
        }
    }

    /// The seq the next message will have at least.
    pub fn resume_seq(&self) -> Option<u64> {
        self.resume
    }

    /// Whether lines are already buffered (no need to flush output yet).
    pub fn has_buffered(&self) -> bool {
        self.stream.as_ref().is_some_and(TailStream::has_buffered)
    }

    /// The next event; `Ok(None)` once `deadline` has passed without one.
    pub fn next(&mut self, deadline: Option<Instant>) -> Result<Option<Event>> {
        loop {
            let stream = match &mut self.stream {
                Some(s) => s,
                None => {
                    let segment = match deadline {
                        Some(d) => {
                            let left = d.saturating_duration_since(Instant::now());
                            if left.is_zero() {
                                return Ok(None);
                            }
                            (left.as_millis() as u64).clamp(1, limits::REMOTE_TAIL_SEGMENT_MS)
                        }
                        None => limits::REMOTE_TAIL_SEGMENT_MS,
                    };
                    match self.remote.tail_call(self.resume, None, segment) {
                        Ok(s) => {
                            if self.resume.is_none() {
                                self.resume = s.next_seq;
                            }
                            self.connected = true;
                            self.opened = Some((Instant::now(), segment, false));
                            self.stream.insert(s)
                        }
                        Err(CallError::Transport(e)) if self.connected => {
                            self.back_off(e, deadline)?;
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let line = stream.next_line();
            if let (Ok(Some(_)), Some(o)) = (&line, &mut self.opened) {
                // A stream that delivers is healthy: the count of failures in a row restarts.
                o.2 = true;
                self.failures = 0;
            }
            match line {
                Ok(Some(Line::Message(m))) => {
                    if self.resume.is_some_and(|r| m.seq < r) {
                        continue;
                    }
                    self.resume = Some(m.seq + 1);
                    return Ok(Some(Event::Message(m)));
                }
                Ok(Some(Line::Drop { lost, next_seq })) => {
                    self.resume = Some(self.resume.unwrap_or(0).max(next_seq));
                    return Ok(Some(Event::Drop { lost }));
                }
                Ok(Some(Line::Error(e))) if e.kind() == ErrorKind::Corrupt => {
                    if let (Some(s), Some(r)) = (e.seq(), self.resume) {
                        if s >= r {
                            self.resume = Some(s + 1);
                        }
                    }
                    return Ok(Some(Event::Skipped(e)));
                }
                Ok(Some(Line::Error(e))) => {
                    self.stream = None;
                    return Err(e);
                }
                Ok(None) => {
                    self.stream = None;
                    // A stream that ends early without a line is a failure too (backed off), so a
                    // server that ends every stream at once is not asked again at full speed.
                    if let Some((at, asked, false)) = self.opened.take() {
                        if at.elapsed() < Duration::from_millis(asked / 2) {
                            let e = Error::new(
                                ErrorKind::Io,
                                "the server ended the tail stream at once",
                            );
                            self.back_off(e, deadline)?;
                        }
                    }
                }
                Err(e) => {
                    self.stream = None;
                    self.back_off(e, deadline)?;
                }
            }
        }
    }

    /// Waits before the next reconnection, or gives up.
    fn back_off(&mut self, e: Error, deadline: Option<Instant>) -> Result<()> {
        self.failures += 1;
        if self.failures > limits::REMOTE_RECONNECTS_MAX {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "lost the connection to the server and could not reconnect: {}",
                    e.message()
                ),
            )
            .with_hint(format!(
                "gave up after {} attempts",
                limits::REMOTE_RECONNECTS_MAX
            )));
        }
        let shift = (self.failures - 1).min(16);
        let mut delay = (limits::REMOTE_RECONNECT_DELAY_MIN * (1u32 << shift))
            .min(limits::REMOTE_RECONNECT_DELAY_MAX);
        if let Some(d) = deadline {
            delay = delay.min(d.saturating_duration_since(Instant::now()));
        }
        std::thread::sleep(delay.max(Duration::from_millis(1)));
        Ok(())
    }
}
