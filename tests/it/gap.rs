//! The gap policy through every door: a tail that was lapped (or starts below the oldest message)
//! either reports the drop and carries on (`continue`, the default) or ends with a `RetentionGap`
//! error naming the first missing seq and the count, before any later message (`error`). Gaps are
//! seen on the raw frames, so a `--tag`/`--where` filter cannot hide one.

use crate::support::{make_pool, pls, request, serve, HttpConn, TempDir};
use plasmite::api::{GapPolicy, TailEnd, TailStart};
use plasmite::{Durability, ErrorKind, Pool, TailEvent, TailOptions};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const NONE: &[&str] = &[];

/// Appends `n` messages of about `bytes` each.
fn fill(p: &Pool, n: usize, bytes: usize, tags: &[&str]) {
    let pad = "x".repeat(bytes);
    for i in 0..n {
        p.append_json(
            format!("{{\"i\":{i},\"pad\":\"{pad}\"}}").as_bytes(),
            tags,
            Durability::Fast,
        )
        .unwrap();
    }
}

fn oldest(p: &Pool) -> u64 {
    p.info().unwrap().bounds.unwrap().0
}

fn tail(p: &Pool, start: TailStart, policy: GapPolicy) -> plasmite::Tail {
    p.tail(TailOptions {
        start,
        gap_policy: policy,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn api_error_policy_ends_a_lapped_tail_with_the_first_missing_seq() {
    let t = TempDir::new("gap-api");
    let p = make_pool(t.path(), "p", Some(64 * 1024));
    fill(&p, 3, 10, NONE);
    let mut strict = tail(&p, TailStart::Since(1), GapPolicy::Error);
    let mut lenient = tail(&p, TailStart::Since(1), GapPolicy::Continue);
    for tl in [&mut strict, &mut lenient] {
        assert!(matches!(tl.next(), Some(Ok(TailEvent::Message(m))) if m.seq == 1));
    }
    fill(&p, 2000, 100, NONE);
    let first_kept = oldest(&p);
    assert!(first_kept > 2, "the ring must have lapped the readers");

    let e = strict.next().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RetentionGap, "{e}");
    assert_eq!((e.seq(), e.lost()), (Some(2), Some(first_kept - 2)));
    assert!(
        strict.next().is_none(),
        "nothing is delivered after the gap"
    );
    assert_eq!(strict.end(), Some(TailEnd::Cancelled));

    let lost = first_kept - 2;
    assert!(matches!(lenient.next(), Some(Ok(TailEvent::Dropped { lost: n })) if n == lost));
    assert!(matches!(lenient.next(), Some(Ok(TailEvent::Message(m))) if m.seq == first_kept));
}

#[test]
fn api_error_policy_refuses_a_start_below_the_oldest() {
    let t = TempDir::new("gap-api-start");
    let p = make_pool(t.path(), "p", Some(64 * 1024));
    fill(&p, 2000, 100, NONE);
    let first_kept = oldest(&p);
    let mut strict = tail(&p, TailStart::Since(1), GapPolicy::Error);
    let e = strict.next().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RetentionGap);
    assert_eq!((e.seq(), e.lost()), (Some(1), Some(first_kept - 1)));
    // Starting at the oldest held is no gap.
    let mut fine = tail(&p, TailStart::Since(first_kept), GapPolicy::Error);
    assert!(matches!(fine.next(), Some(Ok(TailEvent::Message(m))) if m.seq == first_kept));
}

#[test]
fn http_gap_policy_error_answers_410_when_the_start_was_evicted() {
    let t = TempDir::new("gap-http");
    let p = make_pool(t.path(), "p", Some(64 * 1024));
    fill(&p, 2000, 100, NONE);
    let first_kept = oldest(&p);
    let s = serve(t.path(), |_| {});
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?since_seq=1&gap_policy=error&timeout_ms=100",
        None,
        None,
    );
    assert_eq!(r.status, 410, "{}", r.text());
    assert_eq!(r.kind(), "RetentionGap");
    let v = r.json();
    assert_eq!(v["error"]["seq"], 1);
    assert_eq!(v["error"]["lost"].as_u64(), Some(first_kept - 1));
    let bad = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?gap_policy=skip",
        None,
        None,
    );
    assert_eq!((bad.status, bad.kind().as_str()), (400, "Usage"));
    // The default still streams the drop line.
    let mut c = HttpConn::open(s.addr());
    let head = c.request("GET", "/v0/pools/p/tail?since_seq=1&max=1", None, None);
    assert_eq!(head.status, 200);
    let text = head.text();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["drop"]["lost"].as_u64(),
        Some(first_kept - 1),
        "{text}"
    );
}

/// A stream whose reader stops reading is lapped; the rest of it then ends with the error line.
#[test]
fn http_gap_policy_error_ends_a_lapped_stream_with_the_error_line() {
    let t = TempDir::new("gap-http-stream");
    let size = 8 * 1024 * 1024;
    let p = make_pool(t.path(), "p", Some(size));
    fill(&p, 8000, 1000, NONE);
    let start = oldest(&p);
    let s = serve(t.path(), |_| {});
    let mut c = HttpConn::open(s.addr());
    c.send(
        format!(
            "GET /v0/pools/p/tail?since_seq={start}&gap_policy=error&timeout_ms=60000 HTTP/1.1\r\n\
             Host: 127.0.0.1\r\n\r\n"
        )
        .as_bytes(),
    );
    let head = c.read_response_head_only();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let first = c.read_chunks(1);
    assert!(!first.is_empty());
    // The server is now held up by the unread socket; the writer laps it several times over.
    fill(&p, 24000, 1000, NONE);
    let rest = [first, c.read_chunks(usize::MAX)].concat();
    let lines: Vec<serde_json::Value> = String::from_utf8(rest)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (last, messages) = lines.split_last().unwrap();
    assert_eq!(last["error"]["kind"], "RetentionGap", "{last}");
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (start..start + seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        last["error"]["seq"].as_u64(),
        Some(start + seqs.len() as u64)
    );
    assert!(last["error"]["lost"].as_u64().unwrap() > 0);
}

#[test]
fn remote_api_error_policy_reports_the_gap_of_a_url_pool() {
    let t = TempDir::new("gap-remote");
    let p = make_pool(t.path(), "p", Some(64 * 1024));
    fill(&p, 2000, 100, NONE);
    let first_kept = oldest(&p);
    let s = serve(t.path(), |_| {});
    let client = plasmite::RemoteClient::new(&s.url(), Default::default()).unwrap();
    let h = client.open_pool("p").unwrap();
    let mut tl = h
        .tail(TailOptions {
            start: TailStart::Since(1),
            gap_policy: GapPolicy::Error,
            ..Default::default()
        })
        .unwrap();
    let e = tl.next_ref().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RetentionGap, "{e}");
    assert_eq!((e.seq(), e.lost()), (Some(1), Some(first_kept - 1)));
    assert!(tl.next_ref().is_none());
}

/// Runs `peek` on a pool the test then laps while peek's stdout is not read; returns what it
/// printed, its stderr and its exit code. `first` and `lap` are the JSONL lines poked before it
/// starts and while it is held up.
fn peek_lapped(t: &TempDir, extra: &[&str], first: &[u8], lap: &[u8]) -> (Vec<u64>, String, i32) {
    let mut args = vec![
        "--dir".to_owned(),
        t.path().display().to_string(),
        "peek".into(),
        "p".into(),
        "--tail".into(),
        "1000000".into(),
        "--timeout".into(),
        "2s".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let poke = |input: &[u8]| {
        let r = pls(t.path(), &["poke", "p", "--in", "jsonl"], Some(input));
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    poke(first);
    let mut child = Command::new(crate::support::bin())
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(!line.is_empty(), "peek printed nothing");
    // peek is now blocked on its full stdout pipe, its reader well inside the ring.
    poke(lap);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let code = crate::procs::wait_bounded(&mut child, crate::procs::PATIENCE)
        .code()
        .unwrap_or(-1);
    let seqs = format!("{line}{rest}")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    (seqs, err, code)
}

fn jsonl(n: usize, keep: bool) -> Vec<u8> {
    let pad = "y".repeat(900);
    (0..n)
        .map(|i| format!("{{\"i\":{i},\"keep\":{keep},\"pad\":\"{pad}\"}}\n"))
        .collect::<String>()
        .into_bytes()
}

fn gap_error(stderr: &str) -> serde_json::Value {
    let line = stderr
        .lines()
        .find(|l| l.contains("RetentionGap"))
        .unwrap_or_else(|| panic!("no RetentionGap in {stderr}"));
    serde_json::from_str::<serde_json::Value>(line).unwrap()["error"].clone()
}

#[test]
fn cli_on_gap_error_exits_9_naming_the_first_missing_seq() {
    let t = TempDir::new("gap-cli");
    make_pool(t.path(), "p", Some(2 * 1024 * 1024));
    let (seqs, err, code) = peek_lapped(
        &t,
        &["--on-gap", "error"],
        &jsonl(1500, true),
        &jsonl(8000, true),
    );
    assert_eq!(code, 9, "{err}");
    let e = gap_error(&err);
    assert_eq!(seqs, (1..1 + seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(e["seq"].as_u64(), Some(seqs.len() as u64 + 1), "{err}");
    assert!(e["lost"].as_u64().unwrap() > 0);
    assert!(
        !err.contains("\"drop\""),
        "no drop notice under error: {err}"
    );
}

#[test]
fn cli_on_gap_continue_prints_the_drop_notice_and_goes_on() {
    let t = TempDir::new("gap-cli-continue");
    make_pool(t.path(), "p", Some(2 * 1024 * 1024));
    let (seqs, err, code) = peek_lapped(&t, &[], &jsonl(1500, true), &jsonl(8000, true));
    assert_eq!(code, 124, "ends at its --timeout: {err}");
    assert!(err.contains("\"drop\""), "{err}");
    assert_eq!(seqs.last(), Some(&9500), "it carries on to the newest");
}

#[test]
fn cli_a_where_filter_does_not_hide_a_gap() {
    let t = TempDir::new("gap-cli-where");
    make_pool(t.path(), "p", Some(2 * 1024 * 1024));
    // Only the first batch matches; the lost messages would all have been filtered out.
    let (seqs, err, code) = peek_lapped(
        &t,
        &["--on-gap", "error", "--where", ".data.keep == true"],
        &jsonl(1500, true),
        &jsonl(8000, false),
    );
    assert_eq!(code, 9, "{err}");
    assert_eq!(gap_error(&err)["seq"].as_u64(), Some(seqs.len() as u64 + 1));
}

#[test]
fn cli_a_tag_filter_does_not_hide_a_gap() {
    let t = TempDir::new("gap-cli-tag");
    make_pool(t.path(), "p", Some(2 * 1024 * 1024));
    let tagged = |n: usize| {
        let r = pls(
            t.path(),
            &["poke", "p", "--in", "jsonl", "--tag", "a"],
            Some(&jsonl(n, true)),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    tagged(1500);
    // peek_lapped pokes its own first batch untagged: one message, seq 1501.
    let (seqs, err, code) = peek_lapped(
        &t,
        &["--on-gap", "error", "--tag", "a"],
        &jsonl(1, true),
        &jsonl(8000, true),
    );
    assert_eq!(code, 9, "{err}");
    assert!(seqs.iter().all(|&s| s <= 1500));
    assert_eq!(gap_error(&err)["seq"].as_u64(), Some(seqs.len() as u64 + 1));
}
