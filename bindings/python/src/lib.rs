//! The Python extension `plasmite._plasmite` (PyO3, abi3 for CPython >= 3.9), re-exported by the
//! `plasmite` package (`python/plasmite/__init__.py`). Module map:
//!
//! - `client`: `Client` (local pool directory or server URL), lifecycle calls, over the core's
//!   `Client` and `RemoteClient`.
//! - `poolref`: `PoolRef`, a pool ref of a fixed kind (a name never read as a path).
//! - `pool`: `Pool` (append, append_json, get, info, tail, close) and `Durability`, over the core's
//!   one local-or-remote `PoolHandle`.
//! - `message`: `Message` (seq, time, tags, data decoded lazily, data_json bytes).
//! - `tail`: `Tail`, the blocking iterator over the core's `PoolTail` (GIL released while waiting,
//!   signals checked).
//! - `tojson`: Python values to compact JSON text.
//! - `errors`: `plasmite::Error` to the exception class of its kind (`python/plasmite/_errors.py`).
//!
//! No `unsafe` here: PyO3 is the FFI boundary.
#![deny(unsafe_code)]

mod client;
mod errors;
mod message;
mod pool;
mod poolref;
mod tail;
mod tojson;

use pyo3::prelude::*;

#[pymodule]
fn _plasmite(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    m.add_class::<pool::Pool>()?;
    m.add_class::<poolref::PyPoolRef>()?;
    m.add_class::<pool::PyDurability>()?;
    m.add_class::<message::Message>()?;
    m.add_class::<tail::Tail>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
