//! A shared memory mapping of a pool file (or an anonymous region for tests), with bounds-checked,
//! safe accessors.
//!
//! The bytes behind a [`Mapping`] are changed by other processes at any moment, so this type never
//! hands out `&[u8]` over them. Callers copy bytes in and out (`read_into`, `write_at`) and use atomics
//! (`atomic_u32`, `atomic_u64`) for words that are shared. Every accessor checks bounds and alignment
//! and returns `None`/an error instead of touching memory outside the mapping.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// A `MAP_SHARED` mapping, unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: the mapping is plain shared memory; all access goes through atomics or raw copies whose
// races are resolved by the pool protocol (copy out, then validate), never through references to bytes.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` only permits atomic access and raw copies.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `file` from offset 0. `writable` needs a file opened read-write.
    pub fn map_file(file: &File, len: usize, writable: bool) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty mapping"));
        }
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh mapping chosen by the kernel (addr null); the fd is valid for the call; the
        // result is checked against MAP_FAILED before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        Self::from_raw(p, len, writable)
    }

    /// An anonymous, zero-filled, writable region: the in-memory stand-in for a pool file.
    pub fn anonymous(len: usize) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty mapping"));
        }
        // SAFETY: anonymous mapping, no fd; the result is checked against MAP_FAILED before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        Self::from_raw(p, len, true)
    }

    fn from_raw(p: *mut libc::c_void, len: usize, writable: bool) -> io::Result<Mapping> {
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Mapping { ptr, len, writable })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: empty mappings cannot be created.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the mapping may be written.
    pub fn writable(&self) -> bool {
        self.writable
    }

    fn check(&self, offset: usize, len: usize, align: usize) -> Option<*mut u8> {
        let end = offset.checked_add(len)?;
        if end > self.len || !offset.is_multiple_of(align) {
            return None;
        }
        // SAFETY: offset + len <= self.len, so the pointer stays inside the mapping.
        Some(unsafe { self.ptr.as_ptr().add(offset) })
    }

    /// The 4-byte word at `offset` (4-aligned, in bounds) as an atomic.
    pub fn atomic_u32(&self, offset: usize) -> Option<&AtomicU32> {
        let p = self.check(offset, 4, 4)?;
        // SAFETY: in bounds and 4-aligned (mmap returns page-aligned memory); the mapping outlives the
        // borrow; AtomicU32 has the layout of u32 and tolerates concurrent access from other processes.
        Some(unsafe { &*p.cast::<AtomicU32>() })
    }

    /// The 8-byte word at `offset` (8-aligned, in bounds) as an atomic.
    pub fn atomic_u64(&self, offset: usize) -> Option<&AtomicU64> {
        let p = self.check(offset, 8, 8)?;
        // SAFETY: in bounds and 8-aligned; the mapping outlives the borrow; AtomicU64 has u64's layout.
        Some(unsafe { &*p.cast::<AtomicU64>() })
    }

    /// Copies `dst.len()` bytes starting at `offset` out of the mapping. Returns false when out of bounds.
    /// The bytes may be concurrently modified: the caller validates what it copied.
    pub fn read_into(&self, offset: usize, dst: &mut [u8]) -> bool {
        match self.check(offset, dst.len(), 1) {
            Some(src) => {
                // SAFETY: src..src+len is inside the mapping; dst is a distinct Rust buffer.
                unsafe { std::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
                true
            }
            None => false,
        }
    }

    /// Copies `src` into the mapping at `offset`. Returns false when out of bounds or read-only.
    pub fn write_at(&self, offset: usize, src: &[u8]) -> bool {
        if !self.writable {
            return false;
        }
        match self.check(offset, src.len(), 1) {
            Some(dst) => {
                // SAFETY: dst..dst+len is inside a writable mapping; src is a distinct Rust buffer.
                unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
                true
            }
            None => false,
        }
    }

    /// `msync(MS_SYNC)` of the pages covering `offset..offset+len` (clamped to the mapping).
    pub fn sync_range(&self, offset: usize, len: usize) -> io::Result<()> {
        let page = page_size();
        let start = offset - offset % page;
        let end = offset.saturating_add(len).min(self.len);
        if start >= end {
            return Ok(());
        }
        let p = self
            .check(start, end - start, 1)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "sync out of range"))?;
        // SAFETY: p is page-aligned and p..p+(end-start) lies inside the mapping.
        let rc = unsafe { libc::msync(p.cast(), end - start, libc::MS_SYNC) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Raw address of a word, for futex calls within `sys`.
    pub(super) fn word_addr(&self, offset: usize) -> Option<*const u32> {
        self.check(offset, 4, 4).map(|p| p as *const u32)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len describe a mapping created by mmap and not yet unmapped; no borrows outlive self.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// The system page size (4096 when it cannot be read).
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 {
        v as usize
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn accessors_refuse_out_of_bounds_and_misaligned() {
        let m = Mapping::anonymous(4096).unwrap();
        assert!(m.atomic_u64(4088).is_some());
        assert!(m.atomic_u64(4096).is_none());
        assert!(m.atomic_u64(4).is_none());
        assert!(m.atomic_u32(4092).is_some());
        let mut buf = [0u8; 8];
        assert!(!m.read_into(4090, &mut buf));
        assert!(!m.write_at(usize::MAX - 2, &buf));
    }

    #[test]
    fn writes_are_visible_through_reads_and_atomics() {
        let m = Mapping::anonymous(8192).unwrap();
        assert!(m.write_at(16, &42u64.to_le_bytes()));
        assert_eq!(m.atomic_u64(16).unwrap().load(Ordering::SeqCst), 42);
        let mut buf = [0u8; 8];
        assert!(m.read_into(16, &mut buf));
        assert_eq!(u64::from_le_bytes(buf), 42);
        m.sync_range(0, 100).unwrap_or(());
    }
}
