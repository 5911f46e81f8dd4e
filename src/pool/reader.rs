//! Lock-free reading: cursors over the ring, copy-then-validate, lap detection, `get` by seq through
//! the index (with a header-walk fallback) and seek by time.
//!
//! Invariant: a frame is returned only after (1) its bytes were copied out, (2) mark, seq, length and
//! checksum verified on the copy, and (3) the state version, re-read after an `Acquire` fence, showed the
//! frame was not evicted during the copy. A reader never blocks a writer and never writes the pool.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::format::{self, FrameHeader, State, FRAME_HEADER_BYTES, MARK_COMMITTED, MARK_WRAP};
use super::region::{Region, StateError};

/// Where a reader is: the seq it expects next and that frame's logical position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub seq: u64,
    pub pos: u64,
}

/// A reader's cached state snapshot; refreshed only when the version moves.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub state: State,
    pub version: u64,
}

impl View {
    /// A fresh snapshot.
    pub fn load(region: &Region) -> Result<View, StateError> {
        let (state, version) = region.state()?;
        Ok(View { state, version })
    }

    /// Re-reads the state if the version moved since this view was taken.
    pub fn refresh(&mut self, region: &Region) -> Result<(), StateError> {
        if region.version_after_copy() != self.version {
            *self = View::load(region)?;
        }
        Ok(())
    }

    /// Cursor at the oldest message.
    pub fn oldest(&self) -> Cursor {
        Cursor {
            seq: self.state.oldest_seq,
            pos: self.state.tail_pos,
        }
    }

    /// Cursor at the live edge (the next message to be written).
    pub fn edge(&self) -> Cursor {
        Cursor {
            seq: self.state.next_seq,
            pos: self.state.head_pos,
        }
    }
}

/// One frame copied out and verified.
#[derive(Debug, Default, Clone)]
pub struct FrameBuf {
    pos: u64,
    seq: u64,
    time_ns: u64,
    tag_count: u16,
    /// The tag section (length byte + UTF-8 per tag).
    tags: Vec<u8>,
    /// The data text, UTF-8 checked once when copied out.
    data: String,
}

impl FrameBuf {
    /// Logical ring position of the frame.
    pub fn pos(&self) -> u64 {
        self.pos
    }
    /// The message's seq.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Commit time, nanoseconds since the Unix epoch.
    pub fn time_ns(&self) -> u64 {
        self.time_ns
    }
    /// The tags, in the order they were given.
    pub fn tags(&self) -> impl Iterator<Item = &str> + '_ {
        let mut rest = &self.tags[..];
        (0..self.tag_count).filter_map(move |_| {
            let (&n, tail) = rest.split_first()?;
            let (t, tail) = tail.split_at_checked(n as usize)?;
            rest = tail;
            std::str::from_utf8(t).ok()
        })
    }
    /// Compact JSON text of the data, exactly as stored.
    pub fn data(&self) -> &str {
        &self.data
    }
}

/// Outcome of one read step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A verified message is in the buffer.
    Frame,
    /// No message after the cursor yet.
    CaughtUp,
    /// Writers overwrote `lost` messages the cursor had not read; it now points at the oldest.
    Lapped { lost: u64 },
}

/// A read failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The frame for `seq` at file offset `offset` does not verify.
    Corrupt {
        seq: u64,
        offset: u64,
        why: &'static str,
    },
    /// The state is unreadable.
    State(StateError),
}

impl From<StateError> for ReadError {
    fn from(e: StateError) -> Self {
        ReadError::State(e)
    }
}

/// Reads the message at `cur` into `buf` and advances, or says why not.
pub fn read_next(
    region: &Region,
    cur: &mut Cursor,
    view: &mut View,
    buf: &mut FrameBuf,
) -> Result<Step, ReadError> {
    let ring = region.geometry().ring_size;
    loop {
        if cur.seq >= view.state.next_seq {
            *view = View::load(region)?;
            if cur.seq >= view.state.next_seq {
                return Ok(Step::CaughtUp);
            }
        }
        if cur.seq < view.state.oldest_seq {
            return Ok(lapped(cur, view));
        }
        let (hdr, room) = header_bytes(region, cur.pos);
        if format::le_u32(&hdr, 0) == Some(MARK_WRAP) && cur.pos < view.state.head_pos {
            if let Some(step) = lap_check(region, cur, view)? {
                return Ok(step);
            }
            cur.pos = format::next_lap(cur.pos, ring);
            continue;
        }
        match copy_frame(region, cur, view, &hdr, room, buf) {
            Ok(_) if let Some(pos) = indexed_at_another_pos(region, view, cur) => {
                // After a power cut the cursor can stand on a whole stale frame of its seq (a batch
                // cut short, left where the committed frames' pages were lost); the index knows the
                // committed one. (Bytes that do not verify are reported as `Corrupt` below instead.)
                cur.pos = pos;
                continue;
            }
            Ok(len) => {
                if let Some(step) = lap_check(region, cur, view)? {
                    return Ok(step);
                }
                cur.seq += 1;
                cur.pos += len;
                return Ok(Step::Frame);
            }
            Err(why) => {
                if let Some(step) = lap_check(region, cur, view)? {
                    return Ok(step);
                }
                let offset = region.file_offset(cur.pos);
                return Err(ReadError::Corrupt {
                    seq: cur.seq,
                    offset,
                    why,
                });
            }
        }
    }
}

fn copy_frame(
    region: &Region,
    cur: &Cursor,
    view: &View,
    hdr: &[u8; FRAME_HEADER_BYTES as usize],
    room: u64,
    buf: &mut FrameBuf,
) -> Result<u64, &'static str> {
    if room < FRAME_HEADER_BYTES {
        return Err("frame header crosses the ring end");
    }
    let h = FrameHeader::decode(hdr).ok_or("short frame header")?;
    if h.mark != MARK_COMMITTED {
        return Err("frame not committed");
    }
    if h.seq != cur.seq {
        return Err("unexpected seq in frame");
    }
    let len = h.frame_len();
    if len > room || cur.pos + len > view.state.head_pos {
        return Err("frame length out of range");
    }
    // Copy the payload into the two buffers (reusing their allocations), then verify the copy.
    let payload_len = h.payload_len as usize;
    let mut data = std::mem::take(&mut buf.data).into_bytes();
    buf.tags
        .resize(payload_len.min(tags_section_max(h.tag_count)), 0);
    region.ring_read(cur.pos + FRAME_HEADER_BYTES, &mut buf.tags);
    let tags_len = tags_len(h.tag_count, &buf.tags).ok_or("bad tag section")?;
    buf.tags.truncate(tags_len);
    data.resize(payload_len - tags_len, 0);
    region.ring_read(cur.pos + FRAME_HEADER_BYTES + tags_len as u64, &mut data);
    let crc = crate::sys::crc32c::extend(format::frame_checksum(hdr, &buf.tags), &data);
    if crc != h.crc {
        return Err("frame checksum mismatch");
    }
    buf.data = String::from_utf8(data).map_err(|_| "data is not UTF-8")?;
    buf.pos = cur.pos;
    buf.seq = h.seq;
    buf.time_ns = h.time_ns;
    buf.tag_count = h.tag_count;
    Ok(len)
}

/// The position the index gives for `cur.seq`, when it is not `cur.pos` and a frame of that seq
/// verifies there. Never the case outside damage (a committed frame's index entry points at it), so
/// the cost in the read loop is one index load and a compare.
fn indexed_at_another_pos(region: &Region, view: &View, cur: &Cursor) -> Option<u64> {
    let (s, p) = region.index_get(cur.seq);
    if s != cur.seq || p == cur.pos {
        return None;
    }
    let c = locate_indexed(region, view, cur.seq)?;
    verifies(region, view, &c).then_some(c.pos)
}

/// Upper bound of a tag section's size: a length byte and up to 255 bytes per tag.
fn tags_section_max(count: u16) -> usize {
    count as usize * 256
}

/// Length of the tag section at the start of `payload`, checking each tag is UTF-8.
fn tags_len(count: u16, payload: &[u8]) -> Option<usize> {
    let mut off = 0usize;
    for _ in 0..count {
        let n = *payload.get(off)? as usize;
        let t = payload.get(off + 1..off + 1 + n)?;
        std::str::from_utf8(t).ok()?;
        off += 1 + n;
    }
    Some(off)
}

/// After a copy: did writers evict the cursor's frame meanwhile?
fn lap_check(
    region: &Region,
    cur: &mut Cursor,
    view: &mut View,
) -> Result<Option<Step>, ReadError> {
    view.refresh(region)?;
    if cur.seq < view.state.oldest_seq {
        return Ok(Some(lapped(cur, view)));
    }
    Ok(None)
}

fn lapped(cur: &mut Cursor, view: &View) -> Step {
    let lost = view.state.oldest_seq - cur.seq;
    *cur = view.oldest();
    Step::Lapped { lost }
}

/// Moves a cursor stuck on a corrupt frame to the next message it can find (the first the index
/// locates and verifies, or the first frame that verifies past the damage), or to the live edge.
/// Returns how many messages were skipped: none when the damage was a wrap marker (the cursor then
/// keeps its seq and moves to the next lap, where that message starts).
pub fn skip_corrupt(region: &Region, cur: &mut Cursor, view: &mut View) -> Result<u64, ReadError> {
    *view = View::load(region)?;
    let from = cur.seq;
    if cur.seq >= view.state.oldest_seq {
        if let Some(c) = past_damaged_wrap(region, view, cur) {
            // Only a wrap marker was damaged: the message itself is intact at the next lap.
            *cur = c;
            return Ok(0);
        }
    }
    let (start, scan_from) = if cur.seq < view.state.oldest_seq {
        (view.state.oldest_seq, view.state.tail_pos)
    } else {
        (cur.seq + 1, cur.pos + format::FRAME_ALIGN)
    };
    *cur = resync(region, view, scan_from, start).unwrap_or_else(|| view.edge());
    Ok(cur.seq.saturating_sub(from))
}

/// The first message at or after seq `start` that can be found past damage at `pos`: the frame the
/// scan finds, or an earlier message the index locates and verifies (whichever has the lower seq).
/// Shared by readers ([`skip_corrupt`]) and by the writer's eviction over a damaged tail.
///
/// At the scanned frame's own seq the index wins too, as it does at every seq of a read
/// ([`read_next`]): see [`indexed_at_another_pos`].
pub fn resync(region: &Region, view: &View, pos: u64, start: u64) -> Option<Cursor> {
    let scanned = scan_resync(region, view, pos, start, view.state.next_seq);
    let Some(found) = scanned else {
        return (start..view.state.next_seq).find_map(|seq| locate_indexed(region, view, seq));
    };
    (start..found.seq)
        .find_map(|seq| locate_indexed(region, view, seq))
        .or_else(|| locate_indexed(region, view, found.seq).filter(|c| verifies(region, view, c)))
        .or(scanned)
}

/// Whether the frame at `cur` is `cur.seq`'s and verifies (header, range and checksum).
fn verifies(region: &Region, view: &View, cur: &Cursor) -> bool {
    let (hdr, room) = header_bytes(region, cur.pos);
    copy_frame(region, cur, view, &hdr, room, &mut FrameBuf::default()).is_ok()
}

/// The frame-header bytes at logical `pos` (zero past the ring end: a header never wraps) and the
/// room left before the ring end.
#[inline]
fn header_bytes(region: &Region, pos: u64) -> ([u8; FRAME_HEADER_BYTES as usize], u64) {
    let room = region.geometry().ring_size - pos % region.geometry().ring_size;
    let mut hdr = [0u8; FRAME_HEADER_BYTES as usize];
    let n = FRAME_HEADER_BYTES.min(room) as usize;
    region.ring_read(pos, hdr.get_mut(..n).unwrap_or(&mut []));
    (hdr, room)
}

/// Scans forward from `pos` (8 bytes at a time, jumping wrap markers) for the first frame that fully
/// verifies as a message in `[min_seq, end_seq)` (`end_seq ≤ next_seq`) and whose successors do not
/// contradict it ([`chain_holds`]). Only used once the index and the walk from the tail have failed
/// (damage, or a power cut that kept pages of different ages): it costs a header read per 8 bytes
/// scanned, plus the chain check (one batch and one frame long at most).
///
/// Only frames written before the state was published carry a seq below `next_seq`: a frame written
/// later (a newer page kept by a power cut) has a seq at or past it, so the seq range alone excludes
/// it, and a committed frame in range sits at the one logical position of `[tail_pos, head_pos)` that
/// maps to its physical place. Whole, checksummed frames in range that are not the committed ones
/// exist only in wrap gaps (left there by a batch cut short before the batch that replaced it wrapped
/// earlier); the scan jumps gaps at their marker. Residual risk, accepted: with that marker damaged or
/// lost too, a cut frame whose chain meets the next lap's first frame with the next seq, or meets bytes
/// a power cut did not keep, passes the check.
/// ([`read_next`] then still prefers the index's frame of each seq, so a flushed one is not passed over.)
pub fn scan_resync(
    region: &Region,
    view: &View,
    pos: u64,
    min_seq: u64,
    end_seq: u64,
) -> Option<Cursor> {
    // The first frame whose chain holds; but an earlier-seq frame that verifies wins over it: after
    // a power cut a stale wrap mark of an older page can lead a flushed frame's chain onto a lap start
    // holding a later seq, and a flushed message must not be skipped.
    let strict = scan_pass(region, view, pos, min_seq, end_seq, true);
    let below = strict.map_or(end_seq, |c| c.seq);
    scan_pass(region, view, pos, min_seq, below, false).or(strict)
}

fn scan_pass(
    region: &Region,
    view: &View,
    pos: u64,
    min_seq: u64,
    end_seq: u64,
    chained: bool,
) -> Option<Cursor> {
    let ring = region.geometry().ring_size;
    let st = &view.state;
    let mut p = pos.checked_add(format::FRAME_ALIGN - 1)? & !(format::FRAME_ALIGN - 1);
    let mut buf = FrameBuf::default();
    while p < st.head_pos {
        let (hdr, room) = header_bytes(region, p);
        let h = FrameHeader::decode(&hdr)?;
        if h.mark == MARK_WRAP {
            p = format::next_lap(p, ring);
            continue;
        }
        if h.mark == MARK_COMMITTED && h.seq >= min_seq && h.seq < end_seq.min(st.next_seq) {
            let cur = Cursor { seq: h.seq, pos: p };
            if let Ok(len) = copy_frame(region, &cur, view, &hdr, room, &mut buf) {
                if !chained || chain_holds(region, view, cur.seq + 1, p + len) {
                    return Some(cur);
                }
            }
        }
        p += format::FRAME_ALIGN;
    }
    None
}

/// Whether the frames from `(seq, pos)` on are consistent with a committed frame ending at `pos`:
/// they follow one another (seqs without gaps, over wrap markers) up to the head, or for more frames
/// than one batch holds, or until bytes that hold no verified frame of the live range (no committed
/// header, a seq at or past `next_seq`, or a checksum that fails): after a power cut those are pages
/// the disk did not keep, or a header torn at a page boundary, which say nothing against the frame.
/// What contradicts it is a frame of the live seq range that verifies and carries another seq at the
/// start of a lap, or a chain that passes the head or reaches it with the wrong seq. Each step is checked by checksum, so
/// a torn header cannot send the chain onto an unrelated frame.
fn chain_holds(region: &Region, view: &View, mut seq: u64, mut pos: u64) -> bool {
    let ring = region.geometry().ring_size;
    let st = &view.state;
    let mut buf = FrameBuf::default();
    for _ in 0..=crate::limits::BATCH_MESSAGES_MAX {
        if pos >= st.head_pos {
            return pos == st.head_pos && seq == st.next_seq;
        }
        let (hdr, room) = header_bytes(region, pos);
        let Some(h) = FrameHeader::decode(&hdr) else {
            return true;
        };
        if h.mark == MARK_WRAP {
            pos = format::next_lap(pos, ring);
            continue;
        }
        if h.mark != MARK_COMMITTED || h.seq < st.oldest_seq || h.seq >= st.next_seq {
            return true;
        }
        let here = Cursor { seq: h.seq, pos };
        let Ok(len) = copy_frame(region, &here, view, &hdr, room, &mut buf) else {
            return true;
        };
        if h.seq != seq {
            // Only at a lap start is another seq evidence against the frame: that is where the chain
            // of a cut frame left in a wrap gap meets the frame committed after the gap. Mid-lap, a
            // power cut can leave whole frames of a batch a crash cut short (their replacements were
            // never made durable): stale bytes, which say nothing against the frame.
            return !pos.is_multiple_of(ring);
        }
        seq += 1;
        pos += len;
    }
    true
}

/// When what sits at `cur` is not `cur.seq`'s frame, it may be a wrap marker that was damaged (by a
/// bad disk, or by a power cut that kept a newer ring page than header page): the frame is then at the
/// start of the next lap. Returns that cursor if a committed header carrying `cur.seq` is there and
/// the next lap starts before the head. Callers still verify the frame before returning it. Outside
/// damage this never fires on a stale frame: with the next lap started before the head, its first
/// frame is the one committed after the (possible) gap at `cur`.
fn past_damaged_wrap(region: &Region, view: &View, cur: &Cursor) -> Option<Cursor> {
    let ring = region.geometry().ring_size;
    if cur.pos.is_multiple_of(ring) {
        return None;
    }
    let lap = format::next_lap(cur.pos, ring);
    if lap >= view.state.head_pos {
        return None;
    }
    let h = read_header(region, lap)?;
    (h.mark == MARK_COMMITTED && h.seq == cur.seq).then_some(Cursor {
        seq: cur.seq,
        pos: lap,
    })
}

/// The cursor of `seq` if its index entry points at a frame header carrying that seq.
fn locate_indexed(region: &Region, view: &View, seq: u64) -> Option<Cursor> {
    let (s, pos) = region.index_get(seq);
    let st = &view.state;
    if s != seq || pos < st.tail_pos || pos >= st.head_pos || pos % format::FRAME_ALIGN != 0 {
        return None;
    }
    let h = read_header(region, pos)?;
    (h.mark == MARK_COMMITTED && h.seq == seq).then_some(Cursor { seq, pos })
}

fn read_header(region: &Region, pos: u64) -> Option<FrameHeader> {
    let mut hdr = [0u8; FRAME_HEADER_BYTES as usize];
    if !region.ring_read(pos, &mut hdr) {
        return None;
    }
    FrameHeader::decode(&hdr)
}

/// Finds the cursor of `seq` (which must be in `[oldest, next)` of `view`): the index first, then a
/// walk over frame headers from the tail. `None` when it cannot be found (evicted meanwhile or corrupt).
pub fn locate(region: &Region, view: &View, seq: u64) -> Option<Cursor> {
    if let Some(c) = locate_indexed(region, view, seq) {
        return Some(c);
    }
    let ring = region.geometry().ring_size;
    let head = view.state.head_pos;
    let mut cur = view.oldest();
    // The frame the walk last stepped over on the strength of its header alone (no checksum): after
    // a power cut that header may be torn at a page boundary, its length wrong, so a failure after it
    // is resynced from just past that frame's start rather than from where the walk landed.
    let mut stepped: Option<u64> = None;
    loop {
        if cur.pos < head {
            let room = ring - cur.pos % ring;
            let mut mark = [0u8; 4];
            region.ring_read(cur.pos, &mut mark);
            if u32::from_le_bytes(mark) == MARK_WRAP {
                cur.pos = format::next_lap(cur.pos, ring);
                continue;
            }
            let h = read_header(region, cur.pos)
                .filter(|h| h.mark == MARK_COMMITTED && h.seq == cur.seq && h.frame_len() <= room);
            if let Some(h) = h {
                if cur.seq == seq {
                    return Some(cur);
                }
                stepped = Some(cur.pos);
                cur.seq += 1;
                cur.pos += h.frame_len();
                continue;
            }
            if let Some(c) = past_damaged_wrap(region, view, &cur) {
                cur = c;
                continue;
            }
        }
        // A damaged frame on the way (or, after a power cut, a page older or newer than the state):
        // resume at the next frame that verifies with a seq up to `seq` (and `seq`'s own frame being
        // damaged at a place the walk trusts, there is nothing to find).
        let (from, min_seq) = match stepped.take() {
            Some(p) => (p + format::FRAME_ALIGN, cur.seq),
            None if cur.pos < head => (cur.pos + format::FRAME_ALIGN, cur.seq + 1),
            None => return None,
        };
        if min_seq > seq {
            return None;
        }
        cur = scan_resync(region, view, from, min_seq, seq + 1)?;
    }
}

/// [`locate`], retried with a fresh view while writers keep moving the state (a walk from the tail
/// can race eviction around it). `None` when `seq` left the pool; a failure on a stable state is
/// corruption.
pub fn locate_stable(
    region: &Region,
    view: &mut View,
    seq: u64,
) -> Result<Option<Cursor>, ReadError> {
    loop {
        if seq < view.state.oldest_seq || seq >= view.state.next_seq {
            return Ok(None);
        }
        if let Some(c) = locate(region, view, seq) {
            return Ok(Some(c));
        }
        let before = view.version;
        *view = View::load(region)?;
        if view.version == before {
            let offset = region.file_offset(view.state.tail_pos);
            let why = "message not reachable from the tail";
            return Err(ReadError::Corrupt { seq, offset, why });
        }
    }
}

/// Result of [`get`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    /// The message is in the buffer.
    Found,
    /// `seq` is not in the pool (never written, or evicted); `oldest`/`next` are the bounds seen.
    Missing { oldest: u64, next: u64 },
}

/// Reads the message `seq` into `buf`.
pub fn get(region: &Region, seq: u64, buf: &mut FrameBuf) -> Result<Got, ReadError> {
    let mut view = View::load(region)?;
    let missing = |v: &View| Got::Missing {
        oldest: v.state.oldest_seq,
        next: v.state.next_seq,
    };
    if seq < view.state.oldest_seq || seq >= view.state.next_seq {
        return Ok(missing(&view));
    }
    let Some(mut cur) = locate_stable(region, &mut view, seq)? else {
        return Ok(missing(&view));
    };
    match read_next(region, &mut cur, &mut view, buf)? {
        Step::Frame => Ok(Got::Found),
        _ => Ok(missing(&view)),
    }
}

/// The first seq whose commit time is `>= time_ns` (binary search; times never decrease with seq),
/// or the live edge when every message is older.
pub fn seek_time(region: &Region, time_ns: u64) -> Result<Cursor, ReadError> {
    let view = View::load(region)?;
    let (mut lo, mut hi) = (view.state.oldest_seq, view.state.next_seq);
    let mut found = view.edge();
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let Some(c) = locate(region, &view, mid) else {
            return Ok(view.oldest());
        };
        let t = read_header(region, c.pos).map(|h| h.time_ns).unwrap_or(0);
        if t >= time_ns {
            found = c;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(found)
}
