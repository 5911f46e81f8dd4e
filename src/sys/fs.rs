//! File-level system calls: advisory locks (whole-file `flock`, byte-range OFD locks), space
//! reservation, filesystem type, terminals, hard links.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Takes an exclusive `flock` on the whole file, blocking until it is granted (retries on EINTR).
pub fn lock_exclusive(file: &File) -> io::Result<()> {
    loop {
        // SAFETY: flock on a valid, open fd has no memory-safety preconditions.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// Tries to take an exclusive `flock` without blocking; `Ok(false)` when another holder has it.
pub fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    // SAFETY: flock on a valid, open fd has no memory-safety preconditions.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// Releases a `flock` taken on this open file description.
pub fn unlock(file: &File) -> io::Result<()> {
    // SAFETY: flock on a valid, open fd has no memory-safety preconditions.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One byte-range lock of an open file description (Linux OFD lock): independent of `flock` locks on
/// the same file, released when the last descriptor of the description closes.
#[cfg(target_os = "linux")]
fn ofd_lock(file: &File, cmd: libc::c_int, kind: libc::c_int, offset: u64) -> io::Result<bool> {
    let start = libc::off_t::try_from(offset)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "lock offset too large"))?;
    loop {
        // SAFETY: `flock` is plain old data; zeroed is valid (and l_pid must be 0 for OFD locks).
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = kind as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        fl.l_start = start;
        fl.l_len = 1;
        // SAFETY: valid fd and a flock struct that lives across the call.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut fl) };
        if rc == 0 {
            if cmd == libc::F_OFD_GETLK {
                return Ok(fl.l_type == libc::F_UNLCK as libc::c_short);
            }
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) | Some(libc::EACCES) if cmd == libc::F_OFD_SETLK => {
                return Ok(false)
            }
            _ => return Err(err),
        }
    }
}

/// Takes a shared lock on byte `offset` (blocking while an exclusive holder has it).
#[cfg(target_os = "linux")]
pub fn lock_byte_shared(file: &File, offset: u64) -> io::Result<()> {
    ofd_lock(file, libc::F_OFD_SETLKW, libc::F_RDLCK, offset).map(|_| ())
}

/// Tries to take an exclusive lock on byte `offset` without blocking (the file must be open for
/// writing); `Ok(false)` when another open file description holds a lock on it.
#[cfg(target_os = "linux")]
pub fn try_lock_byte_exclusive(file: &File, offset: u64) -> io::Result<bool> {
    ofd_lock(file, libc::F_OFD_SETLK, libc::F_WRLCK, offset)
}

/// Whether an exclusive lock on byte `offset` could be taken now (a test that takes nothing; for
/// descriptors open read-only, which cannot take one).
#[cfg(target_os = "linux")]
pub fn byte_unlocked(file: &File, offset: u64) -> io::Result<bool> {
    ofd_lock(file, libc::F_OFD_GETLK, libc::F_WRLCK, offset)
}

/// Releases this open file description's lock on byte `offset`.
#[cfg(target_os = "linux")]
pub fn unlock_byte(file: &File, offset: u64) -> io::Result<()> {
    ofd_lock(file, libc::F_OFD_SETLK, libc::F_UNLCK, offset).map(|_| ())
}

/// Off Linux there are no open-file-description locks: the byte locks are not taken (a writer's
/// attachment is then not seen by `delete`, which still refuses while a writer holds the `flock`).
#[cfg(not(target_os = "linux"))]
pub fn lock_byte_shared(_file: &File, _offset: u64) -> io::Result<()> {
    Ok(())
}

/// See the Linux version; off Linux it always succeeds.
#[cfg(not(target_os = "linux"))]
pub fn try_lock_byte_exclusive(_file: &File, _offset: u64) -> io::Result<bool> {
    Ok(true)
}

/// See the Linux version; off Linux it always says unlocked.
#[cfg(not(target_os = "linux"))]
pub fn byte_unlocked(_file: &File, _offset: u64) -> io::Result<bool> {
    Ok(true)
}

/// See the Linux version; off Linux it does nothing.
#[cfg(not(target_os = "linux"))]
pub fn unlock_byte(_file: &File, _offset: u64) -> io::Result<()> {
    Ok(())
}

/// Reserves disk blocks for `0..len` so later writes through a mapping cannot fail with SIGBUS on a
/// full disk. Falls back to writing zeros where the filesystem has no `fallocate`.
pub fn reserve(file: &File, len: u64) -> io::Result<()> {
    let off_len = libc::off_t::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large"))?;
    // SAFETY: posix_fallocate on a valid fd with non-negative offset/length.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, off_len) };
    match rc {
        0 => Ok(()),
        libc::EOPNOTSUPP | libc::EINVAL => write_zeros(file, len),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

fn write_zeros(file: &File, len: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let chunk = vec![0u8; 1 << 16];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(chunk.len() as u64) as usize;
        file.write_all_at(&chunk[..n], off)?;
        off += n as u64;
    }
    Ok(())
}

/// Network filesystems whose locking and mmap coherence plasmite cannot trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkFs {
    /// NFS of any version.
    Nfs,
    /// SMB / CIFS.
    Smb,
}

/// Classifies a Linux `statfs.f_type` magic number.
pub fn classify_fs_magic(magic: u64) -> Option<NetworkFs> {
    const NFS_SUPER_MAGIC: u64 = 0x6969;
    const SMB_SUPER_MAGIC: u64 = 0x517B;
    const CIFS_MAGIC_NUMBER: u64 = 0xFF53_4D42;
    const SMB2_MAGIC_NUMBER: u64 = 0xFE53_4D42;
    match magic & 0xFFFF_FFFF {
        NFS_SUPER_MAGIC => Some(NetworkFs::Nfs),
        SMB_SUPER_MAGIC | CIFS_MAGIC_NUMBER | SMB2_MAGIC_NUMBER => Some(NetworkFs::Smb),
        _ => None,
    }
}

/// Detects whether the open file lives on a network filesystem.
#[cfg(target_os = "linux")]
pub fn network_fs(file: &File) -> io::Result<Option<NetworkFs>> {
    // SAFETY: statfs is plain old data; zeroed is a valid initial value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and a writable statfs buffer that lives across the call.
    let rc = unsafe { libc::fstatfs(file.as_raw_fd(), &mut st) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)]
    Ok(classify_fs_magic(st.f_type as u64))
}

/// Off Linux the check is not implemented; every filesystem is accepted.
#[cfg(not(target_os = "linux"))]
pub fn network_fs(_file: &File) -> io::Result<Option<NetworkFs>> {
    Ok(None)
}

/// Creates `dst` as a hard link to `src`; fails with `AlreadyExists` when `dst` exists (atomic publish).
pub fn link_no_replace(src: &Path, dst: &Path) -> io::Result<()> {
    std::fs::hard_link(src, dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_another_open_file_description_is_refused_until_unlock() {
        let dir = std::env::temp_dir().join(format!("plasmite-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        let a = File::create(&p).unwrap();
        let b = File::open(&p).unwrap();
        lock_exclusive(&a).unwrap();
        assert!(!try_lock_exclusive(&b).unwrap());
        unlock(&a).unwrap();
        assert!(try_lock_exclusive(&b).unwrap());
        unlock(&b).unwrap();
        // Byte locks of one description block exclusive byte locks of another, not flock.
        let c = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let d = File::open(&p).unwrap();
        lock_byte_shared(&b, 7).unwrap();
        assert!(!try_lock_byte_exclusive(&c, 7).unwrap());
        assert!(!byte_unlocked(&d, 7).unwrap());
        assert!(
            try_lock_byte_exclusive(&c, 8).unwrap(),
            "another byte is free"
        );
        assert!(try_lock_exclusive(&c).unwrap(), "flock is independent");
        unlock(&c).unwrap();
        unlock_byte(&b, 7).unwrap();
        assert!(byte_unlocked(&d, 7).unwrap());
        assert!(try_lock_byte_exclusive(&c, 7).unwrap());
        unlock_byte(&c, 7).unwrap();
        reserve(&a, 10_000).unwrap();
        assert_eq!(a.metadata().unwrap().len(), 10_000);
        assert_eq!(network_fs(&a).unwrap(), None);
        assert_eq!(classify_fs_magic(0x6969), Some(NetworkFs::Nfs));
        assert_eq!(classify_fs_magic(0xFF53_4D42), Some(NetworkFs::Smb));
        assert_eq!(classify_fs_magic(0xFE53_4D42), Some(NetworkFs::Smb));
        assert_eq!(classify_fs_magic(0x517B), Some(NetworkFs::Smb));
        assert_eq!(classify_fs_magic(0xEF53), None, "ext4");
        assert_eq!(classify_fs_magic(0x0102_1994), None, "tmpfs");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
