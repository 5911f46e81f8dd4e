//! Tails over HTTP: start points and ends, lapped streams, cancellation by closing the connection
//! (under load), and reconnection with resume through the remote client.

use crate::support::{eventually, make_pool, request, serve, HttpConn, TempDir};
use plasmite::remote::{Event, Follow, Options, Remote};
use plasmite::{Durability, Pool};
use std::time::{Duration, Instant};

fn put(p: &Pool, from: u64, n: u64) {
    for i in from..from + n {
        p.append_json(
            format!("{{\"i\":{i}}}").as_bytes(),
            &[] as &[&str],
            Durability::Fast,
        )
        .unwrap();
    }
}

fn lines(body: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(body)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn seqs(body: &[u8]) -> Vec<u64> {
    lines(body)
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn since_seq_is_inclusive_and_max_and_timeout_end_the_stream() {
    let t = TempDir::new("tail-http-since");
    let p = make_pool(t.path(), "p", None);
    put(&p, 0, 10);
    let s = serve(t.path(), |_| {});
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?since_seq=4&max=3",
        None,
        None,
    );
    assert_eq!(seqs(&r.body), vec![4, 5, 6]);
    assert_eq!(r.header("plasmite-next-seq").as_deref(), Some("4"));
    let t0 = Instant::now();
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?since_seq=8&timeout_ms=200",
        None,
        None,
    );
    assert_eq!(seqs(&r.body), vec![8, 9, 10]);
    assert!(t0.elapsed() >= Duration::from_millis(150) && t0.elapsed() < Duration::from_secs(3));
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?since_seq=50&timeout_ms=50",
        None,
        None,
    );
    assert!(r.body.is_empty());
    let r = request(s.addr(), "GET", "/v0/pools/p/tail?max=0", None, None);
    assert!(r.body.is_empty());
}

#[test]
fn requests_pipelined_behind_a_tail_are_answered_after_it_in_order() {
    // Tails go to tiny_http's request threads, other requests are answered by the connection's own
    // thread: the order on one connection must still be the order of the requests.
    let t = TempDir::new("tail-http-pipeline");
    let p = make_pool(t.path(), "p", None);
    put(&p, 0, 3);
    let s = serve(t.path(), |_| {});
    let mut c = HttpConn::open(s.addr());
    let requests = [
        ("GET", "/v0/pools/p/tail?since_seq=2&timeout_ms=300", None),
        (
            "POST",
            "/v0/pools/p/append",
            Some(r#"{"data":{"after":"tail"}}"#),
        ),
        ("GET", "/v0/pools/p/messages/4", None),
    ];
    let raw: Vec<u8> = requests
        .iter()
        .flat_map(|&(method, path, body)| crate::support::raw_request(method, path, None, body))
        .collect();
    c.send(&raw);
    let tail = c.read_response();
    assert_eq!(
        seqs(&tail.body),
        vec![2, 3],
        "the append waited for the tail"
    );
    let appended = c.read_response();
    assert_eq!(appended.json()["message"]["seq"].as_u64(), Some(4));
    let got = c.read_response();
    assert_eq!(got.json()["message"]["data"]["after"], "tail");
}

#[test]
fn without_since_seq_only_new_messages_are_delivered_as_they_arrive() {
    let t = TempDir::new("tail-http-edge");
    let p = make_pool(t.path(), "p", None);
    put(&p, 0, 5);
    let s = serve(t.path(), |_| {});
    let mut c = HttpConn::open(s.addr());
    c.send(&crate::support::raw_request(
        "GET",
        "/v0/pools/p/tail?max=2&timeout_ms=10000",
        None,
        None,
    ));
    assert!(eventually(Duration::from_secs(3), || s.tails() == 1));
    let head = {
        // The head arrives before any message.
        let mut h = c.read_response_head_only();
        h.truncate(200);
        h
    };
    assert!(head.contains("plasmite-next-seq: 6"), "{head}");
    put(&p, 100, 1);
    let first = c.read_chunks(1);
    assert_eq!(seqs(&first), vec![6], "a live message is flushed at once");
    put(&p, 101, 1);
    let rest = c.read_chunks(2);
    assert_eq!(seqs(&rest), vec![7]);
}

#[test]
fn a_lapped_tail_says_how_many_messages_it_lost() {
    let t = TempDir::new("tail-http-lapped");
    let p = make_pool(t.path(), "p", Some(plasmite::limits::POOL_SIZE_BYTES_MIN));
    let big = format!("\"{}\"", "x".repeat(1000));
    for _ in 0..200 {
        p.append_json(big.as_bytes(), &[] as &[&str], Durability::Fast)
            .unwrap();
    }
    let oldest = p.info().unwrap().bounds.unwrap().0;
    let s = serve(t.path(), |_| {});
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?since_seq=1&max=1",
        None,
        None,
    );
    let l = lines(&r.body);
    assert_eq!(l[0]["drop"]["lost"].as_u64(), Some(oldest - 1), "{l:?}");
    assert_eq!(l[0]["drop"]["next_seq"].as_u64(), Some(oldest));
    assert_eq!(l[1]["seq"].as_u64(), Some(oldest));
}

#[test]
fn closing_the_connection_cancels_tails_promptly_under_load() {
    let t = TempDir::new("tail-http-cancel");
    let p = make_pool(t.path(), "p", Some(8 << 20));
    let s = serve(t.path(), |_| {});
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (p, stop) = (p.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) && i < 200_000 {
                put(&p, i, 10);
                i += 10;
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    for round in 0..3 {
        let mut conns: Vec<HttpConn> = (0..8)
            .map(|k| {
                let mut c = HttpConn::open(s.addr());
                // Half follow the live edge (mostly idle waits), half read a backlog (mostly writes).
                let path = if k % 2 == 0 {
                    "/v0/pools/p/tail"
                } else {
                    "/v0/pools/p/tail?since_seq=1"
                };
                c.send(&crate::support::raw_request("GET", path, None, None));
                c
            })
            .collect();
        assert!(
            eventually(Duration::from_secs(5), || s.tails() == 8),
            "round {round}: tails {} conns {}",
            s.tails(),
            s.connections()
        );
        for c in &mut conns {
            let head = c.read_response_head_only();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        }
        drop(conns);
        assert!(
            eventually(Duration::from_secs(3), || s.tails() == 0),
            "round {round}: {} tails left",
            s.tails()
        );
        assert!(eventually(Duration::from_secs(3), || s.connections() == 0));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().unwrap();
    assert_eq!(request(s.addr(), "GET", "/healthz", None, None).status, 200);
}

fn collect(f: &mut Follow, n: usize, limit: Duration) -> Vec<u64> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while got.len() < n {
        match f.next(Some(deadline)).unwrap() {
            Some(Event::Message(m)) => got.push(m.seq),
            Some(other) => panic!("unexpected {other:?}"),
            None => break,
        }
    }
    got
}

#[test]
fn a_follower_resumes_across_stream_ends_and_server_restarts_without_gaps_or_duplicates() {
    let t = TempDir::new("tail-http-resume");
    let p = make_pool(t.path(), "p", Some(4 << 20));
    // Streams end every 150 ms, so the follower reconnects many times.
    let short =
        |c: &mut plasmite::server::Config| c.limits.tail_timeout_max = Duration::from_millis(150);
    let s = serve(t.path(), short);
    let addr = s.addr();
    let url = format!("http://{addr}/p");
    let mut f = Follow::new(Remote::new(&url, &Options::default()).unwrap(), None);
    // Nothing yet: the follower learns the live edge from the first stream.
    assert!(collect(&mut f, 1, Duration::from_millis(300)).is_empty());
    assert_eq!(f.resume_seq(), Some(1));
    let writer = {
        let p = p.clone();
        std::thread::spawn(move || {
            for i in 0..60 {
                put(&p, i, 1);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let got = collect(&mut f, 60, Duration::from_secs(20));
    writer.join().unwrap();
    assert_eq!(got, (1..=60).collect::<Vec<_>>());
    // Restart the server on the same address while the follower waits.
    s.shutdown();
    put(&p, 60, 20);
    let s2 = {
        let mut c = plasmite::server::Config::new(t.path(), addr);
        short(&mut c);
        plasmite::server::start(c).unwrap()
    };
    let got = collect(&mut f, 20, Duration::from_secs(20));
    assert_eq!(got, (61..=80).collect::<Vec<_>>());
    drop(s2);
}
