//! `Client`: pool lifecycle in a pool directory (the Rust API's `Client`), or on a server when the
//! argument is an `http(s)://` URL (the Rust API's `RemoteClient`); both hand out the core's
//! `PoolHandle`, which `Pool` wraps. Refs: a `str` follows the CLI's rule
//! (a name, a path when it contains `/`, a URI when it contains `://`), an `os.PathLike` is a path, a
//! `PoolRef` (`poolref.rs`) is what it says. A local client refuses URIs, a remote client takes names
//! only; both with `UsageError`.

use crate::errors::{err, usage};
use crate::pool::{info_object, value_to_py, Pool};
use crate::poolref::PyPoolRef;
use plasmite::api::{is_url, PoolListing, PoolRef};
use plasmite::limits::POOL_SIZE_BYTES_DEFAULT;
use plasmite::{PoolHandle, RemoteClient, RemoteOptions};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use std::path::{Path, PathBuf};

enum Kind {
    Local(plasmite::Client),
    Remote(RemoteClient),
}

/// Entry point: a pool directory (default `~/.plasmite/pools`) or a server URL.
#[pyclass(frozen, module = "plasmite", name = "Client")]
pub struct Client {
    kind: Kind,
}

fn pool_ref(r: &Bound<'_, PyAny>) -> PyResult<PoolRef> {
    if let Ok(p) = r.cast::<PyPoolRef>() {
        return Ok(p.get().inner.clone());
    }
    if let Ok(s) = r.cast::<PyString>() {
        return Ok(PoolRef::parse(&s.to_cow()?));
    }
    match r.extract::<PathBuf>() {
        Ok(p) => Ok(PoolRef::path(p)),
        Err(_) => Err(usage(format!(
            "a pool ref is a str, an os.PathLike or a PoolRef, not {}",
            r.get_type().name()?
        ))),
    }
}

fn file_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Client {
    fn local_name(c: &plasmite::Client, r: &PoolRef) -> PyResult<String> {
        Ok(match r {
            PoolRef::Name(n) => n.clone(),
            _ => file_name(&c.resolve(r).map_err(err)?),
        })
    }

    fn remote_name(rc: &RemoteClient, r: &PoolRef) -> PyResult<String> {
        match r {
            PoolRef::Name(n) => Ok(n.clone()),
            PoolRef::Uri(u) => u
                .strip_prefix(rc.base())
                .and_then(|rest| rest.strip_prefix('/'))
                .map(str::to_owned)
                .ok_or_else(|| usage(format!("{u:?} is not a pool of {}", rc.base()))),
            PoolRef::Path(p) => Err(usage(format!(
                "a remote client takes pool names, not the path {}",
                p.display()
            ))),
        }
    }

    fn open_with(
        &self,
        py: Python<'_>,
        r: &Bound<'_, PyAny>,
        how: impl Fn(&plasmite::Client, &PoolRef) -> plasmite::Result<plasmite::Pool>,
        remote: impl Fn(&RemoteClient, &str) -> plasmite::Result<PoolHandle> + Send + Sync,
        read_only: bool,
    ) -> PyResult<Pool> {
        let r = pool_ref(r)?;
        let (name, handle) = match &self.kind {
            Kind::Local(c) => {
                let name = Self::local_name(c, &r)?;
                (name, how(c, &r).map(PoolHandle::Local))
            }
            Kind::Remote(rc) => {
                let name = Self::remote_name(rc, &r)?;
                let h = py.detach(|| remote(rc, &name));
                (name, h)
            }
        };
        Ok(Pool::new(name, handle.map_err(err)?, read_only))
    }
}

/// The info object of a listed pool, or `{name, path, error: {kind, message}}`.
fn listing_object(l: &PoolListing) -> serde_json::Value {
    match &l.info {
        Ok(i) => info_object(&l.name, i),
        Err(e) => serde_json::json!({
            "name": l.name,
            "path": l.path.display().to_string(),
            "error": {"kind": e.kind().as_str(), "message": e.message()},
        }),
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (pool_dir = None, *, token = None, tls_ca = None))]
    fn new(
        pool_dir: Option<&Bound<'_, PyAny>>,
        token: Option<String>,
        tls_ca: Option<PathBuf>,
    ) -> PyResult<Client> {
        if let Some(s) = pool_dir.and_then(|d| d.cast::<PyString>().ok()) {
            let s = s.to_cow()?;
            if is_url(&s) {
                let rc = RemoteClient::new(&s, RemoteOptions { token, tls_ca }).map_err(|e| {
                    err(plasmite::Error::usage(format!(
                        "invalid server URL {s:?}: {}",
                        e.message()
                    ))
                    .with_hint("write it as http://HOST:PORT or https://HOST:PORT"))
                })?;
                return Ok(Client {
                    kind: Kind::Remote(rc),
                });
            }
        }
        if token.is_some() || tls_ca.is_some() {
            return Err(usage(
                "token and tls_ca only apply to a server URL (http:// or https://)",
            ));
        }
        let dir = match pool_dir {
            Some(d) => d.extract::<PathBuf>().map_err(|_| {
                usage("pool_dir is a str, an os.PathLike or an http(s):// server URL")
            })?,
            None => plasmite::Client::default_dir().map_err(err)?,
        };
        Ok(Client {
            kind: Kind::Local(plasmite::Client::new(dir)),
        })
    }

    /// The pool directory (local) or the server URL (remote).
    #[getter]
    fn pool_dir(&self) -> String {
        match &self.kind {
            Kind::Local(c) => c.dir().display().to_string(),
            Kind::Remote(rc) => rc.base().to_owned(),
        }
    }

    /// Whether this client talks to a server.
    #[getter]
    fn is_remote(&self) -> bool {
        matches!(self.kind, Kind::Remote(_))
    }

    /// Creates a pool of `size` bytes (`AlreadyExistsError` if there is one).
    fn create_pool(&self, py: Python<'_>, r: &Bound<'_, PyAny>, size: u64) -> PyResult<Pool> {
        self.open_with(
            py,
            r,
            |c, r| c.create_pool(r, size),
            |rc, n| rc.create_pool(n, size).and_then(|_| rc.open_pool(n)),
            false,
        )
    }

    /// Opens an existing pool (`NotFoundError` when missing): read-write when permitted, else
    /// read-only; with `read_only=True`, read-only (appends raise `PermissionDeniedError`).
    #[pyo3(signature = (r, *, read_only = false))]
    fn open_pool(&self, py: Python<'_>, r: &Bound<'_, PyAny>, read_only: bool) -> PyResult<Pool> {
        self.open_with(
            py,
            r,
            |c, r| {
                if read_only {
                    plasmite::Pool::open_path_read_only(&c.resolve(r)?)
                } else {
                    c.open_pool(r)
                }
            },
            RemoteClient::open_existing_pool,
            read_only,
        )
    }

    /// Opens a pool, creating it with `size` bytes when missing.
    #[pyo3(signature = (r, size = POOL_SIZE_BYTES_DEFAULT))]
    fn pool(&self, py: Python<'_>, r: &Bound<'_, PyAny>, size: u64) -> PyResult<Pool> {
        self.open_with(
            py,
            r,
            |c, r| c.open_or_create_pool(r, size),
            |rc, n| rc.open_or_create_pool(n, size),
            false,
        )
    }

    /// Every pool as its info object, sorted by name; an unreadable pool is
    /// `{"name", "path", "error": {"kind", "message"}}`.
    fn list_pools<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let listed = match &self.kind {
            Kind::Local(c) => c.list_pools(),
            Kind::Remote(rc) => py.detach(|| rc.list_pools()),
        }
        .map_err(err)?;
        let out = PyList::empty(py);
        for l in &listed {
            out.append(value_to_py(py, &listing_object(l))?)?;
        }
        Ok(out)
    }

    /// The info object of a pool (as `Pool.info()`).
    fn pool_info(&self, py: Python<'_>, r: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let r = pool_ref(r)?;
        let (name, info) = match &self.kind {
            Kind::Local(c) => (Self::local_name(c, &r)?, c.pool_info(&r)),
            Kind::Remote(rc) => {
                let name = Self::remote_name(rc, &r)?;
                let info = py.detach(|| rc.pool_info(&name));
                (name, info)
            }
        };
        value_to_py(py, &info_object(&name, &info.map_err(err)?))
    }

    /// Deletes a pool (`BusyError` while a writer holds it, `NotFoundError` when missing).
    fn delete_pool(&self, py: Python<'_>, r: &Bound<'_, PyAny>) -> PyResult<()> {
        let r = pool_ref(r)?;
        match &self.kind {
            Kind::Local(c) => c.delete_pool(&r),
            Kind::Remote(rc) => {
                let name = Self::remote_name(rc, &r)?;
                py.detach(|| rc.delete_pool(&name))
            }
        }
        .map_err(err)
    }

    fn __repr__(&self) -> String {
        format!("Client({:?})", self.pool_dir())
    }
}
