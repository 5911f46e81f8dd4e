//! `poke`, `peek` and `get` on a remote pool (`http(s)://HOST:PORT/POOL`), through `crate::remote`.
//!
//! Output goes through the same `Out::message` as local commands, so it is byte for byte the same;
//! errors the server reports keep their kind, hence their exit code. Flags that need the pool's file
//! (`--create`, `--since`, `--replay`) are refused with exit 2.

use crate::api::{Durability, JsonText, Message};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{self, ErrorPolicy, GetArgs, PeekArgs, PokeArgs, PokeInput, RemoteOpts};
use crate::cli::output::Out;
use crate::error::{Error, ErrorKind, Result};
use crate::filter::{self, Filter};
use crate::ingest::{Mode, Reader};
use crate::remote::{Event, Follow, Options, Remote};
use std::io::{IsTerminal, Read};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The environment variable holding a bearer token (`--token-file` wins).
pub const TOKEN_ENV: &str = "PLASMITE_TOKEN";

/// Whether a pool argument is a remote URL.
pub fn is_remote(pool: &str) -> bool {
    crate::remote::is_url(pool)
}

fn refuse(flag: &str, why: &str) -> Failure {
    Failure::Error(
        Error::usage(format!("{flag} cannot be used with a remote pool: {why}"))
            .with_hint("run the command on the server's machine, or drop the flag"),
    )
}

pub(super) fn connect(pool: &str, o: &RemoteOpts) -> Result<Remote> {
    let token = match &o.token_file {
        Some(f) => Some(crate::server::auth::read_token_file(f)?),
        None => std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    };
    Remote::new(
        pool,
        &Options {
            token,
            tls_ca: o.tls_ca.clone(),
        },
    )
}

fn print(out: &mut Out, m: &Message) -> std::result::Result<(), Failure> {
    out.message(m.seq, m.time_ns, m.tags.iter().map(String::as_str), &m.data)?;
    Ok(())
}

/// `get URL SEQ`.
pub fn get(ctx: &Ctx, a: GetArgs) -> CmdResult {
    let remote = connect(&a.pool, &a.remote)?;
    let m = remote.get(a.seq)?;
    let mut out = ctx.out(a.format, a.data_only);
    print(&mut out, &m)?;
    out.flush()?;
    Ok(Outcome::Ok)
}

/// Appends with `--retry`: only an answer from the server proves nothing was committed, so only
/// answered `Busy`/`Io` failures are retried; a broken connection is not (the append may have happened).
struct Sender<'a> {
    remote: Remote,
    a: &'a PokeArgs,
    durability: Durability,
}

impl Sender<'_> {
    fn send(&self, data: &str) -> Result<Message> {
        let mut left = self.a.retry;
        loop {
            match self.remote.append_call(data, &self.a.tags, self.durability) {
                Err(crate::remote::CallError::Server(e))
                    if left > 0 && matches!(e.kind(), ErrorKind::Busy | ErrorKind::Io) =>
                {
                    left -= 1;
                    std::thread::sleep(self.a.retry_delay);
                }
                other => return other.map_err(Error::from),
            }
        }
    }
}

/// `poke URL [DATA]`: one append per record.
pub fn poke(ctx: &Ctx, a: PokeArgs) -> CmdResult {
    if a.create {
        return Err(refuse(
            "--create",
            "create the pool on the server ('plasmite pool create NAME' there, or POST /v0/pools)",
        ));
    }
    let sender = Sender {
        remote: connect(&a.pool, &a.remote)?,
        a: &a,
        durability: match a.durability {
            args::Durability::Fast => Durability::Fast,
            args::Durability::Flush => Durability::Flush,
        },
    };
    let mut out = ctx.out(None, false);
    let input: Box<dyn Read> = match &a.input {
        PokeInput::Arg(text) => {
            let data = JsonText::parse(text.as_bytes())?;
            print(&mut out, &sender.send(data.as_str())?)?;
            out.flush()?;
            return Ok(Outcome::Ok);
        }
        PokeInput::File(path) => Box::new(
            std::fs::File::open(path)
                .map_err(|e| Error::io("cannot open the input file", e).with_path(path))?,
        ),
        PokeInput::Stdin => {
            if std::io::stdin().is_terminal() {
                return Err(Failure::Error(
                    Error::usage("no DATA given and stdin is a terminal")
                        .with_hint("pass a JSON value, or pipe records in"),
                ));
            }
            Box::new(std::io::stdin())
        }
    };
    poke_stream(ctx, &sender, &mut out, input)
}

/// Appends every record of `input`, printing each committed envelope at once.
fn poke_stream(ctx: &Ctx, sender: &Sender<'_>, out: &mut Out, input: Box<dyn Read>) -> CmdResult {
    let a = sender.a;
    let interrupted = crate::sys::signal::install_interrupt_flag();
    let mode = Mode::parse(a.input_format.name()).unwrap_or(Mode::Auto);
    let mut reader = Reader::new(StopOnInterrupt(input), mode);
    let mut record = Vec::with_capacity(4096);
    let mut skipped = 0u64;
    while let Some(next) = reader.next_into(&mut record) {
        if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(Outcome::Interrupted);
        }
        let (index, line, why) = match next {
            Ok(info) => match sender.send(std::str::from_utf8(&record).unwrap_or("null")) {
                Ok(m) => {
                    print(out, &m)?;
                    out.flush()?;
                    continue;
                }
                // A record the server refuses as invalid (too large, bad tags) is a bad record.
                Err(e) if e.kind() == ErrorKind::Usage => (
                    info.index,
                    info.line,
                    format!(
                        "record {} (line {}): {}",
                        info.index,
                        info.line,
                        e.message()
                    ),
                ),
                Err(e) => return Err(Failure::Error(e)),
            },
            Err(e) if e.is_recoverable() => (e.index, e.line, e.to_string()),
            Err(e) => return Err(Failure::Error(Error::usage(e.to_string()))),
        };
        if a.errors == ErrorPolicy::Stop {
            return Err(Failure::Error(Error::usage(why).with_hint(
                "records before it were committed; fix the input or pass --errors skip",
            )));
        }
        ctx.diag.notice(
            "skipped",
            &format!("skipped {why}"),
            &[("record", index.into()), ("line", line.into())],
        );
        skipped += 1;
    }
    if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(Outcome::Interrupted);
    }
    Ok(if skipped > 0 {
        Outcome::Skipped
    } else {
        Outcome::Ok
    })
}

/// Input that ends (instead of failing) when Ctrl-C interrupts a blocking read.
struct StopOnInterrupt(Box<dyn Read>);

impl Read for StopOnInterrupt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    if crate::sys::signal::interrupted() {
                        return Ok(0);
                    }
                }
                other => return other,
            }
        }
    }
}

/// What the follower thread sends to the printing thread.
enum Msg {
    Event(Event),
    /// The deadline passed (`Ok`) or following failed.
    End(Result<()>),
}

/// `peek URL`: follow the remote pool, filter and print like a local peek.
pub fn peek(ctx: &Ctx, a: PeekArgs) -> CmdResult {
    if a.create {
        return Err(refuse("--create", "create the pool on the server"));
    }
    if a.since.is_some() {
        return Err(refuse(
            "--since",
            "the protocol starts tails at a seq; use --tail N",
        ));
    }
    if a.replay.is_some() {
        return Err(refuse("--replay", "replay needs the pool's file"));
    }
    let filters = super::peek::parse_wheres(&a.wheres)?;
    let remote = connect(&a.pool, &a.remote)?;
    let since = match a.tail {
        Some(n) => {
            let info = remote.info()?;
            let b = &info["bounds"];
            match (b["oldest"].as_u64(), b["newest"].as_u64()) {
                (Some(old), Some(new)) => Some((new + 1).saturating_sub(n).max(old)),
                _ => None,
            }
        }
        None => None,
    };
    let interrupted = crate::sys::signal::install_interrupt_flag();
    let deadline = Arc::new(Mutex::new(a.timeout.map(|t| Instant::now() + t)));
    let (tx, rx) = mpsc::sync_channel::<Msg>(1024);
    let follower_deadline = Arc::clone(&deadline);
    std::thread::Builder::new()
        .name("plasmite-follow".into())
        .spawn(move || follow(Follow::new(remote, since), &follower_deadline, &tx))
        .map_err(|e| Error::io("cannot start the follower thread", e))?;
    let mut p = Printer {
        ctx,
        a: &a,
        filters,
        out: ctx.out(a.format, a.data_only),
        deadline,
    };
    loop {
        if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            p.out.flush()?;
            return Ok(Outcome::Interrupted);
        }
        let mut next = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(m) => Some(m),
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Failure::Error(Error::new(
                    ErrorKind::Internal,
                    "the follower thread stopped",
                )))
            }
        };
        // Everything already received is printed before one flush.
        while let Some(msg) = next.take() {
            if let Some(end) = p.handle(msg) {
                p.out.flush()?;
                return end;
            }
            next = rx.try_recv().ok();
        }
        p.out.flush()?;
    }
}

/// The printing side of a remote peek.
struct Printer<'a> {
    ctx: &'a Ctx,
    a: &'a PeekArgs,
    filters: Vec<Filter>,
    out: Out,
    /// The `--timeout` deadline, pushed back after each printed message.
    deadline: Arc<Mutex<Option<Instant>>>,
}

impl Printer<'_> {
    /// Handles one message from the follower; `Some` ends the command.
    fn handle(&mut self, msg: Msg) -> Option<CmdResult> {
        match msg {
            Msg::Event(Event::Message(m)) => {
                let wanted = self.a.tags.iter().all(|t| m.tags.contains(t))
                    && (self.filters.is_empty()
                        || self.ctx.diag.where_verdict(
                            filter::matches_all(&self.filters, &envelope(&m)),
                            m.seq,
                        ));
                if !wanted {
                    return None;
                }
                if let Err(f) = print(&mut self.out, &m) {
                    return Some(Err(f));
                }
                if self.a.one {
                    return Some(Ok(Outcome::Ok));
                }
                if let Some(t) = self.a.timeout {
                    *self.deadline.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(Instant::now() + t);
                }
                None
            }
            Msg::Event(Event::Drop { lost }) => {
                self.ctx.diag.dropped(lost, self.a.quiet_drops);
                None
            }
            Msg::Event(Event::Skipped(e)) => {
                self.ctx.diag.error(&e);
                None
            }
            Msg::End(Ok(())) => Some(Ok(Outcome::Timeout)),
            Msg::End(Err(e)) => Some(Err(Failure::Error(e))),
        }
    }
}

/// The follower thread: events until the deadline (which the printer may push back) or an error.
fn follow(mut f: Follow, deadline: &Mutex<Option<Instant>>, tx: &mpsc::SyncSender<Msg>) {
    loop {
        let d = *deadline.lock().unwrap_or_else(|p| p.into_inner());
        let msg = match f.next(d) {
            Ok(Some(ev)) => Msg::Event(ev),
            Ok(None) => {
                let now = *deadline.lock().unwrap_or_else(|p| p.into_inner());
                if now.is_some_and(|t| t > Instant::now()) {
                    continue;
                }
                Msg::End(Ok(()))
            }
            Err(e) => Msg::End(Err(e)),
        };
        let end = matches!(msg, Msg::End(_));
        if tx.send(msg).is_err() || end {
            return;
        }
    }
}

/// The envelope as a JSON value, for `--where`.
fn envelope(m: &Message) -> serde_json::Value {
    let data = serde_json::from_str(&m.data).unwrap_or(serde_json::Value::Null);
    let tags: Vec<serde_json::Value> = m.tags.iter().map(|t| t.as_str().into()).collect();
    let mut meta = serde_json::Map::new();
    meta.insert("tags".into(), tags.into());
    let mut o = serde_json::Map::new();
    o.insert("seq".into(), m.seq.into());
    o.insert(
        "time".into(),
        crate::time::format_rfc3339_nanos(m.time_ns).into(),
    );
    o.insert("meta".into(), meta.into());
    o.insert("data".into(), data);
    o.into()
}
