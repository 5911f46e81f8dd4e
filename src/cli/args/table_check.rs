//! Tests that the parsers and the flag table agree in both directions:
//! every table flag is accepted by its commands' parsers, and every flag not listed
//! for a command (any long name in the table, any letter) is rejected by it.

use super::tests::run;
use super::{Command, UsageErrorKind};
use crate::cli::commands::{CommandId, COMMANDS};
use crate::cli::flags::{self, FlagId, FlagSpec, FLAGS};

/// Arguments before and after the flag that make a valid invocation of `cmd`.
fn frame(cmd: CommandId) -> (Vec<&'static str>, Vec<&'static str>) {
    let path = crate::cli::commands::path_of(cmd);
    let prefix: Vec<&str> = if path.is_empty() {
        vec![]
    } else {
        path.split(' ').collect()
    };
    let suffix = match cmd {
        CommandId::Root => vec!["version"],
        CommandId::Poke | CommandId::Peek | CommandId::Doctor => vec!["chat"],
        CommandId::Get => vec!["chat", "1"],
        CommandId::Tap => vec!["chat", "true"],
        CommandId::Duplex => vec!["chat"],
        CommandId::PoolCreate
        | CommandId::PoolInfo
        | CommandId::PoolDelete
        | CommandId::PoolCursors => vec!["chat"],
        CommandId::PoolCursorDelete => vec!["chat", "c"],
        CommandId::Completion => vec!["bash"],
        _ => vec![],
    };
    (prefix, suffix)
}

/// A valid value for `flag`.
fn sample(flag: &FlagSpec) -> &'static str {
    if let Some(first) = flag.choices.first() {
        return first;
    }
    match flag.id {
        FlagId::CreateSize | FlagId::Size | FlagId::MaxBody | FlagId::MaxPoolSize => "1M",
        FlagId::CorsOrigin => "https://app.example",
        FlagId::RetryDelay | FlagId::Timeout => "1s",
        FlagId::Since => "5m",
        FlagId::Retry
        | FlagId::Tail
        | FlagId::MaxConnections
        | FlagId::MaxConnectionsPerIp
        | FlagId::MaxPools
        | FlagId::MaxTails
        | FlagId::Replay => "1",
        FlagId::Bind => "127.0.0.1:1",
        _ => "x",
    }
}

fn all_commands() -> impl Iterator<Item = CommandId> {
    std::iter::once(CommandId::Root).chain(COMMANDS.iter().map(|c| c.id))
}

fn invoke(cmd: CommandId, flag_args: &[&str]) -> Result<Command, super::UsageError> {
    let (mut args, suffix) = frame(cmd);
    args.extend_from_slice(flag_args);
    args.extend(suffix);
    run(&args).map(|inv| inv.command)
}

#[test]
fn every_frame_parses_without_flags() {
    for cmd in all_commands() {
        if cmd == CommandId::Pool {
            continue; // a group: needs a subcommand
        }
        assert!(invoke(cmd, &[]).is_ok(), "{cmd:?}");
    }
}

#[test]
fn every_table_flag_is_accepted_by_its_commands() {
    for cmd in all_commands() {
        for flag in flags::for_command(cmd) {
            let long = format!("--{}", flag.long);
            let mut spellings = vec![vec![long.clone()]];
            if let Some(s) = flag.short {
                spellings.push(vec![format!("-{s}")]);
            }
            for spelling in &mut spellings {
                if flag.value.is_some() {
                    spelling.push(sample(flag).to_owned());
                }
                let refs: Vec<&str> = spelling.iter().map(String::as_str).collect();
                let got = invoke(cmd, &refs);
                let ok = match &got {
                    Ok(_) => true,
                    // Flags that need a partner flag or exclude the positional.
                    Err(e) => e.kind == UsageErrorKind::Conflict,
                };
                assert!(ok, "{cmd:?} {refs:?}: {got:?}");
            }
        }
    }
}

#[test]
fn help_flag_gives_the_command_page() {
    for cmd in all_commands() {
        let got = invoke(cmd, &["--help"]);
        let path = crate::cli::commands::path_of(cmd);
        let want = Command::Help {
            topic: (!path.is_empty()).then(|| path.to_owned()),
        };
        if cmd == CommandId::Pool {
            assert_eq!(run(&["pool", "--help"]).map(|i| i.command).ok(), Some(want));
        } else {
            assert_eq!(got.ok(), Some(want), "{cmd:?}");
        }
    }
}

#[test]
fn flags_not_in_the_table_for_a_command_are_rejected() {
    for cmd in all_commands() {
        for other in FLAGS {
            if flags::find_long(cmd, other.long).is_some() {
                continue;
            }
            let long = format!("--{}", other.long);
            let got = invoke(cmd, &[&long, sample(other)]);
            assert_eq!(
                got.err().map(|e| e.kind),
                Some(UsageErrorKind::UnknownFlag),
                "{cmd:?} {long}"
            );
        }
        for letter in ('a'..='z').chain('A'..='Z') {
            if flags::find_short(cmd, letter).is_some() {
                continue;
            }
            let short = format!("-{letter}");
            let got = invoke(cmd, &[&short]);
            assert_eq!(
                got.err().map(|e| e.kind),
                Some(UsageErrorKind::UnknownFlag),
                "{cmd:?} {short}"
            );
        }
    }
}

#[test]
fn table_defaults_match_parser_defaults() {
    let find = |cmd, long| flags::find_long(cmd, long).and_then(|f| f.default);
    if let Ok(Command::Poke(p)) = invoke(CommandId::Poke, &[]) {
        assert_eq!(
            find(CommandId::Poke, "durability"),
            Some(p.durability.name())
        );
        assert_eq!(find(CommandId::Poke, "in"), Some(p.input_format.name()));
        assert_eq!(find(CommandId::Poke, "errors"), Some(p.errors.name()));
        assert_eq!(
            find(CommandId::Poke, "retry"),
            Some(p.retry.to_string().as_str())
        );
        let delay =
            crate::cli::units::parse_duration(find(CommandId::Poke, "retry-delay").unwrap_or(""));
        assert_eq!(delay.ok(), Some(p.retry_delay));
    } else {
        panic!("poke frame failed");
    }
    if let Ok(Command::Serve(s)) = invoke(CommandId::Serve, &[]) {
        assert_eq!(find(CommandId::Serve, "access"), Some(s.access.name()));
        assert_eq!(find(CommandId::Serve, "bind"), Some(s.bind.as_str()));
    } else {
        panic!("serve frame failed");
    }
    if let Ok(Command::Mcp(m)) = invoke(CommandId::Mcp, &[]) {
        assert_eq!(find(CommandId::Mcp, "access"), Some(m.access.name()));
    } else {
        panic!("mcp frame failed");
    }
    let global = run(&["version"]).map(|i| i.global.color.name()).ok();
    assert_eq!(find(CommandId::Root, "color"), global);
}

#[test]
fn no_panic_on_any_pair_of_awkward_tokens() {
    let mut vocab: Vec<String> = [
        "",
        "-",
        "--",
        "-5",
        "-1.5",
        "-h",
        "-nh",
        "-n",
        "-n=",
        "-V",
        "=",
        "--=",
        "--x=",
        "é",
        "--tail=",
        "--tail=-1",
        "chat",
        "1",
        "0",
        "init",
        "check",
        "create",
        "bash",
        "-x-",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for flag in FLAGS {
        vocab.extend(super::lex_test_spellings(flag));
    }
    let words: Vec<&str> = [
        "",
        "poke",
        "peek",
        "get",
        "pool",
        "doctor",
        "serve",
        "mcp",
        "completion",
        "version",
        "help",
    ]
    .to_vec();
    for w in &words {
        for a in &vocab {
            for b in &vocab {
                let mut args: Vec<&str> = if w.is_empty() { vec![] } else { vec![w] };
                args.extend([a.as_str(), b.as_str()]);
                let _ = run(&args);
            }
        }
    }
}
