//! Benchmarks of the `plasmite` binary itself (what a shell user gets).
//!
//! `cargo build --release && cargo run --release --example bench_cli -- [--quick]`
//!
//! - `plasmite poke POOL < N JSON lines of ~100 B` (stdout to /dev/null)
//! - `plasmite peek POOL --tail N --replay 0 > /dev/null` (prints the last N, exits at the live edge)
//! - the same with `--where '.data.i % 2 == 0'`
//! - one `plasmite poke POOL '{"a":1}'` process, start to exit
//! - peak memory of `plasmite peek` following a full 64 MiB pool (VmHWM, and its split into anonymous
//!   memory vs. pages of the mapped pool file)
//!
//! `PLASMITE_BENCH_BIN=PATH` measures another build of the binary (e.g. the static one, spec/deploy.md).
//!
//! Medians of several runs; a table, then one JSON object on the last line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: `PLASMITE_BENCH_BIN` when set (e.g. the static distribution build),
/// else the release build beside this example.
fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PLASMITE_BENCH_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().unwrap().parent().unwrap().join("plasmite");
    assert!(
        p.exists(),
        "build the binary first: cargo build --release ({})",
        p.display()
    );
    p
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn pls(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(binary());
    c.arg("--dir").arg(dir).args(args);
    c
}

fn run_ok(mut c: Command) {
    let st = c.stdout(Stdio::null()).status().unwrap();
    assert!(st.success() || st.code() == Some(124), "{c:?}: {st}");
}

fn input_file(dir: &Path, n: u64) -> PathBuf {
    let p = dir.join("input.jsonl");
    let mut s = String::with_capacity(n as usize * 104);
    for i in 0..n {
        // ~100 bytes per line.
        s.push_str(&format!(
            "{{\"i\":{i},\"sensor\":\"temp-{:04}\",\"value\":{}.5,\"ok\":true,\"tags\":[\"a\",\"b\"],\"pad\":\"{}\"}}\n",
            i % 1000,
            i % 97,
            "x".repeat(28 - (i.to_string().len()).min(20))
        ));
    }
    std::fs::write(&p, s).unwrap();
    p
}

fn fresh_pool(dir: &Path, name: &str, size: &str) {
    let _ = pls(dir, &["pool", "delete", name])
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status();
    run_ok(pls(dir, &["pool", "create", name, "--size", size]));
}

fn poke_stream(dir: &Path, input: &Path, n: u64) -> f64 {
    fresh_pool(dir, "ingest", "256M");
    let f = std::fs::File::open(input).unwrap();
    let t = Instant::now();
    let st = pls(dir, &["poke", "ingest"])
        .stdin(f)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    assert!(st.success());
    rate
}

fn peek_history(dir: &Path, n: u64, filter: Option<&str>) -> f64 {
    let ns = n.to_string();
    let mut args = vec!["peek", "ingest", "--tail", &ns, "--replay", "0"];
    if let Some(f) = filter {
        args.extend(["--where", f]);
    }
    let t = Instant::now();
    let st = pls(dir, &args).stdout(Stdio::null()).status().unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    assert!(st.success());
    rate
}

fn poke_one_process(dir: &Path, runs: usize) -> f64 {
    fresh_pool(dir, "single", "1M");
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let st = pls(dir, &["poke", "single", "{\"a\":1}"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        v.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(st.success());
    }
    median(v)
}

/// The floor under any process: spawning `/bin/true` the same way.
fn true_process(runs: usize) -> f64 {
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let st = Command::new("/bin/true").status().unwrap();
        v.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(st.success());
    }
    median(v)
}

fn status_kib(pid: u32, key: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Peak RSS (MiB) of a follower that printed a full 64 MiB pool, and its anonymous part.
fn peek_rss(dir: &Path) -> (f64, f64, f64) {
    fresh_pool(dir, "rss", "64M");
    let input = input_file(dir, 800_000);
    let f = std::fs::File::open(&input).unwrap();
    assert!(pls(dir, &["poke", "rss"])
        .stdin(f)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    let mut child = pls(dir, &["peek", "rss", "--tail", "1000000"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id();
    let (hwm, anon, file) = (
        status_kib(pid, "VmHWM:"),
        status_kib(pid, "RssAnon:"),
        status_kib(pid, "RssFile:"),
    );
    child.kill().unwrap();
    let _ = child.wait();
    (hwm / 1024.0, anon / 1024.0, file / 1024.0)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n, runs) = if quick {
        (200_000u64, 1)
    } else {
        (1_000_000u64, 5)
    };
    let dir = std::env::temp_dir().join(format!("plasmite-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = input_file(&dir, n);
    let avg = std::fs::metadata(&input).unwrap().len() as f64 / n as f64;
    let poke = median((0..runs).map(|_| poke_stream(&dir, &input, n)).collect());
    let peek = median((0..runs).map(|_| peek_history(&dir, n, None)).collect());
    let filt = median(
        (0..runs)
            .map(|_| peek_history(&dir, n, Some(".data.i % 2 == 0")))
            .collect(),
    );
    let single = poke_one_process(&dir, if quick { 20 } else { 200 });
    let floor = true_process(if quick { 20 } else { 200 });
    let (hwm, anon, file) = peek_rss(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let rows = [
        (
            "poke_stdin_msgs_per_s",
            format!("poke < {n} JSON lines of {avg:.0} B"),
            poke,
            "msgs/s",
        ),
        (
            "peek_tail_msgs_per_s",
            format!("peek --tail {n} > /dev/null"),
            peek,
            "msgs/s",
        ),
        (
            "peek_where_msgs_per_s",
            format!("peek --tail {n} --where '.data.i % 2 == 0'"),
            filt,
            "msgs/s",
        ),
        (
            "poke_one_process_ms",
            "one poke process, start to exit".into(),
            single,
            "ms",
        ),
        (
            "true_process_ms",
            "  baseline: /bin/true, spawned the same way".into(),
            floor,
            "ms",
        ),
        (
            "peek_rss_peak_mib",
            "peek following a full 64 MiB pool: peak RSS".into(),
            hwm,
            "MiB",
        ),
        (
            "peek_rss_anon_mib",
            "  of which anonymous (heap, stacks)".into(),
            anon,
            "MiB",
        ),
        (
            "peek_rss_file_mib",
            "  of which pool pages touched".into(),
            file,
            "MiB",
        ),
    ];
    println!("{:<52} {:>14} unit", "measure", "median");
    for (_, label, v, unit) in &rows {
        println!("{label:<52} {v:>14.3} {unit}");
    }
    let json: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .map(|(k, _, v, _)| {
            (
                k.to_string(),
                serde_json::json!((v * 1000.0).round() / 1000.0),
            )
        })
        .collect();
    println!("{}", serde_json::Value::Object(json));
}
