//! `poke` reading streams: every ingest mode, bad records with and without `--errors skip`, `--file`.

use crate::support::{pls, TempDir};
use serde_json::{json, Value};

fn datas(t: &TempDir, pool: &str) -> Vec<Value> {
    let r = pls(
        t.path(),
        &[
            "peek",
            pool,
            "--tail",
            "1000",
            "--timeout",
            "50ms",
            "--data-only",
        ],
        None,
    );
    r.lines()
}

fn poke_stream(t: &TempDir, extra: &[&str], input: &[u8]) -> crate::support::Run {
    let mut args = vec!["poke", "s", "--create"];
    args.extend_from_slice(extra);
    pls(t.path(), &args, Some(input))
}

#[test]
fn json_lines_are_appended_in_order_with_one_envelope_each() {
    let t = TempDir::new("ing-jsonl");
    let input: String = (0..500).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    let r = poke_stream(&t, &["--tag", "bulk"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let env = r.lines();
    assert_eq!(env.len(), 500);
    assert_eq!(env[499]["seq"], 500);
    assert_eq!(env[0]["meta"]["tags"], json!(["bulk"]));
    let d = datas(&t, "s");
    assert_eq!(d.len(), 500);
    assert!(d.iter().enumerate().all(|(i, v)| v["i"] == i));
}

#[test]
fn auto_detects_pretty_documents_seq_and_event_stream() {
    let pretty = b"{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n{\n  \"a\": 2\n}\n";
    let seq = b"\x1e{\"s\":1}\n\x1e{\"s\":2}\n";
    let sse = b": comment\nevent: tick\ndata: {\"e\":\ndata: 1}\n\ndata: {\"e\":2}\n\n";
    let cases: [(&[u8], Vec<Value>); 3] = [
        (pretty, vec![json!({"a":1,"b":[2]}), json!({"a":2})]),
        (seq, vec![json!({"s":1}), json!({"s":2})]),
        (sse, vec![json!({"e":1}), json!({"e":2})]),
    ];
    for (input, want) in cases {
        let t = TempDir::new("ing-auto");
        let r = poke_stream(&t, &[], input);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(datas(&t, "s"), want, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn explicit_modes_frame_as_documented() {
    let t = TempDir::new("ing-modes");
    let r = pls(
        t.path(),
        &["poke", "j", "--create", "--in", "json"],
        Some(b"[1,\n 2]\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        datas(&t, "j"),
        vec![json!([1, 2])],
        "--in json: the whole input is one value"
    );
    let r = pls(
        t.path(),
        &["poke", "l", "--create", "--in", "jsonl"],
        Some(b"1\n\n2\r\n"),
    );
    assert_eq!(r.code, 0);
    assert_eq!(datas(&t, "l"), vec![json!(1), json!(2)]);
    let r = pls(
        t.path(),
        &["poke", "q", "--create", "--in", "jq"],
        Some(b"{\"a\":\n1} {\"a\":2}"),
    );
    assert_eq!(r.code, 0);
    assert_eq!(datas(&t, "q").len(), 2);
    let r = pls(
        t.path(),
        &["poke", "e", "--create", "--in", "event-stream"],
        Some(b"data: 7\n\n"),
    );
    assert_eq!(r.code, 0);
    assert_eq!(datas(&t, "e"), vec![json!(7)]);
    let r = pls(
        t.path(),
        &["poke", "x", "--create", "--in", "seq"],
        Some(b"\x1e\"x\"\n"),
    );
    assert_eq!(r.code, 0);
    assert_eq!(datas(&t, "x"), vec![json!("x")]);
}

#[test]
fn a_bad_line_stops_the_stream_keeping_earlier_records() {
    let t = TempDir::new("ing-stop");
    let r = poke_stream(&t, &[], b"{\"a\":1}\n{\"a\":2}\n{oops\n{\"a\":4}\n");
    assert_eq!((r.code, r.error_kind().as_str()), (2, "Usage"));
    assert!(
        r.stderr.contains("record 3") && r.stderr.contains("line 3"),
        "{}",
        r.stderr
    );
    assert_eq!(r.lines().len(), 2, "envelopes of committed records printed");
    assert_eq!(datas(&t, "s"), vec![json!({"a":1}), json!({"a":2})]);
}

#[test]
fn errors_skip_reports_each_bad_record_and_goes_on() {
    let t = TempDir::new("ing-skip");
    let r = poke_stream(&t, &["--errors", "skip"], b"1\n{oops\n3\n]\n5\n");
    assert_eq!(r.code, 65, "its own exit code says records were skipped");
    let notices: Vec<Value> = r
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        notices.iter().all(|n| n["notice"]["kind"] == "skipped"),
        "{}",
        r.stderr
    );
    assert_eq!(notices.len(), 2, "{}", r.stderr);
    assert_eq!(notices[0]["notice"]["record"], 2);
    let d = datas(&t, "s");
    assert_eq!(d, vec![json!(1), json!(3), json!(5)]);
    let clean = poke_stream(&t, &["--errors", "skip"], b"6\n7\n");
    assert_eq!(clean.code, 0, "nothing skipped: success; {}", clean.stderr);
}

#[test]
fn file_input_and_dash_for_stdin() {
    let t = TempDir::new("ing-file");
    let f = t.join("in.jsonl");
    std::fs::write(&f, "{\"f\":1}\n{\"f\":2}\n").unwrap();
    let r = pls(
        t.path(),
        &["poke", "s", "--create", "--file", &f.display().to_string()],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = pls(
        t.path(),
        &["poke", "s", "--file", "-"],
        Some(b"{\"f\":3}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(datas(&t, "s").len(), 3);
    let r = pls(t.path(), &["poke", "s", "--file", "/nonexistent/x"], None);
    assert_eq!(r.code, 3);
    let r = pls(
        t.path(),
        &["poke", "s", "--file", &f.display().to_string(), "1"],
        None,
    );
    assert_eq!(r.code, 2, "DATA conflicts with --file");
}

#[test]
fn a_record_too_large_for_the_pool_is_a_bad_record() {
    let t = TempDir::new("ing-large");
    pls(t.path(), &["pool", "create", "s", "--size", "64K"], None);
    let big = format!("\"{}\"\n", "x".repeat(40_000));
    let input = format!("1\n{big}2\n");
    let r = pls(
        t.path(),
        &["poke", "s", "--errors", "skip"],
        Some(input.as_bytes()),
    );
    assert_eq!(r.code, 65, "skipped records have their own exit code");
    assert_eq!(datas(&t, "s"), vec![json!(1), json!(2)]);
}

#[test]
fn a_slow_producer_sees_each_record_committed_before_the_next_arrives() {
    use std::io::Write;
    let t = TempDir::new("ing-live");
    pls(t.path(), &["pool", "create", "s"], None);
    let mut child = std::process::Command::new(crate::support::bin())
        .args(["--dir", &t.path().display().to_string(), "poke", "s"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"n\":1}\n").unwrap();
    stdin.flush().unwrap();
    let deadline = std::time::Instant::now() + crate::procs::PATIENCE;
    loop {
        let r = pls(t.path(), &["get", "s", "1"], None);
        if r.code == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "record 1 not committed while stdin stays open"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    drop(stdin);
    assert!(crate::procs::wait_bounded(&mut child, crate::procs::PATIENCE).success());
}
