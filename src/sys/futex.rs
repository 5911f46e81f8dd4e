//! Cross-process wait/wake on a 32-bit word inside a shared mapping.
//!
//! On Linux this is a shared (not private) futex, so waiters and wakers in different processes that map
//! the same file meet on the same word. Elsewhere, `wait` degrades to a bounded sleep and `wake` does
//! nothing: callers re-check their condition after every return, so both are correct, only slower.

use super::mmap::Mapping;
use std::io;
use std::time::Duration;

/// Sleeps while the word at `offset` equals `expected`, for at most `timeout`.
/// Returns on wake, timeout, value change or signal; callers must re-check their condition.
pub fn wait(map: &Mapping, offset: usize, expected: u32, timeout: Duration) -> io::Result<()> {
    let addr = map
        .word_addr(offset)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "futex word out of range"))?;
    imp::wait(addr, expected, timeout)
}

/// Wakes every waiter sleeping on the word at `offset`, in any process.
pub fn wake_all(map: &Mapping, offset: usize) -> io::Result<()> {
    let addr = map
        .word_addr(offset)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "futex word out of range"))?;
    imp::wake_all(addr)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::time::Duration;

    pub fn wait(addr: *const u32, expected: u32, timeout: Duration) -> io::Result<()> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: addr points at a 4-aligned word inside a live mapping (checked by the caller's
        // Mapping::word_addr); the timespec lives across the call. FUTEX_WAIT without the PRIVATE flag
        // keys on the file page, so other processes mapping the same file share the wait queue.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_futex,
                addr,
                libc::FUTEX_WAIT,
                expected,
                &ts as *const libc::timespec,
                std::ptr::null::<u32>(),
                0u32,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::ETIMEDOUT) | Some(libc::EINTR) => Ok(()),
            _ => Err(err),
        }
    }

    pub fn wake_all(addr: *const u32) -> io::Result<()> {
        // SAFETY: addr points at a 4-aligned word inside a live mapping; FUTEX_WAKE only reads the key.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_futex,
                addr,
                libc::FUTEX_WAKE,
                i32::MAX,
                std::ptr::null::<libc::timespec>(),
                std::ptr::null::<u32>(),
                0u32,
            )
        };
        if rc >= 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::io;
    use std::time::Duration;

    /// Off Linux: a short sleep bounded by the fallback poll interval.
    pub fn wait(_addr: *const u32, _expected: u32, timeout: Duration) -> io::Result<()> {
        std::thread::sleep(timeout.min(crate::limits::WAIT_POLL_FALLBACK));
        Ok(())
    }

    pub fn wake_all(_addr: *const u32) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn wait_returns_at_once_when_value_differs_and_after_timeout_otherwise() {
        let m = Mapping::anonymous(4096).unwrap();
        m.atomic_u32(64).unwrap().store(5, Ordering::SeqCst);
        let t = Instant::now();
        wait(&m, 64, 4, Duration::from_secs(5)).unwrap();
        assert!(t.elapsed() < Duration::from_secs(1));
        let t = Instant::now();
        wait(&m, 64, 5, Duration::from_millis(20)).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(15));
    }

    #[test]
    fn wake_all_releases_a_waiting_thread() {
        let m = Arc::new(Mapping::anonymous(4096).unwrap());
        let m2 = Arc::clone(&m);
        let h = std::thread::spawn(move || {
            let t = Instant::now();
            while m2.atomic_u32(0).unwrap().load(Ordering::SeqCst) == 0 {
                wait(&m2, 0, 0, Duration::from_secs(10)).unwrap();
            }
            t.elapsed()
        });
        std::thread::sleep(Duration::from_millis(20));
        m.atomic_u32(0).unwrap().store(1, Ordering::SeqCst);
        wake_all(&m, 0).unwrap();
        assert!(h.join().unwrap() < Duration::from_secs(5));
    }
}
