//! `tap` through the binary: every flag, the start/line/exit messages, exit status and signal
//! forwarding, per-stream order, non-UTF-8 output, lines longer than the pool's message limit.

use crate::procs::{drain, until_catches, wait_bounded, PATIENCE};
use crate::support::{bin, eventually, pls, Run, TempDir};
use serde_json::Value;
use std::process::{Child, Command, Stdio};

/// Every message of `pool`, oldest first.
fn all(dir: &std::path::Path, pool: &str) -> Vec<Value> {
    let r = pls(
        dir,
        &["peek", pool, "--tail", "1000000", "--timeout", "0s"],
        None,
    );
    assert!(r.code == 0 || r.code == 124, "{}", r.stderr);
    r.lines()
}

fn tags(m: &Value) -> Vec<&str> {
    m["meta"]["tags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `line` fields of the messages from `stream`, in pool order.
fn lines_of<'a>(msgs: &'a [Value], stream: &str) -> Vec<&'a str> {
    msgs.iter()
        .filter(|m| m["data"]["stream"] == stream)
        .filter_map(|m| m["data"]["line"].as_str())
        .collect()
}

fn tap(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut full = vec!["tap"];
    full.extend_from_slice(args);
    pls(dir, &full, None)
}

#[test]
fn tap_stores_start_lines_and_exit_and_exits_with_the_childs_code() {
    let t = TempDir::new("tap-basic");
    let r = tap(
        t.path(),
        &[
            "--create",
            "--tag",
            "ci",
            "job",
            "--",
            "sh",
            "-c",
            "echo one; echo oops >&2; echo two; exit 3",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "one\ntwo\n", "passed through");
    assert_eq!(r.stderr, "oops\n", "passed through");
    let msgs = all(t.path(), "job");
    assert_eq!(msgs.len(), 5);
    let start = &msgs[0]["data"];
    assert_eq!(start["tap"], "start");
    assert_eq!(start["argv"][0], "sh");
    assert!(start["pid"].as_u64().is_some_and(|p| p > 0));
    assert_eq!(
        start["cwd"],
        std::env::current_dir().unwrap().display().to_string()
    );
    assert_eq!(tags(&msgs[0]), ["ci", "tap.start"]);
    assert_eq!(lines_of(&msgs, "stdout"), ["one", "two"]);
    assert_eq!(lines_of(&msgs, "stderr"), ["oops"]);
    let exit = &msgs[4];
    assert_eq!(tags(exit), ["ci", "tap.exit"]);
    assert_eq!(exit["data"]["code"], 3);
    assert_eq!(exit["data"]["lines"]["stdout"], 2);
    assert!(exit["data"]["duration_ms"]
        .as_f64()
        .is_some_and(|d| d >= 0.0));
    for m in &msgs[1..4] {
        let want = format!("tap.{}", m["data"]["stream"].as_str().unwrap());
        assert_eq!(tags(m), ["ci", want.as_str()]);
    }
    // Readers filter by tag.
    let r = pls(
        t.path(),
        &[
            "peek",
            "job",
            "--tail",
            "9",
            "--timeout",
            "0s",
            "--tag",
            "tap.exit",
        ],
        None,
    );
    assert_eq!(r.lines().len(), 1);
    let ok = tap(t.path(), &["job", "true"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

#[test]
fn tap_quiet_stores_without_passing_through() {
    let t = TempDir::new("tap-quiet");
    let r = tap(
        t.path(),
        &["-q", "--create", "job", "sh", "-c", "echo a; echo b >&2"],
    );
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
    let msgs = all(t.path(), "job");
    assert_eq!(lines_of(&msgs, "stdout"), ["a"]);
    assert_eq!(lines_of(&msgs, "stderr"), ["b"]);
}

#[test]
fn tap_create_size_sets_the_pool_size_and_a_missing_pool_is_not_found() {
    let t = TempDir::new("tap-create");
    let r = tap(t.path(), &["job", "true"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("--create"), "{}", r.stderr);
    let r = tap(
        t.path(),
        &["--create", "--create-size", "256K", "job", "true"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let info = pls(t.path(), &["pool", "info", "job", "--json"], None);
    assert_eq!(info.lines()[0]["file_size"], 256 * 1024);
}

#[test]
fn tap_keeps_each_streams_order_when_they_interleave() {
    let t = TempDir::new("tap-order");
    let script = "i=0; while [ $i -lt 400 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done";
    let r = tap(t.path(), &["-q", "--create", "job", "sh", "-c", script]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let msgs = all(t.path(), "job");
    let want = |p: &str| (0..400).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    assert_eq!(lines_of(&msgs, "stdout"), want("out"));
    assert_eq!(lines_of(&msgs, "stderr"), want("err"));
    let seqs: Vec<u64> = msgs.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
}

/// Decodes standard base64 (test-side, independent of the binary's encoder).
fn unbase64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 {c}"),
    };
    let mut out = Vec::new();
    for q in s.as_bytes().chunks(4) {
        let n = q.iter().filter(|&&c| c != b'=').count();
        let v = q
            .iter()
            .take(n)
            .fold(0u32, |acc, &c| acc << 6 | u32::from(val(c)))
            << (6 * (4 - n));
        out.extend_from_slice(&v.to_be_bytes()[1..n]);
    }
    out
}

#[test]
fn tap_stores_binary_garbage_losslessly() {
    let t = TempDir::new("tap-garbage");
    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((x >> 16) as u8);
    }
    garbage.push(b'\n');
    let file = t.join("garbage.bin");
    std::fs::write(&file, &garbage).unwrap();
    let r = tap(
        t.path(),
        &["--create", "job", "cat", file.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let msgs = all(t.path(), "job");
    let mut back = Vec::new();
    let mut invalid = 0;
    for m in msgs.iter().filter(|m| m["data"]["stream"] == "stdout") {
        let d = &m["data"];
        if d["invalid_utf8"] == true {
            invalid += 1;
            back.extend(unbase64(d["line_b64"].as_str().unwrap()));
        } else {
            back.extend_from_slice(d["line"].as_str().unwrap().as_bytes());
        }
        if d["partial"] != true {
            back.push(b'\n');
        }
    }
    assert!(invalid > 0);
    assert_eq!(back, garbage);
}

#[test]
fn tap_splits_lines_longer_than_the_pools_messages() {
    let t = TempDir::new("tap-long");
    let long: String = (0..150_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let file = t.join("long.txt");
    std::fs::write(&file, format!("{long}\nshort\n")).unwrap();
    let r = tap(
        t.path(),
        &[
            "-q",
            "--create",
            "--create-size",
            "256K",
            "job",
            "cat",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let msgs = all(t.path(), "job");
    let pieces: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["data"]["stream"] == "stdout")
        .collect();
    assert!(pieces.len() > 2, "split into pieces: {}", pieces.len());
    let (head, last) = pieces.split_at(pieces.len() - 2);
    assert!(head.iter().all(|m| m["data"]["partial"] == true));
    assert!(last.iter().all(|m| m["data"].get("partial").is_none()));
    let joined: String = pieces[..pieces.len() - 1]
        .iter()
        .map(|m| m["data"]["line"].as_str().unwrap())
        .collect();
    let sizes: Vec<usize> = pieces
        .iter()
        .map(|m| m["data"]["line"].as_str().unwrap().len())
        .collect();
    assert_eq!(joined.len(), long.len(), "{sizes:?}");
    assert!(joined == long, "the pieces join to the line");
    assert_eq!(last[1]["data"]["line"], "short");
}

#[test]
fn tap_child_killed_by_sigterm_exits_143_with_a_signal_exit_message() {
    let t = TempDir::new("tap-killed");
    let r = tap(t.path(), &["--create", "job", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(r.code, 143, "{}", r.stderr);
    let msgs = all(t.path(), "job");
    let exit = msgs.last().unwrap();
    assert_eq!(exit["data"]["signal"], 15);
    assert!(exit["data"].get("code").is_none());
}

fn spawn_tap(dir: &std::path::Path, args: &[&str]) -> Child {
    Command::new(bin())
        .arg("--dir")
        .arg(dir)
        .arg("tap")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn tap_forwards_sigterm_sigint_and_sighup_to_the_child() {
    let t = TempDir::new("tap-forward");
    for (name, num) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
        let pool = format!("job{num}");
        let mut child = spawn_tap(
            t.path(),
            &["--create", &pool, "sh", "-c", "echo ready; exec sleep 120"],
        );
        let (out, _err) = drain(&mut child);
        until_catches(child.id(), num);
        assert!(
            eventually(PATIENCE, || lines_of(&all(t.path(), &pool), "stdout")
                == ["ready"]),
            "the child started"
        );
        let sent = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status();
        assert!(sent.unwrap().success());
        let status = wait_bounded(&mut child, PATIENCE);
        assert_eq!(
            status.code(),
            Some(128 + num as i32),
            "SIG{name}: tap itself was not killed"
        );
        assert_eq!(out.join().unwrap(), b"ready\n");
        let msgs = all(t.path(), &pool);
        assert_eq!(msgs.last().unwrap()["data"]["signal"], num, "SIG{name}");
    }
}

#[test]
fn tap_lines_reach_a_follower_while_the_child_runs() {
    let t = TempDir::new("tap-follow");
    let mut child = spawn_tap(
        t.path(),
        &["--create", "job", "sh", "-c", "echo early; exec sleep 120"],
    );
    let (_out, _err) = drain(&mut child);
    let r = pls(
        t.path(),
        &[
            "follow",
            "job",
            "--create",
            "--tail",
            "5",
            "--where",
            ".data.line == \"early\"",
            "--one",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.lines()[0]["data"]["line"], "early");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn tap_passes_the_childs_flags_untouched_and_reports_a_missing_command() {
    let t = TempDir::new("tap-argv");
    let r = tap(
        t.path(),
        &[
            "--create",
            "job",
            "--",
            "sh",
            "-c",
            "echo \"$@\"",
            "x",
            "--tag",
            "-q",
            "--help",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "--tag -q --help\n"),
        "{}",
        r.stderr
    );
    let r = tap(t.path(), &["job", "plasmite-no-such-command"]);
    assert_eq!(r.code, 127);
    assert!(
        r.stderr.contains("cannot run 'plasmite-no-such-command'"),
        "{}",
        r.stderr
    );
    let last = all(t.path(), "job").pop().unwrap();
    assert_eq!(tags(&last), ["tap.exit"]);
    assert_eq!(last["data"]["code"], 127);
    assert!(last["data"]["error"].as_str().is_some());
    let r = tap(t.path(), &["job"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.error_kind(), "Usage");
    let r = tap(t.path(), &["http://127.0.0.1:1/job", "true"]);
    assert_eq!((r.code, r.error_kind().as_str()), (2, "Usage"));
    assert!(r.stderr.contains("local pools only"), "{}", r.stderr);
}
