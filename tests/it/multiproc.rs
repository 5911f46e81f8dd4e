//! Real processes: concurrent writers, readers racing writers that wrap the ring, and writers killed
//! with SIGKILL in the middle of a batch. Child roles are ignored tests of this same binary that the
//! parent runs with an environment variable set.

use crate::support::{spawn_child, Rng, TempDir};
use plasmite::api::{JsonText, TailStart};
use plasmite::{Durability, Pool, TailEvent, TailOptions};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const ROLE: &str = "PLASMITE_IT_ROLE";
const PATH: &str = "PLASMITE_IT_PATH";
const ID: &str = "PLASMITE_IT_ID";
const COUNT: &str = "PLASMITE_IT_COUNT";

/// Self-checking payload: `sum` is derived from the rest, so a torn or mixed read cannot pass.
fn payload(w: u64, i: u64, pad: usize) -> String {
    let p = "x".repeat(pad);
    format!(
        "{{\"w\":{w},\"i\":{i},\"pad\":\"{p}\",\"sum\":{}}}",
        w * 1_000_003 + i * 7 + pad as u64
    )
}

fn check_payload(data: &str) -> (u64, u64) {
    let v: serde_json::Value = serde_json::from_str(data).expect("data parses");
    let (w, i) = (v["w"].as_u64().unwrap(), v["i"].as_u64().unwrap());
    let pad = v["pad"].as_str().unwrap().len() as u64;
    assert_eq!(
        v["sum"].as_u64().unwrap(),
        w * 1_000_003 + i * 7 + pad,
        "self-check of {data}"
    );
    (w, i)
}

/// Child role: append COUNT messages (one lock each) or loop forever in batches (killed by parent).
#[test]
#[ignore = "child role of multi-process tests"]
fn child_writer_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let pool = Pool::open_path(Path::new(&std::env::var(PATH).unwrap())).unwrap();
    let id: u64 = std::env::var(ID).unwrap().parse().unwrap();
    let count: u64 = std::env::var(COUNT).unwrap().parse().unwrap();
    let none: &[&str] = &[];
    match role.as_str() {
        "single" => {
            for i in 0..count {
                let pad = (i % 50) as usize;
                pool.append_json(payload(id, i, pad).as_bytes(), none, Durability::Fast)
                    .unwrap();
            }
        }
        "batches" => {
            let mut i = 0u64;
            loop {
                let texts: Vec<JsonText> = (0..200)
                    .map(|k| {
                        JsonText::parse(payload(id, i + k, ((i + k) % 300) as usize).as_bytes())
                            .unwrap()
                    })
                    .collect();
                let recs: Vec<(&JsonText, &[&str])> = texts.iter().map(|t| (t, none)).collect();
                pool.append_batch(&recs, Durability::Fast).unwrap();
                i += 200;
                if count > 0 && i >= count {
                    return;
                }
            }
        }
        other => panic!("unknown role {other}"),
    }
}

fn env(role: &str, path: &Path, id: u64, count: u64) -> Vec<(&'static str, String)> {
    vec![
        (ROLE, role.to_owned()),
        (PATH, path.display().to_string()),
        (ID, id.to_string()),
        (COUNT, count.to_string()),
    ]
}

#[test]
fn four_writer_processes_lose_nothing_and_keep_each_writers_order() {
    let t = TempDir::new("mp-writers");
    let path = t.join("w.plasmite");
    plasmite::Client::new(t.path())
        .create_pool(&plasmite::PoolRef::path(&path), 16 << 20)
        .unwrap();
    let kids: Vec<_> = (0..4)
        .map(|id| {
            spawn_child(
                "multiproc::child_writer_role",
                &env("single", &path, id, 10_000),
            )
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }
    let pool = Pool::open_path(&path).unwrap();
    let info = pool.info().unwrap();
    assert_eq!(info.bounds, Some((1, 40_000)));
    let mut next_i: HashMap<u64, u64> = HashMap::new();
    let tail = pool
        .tail(TailOptions {
            start: TailStart::Since(1),
            max: Some(40_000),
            ..Default::default()
        })
        .unwrap();
    for (expect_seq, ev) in (1..).zip(tail) {
        let TailEvent::Message(m) = ev.unwrap() else {
            panic!("drop in a pool that never wrapped")
        };
        assert_eq!(m.seq, expect_seq);
        let (w, i) = check_payload(&m.data);
        let n = next_i.entry(w).or_insert(0);
        assert_eq!(i, *n, "writer {w} order kept, no loss or duplicate");
        *n += 1;
    }
    assert_eq!(
        next_i.values().copied().collect::<Vec<_>>(),
        vec![10_000; 4]
    );
    assert!(pool.validate().ok());
}

#[test]
fn readers_never_see_a_torn_message_while_writers_wrap_the_ring() {
    let t = TempDir::new("mp-torn");
    let path = t.join("r.plasmite");
    plasmite::Client::new(t.path())
        .create_pool(&plasmite::PoolRef::path(&path), 128 * 1024)
        .unwrap();
    let kids: Vec<_> = (0..2)
        .map(|id| {
            spawn_child(
                "multiproc::child_writer_role",
                &env("batches", &path, id, 40_000),
            )
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let pool = Pool::open_path(&path).unwrap();
                let tail = pool
                    .tail(TailOptions {
                        start: TailStart::Since(1),
                        idle_timeout: Some(Duration::from_millis(1500)),
                        ..Default::default()
                    })
                    .unwrap();
                let (mut seen, mut lost, mut expect) = (0u64, 0u64, 1u64);
                for ev in tail {
                    match ev.expect("no read error while racing writers") {
                        TailEvent::Message(m) => {
                            assert_eq!(m.seq, expect, "contiguous except for reported drops");
                            check_payload(&m.data);
                            expect = m.seq + 1;
                            seen += 1;
                        }
                        TailEvent::Dropped { lost: n } => {
                            lost += n;
                            expect += n;
                        }
                    }
                }
                (seen, lost)
            })
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }
    for r in readers {
        let (seen, lost) = r.join().unwrap();
        assert!(seen > 1000, "reader verified {seen} messages");
        assert!(
            seen + lost >= 80_000,
            "every seq accounted for: {seen} + {lost}"
        );
    }
    assert!(Pool::open_path(&path).unwrap().validate().ok());
}

#[test]
fn sigkill_in_the_middle_of_batches_never_breaks_the_pool() {
    let t = TempDir::new("mp-kill");
    let path = t.join("k.plasmite");
    plasmite::Client::new(t.path())
        .create_pool(&plasmite::PoolRef::path(&path), 256 * 1024)
        .unwrap();
    let mut rng = Rng::new(7);
    let mut last_newest = 0;
    for round in 0..50 {
        let mut kid = spawn_child(
            "multiproc::child_writer_role",
            &env("batches", &path, round, 0),
        );
        std::thread::sleep(Duration::from_millis(5 + rng.below(40)));
        kid.kill().unwrap();
        kid.wait().unwrap();
        let pool = Pool::open_path(&path).unwrap();
        let rep = pool.validate();
        assert!(rep.ok(), "round {round}: {:?}", rep.issues);
        let info = pool.info().unwrap();
        let (oldest, newest) = info.bounds.unwrap_or((1, 0));
        assert!(newest >= last_newest, "acknowledged messages stay");
        for seq in oldest..=newest {
            check_payload(&pool.get(seq).unwrap().data);
        }
        let m = pool
            .append_json(
                payload(999, round, 1).as_bytes(),
                &[] as &[&str],
                Durability::Fast,
            )
            .unwrap();
        assert_eq!(m.seq, newest + 1, "the next append continues the seq");
        last_newest = m.seq;
    }
}
