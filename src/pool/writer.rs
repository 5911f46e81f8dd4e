//! The append path: check items against the limits, make room by evicting the oldest frames, write
//! frames and index entries, publish the new state.
//!
//! The caller holds the pool's writer lock for the whole of [`Writer::append`]; this module never
//! takes or waits on locks. Publish order (see `spec/format.md`): eviction state → frame bodies →
//! frame marks → index → new state. With `flush`, each step that later steps depend on is synced
//! first, so a power cut never leaves durable state pointing at non-durable bytes.

use super::format::{self, Placement, State, FRAME_HEADER_BYTES, MARK_COMMITTED, MARK_WRAP};
use super::reader;
use super::region::{Region, StateError};
use crate::limits;

/// One message to append: compact JSON text of `data` (already validated) and its tags.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a, T: AsRef<str>> {
    pub data: &'a [u8],
    pub tags: &'a [T],
}

/// What was committed for one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub seq: u64,
    pub time_ns: u64,
}

/// Why an append failed. Nothing of the failing call was published.
#[derive(Debug)]
pub enum AppendError {
    /// Item `index` of the call breaks a limit.
    Item { index: usize, why: String },
    /// The state is unreadable.
    State(StateError),
    /// The mapping is read-only.
    ReadOnly,
    /// A sync failed after the bytes were written (they are in the page cache; durability unknown).
    Sync(std::io::Error),
}

/// Reusable buffers of one writer.
#[derive(Debug, Default)]
pub struct Writer {
    frame: Vec<u8>,
    lens: Vec<u64>,
    placement: Placement,
}

/// Checks one item against the per-message limits and the pool's frame size.
pub fn check_item<T: AsRef<str>>(
    geo: &format::Geometry,
    item: &Item<'_, T>,
) -> Result<u64, String> {
    if item.tags.len() > limits::TAGS_PER_MESSAGE_MAX {
        return Err(format!(
            "{} tags on one message (at most {})",
            item.tags.len(),
            limits::TAGS_PER_MESSAGE_MAX
        ));
    }
    for t in item.tags {
        let t = t.as_ref();
        if t.is_empty() || t.len() > limits::TAG_BYTES_MAX {
            return Err(format!(
                "tag of {} bytes (tags are 1 to {} bytes)",
                t.len(),
                limits::TAG_BYTES_MAX
            ));
        }
    }
    if item.data.len() > limits::MESSAGE_DATA_BYTES_MAX {
        return Err(format!(
            "message data of {} bytes (at most {})",
            item.data.len(),
            limits::MESSAGE_DATA_BYTES_MAX
        ));
    }
    let plen = item
        .tags
        .iter()
        .map(|t| 1 + t.as_ref().len())
        .sum::<usize>()
        + item.data.len();
    let len = format::frame_len(plen as u64);
    if len > geo.frame_bytes_max() {
        return Err(format!(
            "message needs {len} bytes in the ring; this pool takes at most {} per message",
            geo.frame_bytes_max()
        ));
    }
    Ok(len)
}

/// How many of `items` (from the front) go in one lock hold: bounded by count and bytes. Always ≥ 1
/// when `items` is not empty (a single item was checked to fit in half the ring).
pub fn batch_len<T: AsRef<str>>(geo: &format::Geometry, items: &[Item<'_, T>]) -> usize {
    let cap = (limits::BATCH_BYTES_MAX as u64).min(geo.frame_bytes_max());
    let mut bytes = 0u64;
    let mut n = 0;
    for it in items.iter().take(limits::BATCH_MESSAGES_MAX) {
        let plen = it.tags.iter().map(|t| 1 + t.as_ref().len()).sum::<usize>() + it.data.len();
        bytes += format::frame_len(plen as u64);
        if n > 0 && bytes > cap {
            break;
        }
        n += 1;
    }
    n
}

impl Writer {
    /// Appends `items` (at most one [`batch_len`]) in one publish. The caller holds the writer lock.
    pub fn append<T: AsRef<str>>(
        &mut self,
        region: &Region,
        items: &[Item<'_, T>],
        now_ns: u64,
        flush: bool,
        out: &mut Vec<Committed>,
    ) -> Result<(), AppendError> {
        if !region.writable() {
            return Err(AppendError::ReadOnly);
        }
        let geo = *region.geometry();
        self.lens.clear();
        for (index, it) in items.iter().enumerate() {
            let len = check_item(&geo, it).map_err(|why| AppendError::Item { index, why })?;
            self.lens.push(len);
        }
        let (mut st, ver) = region.state().map_err(AppendError::State)?;
        format::place(
            st.head_pos,
            geo.ring_size,
            self.lens.iter().copied(),
            &mut self.placement,
        );
        let new_head = self.placement.new_head;
        if st.next_seq + items.len() as u64 > format::SEQ_MAX || new_head > format::POS_MAX {
            // Centuries of appends away; in practice only a damaged state gets here.
            return Err(AppendError::State(StateError::Corrupt {
                offset: format::OFF_STATE_SLOTS[(ver & 1) as usize] as u64,
                why: "seq or ring position space exhausted",
            }));
        }
        if make_room(region, &mut st, new_head) {
            region.publish(&st);
            if flush {
                region.sync_all().map_err(AppendError::Sync)?;
            }
        }
        let time_ns = now_ns.max(st.newest_ns);
        for &w in &self.placement.wraps {
            region.ring_store_mark(w, MARK_WRAP);
        }
        for (i, (it, &pos)) in items.iter().zip(&self.placement.frames).enumerate() {
            let seq = st.next_seq + i as u64;
            self.frame.clear();
            format::encode_frame(seq, time_ns, it.tags, it.data, &mut self.frame);
            region.ring_write(pos + 4, self.frame.get(4..).unwrap_or(&[]));
            region.ring_store_mark(pos, MARK_COMMITTED);
            region.index_set(seq, pos);
            out.push(Committed { seq, time_ns });
        }
        if flush {
            region.sync_all().map_err(AppendError::Sync)?;
        }
        st.next_seq += items.len() as u64;
        st.head_pos = new_head;
        st.newest_ns = time_ns;
        region.publish(&st);
        if flush {
            region
                .sync(0, format::HEADER_BYTES as usize)
                .map_err(AppendError::Sync)?;
        }
        Ok(())
    }
}

/// Evicts oldest frames until `new_head - tail_pos <= ring_size`. Returns whether anything moved.
/// A frame at the tail that does not verify is skipped by resyncing through the index (or, failing
/// that, by dropping everything up to the head): the space is reclaimed either way.
fn make_room(region: &Region, st: &mut State, new_head: u64) -> bool {
    let ring = region.geometry().ring_size;
    let mut moved = false;
    while new_head - st.tail_pos > ring {
        moved = true;
        if st.tail_pos >= st.head_pos {
            st.tail_pos = st.head_pos;
            st.oldest_seq = st.next_seq;
            break;
        }
        match tail_step(region, st) {
            Some(next) => {
                if next.1 {
                    st.oldest_seq += 1;
                }
                st.tail_pos = next.0;
            }
            None => resync_tail(region, st),
        }
    }
    if moved && st.check(region.geometry()).is_err() {
        // Only a damaged pool gets here (e.g. a stray wrap mark at the tail skipped a lap while the
        // count stayed): never publish a state readers would refuse. Resync, or drop what is left.
        resync_tail(region, st);
        if st.check(region.geometry()).is_err() {
            st.tail_pos = st.head_pos;
            st.oldest_seq = st.next_seq;
        }
    }
    moved
}

/// The position after the item at the tail, and whether it was a message (vs. a wrap marker).
fn tail_step(region: &Region, st: &State) -> Option<(u64, bool)> {
    let ring = region.geometry().ring_size;
    let room = ring - st.tail_pos % ring;
    let mut hdr = [0u8; FRAME_HEADER_BYTES as usize];
    let n = (FRAME_HEADER_BYTES.min(room)) as usize;
    if !region.ring_read(st.tail_pos, hdr.get_mut(..n)?) {
        return None;
    }
    let mark = format::le_u32(&hdr, 0)?;
    if mark == MARK_WRAP {
        return Some((format::next_lap(st.tail_pos, ring), false));
    }
    let h = format::FrameHeader::decode(&hdr)?;
    let len = h.frame_len();
    let ok = mark == MARK_COMMITTED
        && h.seq == st.oldest_seq
        && st.oldest_seq < st.next_seq
        && len <= room
        && st.tail_pos + len <= st.head_pos
        && next_is_plausible(region, st, st.tail_pos + len);
    ok.then_some((st.tail_pos + len, true))
}

/// Whether the tail frame's length, read from its header alone, lands where the next item starts:
/// the head, a wrap marker, or the header of the next seq. A header torn by a power cut (its page
/// boundary between fields) fails this, and the tail is resynced by checksum instead of stepping to
/// a wrong position and publishing it.
fn next_is_plausible(region: &Region, st: &State, next: u64) -> bool {
    if next == st.head_pos {
        return true;
    }
    let mut hdr = [0u8; FRAME_HEADER_BYTES as usize];
    let ring = region.geometry().ring_size;
    let n = FRAME_HEADER_BYTES.min(ring - next % ring) as usize;
    if !region.ring_read(next, hdr.get_mut(..n).unwrap_or(&mut [])) {
        return false;
    }
    match format::FrameHeader::decode(&hdr) {
        Some(h) if h.mark == MARK_WRAP => true,
        Some(h) => h.mark == MARK_COMMITTED && h.seq == st.oldest_seq + 1,
        None => false,
    }
}

/// Moves the tail to the first later message a reader can still find past the damage at the tail
/// (the index, or a scan for a frame that verifies: [`reader::resync`]), or drops everything up to
/// the head when there is none. After a power cut the durable state may be newer than ring pages
/// (the tail frame then holds older or newer bytes) while the flushed messages after it are intact:
/// the same search readers use keeps them.
fn resync_tail(region: &Region, st: &mut State) {
    let view = reader::View {
        state: *st,
        version: 0,
    };
    match reader::resync(
        region,
        &view,
        st.tail_pos + format::FRAME_ALIGN,
        st.oldest_seq + 1,
    ) {
        Some(c) => {
            st.tail_pos = c.pos;
            st.oldest_seq = c.seq;
        }
        None => {
            st.tail_pos = st.head_pos;
            st.oldest_seq = st.next_seq;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn append(r: &Region, w: &mut Writer, data: &str) -> Result<Vec<Committed>, AppendError> {
        let mut out = Vec::new();
        let tags: &[&str] = &[];
        w.append(
            r,
            &[Item {
                data: data.as_bytes(),
                tags,
            }],
            1,
            false,
            &mut out,
        )?;
        Ok(out)
    }

    #[test]
    fn an_append_past_the_last_seq_is_refused_not_wrapped() {
        let r = Region::in_memory(6144, false).unwrap();
        let s = State {
            oldest_seq: format::SEQ_MAX,
            next_seq: format::SEQ_MAX,
            tail_pos: 0,
            head_pos: 0,
            newest_ns: 0,
        };
        r.publish(&s);
        let e = append(&r, &mut Writer::default(), "1").unwrap_err();
        assert!(
            matches!(e, AppendError::State(StateError::Corrupt { .. })),
            "{e:?}"
        );
        assert_eq!(r.state().unwrap().0, s, "nothing published");
    }

    #[test]
    fn eviction_over_a_stray_wrap_mark_never_publishes_a_state_readers_refuse() {
        // A 1 KiB ring full of 32-byte frames (empty data), then a wrap mark where the tail frame
        // starts, as damage would leave it: evicting jumps to the next lap while the count stays.
        let r = Region::in_memory(6144, false).unwrap();
        let mut w = Writer::default();
        for _ in 0..40 {
            append(&r, &mut w, "").unwrap();
        }
        let (st, _) = r.state().unwrap();
        assert_eq!((st.oldest_seq, st.tail_pos, st.head_pos), (9, 256, 1280));
        r.ring_store_mark(st.tail_pos, MARK_WRAP);
        let out = append(&r, &mut w, "1").unwrap();
        let (st, _) = r
            .state()
            .expect("the published state passes the reader's checks");
        assert_eq!(st.next_seq, out[0].seq + 1);
        let mut buf = super::super::reader::FrameBuf::default();
        let got = super::super::reader::get(&r, out[0].seq, &mut buf);
        assert_eq!(got, Ok(super::super::reader::Got::Found));
        assert_eq!(buf.data(), "1");
    }

    use crate::pool::format::Geometry;

    fn items<'a>(data: &'a [u8], n: usize) -> Vec<Item<'a, &'a str>> {
        (0..n).map(|_| Item { data, tags: &[] }).collect()
    }

    #[test]
    fn a_lock_hold_takes_at_most_batch_messages_max() {
        let geo = Geometry::for_size(64 << 20, 0);
        let at = items(b"1", limits::BATCH_MESSAGES_MAX);
        assert_eq!(batch_len(&geo, &at), limits::BATCH_MESSAGES_MAX);
        let past = items(b"1", limits::BATCH_MESSAGES_MAX + 1);
        assert_eq!(batch_len(&geo, &past), limits::BATCH_MESSAGES_MAX);
    }

    #[test]
    fn a_lock_hold_takes_at_most_batch_bytes_max_but_always_one_item() {
        let geo = Geometry::for_size(64 << 20, 0);
        // 1 KiB frames: exactly BATCH_BYTES_MAX bytes fit, one more frame does not.
        let data = vec![b'7'; 1024 - 32];
        let per_hold = limits::BATCH_BYTES_MAX / 1024;
        let many = items(&data, per_hold + 1);
        assert_eq!(batch_len(&geo, &many), per_hold);
        let small = Geometry::for_size(64 * 1024, 0);
        let big = vec![b'1'; (small.frame_bytes_max() - 32) as usize];
        assert_eq!(
            batch_len(&small, &items(&big, 3)),
            1,
            "half-ring frames go one per hold"
        );
    }

    #[test]
    fn append_places_frames_and_publishes_once() {
        let region = Region::in_memory(64 * 1024, false).unwrap();
        let mut w = Writer::default();
        let mut out = Vec::new();
        w.append(&region, &items(b"{\"a\":1}", 3), 42, false, &mut out)
            .unwrap();
        assert_eq!(out.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert!(out.iter().all(|c| c.time_ns == 42));
        let (st, _) = region.state().unwrap();
        assert_eq!((st.oldest_seq, st.next_seq, st.newest_ns), (1, 4, 42));
        // Time never goes backwards, even when the clock does.
        w.append(&region, &items(b"2", 1), 7, false, &mut out)
            .unwrap();
        assert_eq!(out.last().map(|c| c.time_ns), Some(42));
    }
}
