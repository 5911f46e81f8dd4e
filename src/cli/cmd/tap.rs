//! `tap POOL -- CMD [ARGS]...`: run a command, append one message per line of its stdout and stderr.
//!
//! Shape: one reader thread per stream reads the child's pipe, passes the bytes through (unless
//! `--quiet`) and cuts them into lines; the main thread receives lines over one channel and appends
//! them. It blocks for the first pending chunk, then takes every chunk already queued (up to the batch
//! limits) and commits them in one lock hold: a lone line is committed as soon as it is read, a burst
//! shares lock holds. Invariants: each stream's lines are stored in the order the child wrote them
//! (one FIFO channel, one reader per stream); the start message is the first this run appends and the
//! exit message the last; no line is lost or reordered by splitting (every piece but a line's last
//! carries `"partial":true`); bytes that are not UTF-8 are stored losslessly in `line_b64`.

use super::open;
use crate::api::{write_json_string, Durability, Pool, Receipt, Record};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::TapArgs;
use crate::error::{Error, ErrorKind};
use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::Instant;

/// Tag on the start message.
pub const TAG_START: &str = "tap.start";
/// Tag on the exit message.
pub const TAG_EXIT: &str = "tap.exit";
/// Exit status when CMD cannot be found (as shells do).
pub const EXIT_NOT_FOUND: i32 = 127;
/// Exit status when CMD exists but cannot be run (as shells do).
pub const EXIT_CANNOT_RUN: i32 = 126;

/// Which of the child's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Stream::Stdout => "tap.stdout",
            Stream::Stderr => "tap.stderr",
        }
    }
}

/// Lines read in one `read` of one stream: `buf[prev end..end]`, `partial` when the line goes on.
struct Chunk {
    stream: Stream,
    buf: Vec<u8>,
    ends: Vec<(usize, bool)>,
}

pub fn run(ctx: &Ctx, a: TapArgs) -> CmdResult {
    if super::remote::is_remote(&a.pool) {
        return Err(Failure::Error(
            Error::usage("tap writes to local pools only")
                .with_hint("run tap on the machine of the pool, or pipe into 'plasmite poke URL'"),
        ));
    }
    let client = ctx.client()?;
    let pool = open(&client, &a.pool, a.create, a.create_size)?;
    let mut sink = Sink::new(pool, &a.tags);
    crate::sys::forward::install();
    let started = Instant::now();
    let mut child = match spawn(&a) {
        Ok(c) => c,
        Err(e) => return spawn_failed(ctx, &mut sink, &a, e),
    };
    crate::sys::forward::arm(child.id());
    let start = start_message(&a, child.id());
    sink.push_raw(start.as_bytes(), TAG_START)?;
    sink.commit()?;
    let (tx, rx) = mpsc::channel();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(reader(Stream::Stdout, out, !a.quiet, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(reader(Stream::Stderr, err, !a.quiet, tx.clone()));
    }
    drop(tx);
    let stored = pump(&mut sink, &rx);
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait();
    crate::sys::forward::disarm();
    stored?;
    let status = status.map_err(|e| Error::io("cannot wait for the command", e))?;
    let (exit, text) = exit_message(status, started, &sink.counts);
    sink.push_raw(text.as_bytes(), TAG_EXIT)?;
    sink.commit()?;
    Ok(Outcome::Exit(exit))
}

fn spawn(a: &TapArgs) -> std::io::Result<std::process::Child> {
    let (cmd, args) = match a.argv.split_first() {
        Some(split) => split,
        None => return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput)),
    };
    std::process::Command::new(cmd)
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
}

/// CMD did not start: the error on stderr, an exit message with the error, 127 or 126.
fn spawn_failed(ctx: &Ctx, sink: &mut Sink, a: &TapArgs, e: std::io::Error) -> CmdResult {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
        _ => EXIT_CANNOT_RUN,
    };
    let name = a
        .argv
        .first()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let err = Error::io(format!("cannot run '{name}'"), e);
    ctx.diag.error(&err);
    let text = serde_json::json!({
        "tap": "exit",
        "code": code,
        "error": err.message(),
        "argv": argv_strings(a),
    })
    .to_string();
    sink.push_raw(text.as_bytes(), TAG_EXIT)?;
    sink.commit()?;
    Ok(Outcome::Exit(code))
}

fn argv_strings(a: &TapArgs) -> Vec<String> {
    a.argv
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect()
}

fn start_message(a: &TapArgs, pid: u32) -> String {
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    serde_json::json!({"tap": "start", "argv": argv_strings(a), "pid": pid, "cwd": cwd}).to_string()
}

/// The exit message and tap's own exit status (the child's code, or 128 + signal).
fn exit_message(
    status: std::process::ExitStatus,
    started: Instant,
    counts: &[u64; 2],
) -> (i32, String) {
    use std::os::unix::process::ExitStatusExt;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let duration_ms = (ms * 1000.0).round() / 1000.0;
    let lines = serde_json::json!({"stdout": counts[0], "stderr": counts[1]});
    match (status.code(), status.signal()) {
        (Some(code), _) => (
            code,
            serde_json::json!({"tap": "exit", "code": code, "duration_ms": duration_ms, "lines": lines})
                .to_string(),
        ),
        (None, sig) => {
            let sig = sig.unwrap_or(0);
            (
                128 + sig,
                serde_json::json!({"tap": "exit", "signal": sig, "duration_ms": duration_ms, "lines": lines})
                    .to_string(),
            )
        }
    }
}

/// Receives chunks until both streams closed, committing whatever is queued after each wait.
fn pump(sink: &mut Sink, rx: &Receiver<Chunk>) -> Result<(), Failure> {
    while let Ok(first) = rx.recv() {
        sink.take(&first)?;
        while !sink.full() {
            match rx.try_recv() {
                Ok(c) => sink.take(&c)?,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        sink.commit()?;
    }
    Ok(())
}

/// Spawns the thread that reads one stream, passes it through and sends its lines.
fn reader<R: Read + Send + 'static>(
    stream: Stream,
    mut src: R,
    pass: bool,
    tx: Sender<Chunk>,
) -> std::thread::JoinHandle<()> {
    let cap = crate::limits::TAP_LINE_BYTES_MAX;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; crate::limits::TAP_READ_BYTES];
        let mut cutter = Cutter::new(stream, cap);
        let mut pass = pass;
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let bytes = buf.get(..n).unwrap_or_default();
            if pass && pass_through(stream, bytes).is_err() {
                pass = false; // our own stdout is gone: keep storing, stop echoing
            }
            let chunk = cutter.cut(bytes);
            if !chunk.ends.is_empty() && tx.send(chunk).is_err() {
                return;
            }
        }
        let last = cutter.finish();
        if !last.ends.is_empty() {
            let _ = tx.send(last);
        }
    })
}

fn pass_through(stream: Stream, bytes: &[u8]) -> std::io::Result<()> {
    match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Stream::Stderr => std::io::stderr().lock().write_all(bytes),
    }
}

/// Cuts a byte stream into lines (without their `\n`), holding at most `cap` bytes of an unfinished
/// line: a longer line is sent in pieces marked partial. Pure: no I/O.
struct Cutter {
    stream: Stream,
    cap: usize,
    pending: Vec<u8>,
}

impl Cutter {
    fn new(stream: Stream, cap: usize) -> Cutter {
        Cutter {
            stream,
            cap: cap.max(4),
            pending: Vec::new(),
        }
    }

    fn chunk(&self) -> Chunk {
        Chunk {
            stream: self.stream,
            buf: Vec::new(),
            ends: Vec::new(),
        }
    }

    fn cut(&mut self, mut bytes: &[u8]) -> Chunk {
        let mut chunk = self.chunk();
        while let Some(i) = bytes.iter().position(|&b| b == b'\n') {
            let (line, rest) = bytes.split_at(i);
            self.pending.extend_from_slice(line);
            self.flush_full(&mut chunk);
            chunk.buf.extend_from_slice(&self.pending);
            chunk.ends.push((chunk.buf.len(), false));
            self.pending.clear();
            bytes = rest.get(1..).unwrap_or_default();
        }
        self.pending.extend_from_slice(bytes);
        self.flush_full(&mut chunk);
        chunk
    }

    /// Moves whole `cap`-sized pieces of the pending line into `chunk`, cut at a UTF-8 boundary.
    fn flush_full(&mut self, chunk: &mut Chunk) {
        while self.pending.len() > self.cap {
            let at = char_boundary(&self.pending, self.cap);
            chunk.buf.extend(self.pending.drain(..at));
            chunk.ends.push((chunk.buf.len(), true));
        }
    }

    /// The unfinished last line (output that did not end with a newline), if any.
    fn finish(&mut self) -> Chunk {
        let mut chunk = self.chunk();
        if !self.pending.is_empty() {
            chunk.buf.append(&mut self.pending);
            chunk.ends.push((chunk.buf.len(), false));
        }
        chunk
    }
}

/// A cut point at or below `at` that does not split a UTF-8 sequence (when the bytes are UTF-8);
/// never 0 for a non-empty slice, so every cut makes progress.
fn char_boundary(bytes: &[u8], at: usize) -> usize {
    let at = at.min(bytes.len());
    let mut i = at;
    while i > 0 && i + 4 > at && bytes.get(i).is_some_and(|b| b & 0xC0 == 0x80) {
        i -= 1;
    }
    if i == 0 {
        at.max(1)
    } else {
        i
    }
}

/// Encoded messages waiting for one commit.
struct Sink {
    pool: Pool,
    /// User tags + the message's own tag, one list per kind (start, exit, stdout, stderr).
    tags: [Vec<String>; 4],
    buf: Vec<u8>,
    ends: Vec<(usize, usize)>,
    receipts: Vec<Receipt>,
    /// Lines stored per stream (stdout, stderr), pieces counted once per line.
    counts: [u64; 2],
}

impl Sink {
    fn new(pool: Pool, user: &[String]) -> Sink {
        let with = |t: &str| {
            let mut v = user.to_vec();
            v.push(t.to_owned());
            v
        };
        Sink {
            pool,
            tags: [
                with(TAG_START),
                with(TAG_EXIT),
                with(Stream::Stdout.tag()),
                with(Stream::Stderr.tag()),
            ],
            buf: Vec::with_capacity(1 << 16),
            ends: Vec::with_capacity(1024),
            receipts: Vec::with_capacity(1024),
            counts: [0; 2],
        }
    }

    fn tag_index(tag: &str) -> usize {
        match tag {
            TAG_START => 0,
            TAG_EXIT => 1,
            "tap.stdout" => 2,
            _ => 3,
        }
    }

    fn full(&self) -> bool {
        self.ends.len() >= crate::limits::BATCH_MESSAGES_MAX
            || self.buf.len() >= crate::limits::BATCH_BYTES_MAX
    }

    /// Queues an already-encoded JSON message.
    fn push_raw(&mut self, json: &[u8], tag: &str) -> Result<(), Failure> {
        self.buf.extend_from_slice(json);
        self.ends.push((self.buf.len(), Self::tag_index(tag)));
        self.check_last()
            .map_err(|e| Failure::Error(Error::usage(e.message().to_owned())))
    }

    fn take(&mut self, chunk: &Chunk) -> Result<(), Failure> {
        let mut start = 0;
        for &(end, partial) in &chunk.ends {
            let line = chunk.buf.get(start..end).unwrap_or_default();
            self.push_line(chunk.stream, line, partial)?;
            if !partial {
                self.counts[usize::from(chunk.stream == Stream::Stderr)] += 1;
            }
            start = end;
        }
        Ok(())
    }

    /// Queues one line; when its message does not fit the pool, stores it in halves (all but the
    /// last marked partial).
    fn push_line(&mut self, stream: Stream, line: &[u8], partial: bool) -> Result<(), Failure> {
        let mark = self.buf.len();
        encode_line(stream, line, partial, &mut self.buf);
        self.ends
            .push((self.buf.len(), Self::tag_index(stream.tag())));
        if self.check_last().is_ok() {
            return Ok(());
        }
        self.ends.pop();
        self.buf.truncate(mark);
        if line.len() < 2 {
            return Err(Failure::Error(
                Error::new(
                    ErrorKind::Usage,
                    "this pool's messages are too small for tap's line messages",
                )
                .with_hint("use a bigger pool (pool create --size)"),
            ));
        }
        let at = char_boundary(line, line.len() / 2);
        let (head, tail) = line.split_at(at);
        self.push_line(stream, head, true)?;
        self.push_line(stream, tail, partial)
    }

    fn check_last(&self) -> crate::error::Result<()> {
        let (end, tags) = self.ends.last().copied().unwrap_or((0, 0));
        let start = match self.ends.len() {
            0 | 1 => 0,
            n => self.ends.get(n - 2).map_or(0, |e| e.0),
        };
        self.pool.check_item(&Record {
            data: self.buf.get(start..end).unwrap_or_default(),
            tags: &self.tags[tags][..],
        })
    }

    fn commit(&mut self) -> Result<(), Failure> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let mut start = 0;
        let items: Vec<Record<'_, String>> = self
            .ends
            .iter()
            .map(|&(end, t)| {
                let it = Record {
                    data: self.buf.get(start..end).unwrap_or_default(),
                    tags: &self.tags[t][..],
                };
                start = end;
                it
            })
            .collect();
        self.receipts.clear();
        let r = self
            .pool
            .append_items(&items, Durability::Fast, &mut self.receipts);
        self.buf.clear();
        self.ends.clear();
        r.map_err(Failure::Error)
    }
}

/// `{"stream":S,"line":TEXT}` plus `"partial":true` for a piece that the next message continues, and
/// for bytes that are not UTF-8 `"invalid_utf8":true,"line_b64":RAW` (TEXT then has U+FFFD in place
/// of each bad sequence; RAW is the exact bytes, standard base64 with padding).
pub(crate) fn encode_line(stream: Stream, line: &[u8], partial: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"stream\":\"");
    out.extend_from_slice(stream.name().as_bytes());
    out.extend_from_slice(b"\",\"line\":");
    match std::str::from_utf8(line) {
        Ok(text) => write_json_string(text, out),
        Err(_) => {
            write_json_string(&String::from_utf8_lossy(line), out);
            out.extend_from_slice(b",\"invalid_utf8\":true,\"line_b64\":\"");
            base64(line, out);
            out.push(b'"');
        }
    }
    if partial {
        out.extend_from_slice(b",\"partial\":true");
    }
    out.push(b'}');
}

/// Standard base64 (RFC 4648 section 4) with padding.
fn base64(bytes: &[u8], out: &mut Vec<u8>) {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u32| ABC[(v & 63) as usize];
    for group in bytes.chunks(3) {
        let b = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
        let v = b(0) << 16 | b(1) << 8 | b(2);
        out.push(sym(v >> 18));
        out.push(sym(v >> 12));
        out.push(if group.len() > 1 { sym(v >> 6) } else { b'=' });
        out.push(if group.len() > 2 { sym(v) } else { b'=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(c: &Chunk) -> Vec<(String, bool)> {
        let mut start = 0;
        c.ends
            .iter()
            .map(|&(end, p)| {
                let s = String::from_utf8_lossy(&c.buf[start..end]).into_owned();
                start = end;
                (s, p)
            })
            .collect()
    }

    #[test]
    fn cutter_keeps_lines_across_reads_and_the_unterminated_tail() {
        let mut c = Cutter::new(Stream::Stdout, 100);
        assert_eq!(lines(&c.cut(b"a\nb")), [("a".into(), false)]);
        assert_eq!(
            lines(&c.cut(b"c\n\nd")),
            [("bc".into(), false), (String::new(), false)]
        );
        assert_eq!(lines(&c.finish()), [("d".into(), false)]);
        assert!(c.finish().ends.is_empty());
    }

    #[test]
    fn cutter_splits_at_the_line_limit_edge() {
        let max = crate::limits::TAP_LINE_BYTES_MAX;
        let mut c = Cutter::new(Stream::Stdout, max);
        let mut exact = vec![b'x'; max];
        exact.push(b'\n');
        let got = lines(&c.cut(&exact));
        assert_eq!(got.len(), 1);
        assert!(!got[0].1);
        let over = vec![b'y'; max + 1];
        let got = lines(&c.cut(&over));
        assert_eq!((got.len(), got[0].0.len(), got[0].1), (1, max, true));
        assert_eq!(lines(&c.finish()), [("y".into(), false)]);
    }

    #[test]
    fn cuts_never_split_a_utf8_character() {
        let mut c = Cutter::new(Stream::Stdout, 5);
        let got = lines(&c.cut("aéééé\n".as_bytes()));
        assert!(got.iter().all(|(s, _)| !s.contains('\u{FFFD}')), "{got:?}");
        assert_eq!(
            got.iter().map(|(s, _)| s.as_str()).collect::<String>(),
            "aéééé"
        );
        assert_eq!(char_boundary(&[0x80, 0x80, 0x80, 0x80, 0x80], 3), 3);
    }

    #[test]
    fn encode_line_shapes() {
        let enc = |s: &[u8], p| {
            let mut v = Vec::new();
            encode_line(Stream::Stderr, s, p, &mut v);
            String::from_utf8(v).unwrap_or_default()
        };
        assert_eq!(
            enc(b"hi \"x\"", false),
            r#"{"stream":"stderr","line":"hi \"x\""}"#
        );
        assert_eq!(
            enc(b"a", true),
            r#"{"stream":"stderr","line":"a","partial":true}"#
        );
        assert_eq!(
            enc(b"a\xffb", false),
            r#"{"stream":"stderr","line":"a\ufffdb","invalid_utf8":true,"line_b64":"Yf9i"}"#
                .replace("\\ufffd", "\u{FFFD}")
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (raw, b64) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = Vec::new();
            base64(raw.as_bytes(), &mut out);
            assert_eq!(String::from_utf8_lossy(&out), b64);
        }
    }
}
