//! Whole pool images: the header decoder and state checks on raw bytes, then `Region::from_image`,
//! `validate`, every read path and one append, on raw images and on real pools damaged by patches.
//!
//! Properties: nothing panics or loops; a message returned by any read is one that was written (for
//! built images, where every write is known) and the same whichever way it is read; a pool that
//! `validate` calls healthy reads back completely without an error; an append that succeeds is
//! readable right away.

use super::{message_data, message_tags, Bytes, Rng};
use crate::pool::format::{
    self, Geometry, State, GEOMETRY_BYTES, OFF_STATE_SLOTS, OFF_STATE_VERSION,
};
use crate::pool::reader::{self, FrameBuf, Got, ReadError, Step, View};
use crate::pool::region::StateError;
use crate::pool::validate::validate;
use crate::pool::writer::{self, AppendError, Committed, Item, Writer};
use crate::pool::Region;
use std::collections::HashMap;

/// Every message ever written to a built image: seq → (tags, data).
pub(crate) type Known = HashMap<u64, (Vec<String>, String)>;

/// Pool sizes of built images: rings of 1 KiB to 59 KiB, with 64 index slots.
const SIZES: [u64; 5] = [6144, 8192, 12_000, 20_000, 65_536];
/// Raw images are zero-padded up to their header's file size, at most this much.
const RAW_PAD_BYTES_MAX: u64 = 1 << 18;

/// Fuzz target body for the pool header and image decoders.
pub fn header(data: &[u8]) {
    let mut b = Bytes::new(data);
    match b.u8() % 4 {
        0 => check_image(b.rest(), None),
        1 => {
            let mut img = b.rest().to_vec();
            fix_checksums(&mut img, true, true);
            if let Ok(g) = Geometry::decode(&img) {
                if g.file_size <= RAW_PAD_BYTES_MAX && (img.len() as u64) < g.file_size {
                    img.resize(g.file_size as usize, 0);
                }
            }
            check_image(&img, None);
        }
        _ => {
            let (mut img, known) = build(&mut b);
            let fix = b.u8();
            while !b.is_empty() {
                patch(&mut img, &mut b);
            }
            fix_checksums(&mut img, fix & 1 == 1, fix & 2 == 2);
            check_image(&img, Some(&known));
        }
    }
}

/// A real pool image written by the writer, from a short recipe, and every message written to it.
pub(crate) fn build(b: &mut Bytes<'_>) -> (Vec<u8>, Known) {
    let size = SIZES[usize::from(b.u8()) % SIZES.len()];
    let count = u64::from(b.u8()) * 2;
    let big = u64::from(b.u8() % 4);
    let mut rng = Rng::new(u64::from(b.u16()));
    let mut known = Known::new();
    let Ok(region) = Region::in_memory(size, false) else {
        return (Vec::new(), known);
    };
    let mut w = Writer::default();
    let mut out = Vec::new();
    let (mut id, mut now) = (0u64, 1_000u64);
    while id < count {
        let n = 1 + rng.below(8);
        let msgs: Vec<(Vec<String>, String)> = (id..id + n)
            .map(|i| {
                (
                    message_tags(i),
                    message_data(i, rng.below(40 << big) as usize),
                )
            })
            .collect();
        let items: Vec<Item<'_, String>> = msgs
            .iter()
            .map(|(t, d)| Item {
                data: d.as_bytes(),
                tags: t,
            })
            .collect();
        let take = writer::batch_len(region.geometry(), &items);
        out.clear();
        now += rng.below(3);
        let r = w.append(
            &region,
            items.get(..take).unwrap_or(&[]),
            now,
            false,
            &mut out,
        );
        assert!(r.is_ok(), "building an image: {r:?}");
        for (c, m) in out.iter().zip(msgs) {
            known.insert(c.seq, m);
        }
        id += take as u64;
    }
    (region.snapshot_bytes(), known)
}

/// Applies one patch read from the input.
fn patch(img: &mut Vec<u8>, b: &mut Bytes<'_>) {
    let len = img.len().max(1);
    let live = live_slot(img);
    let put = |img: &mut Vec<u8>, off: usize, v: u64| {
        if let Some(d) = img.get_mut(off..off + 8) {
            d.copy_from_slice(&v.to_le_bytes());
        }
    };
    let get = |img: &[u8], off: usize| format::le_u64(img, off).unwrap_or(0);
    match b.u8() % 8 {
        0 => {
            let off = b.u32() as usize % len;
            let x = b.u8().max(1);
            if let Some(v) = img.get_mut(off) {
                *v ^= x;
            }
        }
        1 => {
            let off = (b.u32() as usize % len) & !7;
            let v = b.u64();
            put(img, off, v);
        }
        2 => {
            let off = b.u32() as usize % len;
            let n = usize::from(b.u16() % 4097);
            let end = (off + n).min(img.len());
            img.get_mut(off..end).unwrap_or(&mut []).fill(0);
        }
        3 => {
            let off = live + 8 * usize::from(b.u8() % 6);
            let v = b.u64();
            put(img, off, v);
        }
        4 => {
            let slots = Geometry::decode(img).map_or(64, |g| g.index_slots);
            let off = (format::HEADER_BYTES + (u64::from(b.u16()) % slots) * 16) as usize;
            let (s, p) = (b.u64(), b.u64());
            put(img, off, s);
            put(img, off + 8, p);
        }
        5 => {
            let x = u64::from(b.u8());
            let v = get(img, OFF_STATE_VERSION) ^ x;
            put(img, OFF_STATE_VERSION, v);
        }
        6 => {
            let keep = b.u32() as usize % len;
            img.truncate(keep);
        }
        _ => {
            // A nearby value: plausible states reach deeper than random words.
            let off = live + 8 * usize::from(b.u8() % 5);
            let delta = i64::from(b.u16() as i16) * if b.u8() & 1 == 1 { 8 } else { 1 };
            let v = get(img, off).wrapping_add_signed(delta);
            put(img, off, v);
        }
    }
}

/// Byte offset of the state slot the version selects.
fn live_slot(img: &[u8]) -> usize {
    let v = format::le_u64(img, OFF_STATE_VERSION).unwrap_or(0);
    OFF_STATE_SLOTS[(v & 1) as usize]
}

/// Recomputes the geometry checksum and/or the live state slot's checksum, so that patched fields
/// pass the checksums and reach the checks behind them.
fn fix_checksums(img: &mut [u8], geometry: bool, state: bool) {
    if geometry && img.len() >= GEOMETRY_BYTES + 4 {
        let crc = crate::sys::crc32c::crc32c(img.get(..GEOMETRY_BYTES).unwrap_or(&[]));
        if let Some(d) = img.get_mut(GEOMETRY_BYTES..GEOMETRY_BYTES + 4) {
            d.copy_from_slice(&crc.to_le_bytes());
        }
    }
    let slot = live_slot(img);
    if let (true, Some(s)) = (state, slot_state(img, slot)) {
        if let Some(d) = img.get_mut(slot + 40..slot + 48) {
            d.copy_from_slice(&s.checksum().to_le_bytes());
        }
    }
}

fn slot_state(img: &[u8], slot: usize) -> Option<State> {
    let w = |i: usize| format::le_u64(img, slot + 8 * i);
    Some(State::from_words([w(0)?, w(1)?, w(2)?, w(3)?, w(4)?]))
}

/// Every check on one image. `known`: every message written, when the image was built.
pub(crate) fn check_image(img: &[u8], known: Option<&Known>) {
    let geo = Geometry::decode(img);
    if let Ok(g) = &geo {
        assert_eq!(
            img.get(..GEOMETRY_BYTES + 4),
            Some(&g.encode()[..]),
            "geometry re-encodes"
        );
        for slot in OFF_STATE_SLOTS {
            if let Some(s) = slot_state(img, slot) {
                let _ = (s.checksum(), s.check(g), s.count());
            }
        }
    }
    let Ok(region) = Region::from_image(img, false) else {
        return;
    };
    assert!(geo.is_ok_and(|g| g.file_size <= img.len() as u64));
    let rep = validate(&region);
    let all = read_all(&region, known, true);
    if rep.ok() {
        assert!(
            all.clean,
            "validate found no issue, yet reading failed: {all:?}"
        );
        assert_eq!(all.msgs.len() as u64, rep.messages_ok);
    }
    if all.clean {
        check_gets(&region, &all.msgs);
    }
    let mut buf = FrameBuf::default();
    for t in [0, 1_000, 1_001, u64::MAX] {
        if let Ok(c) = reader::seek_time(&region, t) {
            let _ = reader::get(&region, c.seq, &mut buf);
        }
    }
    append_one(&region);
    let _ = validate(&region);
}

/// What a full read from the oldest message found.
#[derive(Debug, Default)]
pub(crate) struct ReadAll {
    /// (seq, time, tags, data) of every message read, in order.
    pub msgs: Vec<(u64, u64, Vec<String>, String)>,
    /// No corruption, state or lap error was met.
    pub clean: bool,
}

/// Reads from the oldest message to the head like a tail does, skipping corrupt frames. Asserts that
/// every message is a known one (when `known` is given), that seqs increase and, when `ordered`, that
/// times never go back.
pub(crate) fn read_all(region: &Region, known: Option<&Known>, ordered: bool) -> ReadAll {
    let mut all = ReadAll {
        clean: true,
        ..ReadAll::default()
    };
    let Ok(mut view) = View::load(region) else {
        all.clean = false;
        return all;
    };
    let mut cur = view.oldest();
    let mut buf = FrameBuf::default();
    let steps_max = 2 * (region.geometry().ring_size / format::FRAME_HEADER_BYTES) + 4;
    for _ in 0..steps_max {
        match reader::read_next(region, &mut cur, &mut view, &mut buf) {
            Ok(Step::Frame) => {
                let tags: Vec<String> = buf.tags().map(String::from).collect();
                let m = (buf.seq(), buf.time_ns(), tags, buf.data().to_owned());
                if let Some(k) = known {
                    assert_eq!(
                        k.get(&m.0),
                        Some(&(m.2.clone(), m.3.clone())),
                        "read a message that was never written"
                    );
                }
                if let Some(last) = all.msgs.last() {
                    assert!(m.0 > last.0, "seq order: {last:?} then {m:?}");
                    assert!(m.1 >= last.1 || !ordered, "time order: {last:?} then {m:?}");
                }
                all.msgs.push(m);
            }
            Ok(Step::CaughtUp) => return all,
            Ok(Step::Lapped { .. }) => panic!("lapped with no writer running"),
            Err(ReadError::Corrupt { .. }) => {
                all.clean = false;
                let before = cur;
                if reader::skip_corrupt(region, &mut cur, &mut view).is_err() {
                    return all;
                }
                // Past a damaged wrap marker it keeps the seq and moves to the next lap.
                assert!(
                    cur.seq > before.seq || (cur.seq == before.seq && cur.pos > before.pos),
                    "skip_corrupt moves forward"
                );
            }
            Err(ReadError::State(_)) => {
                all.clean = false;
                return all;
            }
        }
    }
    panic!("reader made no progress in {steps_max} steps");
}

/// `get` of every seq read (and the neighbours of the bounds) agrees with the sequential read.
fn check_gets(region: &Region, msgs: &[(u64, u64, Vec<String>, String)]) {
    let mut buf = FrameBuf::default();
    for (seq, time, tags, data) in msgs.iter().take(2048) {
        assert_eq!(
            reader::get(region, *seq, &mut buf),
            Ok(Got::Found),
            "get({seq})"
        );
        assert_eq!((buf.seq(), buf.time_ns()), (*seq, *time));
        assert_eq!(
            buf.tags().collect::<Vec<_>>(),
            tags.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(buf.data(), data);
    }
    if let Ok(v) = View::load(region) {
        for seq in [
            0,
            v.state.oldest_seq.wrapping_sub(1),
            v.state.next_seq,
            u64::MAX,
        ] {
            let g = reader::get(region, seq, &mut buf);
            assert!(
                matches!(g, Ok(Got::Missing { .. })),
                "get({seq}) outside the bounds: {g:?}"
            );
        }
    }
}

/// One append on whatever the image holds: it fails cleanly or is readable right away.
fn append_one(region: &Region) {
    let data = message_data(u64::MAX, 30);
    let tags = message_tags(1);
    let item = Item {
        data: data.as_bytes(),
        tags: &tags[..],
    };
    let mut out: Vec<Committed> = Vec::new();
    match Writer::default().append(region, &[item], 5_000, false, &mut out) {
        Ok(()) => {
            let seq = out.first().map(|c| c.seq);
            assert_eq!(out.len(), 1);
            let mut buf = FrameBuf::default();
            let seq = seq.unwrap_or(0);
            assert_eq!(
                reader::get(region, seq, &mut buf),
                Ok(Got::Found),
                "get of the new message {seq}"
            );
            assert_eq!(buf.data(), data);
        }
        Err(AppendError::State(StateError::Corrupt { .. })) => {}
        Err(e) => panic!("append on a damaged image: {e:?}"),
    }
}
