//! Tails through the library API: start points, ends, cancellation, lapped readers.

use crate::support::TempDir;
use plasmite::api::{TailEnd, TailStart};
use plasmite::{Client, Durability, Pool, PoolRef, TailEvent, TailOptions};
use std::time::{Duration, Instant};

fn pool(t: &TempDir, size: u64) -> Pool {
    Client::new(t.path())
        .create_pool(&PoolRef::name("t"), size)
        .unwrap()
}

fn put(p: &Pool, n: u64) {
    for i in 0..n {
        p.append_json(
            format!("{{\"i\":{i}}}").as_bytes(),
            &[] as &[&str],
            Durability::Fast,
        )
        .unwrap();
    }
}

fn seqs(events: impl Iterator<Item = plasmite::Result<TailEvent>>) -> Vec<u64> {
    events
        .map(|e| match e.unwrap() {
            TailEvent::Message(m) => m.seq,
            TailEvent::Dropped { lost } => panic!("unexpected drop of {lost}"),
        })
        .collect()
}

fn opts(start: TailStart, max: Option<u64>, idle_ms: Option<u64>) -> TailOptions {
    TailOptions {
        start,
        max,
        idle_timeout: idle_ms.map(Duration::from_millis),
        ..Default::default()
    }
}

#[test]
fn since_is_inclusive_and_last_n_takes_the_newest() {
    let t = TempDir::new("tail-since");
    let p = pool(&t, 1 << 20);
    put(&p, 10);
    let tail = p.tail(opts(TailStart::Since(4), Some(3), None)).unwrap();
    assert_eq!(seqs(tail), vec![4, 5, 6]);
    let tail = p.tail(opts(TailStart::Last(3), None, Some(50))).unwrap();
    assert_eq!(seqs(tail), vec![8, 9, 10]);
    let tail = p.tail(opts(TailStart::Last(100), None, Some(50))).unwrap();
    assert_eq!(seqs(tail).len(), 10);
}

#[test]
fn edge_delivers_only_new_messages() {
    let t = TempDir::new("tail-edge");
    let p = pool(&t, 1 << 20);
    put(&p, 5);
    let tail = p.tail(opts(TailStart::Edge, Some(2), Some(2000))).unwrap();
    let p2 = p.clone();
    let w = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        put(&p2, 2);
    });
    assert_eq!(seqs(tail), vec![6, 7]);
    w.join().unwrap();
}

#[test]
fn since_beyond_the_newest_waits_for_that_seq() {
    let t = TempDir::new("tail-future");
    let p = pool(&t, 1 << 20);
    put(&p, 2);
    let tail = p
        .tail(opts(TailStart::Since(5), Some(1), Some(2000)))
        .unwrap();
    let p2 = p.clone();
    let w = std::thread::spawn(move || put(&p2, 4));
    assert_eq!(seqs(tail), vec![5]);
    w.join().unwrap();
}

#[test]
fn since_time_starts_at_the_first_message_at_or_after_it() {
    let t = TempDir::new("tail-time");
    let p = pool(&t, 1 << 20);
    put(&p, 3);
    std::thread::sleep(Duration::from_millis(5));
    let mark = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    put(&p, 2);
    let tail = p
        .tail(opts(TailStart::SinceTime(mark), None, Some(30)))
        .unwrap();
    assert_eq!(seqs(tail), vec![4, 5]);
    let tail = p
        .tail(opts(TailStart::SinceTime(0), Some(1), None))
        .unwrap();
    assert_eq!(seqs(tail), vec![1]);
}

#[test]
fn idle_timeout_ends_the_tail_and_says_why() {
    let t = TempDir::new("tail-idle");
    let p = pool(&t, 1 << 20);
    let mut tail = p.tail(opts(TailStart::Edge, None, Some(80))).unwrap();
    let t0 = Instant::now();
    assert!(tail.next().is_none());
    let waited = t0.elapsed();
    // A lower bound only: the timeout is never early; how late it is on a loaded machine is the
    // benchmarks' business.
    assert!(waited >= Duration::from_millis(75), "{waited:?}");
    assert_eq!(tail.end(), Some(TailEnd::Timeout));
}

#[test]
fn cancel_from_another_thread_wakes_a_waiting_tail() {
    let t = TempDir::new("tail-cancel");
    let p = pool(&t, 1 << 20);
    let mut tail = p.tail(opts(TailStart::Edge, None, None)).unwrap();
    let c = tail.canceller();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        tx.send((tail.next().is_none(), tail.end())).unwrap();
    });
    // Whether the tail is already asleep or not, a cancel must end it (no message ever comes).
    std::thread::sleep(Duration::from_millis(50));
    c.cancel();
    let (ended, why) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the cancelled tail ended");
    assert!(ended);
    assert_eq!(why, Some(TailEnd::Cancelled));
}

#[test]
fn nothing_is_delivered_after_cancellation_even_with_a_backlog() {
    let t = TempDir::new("tail-cancel-backlog");
    let p = pool(&t, 1 << 20);
    put(&p, 100);
    let mut tail = p.tail(opts(TailStart::Since(1), None, None)).unwrap();
    assert!(tail.next().is_some());
    tail.canceller().cancel();
    assert!(tail.next().is_none());
    assert_eq!(tail.end(), Some(TailEnd::Cancelled));
}

#[test]
fn a_lapped_reader_is_told_how_many_messages_it_lost() {
    let t = TempDir::new("tail-lapped");
    let p = pool(&t, 64 * 1024);
    put(&p, 1);
    let mut tail = p.tail(opts(TailStart::Since(1), None, Some(50))).unwrap();
    assert!(matches!(tail.next(), Some(Ok(TailEvent::Message(ref m))) if m.seq == 1));
    put(&p, 5000);
    let info = p.info().unwrap();
    let (oldest, newest) = info.bounds.unwrap();
    assert!(oldest > 2, "the ring wrapped");
    match tail.next().unwrap().unwrap() {
        TailEvent::Dropped { lost } => assert_eq!(lost, oldest - 2),
        other => panic!("expected a drop, got {other:?}"),
    }
    let rest = seqs(tail);
    assert_eq!(rest.first(), Some(&oldest));
    assert_eq!(rest.last(), Some(&newest));
    assert!(rest.windows(2).all(|w| w[1] == w[0] + 1));
}

#[test]
fn since_an_evicted_seq_reports_the_gap_then_starts_at_the_oldest() {
    let t = TempDir::new("tail-evicted");
    let p = pool(&t, 64 * 1024);
    put(&p, 3000);
    let (oldest, _) = p.info().unwrap().bounds.unwrap();
    let mut tail = p.tail(opts(TailStart::Since(1), Some(1), None)).unwrap();
    assert!(matches!(tail.next(), Some(Ok(TailEvent::Dropped { lost })) if lost == oldest - 1));
    assert!(matches!(tail.next(), Some(Ok(TailEvent::Message(ref m))) if m.seq == oldest));
}

#[test]
fn zero_copy_refs_match_owned_messages() {
    let t = TempDir::new("tail-ref");
    let p = pool(&t, 1 << 20);
    p.append_json(br#"{"k":"v"}"#, &["a", "b"], Durability::Fast)
        .unwrap();
    let mut tail = p.tail(opts(TailStart::Since(1), Some(1), None)).unwrap();
    match tail.next_ref().unwrap().unwrap() {
        plasmite::api::TailEventRef::Message(m) => {
            assert_eq!(m.seq(), 1);
            assert_eq!(m.data(), r#"{"k":"v"}"#);
            assert_eq!(m.tags().collect::<Vec<_>>(), ["a", "b"]);
            let mut line = Vec::new();
            m.write_json(&mut line);
            let mut owned = Vec::new();
            m.to_message().write_json(&mut owned);
            assert_eq!(line, owned);
        }
        other => panic!("{other:?}"),
    }
}
