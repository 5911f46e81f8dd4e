//! Status codes, `plsm_error_t`, and the guard every exported function runs its body in.
//!
//! Codes: 0 is success, then the stable kinds in the contract's order (Usage = 1 … Internal = 8),
//! then kinds added in v0 (RetentionGap = 9).
//! An error handed to C is one heap block: the public `plsm_error_t` first, then the owned strings
//! its pointers point into, so one `plsm_error_free` releases everything.

use plasmite::{Error, ErrorKind};
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub const PLSM_OK: i32 = 0;

/// The code of a kind (the contract's order, from 1).
pub fn kind_code(k: ErrorKind) -> i32 {
    match k {
        ErrorKind::Usage => 1,
        ErrorKind::NotFound => 2,
        ErrorKind::AlreadyExists => 3,
        ErrorKind::Busy => 4,
        ErrorKind::Permission => 5,
        ErrorKind::Corrupt => 6,
        ErrorKind::Io => 7,
        ErrorKind::Internal => 8,
        ErrorKind::RetentionGap => 9,
        // A kind added later in v0 would get a new code; until it has one it reads as Internal.
        #[allow(unreachable_patterns)]
        _ => 8,
    }
}

/// The kind of a code; `None` for 0 and unknown values.
pub fn kind_from_code(code: i32) -> Option<ErrorKind> {
    ErrorKind::ALL.into_iter().find(|&k| kind_code(k) == code)
}

/// The kind's stable name with a trailing NUL.
pub fn kind_name_nul(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::Usage => "Usage\0",
        ErrorKind::NotFound => "NotFound\0",
        ErrorKind::AlreadyExists => "AlreadyExists\0",
        ErrorKind::Busy => "Busy\0",
        ErrorKind::Permission => "Permission\0",
        ErrorKind::Corrupt => "Corrupt\0",
        ErrorKind::Io => "Io\0",
        ErrorKind::Internal => "Internal\0",
        ErrorKind::RetentionGap => "RetentionGap\0",
        #[allow(unreachable_patterns)]
        _ => "Internal\0",
    }
}

/// The public part of an error (layout of `plsm_error_t` in the header).
#[repr(C)]
#[derive(Debug)]
pub struct plsm_error_t {
    pub kind: i32,
    pub has_path: bool,
    pub has_seq: bool,
    pub has_offset: bool,
    pub message: *const c_char,
    pub hint: *const c_char,
    pub path: *const c_char,
    pub seq: u64,
    pub offset: u64,
}

/// The heap block behind a `plsm_error_t *`: the public struct first, then its strings.
#[repr(C)]
struct ErrorBlock {
    public: plsm_error_t,
    message: CString,
    hint: Option<CString>,
    path: Option<CString>,
}

/// A C string of `s`, with any NUL byte (impossible in our messages, possible in paths) escaped.
pub fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

fn into_raw(e: &Error) -> *mut plsm_error_t {
    let message = c_string(e.message());
    let hint = e.hint().map(c_string);
    let path = e.path().map(|p| c_string(&p.to_string_lossy()));
    let public = plsm_error_t {
        kind: kind_code(e.kind()),
        has_path: path.is_some(),
        has_seq: e.seq().is_some(),
        has_offset: e.offset().is_some(),
        message: message.as_ptr(),
        hint: hint.as_ref().map_or(ptr::null(), |h| h.as_ptr()),
        path: path.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
        seq: e.seq().unwrap_or(0),
        offset: e.offset().unwrap_or(0),
    };
    // The CStrings' bytes live on the heap, so moving them into the block keeps the pointers valid.
    let block = Box::new(ErrorBlock {
        public,
        message,
        hint,
        path,
    });
    Box::into_raw(block).cast()
}

/// Frees an error from any function of this library; NULL is fine.
///
/// # Safety
/// `err` is NULL or a pointer this library handed out and that was not freed yet.
#[no_mangle]
pub unsafe extern "C" fn plsm_error_free(err: *mut plsm_error_t) {
    if err.is_null() {
        return;
    }
    // SAFETY: non-null pointers passed here came from `into_raw`, which leaked a Box<ErrorBlock> whose
    // first field (repr(C)) is the public struct, so the cast recovers that Box exactly once.
    drop(unsafe { Box::from_raw(err.cast::<ErrorBlock>()) });
}

/// A `Usage` error naming a NULL argument.
pub fn null_arg(name: &str) -> Error {
    Error::usage(format!("{name} is NULL")).with_hint("pass a valid pointer")
}

/// Runs an exported function's body: catches a panic (reported as `Internal`), writes `*err` (the
/// error on failure, NULL on success) when `err` is not NULL, and returns the status code.
/// Crate-private: its callers are the exported functions, whose contract makes `err` NULL or
/// writable.
pub(crate) fn guard(err: *mut *mut plsm_error_t, body: impl FnOnce() -> Result<(), Error>) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(Error::new(
            ErrorKind::Internal,
            format!("internal error (a bug in plasmite): {what}"),
        ))
    });
    let (code, out) = match &result {
        Ok(()) => (PLSM_OK, ptr::null_mut()),
        Err(e) => (kind_code(e.kind()), into_raw(e)),
    };
    if err.is_null() {
        // SAFETY: `out` is null or fresh from `into_raw`; nobody else can free it.
        unsafe { plsm_error_free(out) };
    } else {
        // SAFETY: the header's contract: a non-NULL `err` points to writable storage for a pointer.
        unsafe { err.write(out) };
    }
    code
}
