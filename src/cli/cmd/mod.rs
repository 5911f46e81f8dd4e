//! One module per command: each resolves its pool refs, calls the library API and renders the result.

pub mod doctor;
pub mod duplex;
pub mod get;
pub mod mcp;
pub mod peek;
pub mod poke;
pub mod pool;
pub mod remote;
pub mod serve;
pub mod tap;

use crate::api::{Client, Pool, PoolHandle, PoolRef, RemoteClient};
use crate::cli::app::Ctx;
use crate::cli::args::RemoteOpts;
use crate::error::{Error, ErrorKind, Result};

/// Resolves a CLI pool argument to a local ref, refusing URLs (remote refs come with `serve`).
pub fn local_ref(arg: &str) -> Result<PoolRef> {
    match PoolRef::parse(arg) {
        PoolRef::Uri(u) => Err(Error::usage(format!(
            "remote pool refs are not supported by this build: {u}"
        ))
        .with_hint("use a pool name or a path")),
        r => Ok(r),
    }
}

/// Opens a pool, creating it first (with `size` or the default) when `create` is set.
pub fn open(client: &Client, arg: &str, create: bool, size: Option<u64>) -> Result<Pool> {
    let r = local_ref(arg)?;
    if create {
        let size = size.unwrap_or(crate::limits::POOL_SIZE_BYTES_DEFAULT);
        client.open_or_create_pool(&r, size)
    } else {
        client.open_pool(&r).map_err(|e| {
            if e.kind() == ErrorKind::NotFound && e.hint().is_some() {
                e.with_hint(format!(
                    "create it with 'plasmite pool create {arg}', or pass --create"
                ))
            } else {
                e
            }
        })
    }
}

/// The name a pool is shown under: its name (also for a pool URL), else the ref as typed.
pub fn display_name(arg: &str) -> String {
    match PoolRef::parse(arg) {
        PoolRef::Name(n) => n,
        PoolRef::Uri(u) => RemoteClient::for_pool_url(&u, Default::default()).map_or(u, |(_, p)| p),
        _ => arg.to_owned(),
    }
}

/// Opens a pool of either door: a URL on its server (where `--create` is refused: pools are created
/// there, or with `pool create URL`), anything else as [`open`] does.
pub fn open_handle(
    ctx: &Ctx,
    arg: &str,
    create: bool,
    size: Option<u64>,
    remote: &RemoteOpts,
) -> Result<PoolHandle> {
    if remote::is_remote(arg) {
        if create {
            return Err(remote::refusal(
                "--create",
                "create the pool on the server ('plasmite pool create URL', or POST /v0/pools)",
            ));
        }
        let (client, name) = RemoteClient::for_pool_url(arg, remote::options(remote)?)?;
        return client.open_pool(&name);
    }
    let client = ctx.client()?;
    open(&client, arg, create, size).map(PoolHandle::Local)
}
