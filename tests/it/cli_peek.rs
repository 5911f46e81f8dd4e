//! `peek` through the binary: filters, start points, timing, gating, drops, broken pipe, signals.

use crate::procs::{until_catches, until_mapped, wait_bounded, PATIENCE};
use crate::support::{bin, pls, TempDir};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn seed(t: &TempDir) {
    let input = concat!(
        r#"{"i":1,"status":"red","user":{"name":"Ann"},"n":[1,2]}"#,
        "\n",
        r#"{"i":2,"status":"green","user":{"name":"bob"},"n":[]}"#,
        "\n",
        r#"{"i":3,"status":"green","msg":"Payment TIMEOUT"}"#,
        "\n",
        r#"{"i":4,"value":23.5}"#,
        "\n",
        r#""just a string""#,
        "\n",
    );
    let r = pls(
        t.path(),
        &["poke", "w", "--create", "--tag", "base"],
        Some(input.as_bytes()),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    pls(
        t.path(),
        &[
            "poke",
            "w",
            "--tag",
            "sev1",
            "--tag",
            "billing",
            r#"{"i":6}"#,
        ],
        None,
    );
    pls(
        t.path(),
        &["poke", "w", "--tag", "sev1", r#"{"i":7}"#],
        None,
    );
}

fn seqs(t: &TempDir, extra: &[&str]) -> Vec<u64> {
    let mut args = vec!["peek", "w", "--tail", "100", "--timeout", "100ms"];
    args.extend_from_slice(extra);
    let r = pls(t.path(), &args, None);
    assert!(r.code == 124 || r.code == 0, "{extra:?}: {}", r.stderr);
    r.lines()
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn where_expressions_select_the_expected_messages() {
    let t = TempDir::new("peek-where");
    seed(&t);
    let table: &[(&str, &[u64])] = &[
        (r#".data.status == "green""#, &[2, 3]),
        (".data.i > 2 and .data.i < 5", &[3, 4]),
        (".data.i % 2 == 0", &[2, 4, 6]),
        (
            r#".data.user.name | ascii_downcase | startswith("a")"#,
            &[1],
        ),
        (r#".data.msg | test("time"; "i")"#, &[3]),
        (r#".meta.tags | any(. == "billing")"#, &[6]),
        (".data.n | length > 0", &[1]),
        (r#".data | has("value")"#, &[4]),
        (r#".data | type == "string""#, &[5]),
        (".seq >= 6", &[6, 7]),
        (r#".data.missing.deeper == null"#, &[1, 2, 3, 4, 6, 7]),
        (
            r#".data.status != "green" and (.data | has("status"))"#,
            &[1],
        ),
        (r#".data.msg | contains("Pay")"#, &[3]),
        (".data.value * 2 == 47", &[4]),
        ("not", &[]),
    ];
    for (expr, want) in table {
        assert_eq!(seqs(&t, &["--where", expr]), *want, "--where {expr}");
    }
    // Repeated --where flags AND together; so do repeated tags.
    assert_eq!(
        seqs(&t, &["--where", ".data.i > 1", "--where", ".data.i < 4"]),
        vec![2, 3]
    );
    assert_eq!(seqs(&t, &["--tag", "sev1"]), vec![6, 7]);
    assert_eq!(seqs(&t, &["--tag", "sev1", "--tag", "billing"]), vec![6]);
}

#[test]
fn where_parse_errors_are_usage_errors_with_the_position() {
    let t = TempDir::new("peek-where-err");
    seed(&t);
    for (expr, pos) in [(".a ==", 5u64), ("select(", 7), (".a | frob", 5)] {
        let r = pls(t.path(), &["peek", "w", "--where", expr], None);
        assert_eq!(r.code, 2, "{expr}");
        let v: Value = serde_json::from_str(r.stderr.trim()).unwrap();
        assert_eq!(v["error"]["kind"], "Usage");
        assert_eq!(v["error"]["offset"], pos, "{expr}: {}", r.stderr);
    }
}

#[test]
fn tail_n_since_and_data_only() {
    let t = TempDir::new("peek-start");
    seed(&t);
    let r = pls(
        t.path(),
        &["peek", "w", "-n", "2", "--timeout", "50ms"],
        None,
    );
    let got: Vec<u64> = r
        .lines()
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(got, vec![6, 7]);
    assert_eq!(seqs(&t, &["--since", "1h"]).len(), 7);
    assert_eq!(
        seqs(&t, &["--since", "2500-01-01T00:00:00Z"]),
        Vec::<u64>::new()
    );
    let r = pls(
        t.path(),
        &["peek", "w", "-n", "1", "--timeout", "50ms", "--data-only"],
        None,
    );
    assert_eq!(r.lines(), vec![json!({"i": 7})]);
}

#[test]
fn timeout_exits_124_and_one_exits_0() {
    let t = TempDir::new("peek-timeout");
    seed(&t);
    let t0 = Instant::now();
    let r = pls(t.path(), &["peek", "w", "--timeout", "150ms"], None);
    assert_eq!(r.code, 124);
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert!(r.stdout.is_empty());
    let r = pls(t.path(), &["peek", "w", "-n", "5", "--one"], None);
    assert_eq!(r.code, 0);
    assert_eq!(r.lines().len(), 1);
}

#[test]
fn one_gates_a_script_on_the_matching_poke() {
    let t = TempDir::new("peek-gate");
    pls(t.path(), &["pool", "create", "ci"], None);
    let mut waiter = Command::new(bin())
        .args([
            "--dir",
            &t.path().display().to_string(),
            "peek",
            "ci",
            "--where",
            r#".data.status == "green""#,
            "--one",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready: the follower has the pool mapped; pokes from here on are at or after its live edge...
    until_mapped(waiter.id(), &t.join("ci.plasmite"));
    // ...except for a poke racing its start-point read, so each poke below is seen either way: the
    // red one must not open the gate whether or not it was seen, the green one must open it.
    pls(t.path(), &["poke", "ci", r#"{"status":"red"}"#], None);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        waiter.try_wait().unwrap().is_none(),
        "a non-matching message does not release the gate"
    );
    pls(
        t.path(),
        &["poke", "ci", r#"{"status":"green","commit":"abc123"}"#],
        None,
    );
    let status = wait_bounded(&mut waiter, PATIENCE);
    assert!(status.success());
    let out = std::io::read_to_string(waiter.stdout.take().unwrap()).unwrap();
    let v: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(
        v["data"]["commit"], "abc123",
        "the matching message is printed"
    );
}

#[test]
fn replay_reproduces_spacing_divided_by_speed() {
    let t = TempDir::new("peek-replay");
    pls(t.path(), &["poke", "r", "--create", "1"], None);
    std::thread::sleep(Duration::from_millis(400));
    pls(t.path(), &["poke", "r", "2"], None);
    let t0 = Instant::now();
    let r = pls(t.path(), &["peek", "r", "--replay", "2"], None);
    let took = t0.elapsed();
    assert_eq!(r.code, 0, "replay ends at the live edge");
    let datas: Vec<Value> = r.lines().iter().map(|l| l["data"].clone()).collect();
    assert_eq!(datas, [json!(1), json!(2)], "in order");
    // The gap is honoured (a lower bound only: a loaded machine may take longer, never shorter).
    assert!(took >= Duration::from_millis(190), "{took:?}");
    let r = pls(t.path(), &["peek", "r", "--replay", "0"], None);
    assert_eq!(r.code, 0);
    let datas: Vec<Value> = r.lines().iter().map(|l| l["data"].clone()).collect();
    assert_eq!(
        datas,
        [json!(1), json!(2)],
        "--replay 0 prints history and exits"
    );
}

#[test]
fn a_lapped_peek_prints_a_drop_notice_and_goes_on() {
    let t = TempDir::new("peek-drop");
    pls(t.path(), &["pool", "create", "d", "--size", "64K"], None);
    pls(t.path(), &["poke", "d", "0"], None);
    let mut child = Command::new(bin())
        .args([
            "--dir",
            &t.path().display().to_string(),
            "peek",
            "d",
            "-n",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Do not read stdout: the reader blocks on a full pipe and the writers lap it.
    until_mapped(child.id(), &t.join("d.plasmite"));
    let big: String = (0..20_000)
        .map(|i| format!("{{\"i\":{i},\"pad\":\"{}\"}}\n", "p".repeat(200)))
        .collect();
    assert_eq!(pls(t.path(), &["poke", "d"], Some(big.as_bytes())).code, 0);
    // Now drain what the reader prints: it resumes, finds itself lapped and says so.
    let out = child.stdout.take().unwrap();
    let drain = std::thread::spawn(move || {
        std::io::read_to_string(out)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    });
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut stderr = String::new();
    // Eventually the drop notice (the reader never ends by itself: the bound is the read's EOF on kill).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let (pid, done) = (child.id(), done.clone());
        std::thread::spawn(move || {
            let end = Instant::now() + PATIENCE;
            while Instant::now() < end {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = Command::new("kill").arg(pid.to_string()).status();
        })
    };
    let notice: Value = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "no drop notice: {stderr}"
        );
        stderr.push_str(&line);
        if line.contains("\"drop\"") {
            break serde_json::from_str(&line).unwrap();
        }
    };
    assert!(notice["notice"]["lost"].as_u64().unwrap() > 0);
    assert_eq!(notice["notice"]["reason"], "overwritten");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    killer.join().unwrap();
    child.kill().unwrap();
    wait_bounded(&mut child, PATIENCE);
    assert!(
        drain.join().unwrap() > 0,
        "the reader printed messages after the drop"
    );
    let r = pls(
        t.path(),
        &["peek", "d", "-n", "0", "--quiet-drops", "--timeout", "10ms"],
        None,
    );
    assert!(r.stderr.is_empty());
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    let t = TempDir::new("peek-pipe");
    let input: String = (0..50_000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    pls(
        t.path(),
        &["poke", "b", "--create", "--create-size", "8M"],
        Some(input.as_bytes()),
    );
    let mut child = Command::new(bin())
        .args([
            "--dir",
            &t.path().display().to_string(),
            "peek",
            "b",
            "-n",
            "50000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    drop(out);
    let status = wait_bounded(&mut child, PATIENCE);
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn ctrl_c_exits_130() {
    let t = TempDir::new("peek-sigint");
    pls(t.path(), &["pool", "create", "s"], None);
    let mut child = Command::new(bin())
        .args(["--dir", &t.path().display().to_string(), "peek", "s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready: the SIGINT handler is installed (before it, SIGINT would kill the process outright).
    until_catches(child.id(), libc::SIGINT as u32);
    let rc = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(rc.success());
    let status = wait_bounded(&mut child, PATIENCE);
    assert_eq!(status.code(), Some(130));
}
