//! An open pool: append (single and batched), get, info, validation, and the entry point for tails.
//!
//! Lock order: the handle's in-process mutex, then the file lock. No code path holds either lock while
//! waiting on the futex, and readers never take either.

use super::message::{JsonText, Message};
use super::tail::{Tail, TailOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::pool::reader::{self, FrameBuf, Got, ReadError, View};
use crate::pool::region::StateError;
use crate::pool::validate::{self, Report};
use crate::pool::writer::{self, AppendError, Committed, Item, Writer};
use crate::pool::PoolFile;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How far an append is made durable before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// In the page cache: survives the writing process crashing, not the machine losing power.
    #[default]
    Fast,
    /// Synced to disk (msync of the written bytes, then of the header): survives an OS crash or a
    /// power cut (spec/format.md, Durability).
    Flush,
}

impl Durability {
    /// Parses `fast` or `flush`.
    pub fn parse(s: &str) -> Result<Durability> {
        match s {
            "fast" => Ok(Durability::Fast),
            "flush" => Ok(Durability::Flush),
            _ => {
                Err(Error::usage(format!("unknown durability {s:?}"))
                    .with_hint("use fast or flush"))
            }
        }
    }
    /// The name used on the command line and over HTTP.
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Fast => "fast",
            Durability::Flush => "flush",
        }
    }
}

/// What a batch append committed for one record.
pub type Receipt = Committed;

/// Metadata and bounds of a pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolInfo {
    /// Canonical path of the pool file.
    pub path: std::path::PathBuf,
    pub file_size: u64,
    pub index_offset: u64,
    pub index_slots: u64,
    pub ring_offset: u64,
    pub ring_size: u64,
    /// Oldest and newest seq; `None` when the pool is empty.
    pub bounds: Option<(u64, u64)>,
    pub message_count: u64,
    /// Ring bytes holding messages (and wrap padding).
    pub used_bytes: u64,
    pub used_percent: f64,
    pub oldest_time_ns: Option<u64>,
    pub newest_time_ns: Option<u64>,
    pub created_ns: u64,
    /// Whether this process may append.
    pub writable: bool,
}

impl PoolInfo {
    /// The JSON object used by `pool info` and the HTTP `pool` object (plus `name` added by callers).
    pub fn to_json(&self) -> serde_json::Value {
        let t = |ns: Option<u64>| ns.map(crate::time::format_rfc3339_nanos);
        let bounds = match self.bounds {
            Some((o, n)) => serde_json::json!({"oldest": o, "newest": n}),
            None => serde_json::json!({}),
        };
        serde_json::json!({
            "path": self.path.display().to_string(),
            "file_size": self.file_size,
            "index_offset": self.index_offset,
            "index_slots": self.index_slots,
            "ring_offset": self.ring_offset,
            "ring_size": self.ring_size,
            "bounds": bounds,
            "message_count": self.message_count,
            "used_bytes": self.used_bytes,
            "used_percent": (self.used_percent * 100.0).round() / 100.0,
            "oldest_time": t(self.oldest_time_ns),
            "newest_time": t(self.newest_time_ns),
            "created_time": crate::time::format_rfc3339_nanos(self.created_ns),
            "writable": self.writable,
        })
    }
}

pub(crate) struct Inner {
    pub(crate) file: PoolFile,
    writer: Mutex<WriterSlot>,
}

/// The handle's writer buffers, whether it attached as a writer (on its first append), and when it
/// last checked that its file still has a link.
#[derive(Default)]
struct WriterSlot {
    writer: Writer,
    attached: bool,
    link_checked: Option<Instant>,
}

/// Whether an append must check the file's link count first: always for `flush`, else when
/// [`crate::limits::WRITER_LINK_CHECK_INTERVAL`] has passed since the last check.
fn link_check_due(last: Option<Instant>, now: Instant, flush: bool) -> bool {
    flush
        || last.is_none_or(|t| {
            now.saturating_duration_since(t) >= crate::limits::WRITER_LINK_CHECK_INTERVAL
        })
}

/// A handle on an open pool. Cheap to clone; `Send + Sync`; share it between threads freely.
#[derive(Clone)]
pub struct Pool {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("path", &self.path()).finish()
    }
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Pool {
    pub(crate) fn from_file(file: PoolFile) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                file,
                writer: Mutex::new(WriterSlot::default()),
            }),
        }
    }

    /// Opens the pool file at `path` directly (read-write when permitted, else read-only).
    pub fn open_path(path: &Path) -> Result<Pool> {
        PoolFile::open(path).map(Pool::from_file)
    }

    /// Opens the pool file at `path` read-only.
    pub fn open_path_read_only(path: &Path) -> Result<Pool> {
        PoolFile::open_read_only(path).map(Pool::from_file)
    }

    /// The pool file's path.
    pub fn path(&self) -> &Path {
        self.inner.file.path()
    }

    /// Whether this handle may append.
    pub fn writable(&self) -> bool {
        self.inner.file.region().writable()
    }

    /// Appends one JSON value; returns the committed message.
    pub fn append<T: AsRef<str>>(
        &self,
        data: &serde_json::Value,
        tags: &[T],
        durability: Durability,
    ) -> Result<Message> {
        self.append_text(&JsonText::from_value(data), tags, durability)
    }

    /// Appends JSON text (validated; stored in compact form); returns the committed message.
    pub fn append_json<T: AsRef<str>>(
        &self,
        json: &[u8],
        tags: &[T],
        durability: Durability,
    ) -> Result<Message> {
        self.append_text(&JsonText::parse(json)?, tags, durability)
    }

    /// Appends already validated text; returns the committed message.
    pub fn append_text<T: AsRef<str>>(
        &self,
        data: &JsonText,
        tags: &[T],
        durability: Durability,
    ) -> Result<Message> {
        let item = Item {
            data: data.as_str().as_bytes(),
            tags,
        };
        let mut out = Vec::with_capacity(1);
        self.commit(&[item], durability, &mut out)?;
        let c = out
            .first()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "append returned nothing"))?;
        Ok(Message {
            seq: c.seq,
            time_ns: c.time_ns,
            tags: tags.iter().map(|t| t.as_ref().to_owned()).collect(),
            data: data.as_str().to_owned(),
        })
    }

    /// Appends many records, each with its own tags, in as few lock holds as the batch limits allow.
    /// Returns one receipt per record, in order. On error, every record before the failing one is
    /// committed (the error's message names the failing record, counting from 1).
    pub fn append_batch<T: AsRef<str>>(
        &self,
        records: &[(&JsonText, &[T])],
        durability: Durability,
    ) -> Result<Vec<Receipt>> {
        let items = items_of(records);
        let mut out = Vec::with_capacity(items.len());
        self.append_items(&items, durability, &mut out)?;
        Ok(out)
    }

    /// Appends items whose data is compact JSON text produced by this crate. Receipts of committed
    /// records are pushed to `out` as each lock hold commits, so after an error `out` says exactly
    /// which records are in the pool.
    pub(crate) fn append_items<T: AsRef<str>>(
        &self,
        items: &[Item<'_, T>],
        durability: Durability,
        out: &mut Vec<Receipt>,
    ) -> Result<()> {
        let geo = *self.inner.file.region().geometry();
        let bad = items
            .iter()
            .enumerate()
            .find_map(|(i, it)| writer::check_item(&geo, it).err().map(|why| (i, why)));
        let mut rest = &items[..bad.as_ref().map_or(items.len(), |b| b.0)];
        while !rest.is_empty() {
            let n = writer::batch_len(&geo, rest);
            self.commit(&rest[..n], durability, out)?;
            rest = &rest[n..];
        }
        match bad {
            Some((i, why)) => Err(Error::usage(format!("record {}: {why}", i + 1))
                .with_path(self.path())
                .with_hint(
                    "records before it were committed; make it smaller or create a larger pool",
                )),
            None => Ok(()),
        }
    }

    /// Checks one record against the limits without writing (for callers that skip bad records).
    pub(crate) fn check_item<T: AsRef<str>>(&self, item: &Item<'_, T>) -> Result<()> {
        let geo = *self.inner.file.region().geometry();
        writer::check_item(&geo, item)
            .map(|_| ())
            .map_err(Error::usage)
    }

    fn commit<T: AsRef<str>>(
        &self,
        items: &[Item<'_, T>],
        durability: Durability,
        out: &mut Vec<Committed>,
    ) -> Result<()> {
        let region = self.inner.file.region();
        if !region.writable() {
            return Err(Error::new(ErrorKind::Permission, "pool is open read-only")
                .with_path(self.path())
                .with_hint("check the file's permissions"));
        }
        let mut w = self
            .inner
            .writer
            .lock()
            .map_err(|_| Error::new(ErrorKind::Internal, "writer state poisoned"))?;
        if !w.attached {
            // From now until the handle closes, `delete` is refused with Busy.
            self.inner.file.attach()?;
            w.attached = true;
        }
        let lock = self.inner.file.lock()?;
        let flush = durability == Durability::Flush;
        let now = Instant::now();
        if link_check_due(w.link_checked, now, flush) {
            // A file unlinked behind plasmite's back (rm, or replaced by a rename): acknowledge
            // nothing. (The attach above already checked the path; within the interval a `fast`
            // append may still land in a file removed that way.)
            w.link_checked = Some(now);
            if let Err(e) = self.inner.file.check_linked(false) {
                drop(lock);
                return Err(e);
            }
        }
        let r = w.writer.append(region, items, now_unix_ns(), flush, out);
        drop(lock);
        drop(w);
        region.notify();
        r.map_err(|e| self.append_error(e))
    }

    fn append_error(&self, e: AppendError) -> Error {
        match e {
            AppendError::Item { index, why } => Error::usage(why)
                .with_offset(index as u64)
                .with_hint("make the message smaller or create a larger pool with --size"),
            AppendError::State(s) => state_error(s),
            AppendError::ReadOnly => Error::new(ErrorKind::Permission, "pool is open read-only"),
            AppendError::Sync(io) => Error::io("cannot sync the pool to disk", io),
        }
        .with_path(self.path())
    }

    /// The message `seq`; `NotFound` when it was never written or was evicted.
    pub fn get(&self, seq: u64) -> Result<Message> {
        let mut buf = FrameBuf::default();
        match reader::get(self.inner.file.region(), seq, &mut buf) {
            Ok(Got::Found) => Ok(Message::from_frame(&buf)),
            Ok(Got::Missing { oldest, next }) => {
                let hint = if oldest == next {
                    "the pool is empty".to_owned()
                } else {
                    format!("the pool holds seq {oldest} to {}", next - 1)
                };
                Err(
                    Error::new(ErrorKind::NotFound, format!("message {seq} not found"))
                        .with_seq(seq)
                        .with_path(self.path())
                        .with_hint(hint),
                )
            }
            Err(e) => Err(read_error(e).with_path(self.path())),
        }
    }

    /// Metadata and bounds.
    pub fn info(&self) -> Result<PoolInfo> {
        let region = self.inner.file.region();
        let g = *region.geometry();
        let view = View::load(region).map_err(|e| state_error(e).with_path(self.path()))?;
        let st = view.state;
        let count = st.count();
        let mut oldest_time_ns = None;
        if count > 0 {
            let mut buf = FrameBuf::default();
            if let Ok(Got::Found) = reader::get(region, st.oldest_seq, &mut buf) {
                oldest_time_ns = Some(buf.time_ns());
            }
        }
        let used = st.head_pos - st.tail_pos;
        let path = std::fs::canonicalize(self.path()).unwrap_or_else(|_| self.path().to_path_buf());
        Ok(PoolInfo {
            path,
            file_size: g.file_size,
            index_offset: g.index_offset,
            index_slots: g.index_slots,
            ring_offset: g.ring_offset,
            ring_size: g.ring_size,
            bounds: (count > 0).then(|| (st.oldest_seq, st.next_seq - 1)),
            message_count: count,
            used_bytes: used,
            used_percent: used as f64 * 100.0 / g.ring_size as f64,
            oldest_time_ns,
            newest_time_ns: (count > 0).then_some(st.newest_ns),
            created_ns: g.created_ns,
            writable: region.writable(),
        })
    }

    /// Checks the whole pool (header, state, every frame, the index) and reports every issue.
    pub fn validate(&self) -> Report {
        validate::validate(self.inner.file.region())
    }

    /// Starts a tail (a blocking stream of messages in seq order).
    pub fn tail(&self, opts: TailOptions) -> Result<Tail> {
        Tail::new(self.clone(), opts)
    }
}

pub(crate) fn state_error(e: StateError) -> Error {
    match e {
        StateError::Corrupt { offset, why } => {
            Error::corrupt(format!("pool state unreadable: {why}"), offset)
                .with_hint("run 'plasmite doctor' on the pool")
        }
        StateError::Busy => Error::new(
            ErrorKind::Busy,
            "pool state kept changing under heavy writes",
        )
        .with_hint("retry"),
    }
}

pub(crate) fn read_error(e: ReadError) -> Error {
    match e {
        ReadError::Corrupt { seq, offset, why } => {
            Error::corrupt(format!("message {seq}: {why}"), offset)
                .with_seq(seq)
                .with_hint("run 'plasmite doctor' on the pool")
        }
        ReadError::State(s) => state_error(s),
    }
}

/// The writer's items for `(data, tags)` records (both doors' `append_batch` take records this way).
pub(crate) fn items_of<'a, T: AsRef<str>>(records: &[(&'a JsonText, &'a [T])]) -> Vec<Item<'a, T>> {
    records
        .iter()
        .map(|(d, t)| Item {
            data: d.as_str().as_bytes(),
            tags: t,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_append_checks_the_link_once_the_interval_has_passed_and_flush_always() {
        let t0 = Instant::now();
        let i = crate::limits::WRITER_LINK_CHECK_INTERVAL;
        assert!(link_check_due(None, t0, false), "the first append checks");
        assert!(!link_check_due(Some(t0), t0, false));
        let just_before = t0 + i - std::time::Duration::from_nanos(1);
        assert!(!link_check_due(Some(t0), just_before, false));
        assert!(link_check_due(Some(t0), t0 + i, false));
        assert!(
            link_check_due(Some(t0), t0, true),
            "flush checks every time"
        );
    }
}
