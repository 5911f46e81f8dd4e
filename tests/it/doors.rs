//! The CLI's pool commands through both doors: every test here runs once on a pool directory and
//! once on a `plasmite serve` (port 0) over another directory, and asserts the same behaviour —
//! poke (inline, stream, `--errors`, `--retry`), peek (`--tail`, live, `--one`, `--timeout`, drops,
//! `--no-follow`), get, and `pool create|info|delete`.

use crate::support::{bin, eventually, make_pool, pls, serve, Run, TempDir};
use plasmite::server::Running;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A pool directory, reached directly or through a server.
struct Door {
    dir: TempDir,
    server: Option<Running>,
}

impl Door {
    fn local(tag: &str) -> Door {
        Door {
            dir: TempDir::new(&format!("doors-local-{tag}")),
            server: None,
        }
    }

    fn remote(tag: &str) -> Door {
        let dir = TempDir::new(&format!("doors-remote-{tag}"));
        let server = Some(serve(dir.path(), |_| {}));
        Door { dir, server }
    }

    fn name(&self) -> &'static str {
        if self.server.is_some() {
            "remote"
        } else {
            "local"
        }
    }

    /// How the CLI names pool `p` through this door.
    fn pool(&self, p: &str) -> String {
        match &self.server {
            Some(s) => format!("http://{}/{p}", s.addr()),
            None => p.to_owned(),
        }
    }

    /// Runs the binary with `--dir` of a directory that is NOT the pool directory for the remote
    /// door (so a remote command cannot succeed by reading the files).
    fn pls(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        match &self.server {
            Some(_) => pls(&self.dir.join("elsewhere"), args, stdin),
            None => pls(self.dir.path(), args, stdin),
        }
    }

    fn make(&self, p: &str, size: Option<u64>) -> plasmite::Pool {
        make_pool(self.dir.path(), p, size)
    }

    /// A `peek` child with piped stdout.
    fn spawn_peek(&self, args: &[&str]) -> std::process::Child {
        let dir = match &self.server {
            Some(_) => self.dir.join("elsewhere"),
            None => self.dir.path().to_path_buf(),
        };
        Command::new(bin())
            .arg("--dir")
            .arg(dir)
            .arg("peek")
            .args(args)
            .env_remove("PLASMITE_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits until a follower is attached (a tail on the server), or a moment for a local one.
    fn wait_follower(&self) {
        match &self.server {
            Some(s) => assert!(eventually(Duration::from_secs(10), || s.tails() == 1)),
            None => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

fn both(tag: &str, f: impl Fn(&Door)) {
    for door in [Door::local(tag), Door::remote(tag)] {
        f(&door);
    }
}

fn data_of(r: &Run) -> Vec<serde_json::Value> {
    r.lines().into_iter().map(|v| v["data"].clone()).collect()
}

fn seqs(r: &Run) -> Vec<u64> {
    r.lines()
        .iter()
        .map(|v| v["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn poke_inline_prints_one_envelope_with_keys_in_order() {
    both("inline", |d| {
        d.make("p", None);
        let r = d.pls(
            &["poke", &d.pool("p"), r#"{"z":1,"a":1.50}"#, "--tag", "t"],
            None,
        );
        assert_eq!(r.code, 0, "{}: {}", d.name(), r.stderr);
        assert_eq!(r.stdout.lines().count(), 1, "{}", d.name());
        let line = r.stdout.trim();
        assert!(line.starts_with(r#"{"seq":1,"time":""#), "{line}");
        assert!(
            line.ends_with(r#","meta":{"tags":["t"]},"data":{"z":1,"a":1.50}}"#),
            "{line}"
        );
        let g = d.pls(&["get", &d.pool("p"), "1"], None);
        assert_eq!(
            g.stdout,
            r.stdout,
            "{}: get prints what poke printed",
            d.name()
        );
    });
}

#[test]
fn poke_streams_commit_every_record_in_order() {
    both("stream", |d| {
        d.make("p", None);
        let input = b"{\"n\":1}\n[2]\n\"three\"\n";
        let r = d.pls(&["poke", &d.pool("p")], Some(input));
        assert_eq!(r.code, 0, "{}: {}", d.name(), r.stderr);
        assert_eq!(seqs(&r), [1, 2, 3], "{}", d.name());
        let all = d.pls(&["peek", &d.pool("p"), "--no-follow"], None);
        assert_eq!(
            data_of(&all),
            [
                serde_json::json!({"n": 1}),
                serde_json::json!([2]),
                serde_json::json!("three")
            ],
            "{}",
            d.name()
        );
    });
}

#[test]
fn poke_errors_stop_or_skip_bad_records_the_same_way() {
    both("errors", |d| {
        d.make("p", None);
        let input = b"{\"ok\":1}\n{bad\n{\"ok\":2}\n";
        let stop = d.pls(&["poke", &d.pool("p")], Some(input));
        assert_eq!(
            (stop.code, stop.error_kind()),
            (2, "Usage".into()),
            "{}",
            d.name()
        );
        assert_eq!(seqs(&stop), [1], "{}: records before the bad one", d.name());
        let skip = d.pls(&["poke", &d.pool("p"), "--errors", "skip"], Some(input));
        assert_eq!(seqs(&skip), [2, 3], "{}: {}", d.name(), skip.stderr);
        assert!(skip.stderr.contains("\"skipped\""), "{}", skip.stderr);
        assert_ne!(
            skip.code,
            0,
            "{}: skipped records are not a clean exit",
            d.name()
        );
    });
}

#[test]
fn a_record_the_pool_refuses_is_a_bad_record_under_errors() {
    both("refused", |d| {
        d.make("p", Some(64 * 1024));
        let big = format!("{{\"big\":\"{}\"}}\n", "x".repeat(200 * 1024));
        let input = format!("{{\"a\":1}}\n{big}{{\"a\":2}}\n");
        let stop = d.pls(&["poke", &d.pool("p")], Some(input.as_bytes()));
        assert_eq!(
            (stop.code, stop.error_kind()),
            (2, "Usage".into()),
            "{}",
            d.name()
        );
        assert!(
            stop.stderr.contains("record 2"),
            "{}: {}",
            d.name(),
            stop.stderr
        );
        assert_eq!(seqs(&stop), [1], "{}", d.name());
        let skip = d.pls(
            &["poke", &d.pool("p"), "--errors", "skip"],
            Some(input.as_bytes()),
        );
        assert_eq!(seqs(&skip), [2, 3], "{}: {}", d.name(), skip.stderr);
    });
}

#[test]
fn poke_retry_waits_for_a_pool_that_appears() {
    both("retry", |d| {
        // Missing pool: NotFound (exit 3) without --retry, through both doors.
        let r = d.pls(&["poke", &d.pool("late"), "1"], None);
        assert_eq!(
            (r.code, r.error_kind()),
            (3, "NotFound".into()),
            "{}",
            d.name()
        );
        // With --retry, a pool created meanwhile is found (the remote door asks the server once
        // per attempt), and the value is committed exactly once.
        let dir = d.dir.path().to_path_buf();
        let maker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            make_pool(&dir, "late", None);
        });
        let r = d.pls(
            &[
                "poke",
                &d.pool("late"),
                "1",
                "--retry",
                "100",
                "--retry-delay",
                "50ms",
            ],
            None,
        );
        maker.join().unwrap();
        assert_eq!(
            (r.code, seqs(&r)),
            (0, vec![1]),
            "{}: {}",
            d.name(),
            r.stderr
        );
    });
}

#[test]
fn peek_tail_prints_the_last_n_in_order() {
    both("tail", |d| {
        let p = d.make("p", None);
        for i in 1..=5 {
            p.append(
                &serde_json::json!({ "i": i }),
                &["x"],
                plasmite::Durability::Fast,
            )
            .unwrap();
        }
        let r = d.pls(
            &["peek", &d.pool("p"), "--tail", "2", "--timeout", "200ms"],
            None,
        );
        assert_eq!(
            (r.code, seqs(&r)),
            (124, vec![4, 5]),
            "{}: {}",
            d.name(),
            r.stderr
        );
        let one = d.pls(&["peek", &d.pool("p"), "--tail", "3", "--one"], None);
        assert_eq!((one.code, seqs(&one)), (0, vec![3]), "{}", d.name());
        let filtered = d.pls(
            &[
                "peek",
                &d.pool("p"),
                "-n",
                "5",
                "--where",
                ".data.i % 2 == 0",
                "--no-follow",
            ],
            None,
        );
        assert_eq!(
            (filtered.code, seqs(&filtered)),
            (0, vec![2, 4]),
            "{}",
            d.name()
        );
    });
}

#[test]
fn a_live_peek_gets_new_messages_and_one_ends_it() {
    both("live", |d| {
        let p = d.make("p", None);
        p.append_json(b"\"old\"", &[] as &[&str], plasmite::Durability::Fast)
            .unwrap();
        let child = d.spawn_peek(&[&d.pool("p"), "--one", "--timeout", "30s"]);
        d.wait_follower();
        p.append_json(b"\"new\"", &[] as &[&str], plasmite::Durability::Fast)
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", d.name());
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
        assert_eq!(
            (v["seq"].as_u64(), v["data"].as_str()),
            (Some(2), Some("new"))
        );
    });
}

#[test]
fn a_lapped_peek_reports_the_drop_and_goes_on() {
    both("drops", |d| {
        let p = d.make("p", Some(64 * 1024));
        let child = d.spawn_peek(&[&d.pool("p"), "--timeout", "3s"]);
        d.wait_follower();
        // Far more than the ring holds, faster than a follower reads: some are lost.
        let body = serde_json::json!({ "pad": "y".repeat(900) });
        for _ in 0..3000 {
            p.append(&body, &[] as &[&str], plasmite::Durability::Fast)
                .unwrap();
        }
        let o = child.wait_with_output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let got: Vec<u64> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "{}: in order",
            d.name()
        );
        assert_eq!(got.last(), Some(&3000), "{}: reaches the newest", d.name());
        if got.len() < 3000 {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("\"drop\""), "{}: {err}", d.name());
        }
    });
}

#[test]
fn peek_no_follow_prints_the_selection_and_exits_0() {
    both("nofollow", |d| {
        let empty = d.make("e", None);
        drop(empty);
        let r = d.pls(&["peek", &d.pool("e"), "--no-follow"], None);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, ""),
            "{}: {}",
            d.name(),
            r.stderr
        );
        let p = d.make("p", None);
        for i in 1..=4 {
            p.append(
                &serde_json::json!(i),
                &[] as &[&str],
                plasmite::Durability::Fast,
            )
            .unwrap();
        }
        let all = d.pls(&["peek", &d.pool("p"), "--no-follow"], None);
        assert_eq!(
            (all.code, seqs(&all)),
            (0, vec![1, 2, 3, 4]),
            "{}",
            d.name()
        );
        let last = d.pls(&["peek", &d.pool("p"), "--no-follow", "--tail", "2"], None);
        assert_eq!((last.code, seqs(&last)), (0, vec![3, 4]), "{}", d.name());
        let none = d.pls(&["peek", &d.pool("p"), "--no-follow", "--tail", "0"], None);
        assert_eq!((none.code, seqs(&none)), (0, vec![]), "{}", d.name());
    });
}

#[test]
fn peek_into_a_closed_pipe_returns_while_no_message_arrives() {
    both("head", |d| {
        let p = d.make("p", None);
        for i in 1..=3 {
            p.append(
                &serde_json::json!(i),
                &[] as &[&str],
                plasmite::Durability::Fast,
            )
            .unwrap();
        }
        let mut child = d.spawn_peek(&[&d.pool("p"), "--tail", "2"]);
        // Read the first line, then close the pipe like `head -1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            first.push(byte[0]);
        }
        drop(stdout);
        let v: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(v["seq"], 2, "{}", d.name());
        // No message arrives: peek must still end (generous bound, not a timing assertion).
        let ended = eventually(Duration::from_secs(10), || {
            child.try_wait().map(|s| s.is_some()).unwrap_or(false)
        });
        if !ended {
            let _ = child.kill();
        }
        assert!(ended, "{}: peek kept waiting on a closed stdout", d.name());
        assert_eq!(child.wait().unwrap().code(), Some(0), "{}", d.name());
    });
}

#[test]
fn pool_create_info_and_delete_work_through_both_doors() {
    both("pool", |d| {
        let c = d.pls(&["pool", "create", &d.pool("n"), "--size", "128k"], None);
        assert_eq!(c.code, 0, "{}: {}", d.name(), c.stderr);
        let made = &c.lines()[0];
        assert_eq!(
            (made["name"].as_str(), made["file_size"].as_u64()),
            (Some("n"), Some(131072))
        );
        let again = d.pls(&["pool", "create", &d.pool("n")], None);
        assert_eq!(again.error_kind(), "AlreadyExists", "{}", d.name());
        d.pls(&["poke", &d.pool("n"), "7"], None);
        let i = d.pls(&["pool", "info", &d.pool("n")], None);
        assert_eq!(i.code, 0, "{}: {}", d.name(), i.stderr);
        let info = &i.lines()[0];
        assert_eq!(info["name"], "n");
        assert_eq!(info["message_count"], 1);
        assert_eq!(
            info["bounds"],
            serde_json::json!({"oldest": 1, "newest": 1})
        );
        let del = d.pls(&["pool", "delete", &d.pool("n")], None);
        assert_eq!(del.code, 0, "{}: {}", d.name(), del.stderr);
        assert_eq!(
            del.lines()[0],
            serde_json::json!({"name": "n", "deleted": true})
        );
        assert!(!d.dir.join("n.plasmite").exists(), "{}", d.name());
        let gone = d.pls(&["pool", "info", &d.pool("n")], None);
        assert_eq!(
            (gone.code, gone.error_kind()),
            (3, "NotFound".into()),
            "{}",
            d.name()
        );
        let gone = d.pls(&["pool", "delete", &d.pool("n")], None);
        assert_eq!(
            (gone.code, gone.error_kind()),
            (3, "NotFound".into()),
            "{}",
            d.name()
        );
    });
}

#[test]
fn get_of_a_missing_seq_is_not_found_through_both_doors() {
    both("get", |d| {
        d.make("p", None);
        let r = d.pls(&["get", &d.pool("p"), "9"], None);
        assert_eq!(
            (r.code, r.error_kind()),
            (3, "NotFound".into()),
            "{}",
            d.name()
        );
    });
}
