//! `get POOL SEQ`: parser for the single-message fetch.
//!
//! Invariant: SEQ is a plain decimal `u64` of at least 1 (`0`, `-1`, `+1`, `abc` are
//! usage errors).

use super::lex::{Item, Lex, Positionals};
use super::types::{Command, GetArgs, OutputFormat, RemoteOpts};
use super::{usage_hint, UsageError, UsageErrorKind};
use crate::cli::commands::CommandId;
use crate::cli::flags::FlagId;

/// Parses the arguments after `get`.
pub(super) fn parse(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Get);
    let mut format = None;
    let mut data_only = false;
    let mut remote = RemoteOpts::default();
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        let flag = match item {
            Item::Help => return Ok(super::misc::help_for(CommandId::Get)),
            Item::Value(v) => {
                values.push(v);
                continue;
            }
            Item::Flag(flag) => flag,
        };
        match flag.id {
            FlagId::Format => format = Some(lex.choice(flag, OutputFormat::from_name)?),
            FlagId::DataOnly => data_only = true,
            FlagId::TokenFile => remote.token_file = Some(lex.path(flag)?),
            FlagId::TlsCa => remote.tls_ca = Some(lex.path(flag)?),
            _ => return Err(lex.unhandled(flag)),
        }
    }
    let mut pos = Positionals::new(CommandId::Get, values);
    let pool = pos.required("POOL")?;
    let seq_text = pos.required("SEQ")?;
    pos.finish()?;
    Ok(Command::Get(GetArgs {
        pool,
        seq: parse_seq(&seq_text)?,
        format,
        data_only,
        remote,
    }))
}

/// A sequence number: decimal digits only, value >= 1.
fn parse_seq(text: &str) -> Result<u64, UsageError> {
    let digits_only = text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u64>() {
        Ok(seq) if digits_only && seq >= 1 => Ok(seq),
        _ => Err(UsageError::new(
            UsageErrorKind::InvalidValue,
            format!("invalid SEQ '{text}': expected a whole number from 1 up"),
        )
        .with_hint(usage_hint(CommandId::Get))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::*;
    use std::path::PathBuf;

    fn get(args: &[&str]) -> Option<GetArgs> {
        let mut full = vec!["get"];
        full.extend_from_slice(args);
        match run(&full).ok()?.command {
            Command::Get(g) => Some(g),
            _ => None,
        }
    }

    #[test]
    fn defaults_and_every_flag() {
        assert_eq!(
            get(&["chat", "1"]),
            Some(GetArgs {
                pool: "chat".into(),
                seq: 1,
                format: None,
                data_only: false,
                remote: RemoteOpts::default()
            })
        );
        let g = get(&[
            "--format",
            "jsonl",
            "--data-only",
            "--token-file",
            "t",
            "--tls-ca",
            "ca",
            "chat",
            "42",
        ]);
        assert_eq!(
            g,
            Some(GetArgs {
                pool: "chat".into(),
                seq: 42,
                format: Some(OutputFormat::Jsonl),
                data_only: true,
                remote: RemoteOpts {
                    token_file: Some(PathBuf::from("t")),
                    tls_ca: Some(PathBuf::from("ca"))
                }
            })
        );
    }

    #[test]
    fn seq_must_be_a_positive_whole_number() {
        assert_eq!(
            get(&["c", "18446744073709551615"]).map(|g| g.seq),
            Some(u64::MAX)
        );
        for bad in ["0", "-1", "abc", "+1", "1.0", "18446744073709551616", " 1"] {
            assert_eq!(
                kind(&["get", "c", bad]),
                Some(UsageErrorKind::InvalidValue),
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_flag_values_name_the_flag() {
        for (args, flag) in [
            (&["--format", "xml", "c", "1"][..], "--format"),
            (&["--token-file", "", "c", "1"], "--token-file"),
            (&["--tls-ca", "", "c", "1"], "--tls-ca"),
            (&["--data-only=no", "c", "1"], "--data-only"),
        ] {
            let mut full = vec!["get"];
            full.extend_from_slice(args);
            let msg = run(&full).err().map(|e| e.message).unwrap_or_default();
            assert!(msg.contains(flag), "{args:?}: {msg}");
        }
    }

    #[test]
    fn positional_errors() {
        assert_eq!(kind(&["get"]), Some(UsageErrorKind::MissingArgument));
        assert_eq!(
            kind(&["get", "chat"]),
            Some(UsageErrorKind::MissingArgument)
        );
        assert_eq!(
            kind(&["get", "chat", "1", "2"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            kind(&["get", "chat", "1", "--tail", "1"]),
            Some(UsageErrorKind::UnknownFlag)
        );
    }

    #[test]
    fn help_for_get() {
        let cmd = run(&["get", "chat", "-h"]).ok().map(|i| i.command);
        assert_eq!(
            cmd,
            Some(Command::Help {
                topic: Some("get".into())
            })
        );
    }
}
