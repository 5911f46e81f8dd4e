//! Command-line parsing: argv (without argv\[0\]) → [`Invocation`], with no I/O.
//!
//! Owns the grammar `plasmite [GLOBAL FLAGS] COMMAND [SUBCOMMAND] [FLAGS|ARGS]...`.
//! Each command has its own module with one `lexopt` loop filling that command's
//! struct (parse-then-act: nothing is executed here). Invariants:
//! - every flag is resolved through [`crate::cli::flags::FLAGS`]; a flag that is not in
//!   the table for the current command is a [`UsageErrorKind::UnknownFlag`] error;
//! - global flags are only accepted before the command name;
//! - `-h`/`--help` anywhere before `--` yields [`Command::Help`] for the command being
//!   parsed (errors found earlier on the line win);
//! - an argument of the form `-<digit>...` is always a positional value, never a flag
//!   (no flag is a digit), so `pls poke chat -5` sends `-5`;
//! - a non-repeatable flag given twice is an error; repeatable ones keep their order;
//! - nothing here panics on any input.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod get;
mod lex;
mod mcp;
mod misc;
mod peek;
mod poke;
mod pool;
mod serve;
#[cfg(test)]
mod table_check;
mod tap;
pub mod types;

pub use tap::{DuplexArgs, TapArgs};
pub use types::*;

use crate::cli::commands::{self, CommandId};
use crate::cli::flags::FlagId;
use lex::{Item, Lex};
use std::ffi::OsString;
use std::fmt;

/// Stable category of a [`UsageError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageErrorKind {
    /// No command was given.
    MissingCommand,
    /// The command (or subcommand) name is not known.
    UnknownCommand,
    /// `help TOPIC` with an unknown topic.
    UnknownTopic,
    /// A flag that the current command does not accept.
    UnknownFlag,
    /// A flag that needs a value got none.
    MissingValue,
    /// A switch was given a value (`--one=yes`).
    UnexpectedValue,
    /// A value that does not parse or is out of range.
    InvalidValue,
    /// A required positional argument is missing.
    MissingArgument,
    /// More positional arguments than the command takes.
    UnexpectedArgument,
    /// Two flags (or a flag and an argument) that cannot be combined, or a flag that
    /// needs another one.
    Conflict,
    /// A non-repeatable flag was given more than once.
    Repeated,
    /// An argument is not valid UTF-8 where text is required.
    NotUnicode,
}

/// A command-line mistake: what is wrong (naming the flag or argument) and,
/// when useful, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// Stable category.
    pub kind: UsageErrorKind,
    /// Human message, e.g. `invalid value 'x' for --tail: expected a whole number`.
    pub message: String,
    /// Suggested next step, e.g. `run 'plasmite peek --help'`.
    pub hint: Option<String>,
}

impl UsageError {
    /// Builds an error with no hint.
    pub fn new(kind: UsageErrorKind, message: impl Into<String>) -> Self {
        UsageError {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Shows the message only; the hint is a separate field for the caller to print.
impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// `run 'plasmite CMD --help'` (or the top-level form for the root).
pub(crate) fn help_hint(cmd: CommandId) -> String {
    match commands::path_of(cmd) {
        "" => "run 'plasmite --help'".to_owned(),
        path => format!("run 'plasmite {path} --help'"),
    }
}

/// `usage: plasmite CMD USAGE`.
pub(crate) fn usage_hint(cmd: CommandId) -> String {
    match commands::spec(cmd) {
        Some(spec) if spec.usage.is_empty() => format!("usage: plasmite {}", spec.path),
        Some(spec) => format!("usage: plasmite {} {}", spec.path, spec.usage),
        None => "usage: plasmite [GLOBAL FLAGS] COMMAND [ARGS]".to_owned(),
    }
}

/// Parses the command line (without argv\[0\]).
pub fn parse(args: Vec<OsString>) -> Result<Invocation, UsageError> {
    let mut lex = Lex::new(args);
    let mut global = Global::default();
    let name = loop {
        match lex.next()? {
            None => {
                return Err(
                    UsageError::new(UsageErrorKind::MissingCommand, "no command given")
                        .with_hint("run 'plasmite --help' to see the commands"),
                )
            }
            Some(Item::Help) => return Ok(help_invocation(global, None)),
            Some(Item::Value(value)) => break lex::utf8(value, "command name")?,
            Some(Item::Flag(flag)) => match flag.id {
                FlagId::Dir => global.dir = Some(lex.path(flag)?),
                FlagId::Color => global.color = lex.choice(flag, Color::from_name)?,
                FlagId::Version => {
                    return Ok(Invocation {
                        global,
                        command: Command::Version,
                    })
                }
                _ => return Err(lex.unhandled(flag)),
            },
        }
    };
    let command = dispatch(&mut lex, &name)?;
    Ok(Invocation { global, command })
}

fn help_invocation(global: Global, topic: Option<&str>) -> Invocation {
    Invocation {
        global,
        command: Command::Help {
            topic: topic.map(str::to_owned),
        },
    }
}

/// Runs the parser of the top-level command `name`.
fn dispatch(lex: &mut Lex, name: &str) -> Result<Command, UsageError> {
    match name {
        "poke" | "feed" => poke::parse(lex),
        "peek" | "follow" => peek::parse(lex),
        "get" | "fetch" => get::parse(lex),
        "tap" => tap::parse_tap(lex),
        "duplex" => tap::parse_duplex(lex),
        "pool" => pool::parse(lex),
        "doctor" => misc::parse_doctor(lex),
        "serve" => serve::parse(lex),
        "mcp" => mcp::parse(lex),
        "completion" => misc::parse_completion(lex),
        "version" => misc::parse_version(lex),
        "help" => misc::parse_help(lex),
        _ => Err(unknown_command(
            name,
            commands::top_level()
                .map(|c| c.path)
                .chain(commands::ALIASES.iter().map(|a| a.name)),
            None,
        )),
    }
}

/// Error for an unknown (sub)command, with a "did you mean" hint when one is close.
pub(crate) fn unknown_command<'a>(
    name: &str,
    known: impl Iterator<Item = &'a str>,
    group: Option<&str>,
) -> UsageError {
    let known: Vec<&str> = known
        .map(|path| path.rsplit(' ').next().unwrap_or(path))
        .collect();
    let what = match group {
        Some(g) => format!("unknown '{g}' subcommand '{name}'"),
        None => format!("unknown command '{name}'"),
    };
    let hint = match lex::closest(name, known.iter().copied()) {
        Some(best) => format!("did you mean '{best}'?"),
        None => format!("expected one of: {}", known.join(", ")),
    };
    UsageError::new(UsageErrorKind::UnknownCommand, what).with_hint(hint)
}

/// Error for `help TOPIC` with no such page.
pub(crate) fn unknown_topic(topic: &str) -> UsageError {
    UsageError::new(
        UsageErrorKind::UnknownTopic,
        format!("no help for '{topic}': not a command"),
    )
    .with_hint(format!(
        "{}; commands: {}",
        help_hint(CommandId::Root),
        commands::top_level()
            .map(|c| c.path)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Every spelling of `flag`, with and without an attached value (test vocabulary).
#[cfg(test)]
fn lex_test_spellings(flag: &crate::cli::flags::FlagSpec) -> Vec<String> {
    let mut out = vec![format!("--{}", flag.long), format!("--{}=", flag.long)];
    if let Some(s) = flag.short {
        out.push(format!("-{s}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    pub(crate) fn run(args: &[&str]) -> Result<Invocation, UsageError> {
        parse(args.iter().map(OsString::from).collect())
    }

    pub(crate) fn kind(args: &[&str]) -> Option<UsageErrorKind> {
        run(args).err().map(|e| e.kind)
    }

    fn topic(args: &[&str]) -> Option<Option<String>> {
        match run(args) {
            Ok(Invocation {
                command: Command::Help { topic },
                ..
            }) => Some(topic),
            _ => None,
        }
    }

    #[test]
    fn global_flags_before_the_command() {
        let inv = run(&["--dir", "/tmp/pools", "--color", "never", "pool", "list"]);
        let inv = inv.ok();
        assert_eq!(
            inv.as_ref().map(|i| i.global.clone()),
            Some(Global {
                dir: Some(PathBuf::from("/tmp/pools")),
                color: Color::Never
            })
        );
        let inv = run(&["--color=always", "version"]).ok();
        assert_eq!(inv.map(|i| i.global.color), Some(Color::Always));
    }

    #[test]
    fn global_defaults() {
        let inv = run(&["version"]).ok();
        assert_eq!(inv.map(|i| i.global), Some(Global::default()));
        assert_eq!(Global::default().color, Color::Auto);
    }

    #[test]
    fn global_flag_errors_name_the_flag() {
        let cases: &[(&[&str], UsageErrorKind, &str)] = &[
            (
                &["--color", "sometimes", "version"],
                UsageErrorKind::InvalidValue,
                "--color",
            ),
            (&["--color"], UsageErrorKind::MissingValue, "--color"),
            (&["--dir"], UsageErrorKind::MissingValue, "--dir"),
            (
                &["--dir", "", "version"],
                UsageErrorKind::InvalidValue,
                "--dir",
            ),
            (
                &["--dir", "a", "--dir", "b", "version"],
                UsageErrorKind::Repeated,
                "--dir",
            ),
            (
                &["--nope", "version"],
                UsageErrorKind::UnknownFlag,
                "--nope",
            ),
            (&["-x", "version"], UsageErrorKind::UnknownFlag, "-x"),
            (
                &["--version=1"],
                UsageErrorKind::UnexpectedValue,
                "--version",
            ),
        ];
        for (args, want, flag) in cases {
            let err = run(args).err();
            assert_eq!(err.as_ref().map(|e| e.kind), Some(*want), "{args:?}");
            let msg = err.map(|e| e.message).unwrap_or_default();
            assert!(msg.contains(flag), "{args:?}: {msg}");
        }
    }

    #[test]
    fn global_flag_after_command_is_rejected_with_hint() {
        let err = run(&["peek", "chat", "--dir", "/x"]).err();
        assert_eq!(
            err.as_ref().map(|e| e.kind),
            Some(UsageErrorKind::UnknownFlag)
        );
        let hint = err.and_then(|e| e.hint).unwrap_or_default();
        assert!(hint.contains("before the command"), "{hint}");
    }

    #[test]
    fn help_and_version_spellings() {
        assert_eq!(topic(&["-h"]), Some(None));
        assert_eq!(topic(&["--help"]), Some(None));
        assert_eq!(topic(&["--dir", "x", "--help"]), Some(None));
        assert_eq!(topic(&["help"]), Some(None));
        for args in [
            &["-V"][..],
            &["--version"],
            &["version"],
            &["--color", "never", "-V"],
        ] {
            let inv = run(args).ok();
            assert_eq!(inv.map(|i| i.command), Some(Command::Version), "{args:?}");
        }
    }

    #[test]
    fn missing_and_unknown_commands() {
        assert_eq!(kind(&[]), Some(UsageErrorKind::MissingCommand));
        assert_eq!(
            kind(&["--color", "never"]),
            Some(UsageErrorKind::MissingCommand)
        );
        let err = run(&["peak", "chat"]).err();
        assert_eq!(
            err.as_ref().map(|e| e.kind),
            Some(UsageErrorKind::UnknownCommand)
        );
        assert_eq!(
            err.and_then(|e| e.hint).as_deref(),
            Some("did you mean 'peek'?")
        );
        let err = run(&["frobnicate"]).err();
        let hint = err.and_then(|e| e.hint).unwrap_or_default();
        assert!(
            hint.starts_with("expected one of: poke, peek, get, tap, duplex, pool")
                && hint.ends_with("feed, follow, fetch"),
            "{hint}"
        );
    }

    #[test]
    fn non_utf8_command_name_is_an_error() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = OsString::from_vec(vec![0xff, 0xfe]);
            let err = parse(vec![bad]).err().map(|e| e.kind);
            assert_eq!(err, Some(UsageErrorKind::NotUnicode));
        }
    }

    #[test]
    fn non_utf8_paths_are_kept_and_non_utf8_text_is_rejected() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = || OsString::from_vec(vec![b'p', 0xff]);
            let args = vec!["--dir".into(), bad(), "version".into()];
            let dir = parse(args).ok().and_then(|i| i.global.dir);
            assert_eq!(dir, Some(PathBuf::from(bad())));
            let args = vec!["peek".into(), "c".into(), "--tag".into(), bad()];
            assert_eq!(
                parse(args).err().map(|e| e.kind),
                Some(UsageErrorKind::NotUnicode)
            );
            let args = vec!["poke".into(), "c".into(), bad()];
            assert_eq!(
                parse(args).err().map(|e| e.kind),
                Some(UsageErrorKind::NotUnicode)
            );
        }
    }

    #[test]
    fn display_shows_message_only() {
        let e = UsageError::new(UsageErrorKind::Conflict, "a and b").with_hint("pick one");
        assert_eq!(e.to_string(), "a and b");
        assert_eq!(e.hint.as_deref(), Some("pick one"));
    }
}
