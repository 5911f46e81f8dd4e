//! Model target: random append / batch / get / tail / seek / reopen / crash / power-cut sequences on an
//! in-memory region, checked after every step against a `VecDeque` model that places frames, wraps
//! and evicts by the rules of `spec/format.md` (written independently of the writer).
//!
//! Crashes use the region's sync observer: a `flush` append is cut at one of its sync points, and the
//! region is rebuilt from the live image (process killed) or the durable image (power cut), with
//! optional garbage in the unpublished parts of the ring, the index and the spare state slot. The model
//! says exactly what must survive: a process crash loses only the batch it interrupted; a power cut
//! loses at most what no `flush` made durable, and never yields torn data.

use super::image::read_all;
use super::{message_data, Bytes};
use crate::pool::format::{self, State};
use crate::pool::reader::{self, FrameBuf, Got, Step, View};
use crate::pool::region::SyncObserver;
use crate::pool::validate::validate;
use crate::pool::writer::{self, Committed, Item, Writer};
use crate::pool::Region;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Pool sizes: rings of 1 KiB to 59 KiB; 64 index slots, so larger rings outgrow the index.
const SIZES: [u64; 4] = [6144, 8192, 16_384, 65_536];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    seq: u64,
    pos: u64,
    len: u64,
    time: u64,
    tags: Vec<String>,
    data: String,
}

/// What the pool must hold: messages, positions and state, computed without the writer.
#[derive(Debug, Clone)]
struct Model {
    msgs: VecDeque<Msg>,
    next_seq: u64,
    tail: u64,
    head: u64,
    newest_ns: u64,
    ring: u64,
}

impl Model {
    fn state(&self) -> State {
        State {
            oldest_seq: self.msgs.front().map_or(self.next_seq, |m| m.seq),
            next_seq: self.next_seq,
            tail_pos: self.tail,
            head_pos: self.head,
            newest_ns: self.newest_ns,
        }
    }

    /// Places the batch after the head and evicts from the tail until it fits. Returns the positions.
    fn make_room(&mut self, batch: &[(Vec<String>, String)]) -> Vec<(u64, u64)> {
        let mut pos = self.head;
        let mut placed = Vec::new();
        for (tags, data) in batch {
            let len = frame_len(tags, data);
            if pos % self.ring + len > self.ring {
                pos += self.ring - pos % self.ring;
            }
            placed.push((pos, len));
            pos += len;
        }
        while pos - self.tail > self.ring {
            match self.msgs.front() {
                Some(m) if m.pos == self.tail => {
                    self.tail = m.pos + m.len;
                    self.msgs.pop_front();
                }
                Some(m) => {
                    assert!(
                        m.pos > self.tail && m.pos % self.ring == 0,
                        "only a wrap gap"
                    );
                    self.tail = m.pos;
                }
                None => {
                    self.tail = self.head;
                    break;
                }
            }
        }
        placed
    }

    fn commit(&mut self, batch: Vec<(Vec<String>, String)>, placed: &[(u64, u64)], now: u64) {
        let time = now.max(self.newest_ns);
        for ((tags, data), &(pos, len)) in batch.into_iter().zip(placed) {
            let seq = self.next_seq;
            self.msgs.push_back(Msg {
                seq,
                pos,
                len,
                time,
                tags,
                data,
            });
            self.next_seq += 1;
            self.head = pos + len;
        }
        self.newest_ns = time;
    }
}

fn frame_len(tags: &[String], data: &str) -> u64 {
    format::frame_len(format::payload_len(tags, data.as_bytes()) as u64)
}

struct Harness {
    region: Region,
    model: Model,
    /// The model of the durable image: the state after the last completed `flush` append.
    durable: Model,
    /// False once a page was written back outside the append protocol (durable image unpredictable).
    durable_exact: bool,
    writer: Writer,
    /// Every frame ever written per seq, committed or cut short (seqs of cut batches are reused).
    written: HashMap<u64, Vec<(Vec<String>, String)>>,
    next_id: u64,
    now: u64,
}

/// Fuzz target body for the model.
pub fn model(data: &[u8]) {
    let mut b = Bytes::new(data);
    let size = SIZES[usize::from(b.u8()) % SIZES.len()];
    let Ok(region) = Region::in_memory(size, true) else {
        return;
    };
    let ring = region.geometry().ring_size;
    let model = Model {
        msgs: VecDeque::new(),
        next_seq: 1,
        tail: 0,
        head: 0,
        newest_ns: 0,
        ring,
    };
    let mut h = Harness {
        region,
        durable: model.clone(),
        model,
        durable_exact: true,
        writer: Writer::default(),
        written: HashMap::new(),
        next_id: 0,
        now: 1_000,
    };
    while !b.is_empty() {
        if trace() {
            eprintln!(
                "model {:?}, durable exact: {}",
                h.model.state(),
                h.durable_exact
            );
        }
        match b.u8() % 10 {
            0..=2 => {
                let batch = h.batch(&mut b, 1);
                let flush = b.u8() & 1 == 1;
                h.append(batch, flush);
            }
            3 => {
                let n = 2 + usize::from(b.u8() % 30);
                let batch = h.batch(&mut b, n);
                let flush = b.u8() & 1 == 1;
                h.append(batch, flush);
            }
            4 => h.gets(&mut b),
            5 => h.tail(&mut b),
            6 => h.reopen(),
            7 => {
                if !h.crash(&mut b) {
                    return;
                }
            }
            8 => {
                let page = u64::from(b.u8()) * 4096 % h.region.geometry().file_size;
                if trace() {
                    eprintln!("write back page {page}");
                }
                let _ = h.region.sync(page as usize, 4096);
                h.durable_exact = false;
            }
            _ => h.seek(&mut b),
        }
        h.check();
    }
}

impl Harness {
    /// `n` messages: sizes and tags from the input, self-describing data.
    fn batch(&mut self, b: &mut Bytes<'_>, n: usize) -> Vec<(Vec<String>, String)> {
        let room = self.model.ring / 2 - 128;
        let shape = b.u16();
        (0..n)
            .map(|i| {
                let id = self.next_id;
                self.next_id += 1;
                let len = (u64::from(shape).wrapping_mul(i as u64 + 1)
                    % room.min(1 + u64::from(shape >> 4))) as usize;
                let tags: Vec<String> = (0..shape % 3).map(|k| format!("t{k}")).collect();
                (tags, message_data(id, len))
            })
            .collect()
    }

    fn items(batch: &[(Vec<String>, String)]) -> Vec<Item<'_, String>> {
        batch
            .iter()
            .map(|(t, d)| Item {
                data: d.as_bytes(),
                tags: &t[..],
            })
            .collect()
    }

    fn tick(&mut self, b: Option<&mut Bytes<'_>>) -> u64 {
        // Clocks may step back; the writer keeps times monotonic.
        let d = b.map_or(7, |b| u64::from(b.u8()));
        self.now = if d > 200 {
            self.now.saturating_sub(d)
        } else {
            self.now + d
        };
        self.now
    }

    /// Appends in as many lock holds as the batch limits need; every receipt matches the model.
    fn append(&mut self, batch: Vec<(Vec<String>, String)>, flush: bool) {
        if trace() {
            eprintln!("append {} flush {flush}", batch.len());
        }
        let mut rest = batch;
        while !rest.is_empty() {
            let take = writer::batch_len(self.region.geometry(), &Self::items(&rest));
            let tail = rest.split_off(take);
            let now = self.tick(None);
            let mut out: Vec<Committed> = Vec::new();
            let r = self
                .writer
                .append(&self.region, &Self::items(&rest), now, flush, &mut out);
            assert!(r.is_ok(), "append: {r:?}");
            let placed = self.model.make_room(&rest);
            let first = self.model.next_seq;
            self.remember(first, &rest);
            self.model.commit(rest, &placed, now);
            let want: Vec<Committed> = (first..self.model.next_seq)
                .map(|seq| Committed {
                    seq,
                    time_ns: self.model.newest_ns,
                })
                .collect();
            assert_eq!(out, want, "receipts");
            rest = tail;
        }
        if flush {
            self.durable = self.model.clone();
            self.durable_exact = true;
        }
    }

    fn remember(&mut self, first: u64, batch: &[(Vec<String>, String)]) {
        for (seq, m) in (first..).zip(batch) {
            self.written.entry(seq).or_default().push(m.clone());
        }
    }

    fn gets(&mut self, b: &mut Bytes<'_>) {
        let st = self.model.state();
        let mut buf = FrameBuf::default();
        for _ in 0..1 + b.u8() % 4 {
            let seq = st.oldest_seq.saturating_sub(2) + u64::from(b.u16()) % (st.count() + 4);
            let got = reader::get(&self.region, seq, &mut buf);
            match self.model.msgs.iter().find(|m| m.seq == seq) {
                Some(m) => {
                    assert_eq!(got, Ok(Got::Found), "get({seq})");
                    same(&buf, m);
                }
                None => assert!(
                    matches!(got, Ok(Got::Missing { .. })),
                    "get({seq}): {got:?}"
                ),
            }
        }
    }

    /// A tail from some seq for a few messages: exactly the model's messages, then caught up.
    fn tail(&mut self, b: &mut Bytes<'_>) {
        let Some(first) = self.model.msgs.front().map(|m| m.seq) else {
            return;
        };
        let k = u64::from(b.u16()) % self.model.msgs.len() as u64;
        let Ok(mut view) = View::load(&self.region) else {
            panic!("state loads");
        };
        let cur = reader::locate(&self.region, &view, first + k);
        assert!(cur.is_some(), "locate({})", first + k);
        let Some(mut cur) = cur else { return };
        let mut buf = FrameBuf::default();
        for m in self
            .model
            .msgs
            .iter()
            .skip(k as usize)
            .take(usize::from(b.u8()) + 1)
        {
            assert_eq!(
                reader::read_next(&self.region, &mut cur, &mut view, &mut buf),
                Ok(Step::Frame)
            );
            same(&buf, m);
        }
        if cur.seq == self.model.next_seq {
            let r = reader::read_next(&self.region, &mut cur, &mut view, &mut buf);
            assert_eq!(r, Ok(Step::CaughtUp));
        }
    }

    fn seek(&mut self, b: &mut Bytes<'_>) {
        let t = self.now.saturating_sub(u64::from(b.u16() % 512));
        let want = self.model.msgs.iter().find(|m| m.time >= t);
        let got = reader::seek_time(&self.region, t);
        let want = want.map_or((self.model.next_seq, self.model.head), |m| (m.seq, m.pos));
        assert_eq!(got.map(|c| (c.seq, c.pos)), Ok(want), "seek_time({t})");
    }

    /// Close and open again (a clean shutdown): everything is kept.
    fn reopen(&mut self) {
        let img = self.region.snapshot_bytes();
        let r = Region::from_image(&img, true);
        assert!(r.is_ok(), "reopen: {r:?}");
        if let Ok(r) = r {
            self.region = r;
        }
        self.durable = self.model.clone();
        self.durable_exact = true;
    }

    /// Cuts a `flush` batch at a sync point: process crash (live image) or power cut (durable image).
    /// Returns false when the run cannot go on exactly (a power cut on an unpredictable image).
    fn crash(&mut self, b: &mut Bytes<'_>) -> bool {
        let n = 1 + usize::from(b.u8() % 12);
        let power = b.u8() & 1 == 1;
        let point = usize::from(b.u8());
        let garbage = b.u8();
        let batch = self.batch(b, n);
        let items = Self::items(&batch);
        let take = writer::batch_len(self.region.geometry(), &items);
        let items = items.get(..take).unwrap_or(&[]);
        let image = move |r: &Region| match power {
            true => r.durable_image().unwrap_or_default(),
            false => r.snapshot_bytes(),
        };
        let shots = Arc::new(Mutex::new(vec![image(&self.region)]));
        let s2 = Arc::clone(&shots);
        self.region
            .set_sync_observer(Some(SyncObserver(Box::new(move |r| {
                if let Ok(mut v) = s2.lock() {
                    v.push(image(r));
                }
            }))));
        let now = self.tick(Some(b));
        let mut out = Vec::new();
        let r = self.writer.append(&self.region, items, now, true, &mut out);
        self.region.set_sync_observer(None);
        assert!(r.is_ok(), "append: {r:?}");
        let shots = shots.lock().map(|v| v.clone()).unwrap_or_default();
        let batch: Vec<_> = batch.into_iter().take(take).collect();
        let first = self.model.next_seq;
        self.remember(first, &batch);
        let k = point % shots.len();
        if trace() {
            eprintln!(
                "cut {n} power {power} at {k} of {} garbage {garbage}",
                shots.len()
            );
        }
        let img = shots.get(k).cloned().unwrap_or_default();
        if k == 0 && power {
            if !self.durable_exact {
                self.rebuild(&img, garbage);
                self.check_unpredictable();
                return false;
            }
            self.model = self.durable.clone();
        } else if k > 0 {
            let placed = self.model.make_room(&batch);
            if k + 1 == shots.len() {
                self.model.commit(batch, &placed, now);
            }
        }
        self.rebuild(&img, garbage);
        self.durable = self.model.clone();
        self.durable_exact = true;
        true
    }

    /// After a power cut on a durable image that pages written back outside any sync made
    /// unpredictable: the header may be newer than the ring pages, so a seq may read as a whole frame
    /// of an earlier batch that was cut (time order is then not kept: `fast` promises nothing across a
    /// power cut). Still, every message read was written as that seq, never torn, and every message of
    /// the last `flush` that no later append evicted is there, both for `get` and for a tail from the
    /// oldest (which resyncs past what the disk did not keep).
    fn check_unpredictable(&self) {
        let all = read_all(&self.region, None, false).msgs;
        for (seq, _, tags, data) in &all {
            let ok = self
                .written
                .get(seq)
                .is_some_and(|v| v.contains(&(tags.clone(), data.clone())));
            assert!(
                ok,
                "after a power cut, seq {seq} reads {data:?}, never written as {seq}"
            );
        }
        let mut buf = FrameBuf::default();
        for m in self
            .durable
            .msgs
            .iter()
            .filter(|m| self.model.msgs.contains(m))
        {
            assert_eq!(
                reader::get(&self.region, m.seq, &mut buf),
                Ok(Got::Found),
                "flushed {}",
                m.seq
            );
            same(&buf, m);
            let read = (m.seq, m.time, m.tags.clone(), m.data.clone());
            assert!(
                all.contains(&read),
                "a tail from the oldest skips flushed {}",
                m.seq
            );
        }
        let _ = validate(&self.region);
    }

    /// Restarts from `img`, then fills what no published state covers with garbage, as a writer cut
    /// at any store would leave it.
    fn rebuild(&mut self, img: &[u8], garbage: u8) {
        let r = Region::from_image(img, true);
        assert!(r.is_ok(), "image after a crash: {r:?}");
        let Ok(r) = r else { return };
        self.region = r;
        if garbage == 0 {
            return;
        }
        let Ok((st, ver)) = self.region.state() else {
            return;
        };
        let ring = self.model.ring;
        let free = ring - (st.head_pos - st.tail_pos);
        let mut x = u64::from(garbage).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let start = st.head_pos + (x % free.max(1)) / 8 * 8;
        let len = ((x >> 20) % 512).min(st.tail_pos + ring - start);
        let room = ring - start % ring;
        let junk: Vec<u8> = (0..len.min(room))
            .map(|i| (x >> (i % 56)) as u8 ^ i as u8)
            .collect();
        self.region.ring_write(start, &junk);
        for seq in st.next_seq..st.next_seq + u64::from(garbage % 8) {
            x = x.rotate_left(7) ^ seq;
            self.region.index_set(seq, x);
        }
        if garbage & 0x80 != 0 {
            // The spare state slot, half-written.
            let spare = format::OFF_STATE_SLOTS[((ver + 1) & 1) as usize];
            let mut img = self.region.snapshot_bytes();
            if let Some(d) = img.get_mut(spare..spare + 24) {
                d.fill(garbage);
            }
            if let Ok(r) = Region::from_image(&img, true) {
                self.region = r;
            }
        }
    }

    /// The region says exactly what the model says, and validates.
    fn check(&self) {
        let st = self.region.state().map(|s| s.0);
        assert_eq!(st, Ok(self.model.state()), "state");
        let all = read_all(&self.region, None, true);
        assert!(all.clean, "{all:?}");
        let want: Vec<_> = self
            .model
            .msgs
            .iter()
            .map(|m| (m.seq, m.time, m.tags.clone(), m.data.clone()))
            .collect();
        assert_eq!(all.msgs, want, "messages");
        let rep = validate(&self.region);
        assert!(rep.ok(), "{:?}", rep.issues);
    }
}

/// `PLASMITE_FUZZ_TRACE=1` prints every step (to reproduce a finding by hand).
fn trace() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("PLASMITE_FUZZ_TRACE").is_some())
}

fn same(buf: &FrameBuf, m: &Msg) {
    assert_eq!(
        (buf.seq(), buf.pos(), buf.time_ns()),
        (m.seq, m.pos, m.time)
    );
    assert_eq!(
        buf.tags().collect::<Vec<_>>(),
        m.tags.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(buf.data(), m.data);
}
