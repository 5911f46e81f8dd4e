//! `tap POOL [FLAGS] [--] CMD [ARGS]...` and `duplex POOL [FLAGS]`: parsers for the two
//! commands that both read a process's streams and write a pool.
//!
//! Invariants: for `tap`, the first positional after POOL starts the child's argv and
//! every argument after it is the child's, untouched (its flags, `--help`, non-UTF-8
//! bytes); `--` before CMD is accepted and optional; `--create-size` requires
//! `--create`. For `duplex`, `--me` is a non-empty name.

use super::lex::{Item, Lex, Positionals};
use super::types::{Command, RemoteOpts};
use super::{usage_hint, UsageError, UsageErrorKind};
use crate::cli::commands::CommandId;
use crate::cli::flags::FlagId;
use std::ffi::OsString;

/// `tap POOL -- CMD [ARGS]...`: run a command and append its output lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapArgs {
    /// Pool reference, unresolved.
    pub pool: String,
    /// The child's argv; never empty.
    pub argv: Vec<OsString>,
    /// `--tag T`, in command-line order, on every message.
    pub tags: Vec<String>,
    /// `--create`.
    pub create: bool,
    /// `--create-size SIZE` in bytes (requires `--create`).
    pub create_size: Option<u64>,
    /// `--quiet` / `-q`: do not pass the child's output through.
    pub quiet: bool,
}

/// `duplex POOL`: send lines and see the other writers' messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplexArgs {
    /// Pool reference (name, path or URL), unresolved.
    pub pool: String,
    /// `--me NAME`; `None` = `$USER`, else `anon`.
    pub me: Option<String>,
    /// `--tail N`: show the last N messages first (default 0).
    pub tail: u64,
    /// `--echo-self`: also print this process's own messages.
    pub echo_self: bool,
    /// `--create`.
    pub create: bool,
    /// `--token-file`, `--tls-ca`.
    pub remote: RemoteOpts,
}

/// Parses the arguments after `tap`.
pub(super) fn parse_tap(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Tap);
    let mut out = TapArgs {
        pool: String::new(),
        argv: Vec::new(),
        tags: Vec::new(),
        create: false,
        create_size: None,
        quiet: false,
    };
    let mut pool = None;
    while let Some(item) = lex.next()? {
        let flag = match item {
            Item::Help => return Ok(super::misc::help_for(CommandId::Tap)),
            Item::Value(v) if pool.is_none() => {
                pool = Some(v);
                continue;
            }
            Item::Value(v) => {
                out.argv.push(v);
                out.argv.extend(lex.rest_raw());
                break;
            }
            Item::Flag(flag) => flag,
        };
        match flag.id {
            FlagId::Create => out.create = true,
            FlagId::CreateSize => out.create_size = Some(lex.size(flag, 1)?),
            FlagId::Tag => out.tags.push(lex.string(flag)?),
            FlagId::Quiet => out.quiet = true,
            _ => return Err(lex.unhandled(flag)),
        }
    }
    let mut pos = Positionals::new(CommandId::Tap, pool.into_iter().collect());
    out.pool = pos.required("POOL")?;
    pos.finish()?;
    if out.argv.is_empty() {
        return Err(
            UsageError::new(UsageErrorKind::MissingArgument, "missing CMD for 'tap'").with_hint(
                format!(
                    "{}, e.g. plasmite tap build -- make test",
                    usage_hint(CommandId::Tap)
                ),
            ),
        );
    }
    if out.create_size.is_some() && !out.create {
        return Err(
            UsageError::new(UsageErrorKind::Conflict, "--create-size requires --create")
                .with_hint("add --create, or drop --create-size"),
        );
    }
    Ok(Command::Tap(out))
}

/// Parses the arguments after `duplex`.
pub(super) fn parse_duplex(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Duplex);
    let mut out = DuplexArgs {
        pool: String::new(),
        me: None,
        tail: 0,
        echo_self: false,
        create: false,
        remote: RemoteOpts::default(),
    };
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        let flag = match item {
            Item::Help => return Ok(super::misc::help_for(CommandId::Duplex)),
            Item::Value(v) => {
                values.push(v);
                continue;
            }
            Item::Flag(flag) => flag,
        };
        match flag.id {
            FlagId::Me => {
                let me = lex.string(flag)?;
                if me.is_empty() {
                    return Err(lex.bad_value(&me, "expected a non-empty name"));
                }
                out.me = Some(me);
            }
            FlagId::Tail => out.tail = lex.number(flag, 0u64)?,
            FlagId::EchoSelf => out.echo_self = true,
            FlagId::Create => out.create = true,
            FlagId::TokenFile => out.remote.token_file = Some(lex.path(flag)?),
            FlagId::TlsCa => out.remote.tls_ca = Some(lex.path(flag)?),
            _ => return Err(lex.unhandled(flag)),
        }
    }
    let mut pos = Positionals::new(CommandId::Duplex, values);
    out.pool = pos.required("POOL")?;
    pos.finish()?;
    Ok(Command::Duplex(out))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::*;

    fn tap(args: &[&str]) -> Option<TapArgs> {
        match run(args).ok()?.command {
            Command::Tap(a) => Some(a),
            _ => None,
        }
    }

    fn duplex(args: &[&str]) -> Option<DuplexArgs> {
        match run(args).ok()?.command {
            Command::Duplex(a) => Some(a),
            _ => None,
        }
    }

    fn argv(a: &TapArgs) -> Vec<&str> {
        a.argv.iter().filter_map(|s| s.to_str()).collect()
    }

    #[test]
    fn tap_child_argv_is_untouched_after_cmd() {
        let a = tap(&["tap", "jobs", "--", "ls", "-la", "--help", "--tag", "x"]);
        assert_eq!(
            a.as_ref().map(argv),
            Some(vec!["ls", "-la", "--help", "--tag", "x"])
        );
        assert_eq!(a.map(|a| a.tags), Some(vec![]));
        let a = tap(&["tap", "jobs", "make", "-j2"]);
        assert_eq!(a.as_ref().map(argv), Some(vec!["make", "-j2"]));
    }

    #[test]
    fn tap_flags_before_cmd() {
        let a = tap(&[
            "tap",
            "--tag",
            "ci",
            "jobs",
            "--tag",
            "build",
            "-q",
            "--create",
            "--create-size",
            "1M",
            "--",
            "true",
        ]);
        let Some(a) = a else { panic!("does not parse") };
        assert_eq!(a.pool, "jobs");
        assert_eq!(a.tags, ["ci", "build"]);
        assert!(a.quiet && a.create);
        assert_eq!(a.create_size, Some(1 << 20));
        assert_eq!(argv(&a), ["true"]);
        assert_eq!(tap(&["tap", "jobs", "true"]).map(|a| a.quiet), Some(false));
    }

    #[test]
    fn tap_errors() {
        assert_eq!(kind(&["tap"]), Some(UsageErrorKind::MissingArgument));
        assert_eq!(
            kind(&["tap", "jobs"]),
            Some(UsageErrorKind::MissingArgument)
        );
        assert_eq!(
            kind(&["tap", "jobs", "--"]),
            Some(UsageErrorKind::MissingArgument)
        );
        assert_eq!(
            kind(&["tap", "--create-size", "1M", "jobs", "true"]),
            Some(UsageErrorKind::Conflict)
        );
        assert_eq!(
            kind(&["tap", "--bogus", "jobs", "true"]),
            Some(UsageErrorKind::UnknownFlag)
        );
        assert_eq!(
            kind(&["tap", "-q", "-q", "j", "true"]),
            Some(UsageErrorKind::Repeated)
        );
    }

    #[test]
    fn tap_help_before_cmd_is_help() {
        assert!(matches!(
            run(&["tap", "jobs", "--help"]).map(|i| i.command),
            Ok(Command::Help { topic: Some(t) }) if t == "tap"
        ));
    }

    #[test]
    fn duplex_flags() {
        let a = duplex(&[
            "duplex",
            "chat",
            "--me",
            "ann",
            "-n",
            "5",
            "--echo-self",
            "--create",
        ]);
        let Some(a) = a else { panic!("does not parse") };
        assert_eq!(
            (
                a.pool.as_str(),
                a.me.as_deref(),
                a.tail,
                a.echo_self,
                a.create
            ),
            ("chat", Some("ann"), 5, true, true)
        );
        let Some(d) = duplex(&["duplex", "chat"]) else {
            panic!("does not parse")
        };
        assert_eq!((d.me, d.tail, d.echo_self), (None, 0, false));
        let r = duplex(&[
            "duplex",
            "http://h:1/chat",
            "--token-file",
            "t",
            "--tls-ca",
            "c",
        ]);
        assert!(r.is_some_and(|r| r.remote.token_file.is_some() && r.remote.tls_ca.is_some()));
    }

    #[test]
    fn duplex_errors() {
        assert_eq!(kind(&["duplex"]), Some(UsageErrorKind::MissingArgument));
        assert_eq!(
            kind(&["duplex", "a", "b"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            kind(&["duplex", "a", "--me", ""]),
            Some(UsageErrorKind::InvalidValue)
        );
        assert_eq!(
            kind(&["duplex", "a", "--tail", "x"]),
            Some(UsageErrorKind::InvalidValue)
        );
        assert_eq!(
            kind(&["duplex", "a", "--quiet"]),
            Some(UsageErrorKind::UnknownFlag)
        );
    }
}
