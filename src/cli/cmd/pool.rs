//! `pool create|list|info|delete`. Commands taking several names attempt every one and exit with the
//! code of the first failure. What is printed (human or JSON) is `cli::render::pool`'s.

use super::{display_name, local_ref};
use crate::api::Client;
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{PoolCreateArgs, PoolDeleteArgs, PoolInfoArgs, PoolListArgs};
use crate::cli::render::pool as render;
use crate::error::Error;

pub fn create(ctx: &Ctx, a: PoolCreateArgs) -> CmdResult {
    let client = ctx.client()?;
    let size = a.size.unwrap_or(crate::limits::POOL_SIZE_BYTES_DEFAULT);
    let mut out = ctx.reporter(a.format);
    let paint = out.paint;
    let mut first: Option<Error> = None;
    for name in &a.names {
        match local_ref(name)
            .and_then(|r| client.create_pool(&r, size))
            .and_then(|p| p.info())
        {
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
    let client: Client = ctx.client()?;
    let r = local_ref(&a.name)?;
    let info = client.pool_info(&r)?;
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
    let client = ctx.client()?;
    let mut out = ctx.reporter(a.format);
    let paint = out.paint;
    let mut first: Option<Error> = None;
    for name in &a.names {
        match local_ref(name).and_then(|r| client.delete_pool(&r)) {
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
