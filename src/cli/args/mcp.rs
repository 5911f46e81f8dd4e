//! `mcp [--access MODE]`: parser for the MCP stdio server. It takes no positional arguments; the pool
//! directory is the global `--dir`.

use super::lex::{Item, Lex, Positionals};
use super::types::{Access, Command, McpArgs};
use super::UsageError;
use crate::cli::commands::CommandId;
use crate::cli::flags::FlagId;

/// Parses the arguments after `mcp`.
pub(super) fn parse(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::Mcp);
    let mut out = McpArgs {
        access: Access::ReadWrite,
    };
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        match item {
            Item::Help => return Ok(super::misc::help_for(CommandId::Mcp)),
            Item::Value(v) => values.push(v),
            Item::Flag(flag) => match flag.id {
                FlagId::Access => out.access = lex.choice(flag, Access::from_name)?,
                _ => return Err(lex.unhandled(flag)),
            },
        }
    }
    Positionals::new(CommandId::Mcp, values).finish()?;
    Ok(Command::Mcp(out))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::*;
    use crate::cli::args::UsageErrorKind;

    fn mcp(args: &[&str]) -> Option<McpArgs> {
        let mut full = vec!["mcp"];
        full.extend_from_slice(args);
        match run(&full).ok()?.command {
            Command::Mcp(m) => Some(m),
            _ => None,
        }
    }

    #[test]
    fn access_defaults_to_read_write_and_takes_each_mode() {
        assert_eq!(mcp(&[]).map(|m| m.access), Some(Access::ReadWrite));
        assert_eq!(
            mcp(&["--access", "read-only"]).map(|m| m.access),
            Some(Access::ReadOnly)
        );
        assert_eq!(
            mcp(&["--access=write-only"]).map(|m| m.access),
            Some(Access::WriteOnly)
        );
        assert_eq!(
            kind(&["mcp", "--access", "admin"]),
            Some(UsageErrorKind::InvalidValue)
        );
        assert_eq!(
            kind(&["mcp", "extra"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
    }
}
