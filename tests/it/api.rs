//! The library API: lifecycle, append/get, envelopes, limits, permissions.

use crate::support::TempDir;
use plasmite::api::{JsonText, TailStart};
use plasmite::{limits, Client, Durability, ErrorKind, PoolRef};
use serde_json::json;

fn client(t: &TempDir) -> Client {
    Client::new(t.join("pools"))
}

#[test]
fn create_makes_parent_dirs_and_refuses_to_overwrite() {
    let t = TempDir::new("create");
    let c = Client::new(t.join("a/b/c"));
    let p = c.create_pool(&PoolRef::name("chat"), 64 * 1024).unwrap();
    p.append(&json!({"x": 1}), &["t"], Durability::Fast)
        .unwrap();
    let e = c
        .create_pool(&PoolRef::name("chat"), 64 * 1024)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert_eq!(
        c.open_pool(&PoolRef::name("chat"))
            .unwrap()
            .get(1)
            .unwrap()
            .data,
        r#"{"x":1}"#
    );
    let leftovers: Vec<_> = std::fs::read_dir(t.join("a/b/c")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temp files left behind");
}

#[test]
fn open_missing_pool_is_not_found_and_uri_is_usage() {
    let t = TempDir::new("open");
    let c = client(&t);
    assert_eq!(
        c.open_pool(&PoolRef::name("nope")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let e = c
        .open_pool(&PoolRef::uri("tcp://host:1/pool/chat"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert_eq!(
        c.open_pool(&PoolRef::name("../x")).unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn append_returns_the_committed_envelope_and_get_reads_it_back() {
    let t = TempDir::new("append");
    let c = client(&t);
    let p = c.create_pool(&PoolRef::name("p"), 1 << 20).unwrap();
    let m1 = p
        .append_json(br#" {"b": 2, "a": 1.50} "#, &["x", "y"], Durability::Fast)
        .unwrap();
    let m2 = p
        .append(&json!([1, "two", null]), &[] as &[&str], Durability::Flush)
        .unwrap();
    let m3 = p.append_json(b"42", &["n"], Durability::Fast).unwrap();
    assert_eq!((m1.seq, m2.seq, m3.seq), (1, 2, 3));
    assert!(m1.time_ns <= m2.time_ns && m2.time_ns <= m3.time_ns);
    assert_eq!(
        m1.data, r#"{"b":2,"a":1.50}"#,
        "key order and number text preserved"
    );
    let g = p.get(1).unwrap();
    assert_eq!(g, m1);
    assert_eq!(g.tags, vec!["x", "y"]);
    assert_eq!(p.get(3).unwrap().data, "42");
    let env = g.to_json();
    assert_eq!(env["meta"]["tags"], json!(["x", "y"]));
    assert_eq!(env["seq"], 1);
    assert!(env["time"].as_str().unwrap().ends_with('Z'));
    for missing in [0, 4, 1000] {
        let e = p.get(missing).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.seq(), Some(missing));
    }
}

#[test]
fn invalid_json_is_a_usage_error_and_nothing_is_written() {
    let t = TempDir::new("badjson");
    let p = client(&t)
        .create_pool(&PoolRef::name("p"), 1 << 20)
        .unwrap();
    for bad in [&b"{"[..], b"", b"nul", b"{\"a\":1} x", b"[1,]"] {
        let e = p
            .append_json(bad, &[] as &[&str], Durability::Fast)
            .unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::Usage,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(p.info().unwrap().message_count, 0);
}

#[test]
fn pool_size_limits_are_enforced_at_both_edges() {
    let t = TempDir::new("sizes");
    let c = client(&t);
    let min = limits::POOL_SIZE_BYTES_MIN;
    assert!(c.create_pool(&PoolRef::name("min"), min).is_ok());
    assert_eq!(
        c.create_pool(&PoolRef::name("tiny"), min - 1)
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
    let max = limits::POOL_SIZE_BYTES_MAX;
    assert_eq!(
        c.create_pool(&PoolRef::name("huge"), max + 1)
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
    assert!(!t.join("pools/huge.plasmite").exists());
}

#[test]
fn message_limits_are_enforced_at_the_edge() {
    let t = TempDir::new("msglimits");
    let c = client(&t);
    let p = c.create_pool(&PoolRef::name("p"), 64 << 20).unwrap();
    let tags_ok: Vec<String> = (0..limits::TAGS_PER_MESSAGE_MAX)
        .map(|i| format!("t{i}"))
        .collect();
    assert!(p.append_json(b"1", &tags_ok, Durability::Fast).is_ok());
    let mut tags_bad = tags_ok.clone();
    tags_bad.push("one-more".into());
    assert_eq!(
        p.append_json(b"1", &tags_bad, Durability::Fast)
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
    let long_ok = "t".repeat(limits::TAG_BYTES_MAX);
    assert!(p
        .append_json(b"1", &[long_ok.as_str()], Durability::Fast)
        .is_ok());
    let long_bad = "t".repeat(limits::TAG_BYTES_MAX + 1);
    assert_eq!(
        p.append_json(b"1", &[long_bad.as_str()], Durability::Fast)
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
    assert_eq!(
        p.append_json(b"1", &[""], Durability::Fast)
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
    // Data: exactly the max is accepted in a pool large enough, one more byte is refused.
    let big = |n: usize| JsonText::parse(format!("\"{}\"", "x".repeat(n - 2)).as_bytes()).unwrap();
    let none: &[&str] = &[];
    assert!(p
        .append_text(&big(limits::MESSAGE_DATA_BYTES_MAX), none, Durability::Fast)
        .is_ok());
    let e = p
        .append_text(
            &big(limits::MESSAGE_DATA_BYTES_MAX + 1),
            none,
            Durability::Fast,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    // Per-pool: a frame may take at most half the ring.
    let small = c.create_pool(&PoolRef::name("small"), 64 * 1024).unwrap();
    let half = small.info().unwrap().ring_size / 2;
    let fits = (half - 32) as usize;
    assert!(small
        .append_text(&big(fits), none, Durability::Fast)
        .is_ok());
    assert_eq!(
        small
            .append_text(&big(fits + 8), none, Durability::Fast)
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
}

#[test]
fn info_reports_geometry_bounds_and_usage() {
    let t = TempDir::new("info");
    let c = client(&t);
    let p = c.create_pool(&PoolRef::name("p"), 1 << 20).unwrap();
    let i0 = p.info().unwrap();
    assert_eq!(i0.file_size, 1 << 20);
    assert_eq!(i0.bounds, None);
    assert_eq!(i0.message_count, 0);
    assert_eq!(i0.to_json()["bounds"], json!({}));
    for i in 0..10 {
        p.append(&json!({"i": i}), &[] as &[&str], Durability::Fast)
            .unwrap();
    }
    let i1 = c.pool_info(&PoolRef::name("p")).unwrap();
    assert_eq!(i1.bounds, Some((1, 10)));
    assert_eq!(i1.message_count, 10);
    assert!(i1.used_bytes > 0 && i1.used_percent > 0.0);
    assert!(i1.oldest_time_ns.unwrap() <= i1.newest_time_ns.unwrap());
    assert!(i1.path.is_absolute());
    let j = i1.to_json();
    assert_eq!(j["bounds"], json!({"oldest": 1, "newest": 10}));
    assert_eq!(j["ring_offset"], i1.ring_offset);
}

#[test]
fn list_is_sorted_and_keeps_unreadable_pools_with_their_error() {
    let t = TempDir::new("list");
    let c = client(&t);
    assert!(
        c.list_pools().unwrap().is_empty(),
        "missing dir lists nothing"
    );
    for n in ["zeta", "alpha", "mid"] {
        c.create_pool(&PoolRef::name(n), 64 * 1024).unwrap();
    }
    std::fs::write(t.join("pools/broken.plasmite"), b"not a pool at all").unwrap();
    std::fs::write(t.join("pools/notes.txt"), b"ignored").unwrap();
    let l = c.list_pools().unwrap();
    let names: Vec<_> = l.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["alpha", "broken", "mid", "zeta"]);
    assert_eq!(l[1].info.as_ref().unwrap_err().kind(), ErrorKind::Corrupt);
    assert!(l[0].info.is_ok());
}

#[test]
fn delete_removes_pools_refuses_non_pools_and_is_busy_while_locked() {
    let t = TempDir::new("delete");
    let c = client(&t);
    c.create_pool(&PoolRef::name("p"), 64 * 1024).unwrap();
    c.delete_pool(&PoolRef::name("p")).unwrap();
    assert_eq!(
        c.delete_pool(&PoolRef::name("p")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let other = t.join("precious.txt");
    std::fs::write(&other, b"do not delete me").unwrap();
    assert_eq!(
        c.delete_pool(&PoolRef::path(&other)).unwrap_err().kind(),
        ErrorKind::Usage
    );
    assert!(other.exists());
    // A writer holding the lock makes delete Busy.
    let path = t.join("pools/held.plasmite");
    c.create_pool(&PoolRef::path(&path), 64 * 1024).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    assert!(plasmite_test_lock(&f));
    assert_eq!(
        c.delete_pool(&PoolRef::path(&path)).unwrap_err().kind(),
        ErrorKind::Busy
    );
    drop(f);
    c.delete_pool(&PoolRef::path(&path)).unwrap();
}

/// Takes an flock through the `flock(1)` semantics using a child-free path: std's File::lock.
fn plasmite_test_lock(f: &std::fs::File) -> bool {
    f.try_lock().is_ok()
}

#[test]
fn a_directory_and_a_foreign_file_are_refused_with_clear_kinds() {
    let t = TempDir::new("foreign");
    let c = client(&t);
    std::fs::create_dir_all(t.join("dir.plasmite")).unwrap();
    assert_eq!(
        c.open_pool(&PoolRef::path(t.join("dir.plasmite")))
            .unwrap_err()
            .kind(),
        ErrorKind::Usage
    );
    std::fs::write(t.join("junk"), vec![7u8; 10_000]).unwrap();
    let e = c.open_pool(&PoolRef::path(t.join("junk"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert_eq!(e.offset(), Some(0));
    std::fs::write(t.join("empty"), b"").unwrap();
    assert_eq!(
        c.open_pool(&PoolRef::path(t.join("empty")))
            .unwrap_err()
            .kind(),
        ErrorKind::Corrupt
    );
}

#[test]
fn another_format_version_is_refused_naming_both_versions() {
    let t = TempDir::new("version");
    let c = client(&t);
    let p = c.create_pool(&PoolRef::name("v"), 64 * 1024).unwrap();
    let path = p.path().to_path_buf();
    drop(p);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8] = 9;
    std::fs::write(&path, &bytes).unwrap();
    let e = c.open_pool(&PoolRef::name("v")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(
        e.message().contains("version 9") && e.message().contains("version 1"),
        "{}",
        e.message()
    );
}

#[test]
fn a_read_only_file_can_be_followed_but_not_written() {
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new("readonly");
    let c = client(&t);
    let w = c.create_pool(&PoolRef::name("ro"), 1 << 20).unwrap();
    w.append_json(b"1", &[] as &[&str], Durability::Fast)
        .unwrap();
    let path = w.path().to_path_buf();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    // Root ignores file modes; open read-only explicitly so the test means the same for everyone.
    let r = plasmite::Pool::open_path_read_only(&path).unwrap();
    assert!(!r.writable());
    let e = r
        .append_json(b"2", &[] as &[&str], Durability::Fast)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permission);
    let mut tail = r
        .tail(plasmite::TailOptions {
            start: TailStart::Since(1),
            ..Default::default()
        })
        .unwrap();
    let first = tail.next().unwrap().unwrap();
    assert!(matches!(first, plasmite::TailEvent::Message(ref m) if m.seq == 1));
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(30));
        w.append_json(b"2", &[] as &[&str], Durability::Fast)
            .unwrap();
    });
    let second = tail.next().unwrap().unwrap();
    assert!(matches!(second, plasmite::TailEvent::Message(ref m) if m.seq == 2 && m.data == "2"));
    writer.join().unwrap();
}

#[test]
fn batch_append_commits_in_order_across_lock_holds() {
    let t = TempDir::new("batch");
    let p = client(&t)
        .create_pool(&PoolRef::name("b"), 8 << 20)
        .unwrap();
    let n = limits::BATCH_MESSAGES_MAX * 2 + 17;
    let texts: Vec<JsonText> = (0..n)
        .map(|i| JsonText::parse(format!("{{\"i\":{i}}}").as_bytes()).unwrap())
        .collect();
    let tags = ["batch".to_string()];
    let recs: Vec<(&JsonText, &[String])> = texts.iter().map(|t| (t, &tags[..])).collect();
    let receipts = p.append_batch(&recs, Durability::Fast).unwrap();
    assert_eq!(receipts.len(), n);
    for (i, r) in receipts.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
    }
    assert_eq!(
        p.get(n as u64).unwrap().data,
        format!("{{\"i\":{}}}", n - 1)
    );
    assert_eq!(p.get(5).unwrap().tags, vec!["batch"]);
}

#[test]
fn batch_failure_keeps_earlier_records_and_names_the_failing_one() {
    let t = TempDir::new("batchfail");
    let p = client(&t)
        .create_pool(&PoolRef::name("b"), 1 << 20)
        .unwrap();
    let ok = JsonText::parse(b"1").unwrap();
    let good: &[String] = &[];
    let bad_tags = [String::new()];
    let recs: Vec<(&JsonText, &[String])> = vec![(&ok, good), (&ok, good), (&ok, &bad_tags[..])];
    let e = p.append_batch(&recs, Durability::Fast).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(e.message().starts_with("record 3"), "{}", e.message());
    assert_eq!(
        p.info().unwrap().message_count,
        2,
        "records before the bad one are committed"
    );
    assert_eq!(p.get(2).unwrap().data, "1");
}

#[test]
fn get_racing_a_wrapping_writer_is_right_or_not_found_never_corrupt() {
    let t = TempDir::new("get-race");
    let p = client(&t)
        .create_pool(&PoolRef::name("race"), 64 * 1024)
        .unwrap();
    // Tiny messages: the ring holds several times more messages than the index has slots, so most
    // lookups take the walk from the tail while the writer evicts around it.
    let w = p.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut i = 0u64;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            w.append_json(
                format!("{{\"i\":{i}}}").as_bytes(),
                &[] as &[&str],
                Durability::Fast,
            )
            .unwrap();
            i += 1;
        }
    });
    let mut rng = crate::support::Rng::new(3);
    let (mut found, mut gone) = (0, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
    while std::time::Instant::now() < deadline {
        let Some((lo, hi)) = p.info().unwrap().bounds else {
            continue;
        };
        let seq = lo + rng.below(hi - lo + 1);
        match p.get(seq) {
            Ok(m) => {
                let v: serde_json::Value = serde_json::from_str(&m.data).unwrap();
                assert_eq!(v["i"], seq - 1, "get({seq}) returned another message");
                found += 1;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::NotFound, "get({seq}): {e}");
                gone += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(found > 100, "found {found}, gone {gone}");
}
