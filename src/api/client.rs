//! The client: pool lifecycle (create, open, info, list, delete, validate) within one pool directory.

use super::pool::{now_unix_ns, Pool, PoolInfo};
use super::poolref::{PoolRef, POOL_EXTENSION};
use crate::error::{Error, ErrorKind, Result};
use crate::pool::validate::Report;
use crate::pool::PoolFile;
use std::path::{Path, PathBuf};

/// Entry point of the library: pools are resolved inside [`Client::dir`].
#[derive(Debug, Clone)]
pub struct Client {
    dir: PathBuf,
}

/// One entry of [`Client::list_pools`]: a pool that could not be read is listed with its error.
#[derive(Debug)]
pub struct PoolListing {
    pub name: String,
    pub path: PathBuf,
    pub info: Result<PoolInfo>,
}

impl Client {
    /// A client over `dir` (created on the first `create_pool`).
    pub fn new(dir: impl Into<PathBuf>) -> Client {
        Client { dir: dir.into() }
    }

    /// The default pool directory: `$HOME/.plasmite/pools`.
    pub fn default_dir() -> Result<PathBuf> {
        match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(h) => Ok(PathBuf::from(h).join(".plasmite").join("pools")),
            None => Err(
                Error::usage("HOME is not set, so there is no default pool directory")
                    .with_hint("pass --dir PATH"),
            ),
        }
    }

    /// The pool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a ref designates.
    pub fn resolve(&self, r: &PoolRef) -> Result<PathBuf> {
        r.resolve(&self.dir)
    }

    /// Creates a pool of `size_bytes`; `AlreadyExists` if there is one (never truncated).
    pub fn create_pool(&self, r: &PoolRef, size_bytes: u64) -> Result<Pool> {
        let path = self.resolve(r)?;
        PoolFile::create(&path, size_bytes, now_unix_ns()).map(Pool::from_file)
    }

    /// Opens an existing pool; `NotFound` when missing.
    pub fn open_pool(&self, r: &PoolRef) -> Result<Pool> {
        Pool::open_path(&self.resolve(r)?)
    }

    /// Opens an existing pool, creating it with `size_bytes` when missing (races resolved: whoever
    /// loses the creation race opens the winner's pool).
    pub fn open_or_create_pool(&self, r: &PoolRef, size_bytes: u64) -> Result<Pool> {
        match self.open_pool(r) {
            Err(e) if e.kind() == ErrorKind::NotFound => match self.create_pool(r, size_bytes) {
                Err(e) if e.kind() == ErrorKind::AlreadyExists => self.open_pool(r),
                other => other,
            },
            other => other,
        }
    }

    /// Metadata of a pool.
    pub fn pool_info(&self, r: &PoolRef) -> Result<PoolInfo> {
        self.open_pool(r)?.info()
    }

    /// Every `*.plasmite` file of the directory, sorted by name. A missing directory lists nothing.
    pub fn list_pools(&self) -> Result<Vec<PoolListing>> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::io("cannot list the pool directory", e).with_path(&self.dir))
            }
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry
                .map_err(|e| Error::io("cannot list the pool directory", e).with_path(&self.dir))?;
            let path = entry.path();
            let Some(name) = pool_name(&path) else {
                continue;
            };
            let info = Pool::open_path(&path).and_then(|p| p.info());
            out.push(PoolListing { name, path, info });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes a pool and its cursors; `Busy` while a writer holds it, `NotFound` when missing.
    pub fn delete_pool(&self, r: &PoolRef) -> Result<()> {
        let path = self.resolve(r)?;
        PoolFile::delete(&path)?;
        // Its cursors go with it (see `cursor`): a new pool of the name starts without them.
        super::cursor::delete_all(&path)
    }

    /// Validates a pool (the engine behind `doctor`).
    pub fn validate_pool(&self, r: &PoolRef) -> Result<Report> {
        Ok(self.open_pool(r)?.validate())
    }
}

fn pool_name(path: &Path) -> Option<String> {
    if path.extension()? != POOL_EXTENSION {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    super::poolref::check_name(stem).ok()?;
    Some(stem.to_owned())
}
