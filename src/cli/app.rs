//! The CLI's `main`: parse, run the command, map the outcome to an exit code (the only place that does).
//!
//! Exit codes: 0 ok; 1 Internal; 2 Usage; 3 NotFound; 4 AlreadyExists; 5 Busy; 6 Permission; 7 Corrupt;
//! 8 Io; 65 `poke --errors skip` skipped records (sysexits' EX_DATAERR); 124 `peek --timeout` expired;
//! 130 interrupted (Ctrl-C / SIGTERM).

use super::args::{self, Command, Invocation};
use super::cmd;
use super::output::{Closed, Diag, Out, OutError, Reporter, Style};
use crate::api::Client;
use crate::error::{Error, ErrorKind};

/// Exit code when `poke --errors skip` skipped at least one record (every other record was committed).
/// Distinct from every error kind's code, so a script can tell "some records skipped" from "wrong flag";
/// the value is sysexits' EX_DATAERR ("the input data was incorrect").
pub const EXIT_SKIPPED: i32 = 65;
/// Exit code when `peek --timeout` expires.
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit code after Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Some input records were skipped (`poke --errors skip`): exit [`EXIT_SKIPPED`].
    Skipped,
    Timeout,
    Interrupted,
    /// Exit with this code (`tap` passes its child's status on).
    Exit(i32),
}

/// A command's failure: an error to report, or stdout closed (quiet exit 0).
#[derive(Debug)]
pub enum Failure {
    Error(Error),
    /// Errors were already printed (commands over several pools); exit with this kind's code.
    Reported(ErrorKind),
    Closed,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<OutError> for Failure {
    fn from(e: OutError) -> Self {
        match e {
            OutError::Closed(Closed) => Failure::Closed,
            OutError::Io(io) => Failure::Error(Error::io("cannot write to stdout", io)),
        }
    }
}

/// Result of running a command.
pub type CmdResult = Result<Outcome, Failure>;

/// Everything a command needs besides its own arguments.
pub struct Ctx {
    pub global: args::Global,
    pub diag: Diag,
}

impl Ctx {
    /// The client over `--dir` or the default pool directory.
    pub fn client(&self) -> Result<Client, Error> {
        match &self.global.dir {
            Some(d) => Ok(Client::new(d)),
            None => Client::default_dir().map(Client::new),
        }
    }

    /// Stdout for a management command (human on a terminal, JSON otherwise).
    pub fn reporter(&self, format: Option<args::OutputFormat>) -> Reporter {
        Reporter::new(format, self.global.color)
    }

    /// Stdout with the command's style.
    pub fn out(&self, format: Option<args::OutputFormat>, data_only: bool) -> Out {
        Out::new(Style::resolve(format, self.global.color, data_only))
    }
}

/// Runs the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    run(argv)
}

/// Runs the CLI with `argv` (without the program name); returns the exit code.
pub fn run(argv: Vec<std::ffi::OsString>) -> i32 {
    let diag = Diag::new();
    let inv: Invocation = match args::parse(argv) {
        Ok(i) => i,
        Err(u) => {
            let mut e = Error::usage(u.message.clone());
            if let Some(h) = &u.hint {
                e = e.with_hint(h.clone());
            }
            diag.error(&e);
            return ErrorKind::Usage.exit_code();
        }
    };
    let ctx = Ctx {
        global: inv.global,
        diag,
    };
    match dispatch(&ctx, inv.command) {
        Ok(Outcome::Ok) | Err(Failure::Closed) => 0,
        Ok(Outcome::Skipped) => EXIT_SKIPPED,
        Ok(Outcome::Timeout) => EXIT_TIMEOUT,
        Ok(Outcome::Interrupted) => EXIT_INTERRUPTED,
        Ok(Outcome::Exit(code)) => code,
        Err(Failure::Error(e)) => {
            ctx.diag.error(&e);
            e.kind().exit_code()
        }
        Err(Failure::Reported(kind)) => kind.exit_code(),
    }
}

fn dispatch(ctx: &Ctx, command: Command) -> CmdResult {
    match command {
        Command::Help { topic } => {
            let text = super::help::render(topic.as_deref()).map_err(|u| {
                let e = Error::usage(u.message.clone());
                match &u.hint {
                    Some(h) => e.with_hint(h.clone()),
                    None => e,
                }
            })?;
            let mut out = ctx.out(Some(args::OutputFormat::Jsonl), false);
            out.text(&text)?;
            out.flush()?;
            Ok(Outcome::Ok)
        }
        Command::Version => {
            let mut out = ctx.out(Some(args::OutputFormat::Jsonl), false);
            out.text(&format!(
                "plasmite {} (pool format {})\n",
                env!("CARGO_PKG_VERSION"),
                crate::pool::format::FORMAT_VERSION
            ))?;
            out.flush()?;
            Ok(Outcome::Ok)
        }
        Command::Completion(a) => {
            let mut out = ctx.out(Some(args::OutputFormat::Jsonl), false);
            out.text(&super::completion::render(a.shell))?;
            out.flush()?;
            Ok(Outcome::Ok)
        }
        Command::Poke(a) => cmd::poke::run(ctx, a),
        Command::Peek(a) => cmd::peek::run(ctx, a),
        Command::Get(a) => cmd::get::run(ctx, a),
        Command::Tap(a) => cmd::tap::run(ctx, a),
        Command::Duplex(a) => cmd::duplex::run(ctx, a),
        Command::PoolCreate(a) => cmd::pool::create(ctx, a),
        Command::PoolList(a) => cmd::pool::list(ctx, a),
        Command::PoolInfo(a) => cmd::pool::info(ctx, a),
        Command::PoolDelete(a) => cmd::pool::delete(ctx, a),
        Command::PoolCursors(a) => cmd::pool::cursors(ctx, a),
        Command::PoolCursorDelete(a) => cmd::pool::cursor_delete(ctx, a),
        Command::Doctor(a) => cmd::doctor::run(ctx, a),
        Command::Serve(a) => cmd::serve::run(ctx, a),
        Command::ServeInit(a) => cmd::serve::init(ctx, a),
        Command::ServeCheck(a) => cmd::serve::check(ctx, a),
        Command::Mcp(a) => cmd::mcp::run(ctx, a),
    }
}
