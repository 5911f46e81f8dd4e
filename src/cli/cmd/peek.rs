//! `peek POOL`: print messages as they arrive (after the last N, or since a time), filtered by tags and
//! `--where` predicates, until Ctrl-C, `--one`, `--timeout` or the end of a `--replay`.

use super::open;
use crate::api::{Pool, TailEventRef, TailOptions, TailStart};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::PeekArgs;
use crate::cli::output::Out;
use crate::cli::units::Since;
use crate::error::{Error, ErrorKind};
use crate::filter::needs::{self, needs, Need};
use crate::filter::{self, Filter};
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
}

pub fn run(ctx: &Ctx, a: PeekArgs) -> CmdResult {
    if super::remote::is_remote(&a.pool) {
        return super::remote::peek(ctx, a);
    }
    let filters = parse_wheres(&a.wheres)?;
    let client = ctx.client()?;
    let pool = open(&client, &a.pool, a.create, None)?;
    let start = start_of(&pool, &a)?;
    let interrupt = crate::sys::signal::install_interrupt_flag();
    let mut tail = pool.tail(TailOptions {
        start,
        interrupt: Some(interrupt),
        ..Default::default()
    })?;
    let timeout = a.timeout;
    tail.set_deadline(timeout.map(|t| Instant::now() + t));
    let mut run = Run {
        ctx,
        out: ctx.out(a.format, a.data_only),
        a: &a,
        need: needs(&filters),
        filters,
        last_time: None,
    };
    loop {
        let flow = match tail.try_next_ref() {
            Some(ev) => run.handle(ev)?,
            None => Flow::CaughtUp,
        };
        let flow = match flow {
            Flow::CaughtUp if tail.end().is_none() && a.replay.is_none() => {
                run.out.flush()?;
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
                if let Some(t) = timeout {
                    tail.set_deadline(Some(Instant::now() + t));
                }
            }
            Flow::Next | Flow::CaughtUp => {}
            Flow::Done => break,
        }
    }
    run.out.flush()?;
    if crate::sys::signal::interrupted() {
        return Ok(Outcome::Interrupted);
    }
    Ok(match tail.end() {
        Some(crate::api::TailEnd::Timeout) => Outcome::Timeout,
        _ => Outcome::Ok,
    })
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

fn start_of(pool: &Pool, a: &PeekArgs) -> Result<TailStart, Failure> {
    if let Some(s) = &a.since {
        let ns = match *s {
            Since::Absolute { unix_ns } => unix_ns,
            Since::Ago(d) => crate::api::now_unix_ns().saturating_sub(d.as_nanos() as u64),
        };
        return Ok(TailStart::SinceTime(ns));
    }
    if let Some(n) = a.tail {
        return Ok(TailStart::Last(n));
    }
    if a.replay.is_some() {
        let oldest = pool.info()?.bounds.map_or(1, |b| b.0);
        return Ok(TailStart::Since(oldest));
    }
    Ok(TailStart::Edge)
}

impl Run<'_> {
    fn handle(&mut self, ev: crate::error::Result<TailEventRef<'_>>) -> Result<Flow, Failure> {
        let m = match ev {
            Ok(TailEventRef::Message(m)) => m,
            Ok(TailEventRef::Dropped { lost }) => {
                self.ctx.diag.dropped(lost, self.a.quiet_drops);
                return Ok(Flow::Next);
            }
            Err(e) if e.kind() == ErrorKind::Corrupt => {
                self.ctx.diag.error(&e);
                return Ok(Flow::Next);
            }
            Err(e) => return Err(Failure::Error(e)),
        };
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
fn envelope(m: &crate::api::MessageRef<'_>, need: &Need) -> serde_json::Value {
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
