//! The on-disk format of a pool file, as pure functions over byte slices: the header page (geometry and
//! the double-buffered state block), the frame codec and the ring placement arithmetic.
//!
//! `spec/format.md` draws every byte described here. All integers are little-endian and fixed width.
//! Decoders never panic and never trust a length before checking it against the buffer they were given.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::sys::crc32c::crc32c;

/// First 8 bytes of every pool file.
pub const MAGIC: [u8; 8] = *b"PLASMITE";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Size of the header page; the index starts right after it.
pub const HEADER_BYTES: u64 = 4096;

// Header offsets (chained: each field starts where the previous one ends).
pub const OFF_MAGIC: usize = 0;
pub const OFF_VERSION: usize = OFF_MAGIC + 8;
pub const OFF_HEADER_BYTES: usize = OFF_VERSION + 4;
pub const OFF_FILE_SIZE: usize = OFF_HEADER_BYTES + 4;
pub const OFF_INDEX_OFFSET: usize = OFF_FILE_SIZE + 8;
pub const OFF_INDEX_SLOTS: usize = OFF_INDEX_OFFSET + 8;
pub const OFF_RING_OFFSET: usize = OFF_INDEX_SLOTS + 8;
pub const OFF_RING_SIZE: usize = OFF_RING_OFFSET + 8;
pub const OFF_CREATED_NS: usize = OFF_RING_SIZE + 8;
pub const OFF_GEOMETRY_CRC: usize = OFF_CREATED_NS + 8;
/// Bytes covered by the geometry checksum.
pub const GEOMETRY_BYTES: usize = OFF_GEOMETRY_CRC;
/// The futex word writers bump after each commit (own cache line).
pub const OFF_NOTIFY: usize = 128;
/// Count of readers sleeping on the notify word (own cache line).
pub const OFF_WAITERS: usize = 192;
/// State version: its low bit selects the live state slot.
pub const OFF_STATE_VERSION: usize = 256;
/// The two state slots.
pub const OFF_STATE_SLOTS: [usize; 2] = [320, 384];
/// The byte whose open-file-description lock marks a writer attached to the pool: writers hold a
/// shared lock on it from their first append until they close; `delete` needs an exclusive one. The
/// lock is advisory: the byte itself is part of the immutable magic and is never written for it.
pub const ATTACH_LOCK_BYTE: u64 = 0;
/// Size of one state slot: six u64 words.
pub const STATE_SLOT_BYTES: usize = 48;

/// Bytes of a frame header.
pub const FRAME_HEADER_BYTES: u64 = 32;
/// Frames start on 8-byte boundaries.
pub const FRAME_ALIGN: u64 = 8;
/// Frame mark of a committed message ("PLF1").
pub const MARK_COMMITTED: u32 = u32::from_le_bytes(*b"PLF1");
/// Frame mark of a wrap marker: the rest of the ring up to its end is unused ("PLWR").
pub const MARK_WRAP: u32 = u32::from_le_bytes(*b"PLWR");
/// Bytes of one index entry: the seq it describes, then that frame's logical position.
pub const INDEX_ENTRY_BYTES: u64 = 16;
/// Target ring bytes per index slot when sizing the index.
pub const INDEX_RING_BYTES_PER_SLOT: u64 = 256;
/// Highest `next_seq` a state may hold: at ten million appends a second, 14 000 years away. Keeps
/// seq arithmetic (`next_seq + batch`) far from overflow in a state that passed its checks.
pub const SEQ_MAX: u64 = 1 << 62;
/// Highest `head_pos` a state may hold (a century of writing at a GB/s); keeps position arithmetic
/// (`head + frame`, next lap) far from overflow.
pub const POS_MAX: u64 = 1 << 62;
/// Fewest index slots.
pub const INDEX_SLOTS_MIN: u64 = 64;
/// Most index slots.
pub const INDEX_SLOTS_MAX: u64 = 1 << 26;

/// The immutable layout of a pool file, fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub file_size: u64,
    pub index_offset: u64,
    pub index_slots: u64,
    pub ring_offset: u64,
    pub ring_size: u64,
    pub created_ns: u64,
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Not a pool file at all.
    BadMagic,
    /// A pool of another format version.
    Version { found: u32 },
    /// Geometry fields fail their checksum or do not add up; `offset` is the first suspect byte.
    Geometry { offset: usize, why: &'static str },
    /// The buffer is shorter than a header.
    Short,
}

impl Geometry {
    /// The layout for a new pool file of `file_size` bytes (already range-checked by the caller).
    pub fn for_size(file_size: u64, created_ns: u64) -> Geometry {
        let body = file_size.saturating_sub(HEADER_BYTES);
        let want = (body / INDEX_RING_BYTES_PER_SLOT).clamp(INDEX_SLOTS_MIN, INDEX_SLOTS_MAX);
        let index_slots = want.next_power_of_two().min(INDEX_SLOTS_MAX);
        let index_offset = HEADER_BYTES;
        let ring_offset = index_offset + index_slots * INDEX_ENTRY_BYTES;
        Geometry {
            file_size,
            index_offset,
            index_slots,
            ring_offset,
            ring_size: (file_size - ring_offset) & !(FRAME_ALIGN - 1),
            created_ns,
        }
    }

    /// The first `GEOMETRY_BYTES + 4` bytes of the header: magic, version, geometry and its checksum.
    pub fn encode(&self) -> [u8; GEOMETRY_BYTES + 4] {
        let mut b = [0u8; GEOMETRY_BYTES + 4];
        let fields: [(usize, &[u8]); 9] = [
            (OFF_MAGIC, &MAGIC),
            (OFF_VERSION, &FORMAT_VERSION.to_le_bytes()),
            (OFF_HEADER_BYTES, &(HEADER_BYTES as u32).to_le_bytes()),
            (OFF_FILE_SIZE, &self.file_size.to_le_bytes()),
            (OFF_INDEX_OFFSET, &self.index_offset.to_le_bytes()),
            (OFF_INDEX_SLOTS, &self.index_slots.to_le_bytes()),
            (OFF_RING_OFFSET, &self.ring_offset.to_le_bytes()),
            (OFF_RING_SIZE, &self.ring_size.to_le_bytes()),
            (OFF_CREATED_NS, &self.created_ns.to_le_bytes()),
        ];
        for (off, bytes) in fields {
            if let Some(dst) = b.get_mut(off..off + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        }
        let crc = crc32c(b.get(..GEOMETRY_BYTES).unwrap_or(&[]));
        if let Some(dst) = b.get_mut(OFF_GEOMETRY_CRC..OFF_GEOMETRY_CRC + 4) {
            dst.copy_from_slice(&crc.to_le_bytes());
        }
        b
    }

    /// Decodes and checks the geometry from the start of a header.
    pub fn decode(b: &[u8]) -> Result<Geometry, HeaderError> {
        if b.len() < GEOMETRY_BYTES + 4 {
            return Err(HeaderError::Short);
        }
        if b.get(..8) != Some(&MAGIC[..]) {
            return Err(HeaderError::BadMagic);
        }
        let version = le_u32(b, OFF_VERSION).ok_or(HeaderError::Short)?;
        if version != FORMAT_VERSION {
            return Err(HeaderError::Version { found: version });
        }
        let stored = le_u32(b, OFF_GEOMETRY_CRC).ok_or(HeaderError::Short)?;
        if crc32c(b.get(..GEOMETRY_BYTES).unwrap_or(&[])) != stored {
            return Err(HeaderError::Geometry {
                offset: OFF_HEADER_BYTES,
                why: "header checksum mismatch",
            });
        }
        if le_u32(b, OFF_HEADER_BYTES) != Some(HEADER_BYTES as u32) {
            return Err(HeaderError::Geometry {
                offset: OFF_HEADER_BYTES,
                why: "header size",
            });
        }
        let g = Geometry {
            file_size: le_u64(b, OFF_FILE_SIZE).ok_or(HeaderError::Short)?,
            index_offset: le_u64(b, OFF_INDEX_OFFSET).ok_or(HeaderError::Short)?,
            index_slots: le_u64(b, OFF_INDEX_SLOTS).ok_or(HeaderError::Short)?,
            ring_offset: le_u64(b, OFF_RING_OFFSET).ok_or(HeaderError::Short)?,
            ring_size: le_u64(b, OFF_RING_SIZE).ok_or(HeaderError::Short)?,
            created_ns: le_u64(b, OFF_CREATED_NS).ok_or(HeaderError::Short)?,
        };
        g.check()?;
        Ok(g)
    }

    /// Checks that the fields add up (so no later arithmetic can overflow or leave the file).
    fn check(&self) -> Result<(), HeaderError> {
        let bad = |offset, why| Err(HeaderError::Geometry { offset, why });
        if self.index_offset != HEADER_BYTES {
            return bad(OFF_INDEX_OFFSET, "index offset");
        }
        if !self.index_slots.is_power_of_two() || self.index_slots > INDEX_SLOTS_MAX {
            return bad(OFF_INDEX_SLOTS, "index slots");
        }
        if self.ring_offset != self.index_offset + self.index_slots * INDEX_ENTRY_BYTES {
            return bad(OFF_RING_OFFSET, "ring offset");
        }
        let ring_end = self.ring_offset.checked_add(self.ring_size);
        if self.ring_size < 1024
            || !self.ring_size.is_multiple_of(FRAME_ALIGN)
            || ring_end.is_none_or(|e| e > self.file_size)
        {
            return bad(OFF_RING_SIZE, "ring size");
        }
        Ok(())
    }

    /// Largest frame a single message may occupy: half the ring.
    pub fn frame_bytes_max(&self) -> u64 {
        (self.ring_size / 2) & !(FRAME_ALIGN - 1)
    }
}

/// The mutable state of a pool, published as one unit through the double-buffered state slots.
///
/// Logical positions grow without bound; the physical ring offset is `pos % ring_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Seq of the oldest message still in the ring (== `next_seq` when empty).
    pub oldest_seq: u64,
    /// Seq the next appended message will get.
    pub next_seq: u64,
    /// Logical position of the oldest frame (or wrap marker).
    pub tail_pos: u64,
    /// Logical position where the next frame goes.
    pub head_pos: u64,
    /// Timestamp of the newest message (0 before the first).
    pub newest_ns: u64,
}

impl State {
    /// The state of a fresh pool.
    pub const EMPTY: State = State {
        oldest_seq: 1,
        next_seq: 1,
        tail_pos: 0,
        head_pos: 0,
        newest_ns: 0,
    };

    /// The five words in slot order.
    pub fn words(&self) -> [u64; 5] {
        [
            self.oldest_seq,
            self.next_seq,
            self.tail_pos,
            self.head_pos,
            self.newest_ns,
        ]
    }

    /// Rebuilds a state from its five words.
    pub fn from_words(w: [u64; 5]) -> State {
        let [oldest_seq, next_seq, tail_pos, head_pos, newest_ns] = w;
        State {
            oldest_seq,
            next_seq,
            tail_pos,
            head_pos,
            newest_ns,
        }
    }

    /// Checksum stored in the sixth word of a slot.
    pub fn checksum(&self) -> u64 {
        let mut b = [0u8; 40];
        for (chunk, w) in b.chunks_exact_mut(8).zip(self.words()) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        let c = crc32c(&b);
        u64::from(c) | (u64::from(!c) << 32)
    }

    /// Number of messages in the pool.
    pub fn count(&self) -> u64 {
        self.next_seq.saturating_sub(self.oldest_seq)
    }

    /// Checks the invariants against the geometry.
    pub fn check(&self, g: &Geometry) -> Result<(), &'static str> {
        if self.oldest_seq == 0 || self.oldest_seq > self.next_seq {
            return Err("oldest seq above next seq");
        }
        if self.next_seq > SEQ_MAX || self.head_pos > POS_MAX {
            return Err("seq or ring position out of range");
        }
        if self.tail_pos > self.head_pos || self.head_pos - self.tail_pos > g.ring_size {
            return Err("ring positions out of range");
        }
        if !self.tail_pos.is_multiple_of(FRAME_ALIGN) || !self.head_pos.is_multiple_of(FRAME_ALIGN)
        {
            return Err("ring positions misaligned");
        }
        if self.count() > 0 && self.tail_pos == self.head_pos {
            return Err("messages counted in an empty ring");
        }
        // Every message takes a frame of at least a header: a larger count would send readers and
        // writers walking seqs that cannot exist.
        if self.count() > (self.head_pos - self.tail_pos) / FRAME_HEADER_BYTES {
            return Err("more messages than the ring can hold");
        }
        Ok(())
    }
}

/// Fixed fields at the start of every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub mark: u32,
    pub crc: u32,
    pub seq: u64,
    pub time_ns: u64,
    pub payload_len: u32,
    pub tag_count: u16,
    pub flags: u16,
}

impl FrameHeader {
    /// Decodes the 32 header bytes (no validation beyond length).
    pub fn decode(b: &[u8]) -> Option<FrameHeader> {
        Some(FrameHeader {
            mark: le_u32(b, 0)?,
            crc: le_u32(b, 4)?,
            seq: le_u64(b, 8)?,
            time_ns: le_u64(b, 16)?,
            payload_len: le_u32(b, 24)?,
            tag_count: le_u16(b, 28)?,
            flags: le_u16(b, 30)?,
        })
    }

    /// Total bytes the frame occupies in the ring, padding included.
    pub fn frame_len(&self) -> u64 {
        frame_len(u64::from(self.payload_len))
    }
}

/// Ring bytes of a frame whose payload is `payload_len` bytes.
pub fn frame_len(payload_len: u64) -> u64 {
    (FRAME_HEADER_BYTES + payload_len + FRAME_ALIGN - 1) & !(FRAME_ALIGN - 1)
}

/// Bytes of the payload holding `tags` and `data`.
pub fn payload_len<T: AsRef<str>>(tags: &[T], data: &[u8]) -> usize {
    tags.iter().map(|t| 1 + t.as_ref().len()).sum::<usize>() + data.len()
}

/// Appends a complete frame (header with `MARK_COMMITTED`, payload, zero padding) to `out`.
/// The caller has checked tag count, tag lengths (1..=255 bytes) and sizes.
pub fn encode_frame<T: AsRef<str>>(
    seq: u64,
    time_ns: u64,
    tags: &[T],
    data: &[u8],
    out: &mut Vec<u8>,
) {
    let start = out.len();
    let plen = payload_len(tags, data);
    out.extend_from_slice(&MARK_COMMITTED.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&time_ns.to_le_bytes());
    out.extend_from_slice(&(plen as u32).to_le_bytes());
    out.extend_from_slice(&(tags.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    for t in tags {
        let t = t.as_ref();
        out.push(t.len() as u8);
        out.extend_from_slice(t.as_bytes());
    }
    out.extend_from_slice(data);
    let crc = out.get(start + 8..).map(crc32c).unwrap_or(0);
    if let Some(dst) = out.get_mut(start + 4..start + 8) {
        dst.copy_from_slice(&crc.to_le_bytes());
    }
    let padded = start + frame_len(plen as u64) as usize;
    out.resize(padded, 0);
}

/// Encodes the tag section (`len byte + UTF-8` per tag) into `out` (cleared first).
pub fn encode_tags<T: AsRef<str>>(tags: &[T], out: &mut Vec<u8>) {
    out.clear();
    for t in tags {
        let t = t.as_ref();
        out.push(t.len() as u8);
        out.extend_from_slice(t.as_bytes());
    }
}

/// The 32-byte header (mark `MARK_COMMITTED`, checksum filled in) of a frame whose payload is
/// `tags_section ++ data`. Lets a writer copy header and payload into the ring without assembling the
/// frame in a buffer first; [`encode_frame`] produces the same bytes.
pub fn frame_header(
    seq: u64,
    time_ns: u64,
    tag_count: u16,
    tags_section: &[u8],
    data: &[u8],
) -> [u8; 32] {
    let mut h = [0u8; 32];
    let plen = (tags_section.len() + data.len()) as u32;
    let fields: [(usize, &[u8]); 6] = [
        (0, &MARK_COMMITTED.to_le_bytes()),
        (8, &seq.to_le_bytes()),
        (16, &time_ns.to_le_bytes()),
        (24, &plen.to_le_bytes()),
        (28, &tag_count.to_le_bytes()),
        (30, &0u16.to_le_bytes()),
    ];
    for (off, b) in fields {
        if let Some(dst) = h.get_mut(off..off + b.len()) {
            dst.copy_from_slice(b);
        }
    }
    let crc = crate::sys::crc32c::extend(crc32c(h.get(8..).unwrap_or(&[])), tags_section);
    let crc = crate::sys::crc32c::extend(crc, data);
    if let Some(dst) = h.get_mut(4..8) {
        dst.copy_from_slice(&crc.to_le_bytes());
    }
    h
}

/// Checksum a reader recomputes: over header bytes 8..32 and the payload.
pub fn frame_checksum(header: &[u8], payload: &[u8]) -> u32 {
    let h = header.get(8..32).unwrap_or(&[]);
    crate::sys::crc32c::extend(crc32c(h), payload)
}

/// Why a frame payload did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    Tags,
    Utf8,
}

/// Splits a verified payload into its tags and the data JSON text.
pub fn decode_payload(tag_count: u16, payload: &[u8]) -> Result<(Vec<&str>, &str), PayloadError> {
    let mut rest = payload;
    let mut tags = Vec::with_capacity(tag_count as usize);
    for _ in 0..tag_count {
        let (&n, tail) = rest.split_first().ok_or(PayloadError::Tags)?;
        let (t, tail) = tail
            .split_at_checked(n as usize)
            .ok_or(PayloadError::Tags)?;
        tags.push(std::str::from_utf8(t).map_err(|_| PayloadError::Tags)?);
        rest = tail;
    }
    let data = std::str::from_utf8(rest).map_err(|_| PayloadError::Utf8)?;
    Ok((tags, data))
}

/// Where a batch of frames goes: `frames[i]` is the logical position of frame `i`, `wraps` the
/// positions where a wrap marker must be written, `new_head` the head after the batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placement {
    pub frames: Vec<u64>,
    pub wraps: Vec<u64>,
    pub new_head: u64,
}

/// Places frames of the given lengths after `head` in a ring of `ring_size` bytes. A frame never
/// straddles the end of the ring: when it would, the rest of the ring becomes a wrap and the frame
/// starts at the next lap. Lengths are multiples of 8 and at most `ring_size`.
pub fn place(head: u64, ring_size: u64, lens: impl IntoIterator<Item = u64>, out: &mut Placement) {
    out.frames.clear();
    out.wraps.clear();
    let mut pos = head;
    for len in lens {
        let phys = pos % ring_size;
        if phys + len > ring_size {
            out.wraps.push(pos);
            pos += ring_size - phys;
        }
        out.frames.push(pos);
        pos += len;
    }
    out.new_head = pos;
}

/// Logical position of the start of the lap after `pos`.
pub fn next_lap(pos: u64, ring_size: u64) -> u64 {
    pos - pos % ring_size + ring_size
}

fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes(s.try_into().ok()?))
}

pub(crate) fn le_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

pub(crate) fn le_u64(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn geometry_round_trips_and_fits_the_file() {
        for size in [64 * 1024, 1 << 20, 64 << 20, (1u64 << 20) + 12345] {
            let g = Geometry::for_size(size, 7);
            assert_eq!(Geometry::decode(&g.encode()).unwrap(), g);
            assert!(g.ring_offset + g.ring_size <= size);
            assert!(g.index_slots.is_power_of_two());
        }
    }

    #[test]
    fn every_single_bit_flip_in_the_geometry_is_refused() {
        let g = Geometry::for_size(1 << 20, 99).encode();
        for byte in 0..g.len() {
            for bit in 0..8 {
                let mut b = g;
                b[byte] ^= 1 << bit;
                assert!(Geometry::decode(&b).is_err(), "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn a_header_size_other_than_4096_is_refused_even_with_a_valid_checksum() {
        let mut b = Geometry::for_size(1 << 20, 0).encode();
        b[OFF_HEADER_BYTES + 1] = 0x11;
        let crc = crc32c(&b[..GEOMETRY_BYTES]);
        b[OFF_GEOMETRY_CRC..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            Geometry::decode(&b),
            Err(HeaderError::Geometry {
                offset: OFF_HEADER_BYTES,
                why: "header size"
            })
        );
    }

    #[test]
    fn other_versions_are_named() {
        let mut b = Geometry::for_size(1 << 20, 0).encode();
        b[OFF_VERSION] = 2;
        assert_eq!(Geometry::decode(&b), Err(HeaderError::Version { found: 2 }));
        assert_eq!(Geometry::decode(&b[..10]), Err(HeaderError::Short));
    }

    #[test]
    fn frame_encodes_and_decodes_with_tags() {
        let mut out = vec![];
        encode_frame(5, 123, &["a", "bé"], br#"{"x":1}"#, &mut out);
        assert_eq!(out.len() % 8, 0);
        let h = FrameHeader::decode(&out).unwrap();
        assert_eq!(
            (h.mark, h.seq, h.time_ns, h.tag_count),
            (MARK_COMMITTED, 5, 123, 2)
        );
        let payload = &out[32..32 + h.payload_len as usize];
        assert_eq!(frame_checksum(&out, payload), h.crc);
        let (tags, data) = decode_payload(h.tag_count, payload).unwrap();
        assert_eq!(tags, vec!["a", "bé"]);
        assert_eq!(data, r#"{"x":1}"#);
        assert_eq!(h.frame_len(), out.len() as u64);
    }

    #[test]
    fn direct_header_matches_the_assembled_frame() {
        let mut framed = vec![];
        encode_frame(9, 77, &["x", "yz"], b"[1,2]", &mut framed);
        let mut tags = vec![];
        encode_tags(&["x", "yz"], &mut tags);
        let h = frame_header(9, 77, 2, &tags, b"[1,2]");
        assert_eq!(&framed[..32], &h[..]);
        assert_eq!(&framed[32..32 + tags.len()], &tags[..]);
    }

    #[test]
    fn payload_decoder_refuses_truncated_tags() {
        assert_eq!(decode_payload(1, &[5, b'a']), Err(PayloadError::Tags));
        assert_eq!(decode_payload(2, &[0]), Err(PayloadError::Tags));
        assert_eq!(decode_payload(0, &[0xff]), Err(PayloadError::Utf8));
    }

    #[test]
    fn placement_wraps_instead_of_straddling() {
        let mut p = Placement::default();
        place(96, 128, [16, 24, 8], &mut p);
        assert_eq!(p.frames, vec![96, 112 + 16, 152]);
        assert_eq!(p.wraps, vec![112]);
        assert_eq!(p.new_head, 160);
        place(120, 128, [8], &mut p);
        assert_eq!((p.frames.clone(), p.wraps.is_empty()), (vec![120], true));
        assert_eq!(next_lap(130, 128), 256);
    }

    #[test]
    fn state_invariants_catch_bad_positions() {
        let g = Geometry::for_size(1 << 20, 0);
        assert!(State::EMPTY.check(&g).is_ok());
        let mut s = State::EMPTY;
        s.head_pos = g.ring_size + 8;
        assert!(s.check(&g).is_err());
        s = State::EMPTY;
        s.oldest_seq = 5;
        assert!(s.check(&g).is_err());
        assert_ne!(State::EMPTY.checksum(), 0);
    }

    #[test]
    fn a_state_claiming_more_messages_than_frames_fit_is_refused() {
        let g = Geometry::for_size(1 << 20, 0);
        let s = State {
            oldest_seq: 1,
            next_seq: 4,
            tail_pos: 0,
            head_pos: 3 * FRAME_HEADER_BYTES,
            newest_ns: 0,
        };
        assert!(s.check(&g).is_ok());
        let s = State {
            next_seq: 27_000_000,
            ..s
        };
        assert_eq!(s.check(&g), Err("more messages than the ring can hold"));
    }

    #[test]
    fn seqs_and_positions_stay_far_from_overflow() {
        let g = Geometry::for_size(1 << 20, 0);
        let at = |next_seq, head_pos| State {
            oldest_seq: next_seq,
            next_seq,
            tail_pos: head_pos,
            head_pos,
            newest_ns: 0,
        };
        assert!(at(SEQ_MAX, POS_MAX).check(&g).is_ok());
        assert!(at(SEQ_MAX + 1, 0).check(&g).is_err());
        assert!(at(1, POS_MAX + 8).check(&g).is_err());
        assert!(at(u64::MAX, 0).check(&g).is_err());
    }
}
