//! The project's benchmark program (no extra dependencies).
//!
//! `cargo run --release --example bench -- [--quick] [--json-only] [--dir DIR]`
//!
//! Measures single-writer append (64 B / 256 B / 1 KiB payloads, one lock per message and batched),
//! 1/2/4 writer processes (aggregate), read scan with checksum verification, `get` by seq on a 64 MiB
//! pool, and cross-process writer → follower wake latency (p50/p99). Each figure is the median of
//! several runs. Prints a table, then one JSON object on the last line.

use plasmite::api::{JsonText, TailEventRef, TailStart};
use plasmite::{Client, Durability, Pool, PoolRef, TailOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const RUNS: usize = 5;

fn payload(len: usize) -> JsonText {
    // {"p":"xxxx"} padded to exactly `len` bytes.
    let pad = len.saturating_sub(8);
    JsonText::parse(format!("{{\"p\":\"{}\"}}", "x".repeat(pad)).as_bytes()).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// A new pool, warmed by one full lap of the ring so timings show steady state, not the one-time cost
/// of the kernel zero-filling each fresh page on first touch.
fn fresh(dir: &Path, name: &str, size: u64) -> Pool {
    let c = Client::new(dir);
    let _ = c.delete_pool(&PoolRef::name(name));
    let pool = c.create_pool(&PoolRef::name(name), size).unwrap();
    let data = payload(4000);
    let none: &[&str] = &[];
    let recs: Vec<(&JsonText, &[&str])> = (0..64).map(|_| (&data, none)).collect();
    while pool.info().unwrap().bounds.is_none_or(|b| b.0 == 1) {
        pool.append_batch(&recs, Durability::Fast).unwrap();
    }
    pool
}

fn append_single(dir: &Path, len: usize, n: u64) -> f64 {
    let pool = fresh(dir, "bench-single", 16 << 20);
    let data = payload(len);
    let none: &[&str] = &[];
    let t = Instant::now();
    for _ in 0..n {
        pool.append_text(&data, none, Durability::Fast).unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// The floor under "one lock per message": a bare flock(LOCK_EX)/flock(LOCK_UN) pair on a pool file.
fn flock_pair(dir: &Path, n: u64) -> f64 {
    let pool = fresh(dir, "bench-flock", 1 << 20);
    let f = std::fs::File::open(pool.path()).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        f.lock().unwrap();
        f.unlock().unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn append_batched(dir: &Path, len: usize, n: u64) -> f64 {
    let pool = fresh(dir, "bench-batch", 16 << 20);
    let data = payload(len);
    let none: &[&str] = &[];
    let recs: Vec<(&JsonText, &[&str])> = (0..1024).map(|_| (&data, none)).collect();
    let t = Instant::now();
    let mut done = 0;
    while done < n {
        pool.append_batch(&recs, Durability::Fast).unwrap();
        done += recs.len() as u64;
    }
    done as f64 / t.elapsed().as_secs_f64()
}

fn writer_processes(dir: &Path, procs: u64, per: u64) -> f64 {
    let pool = fresh(dir, "bench-procs", 16 << 20);
    let exe = std::env::current_exe().unwrap();
    let t = Instant::now();
    let kids: Vec<_> = (0..procs)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--child-writer",
                    &pool.path().display().to_string(),
                    &per.to_string(),
                ])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }

    (procs * per) as f64 / t.elapsed().as_secs_f64()
}

fn child_writer(path: &str, n: u64) {
    let pool = Pool::open_path(Path::new(path)).unwrap();
    let data = payload(256);
    let none: &[&str] = &[];
    for _ in 0..n {
        pool.append_text(&data, none, Durability::Fast).unwrap();
    }
}

fn read_scan(dir: &Path, n: u64) -> f64 {
    let c = Client::new(dir);
    let _ = c.delete_pool(&PoolRef::name("bench-scan"));
    let pool = c
        .create_pool(&PoolRef::name("bench-scan"), 512 << 20)
        .unwrap();
    let data = payload(256);
    let none: &[&str] = &[];
    let recs: Vec<(&JsonText, &[&str])> = (0..1024).map(|_| (&data, none)).collect();
    for _ in 0..n / 1024 {
        pool.append_batch(&recs, Durability::Fast).unwrap();
    }
    let (first, last) = pool.info().unwrap().bounds.unwrap();
    let total = last - first + 1;
    let mut tail = pool
        .tail(TailOptions {
            start: TailStart::Since(first),
            max: Some(total),
            ..Default::default()
        })
        .unwrap();
    let t = Instant::now();
    let mut bytes = 0usize;
    while let Some(ev) = tail.next_ref() {
        if let TailEventRef::Message(m) = ev.unwrap() {
            bytes += m.data().len();
        }
    }
    assert!(bytes > 0);
    total as f64 / t.elapsed().as_secs_f64()
}

fn get_by_seq(dir: &Path, lookups: u64, sequential: bool) -> f64 {
    let c = Client::new(dir);
    let _ = c.delete_pool(&PoolRef::name("bench-get"));
    let pool = c
        .create_pool(&PoolRef::name("bench-get"), 64 << 20)
        .unwrap();
    let data = payload(256);
    let none: &[&str] = &[];
    let recs: Vec<(&JsonText, &[&str])> = (0..1024).map(|_| (&data, none)).collect();
    loop {
        pool.append_batch(&recs, Durability::Fast).unwrap();
        let i = pool.info().unwrap();
        if i.bounds.unwrap().0 > 1 {
            break;
        }
    }
    let (lo, hi) = pool.info().unwrap().bounds.unwrap();
    let span = hi - lo + 1;
    let mut x = 0x1234_5678u64;
    let t = Instant::now();
    for i in 0..lookups {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let m = pool
            .get(if sequential {
                lo + i % span
            } else {
                lo + x % span
            })
            .unwrap();
        assert!(!m.data.is_empty());
    }
    lookups as f64 / t.elapsed().as_secs_f64()
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// The follower runs in a child process; the writer stamps each message with its send time and the
/// follower reports (receive - send) per message on stdout.
fn wake_latency(dir: &Path, samples: u64) -> (f64, f64) {
    let pool = fresh(dir, "bench-wake", 16 << 20);
    let exe = std::env::current_exe().unwrap();
    let kid = Command::new(&exe)
        .args([
            "--child-follower",
            &pool.path().display().to_string(),
            &samples.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let none: &[&str] = &[];
    for _ in 0..samples {
        let data = JsonText::parse(format!("{{\"t\":{}}}", now_ns()).as_bytes()).unwrap();
        pool.append_text(&data, none, Durability::Fast).unwrap();
        std::thread::sleep(Duration::from_micros(500));
    }
    let out = kid.wait_with_output().unwrap();
    let mut lat: Vec<f64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse::<f64>().unwrap())
        .collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
    (p(0.50), p(0.99))
}

fn child_follower(path: &str, n: u64) {
    let pool = Pool::open_path(Path::new(path)).unwrap();
    let mut tail = pool
        .tail(TailOptions {
            max: Some(n),
            ..Default::default()
        })
        .unwrap();
    let mut out = String::new();
    while let Some(ev) = tail.next_ref() {
        if let TailEventRef::Message(m) = ev.unwrap() {
            let now = now_ns();
            let sent: u64 = m.data()[5..m.data().len() - 1].parse().unwrap();
            out.push_str(&format!("{}\n", (now - sent) as f64 / 1000.0));
        }
    }
    print!("{out}");
}

struct Row {
    key: &'static str,
    label: String,
    value: f64,
    unit: &'static str,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--child-writer") => return child_writer(&args[2], args[3].parse().unwrap()),
        Some("--child-follower") => return child_follower(&args[2], args[3].parse().unwrap()),
        _ => {}
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Option<String> = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| args[i + 1].clone());
    let want = |key: &str| only.as_deref().is_none_or(|o| key.starts_with(o));
    let dir: PathBuf = args
        .iter()
        .position(|a| a == "--dir")
        .map(|i| PathBuf::from(&args[i + 1]))
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("plasmite-bench-{}", std::process::id()))
        });
    std::fs::create_dir_all(&dir).unwrap();
    let k = if quick { 10 } else { 1 };
    let runs = if quick { 1 } else { RUNS };
    let med = |f: &dyn Fn() -> f64| median((0..runs).map(|_| f()).collect());
    let mut rows = Vec::new();
    if want("flock_pair") {
        let v = med(&|| flock_pair(&dir, 500_000 / k));
        rows.push(Row {
            key: "flock_pair",
            label: "baseline: bare flock lock+unlock pair".into(),
            value: v,
            unit: "pairs/s",
        });
    }
    for len in [64usize, 256, 1024]
        .into_iter()
        .filter(|_| want("append_single"))
    {
        let v = med(&|| append_single(&dir, len, 200_000 / k));
        rows.push(Row {
            key: leak(format!("append_single_{len}")),
            label: format!("append, 1 writer, {len} B, one lock per message"),
            value: v,
            unit: "msgs/s",
        });
    }
    for len in [64usize, 256, 1024]
        .into_iter()
        .filter(|_| want("append_batched"))
    {
        let v = med(&|| append_batched(&dir, len, 1_000_000 / k));
        rows.push(Row {
            key: leak(format!("append_batched_{len}")),
            label: format!("append, 1 writer, {len} B, batched"),
            value: v,
            unit: "msgs/s",
        });
    }
    for procs in [1u64, 2, 4].into_iter().filter(|_| want("writers")) {
        let v = med(&|| writer_processes(&dir, procs, 200_000 / k));
        rows.push(Row {
            key: leak(format!("writers_{procs}proc_256")),
            label: format!("append, {procs} writer processes, 256 B, aggregate"),
            value: v,
            unit: "msgs/s",
        });
    }
    if want("read_scan") {
        let v = med(&|| read_scan(&dir, 1_000_000 / k));
        rows.push(Row {
            key: "read_scan_256",
            label: "read scan, 256 B, checksum verified".into(),
            value: v,
            unit: "msgs/s",
        });
    }
    if want("get_by_seq") {
        let v = med(&|| get_by_seq(&dir, 1_000_000 / k, false));
        rows.push(Row {
            key: "get_by_seq_64mib",
            label: "get by seq, 64 MiB pool, random seqs".into(),
            value: v,
            unit: "lookups/s",
        });
        let v = med(&|| get_by_seq(&dir, 1_000_000 / k, true));
        rows.push(Row {
            key: "get_by_seq_64mib_sequential",
            label: "get by seq, 64 MiB pool, ascending seqs".into(),
            value: v,
            unit: "lookups/s",
        });
    }
    if want("wake") {
        let lat: Vec<(f64, f64)> = (0..runs).map(|_| wake_latency(&dir, 2000 / k)).collect();
        rows.push(Row {
            key: "wake_p50_us",
            label: "writer -> follower (other process), p50".into(),
            value: median(lat.iter().map(|l| l.0).collect()),
            unit: "us",
        });
        rows.push(Row {
            key: "wake_p99_us",
            label: "writer -> follower (other process), p99".into(),
            value: median(lat.iter().map(|l| l.1).collect()),
            unit: "us",
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{:<52} {:>14} unit", "measure", "median");
    for r in &rows {
        println!("{:<52} {:>14.1} {}", r.label, r.value, r.unit);
    }
    let json: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|r| {
            (
                r.key.to_string(),
                serde_json::json!((r.value * 10.0).round() / 10.0),
            )
        })
        .collect();
    println!("{}", serde_json::Value::Object(json));
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
