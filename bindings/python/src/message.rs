//! `Message`: one committed message. The data is kept as its stored JSON text in a `bytes` object
//! (`data_json`, created once); `data` decodes it with `json.loads` on first access and caches it;
//! `time` is an aware UTC `datetime` (microsecond precision), `time_rfc3339` keeps the nanoseconds.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList};

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static TIMEDELTA: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// One message of a pool.
#[pyclass(frozen, module = "plasmite", name = "Message")]
pub struct Message {
    seq: u64,
    time_ns: u64,
    tags: Vec<String>,
    data_json: Py<PyBytes>,
    data: PyOnceLock<Py<PyAny>>,
}

impl Message {
    /// A message whose data text is already in a `bytes` object.
    pub fn new(seq: u64, time_ns: u64, tags: Vec<String>, data_json: Py<PyBytes>) -> Message {
        Message {
            seq,
            time_ns,
            tags,
            data_json,
            data: PyOnceLock::new(),
        }
    }

    /// From a message of the Rust API.
    pub fn from_core(py: Python<'_>, m: &plasmite::Message) -> Message {
        let data = PyBytes::new(py, m.data.as_bytes()).unbind();
        Message::new(m.seq, m.time_ns, m.tags.clone(), data)
    }

    /// From a message a tail of either door lends (one copy: into the `bytes` object).
    pub fn from_view(py: Python<'_>, m: &plasmite::api::MessageView<'_>) -> Message {
        let data = PyBytes::new(py, m.data().as_bytes()).unbind();
        Message::new(
            m.seq(),
            m.time_ns(),
            m.tags().map(str::to_owned).collect(),
            data,
        )
    }
}

fn import_attr(py: Python<'_>, module: &str, attr: &str) -> PyResult<Py<PyAny>> {
    Ok(py.import(module)?.getattr(attr)?.unbind())
}

#[pymethods]
impl Message {
    /// Position in the pool's order, from 1, without gaps.
    #[getter]
    fn seq(&self) -> u64 {
        self.seq
    }

    /// Commit time in nanoseconds since the Unix epoch.
    #[getter]
    fn time_ns(&self) -> u64 {
        self.time_ns
    }

    /// Commit time as an aware UTC datetime (microseconds; see `time_rfc3339` for nanoseconds).
    #[getter]
    fn time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let epoch = EPOCH.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            let dt = py.import("datetime")?;
            let utc = dt.getattr("timezone")?.getattr("utc")?;
            let e = dt
                .getattr("datetime")?
                .call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
            Ok(e.unbind())
        })?;
        let td = TIMEDELTA.get_or_try_init(py, || import_attr(py, "datetime", "timedelta"))?;
        let secs = self.time_ns / 1_000_000_000;
        let micros = (self.time_ns % 1_000_000_000) / 1000;
        let delta = td.bind(py).call1((0, secs, micros))?;
        epoch.bind(py).add(delta)
    }

    /// Commit time as RFC 3339 UTC with nine fraction digits, e.g. `2026-01-02T03:04:05.123456789Z`.
    #[getter]
    fn time_rfc3339(&self) -> String {
        plasmite::api::format_rfc3339_nanos(self.time_ns)
    }

    /// The tags, in the order given at append.
    #[getter]
    fn tags<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.tags)
    }

    /// The data's JSON text exactly as stored (compact).
    #[getter]
    fn data_json(&self, py: Python<'_>) -> Py<PyBytes> {
        self.data_json.clone_ref(py)
    }

    /// The data decoded (`json.loads` of `data_json`, on first access, then cached).
    #[getter]
    fn data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.data
            .get_or_try_init(py, || {
                let loads = JSON_LOADS.get_or_try_init(py, || import_attr(py, "json", "loads"))?;
                loads
                    .bind(py)
                    .call1((self.data_json.bind(py),))
                    .map(Bound::unbind)
            })
            .map(|v| v.clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let data = self.data_json.bind(py).as_bytes();
        let shown = if data.len() > 60 {
            format!("{}…", String::from_utf8_lossy(&data[..60]))
        } else {
            String::from_utf8_lossy(data).into_owned()
        };
        format!(
            "Message(seq={}, time={:?}, tags={:?}, data={})",
            self.seq,
            plasmite::api::format_rfc3339_nanos(self.time_ns),
            self.tags,
            shown
        )
    }
}
