//! `plsm_pool_t`: an open pool (append, get, info, and the entry point for tails).
//!
//! The Rust `Pool` is `Send + Sync` and serializes appends itself, so one handle may be used by any
//! number of threads at once.

use super::error::{c_string, guard, plsm_error_t};
use super::ffi::{
    bytes_arg, check_out, durability_arg, plsm_buf_t, tags_arg, write_json, write_out,
};
use super::message::{plsm_message_t, MessageBlock};
use plasmite::api::Pool;
use std::ffi::{c_char, CString};
use std::ptr;

/// `PLSM_OPEN_READ_ONLY`.
pub const OPEN_READ_ONLY: u32 = 1;
/// Every open flag this version knows.
pub const OPEN_FLAGS_ALL: u32 = OPEN_READ_ONLY;

/// An open pool (opaque to C).
#[derive(Debug)]
pub struct plsm_pool_t {
    pub(crate) pool: Pool,
    path: CString,
}

impl plsm_pool_t {
    /// Hands a pool to C (freed by `plsm_pool_free`).
    pub fn into_raw(pool: Pool) -> *mut plsm_pool_t {
        let path = c_string(&pool.path().to_string_lossy());
        Box::into_raw(Box::new(plsm_pool_t { pool, path }))
    }
}

/// Borrows a pool argument.
///
/// # Safety
/// `p` is NULL or a live pool.
pub unsafe fn pool_arg<'a>(p: *const plsm_pool_t) -> Result<&'a Pool, plasmite::Error> {
    check_out(p.cast_mut(), "pool")?;
    // SAFETY: non-null live pool (contract).
    Ok(unsafe { &(*p).pool })
}

/// Adds `name` to an info object.
pub fn with_name(mut v: serde_json::Value, name: &str) -> serde_json::Value {
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("name".into(), name.into());
    }
    v
}

/// The info object of `pool`, named after its file (`NAME.plasmite` → `NAME`).
pub fn info_json(pool: &Pool) -> Result<serde_json::Value, plasmite::Error> {
    let info = pool.info()?;
    let file = pool
        .path()
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = file.strip_suffix(".plasmite").unwrap_or(&file).to_owned();
    Ok(with_name(info.to_json(), &name))
}

/// Frees a pool handle; NULL is fine. Streams started from it stay usable.
///
/// # Safety
/// `pool` is NULL or from this library, not freed yet, and no other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn plsm_pool_free(pool: *mut plsm_pool_t) {
    if !pool.is_null() {
        // SAFETY: a Box leaked by into_raw, freed once (contract).
        drop(unsafe { Box::from_raw(pool) });
    }
}

/// The pool file's path; NULL when `pool` is NULL.
///
/// # Safety
/// `pool` is NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn plsm_pool_path(pool: *const plsm_pool_t) -> *const c_char {
    if pool.is_null() {
        return ptr::null();
    }
    // SAFETY: non-null live pool (contract).
    unsafe { (*pool).path.as_ptr() }
}

/// The pool's info as JSON.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_pool_info(
    pool: *const plsm_pool_t,
    out_json: *mut plsm_buf_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(out_json, "out_json")?;
        // SAFETY: forwarded contract.
        let p = unsafe { pool_arg(pool) }?;
        let v = info_json(p)?;
        // SAFETY: `out_json` checked non-null above.
        unsafe { write_json(out_json, &v) };
        Ok(())
    })
}

/// Appends one JSON value.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_pool_append_json(
    pool: *const plsm_pool_t,
    json: *const c_char,
    json_len: usize,
    tags: *const *const c_char,
    tag_count: usize,
    durability: i32,
    out_msg: *mut *mut plsm_message_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        // SAFETY: forwarded contract for each argument.
        let (p, data, tags) = unsafe {
            (
                pool_arg(pool)?,
                bytes_arg(json, json_len, "json")?,
                tags_arg(tags, tag_count, "tags")?,
            )
        };
        let m = p.append_json(data, &tags, durability_arg(durability)?)?;
        if !out_msg.is_null() {
            // SAFETY: non-null (contract: writable).
            unsafe { write_out(out_msg, MessageBlock::from_message(&m).into_raw()) };
        }
        Ok(())
    })
}

/// The message `seq`.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_pool_get(
    pool: *const plsm_pool_t,
    seq: u64,
    out: *mut *mut plsm_message_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(out, "out")?;
        // SAFETY: forwarded contract.
        let p = unsafe { pool_arg(pool) }?;
        let m = p.get(seq)?;
        // SAFETY: `out` checked non-null above.
        unsafe { write_out(out, MessageBlock::from_message(&m).into_raw()) };
        Ok(())
    })
}
