//! Pool files on disk: create (fully initialised before it becomes visible), open (read-write, or
//! read-only when that is all the permissions allow), the writer lock, and delete.

use super::format::{self, Geometry, HeaderError};
use super::region::Region;
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
use crate::sys::{fs as sysfs, Mapping};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An open pool file and its mapping.
#[derive(Debug)]
pub struct PoolFile {
    path: PathBuf,
    file: File,
    region: Region,
}

/// Holds the exclusive writer lock until dropped.
#[derive(Debug)]
pub struct WriteLock<'a> {
    file: &'a File,
}

impl Drop for WriteLock<'_> {
    fn drop(&mut self) {
        let _ = sysfs::unlock(self.file);
    }
}

/// Checks a requested pool size against the limits.
pub fn check_size(size: u64) -> Result<()> {
    if !(limits::POOL_SIZE_BYTES_MIN..=limits::POOL_SIZE_BYTES_MAX).contains(&size) {
        return Err(Error::usage(format!(
            "pool size {size} bytes is out of range ({} to {} bytes)",
            limits::POOL_SIZE_BYTES_MIN,
            limits::POOL_SIZE_BYTES_MAX
        ))
        .with_hint("pick a size such as 64K, 1M or 64M"));
    }
    Ok(())
}

impl PoolFile {
    /// Creates a pool of `size` bytes at `path` (parents created as needed). The file appears under its
    /// final name only once fully written; an existing file is never touched (`AlreadyExists`).
    pub fn create(path: &Path, size: u64, now_ns: u64) -> Result<PoolFile> {
        check_size(size)?;
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io("cannot create the pool directory", e).with_path(parent))?;
        if path.symlink_metadata().is_ok() {
            return Err(already_exists(path));
        }
        let tmp = temp_name(path);
        let result = write_new(&tmp, size, now_ns).and_then(|()| {
            sysfs::link_no_replace(&tmp, path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    already_exists(path)
                } else {
                    Error::io("cannot publish the new pool", e)
                }
            })
        });
        let _ = std::fs::remove_file(&tmp);
        result.map_err(|e| e.with_path(path))?;
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
        PoolFile::open(path)
    }

    /// Opens a pool read-write, or read-only when the file or filesystem does not allow writing.
    pub fn open(path: &Path) -> Result<PoolFile> {
        check_not_dir(path)?;
        match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => PoolFile::from_file(path, f, true),
            Err(e) if is_access_error(&e) => PoolFile::open_read_only(path),
            Err(e) => Err(open_error(path, e)),
        }
    }

    /// Opens a pool read-only (readers only; waits poll instead of registering).
    pub fn open_read_only(path: &Path) -> Result<PoolFile> {
        check_not_dir(path)?;
        let f = File::open(path).map_err(|e| open_error(path, e))?;
        PoolFile::from_file(path, f, false)
    }

    fn from_file(path: &Path, file: File, writable: bool) -> Result<PoolFile> {
        refuse_network_fs(&file, path)?;
        let geo = read_geometry(&file).map_err(|e| e.with_path(path))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("cannot stat the pool", e).with_path(path))?
            .len();
        if len < geo.file_size {
            return Err(Error::corrupt(
                format!(
                    "pool file is {len} bytes but its header says {}",
                    geo.file_size
                ),
                len,
            )
            .with_path(path)
            .with_hint("the file was truncated; recreate the pool"));
        }
        let map = Mapping::map_file(&file, geo.file_size as usize, writable)
            .map_err(|e| Error::io("cannot map the pool", e).with_path(path))?;
        Ok(PoolFile {
            path: path.to_path_buf(),
            file,
            region: Region::new(map, geo),
        })
    }

    /// The pool's path as opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The shared bytes.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// Takes the exclusive writer lock (blocks while another writer holds it).
    pub fn lock(&self) -> Result<WriteLock<'_>> {
        sysfs::lock_exclusive(&self.file)
            .map_err(|e| Error::io("cannot lock the pool", e).with_path(&self.path))?;
        Ok(WriteLock { file: &self.file })
    }

    /// Marks this handle as an attached writer (a shared lock on [`format::ATTACH_LOCK_BYTE`], held
    /// until the file closes), then checks the file is still the pool at its path: a writer that
    /// attaches to a file `delete` unlinked (or that another file replaced) gets `NotFound`. Call once,
    /// before the first append.
    pub fn attach(&self) -> Result<()> {
        sysfs::lock_byte_shared(&self.file, format::ATTACH_LOCK_BYTE)
            .map_err(|e| Error::io("cannot attach to the pool", e).with_path(&self.path))?;
        if let Err(e) = self.check_linked(true) {
            let _ = sysfs::unlock_byte(&self.file, format::ATTACH_LOCK_BYTE);
            return Err(e);
        }
        Ok(())
    }

    /// `NotFound` when the open file was unlinked (no link left) or, with `at_path`, when the path
    /// now names another file or nothing. One `fstat` (plus one `stat` with `at_path`).
    pub fn check_linked(&self, at_path: bool) -> Result<()> {
        let Ok(md) = self.file.metadata() else {
            return Ok(());
        };
        if md.nlink() == 0 {
            return Err(gone(&self.path, "was deleted"));
        }
        if at_path {
            match std::fs::metadata(&self.path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(gone(&self.path, "was deleted"));
                }
                Ok(now) if (now.dev(), now.ino()) != (md.dev(), md.ino()) => {
                    return Err(gone(&self.path, "was replaced by another file"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes the pool file at `path`. Refuses files that are not pools, and returns `Busy` while a
    /// writer is attached (see [`PoolFile::attach`]) or holds the lock. Readers that still map it keep
    /// reading the unlinked file until their tails notice it is gone.
    pub fn delete(path: &Path) -> Result<()> {
        check_not_dir(path)?;
        let (f, writable) = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => (f, true),
            Err(e) if is_access_error(&e) => {
                (File::open(path).map_err(|e| open_error(path, e))?, false)
            }
            Err(e) => return Err(open_error(path, e)),
        };
        let mut magic = [0u8; 8];
        if f.read_exact_at(&mut magic, 0).is_err() || magic != format::MAGIC {
            return Err(
                Error::usage("refusing to delete a file that is not a plasmite pool")
                    .with_path(path)
                    .with_hint("remove it with rm if that is really what you want"),
            );
        }
        let lock_err = |e| Error::io("cannot lock the pool", e).with_path(path);
        // Held across the unlink, so no writer can attach meanwhile (a descriptor open read-only can
        // only test: a writer attaching in that window finds the file unlinked and appends nothing).
        let try_attach = || {
            if writable {
                sysfs::try_lock_byte_exclusive(&f, format::ATTACH_LOCK_BYTE)
            } else {
                sysfs::byte_unlocked(&f, format::ATTACH_LOCK_BYTE)
            }
        };
        if !retry_within_grace(|| try_attach().map_err(lock_err))? {
            return Err(busy(path, "a writer is attached to the pool"));
        }
        if !retry_within_grace(|| sysfs::try_lock_exclusive(&f).map_err(lock_err))? {
            return Err(busy(path, "a writer is using the pool"));
        }
        let r = std::fs::remove_file(path)
            .map_err(|e| Error::io("cannot delete the pool", e).with_path(path));
        let _ = sysfs::unlock(&f);
        r
    }
}

/// Tries `attempt` until it succeeds or [`limits::DELETE_BUSY_GRACE`] has passed (the grace covers a
/// closed writer whose descriptor a spawning child still holds for an instant).
fn retry_within_grace(mut attempt: impl FnMut() -> Result<bool>) -> Result<bool> {
    let until = std::time::Instant::now() + crate::limits::DELETE_BUSY_GRACE;
    loop {
        if attempt()? {
            return Ok(true);
        }
        if std::time::Instant::now() >= until {
            return Ok(false);
        }
        std::thread::sleep(crate::limits::DELETE_BUSY_RETRY);
    }
}

fn busy(path: &Path, what: &str) -> Error {
    Error::new(ErrorKind::Busy, what).with_path(path).with_hint(
        "stop the writer (or wait until it exits), then delete again; a pool a `plasmite serve` \
             wrote to is deleted through that server (`pool delete URL`)",
    )
}

fn gone(path: &Path, how: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("pool file {how}"))
        .with_path(path)
        .with_hint("nothing more was written to it; create the pool again to continue")
}

fn write_new(tmp: &Path, size: u64, now_ns: u64) -> Result<()> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|e| Error::io("cannot create the pool file", e))?;
    refuse_network_fs(&f, tmp)?;
    sysfs::reserve(&f, size).map_err(|e| {
        Error::io("cannot reserve space for the pool", e)
            .with_hint("free disk space or pick a smaller --size")
    })?;
    let geo = Geometry::for_size(size, now_ns);
    let map = Mapping::map_file(&f, size as usize, true)
        .map_err(|e| Error::io("cannot map the new pool", e))?;
    let region = Region::new(map, geo);
    region.init();
    region
        .sync_all()
        .map_err(|e| Error::io("cannot sync the new pool", e))?;
    Ok(())
}

fn temp_name(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

fn already_exists(path: &Path) -> Error {
    Error::new(ErrorKind::AlreadyExists, "pool already exists")
        .with_path(path)
        .with_hint("use it as it is, or delete it first")
}

fn check_not_dir(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::usage("pool path is a directory")
            .with_path(path)
            .with_hint("name a .plasmite file"));
    }
    Ok(())
}

fn is_access_error(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(libc::EROFS)
}

fn open_error(path: &Path, e: std::io::Error) -> Error {
    let nf = e.kind() == std::io::ErrorKind::NotFound;
    let err = Error::io("cannot open the pool", e).with_path(path);
    if nf {
        Error::new(ErrorKind::NotFound, "pool not found")
            .with_path(path)
            .with_hint("create it with 'plasmite pool create NAME' or poke with --create")
    } else {
        err
    }
}

fn refuse_network_fs(file: &File, path: &Path) -> Result<()> {
    if let Ok(Some(kind)) = sysfs::network_fs(file) {
        return Err(Error::usage(format!(
            "pools on network filesystems ({kind:?}) are not supported: their locks and shared mappings are not coherent across machines"
        ))
        .with_path(path)
        .with_hint("put the pool directory on a local filesystem and serve it with 'plasmite serve'"));
    }
    Ok(())
}

/// Reads and checks the header with a plain read (never through a mapping, so a short file cannot
/// cause SIGBUS).
fn read_geometry(file: &File) -> Result<Geometry> {
    let mut buf = [0u8; format::GEOMETRY_BYTES + 4];
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("cannot read the pool header", e)),
        }
    }
    Geometry::decode(&buf[..got]).map_err(header_error)
}

/// Maps a header decoding failure to a user-facing error.
pub fn header_error(e: HeaderError) -> Error {
    match e {
        HeaderError::BadMagic => Error::corrupt("not a plasmite pool (bad magic)", 0)
            .with_hint("check the path: this file was not created by plasmite"),
        HeaderError::Short => Error::corrupt("file too short to be a plasmite pool", 0),
        HeaderError::Version { found } => Error::usage(format!(
            "pool format version {found} is not supported (this build reads version {})",
            format::FORMAT_VERSION
        ))
        .with_offset(format::OFF_VERSION as u64)
        .with_hint("use the plasmite release that created this pool"),
        HeaderError::Geometry { offset, why } => {
            Error::corrupt(format!("bad pool header: {why}"), offset as u64).with_hint(
                "run 'plasmite doctor' on the pool; recreate it if the header is damaged",
            )
        }
    }
}
