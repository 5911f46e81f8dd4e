//! Durability model: an in-memory region keeps a live image and a durable image that only `sync`
//! updates (`Region::in_memory(size, true)`), and its sync observer captures the durable image at every
//! sync point of the append protocol. A power cut is reopening one of those images, or a page-wise mix
//! of two consecutive ones (a cut in the middle of a sync, which writes pages in any order).
//!
//! `flush`: whatever the cut, nothing a `flush` append reported committed is lost (unless a later
//! append evicted it), nothing torn is returned, the pool validates and the next append continues.
//! `fast`: a power cut loses at most what no `flush` made durable, and never yields torn data.

use crate::support::Rng;
use plasmite::pool::reader::{self, FrameBuf, Got, Step, View};
use plasmite::pool::region::SyncObserver;
use plasmite::pool::validate::validate;
use plasmite::pool::writer::{Committed, Item, Writer};
use plasmite::pool::Region;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// seq → data of every committed message.
type Log = BTreeMap<u64, String>;

fn data(id: u64, rng: &mut Rng) -> String {
    format!(
        "{{\"id\":{id},\"pad\":\"{}\",\"check\":{}}}",
        "q".repeat(rng.below(300) as usize),
        id * 3 + 1
    )
}

fn append(r: &Region, w: &mut Writer, msgs: &[String], flush: bool) -> Vec<Committed> {
    let tags: &[&str] = &["d"];
    let items: Vec<Item<'_, &str>> = msgs
        .iter()
        .map(|m| Item {
            data: m.as_bytes(),
            tags,
        })
        .collect();
    let mut out = Vec::new();
    w.append(r, &items, 1, flush, &mut out).unwrap();
    out
}

/// Every message readable from the oldest, in order; panics on a corrupt frame or state.
fn read_all(r: &Region) -> Vec<(u64, String)> {
    let mut view = View::load(r).expect("state after a power cut");
    let mut cur = view.oldest();
    let mut buf = FrameBuf::default();
    let mut got = Vec::new();
    loop {
        match reader::read_next(r, &mut cur, &mut view, &mut buf) {
            Ok(Step::Frame) => {
                assert_eq!(buf.tags().collect::<Vec<_>>(), vec!["d"]);
                got.push((buf.seq(), buf.data().to_owned()));
            }
            Ok(Step::CaughtUp) => return got,
            other => panic!("reading after a power cut: {other:?}"),
        }
    }
}

/// The live seqs of a region.
fn bounds(r: &Region) -> (u64, u64) {
    let (st, _) = r.state().unwrap();
    (st.oldest_seq, st.next_seq)
}

/// Runs one `flush` append with the observer on; returns the durable images before it and at each
/// of its sync points.
fn append_capturing(
    r: &mut Region,
    w: &mut Writer,
    msgs: &[String],
) -> (Vec<Committed>, Vec<Vec<u8>>) {
    let shots = Arc::new(Mutex::new(vec![r.durable_image().unwrap()]));
    let s2 = Arc::clone(&shots);
    r.set_sync_observer(Some(SyncObserver(Box::new(move |r| {
        s2.lock().unwrap().push(r.durable_image().unwrap());
    }))));
    let out = append(r, w, msgs, true);
    r.set_sync_observer(None);
    let shots = shots.lock().unwrap().clone();
    (out, shots)
}

/// Reopens `image` and checks it against the log: a suffix of committed messages, all intact, that
/// holds every message live in `must` and ends at `end` (exclusive). The pool validates and the next
/// append continues the seq.
fn check_cut(image: &[u8], log: &Log, must: (u64, u64), end: u64, what: &str) {
    let r = Region::from_image(image, true).unwrap();
    let got = read_all(&r);
    let seqs: Vec<u64> = got.iter().map(|g| g.0).collect();
    let first = seqs.first().copied().unwrap_or(end);
    assert_eq!(
        seqs,
        (first..end).collect::<Vec<_>>(),
        "{what}: a contiguous run ending at {end}"
    );
    if must.0 < must.1 {
        assert!(
            first <= must.0,
            "{what}: lost messages: first is {first}, must keep {must:?}"
        );
    }
    for (seq, d) in &got {
        assert_eq!(
            log.get(seq),
            Some(d),
            "{what}: message {seq} is what was committed"
        );
    }
    let rep = validate(&r);
    assert!(rep.ok(), "{what}: {:?}", rep.issues);
    let mut w = Writer::default();
    let out = append(&r, &mut w, &["\"after\"".to_owned()], false);
    assert_eq!(out[0].seq, end, "{what}: the next append continues the seq");
    let mut buf = FrameBuf::default();
    assert_eq!(reader::get(&r, end, &mut buf), Ok(Got::Found));
}

/// Page-wise mixes of the durable images before and after one sync: the header page alone, all but
/// the header page, and random subsets. Each comes with whether its header page is the new one.
fn mixes(old: &[u8], new: &[u8], rng: &mut Rng) -> Vec<(Vec<u8>, bool)> {
    const PAGE: usize = 4096;
    let pages = new.len().div_ceil(PAGE);
    let mut masks: Vec<Vec<bool>> = vec![
        (0..pages).map(|p| p == 0).collect(),
        (0..pages).map(|p| p != 0).collect(),
    ];
    for _ in 0..3 {
        masks.push((0..pages).map(|_| rng.below(2) == 0).collect());
    }
    masks
        .into_iter()
        .map(|mask| {
            let mut img = old.to_vec();
            for (p, &take) in mask.iter().enumerate() {
                let r = p * PAGE..((p + 1) * PAGE).min(new.len());
                if take {
                    img[r.clone()].copy_from_slice(&new[r]);
                }
            }
            (img, mask[0])
        })
        .collect()
}

#[test]
fn flush_appends_survive_a_power_cut_at_every_sync_point() {
    for (size, seed) in [(8192u64, 1u64), (20_000, 2), (65_536, 3)] {
        let mut r = Region::in_memory(size, true).unwrap();
        let mut w = Writer::default();
        let mut rng = Rng::new(seed);
        let mut log = Log::new();
        let mut cuts = 0;
        for round in 0..150u64 {
            let n = 1 + rng.below(if round % 5 == 0 { 12 } else { 3 });
            let msgs: Vec<String> = (0..n).map(|k| data(round * 100 + k, &mut rng)).collect();
            let before = bounds(&r);
            let (out, shots) = append_capturing(&mut r, &mut w, &msgs);
            for (c, m) in out.iter().zip(&msgs) {
                log.insert(c.seq, m.clone());
            }
            let after = bounds(&r);
            assert!(
                shots.len() >= 3,
                "pre-image, after the frames, after the header"
            );
            let last = shots.len() - 1;
            // Before the final header sync, the batch is not committed: the pool ends where it
            // ended before. Evicted messages may be gone; the others must all be there.
            let must = (after.0, before.1.max(after.0));
            for (k, img) in shots.iter().enumerate() {
                let end = if k == last { after.1 } else { before.1 };
                check_cut(
                    img,
                    &log,
                    must,
                    end,
                    &format!("size {size} round {round} cut {k}"),
                );
                cuts += 1;
                if k == 0 {
                    continue;
                }
                // A cut during sync k: any subset of its pages reached the disk.
                for (m, mix) in mixes(&shots[k - 1], img, &mut rng).into_iter().enumerate() {
                    let end = if k == last && mix.1 {
                        after.1
                    } else {
                        before.1
                    };
                    let what = format!("size {size} round {round} during sync {k}, mix {m}");
                    check_cut(&mix.0, &log, must, end, &what);
                }
            }
        }
        assert!(
            bounds(&r).0 > 1,
            "size {size}: the ring wrapped and evicted"
        );
        assert!(cuts >= 450);
    }
}

#[test]
fn fast_appends_lose_at_most_what_was_not_flushed_and_never_tear() {
    let mut rng = Rng::new(9);
    for round in 0..60u64 {
        let r = Region::in_memory(12_000, true).unwrap();
        let mut w = Writer::default();
        let mut log = Log::new();
        let mut durable_end = 1;
        let mut flushed_live = (1, 1);
        let mut id = 0;
        for step in 0..40 {
            let flush = rng.below(4) == 0;
            let msgs: Vec<String> = (0..1 + rng.below(4))
                .map(|_| {
                    id += 1;
                    data(id, &mut rng)
                })
                .collect();
            for (c, m) in append(&r, &mut w, &msgs, flush).iter().zip(&msgs) {
                log.insert(c.seq, m.clone());
            }
            if flush {
                durable_end = bounds(&r).1;
                flushed_live = bounds(&r);
            }
            // The power cut: exactly the state of the last flush (the fast appends since are lost).
            let img = r.durable_image().unwrap();
            let what = format!("round {round} step {step}");
            check_cut(&img, &log, flushed_live, durable_end, &what);
        }
        // Pages written back behind the protocol's back (the kernel may do so at any time): whatever
        // is read is intact and was committed as that seq; flushed messages no later append evicted
        // are still there.
        let live_now = bounds(&r);
        for _ in 0..3 {
            let page = rng.below(3) as usize * 4096;
            r.sync(page, 4096).unwrap();
        }
        let cut = Region::from_image(&r.durable_image().unwrap(), true).unwrap();
        let (oldest, next) = bounds(&cut);
        let mut buf = FrameBuf::default();
        for seq in oldest..next {
            if let Ok(Got::Found) = reader::get(&cut, seq, &mut buf) {
                assert_eq!(
                    log.get(&seq).map(String::as_str),
                    Some(buf.data()),
                    "seq {seq}"
                );
            }
        }
        for seq in flushed_live.0.max(live_now.0)..flushed_live.1 {
            assert_eq!(
                reader::get(&cut, seq, &mut buf),
                Ok(Got::Found),
                "flushed {seq}"
            );
            assert_eq!(log.get(&seq).map(String::as_str), Some(buf.data()));
        }
    }
}

/// Runs one `flush` append with the observer on; returns its receipts and the live image (what a
/// process crash leaves) at each of its sync points.
fn append_capturing_live(
    r: &mut Region,
    w: &mut Writer,
    msgs: &[String],
) -> (Vec<Committed>, Vec<Vec<u8>>) {
    let shots = Arc::new(Mutex::new(Vec::new()));
    let s2 = Arc::clone(&shots);
    r.set_sync_observer(Some(SyncObserver(Box::new(move |r| {
        s2.lock().unwrap().push(r.snapshot_bytes());
    }))));
    let out = append(r, w, msgs, true);
    r.set_sync_observer(None);
    let shots = shots.lock().unwrap().clone();
    (out, shots)
}

/// Reads from the oldest like a tail does: past damage it resyncs (`skip_corrupt`) and goes on.
fn tail_all(r: &Region) -> Vec<(u64, String)> {
    let mut view = View::load(r).expect("state after a power cut");
    let mut cur = view.oldest();
    let mut buf = FrameBuf::default();
    let mut got = Vec::new();
    for _ in 0..100_000 {
        match reader::read_next(r, &mut cur, &mut view, &mut buf) {
            Ok(Step::Frame) => got.push((buf.seq(), buf.data().to_owned())),
            Ok(Step::CaughtUp) => return got,
            Err(reader::ReadError::Corrupt { .. }) => {
                reader::skip_corrupt(r, &mut cur, &mut view).expect("resync");
            }
            other => panic!("reading after a power cut: {other:?}"),
        }
    }
    panic!("the tail made no progress");
}

/// The class of issue 21: after a `flush`, `fast` appends go on (wrapping and evicting), and the
/// kernel writes pages back at any moment, so a power cut leaves every page (header, index, ring) at
/// its own age between the flush and the cut, and a frame header that straddles a page boundary torn
/// between two ages; batches a crash cut short earlier leave whole stale frames. Whatever the mix: `get` and a tail from the oldest find every flushed message
/// no later append evicted, intact; everything read was committed as that seq; and the next append
/// evicts a flushed message only when it needs its room.
#[test]
fn flushed_messages_survive_a_power_cut_that_kept_pages_of_every_age() {
    const PAGE: usize = 4096;
    let mut rng = Rng::new(21);
    for round in 0..400u64 {
        let size = [12_000u64, 16_384, 20_000][round as usize % 3];
        let mut r = Region::in_memory(size, true).unwrap();
        let ring = r.geometry().ring_size;
        // Every frame ever written per seq: committed, or of a batch a crash cut short (seqs reused).
        let mut written: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        let mut w = Writer::default();
        let mut log = Log::new();
        let mut id = 0;
        let mut batch = |rng: &mut Rng, n: u64| -> Vec<String> {
            (0..n)
                .map(|_| {
                    id += 1;
                    let most = if rng.below(2) == 0 { 20 } else { 300 };
                    let pad = "q".repeat(rng.below(most) as usize);
                    format!("{{\"id\":{id},\"pad\":\"{pad}\"}}")
                })
                .collect()
        };
        for _ in 0..rng.below(30) {
            let msgs = {
                let n = 1 + rng.below(4);
                batch(&mut rng, n)
            };
            if rng.below(6) == 0 {
                // A writer killed after its frames and index entries, before it published: the
                // frames stay in the ring, whole, and their seqs are reused by the next writer.
                let (out, shots) = append_capturing_live(&mut r, &mut w, &msgs);
                for (c, m) in out.iter().zip(&msgs) {
                    written.entry(c.seq).or_default().push(m.clone());
                }
                r = Region::from_image(&shots[shots.len() - 2], true).unwrap();
                w = Writer::default();
                continue;
            }
            for (c, m) in append(&r, &mut w, &msgs, false).iter().zip(&msgs) {
                log.insert(c.seq, m.clone());
            }
        }
        let msgs = {
            let n = 1 + rng.below(8);
            batch(&mut rng, n)
        };
        for (c, m) in append(&r, &mut w, &msgs, true).iter().zip(&msgs) {
            log.insert(c.seq, m.clone());
        }
        let flushed = bounds(&r);
        let mut ages = vec![r.durable_image().unwrap()];
        for _ in 0..1 + rng.below(12) {
            let msgs = {
                let n = 1 + rng.below(6);
                batch(&mut rng, n)
            };
            for (c, m) in append(&r, &mut w, &msgs, false).iter().zip(&msgs) {
                log.insert(c.seq, m.clone());
            }
            ages.push(r.snapshot_bytes());
        }
        let live_oldest = bounds(&r).0;
        let mut img = ages[0].clone();
        for p in 0..img.len().div_ceil(PAGE) {
            let from = &ages[rng.below(ages.len() as u64) as usize];
            let span = p * PAGE..((p + 1) * PAGE).min(img.len());
            img[span.clone()].copy_from_slice(&from[span]);
        }
        let what = format!("round {round}");
        let cut = Region::from_image(&img, true).unwrap();
        let mut buf = FrameBuf::default();
        let kept: Vec<u64> = (flushed.0.max(live_oldest)..flushed.1).collect();
        let mut first_pos = None;
        for &seq in &kept {
            let got = reader::get(&cut, seq, &mut buf);
            assert_eq!(got, Ok(Got::Found), "{what}: get flushed {seq}");
            assert_eq!(
                log.get(&seq).map(String::as_str),
                Some(buf.data()),
                "{what}"
            );
            first_pos.get_or_insert(buf.pos());
        }
        let read = tail_all(&cut);
        for (seq, d) in &read {
            let ok = log.get(seq) == Some(d) || written.get(seq).is_some_and(|v| v.contains(d));
            assert!(ok, "{what}: {seq} reads {d:?}, never written as {seq}");
        }
        for &seq in &kept {
            assert!(
                read.iter().any(|m| m.0 == seq),
                "{what}: a tail from the oldest skips flushed {seq}"
            );
        }
        let mut w2 = Writer::default();
        let out = append(&cut, &mut w2, &["\"after\"".to_owned()], false);
        let (st, _) = cut.state().expect("the state after the next append");
        assert_eq!(st.next_seq, out[0].seq + 1, "{what}");
        assert_eq!(reader::get(&cut, out[0].seq, &mut buf), Ok(Got::Found));
        if let (Some(&first), Some(pos)) = (kept.first(), first_pos) {
            if st.head_pos - pos <= ring {
                assert!(
                    st.oldest_seq <= first,
                    "{what}: the append evicted flushed {first} without needing its room"
                );
                assert_eq!(reader::get(&cut, first, &mut buf), Ok(Got::Found), "{what}");
            }
        }
    }
}
