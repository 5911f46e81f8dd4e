//! Maps `plasmite::Error` to the Python exception of its stable kind (`plasmite._errors`: one class per
//! kind, all subclasses of `PlasmiteError`), keeping the context (path, seq, offset, hint) as attributes.

use plasmite::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python class name of each kind (see `python/plasmite/_errors.py`).
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Usage => "UsageError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::AlreadyExists => "AlreadyExistsError",
        ErrorKind::Busy => "BusyError",
        ErrorKind::Permission => "PermissionDeniedError",
        ErrorKind::Corrupt => "CorruptError",
        ErrorKind::Io => "IoError",
        ErrorKind::Internal => "InternalError",
        ErrorKind::RetentionGap => "RetentionGapError",
        // A kind added to the core after this binding: the base class, with its kind string.
        _ => "PlasmiteError",
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = ERRORS.get_or_try_init(py, || py.import("plasmite._errors").map(Bound::unbind))?;
    let cls = module.bind(py).getattr(class_name(e.kind()))?;
    let kw = PyDict::new(py);
    kw.set_item("kind", e.kind().as_str())?;
    kw.set_item("path", e.path().map(|p| p.display().to_string()))?;
    kw.set_item("seq", e.seq())?;
    kw.set_item("offset", e.offset())?;
    kw.set_item("hint", e.hint())?;
    let exc = cls.call((e.message(),), Some(&kw))?;
    Ok(PyErr::from_value(exc))
}

/// The Python exception for `e` (a `RuntimeError` only if the error classes cannot be imported).
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    build(py, e).unwrap_or_else(|why| {
        PyRuntimeError::new_err(format!(
            "{e} (and the plasmite error classes failed: {why})"
        ))
    })
}

/// `?`-friendly conversion: `result.map_err(err)?` inside code that holds the GIL.
pub fn err(e: Error) -> PyErr {
    Python::attach(|py| to_py(py, &e))
}

/// A `UsageError` with `message`.
pub fn usage(message: impl Into<String>) -> PyErr {
    err(Error::usage(message))
}
