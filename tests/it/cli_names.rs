//! The second names `feed`, `follow`, `fetch`: the same commands as `poke`, `peek`, `get` (same
//! flags, same output), listed in help and completions.

use crate::support::{pls, TempDir};

/// Drops the `time` field so two runs can be compared.
fn timeless(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("time");
            v
        })
        .collect()
}

#[test]
fn feed_follow_fetch_behave_as_poke_peek_get() {
    let t = TempDir::new("names");
    let a = pls(
        t.path(),
        &["feed", "--create", "--tag", "x", "chat"],
        Some(b"{\"n\":1}\n{\"n\":2}\n"),
    );
    let b = pls(
        t.path(),
        &["poke", "--tag", "x", "chat"],
        Some(b"{\"n\":3}\n"),
    );
    assert_eq!((a.code, b.code), (0, 0), "{} {}", a.stderr, b.stderr);
    assert_eq!(a.lines()[1]["seq"], 2);
    let peek = pls(
        t.path(),
        &[
            "peek",
            "chat",
            "--tail",
            "3",
            "--timeout",
            "0s",
            "--where",
            ".data.n > 1",
        ],
        None,
    );
    let follow = pls(
        t.path(),
        &[
            "follow",
            "chat",
            "--tail",
            "3",
            "--timeout",
            "0s",
            "--where",
            ".data.n > 1",
        ],
        None,
    );
    assert_eq!(peek.code, follow.code);
    assert_eq!(peek.stdout, follow.stdout);
    assert_eq!(timeless(&follow.stdout).len(), 2);
    let get = pls(t.path(), &["get", "chat", "2", "--data-only"], None);
    let fetch = pls(t.path(), &["fetch", "chat", "2", "--data-only"], None);
    assert_eq!(
        (fetch.code, fetch.stdout.as_str()),
        (0, get.stdout.as_str())
    );
    // Same errors too.
    let bad = pls(t.path(), &["fetch", "chat", "0"], None);
    assert_eq!((bad.code, bad.error_kind().as_str()), (2, "Usage"));
    assert_eq!(
        pls(t.path(), &["follow", "chat", "--bogus"], None).code,
        pls(t.path(), &["peek", "chat", "--bogus"], None).code
    );
}

#[test]
fn help_and_completions_list_the_second_names_and_the_new_commands() {
    let t = TempDir::new("names-help");
    let top = pls(t.path(), &["--help"], None).stdout;
    for row in ["poke, feed", "peek, follow", "get, fetch", "tap", "duplex"] {
        assert!(top.contains(row), "{row} in {top}");
    }
    let follow = pls(t.path(), &["follow", "--help"], None).stdout;
    assert_eq!(follow, pls(t.path(), &["help", "peek"], None).stdout);
    assert!(follow.contains("plasmite peek [FLAGS] POOL"), "{follow}");
    assert!(
        follow.contains("or: plasmite follow [FLAGS] POOL"),
        "{follow}"
    );
    assert_eq!(
        pls(t.path(), &["help", "fetch"], None).stdout,
        pls(t.path(), &["get", "-h"], None).stdout
    );
    let tap = pls(t.path(), &["help", "tap"], None).stdout;
    for flag in ["--tag", "--create", "--create-size", "--quiet"] {
        assert!(tap.contains(flag), "{flag} in {tap}");
    }
    let duplex = pls(t.path(), &["duplex", "--help"], None).stdout;
    for flag in ["--me", "--tail", "--echo-self"] {
        assert!(duplex.contains(flag), "{flag} in {duplex}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let script = pls(t.path(), &["completion", shell], None).stdout;
        for word in ["feed", "follow", "fetch", "tap", "duplex", "echo-self"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
}
