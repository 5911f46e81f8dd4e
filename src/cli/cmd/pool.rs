//! `pool create|list|info|delete`. Commands taking several names attempt every one and exit with the
//! code of the first failure.

use super::{display_name, local_ref};
use crate::api::{Client, PoolInfo};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{PoolCreateArgs, PoolDeleteArgs, PoolInfoArgs, PoolListArgs};
use crate::error::Error;
use serde_json::Value;

/// `{"name": NAME, ...info}`.
pub fn info_json(name: &str, info: &PoolInfo) -> Value {
    let mut v = info.to_json();
    if let Value::Object(m) = &mut v {
        m.insert("name".into(), name.into());
    }
    v
}

pub fn create(ctx: &Ctx, a: PoolCreateArgs) -> CmdResult {
    let client = ctx.client()?;
    let size = a.size.unwrap_or(crate::limits::POOL_SIZE_BYTES_DEFAULT);
    let mut out = ctx.out(None, false);
    let mut first: Option<Error> = None;
    for name in &a.names {
        match local_ref(name)
            .and_then(|r| client.create_pool(&r, size))
            .and_then(|p| p.info())
        {
            Ok(info) => out.value(&info_json(&display_name(name), &info))?,
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
    let mut out = ctx.out(a.format, false);
    for entry in client.list_pools()? {
        let v = match &entry.info {
            Ok(info) => info_json(&entry.name, info),
            Err(e) => serde_json::json!({
                "name": entry.name,
                "path": entry.path.display().to_string(),
                "error": e.to_json()["error"],
            }),
        };
        out.value(&v)?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

pub fn info(ctx: &Ctx, a: PoolInfoArgs) -> CmdResult {
    let client: Client = ctx.client()?;
    let r = local_ref(&a.name)?;
    let info = client.pool_info(&r)?;
    let mut out = ctx.out(a.format, false);
    out.value(&info_json(&display_name(&a.name), &info))?;
    out.flush()?;
    Ok(Outcome::Ok)
}

pub fn delete(ctx: &Ctx, a: PoolDeleteArgs) -> CmdResult {
    let client = ctx.client()?;
    let mut out = ctx.out(None, false);
    let mut first: Option<Error> = None;
    for name in &a.names {
        match local_ref(name).and_then(|r| client.delete_pool(&r)) {
            Ok(()) => {
                out.value(&serde_json::json!({"name": display_name(name), "deleted": true}))?
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
