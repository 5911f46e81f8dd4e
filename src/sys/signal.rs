//! Ctrl-C as a flag: SIGINT (and SIGTERM) set a static atomic instead of killing the process, so the
//! CLI can stop cleanly (flush output, exit 130). The handler only stores to an atomic, which is
//! async-signal-safe. Installed without `SA_RESTART`, so blocking reads and futex waits return early.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Routes SIGINT and SIGTERM to the flag and returns it.
pub fn install_interrupt_flag() -> &'static AtomicBool {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: sigaction is plain old data; zeroed is a valid empty mask and flags value.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        // SAFETY: sa_mask is a valid sigset_t owned by `sa`.
        unsafe { libc::sigemptyset(&mut sa.sa_mask) };
        // SAFETY: installs a handler that only touches an atomic; `sa` lives across the call.
        unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) };
    }
    &INTERRUPTED
}

/// The flag (set once a signal arrived).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
