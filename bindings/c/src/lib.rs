//! libplasmite: the C ABI of plasmite, declared in `include/plasmite.h` and described in
//! `spec/c-api.md`.
//!
//! Every exported function is a thin shell: check the pointer arguments (a NULL where a value is
//! required is `Usage`), run the body through [`error::guard`] (which turns a panic into `Internal`
//! and writes the error out-parameter), and call the public Rust API (`plasmite::api`). Nothing here
//! reaches into the engine. Raw-pointer code lives only in this crate, each `unsafe` block with its
//! `// SAFETY:` line.
//!
//! Modules: `error` (status codes, `plsm_error_t`, the guard), `ffi` (reading C arguments, writing
//! out-parameters, `plsm_buf_t`), `client` (pool lifecycle), `pool` (append, get, info), `message`
//! (`plsm_message_t`), `stream` (tails and cancellation).

#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

pub mod client;
pub mod error;
pub mod ffi;
pub mod message;
pub mod pool;
pub mod stream;

use std::ffi::c_char;

/// Major version of the ABI: bumped only by an incompatible change.
pub const ABI_VERSION_MAJOR: u32 = 0;
/// Minor version of the ABI: bumped by each additive change.
pub const ABI_VERSION_MINOR: u32 = 1;

/// `(major << 16) | minor` of this library.
#[no_mangle]
pub extern "C" fn plsm_abi_version() -> u32 {
    (ABI_VERSION_MAJOR << 16) | ABI_VERSION_MINOR
}

/// The library's version string; static.
#[no_mangle]
pub extern "C" fn plsm_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The stable name of a status code; static.
#[no_mangle]
pub extern "C" fn plsm_kind_name(kind: i32) -> *const c_char {
    let name: &'static str = match error::kind_from_code(kind) {
        _ if kind == error::PLSM_OK => "Ok\0",
        Some(k) => error::kind_name_nul(k),
        None => "Unknown\0",
    };
    name.as_ptr().cast()
}
