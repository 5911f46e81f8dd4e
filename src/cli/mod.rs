//! The `plasmite`/`pls` command-line surface: argument parsing, the command and flag
//! tables, help pages, shell completions and unit parsing. Everything here is pure
//! (no file access, environment reads, printing or clock reads).

pub mod app;
pub mod args;
mod cmd;
pub mod commands;
pub mod completion;
pub mod flags;
pub mod help;
pub mod output;
pub mod render;
pub mod units;

pub use args::{parse, Command, Global, Invocation, UsageError, UsageErrorKind};

pub use app::main;
