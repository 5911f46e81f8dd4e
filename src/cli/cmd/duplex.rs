//! `duplex POOL`: read and write one pool (local or URL) from one process.
//!
//! Shape: the pool is one [`PoolHandle`] (a local file or a URL: the same append and the same tail as
//! `poke` and `peek`, so both doors behave alike). An input thread reads
//! standard input (typed lines on a terminal, a JSON stream as `poke` reads it otherwise) and appends;
//! a follower thread follows the pool; the main thread prints what the follower saw (a chat view on a
//! terminal, `peek`'s JSON Lines otherwise) and ends the command. Invariants: the follower starts at
//! the edge (or N back with `--tail N`) measured before the first send, so no message of the session
//! is missed; a message this process appended is never printed without `--echo-self` (the sender
//! records each seq under the lock the printer takes before deciding, so the record always wins the
//! race); duplex ends when standard input has ended and every message committed by then has been
//! printed (or skipped as its own), on Ctrl-C, or on an error of either side.

use crate::api::{Durability, EventRef, JsonText, Message, PoolHandle, TailOptions, TailStart};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{DuplexArgs, OutputFormat};
use crate::cli::output::Out;
use crate::error::{Error, Result};
use crate::ingest::{Mode, Reader};
use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Read};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The seq following starts at: the next one, or `tail` messages back (never before the oldest);
/// `None` for an empty pool.
fn start_seq(pool: &PoolHandle, tail: u64) -> Result<Option<u64>> {
    let bounds = pool.info()?.bounds;
    Ok(bounds.map(|(old, new)| (new + 1).saturating_sub(tail).max(old)))
}

/// Follows `pool` from `since` (the first message of an empty pool when `None`), sending each
/// message to the printer; the same tail (and its reconnects, for a URL) as `peek`.
fn follow(pool: &PoolHandle, since: Option<u64>, tx: &mpsc::Sender<Msg>) -> Result<()> {
    let mut tail = pool.tail(TailOptions {
        interrupt: Some(crate::sys::signal::install_interrupt_flag()),
        start: TailStart::Since(since.unwrap_or(1)),
        ..Default::default()
    })?;
    while let Some(ev) = tail.next_ref() {
        if let EventRef::Message(m) = ev? {
            if tx.send(Msg::Seen(m.to_message())).is_err() {
                break;
            }
        }
    }
    Ok(())
}

/// What the two threads tell the printer.
enum Msg {
    Seen(Message),
    /// Standard input ended (`Ok`) or appending failed.
    InputDone(Result<()>),
    /// The follower stopped.
    Ended(Result<()>),
}

pub fn run(ctx: &Ctx, a: DuplexArgs) -> CmdResult {
    let pool = super::open_handle(ctx, &a.pool, a.create, None, &a.remote)?;
    crate::sys::signal::install_interrupt_flag();
    let since = start_seq(&pool, a.tail)?;
    let mine: Arc<Mutex<HashSet<u64>>> = Arc::default();
    let (tx, rx) = mpsc::channel();
    spawn("plasmite-duplex-follow", {
        let (pool, tx) = (pool.clone(), tx.clone());
        move || {
            let end = follow(&pool, since, &tx);
            let _ = tx.send(Msg::Ended(end));
        }
    })?;
    let me = a.me.clone().unwrap_or_else(default_me);
    let typed = std::io::stdin().is_terminal();
    spawn("plasmite-duplex-input", {
        let (pool, mine) = (pool.clone(), Arc::clone(&mine));
        move || {
            let r = send_input(&pool, &mine, typed.then_some(me.as_str()));
            let _ = tx.send(Msg::InputDone(r));
        }
    })?;
    let out = ctx.out(Some(OutputFormat::Jsonl), false);
    print_loop(&pool, &a, since, &mine, &rx, out)
}

/// Prints what the follower sees until the end (see the module docs).
fn print_loop(
    pool: &PoolHandle,
    a: &DuplexArgs,
    since: Option<u64>,
    mine: &Mutex<HashSet<u64>>,
    rx: &mpsc::Receiver<Msg>,
    mut out: Out,
) -> CmdResult {
    let interrupted = crate::sys::signal::install_interrupt_flag();
    let chat = std::io::stdout().is_terminal();
    // After stdin ends: the newest seq at that moment, printed (or skipped as own) before exiting.
    let mut drain_to: Option<u64> = None;
    let mut next_seq = since.unwrap_or(1);
    loop {
        if interrupted.load(Ordering::SeqCst) {
            out.flush()?;
            return Ok(Outcome::Interrupted);
        }
        let msg = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Outcome::Ok),
        };
        match msg {
            Msg::Seen(m) => {
                let own = mine
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(&m.seq);
                if !own || a.echo_self {
                    show(&mut out, &m, chat)?;
                    out.flush()?;
                }
                next_seq = m.seq + 1;
                if drain_to.is_some_and(|d| next_seq > d) {
                    return Ok(Outcome::Ok);
                }
            }
            Msg::InputDone(Ok(())) => match pool.info()?.bounds {
                Some((_, newest)) if newest >= next_seq => drain_to = Some(newest),
                _ => return Ok(Outcome::Ok),
            },
            Msg::InputDone(Err(e)) | Msg::Ended(Err(e)) => {
                out.flush()?;
                return Err(Failure::Error(e));
            }
            Msg::Ended(Ok(())) => {
                out.flush()?;
                return Ok(Outcome::Ok);
            }
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(|_| ())
        .map_err(|e| Error::io("cannot start a thread", e))
}

/// `$USER`, else `anon`.
fn default_me() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "anon".to_owned())
}

/// Appends every input record (typed lines as `{"from":ME,"msg":LINE}` when `me` is set), recording
/// each seq in `mine` while holding its lock across the append.
fn send_input(pool: &PoolHandle, mine: &Mutex<HashSet<u64>>, me: Option<&str>) -> Result<()> {
    let none: &[String] = &[];
    let send = |data: &JsonText| -> Result<()> {
        let mut set = mine.lock().unwrap_or_else(|p| p.into_inner());
        let seq = pool.append_text(data, none, Durability::Fast)?.seq;
        set.insert(seq);
        Ok(())
    };
    let stdin = std::io::stdin();
    match me {
        Some(me) => {
            for line in stdin.lock().lines() {
                let line = line.map_err(|e| Error::io("cannot read standard input", e))?;
                if line.trim().is_empty() {
                    continue;
                }
                send(&JsonText::from_value(
                    &serde_json::json!({"from": me, "msg": line}),
                ))?;
            }
            Ok(())
        }
        None => send_stream(stdin.lock(), send),
    }
}

/// A JSON stream, framed as `poke` frames it (`--in auto`); a bad record ends duplex with its error.
fn send_stream(input: impl Read, send: impl Fn(&JsonText) -> Result<()>) -> Result<()> {
    let mut reader = Reader::new(input, Mode::Auto);
    let mut record = Vec::new();
    while let Some(next) = reader.next_into(&mut record) {
        let info = next.map_err(|e| Error::usage(e.to_string()))?;
        let data = JsonText::parse(&record).map_err(|e| {
            Error::usage(format!(
                "record {} (line {}): {}",
                info.index,
                info.line,
                e.message()
            ))
        })?;
        send(&data)?;
    }
    Ok(())
}

/// One message: a chat line on a terminal (`HH:MM:SS who: what`), else `peek`'s JSON line.
fn show(out: &mut Out, m: &Message, chat: bool) -> std::result::Result<(), Failure> {
    if !chat {
        out.message(m.seq, m.time_ns, m.tags.iter().map(String::as_str), &m.data)?;
        return Ok(());
    }
    out.text(&chat_line(m))?;
    Ok(())
}

/// `HH:MM:SS who: what` for `{"from":..,"msg":..}` messages, `HH:MM:SS #SEQ JSON` for the others
/// (UTC, like the envelope's time).
fn chat_line(m: &Message) -> String {
    let time = crate::time::format_rfc3339_nanos(m.time_ns);
    let clock = time.get(11..19).unwrap_or(&time);
    let v: serde_json::Value = serde_json::from_str(&m.data).unwrap_or_default();
    let text = |k: &str| match &v[k] {
        serde_json::Value::String(s) => Some(s.replace(['\n', '\r'], " ")),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    };
    match (text("from"), text("msg")) {
        (Some(who), Some(what)) => format!("{clock} {who}: {what}\n"),
        _ => format!("{clock} #{} {}\n", m.seq, m.data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn msg(data: &str) -> Message {
        Message {
            seq: 7,
            time_ns: 1_700_000_000_123_000_000,
            tags: vec![],
            data: data.to_owned(),
        }
    }

    #[test]
    fn chat_lines_show_who_and_what_or_the_raw_message() {
        assert_eq!(
            chat_line(&msg(r#"{"from":"ann","msg":"hi"}"#)),
            "22:13:20 ann: hi\n"
        );
        assert_eq!(
            chat_line(&msg(r#"{"from":"bo","msg":{"n":1}}"#)),
            "22:13:20 bo: {\"n\":1}\n"
        );
        assert_eq!(
            chat_line(&msg(r#"{"from":"c","msg":"a\nb"}"#)),
            "22:13:20 c: a b\n"
        );
        assert_eq!(chat_line(&msg(r#"{"x":1}"#)), "22:13:20 #7 {\"x\":1}\n");
    }

    #[test]
    fn a_bad_record_stops_the_stream_with_its_position() {
        let sent = std::cell::RefCell::new(Vec::new());
        let r = send_stream(&b"{\"a\":1}\n{\"b\":\n"[..], |d| {
            sent.borrow_mut().push(d.as_str().to_owned());
            Ok(())
        });
        assert_eq!(sent.borrow().as_slice(), ["{\"a\":1}"]);
        assert!(r.is_err_and(|e| e.kind() == ErrorKind::Usage));
    }
}
