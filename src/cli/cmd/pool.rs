//! `pool create|list|info|delete`. Commands taking several names attempt every one and exit with the
//! code of the first failure. What is printed (human or JSON) is `cli::render::pool`'s.

use super::remote::{self, is_remote};
use super::{display_name, local_ref};
use crate::api::{Client, RemoteClient};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::RemoteOpts;
use crate::cli::args::{PoolCreateArgs, PoolDeleteArgs, PoolInfoArgs, PoolListArgs};
use crate::cli::render::pool as render;
use crate::error::Error;

/// The server and pool name of a pool URL (the token from `PLASMITE_TOKEN`: the `pool` commands
/// take no `--token-file`).
fn remote_pool(url: &str) -> crate::error::Result<(RemoteClient, String)> {
    RemoteClient::for_pool_url(url, remote::options(&RemoteOpts::default())?)
}

/// A client over the pool directory, needed only when some name is local.
fn client_for(ctx: &Ctx, names: &[String]) -> crate::error::Result<Client> {
    if names.iter().all(|n| is_remote(n)) {
        return Ok(Client::new(""));
    }
    ctx.client()
}

pub fn create(ctx: &Ctx, a: PoolCreateArgs) -> CmdResult {
    let client = client_for(ctx, &a.names)?;
    let size = a.size.unwrap_or(crate::limits::POOL_SIZE_BYTES_DEFAULT);
    let mut out = ctx.reporter(a.format);
    let paint = out.paint;
    let mut first: Option<Error> = None;
    for name in &a.names {
        let created = if is_remote(name) {
            remote_pool(name).and_then(|(c, n)| c.create_pool(&n, size))
        } else {
            local_ref(name)
                .and_then(|r| client.create_pool(&r, size))
                .and_then(|p| p.info())
        };
        match created {
            Ok(info) => {
                let name = display_name(name);
                out.emit(
                    || render::pool_json(&name, &info),
                    || render::created_human(&name, &info, paint),
                )?
            }
            Err(e) => {
                ctx.diag.error(&e);
                first.get_or_insert(e);
            }
        }
    }
    out.flush()?;
    finish(first)
}

pub fn list(ctx: &Ctx, a: PoolListArgs) -> CmdResult {
    let client = ctx.client()?;
    let mut out = ctx.reporter(a.format);
    let entries = client.list_pools()?;
    if out.is_human() {
        let rows: Vec<render::Row<'_>> = entries
            .iter()
            .map(|e| render::Row {
                name: &e.name,
                info: e.info.as_ref(),
            })
            .collect();
        let now = crate::api::now_unix_ns();
        let text = render::list_human(client.dir(), &rows, now, out.paint, out.prog);
        out.human(|| text)?;
    } else {
        for entry in &entries {
            let json = || match &entry.info {
                Ok(info) => render::pool_json(&entry.name, info),
                Err(e) => render::unreadable_json(&entry.name, &entry.path, e),
            };
            out.emit(json, String::new)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

pub fn info(ctx: &Ctx, a: PoolInfoArgs) -> CmdResult {
    let info = if is_remote(&a.name) {
        let (c, n) = remote_pool(&a.name)?;
        c.pool_info(&n)?
    } else {
        let client: Client = ctx.client()?;
        client.pool_info(&local_ref(&a.name)?)?
    };
    let mut out = ctx.reporter(a.format);
    let name = display_name(&a.name);
    let (paint, prog) = (out.paint, out.prog);
    out.emit(
        || render::pool_json(&name, &info),
        || render::info_human(&name, &info, crate::api::now_unix_ns(), paint, prog),
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}

pub fn delete(ctx: &Ctx, a: PoolDeleteArgs) -> CmdResult {
    let client = client_for(ctx, &a.names)?;
    let mut out = ctx.reporter(a.format);
    let paint = out.paint;
    let mut first: Option<Error> = None;
    for name in &a.names {
        let deleted = if is_remote(name) {
            remote_pool(name).and_then(|(c, n)| c.delete_pool(&n))
        } else {
            local_ref(name).and_then(|r| client.delete_pool(&r))
        };
        match deleted {
            Ok(()) => {
                let name = display_name(name);
                out.emit(
                    || render::deleted_json(&name),
                    || render::deleted_human(&name, paint),
                )?
            }
            Err(e) => {
                ctx.diag.error(&e);
                first.get_or_insert(e);
            }
        }
    }
    out.flush()?;
    finish(first)
}

/// Every failure was reported already; the exit code is the first one's.
fn finish(first: Option<Error>) -> CmdResult {
    match first {
        None => Ok(Outcome::Ok),
        Some(e) => Err(Failure::Reported(e.kind())),
    }
}
