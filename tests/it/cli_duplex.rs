//! `duplex` through the binary: in a pipe (JSON in, JSON Lines out) and under a pseudo-terminal
//! (typed lines, chat view), each with a second writer; `--echo-self`, `--tail`, `--me`, `--create`
//! and a URL pool.

use crate::procs::{wait_bounded, PATIENCE};
use crate::support::{bin, eventually, make_pool, pls, serve, TempDir};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running duplex (or `script` around one) whose stdout is collected as it arrives.
struct Live {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Live {
    fn start(mut cmd: Command) -> Live {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&out);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Live { child, out }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).replace("\r\n", "\n")
    }

    fn send(&mut self, bytes: &[u8]) {
        let w = self.child.stdin.as_mut().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    fn shows(&self, needle: &str) -> bool {
        eventually(PATIENCE, || self.text().contains(needle))
    }
}

fn duplex(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("--dir").arg(dir).arg("duplex").args(args);
    c
}

/// Every message's data in `pool`.
fn datas(dir: &std::path::Path, pool: &str) -> Vec<serde_json::Value> {
    let r = pls(
        dir,
        &[
            "peek",
            pool,
            "--tail",
            "100",
            "--timeout",
            "0s",
            "--data-only",
        ],
        None,
    );
    r.lines()
}

#[test]
fn duplex_in_a_pipe_sends_json_and_prints_the_others_messages() {
    let t = TempDir::new("duplex-pipe");
    make_pool(t.path(), "chat", None);
    pls(t.path(), &["poke", "chat", r#"{"old":1}"#], None);
    pls(t.path(), &["poke", "chat", r#"{"old":2}"#], None);
    let mut d = Live::start(duplex(t.path(), &["chat", "--tail", "1"]));
    assert!(d.shows(r#""data":{"old":2}"#), "--tail 1: {}", d.text());
    d.send(b"{\"mine\":1}\n");
    assert!(
        eventually(PATIENCE, || datas(t.path(), "chat").len() == 3),
        "sent"
    );
    pls(
        t.path(),
        &["poke", "chat", r#"{"from":"bob","msg":"yo"}"#],
        None,
    );
    assert!(d.shows(r#""msg":"yo""#), "{}", d.text());
    drop(d.child.stdin.take());
    let status = wait_bounded(&mut d.child, PATIENCE);
    assert_eq!(status.code(), Some(0), "stdin ended: duplex ends");
    let text = d.text();
    assert!(!text.contains("\"old\":1"), "only the last 1: {text}");
    assert!(!text.contains("mine"), "own message not echoed: {text}");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            v["seq"].as_u64().is_some() && v["meta"]["tags"].is_array(),
            "{line}"
        );
    }
    assert_eq!(datas(t.path(), "chat")[2], serde_json::json!({"mine": 1}));
}

#[test]
fn duplex_prints_everything_committed_before_stdin_ended() {
    let t = TempDir::new("duplex-drain");
    for round in 0..5 {
        let pool = format!("chat{round}");
        make_pool(t.path(), &pool, None);
        for n in 1..=3 {
            pls(t.path(), &["poke", &pool, &format!("{{\"n\":{n}}}")], None);
        }
        let r = pls(
            t.path(),
            &["duplex", &pool, "--tail", "2"],
            Some(b"{\"mine\":1}\n"),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let datas: Vec<_> = r.lines().iter().map(|l| l["data"].clone()).collect();
        assert_eq!(
            datas,
            [serde_json::json!({"n": 2}), serde_json::json!({"n": 3})]
        );
        let r = pls(
            t.path(),
            &["duplex", &pool, "--echo-self"],
            Some(b"{\"me\":2}\n"),
        );
        let datas: Vec<_> = r.lines().iter().map(|l| l["data"].clone()).collect();
        assert_eq!(
            datas,
            [serde_json::json!({"me": 2})],
            "own message echoed before exit"
        );
    }
}

#[test]
fn duplex_echo_self_prints_own_messages_and_create_makes_the_pool() {
    let t = TempDir::new("duplex-echo");
    let mut d = Live::start(duplex(t.path(), &["room", "--create", "--echo-self"]));
    d.send(b"{\"mine\":1} {\"mine\":2}\n");
    assert!(d.shows(r#""data":{"mine":2}"#), "{}", d.text());
    assert!(d.text().contains(r#""data":{"mine":1}"#));
    drop(d.child.stdin.take());
    assert_eq!(wait_bounded(&mut d.child, PATIENCE).code(), Some(0));
    let r = pls(t.path(), &["duplex", "nope"], Some(b""));
    assert_eq!(r.code, 3, "{}", r.stderr);
    let r = pls(t.path(), &["duplex", "room"], Some(b"{\"a\":\n"));
    assert_eq!((r.code, r.error_kind().as_str()), (2, "Usage"));
}

#[test]
fn duplex_on_a_terminal_sends_typed_lines_and_shows_a_chat_view() {
    let t = TempDir::new("duplex-tty");
    make_pool(t.path(), "chat", None);
    pls(
        t.path(),
        &["poke", "chat", r#"{"from":"zed","msg":"earlier"}"#],
        None,
    );
    let inner = format!(
        "{} --dir {} duplex chat --me ann --tail 1",
        bin().display(),
        t.path().display()
    );
    let mut script = Command::new("script");
    script
        .args(["-qec", &inner, "/dev/null"])
        .env("TERM", "xterm");
    let mut d = Live::start(script);
    assert!(d.shows(" zed: earlier\n"), "{:?}", d.text());
    d.send(b"hello there\n");
    let sent = serde_json::json!({"from": "ann", "msg": "hello there"});
    assert!(
        eventually(PATIENCE, || datas(t.path(), "chat").contains(&sent)),
        "typed line sent as from/msg"
    );
    pls(
        t.path(),
        &["poke", "chat", r#"{"from":"bob","msg":"hi ann"}"#],
        None,
    );
    pls(t.path(), &["poke", "chat", r#"{"n":5}"#], None);
    assert!(d.shows(" bob: hi ann\n"), "{:?}", d.text());
    assert!(d.shows(r#" #4 {"n":5}"#), "{:?}", d.text());
    d.send(b"\x04");
    assert_eq!(wait_bounded(&mut d.child, PATIENCE).code(), Some(0));
    let text = d.text();
    assert!(
        !text.contains("ann: hello there"),
        "own line not echoed: {text:?}"
    );
    let clock = text.lines().find(|l| l.ends_with(" bob: hi ann")).unwrap();
    let hms = clock.split(' ').next().unwrap();
    assert!(hms.len() == 8 && hms.as_bytes()[2] == b':', "{clock:?}");
}

#[test]
fn duplex_works_on_a_url_pool() {
    let t = TempDir::new("duplex-url");
    make_pool(t.path(), "chat", None);
    let s = serve(t.path(), |_| {});
    let url = format!("http://{}/chat", s.addr());
    let mut d = Live::start(duplex(t.path(), &[&url]));
    d.send(b"{\"via\":\"http\"}\n");
    let mine = serde_json::json!({"via": "http"});
    assert!(eventually(PATIENCE, || datas(t.path(), "chat").contains(&mine)));
    pls(
        t.path(),
        &["poke", "chat", r#"{"from":"local","msg":"seen"}"#],
        None,
    );
    assert!(d.shows(r#""msg":"seen""#), "{}", d.text());
    drop(d.child.stdin.take());
    assert_eq!(wait_bounded(&mut d.child, PATIENCE).code(), Some(0));
    assert!(
        !d.text().contains("http\"}"),
        "own message not echoed: {}",
        d.text()
    );
    let r = pls(t.path(), &["duplex", &url, "--create"], Some(b""));
    assert_eq!(r.code, 2);
}
