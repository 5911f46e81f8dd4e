//! `plsm_client_t`: a pool directory, and the pool lifecycle (create, open, info, list, delete).
//!
//! A client is immutable after `plsm_client_new`, so any number of threads may use one at once.

use super::error::{guard, plsm_error_t};
use super::ffi::{check_out, plsm_buf_t, ref_arg, str_arg, write_json, write_out};
use super::pool::{info_json, plsm_pool_t};
use plasmite::api::{Client, Pool};
use std::ffi::c_char;

/// A client (opaque to C).
#[derive(Debug)]
pub struct plsm_client_t {
    client: Client,
}

/// A client over `pool_dir`.
///
/// # Safety
/// Pointer arguments as the header says (NULL is refused with Usage).
#[no_mangle]
pub unsafe extern "C" fn plsm_client_new(
    pool_dir: *const c_char,
    out: *mut *mut plsm_client_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(out, "out")?;
        // SAFETY: NUL-terminated string or NULL (contract).
        let dir = unsafe { str_arg(pool_dir, "pool_dir") }?;
        if dir.is_empty() {
            return Err(plasmite::Error::usage("pool_dir is empty"));
        }
        let c = Box::new(plsm_client_t {
            client: Client::new(dir),
        });
        // SAFETY: `out` checked non-null above.
        unsafe { write_out(out, Box::into_raw(c)) };
        Ok(())
    })
}

/// Frees a client; NULL is fine. Pools opened through it stay usable.
///
/// # Safety
/// `client` is NULL or from `plsm_client_new`, not freed yet, and no other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn plsm_client_free(client: *mut plsm_client_t) {
    if !client.is_null() {
        // SAFETY: a Box leaked by plsm_client_new, freed once (contract).
        drop(unsafe { Box::from_raw(client) });
    }
}

/// Borrows a client argument.
///
/// # Safety
/// `c` is NULL or a live client.
unsafe fn client_arg<'a>(c: *const plsm_client_t) -> Result<&'a Client, plasmite::Error> {
    check_out(c.cast_mut(), "client")?;
    // SAFETY: non-null live client (contract).
    Ok(unsafe { &(*c).client })
}

/// Hands an opened pool to C when `out` is not NULL (else closes it).
///
/// # Safety
/// `out` is NULL or writable storage for a pointer.
unsafe fn give_pool(out: *mut *mut plsm_pool_t, pool: Pool) {
    if !out.is_null() {
        // SAFETY: non-null (contract: writable).
        unsafe { write_out(out, plsm_pool_t::into_raw(pool)) };
    }
}

/// Creates a pool.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_client_create_pool(
    client: *const plsm_client_t,
    ref_kind: i32,
    pool_ref: *const c_char,
    size_bytes: u64,
    out: *mut *mut plsm_pool_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        // SAFETY: forwarded contract for each argument.
        let (c, r) = unsafe { (client_arg(client)?, ref_arg(ref_kind, pool_ref)?) };
        let pool = c.create_pool(&r, size_bytes)?;
        // SAFETY: forwarded contract.
        unsafe { give_pool(out, pool) };
        Ok(())
    })
}

/// Opens a pool (`PLSM_OPEN_READ_ONLY` in `flags` for a read-only handle).
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_client_open_pool(
    client: *const plsm_client_t,
    ref_kind: i32,
    pool_ref: *const c_char,
    flags: u32,
    out: *mut *mut plsm_pool_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(out, "out")?;
        // SAFETY: forwarded contract for each argument.
        let (c, r) = unsafe { (client_arg(client)?, ref_arg(ref_kind, pool_ref)?) };
        if flags & !super::pool::OPEN_FLAGS_ALL != 0 {
            return Err(plasmite::Error::usage(format!(
                "unknown open flags {flags:#x}"
            )));
        }
        let pool = if flags & super::pool::OPEN_READ_ONLY != 0 {
            Pool::open_path_read_only(&c.resolve(&r)?)?
        } else {
            c.open_pool(&r)?
        };
        // SAFETY: `out` checked non-null above.
        unsafe { give_pool(out, pool) };
        Ok(())
    })
}

/// A pool's info as JSON.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_client_pool_info(
    client: *const plsm_client_t,
    ref_kind: i32,
    pool_ref: *const c_char,
    out_json: *mut plsm_buf_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(out_json, "out_json")?;
        // SAFETY: forwarded contract for each argument.
        let (c, r) = unsafe { (client_arg(client)?, ref_arg(ref_kind, pool_ref)?) };
        let pool = c.open_pool(&r)?;
        let v = info_json(&pool)?;
        // SAFETY: `out_json` checked non-null above.
        unsafe { write_json(out_json, &v) };
        Ok(())
    })
}

/// The directory's pools as a JSON array.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_client_list_pools(
    client: *const plsm_client_t,
    out_json: *mut plsm_buf_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(out_json, "out_json")?;
        // SAFETY: forwarded contract.
        let c = unsafe { client_arg(client) }?;
        let items: Vec<serde_json::Value> = c
            .list_pools()?
            .into_iter()
            .map(|entry| match &entry.info {
                Ok(info) => super::pool::with_name(info.to_json(), &entry.name),
                Err(e) => serde_json::json!({
                    "name": entry.name,
                    "path": entry.path.display().to_string(),
                    "error": e.to_json()["error"],
                }),
            })
            .collect();
        // SAFETY: `out_json` checked non-null above.
        unsafe { write_json(out_json, &serde_json::Value::Array(items)) };
        Ok(())
    })
}

/// Deletes a pool.
///
/// # Safety
/// Pointer arguments as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_client_delete_pool(
    client: *const plsm_client_t,
    ref_kind: i32,
    pool_ref: *const c_char,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        // SAFETY: forwarded contract for each argument.
        let (c, r) = unsafe { (client_arg(client)?, ref_arg(ref_kind, pool_ref)?) };
        c.delete_pool(&r)
    })
}
