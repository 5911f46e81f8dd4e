//! `PoolRef`: a pool ref whose kind the caller fixes, as the Rust API's `PoolRef` constructors do. A
//! plain `str` follows the CLI's rule (a URI when it contains `://`, a path when it contains `/`,
//! `NAME.plasmite` the name `NAME`), so text from elsewhere that must stay a name inside the pool
//! directory is passed as `PoolRef.name(text)`: it is never read as a path (`"../x"` is refused with
//! `UsageError` when used, as an invalid name).

use plasmite::api::PoolRef;
use pyo3::prelude::*;
use std::path::PathBuf;

/// A pool ref of a fixed kind: `PoolRef.name(n)`, `PoolRef.path(p)`, `PoolRef.uri(u)`, or
/// `PoolRef.parse(text)` (the rule a plain `str` follows).
#[pyclass(frozen, module = "plasmite", name = "PoolRef")]
pub struct PyPoolRef {
    pub inner: PoolRef,
}

#[pymethods]
impl PyPoolRef {
    /// A name inside the client's pool directory (checked when used).
    #[staticmethod]
    fn name(n: String) -> PyPoolRef {
        PyPoolRef {
            inner: PoolRef::name(n),
        }
    }

    /// A path to a pool file (`str` or `os.PathLike`).
    #[staticmethod]
    fn path(p: PathBuf) -> PyPoolRef {
        PyPoolRef {
            inner: PoolRef::path(p),
        }
    }

    /// A URI (a remote client takes its own `URL/NAME`; a local client refuses URIs).
    #[staticmethod]
    fn uri(u: String) -> PyPoolRef {
        PyPoolRef {
            inner: PoolRef::uri(u),
        }
    }

    /// The CLI's rule, the one a plain `str` follows.
    #[staticmethod]
    fn parse(text: &str) -> PyPoolRef {
        PyPoolRef {
            inner: PoolRef::parse(text),
        }
    }

    /// `"name"`, `"path"` or `"uri"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.inner {
            PoolRef::Name(_) => "name",
            PoolRef::Path(_) => "path",
            PoolRef::Uri(_) => "uri",
        }
    }

    /// The name, path or URI as text.
    #[getter]
    fn value(&self) -> String {
        match &self.inner {
            PoolRef::Name(s) | PoolRef::Uri(s) => s.clone(),
            PoolRef::Path(p) => p.display().to_string(),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyPoolRef>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.kind().hash(&mut h);
        self.value().hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        format!("PoolRef.{}({:?})", self.kind(), self.value())
    }
}
