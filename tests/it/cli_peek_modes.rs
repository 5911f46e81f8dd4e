//! `peek` and `poke` at a terminal (under a pseudo-terminal made by util-linux `script`): poke's
//! compact line, peek's one "waiting" line, and `poke --file -` reading what is typed until EOF.

use crate::support::{bin, make_pool, TempDir};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `plasmite --dir DIR ARGS` with stdout and stderr on a pseudo-terminal; `typed` is sent to
/// the terminal (after a pause, so the program is reading), then Ctrl-D.
fn on_tty(dir: &std::path::Path, args: &str, typed: Option<&str>) -> (String, Option<i32>) {
    let cmd = format!("{} --dir {} {args}", bin().display(), dir.display());
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("util-linux script is needed for terminal tests");
    let mut stdin = child.stdin.take().unwrap();
    if let Some(t) = typed {
        std::thread::sleep(std::time::Duration::from_millis(300));
        stdin.write_all(t.as_bytes()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        stdin.write_all(b"\x04").unwrap();
    }
    let keep = std::thread::spawn(move || {
        // Keep the terminal open until the program is done (script ends at its exit).
        std::thread::sleep(std::time::Duration::from_secs(2));
        drop(stdin);
    });
    let out = child.wait_with_output().unwrap();
    keep.join().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
        out.status.code(),
    )
}

#[test]
fn poke_prints_one_compact_line_on_a_terminal() {
    let t = TempDir::new("tty-poke-line");
    make_pool(t.path(), "p", None);
    let (out, _) = on_tty(t.path(), r#"poke p '{"b":1,"a":[1,2]}'"#, None);
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{out:?}");
    assert!(lines[0].starts_with(r#"{"seq":1,"time":""#), "{out:?}");
    assert!(
        lines[0].ends_with(r#","meta":{"tags":[]},"data":{"b":1,"a":[1,2]}}"#),
        "{out:?}"
    );
}

#[test]
fn a_follower_with_nothing_to_show_says_once_that_it_waits() {
    let t = TempDir::new("tty-waiting");
    make_pool(t.path(), "p", None);
    let (out, _) = on_tty(t.path(), "peek p --timeout 300ms", None);
    assert_eq!(
        out.matches("waiting for messages in p (Ctrl-C to stop)")
            .count(),
        1,
        "{out:?}"
    );
    assert!(out.contains("\x1b[2mwaiting"), "dim: {out:?}");
    let (plain, _) = on_tty(t.path(), "--color never peek p --timeout 300ms", None);
    assert!(plain.contains("waiting for messages in p"), "{plain:?}");
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
}

#[test]
fn no_follow_and_a_follower_with_output_do_not_say_they_wait() {
    let t = TempDir::new("tty-no-waiting");
    let p = make_pool(t.path(), "p", None);
    p.append_json(b"1", &[] as &[&str], plasmite::Durability::Fast)
        .unwrap();
    let (out, _) = on_tty(t.path(), "peek p --no-follow", None);
    assert!(!out.contains("waiting"), "{out:?}");
    let (out, _) = on_tty(
        t.path(),
        "--color never peek p --tail 1 --timeout 300ms",
        None,
    );
    assert!(out.contains("\"seq\": 1"), "{out:?}");
    assert!(!out.contains("waiting"), "{out:?}");
}

#[test]
fn poke_file_dash_reads_the_terminal_until_eof() {
    let t = TempDir::new("tty-file-dash");
    let p = make_pool(t.path(), "p", None);
    let (out, code) = on_tty(t.path(), "poke p --file -", Some("{\"a\":1}\n{\"a\":2}\n"));
    assert_eq!(code, Some(0), "{out:?}");
    assert_eq!(p.info().unwrap().message_count, 2, "{out:?}");
    assert_eq!(p.get(2).unwrap().data, r#"{"a":2}"#);
}
