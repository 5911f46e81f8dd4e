//! Reading C arguments (strings, byte ranges, tag arrays, refs) into Rust values with NULL and UTF-8
//! checks, writing out-parameters, and `plsm_buf_t` (library-owned bytes handed to C).
//!
//! Every reader returns `Usage` for a NULL that is not allowed, so no exported function dereferences
//! an unchecked pointer.

use super::error::null_arg;
use plasmite::api::{Durability, PoolRef};
use plasmite::Error;
use std::ffi::{c_char, CStr};
use std::ptr;

/// Reads a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: non-null, and the caller guarantees a NUL-terminated string living for 'a.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map_err(|_| Error::usage(format!("{name} is not valid UTF-8")))
}

/// Reads `len` bytes at `p` (`p` may be NULL when `len` is 0).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive `'a`.
pub unsafe fn bytes_arg<'a>(p: *const c_char, len: usize, name: &str) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes living for 'a.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// Reads an array of `n` tag strings (`p` may be NULL when `n` is 0).
///
/// # Safety
/// `p` is NULL or points to `n` pointers, each NULL or a NUL-terminated string outliving `'a`.
pub unsafe fn tags_arg<'a>(
    p: *const *const c_char,
    n: usize,
    name: &str,
) -> Result<Vec<&'a str>, Error> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: non-null, and the caller guarantees `n` readable pointers.
    let ptrs = unsafe { std::slice::from_raw_parts(p, n) };
    ptrs.iter()
        .enumerate()
        // SAFETY: each element is NULL (refused by str_arg) or a NUL-terminated string.
        .map(|(i, &t)| unsafe { str_arg(t, &format!("{name}[{i}]")) })
        .collect()
}

/// Reads a pool ref from its kind (`PLSM_REF_*`) and text.
///
/// # Safety
/// As [`str_arg`] for `text`.
pub unsafe fn ref_arg(kind: i32, text: *const c_char) -> Result<PoolRef, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { str_arg(text, "ref") }?;
    match kind {
        0 => Ok(PoolRef::parse(s)),
        1 => Ok(PoolRef::name(s)),
        2 => Ok(PoolRef::path(s)),
        3 => Ok(PoolRef::uri(s)),
        _ => Err(Error::usage(format!("unknown ref kind {kind}"))
            .with_hint("use PLSM_REF_AUTO, PLSM_REF_NAME, PLSM_REF_PATH or PLSM_REF_URI")),
    }
}

/// Reads a durability (`PLSM_DURABILITY_*`).
pub fn durability_arg(d: i32) -> Result<Durability, Error> {
    match d {
        0 => Ok(Durability::Fast),
        1 => Ok(Durability::Flush),
        _ => Err(Error::usage(format!("unknown durability {d}"))
            .with_hint("use PLSM_DURABILITY_FAST or PLSM_DURABILITY_FLUSH")),
    }
}

/// Checks that an out-parameter is not NULL (call before doing the work).
pub fn check_out<T>(out: *mut T, name: &str) -> Result<(), Error> {
    if out.is_null() {
        Err(null_arg(name))
    } else {
        Ok(())
    }
}

/// Writes an out-parameter checked with [`check_out`].
///
/// # Safety
/// `out` is non-null and points to writable storage for a `T`.
pub unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: forwarded contract.
    unsafe { out.write(value) }
}

/// Library-owned bytes handed to C: `len` bytes at `data`, then a NUL (layout of `plsm_buf_t`).
#[repr(C)]
#[derive(Debug)]
pub struct plsm_buf_t {
    pub data: *mut c_char,
    pub len: usize,
}

impl plsm_buf_t {
    /// Takes `bytes` (with a NUL appended) onto the heap.
    pub fn from_vec(mut bytes: Vec<u8>) -> plsm_buf_t {
        let len = bytes.len();
        bytes.push(0);
        let raw = Box::into_raw(bytes.into_boxed_slice());
        plsm_buf_t {
            data: raw.cast::<c_char>(),
            len,
        }
    }
}

/// Writes JSON text into a caller's `plsm_buf_t`.
///
/// # Safety
/// `out` is non-null and points to a writable `plsm_buf_t`.
pub unsafe fn write_json(out: *mut plsm_buf_t, v: &serde_json::Value) {
    let bytes = serde_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec());
    // SAFETY: forwarded contract.
    unsafe { write_out(out, plsm_buf_t::from_vec(bytes)) }
}

/// Frees the bytes of a buffer this library filled and resets it to `{NULL, 0}`; NULL is fine.
///
/// # Safety
/// `buf` is NULL or points to a `plsm_buf_t` that is empty or was filled by this library and not
/// freed since.
#[no_mangle]
pub unsafe extern "C" fn plsm_buf_free(buf: *mut plsm_buf_t) {
    if buf.is_null() {
        return;
    }
    // SAFETY: non-null and points to a plsm_buf_t (contract).
    let b = unsafe { &mut *buf };
    if !b.data.is_null() {
        let slice = ptr::slice_from_raw_parts_mut(b.data.cast::<u8>(), b.len + 1);
        // SAFETY: `data` came from `from_vec`, a boxed slice of exactly `len + 1` bytes.
        drop(unsafe { Box::from_raw(slice) });
    }
    b.data = ptr::null_mut();
    b.len = 0;
}
