//! `mcp`: the Model Context Protocol on stdin/stdout over the pool directory (`--dir`). Stdout carries
//! only JSON-RPC; the one log line goes to stderr.

use crate::cli::app::{CmdResult, Ctx, Outcome};
use crate::cli::args::{Access, McpArgs};
use crate::error::Error;
use crate::mcp::{self, Server};

/// Serves until stdin ends.
pub fn run(ctx: &Ctx, a: McpArgs) -> CmdResult {
    let client = ctx.client()?;
    let access = match a.access {
        Access::ReadOnly => mcp::Access {
            reads: true,
            writes: false,
        },
        Access::WriteOnly => mcp::Access {
            reads: false,
            writes: true,
        },
        Access::ReadWrite => mcp::Access::READ_WRITE,
    };
    eprintln!(
        "plasmite mcp: serving {} ({}) on stdin/stdout",
        client.dir().display(),
        a.access.name()
    );
    let server = Server::new(client, access);
    let stdin = std::io::stdin().lock();
    match mcp::stdio::serve(&server, stdin, std::io::stdout()) {
        Ok(()) => Ok(Outcome::Ok),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Outcome::Ok),
        Err(e) => Err(Error::io("mcp stdio", e).into()),
    }
}
