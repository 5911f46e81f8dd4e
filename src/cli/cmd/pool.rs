//! `pool create|list|info|delete|cursors|cursor-delete`. Commands taking several names attempt every one and exit with the
//! code of the first failure. What is printed (human or JSON) is `cli::render::pool`'s.

use super::remote::{self, is_remote};
use super::{display_name, local_ref};
use crate::api::{cursor_lags, delete_cursor, Client, RemoteClient};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::types::PoolCursorDeleteArgs;
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
    // A local pool's cursors and their lag come with it; a server's pool object carries its own.
    let (info, lags) = if is_remote(&a.name) {
        let (c, n) = remote_pool(&a.name)?;
        (c.pool_info(&n)?, None)
    } else {
        let client: Client = ctx.client()?;
        let info = client.pool_info(&local_ref(&a.name)?)?;
        let lags = cursor_lags(&info.path, &info)?;
        (info, Some(lags))
    };
    let mut out = ctx.reporter(a.format);
    let name = display_name(&a.name);
    let (paint, prog) = (out.paint, out.prog);
    out.emit(
        || match &lags {
            Some(l) => render::info_json(&name, &info, l),
            None => render::pool_json(&name, &info),
        },
        || {
            let text = render::info_human(&name, &info, crate::api::now_unix_ns(), paint, prog);
            render::info_human_cursors(text, lags.as_deref().unwrap_or_default(), paint)
        },
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

/// `pool cursors POOL`: one JSON object per cursor (`pool cursors` of a URL is `Usage`: the
/// protocol keeps no per-client state).
pub fn cursors(ctx: &Ctx, a: PoolInfoArgs) -> CmdResult {
    let (client, r) = local_only(ctx, &a.name, "pool cursors")?;
    let info = client.pool_info(&r)?;
    let lags = cursor_lags(&info.path, &info)?;
    let mut out = ctx.reporter(a.format);
    let name = display_name(&a.name);
    let (paint, prog) = (out.paint, out.prog);
    if out.is_human() {
        out.human(|| render::cursors_human(&name, &lags, paint, prog))?;
    } else {
        for l in &lags {
            out.emit(|| render::cursor_json(l), String::new)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

/// `pool cursor-delete POOL CURSOR`.
pub fn cursor_delete(ctx: &Ctx, a: PoolCursorDeleteArgs) -> CmdResult {
    let (client, r) = local_only(ctx, &a.name, "pool cursor-delete")?;
    let path = client.open_pool(&r)?.path().to_path_buf();
    delete_cursor(&path, &a.cursor)?;
    let mut out = ctx.reporter(a.format);
    let name = display_name(&a.name);
    let paint = out.paint;
    out.emit(
        || render::cursor_deleted_json(&name, &a.cursor),
        || render::cursor_deleted_human(&name, &a.cursor, paint),
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}

fn local_only(
    ctx: &Ctx,
    name: &str,
    what: &str,
) -> crate::error::Result<(Client, crate::api::PoolRef)> {
    if is_remote(name) {
        return Err(Error::usage(format!(
            "'{what}' works on local pools: cursors live beside the pool file"
        ))
        .with_hint(
            "the HTTP protocol keeps no per-client state; remote consumers resume with since_seq",
        ));
    }
    Ok((ctx.client()?, local_ref(name)?))
}

/// Every failure was reported already; the exit code is the first one's.
fn finish(first: Option<Error>) -> CmdResult {
    match first {
        None => Ok(Outcome::Ok),
        Some(e) => Err(Failure::Reported(e.kind())),
    }
}
