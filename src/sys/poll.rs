//! Whether the reader of a file descriptor went away: `poll(2)` with no wait, for `POLLERR`,
//! `POLLHUP` or `POLLNVAL` (the write end of a pipe whose reader exited reports `POLLERR`).

use std::os::fd::{AsFd, AsRawFd};

/// True when `fd` is a pipe or socket whose other end is closed (or the descriptor is invalid).
/// Never waits; a terminal or a regular file is never "hung up" here.
pub fn hung_up(fd: impl AsFd) -> std::io::Result<bool> {
    let mut p = libc::pollfd {
        fd: fd.as_fd().as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: `p` is one valid pollfd owned by this frame; nfds is 1; a zero timeout never blocks.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(n > 0 && p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_pipe_hangs_up_once_its_reader_is_gone() {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: pipe(2) just returned these descriptors; each is owned exactly once here.
        let (r, w) = unsafe {
            use std::os::fd::FromRawFd;
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        let mut w = w;
        w.write_all(b"x").unwrap();
        assert!(!hung_up(&w).unwrap());
        drop(r);
        assert!(hung_up(&w).unwrap());
    }
}
