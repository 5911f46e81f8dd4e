//! The plain data produced by argument parsing: one struct per command plus the small
//! enums for flags with a fixed set of values.
//!
//! Invariants: these types carry no behaviour beyond name lookup; every enum's
//! `NAMES` is the single list of accepted spellings (the flag table and completions
//! refer to it), and defaults documented here are the ones the parsers fill in.

use crate::cli::units::Since;
use std::path::PathBuf;
use std::time::Duration;

/// Defines a `Copy` enum whose variants have one fixed lowercase spelling each.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every accepted spelling, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// Looks up a value by its exact spelling.
            pub fn from_name(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The spelling of this value.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }
    };
}

named_enum! {
    /// `--color`: when to colorize output (default `auto`).
    #[derive(Default)]
    Color {
        #[default]
        Auto = "auto",
        Always = "always",
        Never = "never",
    }
}

named_enum! {
    /// `--format`: how messages are printed.
    OutputFormat {
        /// One compact JSON document per line.
        Jsonl = "jsonl",
        /// Indented JSON for humans.
        Pretty = "pretty",
    }
}

named_enum! {
    /// `poke --in`: how input is split into messages (default `auto`).
    InputFormat {
        /// Detect from the first bytes.
        Auto = "auto",
        /// One JSON value per line.
        Jsonl = "jsonl",
        /// A single JSON value (or a top-level array treated as one message).
        Json = "json",
        /// RFC 7464 JSON text sequences (RS-separated).
        Seq = "seq",
        /// Concatenated JSON values, as printed by `jq`.
        Jq = "jq",
        /// Server-sent events (`data:` lines).
        EventStream = "event-stream",
    }
}

named_enum! {
    /// `poke --errors`: what to do with an input record that is not valid JSON.
    ErrorPolicy { Stop = "stop", Skip = "skip" }
}

named_enum! {
    /// `peek --on-gap`: what to do when messages were evicted before they were read.
    GapMode { Continue = "continue", Error = "error" }
}

named_enum! {
    /// `poke --durability`: whether each append is flushed to disk before returning.
    Durability { Fast = "fast", Flush = "flush" }
}

named_enum! {
    /// `serve --access`: which operations remote clients may perform.
    Access { ReadOnly = "read-only", WriteOnly = "write-only", ReadWrite = "read-write" }
}

named_enum! {
    /// `completion SHELL`: which shell to generate a script for.
    Shell { Bash = "bash", Zsh = "zsh", Fish = "fish" }
}

/// The whole parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// Flags given before the command.
    pub global: Global,
    /// The command and its arguments.
    pub command: Command,
}

/// Global flags (they must come before the command name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Global {
    /// `--dir PATH`: pool directory; `None` means the caller's default.
    pub dir: Option<PathBuf>,
    /// `--color`: default [`Color::Auto`].
    pub color: Color,
}

/// One variant per command; each carries its own plain struct.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `poke POOL [DATA]`.
    Poke(PokeArgs),
    /// `peek POOL`.
    Peek(PeekArgs),
    /// `get POOL SEQ`.
    Get(GetArgs),
    /// `tap POOL -- CMD [ARGS]...`.
    Tap(super::TapArgs),
    /// `duplex POOL`.
    Duplex(super::DuplexArgs),
    /// `pool create NAME...`.
    PoolCreate(PoolCreateArgs),
    /// `pool list`.
    PoolList(PoolListArgs),
    /// `pool info NAME`.
    PoolInfo(PoolInfoArgs),
    /// `pool delete NAME...`.
    PoolDelete(PoolDeleteArgs),
    /// `pool cursors NAME`.
    PoolCursors(PoolInfoArgs),
    /// `pool cursor-delete NAME CURSOR`.
    PoolCursorDelete(PoolCursorDeleteArgs),
    /// `doctor POOL` / `doctor --all`.
    Doctor(DoctorArgs),
    /// `mcp`: the Model Context Protocol over stdio.
    Mcp(McpArgs),
    /// `completion SHELL`.
    Completion(CompletionArgs),
    /// `serve`.
    Serve(ServeArgs),
    /// `serve init`.
    ServeInit(ServeInitArgs),
    /// `serve check`: validate a serve configuration without binding.
    ServeCheck(ServeArgs),
    /// `version`, `-V`, `--version`.
    Version,
    /// `help [TOPIC]`, `-h`, `--help`, `CMD --help`. `topic` is a canonical command
    /// path such as `"peek"` or `"pool create"`; `None` is the top-level help.
    Help {
        /// Which help page to show.
        topic: Option<String>,
    },
}

/// Client-side options for talking to a remote (`http(s)://`) pool.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteOpts {
    /// `--token-file F`: file holding the bearer token.
    pub token_file: Option<PathBuf>,
    /// `--tls-ca F`: PEM bundle of extra trusted CA certificates.
    pub tls_ca: Option<PathBuf>,
}

/// Where `poke` reads message data from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PokeInput {
    /// The DATA positional argument.
    Arg(String),
    /// `--file F` with `F != "-"`.
    File(PathBuf),
    /// `--file -`, or neither DATA nor `--file` given.
    Stdin,
}

/// `poke POOL [DATA]`: append messages.
#[derive(Debug, Clone, PartialEq)]
pub struct PokeArgs {
    /// Pool reference (name, path, or URL), unresolved.
    pub pool: String,
    /// Data source.
    pub input: PokeInput,
    /// `--create`: create the pool if missing.
    pub create: bool,
    /// `--create-size SIZE` in bytes (requires `--create`).
    pub create_size: Option<u64>,
    /// `--tag T`, in command-line order.
    pub tags: Vec<String>,
    /// `--durability`, default [`Durability::Fast`].
    pub durability: Durability,
    /// `--in`, default [`InputFormat::Auto`].
    pub input_format: InputFormat,
    /// `--errors`, default [`ErrorPolicy::Stop`].
    pub errors: ErrorPolicy,
    /// `--retry N`, default 0.
    pub retry: u32,
    /// `--file -`: stdin was named explicitly, so a terminal is read until EOF.
    pub stdin_named: bool,
    /// `--retry-delay DUR`, default 100 ms.
    pub retry_delay: Duration,
    /// `--token-file`, `--tls-ca`.
    pub remote: RemoteOpts,
}

/// `peek POOL`: read, filter and follow messages.
#[derive(Debug, Clone, PartialEq)]
pub struct PeekArgs {
    /// Pool reference, unresolved.
    pub pool: String,
    /// `--tail N` / `-n N`.
    pub tail: Option<u64>,
    /// `--since TIME`.
    pub since: Option<Since>,
    /// `--tag T` (all must match), in command-line order.
    pub tags: Vec<String>,
    /// `--where EXPR` (all must match), unparsed, in command-line order.
    pub wheres: Vec<String>,
    /// `--one`: exit after the first matching message.
    pub one: bool,
    /// `--no-follow`: print the selected messages and exit instead of waiting for more.
    pub no_follow: bool,
    /// `--timeout DUR`.
    pub timeout: Option<Duration>,
    /// `--format` / `--jsonl`; `None` lets the caller choose (pretty on a terminal,
    /// jsonl otherwise).
    pub format: Option<OutputFormat>,
    /// `--data-only`: print only the `data` field.
    pub data_only: bool,
    /// `--replay SPEED`: 0 means no delay; finite, `0..=REPLAY_SPEED_MAX`.
    pub replay: Option<f64>,
    /// `--quiet-drops`: do not report dropped (overwritten) messages.
    pub quiet_drops: bool,
    /// `--on-gap`, default [`GapMode::Continue`].
    pub on_gap: GapMode,
    /// `--cursor NAME`: resume after, and commit to, this durable named cursor.
    pub cursor: Option<String>,
    /// `--create`: create the pool if missing.
    pub create: bool,
    /// `--token-file`, `--tls-ca`.
    pub remote: RemoteOpts,
}

/// `get POOL SEQ`: fetch one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetArgs {
    /// Pool reference, unresolved.
    pub pool: String,
    /// Sequence number, always `>= 1`.
    pub seq: u64,
    /// `--format`; `None` lets the caller choose.
    pub format: Option<OutputFormat>,
    /// `--data-only`.
    pub data_only: bool,
    /// `--token-file`, `--tls-ca`.
    pub remote: RemoteOpts,
}

/// `pool create NAME... [--size SIZE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolCreateArgs {
    /// At least one pool name or path.
    pub names: Vec<String>,
    /// `--size SIZE` in bytes; `None` = library default.
    pub size: Option<u64>,
    /// `--format` / `--json`; `None` lets the caller choose.
    pub format: Option<OutputFormat>,
}

/// `pool list`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolListArgs {
    /// `--format`; `None` lets the caller choose.
    pub format: Option<OutputFormat>,
}

/// `pool info NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfoArgs {
    /// Pool name or path.
    pub name: String,
    /// `--format`; `None` lets the caller choose.
    pub format: Option<OutputFormat>,
}

/// `pool cursor-delete NAME CURSOR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolCursorDeleteArgs {
    /// Pool name or path.
    pub name: String,
    /// The cursor's name.
    pub cursor: String,
    /// `--format`; `None` lets the caller choose.
    pub format: Option<OutputFormat>,
}

/// `pool delete NAME...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolDeleteArgs {
    /// At least one pool name or path.
    pub names: Vec<String>,
    /// `--format` / `--json`; `None` lets the caller choose.
    pub format: Option<OutputFormat>,
}

/// What `doctor` checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoctorTarget {
    /// One pool.
    Pool(String),
    /// `--all`: every pool in the pool directory.
    All,
}

/// `doctor POOL` / `doctor --all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorArgs {
    /// Exactly one of a pool or `--all`.
    pub target: DoctorTarget,
    /// `--format` / `--json`; `None` lets the caller choose.
    pub format: Option<OutputFormat>,
}

/// `mcp [--access MODE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpArgs {
    /// `--access`, default [`Access::ReadWrite`].
    pub access: Access,
}

/// `completion SHELL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionArgs {
    /// Target shell.
    pub shell: Shell,
}

/// TLS mode chosen by `serve` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeTls {
    /// No TLS flags: plain HTTP (only allowed on loopback unless `--insecure-no-tls`;
    /// that policy is checked later).
    None,
    /// `--tls-cert F --tls-key F`.
    Files {
        /// PEM certificate chain.
        cert: PathBuf,
        /// PEM private key.
        key: PathBuf,
    },
    /// `--tls-self-signed`: generate an ephemeral certificate.
    SelfSigned,
}

/// `serve` and `serve check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeArgs {
    /// `--bind HOST:PORT`, default `127.0.0.1:9700`; shape-checked, not resolved.
    pub bind: String,
    /// `--allow-non-loopback`.
    pub allow_non_loopback: bool,
    /// `--insecure-no-tls`: explicitly serve plain HTTP on a non-loopback address.
    pub insecure_no_tls: bool,
    /// `--token-file F`: bearer token clients must present.
    pub token_file: Option<PathBuf>,
    /// `--access`, default [`Access::ReadWrite`].
    pub access: Access,
    /// TLS mode.
    pub tls: ServeTls,
    /// `--max-body SIZE` in bytes (>= 1).
    pub max_body: Option<u64>,
    /// `--max-connections N` (>= 1).
    pub max_connections: Option<u32>,
    /// `--max-tails N` (>= 1).
    pub max_tails: Option<u32>,
    /// `--max-connections-per-ip N` (>= 1).
    pub max_connections_per_ip: Option<u32>,
    /// `--max-pool-size SIZE` in bytes (>= 1).
    pub max_pool_size: Option<u64>,
    /// `--max-pools N` (>= 1).
    pub max_pools: Option<u32>,
    /// `--allow-host NAME`, repeatable.
    pub allow_hosts: Vec<String>,
    /// `--cors-origin ORIGIN`, repeatable (`http(s)://HOST[:PORT]`).
    pub cors_origins: Vec<String>,
}

/// Default `poke --retry-delay`.
pub const RETRY_DELAY_DEFAULT: Duration = Duration::from_millis(100);

/// Default `serve --bind` address.
pub const SERVE_BIND_DEFAULT: &str = "127.0.0.1:9700";

/// `serve init [--output-dir DIR] [--force]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServeInitArgs {
    /// `--output-dir DIR`; `None` = current directory.
    pub output_dir: Option<PathBuf>,
    /// `--force`: overwrite existing files.
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_enums_round_trip_every_name() {
        for &n in InputFormat::NAMES {
            assert_eq!(InputFormat::from_name(n).map(InputFormat::name), Some(n));
        }
        for &n in Access::NAMES {
            assert_eq!(Access::from_name(n).map(Access::name), Some(n));
        }
        assert_eq!(Shell::NAMES, &["bash", "zsh", "fish"]);
    }

    #[test]
    fn named_enums_are_case_sensitive() {
        assert_eq!(Color::from_name("Always"), None);
        assert_eq!(OutputFormat::from_name("JSONL"), None);
        assert_eq!(Durability::from_name(""), None);
    }
}
