//! Deleting a pool in use (issue 15, item 3): `pool delete` is Busy while a writer is attached; a
//! writer whose file was deleted appends nothing and says NotFound; followers (the library tail,
//! local `peek`, an HTTP tail) notice a deleted or replaced file and end with NotFound.

use crate::support::{bin, eventually, make_pool, pls, serve, HttpConn, TempDir};
use plasmite::api::TailStart;
use plasmite::{Client, Durability, ErrorKind, PoolRef, TailEvent, TailOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Whether process `pid` has `path` open (its `/proc/PID/fd` links): a readiness signal that the
/// child opened the pool, without sleeping.
fn has_open(pid: u32, path: &Path) -> bool {
    let want = std::fs::canonicalize(path).ok();
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    rd.flatten()
        .any(|e| std::fs::read_link(e.path()).ok() == want)
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(bin())
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the child to exit (bounded; killed past the bound) and returns (code, stdout, stderr).
fn finish(mut child: Child) -> (i32, String, String) {
    let exited = eventually(WAIT, || child.try_wait().unwrap().is_some());
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(exited, "the child did not exit within {WAIT:?}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn error_kind(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains("\"error\""))
        .unwrap_or_else(|| panic!("no error in {stderr:?}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["error"]["kind"].as_str().unwrap().to_owned()
}

#[test]
fn delete_is_busy_while_a_poke_process_is_attached_and_the_later_message_is_kept() {
    let t = TempDir::new("del-busy-poke");
    let path = t.join("dw.plasmite");
    assert_eq!(pls(t.path(), &["pool", "create", "dw"], None).code, 0);
    let mut poke = spawn(t.path(), &["poke", "dw"]);
    let mut stdin = poke.stdin.take().unwrap();
    stdin.write_all(b"{\"a\":1}\n").unwrap();
    stdin.flush().unwrap();
    // The first receipt means the writer has appended, so it is attached.
    let mut out = BufReader::new(poke.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("\"seq\":1"), "{first}");
    let del = pls(t.path(), &["pool", "delete", "dw"], None);
    assert_eq!(del.code, 5, "Busy: {}", del.stderr);
    assert!(
        del.stderr.contains("Busy") && del.stderr.contains("dw.plasmite"),
        "{}",
        del.stderr
    );
    stdin.write_all(b"{\"a\":2}\n").unwrap();
    drop(stdin);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let (code, _, err) = finish(poke);
    assert_eq!(code, 0, "{err}");
    assert!(rest.contains("\"seq\":2"), "{rest}");
    assert!(path.exists(), "the pool is still there");
    let got = pls(t.path(), &["get", "dw", "2"], None);
    assert!(got.stdout.contains("\"a\":2"), "{}", got.stdout);
    // Once the writer is gone, delete works.
    assert_eq!(pls(t.path(), &["pool", "delete", "dw"], None).code, 0);
    assert!(!path.exists());
}

#[test]
fn a_poke_whose_pool_was_deleted_before_its_first_append_acknowledges_nothing() {
    let t = TempDir::new("del-poke-gone");
    let path = t.join("dw.plasmite");
    assert_eq!(pls(t.path(), &["pool", "create", "dw"], None).code, 0);
    let mut poke = spawn(t.path(), &["poke", "dw"]);
    let pid = poke.id();
    assert!(
        eventually(WAIT, || has_open(pid, &path)),
        "poke opened the pool"
    );
    // Not attached yet (no append): delete goes through.
    let del = pls(t.path(), &["pool", "delete", "dw"], None);
    assert_eq!(del.code, 0, "{}", del.stderr);
    let mut stdin = poke.stdin.take().unwrap();
    stdin.write_all(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
    drop(stdin);
    let (code, out, err) = finish(poke);
    assert_eq!(code, 3, "NotFound: {err}");
    assert_eq!(error_kind(&err), "NotFound");
    assert!(
        err.contains("dw.plasmite"),
        "the error names the pool: {err}"
    );
    assert!(!out.contains("\"seq\""), "nothing acknowledged: {out}");
    assert!(!path.exists(), "no pool came back");
}

#[test]
fn a_following_peek_ends_with_not_found_when_its_pool_is_deleted() {
    let t = TempDir::new("del-peek");
    let path = t.join("dw.plasmite");
    assert_eq!(pls(t.path(), &["pool", "create", "dw"], None).code, 0);
    let peek = spawn(t.path(), &["peek", "dw"]);
    let pid = peek.id();
    assert!(
        eventually(WAIT, || has_open(pid, &path)),
        "peek opened the pool"
    );
    // A follower is not a writer: delete is not Busy.
    let del = pls(t.path(), &["pool", "delete", "dw"], None);
    assert_eq!(del.code, 0, "{}", del.stderr);
    let (code, _, err) = finish(peek);
    assert_eq!(code, 3, "{err}");
    assert_eq!(error_kind(&err), "NotFound");
    assert!(err.contains("dw.plasmite"), "{err}");
}

#[test]
fn library_delete_is_busy_while_a_handle_has_appended_and_a_stale_handle_appends_nothing() {
    let t = TempDir::new("del-api");
    let client = Client::new(t.path());
    let r = PoolRef::name("p");
    let writer = make_pool(t.path(), "p", None);
    let idle = client.open_pool(&r).unwrap();
    writer
        .append_json(b"{\"a\":1}", &[] as &[&str], Durability::Fast)
        .unwrap();
    let e = client.delete_pool(&r).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    drop(writer);
    client.delete_pool(&r).unwrap();
    // `idle` never appended, so it did not hold the delete off; now it cannot append.
    let e = idle
        .append_json(b"{\"a\":2}", &[] as &[&str], Durability::Flush)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("p.plasmite"), "{e}");
    assert!(!t.join("p.plasmite").exists());
}

#[test]
fn an_attached_writer_whose_file_is_removed_behind_its_back_appends_nothing() {
    let t = TempDir::new("del-api-rm");
    let p = make_pool(t.path(), "p", None);
    p.append_json(b"1", &[] as &[&str], Durability::Fast)
        .unwrap();
    std::fs::remove_file(t.join("p.plasmite")).unwrap();
    // `flush` checks before every append; `fast` within WRITER_LINK_CHECK_INTERVAL.
    let e = p
        .append_json(b"2", &[] as &[&str], Durability::Flush)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let mut last = None;
    assert!(eventually(WAIT, || {
        last = p.append_json(b"3", &[] as &[&str], Durability::Fast).err();
        last.is_some()
    }));
    assert_eq!(last.map(|e| e.kind()), Some(ErrorKind::NotFound));
    assert!(!t.join("p.plasmite").exists());
}

#[test]
fn a_library_tail_ends_with_not_found_when_its_file_is_deleted_or_replaced() {
    let t = TempDir::new("del-api-tail");
    let client = Client::new(t.path());
    for (name, replace) in [("gone", false), ("swapped", true)] {
        let r = PoolRef::name(name);
        let p = make_pool(t.path(), name, None);
        p.append_json(b"1", &[] as &[&str], Durability::Fast)
            .unwrap();
        drop(p);
        let p = client.open_pool(&r).unwrap();
        let mut tail = p
            .tail(TailOptions {
                start: TailStart::Since(1),
                ..TailOptions::default()
            })
            .unwrap();
        assert!(matches!(tail.next(), Some(Ok(TailEvent::Message(_)))));
        let path = t.join(&format!("{name}.plasmite"));
        if replace {
            // Keep the old file linked elsewhere, so only the path's inode tells.
            std::fs::hard_link(&path, t.join("old-copy")).unwrap();
            let other = make_pool(t.path(), "other", None);
            drop(other);
            std::fs::rename(t.join("other.plasmite"), &path).unwrap();
        } else {
            client.delete_pool(&r).unwrap();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let ev = tail.next();
            let after = tail.next().is_none();
            let _ = tx.send((ev, after));
        });
        let (ev, after) = rx.recv_timeout(WAIT).expect("the tail noticed");
        let e = match ev {
            Some(Err(e)) => e,
            other => panic!("{name}: expected an error, got {other:?}"),
        };
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        let how = if replace { "replaced" } else { "deleted" };
        assert!(e.to_string().contains(how), "{e}");
        assert!(e.to_string().contains(&format!("{name}.plasmite")), "{e}");
        assert!(after, "nothing comes after the error");
    }
}

/// A connection streaming a tail of pool `p` of `s`, its 200 head read.
fn open_http_tail(s: &plasmite::server::Running) -> HttpConn {
    let mut c = HttpConn::open(s.addr());
    c.send(&crate::support::raw_request(
        "GET",
        "/v0/pools/p/tail?timeout_ms=60000",
        None,
        None,
    ));
    assert!(eventually(WAIT, || s.tails() == 1));
    let head = c.read_response_head_only();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    c
}

#[test]
fn an_http_tail_ends_with_a_not_found_error_line_when_its_pool_is_deleted() {
    let t = TempDir::new("del-http-tail");
    let p = make_pool(t.path(), "p", None);
    drop(p);
    let s = serve(t.path(), |_| {});
    let mut c = open_http_tail(&s);
    Client::new(t.path())
        .delete_pool(&PoolRef::name("p"))
        .unwrap();
    let body = c.read_chunks(16);
    let text = String::from_utf8_lossy(&body);
    let last = text.lines().last().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{last:?}: {e}"));
    assert_eq!(v["error"]["kind"], "NotFound", "{text}");
    assert!(
        v["error"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("p.plasmite"))
            || last.contains("p.plasmite"),
        "{text}"
    );
}

#[test]
fn an_http_delete_is_not_refused_because_a_tail_is_open_on_a_pool_appended_over_http() {
    let t = TempDir::new("del-http-delete");
    drop(make_pool(t.path(), "p", None));
    let s = serve(t.path(), |_| {});
    // The server's cached handle appends (and attaches as a writer).
    let r = crate::support::request(
        s.addr(),
        "POST",
        "/v0/pools/p/append",
        None,
        Some(r#"{"data":1}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mut c = open_http_tail(&s);
    let r = crate::support::request(s.addr(), "DELETE", "/v0/pools/p", None, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!t.path().join("p.plasmite").exists());
    let body = c.read_chunks(16);
    let text = String::from_utf8_lossy(&body);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("\"NotFound\""), "{text}");
}

#[test]
fn delete_waits_out_a_writer_that_closes_within_the_grace_and_refuses_one_that_stays() {
    let t = TempDir::new("del-grace");
    let client = Client::new(t.path());
    let r = PoolRef::name("p");
    let writer = make_pool(t.path(), "p", None);
    writer
        .append_json(b"{\"a\":1}", &[] as &[&str], Durability::Fast)
        .unwrap();
    // Attached for the whole grace: Busy, and no sooner than the grace.
    let started = std::time::Instant::now();
    let e = client.delete_pool(&r).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert!(started.elapsed() >= plasmite::limits::DELETE_BUSY_GRACE);
    // Closed a moment after the delete began: the delete goes through.
    let closer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        drop(writer);
    });
    client.delete_pool(&r).unwrap();
    closer.join().unwrap();
    assert!(!t.join("p.plasmite").exists());
}
