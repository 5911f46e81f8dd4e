//! Damaged pool files: flipped bytes in the header, state, index and frames, and truncation. Readers
//! return intact messages or `Corrupt` with path and offset; never garbage, a panic or SIGBUS.

use crate::support::{Rng, TempDir};
use plasmite::api::{TailStart, POOL_EXTENSION};
use plasmite::pool::format;
use plasmite::{Client, Durability, ErrorKind, Pool, PoolRef, TailEvent, TailOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A pool with `n` distinct messages; returns its path and the messages by seq.
fn filled(t: &TempDir, name: &str, size: u64, n: u64) -> (PathBuf, HashMap<u64, String>) {
    let p = Client::new(t.path())
        .create_pool(&PoolRef::name(name), size)
        .unwrap();
    let mut sent = HashMap::new();
    for i in 0..n {
        let m = p
            .append_json(
                format!("{{\"i\":{i},\"s\":\"{}\"}}", "y".repeat((i % 40) as usize)).as_bytes(),
                &["t"],
                Durability::Fast,
            )
            .unwrap();
        sent.insert(m.seq, m.data);
    }
    (p.path().to_path_buf(), sent)
}

fn flip(path: &Path, offset: u64, mask: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[offset as usize] ^= mask;
    std::fs::write(path, b).unwrap();
}

/// Reads every seq with `get` and through a tail; every message returned must be one that was sent.
fn read_all_checked(pool: &Pool, sent: &HashMap<u64, String>) -> (u64, u64) {
    let (mut good, mut errors) = (0, 0);
    let Ok(info) = pool.info() else { return (0, 1) };
    if let Some((o, n)) = info.bounds {
        // A sample (a get of an unindexed seq walks from the tail, past any damage).
        for seq in (o..=n).step_by(((n - o) / 64).max(1) as usize).chain([n]) {
            match pool.get(seq) {
                Ok(m) => {
                    assert_eq!(
                        Some(&m.data),
                        sent.get(&seq),
                        "get({seq}) returned a message that was never written"
                    );
                    good += 1;
                }
                Err(e) => {
                    assert!(
                        matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::NotFound),
                        "{e}"
                    );
                    if e.kind() == ErrorKind::Corrupt {
                        assert!(e.offset().is_some() && e.path().is_some(), "{e}");
                    }
                    errors += 1;
                }
            }
        }
    }
    let opts = TailOptions {
        start: TailStart::Since(1),
        idle_timeout: Some(std::time::Duration::from_millis(1)),
        ..Default::default()
    };
    if let Ok(tail) = pool.tail(opts) {
        for ev in tail.take(100_000) {
            if let Ok(TailEvent::Message(m)) = ev {
                assert_eq!(
                    Some(&m.data),
                    sent.get(&m.seq),
                    "tail returned a message that was never written"
                );
            }
        }
    }
    (good, errors)
}

#[test]
fn a_flipped_geometry_byte_is_corrupt_with_path_and_offset() {
    let t = TempDir::new("corrupt-geom");
    let (path, _) = filled(&t, "g", 64 * 1024, 10);
    flip(&path, format::OFF_RING_SIZE as u64 + 1, 0x10);
    let e = Pool::open_path(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert_eq!(e.path(), Some(path.as_path()));
    assert!(e.offset().is_some());
}

#[test]
fn a_flipped_state_byte_is_corrupt_and_nothing_is_read_or_written() {
    let t = TempDir::new("corrupt-state");
    let (path, _) = filled(&t, "s", 64 * 1024, 10);
    let pool = Pool::open_path(&path).unwrap();
    let live_slot = {
        let b = std::fs::read(&path).unwrap();
        let v = u64::from_le_bytes(b[format::OFF_STATE_VERSION..][..8].try_into().unwrap());
        format::OFF_STATE_SLOTS[(v & 1) as usize]
    };
    drop(pool);
    flip(&path, live_slot as u64 + 8, 0x01);
    let pool = Pool::open_path(&path).unwrap();
    let e = pool.info().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert_eq!(e.offset(), Some(live_slot as u64));
    assert_eq!(pool.get(1).unwrap_err().kind(), ErrorKind::Corrupt);
    assert_eq!(
        pool.append_json(b"1", &[] as &[&str], Durability::Fast)
            .unwrap_err()
            .kind(),
        ErrorKind::Corrupt
    );
    assert!(!pool.validate().ok());
}

#[test]
fn a_flipped_index_entry_still_reads_correctly_and_doctor_reports_it() {
    let t = TempDir::new("corrupt-index");
    let (path, sent) = filled(&t, "i", 64 * 1024, 50);
    flip(&path, format::HEADER_BYTES + 16 * 7 + 8, 0x40);
    let pool = Pool::open_path(&path).unwrap();
    assert_eq!(
        pool.get(7).unwrap().data,
        sent[&7],
        "lookups verify and fall back"
    );
    let rep = pool.validate();
    assert_eq!(rep.issues.len(), 1, "{:?}", rep.issues);
    assert_eq!(rep.issues[0].seq, Some(7));
    assert_eq!(rep.issues[0].offset, Some(format::HEADER_BYTES + 16 * 7));
}

#[test]
fn a_flipped_frame_byte_is_corrupt_for_get_and_reported_lost_by_tails() {
    let t = TempDir::new("corrupt-frame");
    let (path, sent) = filled(&t, "f", 64 * 1024, 20);
    let pool = Pool::open_path(&path).unwrap();
    let ring_offset = pool.info().unwrap().ring_offset;
    drop(pool);
    // Message 1 is the first frame: flip a byte of its data.
    flip(&path, ring_offset + 40, 0x20);
    let pool = Pool::open_path(&path).unwrap();
    let e = pool.get(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert_eq!(e.offset(), Some(ring_offset));
    assert_eq!(e.seq(), Some(1));
    assert_eq!(pool.get(2).unwrap().data, sent[&2]);
    let mut tail = pool
        .tail(TailOptions {
            start: TailStart::Since(1),
            max: Some(19),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(tail.next().unwrap().unwrap_err().kind(), ErrorKind::Corrupt);
    assert!(matches!(
        tail.next(),
        Some(Ok(TailEvent::Dropped { lost: 1 }))
    ));
    let rest: Vec<u64> = tail
        .map(|e| match e.unwrap() {
            TailEvent::Message(m) => m.seq,
            d => panic!("{d:?}"),
        })
        .collect();
    assert_eq!(rest, (2..=20).collect::<Vec<_>>());
    let rep = pool.validate();
    assert_eq!(rep.issues.len(), 1);
    assert_eq!(
        (rep.issues[0].seq, rep.issues[0].offset),
        (Some(1), Some(ring_offset))
    );
    // The writer reclaims the damaged frame when it wraps, and the pool heals.
    for _ in 0..3000 {
        pool.append_json(b"{}", &[] as &[&str], Durability::Fast)
            .unwrap();
    }
    assert!(pool.validate().ok());
}

#[test]
fn a_truncated_pool_is_refused_not_mapped() {
    let t = TempDir::new("corrupt-trunc");
    let (path, _) = filled(&t, "tr", 128 * 1024, 10);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(100 * 1024).unwrap();
    let e = Pool::open_path(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert!(
        e.message().contains("truncated") || e.message().contains("header says"),
        "{e}"
    );
}

#[test]
fn random_byte_flips_never_yield_garbage_or_panic() {
    let t = TempDir::new("corrupt-random");
    let (path, sent) = filled(&t, "r", 64 * 1024, 1500);
    let pristine = std::fs::read(&path).unwrap();
    let mut rng = Rng::new(42);
    let copy = t.join(&format!("copy.{POOL_EXTENSION}"));
    for round in 0..300 {
        let mut b = pristine.clone();
        for _ in 0..1 + rng.below(4) {
            let off = if round % 3 == 0 {
                rng.below(1024)
            } else {
                rng.below(b.len() as u64)
            } as usize;
            b[off] ^= 1 << rng.below(8);
        }
        std::fs::write(&copy, &b).unwrap();
        match Pool::open_path(&copy) {
            Ok(pool) => {
                let _ = pool.validate();
                read_all_checked(&pool, &sent);
            }
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::Usage),
                "{e}"
            ),
        }
    }
}
