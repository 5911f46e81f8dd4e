//! `pool create|list|info|delete|cursors|cursor-delete`: parsers for pool management.
//!
//! Invariants: the subcommand is the first argument after `pool`; `create` and
//! `delete` take 1..=POOL_NAMES_COUNT_MAX names, `info` and `cursors` exactly one, `list`
//! none, `cursor-delete` a pool and a cursor name.

use super::lex::{set_report_format, utf8, Item, Lex, Positionals};
use super::types::{
    Command, OutputFormat, PoolCreateArgs, PoolCursorDeleteArgs, PoolDeleteArgs, PoolInfoArgs,
    PoolListArgs,
};
use super::{help_hint, unknown_command, UsageError, UsageErrorKind};
use crate::cli::commands::{self, CommandId};
use crate::cli::flags::FlagId;
use crate::limits::POOL_NAMES_COUNT_MAX;
use std::ffi::OsString;

/// Parses the arguments after `pool`.
pub(super) fn parse(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Pool);
    let name = match lex.next()? {
        Some(Item::Help) => return Ok(super::misc::help_for(CommandId::Pool)),
        Some(Item::Value(v)) => utf8(v, "subcommand")?,
        Some(Item::Flag(flag)) => return Err(lex.unhandled(flag)),
        None => {
            return Err(UsageError::new(
                UsageErrorKind::MissingArgument,
                "missing subcommand for 'pool'",
            )
            .with_hint("expected one of: create, list, info, delete, cursors, cursor-delete"))
        }
    };
    let id = match name.as_str() {
        "create" => CommandId::PoolCreate,
        "list" => CommandId::PoolList,
        "info" => CommandId::PoolInfo,
        "delete" => CommandId::PoolDelete,
        "cursors" => CommandId::PoolCursors,
        "cursor-delete" => CommandId::PoolCursorDelete,
        _ => {
            return Err(unknown_command(
                &name,
                commands::subcommands("pool").map(|c| c.path),
                Some("pool"),
            ))
        }
    };
    lex.enter(id);
    let mut size = None;
    let mut format = None;
    let mut values: Vec<OsString> = Vec::new();
    while let Some(item) = lex.next()? {
        match item {
            Item::Help => return Ok(super::misc::help_for(id)),
            Item::Value(v) => values.push(v),
            Item::Flag(flag) => match flag.id {
                FlagId::Size => size = Some(lex.size(flag, 1)?),
                FlagId::Format => {
                    let f = lex.choice(flag, OutputFormat::from_name)?;
                    set_report_format(&mut format, f, false, id)?;
                }
                FlagId::Json => set_report_format(&mut format, OutputFormat::Jsonl, true, id)?,
                _ => return Err(lex.unhandled(flag)),
            },
        }
    }
    let mut pos = Positionals::new(id, values);
    let command = match id {
        CommandId::PoolCreate => Command::PoolCreate(PoolCreateArgs {
            names: pos.at_least_one("NAME", POOL_NAMES_COUNT_MAX)?,
            size,
            format,
        }),
        CommandId::PoolList => Command::PoolList(PoolListArgs { format }),
        CommandId::PoolInfo => Command::PoolInfo(PoolInfoArgs {
            name: pos.required("NAME")?,
            format,
        }),
        CommandId::PoolCursors => Command::PoolCursors(PoolInfoArgs {
            name: pos.required("NAME")?,
            format,
        }),
        CommandId::PoolCursorDelete => Command::PoolCursorDelete(PoolCursorDeleteArgs {
            name: pos.required("NAME")?,
            cursor: pos.required("CURSOR")?,
            format,
        }),
        _ => Command::PoolDelete(PoolDeleteArgs {
            names: pos.at_least_one("NAME", POOL_NAMES_COUNT_MAX)?,
            format,
        }),
    };
    pos.finish().map_err(|e| e.with_hint(help_hint(id)))?;
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::*;

    fn cmd(args: &[&str]) -> Option<Command> {
        run(args).ok().map(|i| i.command)
    }

    #[test]
    fn cursors_and_cursor_delete_take_their_names() {
        assert_eq!(
            cmd(&["pool", "cursors", "chat"]),
            Some(Command::PoolCursors(PoolInfoArgs {
                name: "chat".into(),
                format: None
            }))
        );
        assert_eq!(
            cmd(&["pool", "cursor-delete", "chat", "c1"]),
            Some(Command::PoolCursorDelete(PoolCursorDeleteArgs {
                name: "chat".into(),
                cursor: "c1".into(),
                format: None
            }))
        );
        assert!(cmd(&["pool", "cursor-delete", "chat"]).is_none());
    }

    #[test]
    fn create_takes_names_and_size() {
        assert_eq!(
            cmd(&["pool", "create", "a", "b/c", "--size", "64K"]),
            Some(Command::PoolCreate(PoolCreateArgs {
                names: vec!["a".into(), "b/c".into()],
                size: Some(65_536),
                format: None
            }))
        );
        assert_eq!(
            cmd(&["pool", "create", "a"]),
            Some(Command::PoolCreate(PoolCreateArgs {
                names: vec!["a".into()],
                size: None,
                format: None
            }))
        );
        assert_eq!(
            cmd(&["pool", "create", "a", "--json"]),
            Some(Command::PoolCreate(PoolCreateArgs {
                names: vec!["a".into()],
                size: None,
                format: Some(OutputFormat::Jsonl)
            }))
        );
    }

    #[test]
    fn list_info_delete() {
        assert_eq!(
            cmd(&["pool", "list"]),
            Some(Command::PoolList(PoolListArgs { format: None }))
        );
        assert_eq!(
            cmd(&["pool", "list", "--format", "jsonl"]),
            Some(Command::PoolList(PoolListArgs {
                format: Some(OutputFormat::Jsonl)
            }))
        );
        assert_eq!(
            cmd(&["pool", "info", "--format=pretty", "chat"]),
            Some(Command::PoolInfo(PoolInfoArgs {
                name: "chat".into(),
                format: Some(OutputFormat::Pretty)
            }))
        );
        assert_eq!(
            cmd(&["pool", "delete", "a", "b"]),
            Some(Command::PoolDelete(PoolDeleteArgs {
                names: vec!["a".into(), "b".into()],
                format: None
            }))
        );
        assert_eq!(
            cmd(&["pool", "delete", "a", "--format", "jsonl"]),
            Some(Command::PoolDelete(PoolDeleteArgs {
                names: vec!["a".into()],
                format: Some(OutputFormat::Jsonl)
            }))
        );
        assert_eq!(
            cmd(&["pool", "list", "--json", "--format", "jsonl"]),
            Some(Command::PoolList(PoolListArgs {
                format: Some(OutputFormat::Jsonl)
            }))
        );
        assert_eq!(
            kind(&["pool", "info", "a", "--json", "--format", "pretty"]),
            Some(UsageErrorKind::Conflict)
        );
    }

    #[test]
    fn invalid_values_name_the_flag() {
        for (args, flag) in [
            (&["pool", "create", "a", "--size", "1.5G"][..], "--size"),
            (&["pool", "create", "a", "--size", "0"], "--size"),
            (&["pool", "create", "a", "--size"], "--size"),
            (&["pool", "list", "--format", "csv"], "--format"),
            (&["pool", "info", "a", "--format", ""], "--format"),
        ] {
            let msg = run(args).err().map(|e| e.message).unwrap_or_default();
            assert!(msg.contains(flag), "{args:?}: {msg}");
        }
    }

    #[test]
    fn flags_belong_to_their_subcommand() {
        assert_eq!(
            kind(&["pool", "list", "--size", "1M"]),
            Some(UsageErrorKind::UnknownFlag)
        );
        assert_eq!(
            kind(&["pool", "create", "a", "--all"]),
            Some(UsageErrorKind::UnknownFlag)
        );
        assert_eq!(
            kind(&["pool", "--size", "1M"]),
            Some(UsageErrorKind::UnknownFlag)
        );
    }

    #[test]
    fn positional_errors() {
        let cases: &[(&[&str], UsageErrorKind)] = &[
            (&["pool"], UsageErrorKind::MissingArgument),
            (&["pool", "make"], UsageErrorKind::UnknownCommand),
            (&["pool", "create"], UsageErrorKind::MissingArgument),
            (
                &["pool", "create", "--size", "1M"],
                UsageErrorKind::MissingArgument,
            ),
            (&["pool", "delete"], UsageErrorKind::MissingArgument),
            (&["pool", "info"], UsageErrorKind::MissingArgument),
            (
                &["pool", "info", "a", "b"],
                UsageErrorKind::UnexpectedArgument,
            ),
            (
                &["pool", "list", "extra"],
                UsageErrorKind::UnexpectedArgument,
            ),
            (&["pool", "create", ""], UsageErrorKind::InvalidValue),
        ];
        for (args, want) in cases {
            assert_eq!(kind(args), Some(*want), "{args:?}");
        }
        let hint = run(&["pool", "lst"]).err().and_then(|e| e.hint);
        assert_eq!(hint.as_deref(), Some("did you mean 'list'?"));
    }

    #[test]
    fn name_count_limit_edge() {
        let names: Vec<String> = (0..=POOL_NAMES_COUNT_MAX)
            .map(|i| format!("p{i}"))
            .collect();
        let mut args = vec!["pool", "delete"];
        args.extend(names.iter().take(POOL_NAMES_COUNT_MAX).map(String::as_str));
        let ok = cmd(&args);
        assert!(
            matches!(ok, Some(Command::PoolDelete(ref d)) if d.names.len() == POOL_NAMES_COUNT_MAX)
        );
        args.extend(names.iter().skip(POOL_NAMES_COUNT_MAX).map(String::as_str));
        assert_eq!(kind(&args), Some(UsageErrorKind::UnexpectedArgument));
    }

    #[test]
    fn help_for_pool_and_subcommands() {
        assert_eq!(
            cmd(&["pool", "--help"]),
            Some(Command::Help {
                topic: Some("pool".into())
            })
        );
        assert_eq!(
            cmd(&["pool", "-h"]),
            Some(Command::Help {
                topic: Some("pool".into())
            })
        );
        for sub in ["create", "list", "info", "delete"] {
            let want = Command::Help {
                topic: Some(format!("pool {sub}")),
            };
            assert_eq!(cmd(&["pool", sub, "--help"]), Some(want), "{sub}");
        }
    }
}
