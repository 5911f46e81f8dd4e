//! Resource exhaustion through the HTTP port: a descriptor limit with a connection flood, silent
//! connections and the per-address cap, a tail reader that stalls, and what a server leaves behind
//! in the temp dir (nothing) whatever signal ends it.

use crate::support::{bin, eventually, make_pool, request, serve, HttpConn, TempDir};
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `plasmite --dir DIR serve --bind 127.0.0.1:0 ARGS` (`tweak` adjusts the command) and
/// returns the child and the `listening` object of its banner.
fn spawn_server(
    dir: &std::path::Path,
    args: &[&str],
    tweak: impl FnOnce(&mut Command),
) -> (Child, serde_json::Value) {
    let mut cmd = Command::new(bin());
    cmd.args([
        "--dir",
        dir.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
    ])
    .args(args)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    tweak(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&first).unwrap_or_else(|e| panic!("banner {first:?}: {e}"));
    (child, v["listening"].clone())
}

fn addr_of(listening: &serde_json::Value) -> SocketAddr {
    listening["addr"].as_str().unwrap().parse().unwrap()
}

fn healthz_ok(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    use std::io::Write;
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut got = String::new();
    let _ = s.read_to_string(&mut got);
    got.starts_with("HTTP/1.1 200")
}

#[test]
fn a_connection_flood_under_a_low_descriptor_limit_leaves_the_server_answering() {
    let t = TempDir::new("srv-nofile");
    let (mut child, listening) =
        spawn_server(t.path(), &["--max-connections-per-ip", "100000"], |c| {
            plasmite::server::child_nofile_limit(c, 256)
        });
    let addr = addr_of(&listening);
    // The connection limit was clamped to what 256 descriptors allow.
    let max = listening["connections_max"].as_u64().unwrap();
    assert_eq!(
        max,
        256 - plasmite::limits::HTTP_FDS_RESERVED,
        "{listening}"
    );
    let flood: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .collect();
    assert!(flood.len() > max as usize);
    std::thread::sleep(Duration::from_secs(2));
    drop(flood);
    assert!(
        eventually(Duration::from_secs(20), || healthz_ok(addr)),
        "the server does not answer after the flood"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn silent_connections_are_cut_off_from_the_accept_and_one_address_is_capped() {
    let t = TempDir::new("srv-silent");
    let s = serve(t.path(), |c| {
        c.limits.connections_per_ip_max = 4;
        c.limits.head_timeout = Duration::from_millis(500);
    });
    let mut silent: Vec<HttpConn> = (0..4).map(|_| HttpConn::open(s.addr())).collect();
    assert!(eventually(Duration::from_secs(5), || s.connections() == 4));
    // The fifth from the same address is refused with 503 Busy and Retry-After.
    let r = request(s.addr(), "GET", "/healthz", None, None);
    assert_eq!((r.status, r.kind()), (503, "Busy".to_owned()), "{}", r.head);
    assert_eq!(r.header("Retry-After").as_deref(), Some("1"));
    // The silent ones are closed by the head deadline, counted from the accept (not the idle
    // timeout of 60 s), and their slots come back.
    for c in &mut silent {
        assert!(c.closed_within(Duration::from_secs(10)));
    }
    drop(silent);
    assert!(eventually(Duration::from_secs(10), || {
        request(s.addr(), "GET", "/healthz", None, None).status == 200
    }));
}

#[test]
fn a_tail_whose_reader_stalls_is_cut_off_after_the_write_timeout_in_total() {
    let t = TempDir::new("srv-stall");
    let p = make_pool(t.path(), "p", Some(64 << 20));
    let payload = format!("\"{}\"", "x".repeat(1000));
    for _ in 0..30_000 {
        p.append_json(
            payload.as_bytes(),
            &[] as &[&str],
            plasmite::Durability::Fast,
        )
        .unwrap();
    }
    let s = serve(t.path(), |c| {
        c.limits.write_timeout = Duration::from_secs(1)
    });
    let mut c = HttpConn::open(s.addr());
    c.send(&crate::support::raw_request(
        "GET",
        "/v0/pools/p/tail?since_seq=1",
        None,
        None,
    ));
    assert!(eventually(Duration::from_secs(5), || s.tails() == 1));
    // A reader that accepts a little now and then: every partial write makes progress, but no chunk
    // is accepted whole within the timeout.
    let start = Instant::now();
    let mut stream = c.stream.try_clone().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(0) = stream.read(&mut buf) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        false
    });
    assert!(
        eventually(Duration::from_secs(30), || s.tails() == 0),
        "the stalled tail still streams"
    );
    drop(c);
    let _ = reader.join();
    assert_eq!(request(s.addr(), "GET", "/healthz", None, None).status, 200);
}

fn temp_after(signal: Option<&str>, tmp: &std::path::Path) {
    std::fs::create_dir_all(tmp).unwrap();
    let t = TempDir::new("srv-tmp");
    make_pool(t.path(), "p", None);
    let (mut child, listening) = spawn_server(t.path(), &[], |c| {
        c.env("TMPDIR", tmp);
    });
    let addr = addr_of(&listening);
    assert!(healthz_ok(addr));
    // A tail too, so every kind of connection was used.
    let mut c = HttpConn::open(addr);
    c.send(&crate::support::raw_request(
        "GET",
        "/v0/pools/p/tail?timeout_ms=100",
        None,
        None,
    ));
    let _ = c.read_response();
    match signal {
        Some(sig) => {
            Command::new("kill")
                .args([&format!("-{sig}"), &child.id().to_string()])
                .status()
                .unwrap();
        }
        None => child.kill().unwrap(),
    }
    let _ = child.wait();
    let left: Vec<_> = std::fs::read_dir(tmp).unwrap().collect();
    assert!(
        left.is_empty(),
        "{signal:?} left {left:?} in {}",
        tmp.display()
    );
}

#[test]
fn the_temp_dir_holds_nothing_new_after_sigterm_sigint_or_sigkill_even_when_its_path_is_long() {
    let t = TempDir::new("srv-tmpdirs");
    for sig in [Some("TERM"), Some("INT"), None] {
        temp_after(sig, &t.join(&format!("tmp-{}", sig.unwrap_or("KILL"))));
    }
    let long = t.join(&"a-long-temporary-directory-name-".repeat(4));
    assert!(long.as_os_str().len() > 100);
    temp_after(Some("TERM"), &long);
}
