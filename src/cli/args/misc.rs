//! Parsers for the small commands: `doctor`, `completion`, `version`, `help`.
//!
//! Invariants: `doctor` gets exactly one of POOL or `--all`; `completion` gets exactly
//! one known shell; `help` topics are validated against the command table so
//! `Command::Help { topic }` always names an existing help page.

use super::lex::{conflict, set_report_format, utf8, Item, Lex, Positionals};
use super::types::{Command, CompletionArgs, DoctorArgs, DoctorTarget, Shell};
use super::{unknown_topic, usage_hint, UsageError, UsageErrorKind};
use crate::cli::commands::{self, CommandId};
use crate::cli::flags::FlagId;

/// `Command::Help` for the page of `id`.
pub(super) fn help_for(id: CommandId) -> Command {
    let path = commands::path_of(id);
    Command::Help {
        topic: (!path.is_empty()).then(|| path.to_owned()),
    }
}

/// Runs `lex` over a command that takes no flags besides `--help`, collecting values.
fn collect_values(
    lex: &mut Lex,
    id: CommandId,
) -> Result<Result<Vec<std::ffi::OsString>, Command>, UsageError> {
    lex.enter(id);
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        match item {
            Item::Help => return Ok(Err(help_for(id))),
            Item::Value(v) => values.push(v),
            Item::Flag(flag) => return Err(lex.unhandled(flag)),
        }
    }
    Ok(Ok(values))
}

/// Parses the arguments after `doctor`.
pub(super) fn parse_doctor(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Doctor);
    let mut all = false;
    let mut format = None;
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        match item {
            Item::Help => return Ok(help_for(CommandId::Doctor)),
            Item::Value(v) => values.push(v),
            Item::Flag(flag) => match flag.id {
                FlagId::All => all = true,
                FlagId::Format => {
                    let f = lex.choice(flag, super::types::OutputFormat::from_name)?;
                    set_report_format(&mut format, f, false, CommandId::Doctor)?;
                }
                FlagId::Json => set_report_format(
                    &mut format,
                    super::types::OutputFormat::Jsonl,
                    true,
                    CommandId::Doctor,
                )?,
                _ => return Err(lex.unhandled(flag)),
            },
        }
    }
    let mut pos = Positionals::new(CommandId::Doctor, values);
    let pool = pos.optional("POOL")?;
    pos.finish()?;
    let target = match (pool, all) {
        (Some(p), false) => DoctorTarget::Pool(p),
        (None, true) => DoctorTarget::All,
        (Some(_), true) => return Err(conflict("POOL", "--all", CommandId::Doctor)),
        (None, false) => {
            return Err(UsageError::new(
                UsageErrorKind::MissingArgument,
                "doctor needs a POOL or --all",
            )
            .with_hint(usage_hint(CommandId::Doctor)))
        }
    };
    Ok(Command::Doctor(DoctorArgs { target, format }))
}

/// Parses the arguments after `completion`.
pub(super) fn parse_completion(lex: &mut Lex) -> Result<Command, UsageError> {
    let values = match collect_values(lex, CommandId::Completion)? {
        Ok(values) => values,
        Err(help) => return Ok(help),
    };
    let mut pos = Positionals::new(CommandId::Completion, values);
    let name = pos.required("SHELL")?;
    pos.finish()?;
    let shell = Shell::from_name(&name).ok_or_else(|| {
        UsageError::new(
            UsageErrorKind::InvalidValue,
            format!("unknown shell '{name}'"),
        )
        .with_hint(format!("expected one of: {}", Shell::NAMES.join(", ")))
    })?;
    Ok(Command::Completion(CompletionArgs { shell }))
}

/// Parses the arguments after `version`.
pub(super) fn parse_version(lex: &mut Lex) -> Result<Command, UsageError> {
    let values = match collect_values(lex, CommandId::Version)? {
        Ok(values) => values,
        Err(help) => return Ok(help),
    };
    Positionals::new(CommandId::Version, values).finish()?;
    Ok(Command::Version)
}

/// Parses the arguments after `help`: zero, one or two words naming a help page.
pub(super) fn parse_help(lex: &mut Lex) -> Result<Command, UsageError> {
    let values = match collect_values(lex, CommandId::Help)? {
        Ok(values) => values,
        Err(help) => return Ok(help),
    };
    let mut words = Vec::with_capacity(values.len());
    for v in values {
        words.push(utf8(v, "help topic")?);
    }
    if words.is_empty() {
        return Ok(Command::Help { topic: None });
    }
    let topic = words.join(" ");
    if topic == crate::cli::help::WHERE_TOPIC {
        return Ok(Command::Help { topic: Some(topic) });
    }
    match commands::resolve(&topic) {
        Some(spec) => Ok(Command::Help {
            topic: Some(spec.path.to_owned()),
        }),
        None => Err(unknown_topic(&topic)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::*;

    fn cmd(args: &[&str]) -> Option<Command> {
        run(args).ok().map(|i| i.command)
    }

    fn help(topic: &str) -> Option<Command> {
        Some(Command::Help {
            topic: Some(topic.to_owned()),
        })
    }

    #[test]
    fn doctor_pool_or_all() {
        assert_eq!(
            cmd(&["doctor", "chat"]),
            Some(Command::Doctor(DoctorArgs {
                target: DoctorTarget::Pool("chat".into()),
                format: None
            }))
        );
        assert_eq!(
            cmd(&["doctor", "--json", "chat"]),
            Some(Command::Doctor(DoctorArgs {
                target: DoctorTarget::Pool("chat".into()),
                format: Some(super::super::types::OutputFormat::Jsonl)
            }))
        );
        assert_eq!(
            cmd(&["doctor", "--all"]),
            Some(Command::Doctor(DoctorArgs {
                target: DoctorTarget::All,
                format: None
            }))
        );
        assert_eq!(kind(&["doctor"]), Some(UsageErrorKind::MissingArgument));
        assert_eq!(
            kind(&["doctor", "chat", "--all"]),
            Some(UsageErrorKind::Conflict)
        );
        assert_eq!(
            kind(&["doctor", "a", "b"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            kind(&["doctor", "--all", "--all"]),
            Some(UsageErrorKind::Repeated)
        );
        assert_eq!(
            kind(&["doctor", "--all=yes"]),
            Some(UsageErrorKind::UnexpectedValue)
        );
        assert_eq!(cmd(&["doctor", "--help"]), help("doctor"));
    }

    #[test]
    fn completion_shells() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            assert_eq!(
                cmd(&["completion", shell.name()]),
                Some(Command::Completion(CompletionArgs { shell }))
            );
        }
        assert_eq!(kind(&["completion"]), Some(UsageErrorKind::MissingArgument));
        assert_eq!(
            kind(&["completion", "tcsh"]),
            Some(UsageErrorKind::InvalidValue)
        );
        assert_eq!(
            kind(&["completion", "bash", "zsh"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            kind(&["completion", "--shell", "bash"]),
            Some(UsageErrorKind::UnknownFlag)
        );
        assert_eq!(cmd(&["completion", "-h"]), help("completion"));
    }

    #[test]
    fn version_takes_nothing() {
        assert_eq!(cmd(&["version"]), Some(Command::Version));
        assert_eq!(
            kind(&["version", "x"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            kind(&["version", "--short"]),
            Some(UsageErrorKind::UnknownFlag)
        );
        assert_eq!(cmd(&["version", "--help"]), help("version"));
    }

    #[test]
    fn help_topics_for_every_command() {
        for spec in commands::COMMANDS {
            let mut args = vec!["help"];
            args.extend(spec.path.split(' '));
            assert_eq!(cmd(&args), help(spec.path), "{}", spec.path);
        }
        assert_eq!(cmd(&["help"]), Some(Command::Help { topic: None }));
        assert_eq!(cmd(&["help", "--help"]), help("help"));
    }

    #[test]
    fn help_unknown_topics_are_errors() {
        for args in [
            &["help", "nosuch"][..],
            &["help", "pool", "nosuch"],
            &["help", "peek", "x"],
            &["help", "a", "b", "c"],
        ] {
            assert_eq!(kind(args), Some(UsageErrorKind::UnknownTopic), "{args:?}");
        }
        assert_eq!(kind(&["help", "--all"]), Some(UsageErrorKind::UnknownFlag));
        let hint = run(&["help", "nosuch"])
            .err()
            .and_then(|e| e.hint)
            .unwrap_or_default();
        assert!(hint.contains("poke, peek"), "{hint}");
    }
}
