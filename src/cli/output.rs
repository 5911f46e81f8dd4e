//! What the CLI prints: data on stdout (JSON Lines, or pretty JSON with optional colour on a terminal),
//! errors and notices on stderr (short human lines on a terminal, one JSON object per line otherwise).
//!
//! Invariants: stdout carries only data; JSON Lines never carry colour; a closed stdout is reported as
//! [`Closed`] so commands end quietly with exit 0.

use crate::api::{write_envelope, write_json_string};
use crate::cli::args::{Color, OutputFormat};
use crate::cli::render::{Mode, Paint};
use crate::error::Error;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Stdout was closed by the reader (`pls peek x | head`): stop quietly.
#[derive(Debug)]
pub struct Closed;

/// Result of writing to stdout.
pub type OutResult = Result<(), OutError>;

/// A failed write: the pipe closed (normal end) or a real I/O error.
#[derive(Debug)]
pub enum OutError {
    Closed(Closed),
    Io(io::Error),
}

impl From<io::Error> for OutError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            OutError::Closed(Closed)
        } else {
            OutError::Io(e)
        }
    }
}

/// The resolved output style of one command.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub pretty: bool,
    pub color: bool,
    pub data_only: bool,
}

impl Style {
    /// Pretty when asked, or by default on a terminal; colour only for pretty output on a terminal
    /// (or `--color always`), never with `--color never`.
    pub fn resolve(format: Option<OutputFormat>, color: Color, data_only: bool) -> Style {
        let tty = io::stdout().is_terminal();
        let pretty = match format {
            Some(OutputFormat::Pretty) => true,
            Some(OutputFormat::Jsonl) => false,
            None => tty,
        };
        let color = pretty
            && match color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => tty && std::env::var_os("NO_COLOR").is_none(),
            };
        Style {
            pretty,
            color,
            data_only,
        }
    }
}

/// Buffered stdout with the style applied.
pub struct Out {
    w: io::BufWriter<io::Stdout>,
    style: Style,
    line: Vec<u8>,
}

impl Out {
    pub fn new(style: Style) -> Out {
        Out {
            w: io::BufWriter::with_capacity(1 << 16, io::stdout()),
            style,
            line: Vec::with_capacity(1024),
        }
    }

    /// Writes one message (envelope or data only).
    pub fn message<'t>(
        &mut self,
        seq: u64,
        time_ns: u64,
        tags: impl Iterator<Item = &'t str>,
        data: &str,
    ) -> OutResult {
        self.line.clear();
        if self.style.data_only {
            self.line.extend_from_slice(data.as_bytes());
        } else {
            write_envelope(seq, time_ns, tags, data, &mut self.line);
        }
        self.emit_line()
    }

    /// Writes one JSON value.
    pub fn value(&mut self, v: &serde_json::Value) -> OutResult {
        self.line.clear();
        // serde_json keeps map order here only as inserted (preserve_order is off): callers build
        // objects whose key order does not matter beyond readability.
        serde_json::to_writer(&mut self.line, v).map_err(io::Error::from)?;
        self.emit_line()
    }

    fn emit_line(&mut self) -> OutResult {
        if self.style.pretty {
            let mut p = Vec::with_capacity(self.line.len() * 2);
            pretty(&self.line, self.style.color, &mut p);
            self.w.write_all(&p)?;
        } else {
            self.w.write_all(&self.line)?;
        }
        self.w.write_all(b"\n")?;
        Ok(())
    }

    /// Writes one JSON value given as compact text (from `render::json`), indented when pretty.
    pub fn json_text(&mut self, compact: &str) -> OutResult {
        self.line.clear();
        self.line.extend_from_slice(compact.as_bytes());
        self.emit_line()
    }

    /// Writes raw text (help, completions).
    pub fn text(&mut self, s: &str) -> OutResult {
        self.w.write_all(s.as_bytes())?;
        Ok(())
    }

    pub fn flush(&mut self) -> OutResult {
        self.w.flush()?;
        Ok(())
    }
}

const INDENT: &[u8] = b"  ";
const C_KEY: &[u8] = b"\x1b[34m";
const C_STR: &[u8] = b"\x1b[32m";
const C_NUM: &[u8] = b"\x1b[36m";
const C_LIT: &[u8] = b"\x1b[35m";
const C_OFF: &[u8] = b"\x1b[0m";

/// Re-indents compact JSON text (two spaces), keeping every token's text as is; optional ANSI colour.
pub fn pretty(compact: &[u8], color: bool, out: &mut Vec<u8>) {
    let mut depth = 0usize;
    let mut i = 0;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        for _ in 0..depth {
            out.extend_from_slice(INDENT);
        }
    };
    while let Some(&b) = compact.get(i) {
        match b {
            b'{' | b'[' => {
                out.push(b);
                let close = if b == b'{' { b'}' } else { b']' };
                if compact.get(i + 1) == Some(&close) {
                    out.push(close);
                    i += 2;
                    continue;
                }
                depth += 1;
                newline(out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b',');
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b'"' => {
                let end = string_end(compact, i);
                let is_key = compact.get(end) == Some(&b':');
                paint(
                    out,
                    color,
                    if is_key { C_KEY } else { C_STR },
                    &compact[i..end],
                );
                i = end;
                continue;
            }
            _ => {
                let end = compact[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b':'))
                    .map_or(compact.len(), |p| i + p);
                let tok = &compact[i..end];
                let c = if tok
                    .first()
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'-')
                {
                    C_NUM
                } else {
                    C_LIT
                };
                paint(out, color, c, tok);
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

fn paint(out: &mut Vec<u8>, color: bool, c: &[u8], tok: &[u8]) {
    if color {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(tok);
    if color {
        out.extend_from_slice(C_OFF);
    }
}

/// Index just past the string starting at `start` (which is a `"`).
fn string_end(s: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(&b) = s.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    s.len()
}

/// The name the program was run as: `pls` when invoked as `pls`, else `plasmite` (hints and help
/// examples use it).
pub fn program_name() -> &'static str {
    static NAME: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let arg0 = std::env::args_os().next().unwrap_or_default();
        let stem = std::path::Path::new(&arg0)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        if stem.as_deref() == Some("pls") {
            "pls"
        } else {
            "plasmite"
        }
    })
}

/// `text` with every `'plasmite ` command quoted in it spelled with the name the program was run as.
pub fn as_invoked(text: &str) -> String {
    let name = program_name();
    if name == "plasmite" {
        text.to_owned()
    } else {
        text.replace("'plasmite ", &format!("'{name} "))
    }
}

/// Colour for the human format of the management commands: on a terminal with `--color auto`
/// (unless `NO_COLOR` is set), always with `--color always`, never with `--color never`.
pub fn human_colour(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// `1 message`, `N messages`.
fn plural_messages(n: u64) -> String {
    if n == 1 {
        "1 message".to_owned()
    } else {
        format!("{n} messages")
    }
}

/// Stdout for a management command (`pool …`, `doctor`): the human format on a terminal, JSON
/// otherwise or when a format is forced (see `render::Mode`).
pub struct Reporter {
    pub mode: Mode,
    pub paint: Paint,
    /// The name the program was run as, for hints in empty states.
    pub prog: &'static str,
    out: Out,
}

impl Reporter {
    pub fn new(format: Option<OutputFormat>, color: Color) -> Reporter {
        let mode = Mode::resolve(format, io::stdout().is_terminal());
        let colour = human_colour(color);
        let pretty = mode == Mode::Json { pretty: true };
        Reporter {
            mode,
            paint: Paint {
                on: mode == Mode::Human && colour,
            },
            prog: program_name(),
            out: Out::new(Style {
                pretty,
                color: pretty && colour,
                data_only: false,
            }),
        }
    }

    pub fn is_human(&self) -> bool {
        self.mode == Mode::Human
    }

    /// Prints `human()` in the human format, else the JSON text `json()` as one line.
    pub fn emit(
        &mut self,
        json: impl FnOnce() -> String,
        human: impl FnOnce() -> String,
    ) -> OutResult {
        match self.mode {
            Mode::Human => self.out.text(&human()),
            Mode::Json { .. } => self.out.json_text(&json()),
        }
    }

    /// Prints text in the human format only (tables' empty states, summaries).
    pub fn human(&mut self, human: impl FnOnce() -> String) -> OutResult {
        match self.mode {
            Mode::Human => self.out.text(&human()),
            Mode::Json { .. } => Ok(()),
        }
    }

    pub fn flush(&mut self) -> OutResult {
        self.out.flush()
    }
}

/// Errors and notices on stderr.
pub struct Diag {
    tty: bool,
    /// An undecided `--where` was reported already (it is reported once per run).
    undecided: AtomicBool,
    /// The last error reported was `Corrupt`: the next drop is the reader skipping those bytes.
    after_corrupt: AtomicBool,
}

impl Default for Diag {
    fn default() -> Self {
        Diag::new()
    }
}

impl Diag {
    pub fn new() -> Diag {
        Diag {
            tty: io::stderr().is_terminal(),
            undecided: AtomicBool::new(false),
            after_corrupt: AtomicBool::new(false),
        }
    }

    /// Reports `lost` messages a reader could not deliver (unless `quiet`): overwritten by writers that
    /// lapped it, or, right after a `Corrupt` error, unreadable frames it skipped. Both are `drop`
    /// notices; `reason` tells them apart.
    pub fn dropped(&self, lost: u64, quiet: bool) {
        let corrupt = self.after_corrupt.swap(false, Ordering::Relaxed);
        if quiet {
            return;
        }
        let n = plural_messages(lost);
        let (text, reason) = if corrupt {
            (
                format!("skipped {n} that could not be read (see the Corrupt error above)"),
                "corrupt",
            )
        } else if lost == 1 {
            (
                "1 message was overwritten before it could be read".to_owned(),
                "overwritten",
            )
        } else {
            (
                format!("{n} were overwritten before they could be read"),
                "overwritten",
            )
        };
        self.notice(
            "drop",
            &text,
            &[("lost", lost.into()), ("reason", reason.into())],
        );
    }

    /// The `--where` verdict for message `seq`: a limit that left the predicate undecided is reported
    /// once per run as an `undecided` notice (never silently read as false), and the message is not
    /// shown.
    pub fn where_verdict(&self, verdict: Result<bool, crate::filter::EvalError>, seq: u64) -> bool {
        match verdict {
            Ok(b) => b,
            Err(e) => {
                if !self.undecided.swap(true, Ordering::Relaxed) {
                    let text = format!(
                        "--where could not decide message {seq}: {e}; undecided messages are not \
                         shown (reported once)"
                    );
                    self.notice("undecided", &text, &[("seq", seq.into())]);
                }
                false
            }
        }
    }

    /// Reports an error: `error: …` + `hint: …` on a terminal, the JSON envelope otherwise (keys in
    /// the order `kind, message, hint, path, seq, offset, lost`). Commands quoted in the hint use the name
    /// the program was run as.
    pub fn error(&self, e: &Error) {
        let mut s = Vec::new();
        self.after_corrupt.store(
            e.kind() == crate::error::ErrorKind::Corrupt,
            Ordering::Relaxed,
        );
        let hint = e.hint().map(as_invoked);
        if self.tty {
            s.extend_from_slice(format!("error: {e}\n").as_bytes());
            if let Some(h) = &hint {
                s.extend_from_slice(format!("hint: {h}\n").as_bytes());
            }
        } else {
            let inner = crate::cli::render::json::error_inner(e, hint.as_deref());
            s.extend_from_slice(b"{\"error\":");
            s.extend_from_slice(inner.as_bytes());
            s.push(b'}');
            s.push(b'\n');
        }
        let _ = io::stderr().write_all(&s);
    }

    /// Reports a notice: `{"notice":{"kind":KIND, …fields}}` or `notice: TEXT` on a terminal.
    pub fn notice(&self, kind: &str, text: &str, fields: &[(&str, serde_json::Value)]) {
        let mut s = Vec::new();
        if self.tty {
            s.extend_from_slice(format!("notice: {text}\n").as_bytes());
        } else {
            s.extend_from_slice(b"{\"notice\":{\"kind\":");
            write_json_string(kind, &mut s);
            s.extend_from_slice(b",\"message\":");
            write_json_string(text, &mut s);
            for (k, v) in fields {
                s.push(b',');
                write_json_string(k, &mut s);
                s.push(b':');
                s.extend_from_slice(v.to_string().as_bytes());
            }
            s.extend_from_slice(b"}}\n");
        }
        let _ = io::stderr().write_all(&s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_reindents_without_touching_tokens() {
        let mut out = Vec::new();
        pretty(br#"{"a":[1,2.50,{}],"b":"x,\"y:","c":[]}"#, false, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "{\n  \"a\": [\n    1,\n    2.50,\n    {}\n  ],\n  \"b\": \"x,\\\"y:\",\n  \"c\": []\n}"
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["b"], "x,\"y:");
    }

    #[test]
    fn colour_wraps_tokens_only_when_asked() {
        let mut plain = Vec::new();
        pretty(br#"{"k":true}"#, false, &mut plain);
        assert!(!plain.contains(&0x1b));
        let mut col = Vec::new();
        pretty(br#"{"k":true}"#, true, &mut col);
        assert!(col.windows(C_KEY.len()).any(|w| w == C_KEY));
    }
}
