//! Benchmark of `plasmite tap`: burst throughput and single-line latency.
//!
//! `cargo build --release && cargo run --release --example bench_tap -- [--runs N]`
//!
//! - burst: `plasmite tap -q POOL -- cat FILE` where FILE holds 100 000 lines of ~60 bytes. Reports
//!   lines/s between the first and the last line's commit time (the time stamps the pool stored), and
//!   lines/s over the whole run of tap (process start, spawn, child exit and the exit message).
//! - latency: the child prints its clock (`date +%s%N`) every 20 ms; a follower in this process
//!   (the library tail, woken by the pool's futex) takes the difference between the time it received
//!   the line and the time printed in it. Reports the median and the 90th percentile.
//!
//! Medians of several runs; a table, then one JSON object on the last line.

use plasmite::api::{TailEventRef, TailStart};
use plasmite::{Client, PoolRef, TailOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const BURST_LINES: u64 = 100_000;
const LATENCY_LINES: u64 = 50;

fn binary() -> PathBuf {
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

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// One burst run: (commit-span lines/s, whole-run lines/s).
fn burst(dir: &Path, file: &Path, run: usize) -> (f64, f64) {
    let name = format!("burst{run}");
    let t = Instant::now();
    let st = Command::new(binary())
        .arg("--dir")
        .arg(dir)
        .args([
            "tap",
            "-q",
            "--create",
            "--create-size",
            "64M",
            &name,
            "--",
            "cat",
        ])
        .arg(file)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    assert!(st.success());
    let pool = Client::new(dir).open_pool(&PoolRef::name(&name)).unwrap();
    let (first, last) = pool.info().unwrap().bounds.unwrap();
    // seq first is the start message, last the exit message: lines are first+1 ..= last-1.
    assert_eq!(last - first + 1, BURST_LINES + 2);
    let t0 = pool.get(first + 1).unwrap().time_ns;
    let t1 = pool.get(last - 1).unwrap().time_ns;
    let span = (t1 - t0).max(1) as f64 / 1e9;
    (BURST_LINES as f64 / span, BURST_LINES as f64 / wall)
}

/// One latency run: every line's delay from the child's clock to this follower, in ms.
fn latency(dir: &Path, run: usize) -> Vec<f64> {
    let name = format!("lat{run}");
    let client = Client::new(dir);
    let pool = client.create_pool(&PoolRef::name(&name), 1 << 20).unwrap();
    let mut tail = pool
        .tail(TailOptions {
            start: TailStart::Edge,
            idle_timeout: Some(Duration::from_secs(10)),
            ..Default::default()
        })
        .unwrap();
    let script = format!("for i in $(seq {LATENCY_LINES}); do date +%s%N; sleep 0.02; done");
    let mut child = Command::new(binary())
        .arg("--dir")
        .arg(dir)
        .args(["tap", "-q", &name, "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = Vec::new();
    while let Some(ev) = tail.next_ref() {
        let TailEventRef::Message(m) = ev.unwrap() else {
            continue;
        };
        let got = now_ns();
        let v: serde_json::Value = serde_json::from_str(m.data()).unwrap();
        if v["tap"] == "exit" {
            break;
        }
        if let Some(sent) = v["line"].as_str().and_then(|s| s.parse::<u64>().ok()) {
            out.push(got.saturating_sub(sent) as f64 / 1e6);
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(out.len() as u64, LATENCY_LINES);
    out
}

fn main() {
    let mut runs = 5;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--runs" {
            runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(5);
        }
    }
    let dir = std::env::temp_dir().join(format!("plasmite-bench-tap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("burst.txt");
    let mut text = String::new();
    for i in 0..BURST_LINES {
        text.push_str(&format!(
            "{i:08} the quick brown fox jumps over the lazy dog 0123\n"
        ));
    }
    std::fs::write(&file, text).unwrap();
    let (mut span, mut wall, mut lat_med, mut lat_p90) = (vec![], vec![], vec![], vec![]);
    for r in 0..runs {
        let (s, w) = burst(&dir, &file, r);
        span.push(s);
        wall.push(w);
        let l = latency(&dir, r);
        lat_med.push(median(l.clone()));
        lat_p90.push(percentile(l, 0.9));
    }
    let (span, wall, lat_med, lat_p90) =
        (median(span), median(wall), median(lat_med), median(lat_p90));
    println!("tap, medians of {runs} runs");
    println!(
        "  burst of {BURST_LINES} lines, commit span   {:>12.0} lines/s",
        span
    );
    println!(
        "  burst of {BURST_LINES} lines, whole tap run {:>12.0} lines/s",
        wall
    );
    println!("  one line to a follower, median   {:>9.3} ms", lat_med);
    println!("  one line to a follower, p90      {:>9.3} ms", lat_p90);
    println!(
        "{}",
        serde_json::json!({"burst_lines_per_s": span.round(), "burst_wall_lines_per_s": wall.round(),
            "latency_ms_median": lat_med, "latency_ms_p90": lat_p90, "runs": runs})
    );
    let _ = std::fs::remove_dir_all(&dir);
}
