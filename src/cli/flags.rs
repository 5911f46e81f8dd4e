//! THE table of flags: every flag of every command, with its spelling, value
//! placeholder, help line, allowed values, default and the commands that accept it.
//!
//! The parsers resolve each `-x`/`--xyz` through this table (an unlisted flag is an
//! "unknown flag" error by construction), and `help` and `completion` render from it.
//! Invariants (unit-tested here and in `args`): within one command no two entries share
//! a long name or a short letter; every entry is handled by its commands' parsers;
//! enum-valued entries take their `choices` from the enum's own `NAMES`, and a
//! `default` is one of the `choices`.

use crate::cli::args::types::{
    Access, Color, Durability, ErrorPolicy, GapMode, InputFormat, OutputFormat, SERVE_BIND_DEFAULT,
};
use crate::cli::commands::CommandId::{self, *};

/// Identifies a flag by meaning (one id per long name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum FlagId {
    Dir,
    Color,
    Help,
    Version,
    Create,
    CreateSize,
    Tag,
    Durability,
    File,
    In,
    Errors,
    Retry,
    RetryDelay,
    TokenFile,
    TlsCa,
    Tail,
    Since,
    Where,
    One,
    Timeout,
    Format,
    Jsonl,
    Json,
    DataOnly,
    Replay,
    QuietDrops,
    OnGap,
    Cursor,
    NoFollow,
    Size,
    All,
    Bind,
    AllowNonLoopback,
    InsecureNoTls,
    Access,
    TlsCert,
    TlsKey,
    TlsSelfSigned,
    MaxBody,
    MaxConnections,
    MaxConnectionsPerIp,
    MaxTails,
    MaxPoolSize,
    MaxPools,
    AllowHost,
    CorsOrigin,
    OutputDir,
    Force,
    Quiet,
    Me,
    EchoSelf,
}

/// What a flag's value is, for shell completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Free text (or one of `choices`).
    Text,
    /// A file path.
    File,
    /// A directory path.
    Dir,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    /// Meaning.
    pub id: FlagId,
    /// Long name without dashes.
    pub long: &'static str,
    /// Short letter, if any.
    pub short: Option<char>,
    /// Value placeholder (`None` for switches).
    pub value: Option<&'static str>,
    /// One-line help.
    pub help: &'static str,
    /// Commands that accept this row.
    pub commands: &'static [CommandId],
    /// May be given more than once (values kept in order).
    pub repeatable: bool,
    /// Allowed values (empty = free-form).
    pub choices: &'static [&'static str],
    /// Default value shown in help.
    pub default: Option<&'static str>,
    /// Value kind for completion.
    pub kind: ValueKind,
}

impl FlagSpec {
    const fn switch(
        id: FlagId,
        long: &'static str,
        help: &'static str,
        commands: &'static [CommandId],
    ) -> Self {
        FlagSpec {
            id,
            long,
            short: None,
            value: None,
            help,
            commands,
            repeatable: false,
            choices: &[],
            default: None,
            kind: ValueKind::Text,
        }
    }

    const fn valued(
        id: FlagId,
        long: &'static str,
        value: &'static str,
        help: &'static str,
        commands: &'static [CommandId],
    ) -> Self {
        let mut spec = Self::switch(id, long, help, commands);
        spec.value = Some(value);
        spec
    }

    const fn short(mut self, letter: char) -> Self {
        self.short = Some(letter);
        self
    }

    const fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    const fn choices(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = choices;
        self
    }

    const fn default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    const fn files(mut self) -> Self {
        self.kind = ValueKind::File;
        self
    }

    const fn dirs(mut self) -> Self {
        self.kind = ValueKind::Dir;
        self
    }

    /// `--long VALUE` / `-s, --long VALUE` as shown in help.
    pub fn display(&self) -> String {
        let mut out = match self.short {
            Some(s) => format!("-{s}, --{}", self.long),
            None => format!("    --{}", self.long),
        };
        if let Some(v) = self.value {
            out.push(' ');
            out.push_str(v);
        }
        out
    }
}

/// Every command (help works everywhere).
const EVERYWHERE: &[CommandId] = &[
    Root,
    Poke,
    Peek,
    Get,
    Tap,
    Duplex,
    Pool,
    PoolCreate,
    PoolList,
    PoolInfo,
    PoolDelete,
    PoolCursors,
    PoolCursorDelete,
    Doctor,
    Serve,
    ServeInit,
    ServeCheck,
    Mcp,
    Completion,
    Version,
    Help,
];
const CLIENT: &[CommandId] = &[Poke, Peek, Get, Duplex];
const PRINTING: &[CommandId] = &[Peek, Get];
/// The management commands: a human format on a terminal, JSON otherwise.
const REPORTING: &[CommandId] = &[
    PoolCreate,
    PoolList,
    PoolInfo,
    PoolDelete,
    PoolCursors,
    PoolCursorDelete,
    Doctor,
];
const SERVING: &[CommandId] = &[Serve, ServeCheck];

/// The table. Order is the order flags are listed in help.
pub static FLAGS: &[FlagSpec] = &[
    // Global (before the command).
    FlagSpec::valued(
        FlagId::Dir,
        "dir",
        "PATH",
        "Pool directory (default: ~/.plasmite/pools)",
        &[Root],
    )
    .dirs(),
    FlagSpec::valued(FlagId::Color, "color", "WHEN", "When to use color", &[Root])
        .choices(Color::NAMES)
        .default("auto"),
    FlagSpec::switch(FlagId::Version, "version", "Print the version", &[Root]).short('V'),
    // poke
    FlagSpec::switch(
        FlagId::Create,
        "create",
        "Create the pool if it does not exist",
        &[Poke, Peek, Tap, Duplex],
    ),
    FlagSpec::valued(
        FlagId::CreateSize,
        "create-size",
        "SIZE",
        "Size of a pool made by --create (e.g. 64M)",
        &[Poke, Tap],
    ),
    FlagSpec::valued(
        FlagId::Tag,
        "tag",
        "TAG",
        "Attach a tag to each message",
        &[Poke, Tap],
    )
    .repeatable(),
    FlagSpec::valued(
        FlagId::Durability,
        "durability",
        "MODE",
        "fast returns after the write; flush also syncs to disk",
        &[Poke],
    )
    .choices(Durability::NAMES)
    .default("fast"),
    FlagSpec::valued(
        FlagId::File,
        "file",
        "FILE",
        "Read messages from FILE ('-' = standard input)",
        &[Poke],
    )
    .files(),
    FlagSpec::valued(
        FlagId::In,
        "in",
        "FORMAT",
        "How input is split into messages",
        &[Poke],
    )
    .choices(InputFormat::NAMES)
    .default("auto"),
    FlagSpec::valued(
        FlagId::Errors,
        "errors",
        "POLICY",
        "On an invalid input record: stop, or skip it and warn",
        &[Poke],
    )
    .choices(ErrorPolicy::NAMES)
    .default("stop"),
    FlagSpec::valued(
        FlagId::Retry,
        "retry",
        "N",
        "Retry a failed append up to N times",
        &[Poke],
    )
    .default("0"),
    FlagSpec::valued(
        FlagId::RetryDelay,
        "retry-delay",
        "DUR",
        "Wait between retries (e.g. 250ms)",
        &[Poke],
    )
    .default("100ms"),
    // peek
    FlagSpec::valued(
        FlagId::Tail,
        "tail",
        "N",
        "Start with the last N messages",
        &[Peek, Duplex],
    )
    .short('n'),
    FlagSpec::valued(
        FlagId::Since,
        "since",
        "TIME",
        "Start at messages newer than TIME (RFC 3339, or 30s, 5m, 1h, 2d ago)",
        &[Peek],
    ),
    FlagSpec::valued(
        FlagId::Tag,
        "tag",
        "TAG",
        "Only messages with this tag (all given tags must match)",
        &[Peek],
    )
    .repeatable(),
    FlagSpec::valued(
        FlagId::Where,
        "where",
        "EXPR",
        "Only messages matching the filter EXPR (all must match)",
        &[Peek],
    )
    .repeatable(),
    FlagSpec::switch(
        FlagId::One,
        "one",
        "Exit after the first matching message",
        &[Peek],
    ),
    FlagSpec::switch(
        FlagId::NoFollow,
        "no-follow",
        "Print what --tail/--since select (default: every message held) and exit",
        &[Peek],
    ),
    FlagSpec::valued(
        FlagId::Timeout,
        "timeout",
        "DUR",
        "Give up waiting for new messages after DUR",
        &[Peek],
    ),
    FlagSpec::valued(
        FlagId::Format,
        "format",
        "FORMAT",
        "Output format (default: pretty on a terminal, else jsonl)",
        PRINTING,
    )
    .choices(OutputFormat::NAMES),
    FlagSpec::valued(
        FlagId::Format,
        "format",
        "FORMAT",
        "Print JSON in FORMAT (default: a human format on a terminal, else jsonl)",
        REPORTING,
    )
    .choices(OutputFormat::NAMES),
    FlagSpec::switch(
        FlagId::Json,
        "json",
        "Print JSON Lines even on a terminal (same as --format jsonl)",
        REPORTING,
    ),
    FlagSpec::switch(FlagId::Jsonl, "jsonl", "Same as --format jsonl", &[Peek]),
    FlagSpec::switch(
        FlagId::DataOnly,
        "data-only",
        "Print only each message's data",
        &[Peek, Get],
    ),
    FlagSpec::valued(
        FlagId::Replay,
        "replay",
        "SPEED",
        "Replay history with original timing, SPEED times faster (0 = no delay)",
        &[Peek],
    ),
    FlagSpec::switch(
        FlagId::QuietDrops,
        "quiet-drops",
        "Do not report messages overwritten before they were read",
        &[Peek],
    ),
    FlagSpec::valued(
        FlagId::OnGap,
        "on-gap",
        "POLICY",
        "When messages were overwritten before they were read: continue, or error (exit 9)",
        &[Peek],
    )
    .choices(GapMode::NAMES)
    .default("continue"),
    FlagSpec::valued(
        FlagId::Cursor,
        "cursor",
        "NAME",
        "Resume after this durable cursor's position and commit to it (local pools)",
        &[Peek],
    ),
    // remote client options (poke, peek, get)
    FlagSpec::valued(
        FlagId::TokenFile,
        "token-file",
        "FILE",
        "Read the bearer token for a remote pool from FILE",
        CLIENT,
    )
    .files(),
    FlagSpec::valued(
        FlagId::TlsCa,
        "tls-ca",
        "FILE",
        "Trust the CA certificates in FILE (PEM) for a remote pool",
        CLIENT,
    )
    .files(),
    // pool, doctor
    FlagSpec::valued(
        FlagId::Size,
        "size",
        "SIZE",
        "Pool file size (e.g. 64M)",
        &[PoolCreate],
    ),
    FlagSpec::switch(
        FlagId::All,
        "all",
        "Check every pool in the pool directory",
        &[Doctor],
    ),
    // serve, serve check
    FlagSpec::valued(FlagId::Bind, "bind", "ADDR", "Listen on HOST:PORT", SERVING)
        .default(SERVE_BIND_DEFAULT),
    FlagSpec::switch(
        FlagId::AllowNonLoopback,
        "allow-non-loopback",
        "Allow binding to a non-loopback address",
        SERVING,
    ),
    FlagSpec::switch(
        FlagId::InsecureNoTls,
        "insecure-no-tls",
        "Allow plain HTTP on a non-loopback address",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::TokenFile,
        "token-file",
        "FILE",
        "Require the bearer token stored in FILE",
        SERVING,
    )
    .files(),
    FlagSpec::valued(
        FlagId::Access,
        "access",
        "MODE",
        "Operations remote clients may perform",
        SERVING,
    )
    .choices(Access::NAMES)
    .default("read-write"),
    FlagSpec::valued(
        FlagId::TlsCert,
        "tls-cert",
        "FILE",
        "TLS certificate chain (PEM); needs --tls-key",
        SERVING,
    )
    .files(),
    FlagSpec::valued(
        FlagId::TlsKey,
        "tls-key",
        "FILE",
        "TLS private key (PEM); needs --tls-cert",
        SERVING,
    )
    .files(),
    FlagSpec::switch(
        FlagId::TlsSelfSigned,
        "tls-self-signed",
        "Serve TLS with a generated self-signed certificate",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::MaxBody,
        "max-body",
        "SIZE",
        "Largest accepted request body (e.g. 1M)",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::MaxConnections,
        "max-connections",
        "N",
        "Most simultaneous connections",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::MaxConnectionsPerIp,
        "max-connections-per-ip",
        "N",
        "Most simultaneous connections from one client address",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::MaxTails,
        "max-tails",
        "N",
        "Most simultaneous streaming readers",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::MaxPoolSize,
        "max-pool-size",
        "SIZE",
        "Largest pool clients may create over HTTP (e.g. 256M)",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::MaxPools,
        "max-pools",
        "N",
        "Most pools in the directory for clients to create one more",
        SERVING,
    ),
    FlagSpec::valued(
        FlagId::AllowHost,
        "allow-host",
        "NAME",
        "Also answer requests for this Host name (repeatable)",
        SERVING,
    )
    .repeatable(),
    FlagSpec::valued(
        FlagId::CorsOrigin,
        "cors-origin",
        "ORIGIN",
        "Let web pages from ORIGIN call the server (repeatable, exact)",
        SERVING,
    )
    .repeatable(),
    // mcp
    FlagSpec::valued(
        FlagId::Access,
        "access",
        "MODE",
        "Tools the client may use (read-only lists no write tools)",
        &[Mcp],
    )
    .choices(Access::NAMES)
    .default("read-write"),
    // serve init
    FlagSpec::valued(
        FlagId::OutputDir,
        "output-dir",
        "DIR",
        "Write the files into DIR (default: current directory)",
        &[ServeInit],
    )
    .dirs(),
    FlagSpec::switch(
        FlagId::Force,
        "force",
        "Overwrite existing files",
        &[ServeInit],
    ),
    // tap
    FlagSpec::switch(
        FlagId::Quiet,
        "quiet",
        "Do not pass the command's output through (only store it)",
        &[Tap],
    )
    .short('q'),
    // duplex
    FlagSpec::valued(
        FlagId::Me,
        "me",
        "NAME",
        "Name sent as 'from' with each typed line (default: $USER)",
        &[Duplex],
    ),
    FlagSpec::switch(
        FlagId::EchoSelf,
        "echo-self",
        "Also print the messages this process sent",
        &[Duplex],
    ),
    // everywhere
    FlagSpec::switch(FlagId::Help, "help", "Show help", EVERYWHERE).short('h'),
];

/// Flags accepted by `cmd`, in table order.
pub fn for_command(cmd: CommandId) -> impl Iterator<Item = &'static FlagSpec> {
    FLAGS.iter().filter(move |f| f.commands.contains(&cmd))
}

/// The row for `--long` under `cmd`.
pub fn find_long(cmd: CommandId, long: &str) -> Option<&'static FlagSpec> {
    for_command(cmd).find(|f| f.long == long)
}

/// The row for `-s` under `cmd`.
pub fn find_short(cmd: CommandId, short: char) -> Option<&'static FlagSpec> {
    for_command(cmd).find(|f| f.short == Some(short))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::commands::COMMANDS;

    fn all_ids() -> impl Iterator<Item = CommandId> {
        std::iter::once(Root).chain(COMMANDS.iter().map(|c| c.id))
    }

    #[test]
    fn no_command_has_duplicate_long_or_short() {
        for cmd in all_ids() {
            let flags: Vec<_> = for_command(cmd).collect();
            for (i, f) in flags.iter().enumerate() {
                for g in flags.iter().skip(i + 1) {
                    assert_ne!(f.long, g.long, "{cmd:?}");
                    assert!(
                        f.short.is_none() || f.short != g.short,
                        "{cmd:?} -{:?}",
                        f.short
                    );
                    assert_ne!(f.id, g.id, "{cmd:?}");
                }
            }
        }
    }

    #[test]
    fn defaults_are_among_choices_and_choices_need_values() {
        for f in FLAGS {
            if let Some(d) = f.default {
                assert!(f.value.is_some(), "--{} has a default but no value", f.long);
                assert!(
                    f.choices.is_empty() || f.choices.contains(&d),
                    "--{}",
                    f.long
                );
            }
            assert!(f.choices.is_empty() || f.value.is_some(), "--{}", f.long);
            assert!(
                f.kind == ValueKind::Text || f.value.is_some(),
                "--{}",
                f.long
            );
        }
    }

    #[test]
    fn one_long_name_means_one_id() {
        for f in FLAGS {
            assert!(
                FLAGS.iter().all(|g| (g.long == f.long) == (g.id == f.id)),
                "--{}",
                f.long
            );
        }
    }

    #[test]
    fn every_command_accepts_help_and_has_flags_listed() {
        for cmd in all_ids() {
            assert!(find_long(cmd, "help").is_some(), "{cmd:?}");
            assert!(find_short(cmd, 'h').is_some(), "{cmd:?}");
        }
        assert_eq!(find_short(Peek, 'n').map(|f| f.id), Some(FlagId::Tail));
        assert!(find_long(Peek, "dir").is_none());
    }

    #[test]
    fn display_aligns_long_only_flags() {
        assert_eq!(
            find_short(Peek, 'n').map(FlagSpec::display).as_deref(),
            Some("-n, --tail N")
        );
        assert_eq!(
            find_long(Peek, "one").map(FlagSpec::display).as_deref(),
            Some("    --one")
        );
    }
}
