//! Model test: random append / batch / get / tail / reopen sequences on real pool files of many sizes,
//! checked against a `VecDeque` of everything appended. Covers wrap-around at many pool and message
//! sizes and the retention rule (only as much is evicted as room requires).

use crate::support::{Rng, TempDir};
use plasmite::api::{JsonText, TailStart};
use plasmite::pool::format;
use plasmite::{Client, Durability, ErrorKind, Pool, PoolRef, TailEvent, TailOptions};
use std::collections::VecDeque;

struct Model {
    /// (seq, tags, data) of every message still expected to be readable, oldest first.
    msgs: VecDeque<(u64, Vec<String>, String)>,
    next: u64,
}

fn frame_len(tags: &[String], data: &str) -> u64 {
    format::frame_len((tags.iter().map(|t| 1 + t.len()).sum::<usize>() + data.len()) as u64)
}

fn random_message(rng: &mut Rng, max_data: u64) -> (Vec<String>, String) {
    let tags: Vec<String> = (0..rng.below(3))
        .map(|i| format!("tag{i}-{}", rng.below(100)))
        .collect();
    let len = 1 + rng.below(max_data);
    let data = format!(
        "{{\"r\":{},\"p\":\"{}\"}}",
        rng.below(1 << 30),
        "z".repeat(len as usize)
    );
    (tags, data)
}

fn check(pool: &Pool, model: &mut Model, ring_size: u64, rng: &mut Rng) {
    let info = pool.info().unwrap();
    let Some((oldest, newest)) = info.bounds else {
        assert!(model.msgs.is_empty());
        return;
    };
    assert_eq!(newest, model.next - 1);
    while model.msgs.front().is_some_and(|m| m.0 < oldest) {
        model.msgs.pop_front();
    }
    assert_eq!(
        model.msgs.front().map(|m| m.0),
        Some(oldest),
        "retained messages are a suffix"
    );
    // Retention: what is kept plus one more message would not have fit.
    let kept: u64 = model.msgs.iter().map(|m| frame_len(&m.1, &m.2)).sum();
    assert!(kept <= ring_size);
    if oldest > 1 {
        assert!(kept + ring_size / 2 > ring_size / 2, "sanity");
        assert!(
            kept >= ring_size / 4,
            "evicted more than needed: kept {kept} of {ring_size}"
        );
    }
    for _ in 0..5 {
        let i = rng.below(model.msgs.len() as u64) as usize;
        let (seq, tags, data) = &model.msgs[i];
        let m = pool.get(*seq).unwrap();
        assert_eq!((&m.tags, &m.data), (tags, data));
    }
    if oldest > 1 {
        assert_eq!(
            pool.get(oldest - 1).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
    assert_eq!(
        pool.get(newest + 1).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

fn check_tail(pool: &Pool, model: &Model, rng: &mut Rng) {
    let Some(first) = model.msgs.front() else {
        return;
    };
    let k = rng.below(model.msgs.len() as u64) as usize;
    let start = model.msgs[k].0;
    let max = 1 + rng.below(50);
    let tail = pool
        .tail(TailOptions {
            start: TailStart::Since(start),
            max: Some(max),
            idle_timeout: Some(std::time::Duration::from_millis(1)),
            ..Default::default()
        })
        .unwrap();
    let got: Vec<_> = tail
        .map(|e| match e.unwrap() {
            TailEvent::Message(m) => (m.seq, m.data),
            d => panic!("{d:?}"),
        })
        .collect();
    let want: Vec<_> = model
        .msgs
        .iter()
        .skip(k)
        .take(max as usize)
        .map(|m| (m.0, m.2.clone()))
        .collect();
    assert_eq!(got, want, "tail from {start} (oldest {})", first.0);
}

fn run(seed: u64, size: u64, max_data: u64, steps: usize) {
    let t = TempDir::new("model");
    let c = Client::new(t.path());
    let r = PoolRef::name("m");
    let mut pool = c.create_pool(&r, size).unwrap();
    let ring = pool.info().unwrap().ring_size;
    let mut rng = Rng::new(seed);
    let mut model = Model {
        msgs: VecDeque::new(),
        next: 1,
    };
    for step in 0..steps {
        match rng.below(10) {
            0..=4 => {
                let (tags, data) = random_message(&mut rng, max_data);
                let m = pool
                    .append_json(data.as_bytes(), &tags, Durability::Fast)
                    .unwrap();
                assert_eq!(m.seq, model.next);
                model.msgs.push_back((m.seq, tags, data));
                model.next += 1;
            }
            5 | 6 => {
                let n = 1 + rng.below(40);
                let recs: Vec<(Vec<String>, String)> =
                    (0..n).map(|_| random_message(&mut rng, max_data)).collect();
                let texts: Vec<JsonText> = recs
                    .iter()
                    .map(|r| JsonText::parse(r.1.as_bytes()).unwrap())
                    .collect();
                let items: Vec<(&JsonText, &[String])> = texts
                    .iter()
                    .zip(&recs)
                    .map(|(t, r)| (t, &r.0[..]))
                    .collect();
                let rc = pool.append_batch(&items, Durability::Fast).unwrap();
                for ((tags, data), receipt) in recs.into_iter().zip(rc) {
                    assert_eq!(receipt.seq, model.next);
                    model.msgs.push_back((receipt.seq, tags, data));
                    model.next += 1;
                }
            }
            7 => check_tail(&pool, &model, &mut rng),
            8 => {
                drop(pool);
                pool = c.open_pool(&r).unwrap();
            }
            _ => {}
        }
        check(&pool, &mut model, ring, &mut rng);
        if step % 97 == 0 {
            let rep = pool.validate();
            assert!(rep.ok(), "seed {seed} step {step}: {:?}", rep.issues);
        }
    }
}

#[test]
fn random_operations_match_the_model_at_many_pool_and_message_sizes() {
    let cases: [(u64, u64); 6] = [
        (64 * 1024, 40),
        (64 * 1024, 3000),
        (100 * 1024 + 8, 600),
        (256 * 1024, 9000),
        (1 << 20, 200),
        (300 * 1024 + 40, 20_000),
    ];
    for (i, (size, max_data)) in cases.into_iter().enumerate() {
        run(1000 + i as u64, size, max_data, 1500);
    }
}
