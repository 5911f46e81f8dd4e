//! `Pool`: an open pool, local or remote, over the core's one pool handle (`plasmite::PoolHandle`):
//! every call is the same for both doors, only whether the GIL is released differs. `close()` drops
//! the handle; every later call, and every tail started from it, raises `UsageError`. A `Pool` may be
//! shared between threads; appends and gets on a local pool keep the GIL (they never wait on anything
//! but the pool's own short lock hold), everything that may wait longer (a `flush` append, any
//! network call) releases it.

use crate::errors::{err, usage};
use crate::message::Message;
use crate::tail::{Tail, TailSpec};
use crate::tojson;
use plasmite::api::{GapPolicy, JsonText, TailOptions, TailStart};
use plasmite::PoolHandle;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// How far an append is made durable before it returns.
#[pyclass(
    eq,
    eq_int,
    frozen,
    from_py_object,
    module = "plasmite",
    name = "Durability"
)]
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::upper_case_acronyms)]
pub enum PyDurability {
    /// In the page cache: survives the process crashing, not the machine losing power.
    FAST,
    /// Synced to disk before the call returns.
    FLUSH,
}

impl From<PyDurability> for plasmite::Durability {
    fn from(d: PyDurability) -> Self {
        match d {
            PyDurability::FAST => plasmite::Durability::Fast,
            PyDurability::FLUSH => plasmite::Durability::Flush,
        }
    }
}

/// An open pool.
#[pyclass(frozen, module = "plasmite", name = "Pool")]
pub struct Pool {
    name: String,
    location: String,
    handle: RwLock<Option<PoolHandle>>,
    closed: Arc<AtomicBool>,
    /// Opened with `read_only=True`: a local handle maps the file read-only (the engine refuses
    /// appends); a remote handle refuses them here, with the same error.
    read_only: bool,
}

impl Pool {
    pub fn new(name: String, handle: PoolHandle, read_only: bool) -> Pool {
        let location = match &handle {
            PoolHandle::Local(p) => p.path().display().to_string(),
            PoolHandle::Remote(r) => r.url(),
        };
        Pool {
            name,
            location,
            handle: RwLock::new(Some(handle)),
            closed: Arc::new(AtomicBool::new(false)),
            read_only,
        }
    }

    fn handle(&self) -> PyResult<PoolHandle> {
        let h = self
            .handle
            .read()
            .map_err(|_| usage("the pool handle is poisoned"))?;
        h.clone()
            .ok_or_else(|| usage(format!("the pool {:?} was closed", self.name)))
    }
}

/// The text of `data` (bytes, bytearray or str).
fn json_bytes<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<std::borrow::Cow<'a, [u8]>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(std::borrow::Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(std::borrow::Cow::Owned(b.to_vec()));
    }
    if let Ok(s) = data.cast::<PyString>() {
        let text = s
            .to_cow()
            .map_err(|_| usage("the str holds a lone surrogate"))?;
        return Ok(std::borrow::Cow::Owned(text.into_owned().into_bytes()));
    }
    Err(usage(format!(
        "append_json takes bytes, bytearray or str, not {}",
        data.get_type().name()?
    )))
}

/// A JSON value (from the Rust API) as a Python object.
pub fn value_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    let loads = py.import("json")?.getattr("loads")?;
    Ok(loads.call1((v.to_string(),))?.unbind())
}

/// The info object of a pool: `pool info --json` plus `name` (a remote pool's `path` is the
/// server's).
pub fn info_object(name: &str, info: &plasmite::PoolInfo) -> serde_json::Value {
    let mut v = info.to_json();
    if let Some(o) = v.as_object_mut() {
        o.insert("name".into(), serde_json::Value::String(name.to_owned()));
    }
    v
}

impl Pool {
    fn append_text(
        &self,
        py: Python<'_>,
        text: JsonText,
        source: Option<&Bound<'_, PyBytes>>,
        tags: Vec<String>,
        durability: PyDurability,
    ) -> PyResult<Message> {
        let d = plasmite::Durability::from(durability);
        let h = self.handle()?;
        if h.is_remote() && self.read_only {
            // A local read-only handle is refused by the engine; a remote one here, the same way.
            return Err(err(plasmite::Error::new(
                plasmite::ErrorKind::Permission,
                format!("the pool {:?} was opened read-only", self.name),
            )
            .with_path(&self.location)
            .with_hint("open it without read_only=True to append")));
        }
        let records = [(&text, tags.as_slice())];
        let receipts = if d == plasmite::Durability::Flush || h.is_remote() {
            py.detach(|| h.append_batch(&records, d))
        } else {
            h.append_batch(&records, d)
        }
        .map_err(err)?;
        let r = receipts
            .first()
            .ok_or_else(|| usage("the append committed nothing"))?;
        // The committed data is the compact text sent; the caller's bytes object is reused when it
        // was already compact.
        let data = match source {
            Some(b) if b.as_bytes() == text.as_str().as_bytes() => b.clone().unbind(),
            _ => PyBytes::new(py, text.as_str().as_bytes()).unbind(),
        };
        Ok(Message::new(r.seq, r.time_ns, tags, data))
    }

    /// Runs `f` on the handle, with the GIL released for a remote one (a network call).
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&PoolHandle) -> plasmite::Result<T> + Send,
    ) -> PyResult<T> {
        let h = self.handle()?;
        if h.is_remote() {
            py.detach(|| f(&h))
        } else {
            f(&h)
        }
        .map_err(err)
    }
}

#[pymethods]
impl Pool {
    /// Appends any JSON-serialisable value; returns the committed message.
    #[pyo3(signature = (data, tags = Vec::new(), durability = PyDurability::FAST))]
    fn append(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        tags: Vec<String>,
        durability: PyDurability,
    ) -> PyResult<Message> {
        let mut out = Vec::with_capacity(128);
        tojson::write(data, &mut out).map_err(usage)?;
        let text = JsonText::parse(&out).map_err(err)?;
        self.append_text(py, text, None, tags, durability)
    }

    /// Appends pre-encoded JSON (bytes, bytearray or str; validated, stored compact).
    #[pyo3(signature = (data, tags = Vec::new(), durability = PyDurability::FAST))]
    fn append_json(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        tags: Vec<String>,
        durability: PyDurability,
    ) -> PyResult<Message> {
        let bytes = json_bytes(data)?;
        let text = JsonText::parse(&bytes).map_err(err)?;
        self.append_text(py, text, data.cast::<PyBytes>().ok(), tags, durability)
    }

    /// The message `seq` (`NotFoundError` when never written or evicted).
    fn get(&self, py: Python<'_>, seq: u64) -> PyResult<Message> {
        let m = self.call(py, |h| h.get(seq))?;
        Ok(Message::from_core(py, &m))
    }

    /// Metadata and bounds (the object of `plasmite pool info --json`, with `name`).
    fn info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let info = self.call(py, PoolHandle::info)?;
        value_to_py(py, &info_object(&self.name, &info))
    }

    /// A blocking iterator of messages; see the README for the arguments.
    #[pyo3(signature = (since_seq = None, max = None, timeout = None, tags = Vec::new(), gap_policy = "continue"))]
    fn tail(
        &self,
        py: Python<'_>,
        since_seq: Option<u64>,
        max: Option<u64>,
        timeout: Option<f64>,
        tags: Vec<String>,
        gap_policy: &str,
    ) -> PyResult<Tail> {
        let gap_policy = GapPolicy::from_name(gap_policy).ok_or_else(|| {
            usage(format!(
                "gap_policy must be one of {:?}, not {gap_policy:?}",
                GapPolicy::NAMES
            ))
        })?;
        let idle = match timeout {
            None => None,
            Some(t) if t.is_finite() && t >= 0.0 => Some(std::time::Duration::from_secs_f64(t)),
            Some(t) => return Err(usage(format!("timeout must be >= 0 seconds, not {t}"))),
        };
        // The live edge is pinned now (a remote tail asks the server), so a message appended after
        // `tail()` returns is delivered by either door.
        let (tail, floor) = self.call(py, |h| {
            let since = match since_seq {
                Some(s) => s,
                None => h.edge_seq()?,
            };
            let opts = TailOptions {
                start: TailStart::Since(since),
                gap_policy,
                ..TailOptions::default()
            };
            Ok((h.tail(opts)?, since))
        })?;
        Ok(Tail::new(
            tail,
            floor,
            TailSpec {
                pool_closed: Arc::clone(&self.closed),
                tags,
                max,
                idle,
            },
        ))
    }

    /// Drops the handle; later calls on it (and on its tails) raise `UsageError`.
    fn close(&self) -> PyResult<()> {
        self.closed.store(true, Ordering::SeqCst);
        let mut h = self
            .handle
            .write()
            .map_err(|_| usage("the pool handle is poisoned"))?;
        *h = None;
        Ok(())
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// The pool's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The pool file's path (local) or the pool URL (remote).
    #[getter]
    fn path(&self) -> &str {
        &self.location
    }

    /// Whether the pool was opened with `read_only=True` (appends raise `PermissionDeniedError`).
    #[getter]
    fn read_only(&self) -> bool {
        self.read_only
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("Pool(name={:?}, path={:?})", self.name, self.location)
    }
}
