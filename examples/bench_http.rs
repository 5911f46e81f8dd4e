//! Benchmarks of `plasmite serve` that wrk cannot do (appends are measured with wrk, see
//! `spec/http.md`).
//!
//! `cargo run --release --example bench_http -- MODE [--runs N]` with MODE one of:
//! - `tail [--messages N]`: one tail streaming a backlog of N messages (default 1,000,000) over loopback;
//!   messages per second, read by a raw HTTP client and by the remote client (`Follow`).
//! - `latency [--samples N]`: append on the server (library call on the served pool) to the line parsed
//!   by the remote client; p50 and p99.
//! - `idle [--conns N]`: N idle keep-alive connections (default 500) to a `plasmite serve` process: its
//!   RSS and thread count, and the latency of `/healthz` on a new connection while they are held.
//! - `append [--secs N]`: 4 keep-alive connections posting appends to a `plasmite serve` process for N
//!   seconds (default 5); requests per second.
//!
//! `--bin PATH` runs another `plasmite` binary for `idle` and `append` (e.g. an older build, to
//! compare in the same session); `--legacy` leaves out the flags an older build does not know.
//!
//! Each figure is the median of `--runs` runs (default 5). Prints one line per run, then the medians.

use plasmite::api::JsonText;
use plasmite::remote::{Event, Follow, Options, Remote};
use plasmite::server::{self, Config};
use plasmite::{Client, Durability, PoolRef};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("plasmite-bench-http-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Reads a chunked JSON Lines response, counting lines, until `want` lines or the end.
fn count_lines_raw(addr: SocketAddr, path: &str, want: u64) -> u64 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut head: Option<Vec<u8>> = Some(Vec::new());
    let mut lines = 0u64;
    let mut prev = 0u8;
    while lines < want {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let mut data = &buf[..n];
        if let Some(h) = &mut head {
            h.extend_from_slice(data);
            let Some(p) = h.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let skip = n - (h.len() - (p + 4));
            data = &buf[skip..n];
            head = None;
        }
        // Chunk size lines end with "\r\n", data lines with "}\n": count '\n' not preceded by '\r'.
        for &b in data {
            if b == b'\n' && prev != b'\r' {
                lines += 1;
            }
            prev = b;
        }
    }
    lines
}

fn fill(dir: &Path, n: u64) {
    let c = Client::new(dir);
    let pool = c.create_pool(&PoolRef::name("bench"), 256 << 20).unwrap();
    let data = JsonText::parse(br#"{"msg":"a benchmark message","n":123456,"ok":true}"#).unwrap();
    let none: &[&str] = &[];
    let recs: Vec<(&JsonText, &[&str])> = (0..4096).map(|_| (&data, none)).collect();
    let mut done = 0;
    while done < n {
        let k = (n - done).min(recs.len() as u64) as usize;
        pool.append_batch(&recs[..k], Durability::Fast).unwrap();
        done += k as u64;
    }
    assert_eq!(
        pool.info().unwrap().bounds,
        Some((1, n)),
        "the pool must hold the whole backlog"
    );
}

fn tail(runs: usize) {
    let n = arg("--messages", 1_000_000);
    let dir = temp_dir("tail");
    fill(&dir, n);
    let s = server::start(Config::new(&dir, "127.0.0.1:0".parse().unwrap())).unwrap();
    let (mut raw, mut follow) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let t = Instant::now();
        let got = count_lines_raw(
            s.addr(),
            &format!("/v0/pools/bench/tail?since_seq=1&max={n}"),
            n,
        );
        let raw_rate = got as f64 / t.elapsed().as_secs_f64();
        assert_eq!(got, n);
        let r = Remote::new(&format!("{}/bench", s.url()), &Options::default()).unwrap();
        let mut f = Follow::new(r, Some(1));
        let t = Instant::now();
        let mut k = 0;
        while k < n {
            match f.next(None).unwrap() {
                Some(Event::Message(_)) => k += 1,
                other => panic!("{other:?}"),
            }
        }
        let follow_rate = n as f64 / t.elapsed().as_secs_f64();
        println!(
            "run {run}: raw client {raw_rate:.0} msgs/s, remote client {follow_rate:.0} msgs/s"
        );
        raw.push(raw_rate);
        follow.push(follow_rate);
    }
    println!(
        "tail backlog of {n}: median raw client {:.0} msgs/s, median remote client {:.0} msgs/s",
        median(raw),
        median(follow)
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

fn latency(runs: usize) {
    let samples = arg("--samples", 1000);
    let dir = temp_dir("latency");
    let pool = Client::new(&dir)
        .create_pool(&PoolRef::name("bench"), 64 << 20)
        .unwrap();
    let s = server::start(Config::new(&dir, "127.0.0.1:0".parse().unwrap())).unwrap();
    let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let r = Remote::new(&format!("{}/bench", s.url()), &Options::default()).unwrap();
        let mut f = Follow::new(r, None);
        // Learn the live edge first.
        let _ = f.next(Some(Instant::now() + Duration::from_millis(50)));
        let mut lat = Vec::with_capacity(samples as usize);
        for i in 0..samples {
            std::thread::sleep(Duration::from_millis(2));
            let t = Instant::now();
            pool.append_json(
                format!("{{\"i\":{i}}}").as_bytes(),
                &[] as &[&str],
                Durability::Fast,
            )
            .unwrap();
            match f.next(None).unwrap() {
                Some(Event::Message(_)) => lat.push(t.elapsed().as_secs_f64() * 1e6),
                other => panic!("{other:?}"),
            }
        }
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let p50 = lat[lat.len() / 2];
        let p99 = lat[lat.len() * 99 / 100];
        println!("run {run}: p50 {p50:.0} us, p99 {p99:.0} us");
        p50s.push(p50);
        p99s.push(p99);
    }
    println!(
        "append -> remote line: median p50 {:.0} us, median p99 {:.0} us",
        median(p50s),
        median(p99s)
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn healthz(addr: SocketAddr, s: &mut TcpStream) {
    write!(s, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"{\"ok\":true}") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "{addr}: connection closed");
        got.extend_from_slice(&buf[..n]);
    }
}

fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn threads(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// Starts `plasmite serve` (this build's, or `--bin`) on a free port with room for `conns`.
fn spawn_serve(dir: &Path, conns: usize) -> (std::process::Child, SocketAddr) {
    let bin = match text_arg("--bin") {
        Some(b) => PathBuf::from(b),
        None => {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("plasmite")
        }
    };
    let legacy = std::env::args().any(|a| a == "--legacy");
    let max = (conns + 64).to_string();
    let mut args = vec![
        "--dir",
        dir.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--max-connections",
        &max,
    ];
    if !legacy {
        args.extend(["--max-connections-per-ip", &max]);
    }
    let mut child = std::process::Command::new(&bin)
        .args(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr: SocketAddr = v["listening"]["addr"].as_str().unwrap().parse().unwrap();
    (child, addr)
}

fn append(runs: usize) {
    let secs = arg("--secs", 5);
    let dir = temp_dir("append");
    Client::new(&dir)
        .create_pool(&PoolRef::name("bench"), 64 << 20)
        .unwrap();
    let body = r#"{"data":{"msg":"hello from wrk","n":12345},"tags":["bench"]}"#;
    let req = format!(
        "POST /v0/pools/bench/append HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut rates = Vec::new();
    for run in 0..runs {
        let (mut child, addr) = spawn_serve(&dir, 4);
        let until = Instant::now() + Duration::from_secs(secs);
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let req = req.clone();
                std::thread::spawn(move || {
                    let mut s = TcpStream::connect(addr).unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut buf = vec![0u8; 4096];
                    let mut n = 0u64;
                    while Instant::now() < until {
                        s.write_all(req.as_bytes()).unwrap();
                        // One answer: its head and a body ending with "}}".
                        let mut got = 0;
                        loop {
                            let k = s.read(&mut buf[got..]).unwrap();
                            assert!(k > 0, "closed");
                            got += k;
                            if buf[..got].ends_with(b"}}") {
                                break;
                            }
                        }
                        assert!(buf.starts_with(b"HTTP/1.1 200"));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let total: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        let rate = total as f64 / secs as f64;
        println!("run {run}: {rate:.0} appends/s over 4 keep-alive connections");
        rates.push(rate);
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("appends, 4 connections: median {:.0} req/s", median(rates));
    let _ = std::fs::remove_dir_all(&dir);
}

fn idle(runs: usize) {
    let conns = arg("--conns", 500) as usize;
    let dir = temp_dir("idle");
    let (mut rss, mut lat, mut thr) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let (mut child, addr) = spawn_serve(&dir, conns);
        let before = rss_kib(child.id());
        let mut held = Vec::with_capacity(conns);
        for _ in 0..conns {
            let mut s = TcpStream::connect(addr).unwrap();
            healthz(addr, &mut s);
            held.push(s);
        }
        std::thread::sleep(Duration::from_millis(500));
        let with = rss_kib(child.id());
        let mut times = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let mut s = TcpStream::connect(addr).unwrap();
            healthz(addr, &mut s);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let worst = times.iter().cloned().fold(0.0, f64::max);
        let med = median(times);
        let nthreads = threads(child.id());
        println!(
            "run {run}: RSS {:.1} MiB before, {:.1} MiB with {conns} idle connections, {nthreads} threads; /healthz median {med:.2} ms, max {worst:.2} ms",
            before as f64 / 1024.0,
            with as f64 / 1024.0
        );
        thr.push(nthreads as f64);
        rss.push(with as f64 / 1024.0);
        lat.push(worst);
        drop(held);
        let _ = child.kill();
        let _ = child.wait();
    }
    println!(
        "{conns} idle connections: median RSS {:.1} MiB, {:.0} threads, median of the max /healthz latency {:.2} ms",
        median(rss),
        median(thr),
        median(lat)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let runs = arg("--runs", 5) as usize;
    match mode.as_str() {
        "tail" => tail(runs),
        "latency" => latency(runs),
        "idle" => idle(runs),
        "append" => append(runs),
        _ => {
            eprintln!("usage: bench_http tail|latency|idle|append [--runs N] [--messages N] [--samples N] [--conns N] [--secs N] [--bin PATH] [--legacy]");
            std::process::exit(2);
        }
    }
}
