//! The table of commands: names, one-line summaries, usage and positional arguments.
//!
//! Owns the command vocabulary used by the parser (dispatch and `help TOPIC`
//! validation), by `help` and by shell completions. Invariants (unit-tested):
//! every [`CommandId`] except [`CommandId::Root`] has exactly one [`CommandSpec`];
//! paths are unique; a two-word path's first word is itself a command (a group).

/// Identifies a command (or the top level, for global flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandId {
    /// Before any command: global flags.
    Root,
    /// `poke`.
    Poke,
    /// `peek`.
    Peek,
    /// `get`.
    Get,
    /// `tap`: run a command and capture its output.
    Tap,
    /// `duplex`: read and write one pool from one process.
    Duplex,
    /// `pool` (a group: needs a subcommand).
    Pool,
    /// `pool create`.
    PoolCreate,
    /// `pool list`.
    PoolList,
    /// `pool info`.
    PoolInfo,
    /// `pool delete`.
    PoolDelete,
    /// `pool cursors`.
    PoolCursors,
    /// `pool cursor-delete`.
    PoolCursorDelete,
    /// `doctor`.
    Doctor,
    /// `serve` (runnable, and a group for `init`/`check`).
    Serve,
    /// `serve init`.
    ServeInit,
    /// `serve check`.
    ServeCheck,
    /// `mcp`.
    Mcp,
    /// `completion`.
    Completion,
    /// `version`.
    Version,
    /// `help`.
    Help,
}

/// A positional argument, for help output.
#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    /// Placeholder, e.g. `POOL`.
    pub name: &'static str,
    /// One-line description.
    pub help: &'static str,
}

/// One command in the table.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Which command.
    pub id: CommandId,
    /// Words typed to run it, e.g. `"pool create"`.
    pub path: &'static str,
    /// One-line description for command lists.
    pub summary: &'static str,
    /// What follows the path in the usage line.
    pub usage: &'static str,
    /// Longer description shown by `help CMD`.
    pub description: &'static str,
    /// Positional arguments.
    pub args: &'static [ArgSpec],
}

const POOL_ARG: ArgSpec = ArgSpec {
    name: "POOL",
    help: "Pool name, path (contains '/'), or http(s)://HOST:PORT/POOL URL",
};
const NAMES_ARG: ArgSpec = ArgSpec {
    name: "NAME...",
    help: "One or more pool names or paths",
};

/// Every command, in the order shown by the top-level help.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        id: CommandId::Poke,
        path: "poke",
        summary: "Append messages to a pool",
        usage: "[FLAGS] POOL [DATA]",
        description: "Appends DATA (a JSON value) as one message, or reads messages from --file or standard input. \
Arguments that start with '-' followed by a digit (e.g. -5) are taken as DATA; put other DATA that starts with '-' after '--'.",
        args: &[
            POOL_ARG,
            ArgSpec {
                name: "DATA",
                help: "JSON message body; omit to read from --file or standard input",
            },
        ],
    },
    CommandSpec {
        id: CommandId::Peek,
        path: "peek",
        summary: "Read, filter and follow messages",
        usage: "[FLAGS] POOL",
        description: "Prints messages as they arrive. With --tail or --since, starts with older messages first. \
Filters (--tag, --where) must all match. \
Run 'plasmite help where' for the --where language: operators, builtins, regex syntax and examples.",
        args: &[POOL_ARG],
    },
    CommandSpec {
        id: CommandId::Get,
        path: "get",
        summary: "Fetch one message by sequence number",
        usage: "[FLAGS] POOL SEQ",
        description: "Prints the message with sequence number SEQ, or fails if it was never written or has been overwritten.",
        args: &[
            POOL_ARG,
            ArgSpec {
                name: "SEQ",
                help: "Sequence number, 1 or greater",
            },
        ],
    },
    CommandSpec {
        id: CommandId::Tap,
        path: "tap",
        summary: "Run a command and append each line of its output",
        usage: "[FLAGS] POOL [--] CMD [ARGS]...",
        description: "Runs CMD and appends one message per line of its stdout and stderr, \
{\"stream\":\"stdout\"|\"stderr\",\"line\":TEXT}, between a start message (argv, pid, cwd; tag tap.start) and an \
exit message (code or signal, duration; tag tap.exit); line messages are tagged tap.stdout or tap.stderr. \
The output is passed through unless --quiet. SIGINT, SIGTERM and SIGHUP sent to tap are forwarded to CMD. \
Exits with CMD's status (128+N when CMD was killed by signal N; 127 when CMD cannot be found, 126 when it cannot be run). \
The first argument after POOL starts CMD; everything after it belongs to CMD.",
        args: &[
            POOL_ARG,
            ArgSpec {
                name: "CMD [ARGS]...",
                help: "The command to run and its arguments",
            },
        ],
    },
    CommandSpec {
        id: CommandId::Duplex,
        path: "duplex",
        summary: "Chat over a pool: send lines and see the others' messages",
        usage: "[FLAGS] POOL",
        description: "Reads and writes one pool from one process. On a terminal each typed line is sent as \
{\"from\":ME,\"msg\":LINE} and the other writers' messages are printed as they arrive (who, when, what). \
From a pipe, standard input is a JSON stream (as poke) and standard output a JSON Lines stream (as peek). \
Messages this process sent are not printed unless --echo-self.",
        args: &[POOL_ARG],
    },
    CommandSpec {
        id: CommandId::Pool,
        path: "pool",
        summary: "Create, list, inspect and delete pools",
        usage: "SUBCOMMAND [FLAGS] [ARGS]",
        description: "Manages the pool files in the pool directory (see --dir).",
        args: &[],
    },
    CommandSpec {
        id: CommandId::PoolCreate,
        path: "pool create",
        summary: "Create pools",
        usage: "[FLAGS] NAME...",
        description: "Creates each named pool; fails for a pool that already exists.",
        args: &[NAMES_ARG],
    },
    CommandSpec {
        id: CommandId::PoolList,
        path: "pool list",
        summary: "List pools",
        usage: "[FLAGS]",
        description: "Lists the pools in the pool directory.",
        args: &[],
    },
    CommandSpec {
        id: CommandId::PoolInfo,
        path: "pool info",
        summary: "Show a pool's size, bounds and usage",
        usage: "[FLAGS] NAME",
        description: "Shows a pool's file size, oldest and newest sequence numbers and usage.",
        args: &[ArgSpec {
            name: "NAME",
            help: "Pool name or path",
        }],
    },
    CommandSpec {
        id: CommandId::PoolDelete,
        path: "pool delete",
        summary: "Delete pools",
        usage: "NAME...",
        description: "Deletes each named pool file and its cursors.",
        args: &[NAMES_ARG],
    },
    CommandSpec {
        id: CommandId::PoolCursors,
        path: "pool cursors",
        summary: "List a pool's durable cursors and their lag",
        usage: "[FLAGS] NAME",
        description: "Lists the cursors kept beside a local pool (peek --cursor): each one's committed seq, how many messages it is behind the newest, and whether writers lapped it (and by how many).",
        args: &[ArgSpec {
            name: "NAME",
            help: "Pool name or path",
        }],
    },
    CommandSpec {
        id: CommandId::PoolCursorDelete,
        path: "pool cursor-delete",
        summary: "Delete a durable cursor",
        usage: "[FLAGS] NAME CURSOR",
        description: "Removes one cursor of a local pool; Busy while a consumer holds it.",
        args: &[
            ArgSpec {
                name: "NAME",
                help: "Pool name or path",
            },
            ArgSpec {
                name: "CURSOR",
                help: "Cursor name",
            },
        ],
    },
    CommandSpec {
        id: CommandId::Doctor,
        path: "doctor",
        summary: "Check pool files for damage",
        usage: "(POOL | --all)",
        description: "Validates a pool's header and message index and reports problems. Give exactly one of POOL or --all.",
        args: &[POOL_ARG],
    },
    CommandSpec {
        id: CommandId::Serve,
        path: "serve",
        summary: "Serve pools over HTTP",
        usage: "[SUBCOMMAND] [FLAGS]",
        description: "Serves the pool directory over HTTP(S). Binds to loopback by default; \
other addresses need --allow-non-loopback and either TLS or --insecure-no-tls.",
        args: &[],
    },
    CommandSpec {
        id: CommandId::ServeInit,
        path: "serve init",
        summary: "Write a starter token and TLS files for serve",
        usage: "[FLAGS]",
        description: "Writes a random access token and a self-signed certificate and key for `plasmite serve`.",
        args: &[],
    },
    CommandSpec {
        id: CommandId::ServeCheck,
        path: "serve check",
        summary: "Validate serve flags and files without serving",
        usage: "[FLAGS]",
        description: "Checks the same flags as `serve` (files readable, address valid) and exits.",
        args: &[],
    },
    CommandSpec {
        id: CommandId::Mcp,
        path: "mcp",
        summary: "Serve pools to AI agents (Model Context Protocol over stdio)",
        usage: "[FLAGS]",
        description: "Speaks the Model Context Protocol on standard input and output (one JSON-RPC message per line; \
logs go to standard error), offering the pool directory's pools as tools (pool_list, pool_info, pool_create, \
pool_delete, append, get, read, wait) and as resources (plasmite://pool/NAME). Start it from an MCP client's \
configuration, e.g. command \"plasmite\" with args [\"--dir\", \"/path/to/pools\", \"mcp\"].",
        args: &[],
    },
    CommandSpec {
        id: CommandId::Completion,
        path: "completion",
        summary: "Print a shell completion script",
        usage: "SHELL",
        description: "Prints a completion script for plasmite and pls. \
Example: plasmite completion bash > ~/.local/share/bash-completion/completions/plasmite",
        args: &[ArgSpec {
            name: "SHELL",
            help: "One of: bash, zsh, fish",
        }],
    },
    CommandSpec {
        id: CommandId::Version,
        path: "version",
        summary: "Print the version",
        usage: "",
        description: "Prints the program version.",
        args: &[],
    },
    CommandSpec {
        id: CommandId::Help,
        path: "help",
        summary: "Show help for a command",
        usage: "[COMMAND [SUBCOMMAND]]",
        description: "Shows the top-level help, the help of one command, or with 'where' the --where filter language.",
        args: &[ArgSpec {
            name: "COMMAND",
            help: "A command name, e.g. peek or pool create",
        }],
    },
];

/// A second name of a command: same flags, same behaviour, nothing deprecated.
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    /// The second name, e.g. `feed`.
    pub name: &'static str,
    /// The command it runs.
    pub id: CommandId,
}

/// Second names, in the order shown.
pub static ALIASES: &[Alias] = &[
    Alias {
        name: "feed",
        id: CommandId::Poke,
    },
    Alias {
        name: "follow",
        id: CommandId::Peek,
    },
    Alias {
        name: "fetch",
        id: CommandId::Get,
    },
];

/// The second name of `id`, if it has one.
pub fn alias_of(id: CommandId) -> Option<&'static str> {
    ALIASES.iter().find(|a| a.id == id).map(|a| a.name)
}

/// The spec named `path`, by its path or by a second name (`feed` finds `poke`).
pub fn resolve(path: &str) -> Option<&'static CommandSpec> {
    find(path).or_else(|| {
        ALIASES
            .iter()
            .find(|a| a.name == path)
            .and_then(|a| spec(a.id))
    })
}

/// The spec for `id`, if it has one ([`CommandId::Root`] has none).
pub fn spec(id: CommandId) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.id == id)
}

/// The spec whose path is exactly `path` (e.g. `"pool create"`).
pub fn find(path: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.path == path)
}

/// The path of `id`, or `""` for [`CommandId::Root`].
pub fn path_of(id: CommandId) -> &'static str {
    spec(id).map_or("", |c| c.path)
}

/// Top-level commands (one-word paths), in table order.
pub fn top_level() -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS.iter().filter(|c| !c.path.contains(' '))
}

/// Subcommands of the group `parent` (e.g. `"pool"`), in table order.
pub fn subcommands(parent: &'static str) -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS.iter().filter(move |c| {
        c.path
            .split_once(' ')
            .is_some_and(|(head, _)| head == parent)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_groups_exist() {
        for (i, c) in COMMANDS.iter().enumerate() {
            assert!(
                COMMANDS
                    .iter()
                    .skip(i + 1)
                    .all(|o| o.path != c.path && o.id != c.id),
                "duplicate {}",
                c.path
            );
            if let Some((head, _)) = c.path.split_once(' ') {
                assert!(find(head).is_some(), "group {head} missing");
            }
        }
        assert!(spec(CommandId::Root).is_none());
    }

    #[test]
    fn subcommands_of_groups() {
        let pool: Vec<_> = subcommands("pool").map(|c| c.path).collect();
        assert_eq!(
            pool,
            [
                "pool create",
                "pool list",
                "pool info",
                "pool delete",
                "pool cursors",
                "pool cursor-delete"
            ]
        );
        let serve: Vec<_> = subcommands("serve").map(|c| c.path).collect();
        assert_eq!(serve, ["serve init", "serve check"]);
        assert_eq!(subcommands("peek").count(), 0);
    }

    #[test]
    fn second_names_resolve_and_never_shadow_a_command() {
        assert_eq!(resolve("feed").map(|c| c.id), Some(CommandId::Poke));
        assert_eq!(resolve("follow").map(|c| c.id), Some(CommandId::Peek));
        assert_eq!(resolve("fetch").map(|c| c.id), Some(CommandId::Get));
        assert_eq!(resolve("peek").map(|c| c.id), Some(CommandId::Peek));
        assert!(resolve("feeds").is_none());
        for a in ALIASES {
            assert!(find(a.name).is_none(), "{} is also a command", a.name);
            assert_eq!(alias_of(a.id), Some(a.name));
        }
        assert_eq!(alias_of(CommandId::Tap), None);
    }
}
