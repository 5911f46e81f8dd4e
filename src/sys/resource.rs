//! Process resource limits and socket options for the HTTP server: the open-file limit
//! (`RLIMIT_NOFILE`: read, raise the soft limit to the hard one, or lower both in a child about to
//! `exec`) and a socket's send buffer size (`SO_SNDBUF`).

use std::io;
use std::os::fd::AsRawFd;

/// The soft and hard `RLIMIT_NOFILE` (`u64::MAX` stands for "unlimited").
pub fn nofile() -> io::Result<(u64, u64)> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into `r`, which lives across the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err(io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every platform
    Ok((r.rlim_cur as u64, r.rlim_max as u64))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft limit now in force.
pub fn raise_nofile() -> io::Result<u64> {
    let (soft, hard) = nofile()?;
    if soft >= hard {
        return Ok(soft);
    }
    let r = libc::rlimit {
        rlim_cur: hard as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads one rlimit from `r`, which lives across the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } != 0 {
        return Ok(soft);
    }
    Ok(hard)
}

/// Makes `cmd`'s child start with both `RLIMIT_NOFILE` limits set to `n` (set between `fork` and
/// `exec`: only `setrlimit`, which is async-signal-safe, runs there).
pub fn child_nofile(cmd: &mut std::process::Command, n: u64) {
    use std::os::unix::process::CommandExt;
    let r = libc::rlimit {
        rlim_cur: n as libc::rlim_t,
        rlim_max: n as libc::rlim_t,
    };
    // SAFETY: the closure runs in the forked child before exec; it only calls setrlimit (async-signal
    // safe) on a copy of `r` and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Sets a socket's send buffer size (`SO_SNDBUF`; the kernel doubles and bounds it).
pub fn set_send_buffer(sock: &impl AsRawFd, bytes: usize) -> io::Result<()> {
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: passes a pointer to one c_int that lives across the call, with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_reads_and_raising_never_lowers() {
        let (soft, hard) = nofile().unwrap();
        assert!(soft <= hard);
        let now = raise_nofile().unwrap();
        assert!(now >= soft);
    }

    #[test]
    fn send_buffer_can_be_set() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        assert!(set_send_buffer(&s, 256 * 1024).is_ok());
    }
}
