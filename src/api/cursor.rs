//! Durable named cursors: a consumer's committed position in a pool, kept beside the pool file (never
//! in it, so a read-only pool file can still be consumed) in `NAME.cursors/` next to `NAME.plasmite`
//! (for a pool file without the extension, `FILE.cursors/`). Per cursor `C`:
//!
//! - `C.json`: `{"seq":S,"pool_created_ns":T}`: every message up to seq `S` was handed on (`S` = 0:
//!   none yet); `T` is the pool's creation time, so a cursor never resumes in another pool that got
//!   the same name. Replaced atomically (written to `C.tmp`, then renamed over it).
//! - `C.lock`: held with an exclusive `flock` by the one user of the cursor; a second one is `Busy`.
//!   The kernel drops the lock when its holder dies, even by SIGKILL.
//!
//! Invariants: the committed seq never decreases through [`NamedCursor::commit`]; nothing here
//! writes to the pool file; a commit is a rename, so a reader of `C.json` sees the old or the new
//! position, never a torn one. Commits are not fsynced: a process crash loses nothing committed, a
//! machine crash may go back to an older commit (more repeats, never a skip).

use super::pool::{Pool, PoolInfo};
use super::tail::TailStart;
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
use crate::sys::fs as sysfs;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The directory of a pool's cursors: `NAME.cursors` beside `NAME.plasmite`.
pub fn cursor_dir(pool_path: &Path) -> PathBuf {
    let base = match pool_path.extension() {
        Some(e) if e == super::poolref::POOL_EXTENSION => pool_path.with_extension(""),
        _ => pool_path.to_path_buf(),
    };
    let mut s = base.into_os_string();
    s.push(".cursors");
    PathBuf::from(s)
}

/// Checks a cursor name: 1 to `CURSOR_NAME_BYTES_MAX` letters, digits, `.`, `_`, `-`, starting
/// with a letter or digit (a name is a file name in the cursor directory).
pub fn check_cursor_name(n: &str) -> Result<()> {
    let ok_len = !n.is_empty() && n.len() <= limits::CURSOR_NAME_BYTES_MAX;
    let ok_first = n.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    let ok_chars = n
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok_len && ok_first && ok_chars {
        return Ok(());
    }
    Err(
        Error::usage(format!("invalid cursor name {n:?}")).with_hint(format!(
            "names are 1 to {} characters of letters, digits, '.', '_' and '-', starting with a letter or digit",
            limits::CURSOR_NAME_BYTES_MAX
        )),
    )
}

/// A cursor held by this process (released on drop).
#[derive(Debug)]
pub struct NamedCursor {
    dir: PathBuf,
    name: String,
    created_ns: u64,
    /// The last seq written to `C.json`; `None` until the first commit of a new cursor.
    committed: Option<u64>,
    _lock: File,
}

impl NamedCursor {
    /// Takes the cursor `name` of `pool` (creating its directory if needed): `Busy` when another
    /// user holds it; `Usage` when its file belongs to an earlier pool of the same name.
    pub fn acquire(pool: &Pool, name: &str) -> Result<NamedCursor> {
        check_cursor_name(name)?;
        let created_ns = pool.info()?.created_ns;
        let dir = cursor_dir(pool.path());
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io("cannot create the cursor directory", e).with_path(&dir))?;
        let lock = lock(&dir, name)?;
        let committed = match read_state(&dir.join(format!("{name}.json")))? {
            None => None,
            Some((seq, t)) if t == created_ns => Some(seq),
            Some(_) => {
                return Err(Error::usage(format!(
                    "cursor {name:?} was made for an earlier pool of this name"
                ))
                .with_path(dir.join(format!("{name}.json")))
                .with_hint(format!("remove it with 'pool cursor-delete POOL {name}'")))
            }
        };
        Ok(NamedCursor {
            dir,
            name: name.to_owned(),
            created_ns,
            committed,
            _lock: lock,
        })
    }

    /// The cursor's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The last committed seq (0: nothing handed on yet); `None` for a cursor never committed.
    pub fn committed(&self) -> Option<u64> {
        self.committed
    }

    /// Where a tail on this cursor starts: after the committed seq, or at `first` for a new cursor.
    pub fn start(&self, first: TailStart) -> TailStart {
        match self.committed {
            Some(s) => TailStart::Since(s + 1),
            None => first,
        }
    }

    /// Records that every message up to `seq` was handed on. A seq below the committed one is
    /// ignored (the position never goes back); the same one is not written again.
    pub fn commit(&mut self, seq: u64) -> Result<()> {
        if self.committed.is_some_and(|c| seq <= c) {
            return Ok(());
        }
        let text = format!(
            "{{\"seq\":{seq},\"pool_created_ns\":{}}}\n",
            self.created_ns
        );
        let tmp = self.dir.join(format!("{}.tmp", self.name));
        let dst = self.dir.join(format!("{}.json", self.name));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            std::fs::rename(&tmp, &dst)
        };
        write().map_err(|e| Error::io("cannot commit the cursor", e).with_path(&dst))?;
        self.committed = Some(seq);
        Ok(())
    }
}

/// Opens and locks `C.lock`, making sure the file locked is still the one at that path (a
/// concurrent delete unlinks it while holding the lock).
fn lock(dir: &Path, name: &str) -> Result<File> {
    let path = dir.join(format!("{name}.lock"));
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("cannot open the cursor lock", e).with_path(&path))?;
    let busy = |why: &str| {
        Error::new(ErrorKind::Busy, format!("cursor {name:?} {why}"))
            .with_path(&path)
            .with_hint("one consumer per cursor name: use another name, or stop the other one")
    };
    if !sysfs::try_lock_exclusive(&f)
        .map_err(|e| Error::io("cannot lock the cursor", e).with_path(&path))?
    {
        return Err(busy("is in use by another consumer"));
    }
    let held = f.metadata().map(|m| (m.dev(), m.ino()));
    let at_path = std::fs::metadata(&path).map(|m| (m.dev(), m.ino()));
    match (held, at_path) {
        (Ok(a), Ok(b)) if a == b => Ok(f),
        _ => Err(busy("was being deleted; retry")),
    }
}

/// `(seq, pool_created_ns)` of a cursor file; `None` if there is none.
fn read_state(path: &Path) -> Result<Option<(u64, u64)>> {
    let mut text = String::new();
    match File::open(path) {
        Ok(f) => f
            .take(limits::CURSOR_FILE_BYTES_MAX)
            .read_to_string(&mut text)
            .map_err(|e| Error::io("cannot read the cursor", e).with_path(path))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read the cursor", e).with_path(path)),
    };
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| bad(path))?;
    match (v["seq"].as_u64(), v["pool_created_ns"].as_u64()) {
        (Some(s), Some(t)) => Ok(Some((s, t))),
        _ => Err(bad(path)),
    }
}

fn bad(path: &Path) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        "the cursor file is not a plasmite cursor",
    )
    .with_path(path)
    .with_hint("remove it with 'pool cursor-delete POOL NAME'")
}

/// A cursor's position and lag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorLag {
    pub name: String,
    /// The last committed seq (0: nothing handed on yet).
    pub seq: u64,
    /// Messages held after it (newest − seq, counting evicted ones).
    pub behind: u64,
    /// Whether writers evicted messages after it that it has not read.
    pub lapped: bool,
    /// How many such messages were evicted (0 unless lapped).
    pub lost: u64,
    /// Whether a consumer holds it now.
    pub in_use: bool,
}

impl CursorLag {
    /// `{name, seq, behind, lapped, lost, in_use}` (the CLI and the HTTP pool object).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "seq": self.seq,
            "behind": self.behind,
            "lapped": self.lapped,
            "lost": self.lost,
            "in_use": self.in_use,
        })
    }
}

/// The cursors of a pool, by name, with their lag against `info`; none when it has no directory.
pub fn cursor_lags(pool_path: &Path, info: &PoolInfo) -> Result<Vec<CursorLag>> {
    let dir = cursor_dir(pool_path);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("cannot list the cursors", e).with_path(&dir)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list the cursors", e).with_path(&dir))?;
        let file = entry.file_name();
        let Some(name) = file.to_str().and_then(|f| f.strip_suffix(".json")) else {
            continue;
        };
        if check_cursor_name(name).is_err() {
            continue;
        }
        let Some((seq, t)) = read_state(&entry.path())? else {
            continue; // deleted meanwhile
        };
        if t != info.created_ns {
            continue; // an earlier pool's: not this pool's consumer
        }
        out.push(lag_of(name, seq, info, in_use(&dir, name)));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The lag of a cursor at `seq` (pure: from the pool's bounds and next seq).
pub(crate) fn lag_of(name: &str, seq: u64, info: &PoolInfo, in_use: bool) -> CursorLag {
    let (oldest, newest) = info.bounds.unwrap_or((seq + 1, seq));
    let lost = oldest.saturating_sub(seq + 1);
    CursorLag {
        name: name.to_owned(),
        seq,
        behind: newest.saturating_sub(seq),
        lapped: lost > 0,
        lost,
        in_use,
    }
}

fn in_use(dir: &Path, name: &str) -> bool {
    match File::open(dir.join(format!("{name}.lock"))) {
        Ok(f) => match sysfs::try_lock_exclusive(&f) {
            Ok(true) => {
                let _ = sysfs::unlock(&f);
                false
            }
            Ok(false) => true,
            Err(_) => false,
        },
        Err(_) => false,
    }
}

/// Removes the cursor `name` of the pool at `pool_path`: `NotFound` if it has none of that name,
/// `Busy` while a consumer holds it.
pub fn delete_cursor(pool_path: &Path, name: &str) -> Result<()> {
    check_cursor_name(name)?;
    let dir = cursor_dir(pool_path);
    let json = dir.join(format!("{name}.json"));
    if !json.exists() && !dir.join(format!("{name}.lock")).exists() {
        return Err(
            Error::new(ErrorKind::NotFound, format!("no cursor {name:?}"))
                .with_path(&dir)
                .with_hint("list them with 'pool cursors POOL'"),
        );
    }
    let _held = lock(&dir, name)?;
    for f in [json, dir.join(format!("{name}.tmp"))] {
        match std::fs::remove_file(&f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot delete the cursor", e).with_path(&f)),
        }
    }
    let lock_path = dir.join(format!("{name}.lock"));
    std::fs::remove_file(&lock_path)
        .map_err(|e| Error::io("cannot delete the cursor", e).with_path(&lock_path))
}

/// Removes every cursor of a deleted pool (its whole cursor directory).
pub(crate) fn delete_all(pool_path: &Path) -> Result<()> {
    let dir = cursor_dir(pool_path);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot delete the pool's cursors", e).with_path(&dir)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_dir_sits_beside_the_pool_file() {
        assert_eq!(
            cursor_dir(Path::new("/d/chat.plasmite")),
            Path::new("/d/chat.cursors")
        );
        assert_eq!(cursor_dir(Path::new("/d/raw")), Path::new("/d/raw.cursors"));
    }

    #[test]
    fn a_cursor_file_longer_than_its_limit_is_corrupt() {
        let dir = std::env::temp_dir().join(format!("plasmite-cursor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.json");
        let fits = "{\"seq\":1,\"pool_created_ns\":2}".to_string();
        let pad = limits::CURSOR_FILE_BYTES_MAX as usize - fits.len();
        std::fs::write(&f, format!("{fits}{}", " ".repeat(pad))).unwrap();
        assert_eq!(read_state(&f).ok().flatten(), Some((1, 2)));
        // One byte over: the text is cut and does not parse.
        let over = format!("{}{fits}", " ".repeat(pad + 1));
        std::fs::write(&f, over).unwrap();
        assert_eq!(
            read_state(&f).map_err(|e| e.kind()).err(),
            Some(ErrorKind::Corrupt)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lag_counts_what_is_behind_and_what_was_evicted() {
        let mut info = PoolInfo {
            path: PathBuf::new(),
            file_size: 0,
            index_offset: 0,
            index_slots: 0,
            ring_offset: 0,
            ring_size: 0,
            bounds: Some((10, 20)),
            message_count: 11,
            used_bytes: 0,
            used_percent: 0.0,
            oldest_time_ns: None,
            newest_time_ns: None,
            created_ns: 0,
            writable: true,
        };
        let l = lag_of("c", 9, &info, false);
        assert_eq!((l.behind, l.lapped, l.lost), (11, false, 0));
        let l = lag_of("c", 4, &info, false);
        assert_eq!((l.behind, l.lapped, l.lost), (16, true, 5));
        assert_eq!(lag_of("c", 20, &info, false).behind, 0);
        info.bounds = None;
        assert_eq!(lag_of("c", 0, &info, false).behind, 0);
    }

    #[test]
    fn cursor_names_stop_at_the_limit() {
        let max = "a".repeat(limits::CURSOR_NAME_BYTES_MAX);
        assert!(check_cursor_name(&max).is_ok());
        let over = format!("{max}a");
        assert_eq!(
            check_cursor_name(&over).map_err(|e| e.kind()),
            Err(ErrorKind::Usage)
        );
        for bad in ["", ".hidden", "a/b", "a b"] {
            assert!(check_cursor_name(bad).is_err(), "{bad:?}");
        }
    }
}
