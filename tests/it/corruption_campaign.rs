//! Corruption campaign: random byte flips, truncations, zeroed pages and garbage pages in the header,
//! index and ring of real pool files. For every damaged copy:
//! - `plasmite doctor` (the binary) reports damage to any byte the format protects: exit 7 with a JSON
//!   report naming the damaged element's offset, or the file is refused with a clear error;
//! - readers (`get` of every seq, a tail from the oldest) return only messages that were written, or
//!   `Corrupt` with an offset; nothing panics and nothing dies of a signal (SIGBUS).
//!
//! Which bytes are protected is worked out from the pristine file, independently of `validate`:
//! the geometry (bytes 0..68), the live state slot, each live frame's header and payload (not its
//! padding), the mark of each wrap marker in the live range, and the index entries of the newest
//! `index_slots` messages (an entry whose seq looks like the leftover of a cut batch is exempt).

use crate::support::{Rng, TempDir};
use plasmite::api::TailStart;
use plasmite::limits::BATCH_MESSAGES_MAX;
use plasmite::pool::format::{self, Geometry, State};
use plasmite::{Client, Durability, ErrorKind, Pool, PoolRef, TailEvent, TailOptions};
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

/// A byte range the format protects, and where a report about it points.
#[derive(Debug, Clone)]
struct Elem {
    /// Offset a report must name (the frame, slot or entry start; 0..68 for the geometry).
    start: u64,
    bytes: std::ops::Range<usize>,
    /// For index entries: the seq it must describe (damage that looks like a leftover is exempt).
    index_seq: Option<u64>,
}

/// The protected elements of a pristine pool image.
struct Layout {
    geo: Geometry,
    state: State,
    elems: Vec<Elem>,
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

fn layout(img: &[u8]) -> Layout {
    let geo = Geometry::decode(img).unwrap();
    let ver = u64_at(img, format::OFF_STATE_VERSION);
    let slot = format::OFF_STATE_SLOTS[(ver & 1) as usize];
    let w = |i: usize| u64_at(img, slot + 8 * i);
    let state = State::from_words([w(0), w(1), w(2), w(3), w(4)]);
    let mut elems = vec![
        Elem {
            start: 0,
            bytes: 0..format::GEOMETRY_BYTES + 4,
            index_seq: None,
        },
        Elem {
            start: slot as u64,
            bytes: slot..slot + format::STATE_SLOT_BYTES,
            index_seq: None,
        },
    ];
    let ring = geo.ring_size;
    let (mut pos, mut seq) = (state.tail_pos, state.oldest_seq);
    while pos < state.head_pos {
        let off = (geo.ring_offset + pos % ring) as usize;
        let mark = u32::from_le_bytes(img[off..off + 4].try_into().unwrap());
        if mark == format::MARK_WRAP {
            elems.push(Elem {
                start: off as u64,
                bytes: off..off + 4,
                index_seq: None,
            });
            pos = format::next_lap(pos, ring);
            continue;
        }
        let h = format::FrameHeader::decode(&img[off..off + 32]).unwrap();
        assert_eq!((h.mark, h.seq), (format::MARK_COMMITTED, seq));
        elems.push(Elem {
            start: off as u64,
            bytes: off..off + 32 + h.payload_len as usize,
            index_seq: None,
        });
        if seq + geo.index_slots >= state.next_seq {
            let e = (geo.index_offset + (seq % geo.index_slots) * 16) as usize;
            elems.push(Elem {
                start: e as u64,
                bytes: e..e + 16,
                index_seq: Some(seq),
            });
        }
        pos += h.frame_len();
        seq += 1;
    }
    assert_eq!(seq, state.next_seq);
    Layout { geo, state, elems }
}

impl Layout {
    /// The protected elements that `damaged` changed.
    fn damaged(&self, pristine: &[u8], damaged: &[u8]) -> Vec<&Elem> {
        self.elems
            .iter()
            .filter(|e| pristine[e.bytes.clone()] != damaged[e.bytes.clone()])
            .filter(|e| match e.index_seq {
                None => true,
                Some(seq) => !self.looks_like_leftover(seq, u64_at(damaged, e.bytes.start)),
            })
            .collect()
    }

    /// A cut batch leaves entries for seqs in `[next_seq, next_seq + BATCH_MESSAGES_MAX)` in their
    /// own slots; a reader cannot tell those from damage, and must not report them.
    fn looks_like_leftover(&self, slot_seq: u64, got: u64) -> bool {
        let next = self.state.next_seq;
        got >= next
            && got - next < BATCH_MESSAGES_MAX as u64
            && got % self.geo.index_slots == slot_seq % self.geo.index_slots
    }
}

/// A pool of `size` bytes filled with `n` messages (tags, varied sizes); every message by seq.
fn pristine(t: &TempDir, name: &str, size: u64, n: u64) -> (Vec<u8>, HashMap<u64, String>) {
    let pool = Client::new(t.path())
        .create_pool(&PoolRef::name(name), size)
        .unwrap();
    let mut sent = HashMap::new();
    for i in 0..n {
        let pad = "z".repeat((i * 37 % 180) as usize);
        let tags = ["a", "bb"];
        let m = pool
            .append_json(
                format!("{{\"i\":{i},\"pad\":\"{pad}\"}}").as_bytes(),
                &tags[..(i % 3) as usize],
                Durability::Fast,
            )
            .unwrap();
        sent.insert(m.seq, m.data);
    }
    (std::fs::read(pool.path()).unwrap(), sent)
}

/// One kind of damage at a random place; returns the damaged bytes and a description.
fn damage(img: &[u8], lay: &Layout, rng: &mut Rng, round: u64) -> (Vec<u8>, String) {
    let mut b = img.to_vec();
    let len = b.len() as u64;
    let index_end = lay.geo.ring_offset;
    let live = lay.geo.ring_offset + lay.state.tail_pos % lay.geo.ring_size;
    // Aim at each area in turn: header, index, ring near the live tail, anywhere.
    let at = match round % 4 {
        0 => rng.below(512),
        1 => format::HEADER_BYTES + rng.below(index_end - format::HEADER_BYTES),
        2 => (live + rng.below(4096)).min(len - 1),
        _ => rng.below(len),
    } as usize;
    match rng.below(10) {
        0..=5 => {
            let x = if rng.below(2) == 0 {
                1 << rng.below(8)
            } else {
                1 + rng.below(255) as u8
            };
            b[at] ^= x;
            (b, format!("xor {x:#04x} at {at}"))
        }
        6 => {
            let keep = rng.below(len) as usize;
            b.truncate(keep);
            (b, format!("truncated to {keep}"))
        }
        7 | 8 => {
            let page = at / 4096 * 4096;
            let end = (page + 4096).min(b.len());
            let zero = rng.below(2) == 0;
            for (k, v) in b[page..end].iter_mut().enumerate() {
                *v = if zero {
                    0
                } else {
                    (rng.next_u64() >> (k % 7)) as u8
                };
            }
            let what = if zero { "zeroed" } else { "garbage in" };
            (b, format!("{what} page at {page}"))
        }
        _ => {
            let n = 2 + rng.below(6);
            for _ in 0..n {
                let o = (at as u64 + rng.below(256)).min(len - 1) as usize;
                b[o] ^= 1 << rng.below(8);
            }
            (b, format!("{n} bit flips from {at}"))
        }
    }
}

/// Runs `plasmite doctor PATH`; returns the exit code and the JSON report.
fn doctor(dir: &Path, path: &Path) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_plasmite"))
        .arg("--dir")
        .arg(dir)
        .arg("doctor")
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), None, "doctor died of a signal");
    let code = out.status.code().unwrap();
    if out.stdout.is_empty() {
        // A pool doctor cannot check at all is an error on stderr: seen here as one refused issue.
        let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
            panic!("doctor printed neither a report nor an error ({e}), exit {code}")
        });
        let issue = &err["error"];
        let report = serde_json::json!({"ok": false, "issues": [{
            "kind": issue["kind"], "message": issue["message"],
            "offset": issue["offset"], "seq": issue["seq"],
        }]});
        return (code, report);
    }
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON report ({e}), exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

/// Every message a reader returns is one that was written; every error is `Corrupt` (with an offset)
/// or `NotFound`. Returns how many reads failed.
fn read_back(pool: &Pool, sent: &HashMap<u64, String>) -> u64 {
    let mut failed = 0;
    let Ok(info) = pool.info() else { return 1 };
    if let Some((oldest, newest)) = info.bounds {
        // About 50 seqs, both ends included: a get of an unindexed seq walks from the tail.
        let step = ((newest - oldest) / 48).max(1) as usize;
        for seq in (oldest..=newest).step_by(step).chain([newest]) {
            match pool.get(seq) {
                Ok(m) => assert_eq!(Some(&m.data), sent.get(&seq), "get({seq})"),
                Err(e) => {
                    failed += 1;
                    assert!(
                        matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::NotFound),
                        "{e}"
                    );
                    assert!(
                        e.kind() != ErrorKind::Corrupt || e.offset().is_some(),
                        "{e}"
                    );
                }
            }
        }
    }
    let tail = pool.tail(TailOptions {
        start: TailStart::Since(1),
        idle_timeout: Some(std::time::Duration::from_millis(1)),
        ..Default::default()
    });
    for ev in tail.into_iter().flatten().take(100_000) {
        match ev {
            Ok(TailEvent::Message(m)) => {
                assert_eq!(Some(&m.data), sent.get(&m.seq), "tail at {}", m.seq)
            }
            Ok(TailEvent::Dropped { .. }) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}"),
        }
    }
    failed
}

/// Checks one damaged copy; returns whether doctor reported it.
fn check_round(
    t: &TempDir,
    img: &[u8],
    lay: &Layout,
    sent: &HashMap<u64, String>,
    b: &[u8],
    what: &str,
) -> bool {
    let path = t.join("damaged.plasmite");
    std::fs::write(&path, b).unwrap();
    let (code, rep) = doctor(t.path(), &path);
    let issues = rep["issues"].as_array().cloned().unwrap_or_default();
    let offsets: Vec<u64> = issues.iter().filter_map(|i| i["offset"].as_u64()).collect();
    let refused = issues.iter().any(|i| i.get("kind").is_some());
    let must: Vec<&Elem> = if b.len() < img.len() {
        Vec::new()
    } else {
        lay.damaged(img, b)
    };
    match code {
        0 => {
            assert!(rep["ok"] == true && issues.is_empty(), "{what}: {rep}");
            assert!(
                b.len() == img.len() && must.is_empty(),
                "{what}: damage to {} protected elements, first {:?}, not reported: {rep}",
                must.len(),
                must.first()
            );
        }
        2 | 7 => {
            assert!(rep["ok"] == false && !issues.is_empty(), "{what}: {rep}");
            assert!(
                code == 7 || refused,
                "{what}: only a refusal may exit 2: {rep}"
            );
            if b.len() < img.len() {
                let msg = issues[0]["message"].as_str().unwrap_or("");
                assert!(
                    refused
                        && (msg.contains("truncated")
                            || msg.contains("too short")
                            || msg.contains("header says")),
                    "{what}: {rep}"
                );
            } else if !must.is_empty() {
                let named = must.iter().any(|e| {
                    offsets
                        .iter()
                        .any(|&o| o == e.start || (e.start == 0 && o < e.bytes.end as u64))
                });
                assert!(
                    named,
                    "{what}: report names none of {} damaged elements (first {:?}): {rep}",
                    must.len(),
                    must.first()
                );
            }
        }
        other => panic!("{what}: doctor exited {other}: {rep}"),
    }
    match Pool::open_path(&path) {
        Ok(pool) => {
            read_back(&pool, sent);
        }
        Err(e) => {
            assert!(
                matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::Usage),
                "{what}: {e}"
            );
            assert!(!e.message().is_empty() && e.path().is_some(), "{what}: {e}");
        }
    }
    code != 0
}

fn campaign(name: &str, size: u64, n: u64, rounds: u64, seed: u64) {
    let t = TempDir::new(&format!("campaign-{name}"));
    let (img, sent) = pristine(&t, name, size, n);
    let lay = layout(&img);
    let (code, rep) = doctor(t.path(), &t.join(&format!("{name}.plasmite")));
    assert_eq!(code, 0, "pristine: {rep}");
    let mut rng = Rng::new(seed);
    let (mut reported, mut protected) = (0, 0);
    for round in 0..rounds {
        let (b, what) = damage(&img, &lay, &mut rng, round);
        protected += u64::from(b.len() < img.len() || !lay.damaged(&img, &b).is_empty());
        reported += u64::from(check_round(
            &t,
            &img,
            &lay,
            &sent,
            &b,
            &format!("{name} round {round}: {what}"),
        ));
    }
    eprintln!(
        "{name}: {reported} of {rounds} damaged copies reported, {protected} hit protected bytes"
    );
    assert!(protected > rounds / 3, "the campaign hits protected bytes");
}

#[test]
fn damaged_pools_are_reported_by_doctor_and_never_read_as_garbage() {
    // Wrapped, more messages than index slots, wrap markers in the live range.
    campaign("wrapped", 64 * 1024, 3000, 250, 11);
    // Not wrapped, every message indexed.
    campaign("fresh", 96 * 1024, 300, 150, 12);
}

#[test]
fn a_garbage_index_entry_is_reported_even_when_its_seq_is_past_the_end() {
    let t = TempDir::new("campaign-index");
    let (mut img, _) = pristine(&t, "ix", 64 * 1024, 20);
    let lay = layout(&img);
    let entry = (lay.geo.index_offset + 5 * 16) as usize;
    // A seq far past next_seq: no interrupted append could have left it.
    img[entry..entry + 8].copy_from_slice(&0x7a3f_0000_0000_0005u64.to_le_bytes());
    let path = t.join("ix2.plasmite");
    std::fs::write(&path, &img).unwrap();
    let (code, rep) = doctor(t.path(), &path);
    assert_eq!(code, 7, "{rep}");
    assert_eq!(rep["issues"][0]["offset"], entry as u64, "{rep}");
    // A plausible leftover (its own slot, within one batch of next_seq) is not damage.
    let leftover =
        lay.state.next_seq + lay.geo.index_slots - lay.state.next_seq % lay.geo.index_slots + 5;
    img[entry..entry + 8].copy_from_slice(&leftover.to_le_bytes());
    std::fs::write(&path, &img).unwrap();
    assert_eq!(doctor(t.path(), &path).0, 0);
}

#[test]
fn a_damaged_tail_frame_does_not_hide_the_unindexed_messages_after_it() {
    let t = TempDir::new("campaign-scan");
    // 350 messages, 256 index slots: seqs 1 to 94 are live but no longer indexed.
    let (mut img, sent) = pristine(&t, "scan", 64 * 1024, 350);
    let lay = layout(&img);
    assert_eq!((lay.state.oldest_seq, lay.geo.index_slots), (1, 256));
    img[lay.geo.ring_offset as usize] ^= 0x40; // the mark of message 1
    let path = t.join("scan2.plasmite");
    std::fs::write(&path, &img).unwrap();
    let pool = Pool::open_path(&path).unwrap();
    assert_eq!(pool.get(1).unwrap_err().kind(), ErrorKind::Corrupt);
    for seq in [2, 3, 50, 94, 95, 350] {
        assert_eq!(pool.get(seq).unwrap().data, sent[&seq], "get({seq})");
    }
    let mut tail = pool
        .tail(TailOptions {
            start: TailStart::Since(1),
            max: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(tail.next().unwrap().unwrap_err().kind(), ErrorKind::Corrupt);
    assert!(matches!(
        tail.next(),
        Some(Ok(TailEvent::Dropped { lost: 1 }))
    ));
    assert!(matches!(tail.next(), Some(Ok(TailEvent::Message(m))) if m.seq == 2));
    let rep = pool.validate();
    assert_eq!(
        (rep.issues.len(), rep.messages_lost, rep.messages_ok),
        (1, 1, 349)
    );
}

#[test]
fn a_damaged_wrap_marker_loses_no_message() {
    // A wrap marker can be damaged by the disk, or by a power cut that kept a newer ring page than
    // the header page (the marker overwritten by later frames, the state still pointing before it).
    // The message after it is intact at the start of the next lap: doctor reports the marker, every
    // reader still finds every message.
    let t = TempDir::new("campaign-wrap");
    let (mut img, sent) = pristine(&t, "wrap", 64 * 1024, 3000);
    let lay = layout(&img);
    let marks: Vec<&Elem> = lay.elems.iter().filter(|e| e.bytes.len() == 4).collect();
    assert!(!marks.is_empty(), "the live range holds a wrap marker");
    let at = marks[0].start as usize;
    img[at] ^= 0x5a;
    let path = t.join("wrap2.plasmite");
    std::fs::write(&path, &img).unwrap();
    let pool = Pool::open_path(&path).unwrap();
    let live = lay.state.oldest_seq..lay.state.next_seq;
    for seq in live.clone() {
        assert_eq!(pool.get(seq).unwrap().data, sent[&seq], "get({seq})");
    }
    let tail = pool
        .tail(TailOptions {
            start: TailStart::Since(lay.state.oldest_seq),
            max: Some(live.end - live.start),
            ..Default::default()
        })
        .unwrap();
    let (mut seqs, mut corrupt) = (Vec::new(), 0);
    for ev in tail {
        match ev {
            Ok(TailEvent::Message(m)) => {
                assert_eq!(m.data, sent[&m.seq]);
                seqs.push(m.seq);
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Corrupt);
                corrupt += 1;
            }
        }
    }
    assert_eq!((seqs, corrupt), (live.collect::<Vec<_>>(), 1));
    let rep = pool.validate();
    assert_eq!((rep.issues.len(), rep.messages_lost), (1, 0), "{rep:?}");
    let (code, rep) = doctor(t.path(), &path);
    assert_eq!(code, 7, "{rep}");
    assert_eq!(rep["issues"][0]["offset"], at as u64, "{rep}");
}
