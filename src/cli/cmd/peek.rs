//! `peek POOL`: print messages as they arrive (after the last N, or since a time), filtered by tags and
//! `--where` predicates, until Ctrl-C, `--one`, `--timeout`, the end of a `--replay` or of what
//! `--no-follow` selected, or a closed stdout. One event loop for a local pool and a URL: the
//! [`crate::api::PoolTail`] gives both the same events.
//!
//! With `--cursor NAME` (local pools) it starts after the cursor's committed seq and commits, after
//! each flush of stdout, the seq of the last message read (printed or filtered out): it flushes and
//! commits whenever it catches up, at least every `CURSOR_COMMIT_MESSAGES` messages read, and when
//! it ends (not when its reader went away: what was not flushed was not handed on).

use super::open_handle;
use super::remote::{is_remote, refuse};
use crate::api::{
    EventRef, GapPolicy, MessageView, NamedCursor, PoolHandle, TailCanceller, TailOptions,
    TailStart,
};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::types::GapMode;
use crate::cli::args::{Color, PeekArgs};
use crate::cli::output::Out;
use crate::cli::units::Since;
use crate::error::{Error, ErrorKind};
use crate::filter::needs::{self, needs, Need};
use crate::filter::{self, Filter};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the loop does after one event.
enum Flow {
    /// A message was printed.
    Printed,
    /// An event was handled without printing.
    Next,
    CaughtUp,
    Done,
}

struct Run<'a> {
    ctx: &'a Ctx,
    a: &'a PeekArgs,
    filters: Vec<Filter>,
    /// What the filters read of the envelope: only that is built per message.
    need: Need,
    out: Out,
    last_time: Option<u64>,
    printed: bool,
    /// `--cursor`: the cursor held, the seq of the last message read, and how many were read
    /// since the last commit.
    cursor: Option<NamedCursor>,
    last_read: Option<u64>,
    since_commit: u64,
}

pub fn run(ctx: &Ctx, a: PeekArgs) -> CmdResult {
    if is_remote(&a.pool) {
        if a.since.is_some() {
            return Err(refuse(
                "--since",
                "the protocol starts tails at a seq; use --tail N",
            ));
        }
        if a.replay.is_some() {
            return Err(refuse("--replay", "replay needs the pool's file"));
        }
        if a.cursor.is_some() {
            return Err(refuse(
                "--cursor",
                "the protocol keeps no per-client state; resume with --tail or since_seq",
            ));
        }
    }
    let filters = parse_wheres(&a.wheres)?;
    let pool = open_handle(ctx, &a.pool, a.create, None, &a.remote)?;
    let cursor = match (&a.cursor, pool.local()) {
        (Some(name), Some(p)) => Some(NamedCursor::acquire(p, name)?),
        _ => None,
    };
    let first = start_of(&pool, &a)?;
    let start = cursor.as_ref().map_or(first, |c| c.start(first));
    let interrupt = crate::sys::signal::install_interrupt_flag();
    let timeout = a.timeout;
    let mut tail = pool.tail(TailOptions {
        start,
        interrupt: Some(interrupt),
        deadline: timeout.map(|t| Instant::now() + t),
        gap_policy: match a.on_gap {
            GapMode::Continue => GapPolicy::Continue,
            GapMode::Error => GapPolicy::Error,
        },
        ..Default::default()
    })?;
    if a.no_follow {
        tail.stop_at_newest(&pool)?;
    }
    let mut cursor = cursor;
    if let (Some(c), Some(next)) = (&mut cursor, tail.next_seq()) {
        if c.committed().is_none() && tail.start_gap().is_none() {
            // A new cursor: its position is where it starts, even if nothing is read before a kill.
            c.commit(next.saturating_sub(1))?;
        }
    }
    let closed = watch_stdout(tail.canceller());
    let mut run = Run {
        ctx,
        out: ctx.out(a.format, a.data_only),
        a: &a,
        need: needs(&filters),
        filters,
        last_time: None,
        printed: false,
        cursor,
        last_read: None,
        since_commit: 0,
    };
    let mut waiting = Waiting::new(ctx, &a);
    loop {
        let flow = match tail.try_next_ref() {
            Some(ev) => run.handle(ev)?,
            None => Flow::CaughtUp,
        };
        let flow = match flow {
            Flow::CaughtUp if tail.end().is_none() && a.replay.is_none() => {
                run.checkpoint()?;
                if !run.printed {
                    waiting.show(&a.pool);
                }
                match tail.next_ref() {
                    Some(ev) => run.handle(ev)?,
                    None => Flow::Done,
                }
            }
            Flow::CaughtUp => Flow::Done,
            other => other,
        };
        match flow {
            Flow::Printed => {
                run.printed = true;
                if let Some(t) = timeout {
                    tail.set_deadline(Some(Instant::now() + t));
                }
            }
            Flow::Next | Flow::CaughtUp => {}
            Flow::Done => break,
        }
        if run.since_commit >= crate::limits::CURSOR_COMMIT_MESSAGES {
            run.checkpoint()?;
        }
    }
    if closed.load(Ordering::SeqCst) {
        // The reader went away (`| head`): a normal end, nothing more to flush.
        return Ok(Outcome::Ok);
    }
    run.checkpoint()?;
    if crate::sys::signal::interrupted() {
        return Ok(Outcome::Interrupted);
    }
    Ok(match tail.end() {
        Some(crate::api::TailEnd::Timeout) => Outcome::Timeout,
        _ => Outcome::Ok,
    })
}

/// Watches stdout while `peek` waits: once its reader is gone (`POLLERR`/`POLLHUP`), cancels the
/// tail, so `peek … | head -1` ends within `STDOUT_CLOSED_NOTICE_MAX` even when no message comes.
/// Not started on a terminal (a hangup there is SIGHUP's business).
fn watch_stdout(canceller: TailCanceller) -> Arc<AtomicBool> {
    let closed = Arc::new(AtomicBool::new(false));
    if std::io::stdout().is_terminal() {
        return closed;
    }
    let flag = Arc::clone(&closed);
    let spawned = std::thread::Builder::new()
        .name("plasmite-stdout-watch".into())
        .spawn(move || loop {
            std::thread::sleep(crate::limits::STDOUT_WATCH_INTERVAL);
            if matches!(crate::sys::poll::hung_up(std::io::stdout()), Ok(true)) {
                flag.store(true, Ordering::SeqCst);
                canceller.cancel();
                return;
            }
        });
    // Without the watcher, a closed stdout is still noticed at the next write.
    drop(spawned);
    closed
}

/// The one dim "waiting for messages" line a follower prints on a terminal before anything shows.
struct Waiting {
    enabled: bool,
    dim: bool,
}

impl Waiting {
    fn new(ctx: &Ctx, a: &PeekArgs) -> Waiting {
        let tty = std::io::stderr().is_terminal();
        Waiting {
            enabled: tty && !a.no_follow,
            dim: match ctx.global.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => tty && std::env::var_os("NO_COLOR").is_none(),
            },
        }
    }

    fn show(&mut self, pool: &str) {
        if !self.enabled {
            return;
        }
        self.enabled = false;
        let text = format!("waiting for messages in {pool} (Ctrl-C to stop)");
        let line = if self.dim {
            format!("\x1b[2m{text}\x1b[0m\n")
        } else {
            format!("{text}\n")
        };
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// Parses every `--where` expression (shared by local and remote `peek`).
pub(super) fn parse_wheres(wheres: &[String]) -> Result<Vec<Filter>, Error> {
    wheres
        .iter()
        .map(|w| {
            Filter::parse(w).map_err(|e| {
                Error::usage(format!("--where {w:?}: {e}"))
                    .with_offset(e.pos as u64)
                    .with_hint("see 'plasmite help where' for the --where language")
            })
        })
        .collect()
}

fn start_of(pool: &PoolHandle, a: &PeekArgs) -> Result<TailStart, Failure> {
    if let Some(s) = &a.since {
        let ns = match *s {
            Since::Absolute { unix_ns } => unix_ns,
            Since::Ago(d) => crate::api::now_unix_ns().saturating_sub(d.as_nanos() as u64),
        };
        return Ok(TailStart::SinceTime(ns));
    }
    match a.tail {
        // The last 0 messages: the live edge (`Last(0)` would start at the oldest when the next
        // seq cannot be located).
        Some(0) => return Ok(TailStart::Edge),
        Some(n) => return Ok(TailStart::Last(n)),
        None => {}
    }
    if a.replay.is_some() || a.no_follow {
        let oldest = pool.info()?.bounds.map_or(1, |b| b.0);
        return Ok(TailStart::Since(oldest));
    }
    Ok(TailStart::Edge)
}

impl Run<'_> {
    /// Flushes stdout, then commits the cursor (if any) up to the last message read.
    fn checkpoint(&mut self) -> Result<(), Failure> {
        self.out.flush()?;
        if let (Some(c), Some(seq)) = (&mut self.cursor, self.last_read) {
            c.commit(seq)?;
        }
        self.since_commit = 0;
        Ok(())
    }

    fn handle(&mut self, ev: crate::error::Result<EventRef<'_>>) -> Result<Flow, Failure> {
        let m = match ev {
            Ok(EventRef::Message(m)) => m,
            Ok(EventRef::Dropped { lost }) => {
                self.ctx.diag.dropped(lost, self.a.quiet_drops);
                return Ok(Flow::Next);
            }
            Err(e) if e.kind() == ErrorKind::Corrupt => {
                self.ctx.diag.error(&e);
                return Ok(Flow::Next);
            }
            Err(e) => {
                // What was printed before (e.g. before a gap) is handed on before the error.
                self.checkpoint()?;
                return Err(Failure::Error(e));
            }
        };
        self.last_read = Some(m.seq());
        self.since_commit += 1;
        if !self.a.tags.iter().all(|t| m.tags().any(|x| x == t)) {
            return Ok(Flow::Next);
        }
        if !self.filters.is_empty()
            && !self.ctx.diag.where_verdict(
                filter::matches_all(&self.filters, &envelope(&m, &self.need)),
                m.seq(),
            )
        {
            return Ok(Flow::Next);
        }
        if let Some(speed) = self.a.replay {
            if let (Some(prev), true) = (self.last_time, speed > 0.0) {
                let gap = m.time_ns().saturating_sub(prev) as f64 / speed;
                std::thread::sleep(Duration::from_nanos(gap.min(u64::MAX as f64) as u64));
            }
        }
        self.last_time = Some(m.time_ns());
        self.out.message(m.seq(), m.time_ns(), m.tags(), m.data())?;
        if self.a.replay.is_some_and(|speed| speed > 0.0) {
            self.out.flush()?;
        }
        if self.a.one {
            return Ok(Flow::Done);
        }
        Ok(Flow::Printed)
    }
}

/// The envelope as a JSON value for `--where`, with only the parts the filters read.
fn envelope(m: &MessageView<'_>, need: &Need) -> serde_json::Value {
    let all = Need::All;
    let want = |k: &str| match need {
        Need::All => Some(&all),
        Need::Fields(f) => f.get(k),
    };
    let mut o = serde_json::Map::new();
    if want("seq").is_some() {
        o.insert("seq".into(), m.seq().into());
    }
    if want("time").is_some() {
        o.insert(
            "time".into(),
            crate::time::format_rfc3339_nanos(m.time_ns()).into(),
        );
    }
    if want("meta").is_some() {
        let tags: Vec<serde_json::Value> = m.tags().map(|t| t.into()).collect();
        let mut meta = serde_json::Map::new();
        meta.insert("tags".into(), tags.into());
        o.insert("meta".into(), meta.into());
    }
    if let Some(n) = want("data") {
        let data = needs::project(m.data().as_bytes(), n).unwrap_or(serde_json::Value::Null);
        o.insert("data".into(), data);
    }
    o.into()
}
