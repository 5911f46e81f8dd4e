//! Throughput of a durable-cursor consumer (`peek --cursor`, commits batched per output flush)
//! against the same read without a cursor, both to /dev/null.
//!
//! `cargo build --release && cargo run --release --example bench_cursor -- [--quick]`
//!
//! - fills a 256 MiB pool with N messages of ~100 B (one `poke` process reading JSON lines)
//! - `plasmite peek POOL --cursor bench --tail N --no-follow > /dev/null` (a new cursor each run)
//! - `plasmite peek POOL --tail N --no-follow > /dev/null` (no cursor, for comparison)
//!
//! Medians of several runs; a table, then one JSON object on the last line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PLASMITE_BENCH_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().unwrap().parent().unwrap().join("plasmite");
    assert!(p.exists(), "build the binary first: cargo build --release");
    p
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn pls(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(binary());
    c.arg("--dir").arg(dir).args(args);
    c.stdout(Stdio::null());
    c
}

fn fill(dir: &Path, n: u64) {
    let mut s = String::with_capacity(n as usize * 104);
    for i in 0..n {
        s.push_str(&format!(
            "{{\"i\":{i},\"sensor\":\"temp-{:04}\",\"value\":{}.5,\"ok\":true,\"pad\":\"{}\"}}\n",
            i % 1000,
            i % 97,
            "x".repeat(40 - i.to_string().len().min(20))
        ));
    }
    let input = dir.join("input.jsonl");
    std::fs::write(&input, s).unwrap();
    assert!(pls(dir, &["pool", "create", "p", "--size", "256M"])
        .status()
        .unwrap()
        .success());
    let st = pls(dir, &["poke", "p"])
        .stdin(std::fs::File::open(&input).unwrap())
        .status()
        .unwrap();
    assert!(st.success());
}

fn peek(dir: &Path, n: u64, cursor: bool) -> f64 {
    let ns = n.to_string();
    let mut args = vec!["peek", "p", "--tail", &ns, "--no-follow"];
    if cursor {
        let _ = pls(dir, &["pool", "cursor-delete", "p", "bench"])
            .stderr(Stdio::null())
            .status();
        args.extend(["--cursor", "bench"]);
    }
    let t = Instant::now();
    let st = pls(dir, &args).status().unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    assert!(st.success());
    rate
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n, runs) = if quick {
        (200_000u64, 1)
    } else {
        (1_000_000u64, 5)
    };
    let dir = std::env::temp_dir().join(format!("plasmite-bench-cursor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    fill(&dir, n);
    let with = median((0..runs).map(|_| peek(&dir, n, true)).collect());
    let without = median((0..runs).map(|_| peek(&dir, n, false)).collect());
    let _ = std::fs::remove_dir_all(&dir);
    println!("{:<55} {:>14}", "measure", "msgs/s");
    println!(
        "{:<55} {:>14.0}",
        format!("peek --cursor --tail {n} --no-follow > /dev/null"),
        with
    );
    println!(
        "{:<55} {:>14.0}",
        format!("peek --tail {n} --no-follow > /dev/null"),
        without
    );
    println!(
        "{}",
        serde_json::json!({
            "messages": n,
            "runs": runs,
            "peek_cursor_msgs_per_s": with.round(),
            "peek_plain_msgs_per_s": without.round(),
        })
    );
}
