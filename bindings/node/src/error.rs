//! Errors across the boundary. A `plasmite::Error` becomes a napi error whose reason is
//! `ERROR_TAG` followed by the core's error envelope (`{"error":{"kind","message","hint"?,"path"?,
//! "seq"?,"offset"?}}`); `index.js` turns that into a `PlasmiteError` with the same kind and context.
//! Errors napi-rs raises itself (a wrong argument type) carry no tag and become `Usage` there.

use plasmite::{Error, ErrorKind};

/// Marks a reason string as a tagged plasmite error (kept in sync with `index.js`).
pub const ERROR_TAG: &str = "\u{1}plasmite:";

/// The napi error for a plasmite error.
pub fn to_napi(e: Error) -> napi::Error {
    napi::Error::from_reason(format!("{ERROR_TAG}{}", e.to_json()))
}

/// A `Usage` error as a napi error.
pub fn usage(message: impl Into<String>) -> napi::Error {
    to_napi(Error::usage(message))
}

/// Maps a core result.
pub fn lift<T>(r: plasmite::Result<T>) -> napi::Result<T> {
    r.map_err(to_napi)
}

/// A non-negative integer from a JavaScript number (sizes, seqs, counts).
pub fn js_u64(n: f64, what: &str) -> plasmite::Result<u64> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= crate::limits::JS_INTEGER_MAX {
        Ok(n as u64)
    } else {
        Err(Error::new(
            ErrorKind::Usage,
            format!("{what} must be a non-negative integer up to 2^53-1, got {n}"),
        ))
    }
}
