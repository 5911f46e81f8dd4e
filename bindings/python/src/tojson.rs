//! Python values to compact JSON text, written straight into a byte buffer (no intermediate tree):
//! `None`, `bool`, `int` (any size), finite `float`, `str`, `dict` with `str` keys, `list` and `tuple`
//! (subclasses included). Anything else, a non-finite float, a lone surrogate or nesting deeper than
//! `plasmite::limits::JSON_DEPTH_MAX` (which also stops self-referencing containers) is refused.

use plasmite::api::write_json_string;
use plasmite::limits::JSON_DEPTH_MAX;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Appends the JSON text of `v` to `out`; the error says why `v` is not JSON.
pub fn write(v: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> Result<(), String> {
    write_at(v, out, 0)
}

fn write_at(v: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    if let Ok(s) = v.cast::<PyString>() {
        return write_str(s, out);
    }
    if v.is_none() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    // bool before int: bool is a subclass of int.
    if let Ok(b) = v.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
        return Ok(());
    }
    if let Ok(i) = v.cast::<PyInt>() {
        return write_int(i, out);
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Err(format!("{x} is not a JSON number"));
        }
        serde_json::to_writer(&mut *out, &x).map_err(|e| e.to_string())?;
        return Ok(());
    }
    if depth >= JSON_DEPTH_MAX {
        return Err(format!(
            "nesting deeper than {JSON_DEPTH_MAX} levels (or a container that contains itself)"
        ));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        out.push(b'{');
        for (i, (k, item)) in d.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let k = k
                .cast::<PyString>()
                .map_err(|_| format!("dict keys must be str, not {}", type_name(&k)))?;
            write_str(k, out)?;
            out.push(b':');
            write_at(&item, out, depth + 1)?;
        }
        out.push(b'}');
        return Ok(());
    }
    if let Ok(l) = v.cast::<PyList>() {
        return write_items(l.iter(), out, depth);
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return write_items(t.iter(), out, depth);
    }
    Err(format!("{} is not JSON serialisable", type_name(v)))
}

fn write_items<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), String> {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_at(&item, out, depth + 1)?;
    }
    out.push(b']');
    Ok(())
}

fn write_str(s: &Bound<'_, PyString>, out: &mut Vec<u8>) -> Result<(), String> {
    let text = s
        .to_cow()
        .map_err(|_| "a str holds a lone surrogate (not valid Unicode)".to_owned())?;
    write_json_string(&text, out);
    Ok(())
}

fn write_int(i: &Bound<'_, PyInt>, out: &mut Vec<u8>) -> Result<(), String> {
    if let Ok(n) = i.extract::<i64>() {
        out.extend_from_slice(n.to_string().as_bytes());
    } else {
        // Beyond 64 bits: Python's own decimal text is valid JSON.
        let text = i.str().map_err(|e| e.to_string())?;
        out.extend_from_slice(text.to_string_lossy().as_bytes());
    }
    Ok(())
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "this value".to_owned())
}
