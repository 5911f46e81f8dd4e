//! A pool's bytes in memory: the header words, the index and the ring, over one shared `Mapping`.
//!
//! Owns the two concurrency protocols of the format:
//! - the **state seqlock**: writers fill the spare state slot, then bump the version (one store), so a
//!   crash at any instant leaves a complete state; readers retry until they see one version twice;
//! - **copy, then check**: ring bytes are copied out before any field is trusted, and the state version
//!   is re-read after the copy (`Acquire` fence) so a reader learns if a writer evicted what it copied.
//!
//! A region is backed by a pool file or, for tests and fuzzing, by anonymous memory; an optional
//! "durable image" records only what was explicitly synced, to model a power cut.

use super::format::{self, Geometry, State};
use crate::sys::{futex, Mapping};
use std::io;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Why a state snapshot could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// The live slot fails its checksum or invariants; `offset` is the slot's byte offset.
    Corrupt { offset: u64, why: &'static str },
    /// Writers kept the version moving for too long.
    Busy,
}

/// The shared bytes of one pool.
#[derive(Debug)]
pub struct Region {
    map: Mapping,
    geo: Geometry,
    durable: Option<Mutex<Vec<u8>>>,
    on_sync: Option<SyncObserver>,
}

/// Test hook: a function called after every [`Region::sync`] (durability models capture the durable
/// image at each sync point of the append protocol). Unset, it costs one branch per sync.
#[doc(hidden)]
pub struct SyncObserver(pub Box<dyn Fn(&Region) + Send + Sync>);

impl std::fmt::Debug for SyncObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncObserver")
    }
}

impl Region {
    /// Wraps a mapping whose header was already decoded to `geo`.
    pub fn new(map: Mapping, geo: Geometry) -> Region {
        Region {
            map,
            geo,
            durable: None,
            on_sync: None,
        }
    }

    /// A fresh in-memory pool of `file_size` bytes (header and empty state written). With
    /// `durable_image`, syncs copy into a separate image that [`Region::durable_image`] returns.
    pub fn in_memory(file_size: u64, durable_image: bool) -> io::Result<Region> {
        let geo = Geometry::for_size(file_size, 1);
        let map = Mapping::anonymous(file_size as usize)?;
        let durable = durable_image.then(|| Mutex::new(vec![0u8; file_size as usize]));
        let r = Region {
            map,
            geo,
            durable,
            on_sync: None,
        };
        r.init();
        r.sync(0, format::HEADER_BYTES as usize)?;
        Ok(r)
    }

    /// Rebuilds an in-memory region from an image (e.g. the durable image after a simulated crash).
    pub fn from_image(image: &[u8], durable_image: bool) -> Result<Region, format::HeaderError> {
        let geo = Geometry::decode(image)?;
        if (image.len() as u64) < geo.file_size {
            return Err(format::HeaderError::Short);
        }
        let map = Mapping::anonymous(image.len()).map_err(|_| format::HeaderError::Short)?;
        map.write_at(0, image);
        let durable = durable_image.then(|| Mutex::new(image.to_vec()));
        Ok(Region {
            map,
            geo,
            durable,
            on_sync: None,
        })
    }

    /// Writes magic, geometry and the empty state into a zeroed region.
    pub fn init(&self) {
        self.map.write_at(0, &self.geo.encode());
        self.publish(&State::EMPTY);
    }

    /// Installs (or removes) the test hook called after every sync.
    #[doc(hidden)]
    pub fn set_sync_observer(&mut self, observer: Option<SyncObserver>) {
        self.on_sync = observer;
    }

    /// The immutable geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }

    /// Whether this process may write.
    pub fn writable(&self) -> bool {
        self.map.writable()
    }

    /// A copy of the whole region (tests, fuzzing, corruption campaigns).
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.map.len()];
        self.map.read_into(0, &mut v);
        v
    }

    /// The image holding only synced bytes, if this region keeps one.
    pub fn durable_image(&self) -> Option<Vec<u8>> {
        self.durable
            .as_ref()
            .map(|m| m.lock().map(|g| g.clone()).unwrap_or_default())
    }

    fn word64(&self, off: usize) -> &AtomicU64 {
        static DUMMY: AtomicU64 = AtomicU64::new(0);
        self.map.atomic_u64(off).unwrap_or(&DUMMY)
    }

    fn word32(&self, off: usize) -> &AtomicU32 {
        static DUMMY: AtomicU32 = AtomicU32::new(0);
        self.map.atomic_u32(off).unwrap_or(&DUMMY)
    }

    /// The current state version (cheap change detector).
    pub fn version(&self) -> u64 {
        self.word64(format::OFF_STATE_VERSION)
            .load(Ordering::Acquire)
    }

    /// The state version, read after an `Acquire` fence so that every ring byte copied before this call
    /// was copied before the version was read (the reader's half of the eviction protocol).
    pub fn version_after_copy(&self) -> u64 {
        fence(Ordering::Acquire);
        self.word64(format::OFF_STATE_VERSION)
            .load(Ordering::Relaxed)
    }

    /// A consistent snapshot of the state (seqlock read), with its version.
    pub fn state(&self) -> Result<(State, u64), StateError> {
        let ver = self.word64(format::OFF_STATE_VERSION);
        let mut spins = 0u32;
        let mut yields = 0u32;
        loop {
            let v1 = ver.load(Ordering::Acquire);
            let slot = format::OFF_STATE_SLOTS[(v1 & 1) as usize];
            let mut w = [0u64; 6];
            for (i, x) in w.iter_mut().enumerate() {
                *x = self.word64(slot + 8 * i).load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if ver.load(Ordering::Relaxed) == v1 {
                let s = State::from_words([w[0], w[1], w[2], w[3], w[4]]);
                if s.checksum() != w[5] {
                    let why = "state checksum mismatch";
                    return Err(StateError::Corrupt {
                        offset: slot as u64,
                        why,
                    });
                }
                if let Err(why) = s.check(&self.geo) {
                    return Err(StateError::Corrupt {
                        offset: slot as u64,
                        why,
                    });
                }
                return Ok((s, v1));
            }
            spins += 1;
            if spins > crate::limits::STATE_READ_SPINS_MAX {
                yields += 1;
                if yields > crate::limits::STATE_READ_YIELDS_MAX {
                    return Err(StateError::Busy);
                }
                std::thread::yield_now();
            }
        }
    }

    /// Publishes a new state: fill the spare slot, then bump the version. Writers only (lock held).
    pub fn publish(&self, s: &State) {
        let ver = self.word64(format::OFF_STATE_VERSION);
        // The version is a word of the file, so any value can be there (a damaged or hostile image):
        // it wraps, which keeps the slot parity and the readers' equality check right.
        let next = ver.load(Ordering::Relaxed).wrapping_add(1);
        let slot = format::OFF_STATE_SLOTS[(next & 1) as usize];
        // Pairs with the reader's Acquire fence: a reader that sees any byte written after this fence
        // also sees the version bump that preceded it.
        fence(Ordering::Release);
        for (i, w) in s.words().into_iter().chain([s.checksum()]).enumerate() {
            self.word64(slot + 8 * i).store(w, Ordering::Relaxed);
        }
        ver.store(next, Ordering::Release);
        fence(Ordering::Release);
    }

    /// Copies ring bytes at logical position `pos` (no wrap-around inside one read).
    pub fn ring_read(&self, pos: u64, buf: &mut [u8]) -> bool {
        let phys = pos % self.geo.ring_size;
        if phys + buf.len() as u64 > self.geo.ring_size {
            return false;
        }
        self.map
            .read_into((self.geo.ring_offset + phys) as usize, buf)
    }

    /// Writes ring bytes at logical position `pos`. Writers only.
    pub fn ring_write(&self, pos: u64, bytes: &[u8]) -> bool {
        let phys = pos % self.geo.ring_size;
        if phys + bytes.len() as u64 > self.geo.ring_size {
            return false;
        }
        self.map
            .write_at((self.geo.ring_offset + phys) as usize, bytes)
    }

    /// Publishes a frame's mark word last, after its body. Writers only.
    pub fn ring_store_mark(&self, pos: u64, mark: u32) {
        let off = self.geo.ring_offset + pos % self.geo.ring_size;
        self.word32(off as usize).store(mark, Ordering::Release);
    }

    /// File offset of logical ring position `pos`.
    pub fn file_offset(&self, pos: u64) -> u64 {
        self.geo.ring_offset + pos % self.geo.ring_size
    }

    fn index_off(&self, seq: u64) -> usize {
        let slot = seq & (self.geo.index_slots - 1);
        (self.geo.index_offset + slot * format::INDEX_ENTRY_BYTES) as usize
    }

    /// The index entry in `seq`'s slot: `(seq it describes, logical position)`, unverified.
    pub fn index_get(&self, seq: u64) -> (u64, u64) {
        let off = self.index_off(seq);
        let s = self.word64(off).load(Ordering::Acquire);
        let p = self.word64(off + 8).load(Ordering::Relaxed);
        (s, p)
    }

    /// Records that `seq` is at `pos`. Writers only. The seq is stored first: a writer killed between
    /// the two stores leaves `(new seq, stale pos)`, which readers reject by verification and `doctor`
    /// recognises as an interrupted append's leftover (new seq at or past `next_seq`). The other order
    /// could leave a live message's seq next to another frame's position.
    pub fn index_set(&self, seq: u64, pos: u64) {
        let off = self.index_off(seq);
        self.word64(off).store(seq, Ordering::Relaxed);
        self.word64(off + 8).store(pos, Ordering::Release);
    }

    /// File offset of the index word of `seq`.
    pub fn index_file_offset(&self, seq: u64) -> u64 {
        self.index_off(seq) as u64
    }

    /// Makes `offset..offset+len` durable: msync for files, a copy into the durable image in memory.
    pub fn sync(&self, offset: usize, len: usize) -> io::Result<()> {
        let r = self.sync_bytes(offset, len);
        if let Some(o) = &self.on_sync {
            (o.0)(self);
        }
        r
    }

    fn sync_bytes(&self, offset: usize, len: usize) -> io::Result<()> {
        match &self.durable {
            Some(img) => {
                let mut g = img
                    .lock()
                    .map_err(|_| io::Error::other("durable image poisoned"))?;
                let end = offset.saturating_add(len).min(g.len());
                if let Some(dst) = g.get_mut(offset.min(end)..end) {
                    self.map.read_into(offset, dst);
                }
                Ok(())
            }
            None => self.map.sync_range(offset, len),
        }
    }

    /// Makes the whole region durable (every dirty page of the file).
    pub fn sync_all(&self) -> io::Result<()> {
        self.sync(0, self.map.len())
    }

    /// Syncs a ring range given in logical positions (may span the ring end).
    pub fn sync_ring(&self, pos: u64, len: u64) -> io::Result<()> {
        let ring = self.geo.ring_size;
        let phys = pos % ring;
        let first = len.min(ring - phys);
        self.sync((self.geo.ring_offset + phys) as usize, first as usize)?;
        if first < len {
            self.sync(self.geo.ring_offset as usize, (len - first) as usize)?;
        }
        Ok(())
    }

    /// Tells sleeping readers that the state changed. Call after releasing the writer lock.
    pub fn notify(&self) {
        self.word32(format::OFF_NOTIFY)
            .fetch_add(1, Ordering::SeqCst);
        if self.word32(format::OFF_WAITERS).load(Ordering::SeqCst) > 0 {
            let _ = futex::wake_all(&self.map, format::OFF_NOTIFY);
        }
    }

    /// Wakes every sleeping reader without a state change (cancellation).
    pub fn wake_all(&self) {
        let _ = futex::wake_all(&self.map, format::OFF_NOTIFY);
    }

    /// The notify word's current value; pass it to [`Region::wait`].
    pub fn notify_value(&self) -> u32 {
        self.word32(format::OFF_NOTIFY).load(Ordering::SeqCst)
    }

    /// Sleeps until the notify word moves past `seen` or `timeout` elapses (spurious returns allowed).
    /// `check` runs after registering as a waiter and can cancel the sleep by returning true.
    pub fn wait(&self, seen: u32, timeout: Duration, check: impl FnOnce() -> bool) {
        if !self.map.writable() {
            // A read-only mapping cannot register as a waiter: poll instead.
            if !check() {
                let t = timeout.min(crate::limits::WAIT_POLL_READ_ONLY);
                let _ = futex::wait(&self.map, format::OFF_NOTIFY, seen, t);
            }
            return;
        }
        let waiters = self.word32(format::OFF_WAITERS);
        waiters.fetch_add(1, Ordering::SeqCst);
        if !check() {
            let t = timeout.min(crate::limits::WAIT_SLICE);
            let _ = futex::wait(&self.map, format::OFF_NOTIFY, seen, t);
        }
        waiters.fetch_sub(1, Ordering::SeqCst);
    }
}
