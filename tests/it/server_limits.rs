//! Every server limit at its edge, each followed by a check that the server still serves others.

use crate::support::{eventually, make_pool, request, serve, HttpConn, TempDir};
use std::io::Write;
use std::time::{Duration, Instant};

fn healthy(addr: std::net::SocketAddr) {
    let t = Instant::now();
    let r = request(addr, "GET", "/healthz", None, None);
    assert_eq!(r.status, 200);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn body_limit_is_inclusive_and_oversized_bodies_get_413_without_being_read() {
    let t = TempDir::new("lim-body");
    make_pool(t.path(), "p", Some(4 << 20));
    let s = serve(t.path(), |c| c.limits.body_bytes_max = 1000);
    let body_of = |len: usize| {
        let pad = len - r#"{"data":""}"#.len();
        format!(r#"{{"data":"{}"}}"#, "x".repeat(pad))
    };
    let r = request(
        s.addr(),
        "POST",
        "/v0/pools/p/append",
        None,
        Some(&body_of(1000)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = request(
        s.addr(),
        "POST",
        "/v0/pools/p/append",
        None,
        Some(&body_of(1001)),
    );
    assert_eq!((r.status, r.kind()), (413, "Usage".to_owned()));
    // A huge declared length is refused from the head alone.
    let mut c = HttpConn::open(s.addr());
    c.send(b"POST /v0/pools/p/append HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n{\"data\":");
    let r = c.read_response();
    assert_eq!((r.status, r.kind()), (413, "Usage".to_owned()));
    assert!(c.closed_within(Duration::from_secs(5)));
    healthy(s.addr());
}

#[test]
fn the_default_body_limit_is_one_mebibyte() {
    assert_eq!(plasmite::limits::HTTP_BODY_BYTES_MAX_DEFAULT, 1 << 20);
    let t = TempDir::new("lim-body-default");
    let s = serve(t.path(), |_| {});
    let mut c = HttpConn::open(s.addr());
    c.send(
        format!(
            "POST /v0/pools HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            (1 << 20) + 1
        )
        .as_bytes(),
    );
    assert_eq!(c.read_response().status, 413);
}

#[test]
fn oversized_heads_get_431_and_memory_is_not_spent_on_them() {
    let t = TempDir::new("lim-head");
    let s = serve(t.path(), |_| {});
    let max = plasmite::limits::HTTP_HEAD_BYTES_MAX;
    // Just under the limit: accepted.
    let filler = "a".repeat(max - 200);
    let mut c = HttpConn::open(s.addr());
    c.send(format!("GET /healthz HTTP/1.1\r\nX-Fill: {filler}\r\n\r\n").as_bytes());
    assert_eq!(c.read_response().status, 200);
    // One long header line, sent without end: refused as soon as the limit is crossed.
    let mut c = HttpConn::open(s.addr());
    c.send(b"GET /healthz HTTP/1.1\r\nX-Fill: ");
    let chunk = vec![b'a'; 4096];
    let mut sent = 0;
    while sent < 4 * max {
        if c.stream.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    let r = c.read_response();
    assert_eq!((r.status, r.kind()), (431, "Usage".to_owned()));
    // Too many header lines.
    let many: String = (0..=plasmite::limits::HTTP_HEADERS_COUNT_MAX)
        .map(|i| format!("H{i}: v\r\n"))
        .collect();
    let mut c = HttpConn::open(s.addr());
    c.send(format!("GET /healthz HTTP/1.1\r\n{many}\r\n").as_bytes());
    assert_eq!(c.read_response().status, 431);
    healthy(s.addr());
}

#[test]
fn a_slowloris_client_is_cut_off_with_408_while_others_are_served() {
    let t = TempDir::new("lim-slow");
    let s = serve(t.path(), |c| {
        c.limits.head_timeout = Duration::from_millis(400);
        c.limits.body_timeout = Duration::from_millis(400);
    });
    let started = Instant::now();
    let mut slow = HttpConn::open(s.addr());
    // A byte every 100 ms: each read makes progress, but the head never completes in time.
    for b in b"GET /healthz HTTP/1.1\r\nX-Slow: a".iter().take(8) {
        let _ = slow.stream.write_all(&[*b]);
        std::thread::sleep(Duration::from_millis(100));
        healthy(s.addr());
    }
    let r = slow.read_response();
    assert_eq!((r.status, r.kind()), (408, "Usage".to_owned()));
    assert!(started.elapsed() < Duration::from_secs(3));
    // A slow body.
    make_pool(t.path(), "p", None);
    let mut slow = HttpConn::open(s.addr());
    slow.send(b"POST /v0/pools/p/append HTTP/1.1\r\nContent-Length: 20\r\n\r\n{\"da");
    let r = slow.read_response();
    assert_eq!((r.status, r.kind()), (408, "Usage".to_owned()));
    healthy(s.addr());
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let t = TempDir::new("lim-idle");
    let s = serve(t.path(), |c| {
        c.limits.idle_timeout = Duration::from_millis(300)
    });
    let mut c = HttpConn::open(s.addr());
    assert_eq!(c.request("GET", "/healthz", None, None).status, 200);
    let t0 = Instant::now();
    assert!(c.closed_within(Duration::from_secs(5)));
    assert!(t0.elapsed() >= Duration::from_millis(250));
    assert!(eventually(Duration::from_secs(2), || s.connections() == 0));
}

#[test]
fn too_many_connections_get_423_and_slots_come_back() {
    let t = TempDir::new("lim-conns");
    let s = serve(t.path(), |c| c.limits.connections_max = 3);
    let mut held: Vec<HttpConn> = (0..3).map(|_| HttpConn::open(s.addr())).collect();
    for c in &mut held {
        assert_eq!(c.request("GET", "/healthz", None, None).status, 200);
    }
    assert_eq!(s.connections(), 3);
    let mut extra = HttpConn::open(s.addr());
    extra.send(&crate::support::raw_request("GET", "/healthz", None, None));
    let r = extra.read_response();
    assert_eq!((r.status, r.kind()), (423, "Busy".to_owned()));
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    drop(held.pop());
    assert!(eventually(Duration::from_secs(3), || s.connections() == 2));
    healthy(s.addr());
}

#[test]
fn too_many_tails_get_423_and_cancelled_tails_free_their_slot() {
    let t = TempDir::new("lim-tails");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |c| c.limits.tails_max = 2);
    let mut tails: Vec<HttpConn> = (0..2)
        .map(|_| {
            let mut c = HttpConn::open(s.addr());
            c.send(&crate::support::raw_request(
                "GET",
                "/v0/pools/p/tail",
                None,
                None,
            ));
            c
        })
        .collect();
    assert!(eventually(Duration::from_secs(3), || s.tails() == 2));
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?timeout_ms=10",
        None,
        None,
    );
    assert_eq!((r.status, r.kind()), (423, "Busy".to_owned()));
    drop(tails.pop());
    assert!(eventually(Duration::from_secs(3), || s.tails() == 1));
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?timeout_ms=10",
        None,
        None,
    );
    assert_eq!(r.status, 200);
    healthy(s.addr());
}

#[test]
fn tail_timeouts_are_capped_by_the_server() {
    let t = TempDir::new("lim-tail-timeout");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |c| {
        c.limits.tail_timeout_max = Duration::from_millis(300)
    });
    let t0 = Instant::now();
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?timeout_ms=600000",
        None,
        None,
    );
    assert_eq!(r.status, 200);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let t0 = Instant::now();
    let r = request(s.addr(), "GET", "/v0/pools/p/tail", None, None);
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert!(t0.elapsed() < Duration::from_secs(3));
}
