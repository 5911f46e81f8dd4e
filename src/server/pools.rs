//! Open pool handles kept between requests, so an append costs no open/mmap.
//!
//! A cached handle is used only while the file at the pool's path is still the one it mapped (same
//! device and inode, checked with one `stat` per request): a pool deleted or replaced by another
//! process is reopened, never written through a stale mapping. While we hold the handle its inode
//! cannot be reused, so the check cannot be fooled. At most `HTTP_POOL_HANDLES_MAX` handles are kept.

use crate::api::{check_name, Client, Pool, PoolRef};
use crate::error::{Error, ErrorKind, Result};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

struct Entry {
    pool: Pool,
    dev: u64,
    ino: u64,
    used: u64,
}

pub(crate) struct Pools {
    client: Client,
    cache: Mutex<(HashMap<String, Entry>, u64)>,
}

impl Pools {
    pub(crate) fn new(client: Client) -> Pools {
        Pools {
            client,
            cache: Mutex::new((HashMap::new(), 0)),
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// An open handle on pool `name` (`Usage` for a bad name, `NotFound` when missing).
    pub(crate) fn open(&self, name: &str) -> Result<Pool> {
        check_name(name)?;
        let r = PoolRef::name(name);
        let path = self.client.resolve(&r)?;
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.forget(name);
                return Err(not_found(name, &path));
            }
            Err(e) => return Err(Error::io("cannot open the pool", e).with_path(&path)),
        };
        let mut guard = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let (map, clock) = &mut *guard;
        *clock += 1;
        if let Some(e) = map.get_mut(name) {
            if e.dev == meta.dev() && e.ino == meta.ino() {
                e.used = *clock;
                return Ok(e.pool.clone());
            }
        }
        let pool = self.client.open_pool(&r).map_err(|e| match e.kind() {
            ErrorKind::NotFound => not_found(name, &path),
            _ => e,
        })?;
        if map.len() >= crate::limits::HTTP_POOL_HANDLES_MAX && !map.contains_key(name) {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            name.to_owned(),
            Entry {
                pool: pool.clone(),
                dev: meta.dev(),
                ino: meta.ino(),
                used: *clock,
            },
        );
        Ok(pool)
    }

    /// A handle of its own on pool `name`, for a tail: it never appends, so it never attaches as a
    /// writer, and a `DELETE` of the pool is not refused as Busy because a tail is open on it (the
    /// tail then ends with NotFound).
    pub(crate) fn open_for_tail(&self, name: &str) -> Result<Pool> {
        check_name(name)?;
        let r = PoolRef::name(name);
        let path = self.client.resolve(&r)?;
        self.client.open_pool(&r).map_err(|e| match e.kind() {
            ErrorKind::NotFound => not_found(name, &path),
            _ => e,
        })
    }

    /// Drops the cached handle (before deleting the pool).
    pub(crate) fn forget(&self, name: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .remove(name);
    }
}

/// The pool's path is in the envelope as it is in the pool object (`spec/http.md`), so a remote
/// client's error carries the same context as a local one.
fn not_found(name: &str, path: &std::path::Path) -> Error {
    Error::new(ErrorKind::NotFound, format!("pool {name:?} not found"))
        .with_path(path)
        .with_hint("create it with POST /v0/pools (or 'plasmite pool create' on the server)")
}
