//! Benchmarks of `plasmite mcp` over stdio (what an agent's client gets).
//!
//! `cargo build --release && cargo run --release --example bench_mcp -- [--quick]`
//!
//! - wake latency of a blocked `wait`: from the start of an append by another process (this one,
//!   through the library) to the reply line read from the server's stdout
//! - sequential tool calls, one in flight (request line written → reply line read): `append`, `get`
//!
//! Medians of several runs (each wake sample is one wait); a table, then one JSON object on the last line.

use plasmite::{Client, Durability, PoolRef};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

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

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p) as usize]
}

struct Mcp {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    line: String,
}

impl Mcp {
    fn start(dir: &std::path::Path) -> Mcp {
        let mut child = Command::new(binary())
            .arg("--dir")
            .arg(dir)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        let mut m = Mcp {
            child,
            input,
            output,
            line: String::new(),
        };
        m.send(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}));
        m.recv();
        m
    }

    fn send(&mut self, v: &Value) {
        let mut b = serde_json::to_vec(v).unwrap();
        b.push(b'\n');
        self.input.write_all(&b).unwrap();
        self.input.flush().unwrap();
    }

    fn recv(&mut self) -> Value {
        self.line.clear();
        self.output.read_line(&mut self.line).unwrap();
        serde_json::from_str(&self.line).unwrap()
    }

    fn call(&mut self, id: u64, name: &str, args: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}}));
        let r = self.recv();
        assert_eq!(r["id"], id);
        assert_eq!(r["result"]["isError"], false, "{r}");
        r
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, wakes, calls) = if quick { (1, 50, 500) } else { (3, 200, 2000) };
    let dir = std::env::temp_dir().join(format!("plasmite-bench-mcp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let client = Client::new(&dir);
    let pool = client
        .create_pool(&PoolRef::name("bench"), 64 << 20)
        .unwrap();
    let (mut wake_all, mut append_rate, mut get_rate) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let mut m = Mcp::start(&dir);
        let mut id = 1u64;
        for _ in 0..wakes {
            let next = pool.info().unwrap().bounds.map_or(1, |b| b.1 + 1);
            let args = json!({"pool": "bench", "since_seq": next, "timeout_ms": 10000});
            m.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "wait", "arguments": args}}));
            // Let the wait reach its sleep: ping round trip, then a short pause.
            m.send(&json!({"jsonrpc": "2.0", "id": id + 1, "method": "ping"}));
            assert_eq!(m.recv()["id"], id + 1);
            std::thread::sleep(Duration::from_millis(2));
            let t0 = Instant::now();
            pool.append(&json!({"i": id}), &[] as &[&str], Durability::Fast)
                .unwrap();
            let r = m.recv();
            wake_all.push(t0.elapsed().as_secs_f64() * 1e6);
            assert_eq!(r["id"], id);
            assert_eq!(r["result"]["structuredContent"]["timed_out"], false);
            id += 2;
        }
        let t0 = Instant::now();
        for i in 0..calls {
            m.call(
                id + i,
                "append",
                json!({"pool": "bench", "data": {"i": i, "msg": "hello"}}),
            );
        }
        append_rate.push(calls as f64 / t0.elapsed().as_secs_f64());
        id += calls;
        let t0 = Instant::now();
        for i in 0..calls {
            m.call(id + i, "get", json!({"pool": "bench", "seq": 1 + i % 100}));
        }
        get_rate.push(calls as f64 / t0.elapsed().as_secs_f64());
        drop(m.input);
        let _ = m.child.wait();
    }
    let (p50, p99) = (median(wake_all.clone()), pct(wake_all.clone(), 0.99));
    let (ar, gr) = (median(append_rate), median(get_rate));
    println!("| measure | value |\n|---|---|");
    println!(
        "| wait wake-up (append → reply line), p50 / p99, {} samples | {p50:.0} µs / {p99:.0} µs |",
        wake_all.len()
    );
    println!("| sequential append calls | {ar:.0} calls/s |");
    println!("| sequential get calls | {gr:.0} calls/s |");
    println!(
        "{}",
        json!({"wake_p50_us": p50, "wake_p99_us": p99, "append_calls_per_s": ar, "get_calls_per_s": gr})
    );
    let _ = std::fs::remove_dir_all(&dir);
}
