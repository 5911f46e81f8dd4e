//! One module per command: each resolves its pool refs, calls the library API and renders the result.

pub mod doctor;
pub mod duplex;
pub mod get;
pub mod peek;
pub mod poke;
pub mod pool;
pub mod remote;
pub mod serve;
pub mod tap;

use crate::api::{Client, Pool, PoolRef};
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

/// The name a pool is shown under: the ref as typed.
pub fn display_name(arg: &str) -> String {
    match PoolRef::parse(arg) {
        PoolRef::Name(n) => n,
        _ => arg.to_owned(),
    }
}
