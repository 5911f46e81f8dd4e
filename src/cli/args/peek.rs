//! `peek POOL`: parser for the read/filter/follow command.
//!
//! Invariants: `--jsonl` is exactly `--format jsonl` (combining it with
//! `--format pretty` is a conflict); `--tag` and `--where` keep command-line order;
//! `--where` expressions are kept as text (compiled later); `--replay` is finite and
//! within `0..=REPLAY_SPEED_MAX`. Whether a flag is allowed for a remote pool is
//! checked later.

use super::lex::{conflict, Item, Lex, Positionals};
use super::types::{Command, GapMode, OutputFormat, PeekArgs, RemoteOpts};
use super::UsageError;
use crate::cli::commands::CommandId;
use crate::cli::flags::FlagId;
use crate::limits::REPLAY_SPEED_MAX;

/// Parses the arguments after `peek`.
pub(super) fn parse(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Peek);
    let mut out = PeekArgs {
        pool: String::new(),
        tail: None,
        since: None,
        tags: Vec::new(),
        wheres: Vec::new(),
        one: false,
        no_follow: false,
        timeout: None,
        format: None,
        data_only: false,
        replay: None,
        quiet_drops: false,
        on_gap: GapMode::Continue,
        cursor: None,
        create: false,
        remote: RemoteOpts::default(),
    };
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        let flag = match item {
            Item::Help => return Ok(super::misc::help_for(CommandId::Peek)),
            Item::Value(v) => {
                values.push(v);
                continue;
            }
            Item::Flag(flag) => flag,
        };
        match flag.id {
            FlagId::Tail => out.tail = Some(lex.number(flag, 0u64)?),
            FlagId::Since => out.since = Some(lex.since(flag)?),
            FlagId::Tag => out.tags.push(lex.string(flag)?),
            FlagId::Where => out.wheres.push(lex.string(flag)?),
            FlagId::One => out.one = true,
            FlagId::NoFollow => out.no_follow = true,
            FlagId::Timeout => out.timeout = Some(lex.duration(flag)?),
            FlagId::Format => {
                let format = lex.choice(flag, OutputFormat::from_name)?;
                set_format(&mut out, format, "--format", lex)?;
            }
            FlagId::Jsonl => set_format(&mut out, OutputFormat::Jsonl, "--jsonl", lex)?,
            FlagId::DataOnly => out.data_only = true,
            FlagId::Replay => out.replay = Some(lex.ratio(flag, REPLAY_SPEED_MAX)?),
            FlagId::QuietDrops => out.quiet_drops = true,
            FlagId::OnGap => out.on_gap = lex.choice(flag, GapMode::from_name)?,
            FlagId::Cursor => out.cursor = Some(lex.string(flag)?),
            FlagId::Create => out.create = true,
            FlagId::TokenFile => out.remote.token_file = Some(lex.path(flag)?),
            FlagId::TlsCa => out.remote.tls_ca = Some(lex.path(flag)?),
            _ => return Err(lex.unhandled(flag)),
        }
    }
    let mut pos = Positionals::new(CommandId::Peek, values);
    out.pool = pos.required("POOL")?;
    pos.finish()?;
    Ok(Command::Peek(out))
}

/// Records an output format; `--jsonl` and `--format` must agree.
fn set_format(
    out: &mut PeekArgs,
    format: OutputFormat,
    via: &str,
    lex: &Lex,
) -> Result<(), UsageError> {
    match out.format {
        Some(previous) if previous != format => {
            let other = if via == "--jsonl" {
                "--format pretty"
            } else {
                "--jsonl"
            };
            Err(conflict(via, other, lex.cmd()))
        }
        _ => {
            out.format = Some(format);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::super::UsageErrorKind;
    use super::*;
    use crate::cli::units::Since;
    use std::path::PathBuf;
    use std::time::Duration;

    #[test]
    fn no_follow_is_a_long_switch_only() {
        assert_eq!(peek(&["chat"]).map(|p| p.no_follow), Some(false));
        assert_eq!(
            peek(&["chat", "--no-follow", "--tail", "3"]).map(|p| (p.no_follow, p.tail)),
            Some((true, Some(3)))
        );
        assert!(peek(&["chat", "-x"]).is_none());
    }

    fn peek(args: &[&str]) -> Option<PeekArgs> {
        let mut full = vec!["peek"];
        full.extend_from_slice(args);
        match run(&full).ok()?.command {
            Command::Peek(p) => Some(p),
            _ => None,
        }
    }

    fn message(args: &[&str]) -> String {
        let mut full = vec!["peek"];
        full.extend_from_slice(args);
        run(&full).err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn cursor_takes_a_name() {
        assert_eq!(
            peek(&["chat", "--cursor", "billing"]).and_then(|p| p.cursor),
            Some("billing".to_owned())
        );
        assert!(peek(&["chat", "--cursor"]).is_none());
    }

    #[test]
    fn on_gap_takes_continue_or_error() {
        assert_eq!(peek(&["chat"]).map(|p| p.on_gap), Some(GapMode::Continue));
        assert_eq!(
            peek(&["chat", "--on-gap", "error"]).map(|p| p.on_gap),
            Some(GapMode::Error)
        );
        assert!(peek(&["chat", "--on-gap", "skip"]).is_none());
        assert!(message(&["chat", "--on-gap", "skip"]).contains("continue"));
    }

    #[test]
    fn defaults_without_flags() {
        let p = peek(&["chat"]);
        assert_eq!(
            p,
            Some(PeekArgs {
                pool: "chat".into(),
                tail: None,
                since: None,
                tags: vec![],
                wheres: vec![],
                one: false,
                no_follow: false,
                timeout: None,
                format: None,
                data_only: false,
                replay: None,
                quiet_drops: false,
                on_gap: GapMode::Continue,
                cursor: None,
                create: false,
                remote: RemoteOpts::default(),
            })
        );
    }

    #[test]
    fn every_flag_with_a_valid_value() {
        let p = peek(&[
            "-n",
            "5",
            "--since",
            "5m",
            "--tag",
            "a",
            "--where",
            ".x > 1",
            "--tag",
            "b",
            "--where",
            "has(.y)",
            "--one",
            "--timeout",
            "2s",
            "--format",
            "pretty",
            "--data-only",
            "--replay",
            "2.5",
            "--quiet-drops",
            "--create",
            "--token-file",
            "tok",
            "--tls-ca",
            "ca.pem",
            "pool/x",
        ]);
        let p = p.unwrap_or_else(|| panic!("peek failed"));
        assert_eq!(p.tail, Some(5));
        assert_eq!(p.since, Some(Since::Ago(Duration::from_secs(300))));
        assert_eq!(p.tags, ["a", "b"]);
        assert_eq!(p.wheres, [".x > 1", "has(.y)"]);
        assert!(p.one && p.data_only && p.quiet_drops && p.create);
        assert_eq!(p.timeout, Some(Duration::from_secs(2)));
        assert_eq!(p.format, Some(OutputFormat::Pretty));
        assert_eq!(p.replay, Some(2.5));
        assert_eq!(p.remote.token_file, Some(PathBuf::from("tok")));
        assert_eq!(p.remote.tls_ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(p.pool, "pool/x");
    }

    #[test]
    fn tail_spellings() {
        for args in [
            &["--tail", "7", "c"][..],
            &["--tail=7", "c"],
            &["-n", "7", "c"],
            &["-n7", "c"],
            &["-n=7", "c"],
        ] {
            assert_eq!(peek(args).and_then(|p| p.tail), Some(7), "{args:?}");
        }
        assert_eq!(peek(&["c", "--tail", "0"]).and_then(|p| p.tail), Some(0));
    }

    #[test]
    fn every_flag_with_an_invalid_value_names_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--tail", "x", "c"], "--tail"),
            (&["-n", "-1", "c"], "-n"),
            (&["--since", "yesterday", "c"], "--since"),
            (&["--since", "2026-02-30T00:00:00Z", "c"], "--since"),
            (&["--tag", "", "c"], "--tag"),
            (&["--where", "", "c"], "--where"),
            (&["--timeout", "5", "c"], "--timeout"),
            (&["--format", "yaml", "c"], "--format"),
            (&["--replay", "-1", "c"], "--replay"),
            (&["--replay", "NaN", "c"], "--replay"),
            (&["--replay", "inf", "c"], "--replay"),
            (&["--replay", "1000001", "c"], "--replay"),
            (&["--token-file", "", "c"], "--token-file"),
            (&["--tls-ca", "", "c"], "--tls-ca"),
            (&["--one=1", "c"], "--one"),
            (&["--jsonl=1", "c"], "--jsonl"),
            (&["--data-only=1", "c"], "--data-only"),
            (&["--quiet-drops=1", "c"], "--quiet-drops"),
            (&["--create=1", "c"], "--create"),
        ];
        for (args, flag) in cases {
            let msg = message(args);
            assert!(msg.contains(flag), "{args:?}: {msg}");
        }
    }

    #[test]
    fn replay_limit_edge() {
        assert_eq!(
            peek(&["c", "--replay", "0"]).and_then(|p| p.replay),
            Some(0.0)
        );
        assert_eq!(
            peek(&["c", "--replay", "1000000"]).and_then(|p| p.replay),
            Some(REPLAY_SPEED_MAX)
        );
        assert_eq!(
            kind(&["peek", "c", "--replay", "1000000.5"]),
            Some(UsageErrorKind::InvalidValue)
        );
    }

    #[test]
    fn jsonl_is_format_jsonl() {
        assert_eq!(
            peek(&["c", "--jsonl"]).and_then(|p| p.format),
            Some(OutputFormat::Jsonl)
        );
        assert_eq!(
            peek(&["c", "--jsonl", "--format", "jsonl"]).and_then(|p| p.format),
            Some(OutputFormat::Jsonl)
        );
        assert_eq!(
            kind(&["peek", "c", "--jsonl", "--format", "pretty"]),
            Some(UsageErrorKind::Conflict)
        );
        assert_eq!(
            kind(&["peek", "c", "--format", "pretty", "--jsonl"]),
            Some(UsageErrorKind::Conflict)
        );
    }

    #[test]
    fn since_accepts_absolute_timestamps() {
        let p = peek(&["c", "--since", "2026-01-02T03:04:05.000000001Z"]);
        assert_eq!(
            p.and_then(|p| p.since),
            Some(Since::Absolute {
                unix_ns: 1_767_323_045_000_000_001
            })
        );
    }

    #[test]
    fn positional_errors() {
        assert_eq!(kind(&["peek"]), Some(UsageErrorKind::MissingArgument));
        assert_eq!(
            kind(&["peek", "a", "b"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            kind(&["peek", "a", "-5"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            peek(&["--", "-weird"]).map(|p| p.pool),
            Some("-weird".into())
        );
    }

    #[test]
    fn repeated_single_flags_are_errors() {
        assert_eq!(
            kind(&["peek", "c", "-n", "1", "--tail", "2"]),
            Some(UsageErrorKind::Repeated)
        );
        assert_eq!(
            kind(&["peek", "c", "--one", "--one"]),
            Some(UsageErrorKind::Repeated)
        );
    }

    #[test]
    fn help_for_peek() {
        let cmd = run(&["peek", "--help"]).ok().map(|i| i.command);
        assert_eq!(
            cmd,
            Some(Command::Help {
                topic: Some("peek".into())
            })
        );
    }
}
