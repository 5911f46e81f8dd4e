//! The frame codec: arbitrary bytes through the decoders, encode → decode round trips, and the reader
//! on a single frame placed in a ring (intact, or with one byte flipped).

use super::Bytes;
use crate::pool::format::{
    self, FrameHeader, State, FRAME_HEADER_BYTES, MARK_COMMITTED, MARK_WRAP,
};
use crate::pool::reader::{self, FrameBuf, Got, ReadError, Step, View};
use crate::pool::Region;

/// Pool size of the region frames are placed in: a 3 KiB ring.
const POOL_BYTES: u64 = 8192;

/// Fuzz target body for the frame decoder.
pub fn frame(data: &[u8]) {
    decode_raw(data);
    let mut b = Bytes::new(data);
    let seq = b.u64() % (format::SEQ_MAX - 1) + 1;
    let time_ns = b.u64();
    let tags = take_tags(&mut b);
    let place = b.u16();
    let flip = (b.u16(), b.u8());
    let body = b.rest();
    // Data need not be UTF-8 for the encoder; the decoder must then refuse it.
    let mut out = Vec::new();
    format::encode_frame(seq, time_ns, &tags, body, &mut out);
    let h = FrameHeader::decode(&out);
    assert!(h.is_some(), "an encoded frame has a header");
    let Some(h) = h else { return };
    assert_eq!(
        (h.mark, h.seq, h.time_ns, h.flags),
        (MARK_COMMITTED, seq, time_ns, 0)
    );
    assert_eq!(h.tag_count as usize, tags.len());
    assert_eq!(h.frame_len(), out.len() as u64);
    assert_eq!(out.len() as u64 % format::FRAME_ALIGN, 0);
    let end = FRAME_HEADER_BYTES as usize + h.payload_len as usize;
    let payload = out.get(FRAME_HEADER_BYTES as usize..end).unwrap_or(&[]);
    assert_eq!(format::frame_checksum(&out, payload), h.crc);
    assert!(
        out.get(end..).unwrap_or(&[]).iter().all(|&b| b == 0),
        "padding is zero"
    );
    match (
        format::decode_payload(h.tag_count, payload),
        std::str::from_utf8(body),
    ) {
        (Ok((t, d)), Ok(text)) => {
            assert_eq!((t, d), (tags.iter().map(String::as_str).collect(), text))
        }
        (Err(format::PayloadError::Utf8), Err(_)) => {}
        (got, utf8) => panic!("payload decoded to {got:?} for data {utf8:?}"),
    }
    if std::str::from_utf8(body).is_ok() {
        in_ring(&out, seq, time_ns, &tags, body, place, flip);
    }
}

/// Tags from the input: up to 8, each 1..=255 bytes of UTF-8.
fn take_tags(b: &mut Bytes<'_>) -> Vec<String> {
    let n = b.u8() % 9;
    (0..n)
        .map(|_| {
            let len = usize::from(b.u8() % 12) + 1;
            let mut t = String::from_utf8_lossy(b.take(len)).into_owned();
            while t.len() > 255 {
                t.pop();
            }
            if t.is_empty() {
                t.push('x');
            }
            t
        })
        .collect()
}

/// Every decoder on raw bytes: no panic, and a frame that verifies re-encodes to the same bytes.
fn decode_raw(data: &[u8]) {
    let Some(h) = FrameHeader::decode(data) else {
        assert!(data.len() < FRAME_HEADER_BYTES as usize);
        return;
    };
    let _ = h.frame_len();
    let body = data.get(FRAME_HEADER_BYTES as usize..).unwrap_or(&[]);
    let payload = body.get(..h.payload_len as usize).unwrap_or(body);
    let crc = format::frame_checksum(data, payload);
    let decoded = format::decode_payload(h.tag_count, payload);
    if let Ok((tags, text)) = &decoded {
        assert_eq!(tags.len(), h.tag_count as usize);
        assert_eq!(format::payload_len(tags, text.as_bytes()), payload.len());
    }
    let whole = payload.len() == h.payload_len as usize;
    if let (true, true, 0, MARK_COMMITTED, Ok((tags, text))) =
        (whole, crc == h.crc, h.flags, h.mark, decoded)
    {
        let mut again = Vec::new();
        format::encode_frame(h.seq, h.time_ns, &tags, text.as_bytes(), &mut again);
        let n = FRAME_HEADER_BYTES as usize + payload.len();
        assert_eq!(
            again.get(..n),
            data.get(..n),
            "a verified frame re-encodes to itself"
        );
    }
}

/// Places `frame` in an in-memory ring (directly, or after a wrap marker), publishes a state naming
/// it, optionally flips one byte, and reads it back through `read_next` and `get`.
fn in_ring(
    frame: &[u8],
    seq: u64,
    time_ns: u64,
    tags: &[String],
    body: &[u8],
    place: u16,
    flip: (u16, u8),
) {
    let Ok(region) = Region::in_memory(POOL_BYTES, false) else {
        return;
    };
    let ring = region.geometry().ring_size;
    let len = frame.len() as u64;
    if len > ring {
        return;
    }
    let slot = (u64::from(place >> 1) * format::FRAME_ALIGN) % ring;
    let (tail, pos) = if place & 1 == 1 && slot >= len && slot > 0 {
        region.ring_store_mark(slot, MARK_WRAP);
        (slot, ring)
    } else if slot + len <= ring {
        (slot, slot)
    } else {
        (0, 0)
    };
    let mut bytes = frame.to_vec();
    let flipped = flip.1 != 0 && usize::from(flip.0) < bytes.len();
    if let Some(b) = bytes.get_mut(usize::from(flip.0)).filter(|_| flipped) {
        *b ^= flip.1;
    }
    region.ring_write(pos, &bytes);
    region.index_set(seq, pos);
    let st = State {
        oldest_seq: seq,
        next_seq: seq + 1,
        tail_pos: tail,
        head_pos: pos + len,
        newest_ns: time_ns,
    };
    assert!(st.check(region.geometry()).is_ok(), "{st:?}");
    region.publish(&st);
    let covered = flipped
        && usize::from(flip.0)
            < FRAME_HEADER_BYTES as usize
                + body.len()
                + tags.iter().map(|t| 1 + t.len()).sum::<usize>();
    let Ok(mut view) = View::load(&region) else {
        panic!("state just published must load");
    };
    let mut cur = view.oldest();
    let mut buf = FrameBuf::default();
    let got = reader::read_next(&region, &mut cur, &mut view, &mut buf);
    if covered {
        assert!(
            matches!(got, Err(ReadError::Corrupt { seq: s, .. }) if s == seq),
            "{got:?}"
        );
        let g = reader::get(&region, seq, &mut buf);
        assert!(matches!(g, Err(ReadError::Corrupt { .. })), "{g:?}");
        return;
    }
    assert_eq!(got, Ok(Step::Frame));
    let want_tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    let check = |buf: &FrameBuf| {
        assert_eq!((buf.seq(), buf.time_ns(), buf.pos()), (seq, time_ns, pos));
        assert_eq!(buf.tags().collect::<Vec<_>>(), want_tags);
        assert_eq!(buf.data().as_bytes(), body);
    };
    check(&buf);
    assert_eq!(cur.seq, seq + 1);
    assert_eq!(
        reader::read_next(&region, &mut cur, &mut view, &mut buf),
        Ok(Step::CaughtUp)
    );
    let mut again = FrameBuf::default();
    assert_eq!(reader::get(&region, seq, &mut again), Ok(Got::Found));
    check(&again);
    assert!(crate::pool::validate::validate(&region).ok());
}
