//! `poke POOL [DATA]`: parser for the append command.
//!
//! Invariants: DATA and `--file` are mutually exclusive; with neither the input is
//! standard input; `--create-size` requires `--create`; tags keep command-line order.

use super::lex::{conflict, Item, Lex, Positionals};
use super::types::{
    Command, Durability, ErrorPolicy, InputFormat, PokeArgs, PokeInput, RemoteOpts,
    RETRY_DELAY_DEFAULT,
};
use super::{UsageError, UsageErrorKind};
use crate::cli::commands::CommandId;
use crate::cli::flags::FlagId;
use std::path::PathBuf;

/// Parses the arguments after `poke`.
pub(super) fn parse(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Poke);
    let mut out = PokeArgs {
        pool: String::new(),
        input: PokeInput::Stdin,
        create: false,
        create_size: None,
        tags: Vec::new(),
        durability: Durability::Fast,
        input_format: InputFormat::Auto,
        errors: ErrorPolicy::Stop,
        retry: 0,
        stdin_named: false,
        retry_delay: RETRY_DELAY_DEFAULT,
        remote: RemoteOpts::default(),
    };
    let mut file: Option<PathBuf> = None;
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        let flag = match item {
            Item::Help => return Ok(super::misc::help_for(CommandId::Poke)),
            Item::Value(v) => {
                values.push(v);
                continue;
            }
            Item::Flag(flag) => flag,
        };
        match flag.id {
            FlagId::Create => out.create = true,
            FlagId::CreateSize => out.create_size = Some(lex.size(flag, 1)?),
            FlagId::Tag => out.tags.push(lex.string(flag)?),
            FlagId::Durability => out.durability = lex.choice(flag, Durability::from_name)?,
            FlagId::File => file = Some(lex.path(flag)?),
            FlagId::In => out.input_format = lex.choice(flag, InputFormat::from_name)?,
            FlagId::Errors => out.errors = lex.choice(flag, ErrorPolicy::from_name)?,
            FlagId::Retry => out.retry = lex.number(flag, 0u32)?,
            FlagId::RetryDelay => out.retry_delay = lex.duration(flag)?,
            FlagId::TokenFile => out.remote.token_file = Some(lex.path(flag)?),
            FlagId::TlsCa => out.remote.tls_ca = Some(lex.path(flag)?),
            _ => return Err(lex.unhandled(flag)),
        }
    }
    let mut pos = Positionals::new(CommandId::Poke, values);
    out.pool = pos.required("POOL")?;
    let data = pos.optional("DATA")?;
    pos.finish()?;
    out.input = match (data, file) {
        (Some(_), Some(_)) => return Err(conflict("DATA", "--file", CommandId::Poke)),
        (Some(d), None) => PokeInput::Arg(d),
        (None, Some(f)) if f.as_os_str() == "-" => {
            out.stdin_named = true;
            PokeInput::Stdin
        }
        (None, Some(f)) => PokeInput::File(f),
        (None, None) => PokeInput::Stdin,
    };
    if out.create_size.is_some() && !out.create {
        return Err(
            UsageError::new(UsageErrorKind::Conflict, "--create-size requires --create")
                .with_hint("add --create, or drop --create-size"),
        );
    }
    Ok(Command::Poke(out))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::*;
    use std::time::Duration;

    fn poke(args: &[&str]) -> Option<PokeArgs> {
        let mut full = vec!["poke"];
        full.extend_from_slice(args);
        match run(&full) {
            Ok(inv) => match inv.command {
                Command::Poke(p) => Some(p),
                _ => None,
            },
            Err(_) => None,
        }
    }

    fn err(args: &[&str]) -> Option<UsageError> {
        let mut full = vec!["poke"];
        full.extend_from_slice(args);
        run(&full).err()
    }

    #[test]
    fn defaults_without_flags() {
        let p = poke(&["chat", "{}"]);
        assert_eq!(
            p,
            Some(PokeArgs {
                pool: "chat".into(),
                input: PokeInput::Arg("{}".into()),
                create: false,
                create_size: None,
                tags: vec![],
                durability: Durability::Fast,
                input_format: InputFormat::Auto,
                errors: ErrorPolicy::Stop,
                retry: 0,
                stdin_named: false,
                retry_delay: Duration::from_millis(100),
                remote: RemoteOpts::default(),
            })
        );
    }

    #[test]
    fn every_flag_with_a_valid_value() {
        let p = poke(&[
            "--create",
            "--create-size",
            "8M",
            "--tag",
            "b",
            "--tag=a",
            "--durability",
            "flush",
            "--in",
            "event-stream",
            "--errors",
            "skip",
            "--retry",
            "3",
            "--retry-delay",
            "2s",
            "--token-file",
            "/t",
            "--tls-ca",
            "/ca.pem",
            "http://h:9700/chat",
            "--file",
            "in.jsonl",
        ]);
        let p = p.unwrap_or_else(|| panic!("poke failed"));
        assert!(p.create);
        assert_eq!(p.create_size, Some(8 << 20));
        assert_eq!(p.tags, ["b", "a"]);
        assert_eq!(p.durability, Durability::Flush);
        assert_eq!(p.input_format, InputFormat::EventStream);
        assert_eq!(p.errors, ErrorPolicy::Skip);
        assert_eq!(p.retry, 3);
        assert_eq!(p.retry_delay, Duration::from_secs(2));
        assert_eq!(p.remote.token_file, Some(PathBuf::from("/t")));
        assert_eq!(p.remote.tls_ca, Some(PathBuf::from("/ca.pem")));
        assert_eq!(p.pool, "http://h:9700/chat");
        assert_eq!(p.input, PokeInput::File(PathBuf::from("in.jsonl")));
    }

    #[test]
    fn every_flag_with_an_invalid_value_names_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--create", "--create-size", "8X", "c"], "--create-size"),
            (&["--create", "--create-size", "0", "c"], "--create-size"),
            (&["--tag", "", "c"], "--tag"),
            (&["--durability", "slow", "c"], "--durability"),
            (&["--file", "", "c"], "--file"),
            (&["--in", "xml", "c"], "--in"),
            (&["--errors", "ignore", "c"], "--errors"),
            (&["--retry", "-1", "c"], "--retry"),
            (&["--retry", "4294967296", "c"], "--retry"),
            (&["--retry", "+1", "c"], "--retry"),
            (&["--retry-delay", "100", "c"], "--retry-delay"),
            (&["--token-file", "", "c"], "--token-file"),
            (&["--tls-ca", "", "c"], "--tls-ca"),
            (&["--create=yes", "c"], "--create"),
        ];
        for (args, flag) in cases {
            let e = err(args);
            let msg = e.as_ref().map(|e| e.message.clone()).unwrap_or_default();
            assert!(msg.contains(flag), "{args:?}: {msg}");
        }
    }

    #[test]
    fn missing_values_are_reported_not_swallowed() {
        let e = err(&["chat", "--tag"]);
        assert_eq!(e.map(|e| e.kind), Some(UsageErrorKind::MissingValue));
        let e = err(&["chat", "--tag", "--create"]);
        assert_eq!(
            e.as_ref().map(|e| e.kind),
            Some(UsageErrorKind::MissingValue)
        );
        assert!(e
            .and_then(|e| e.hint)
            .unwrap_or_default()
            .contains("--tag=VALUE"));
        assert_eq!(
            poke(&["chat", "--tag=--x"]).map(|p| p.tags),
            Some(vec!["--x".into()])
        );
    }

    #[test]
    fn data_that_looks_like_a_negative_number_is_data() {
        assert_eq!(
            poke(&["chat", "-5"]).map(|p| p.input),
            Some(PokeInput::Arg("-5".into()))
        );
        assert_eq!(
            poke(&["chat", "--tag", "t", "-1.5e3"]).map(|p| p.input),
            Some(PokeInput::Arg("-1.5e3".into()))
        );
        assert_eq!(
            poke(&["chat", "--", "-x"]).map(|p| p.input),
            Some(PokeInput::Arg("-x".into()))
        );
        assert_eq!(
            poke(&["chat", "--", "-5"]).map(|p| p.input),
            Some(PokeInput::Arg("-5".into()))
        );
        assert_eq!(
            poke(&["--", "chat", "--help"]).map(|p| p.input),
            Some(PokeInput::Arg("--help".into()))
        );
        assert_eq!(
            kind(&["poke", "chat", "-x"]),
            Some(UsageErrorKind::UnknownFlag)
        );
    }

    #[test]
    fn file_dash_names_stdin_explicitly() {
        assert_eq!(poke(&["chat"]).map(|p| p.stdin_named), Some(false));
        assert_eq!(
            poke(&["chat", "--file", "-"]).map(|p| p.stdin_named),
            Some(true)
        );
        assert_eq!(
            poke(&["chat", "--file", "x"]).map(|p| p.stdin_named),
            Some(false)
        );
    }

    #[test]
    fn input_sources() {
        assert_eq!(poke(&["chat"]).map(|p| p.input), Some(PokeInput::Stdin));
        assert_eq!(
            poke(&["chat", "--file", "-"]).map(|p| p.input),
            Some(PokeInput::Stdin)
        );
        assert_eq!(
            kind(&["poke", "chat", "{}", "--file", "x"]),
            Some(UsageErrorKind::Conflict)
        );
        assert_eq!(
            kind(&["poke", "chat", "{}", "--file", "-"]),
            Some(UsageErrorKind::Conflict)
        );
    }

    #[test]
    fn positional_errors() {
        assert_eq!(kind(&["poke"]), Some(UsageErrorKind::MissingArgument));
        assert_eq!(
            kind(&["poke", "--create"]),
            Some(UsageErrorKind::MissingArgument)
        );
        assert_eq!(
            kind(&["poke", "chat", "1", "2"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(kind(&["poke", ""]), Some(UsageErrorKind::InvalidValue));
    }

    #[test]
    fn conflicts_and_repeats() {
        assert_eq!(
            kind(&["poke", "c", "--create-size", "1M"]),
            Some(UsageErrorKind::Conflict)
        );
        assert_eq!(
            kind(&["poke", "c", "--retry", "1", "--retry", "2"]),
            Some(UsageErrorKind::Repeated)
        );
        assert_eq!(
            kind(&["poke", "c", "--create", "--create"]),
            Some(UsageErrorKind::Repeated)
        );
        assert_eq!(
            poke(&["c", "--tag", "x", "--tag", "x"]).map(|p| p.tags.len()),
            Some(2)
        );
    }

    #[test]
    fn unknown_flag_suggests_a_close_one() {
        let e = err(&["chat", "--creat"]);
        assert_eq!(
            e.and_then(|e| e.hint).as_deref(),
            Some("did you mean '--create'?")
        );
        let e = err(&["chat", "--tail", "3"]);
        assert_eq!(e.map(|e| e.kind), Some(UsageErrorKind::UnknownFlag));
    }

    #[test]
    fn help_flag_anywhere_before_double_dash() {
        for args in [
            &["--help"][..],
            &["chat", "-h"],
            &["chat", "{}", "--tag", "t", "--help"],
        ] {
            let mut full = vec!["poke"];
            full.extend_from_slice(args);
            let cmd = run(&full).ok().map(|i| i.command);
            assert_eq!(
                cmd,
                Some(Command::Help {
                    topic: Some("poke".into())
                }),
                "{args:?}"
            );
        }
    }
}
