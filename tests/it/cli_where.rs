//! `peek --where` through the binary: regex answers that used to be undecided, and limits that are
//! reported (once) instead of being read as "no match".

use crate::support::{pls, TempDir};

const SENTENCE: &str = "the quick brown fox jumps over the lazy dog while running!";

/// Pokes each JSON string of `data` into pool `p` of a new directory.
fn pool_with(tag: &str, data: &[&str]) -> TempDir {
    let t = TempDir::new(tag);
    for d in data {
        let body = serde_json::to_string(d).unwrap();
        let r = pls(t.path(), &["poke", "p", "--create", &body], None);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    t
}

/// `peek p --tail N --where EXPR --timeout 1s`: the shown data strings, the stderr and the exit code.
fn peek_where(t: &TempDir, tail: usize, expr: &str) -> (Vec<String>, String, i32) {
    let n = tail.to_string();
    let r = pls(
        t.path(),
        &[
            "peek",
            "p",
            "--tail",
            &n,
            "--where",
            expr,
            "--timeout",
            "1s",
        ],
        None,
    );
    let data = r
        .lines()
        .iter()
        .map(|v| v["data"].as_str().unwrap().to_owned())
        .collect();
    (data, r.stderr, r.code)
}

#[test]
fn a_backtracking_blowup_pattern_and_its_negation_partition_the_messages() {
    let t = pool_with("where-words", &[SENTENCE, "the quick brown fox"]);
    let re = r#".data | test("^(\\w+\\s?)*$")"#;
    let (yes, err, code) = peek_where(&t, 2, re);
    assert_eq!(yes, vec!["the quick brown fox"], "{err}");
    assert_eq!(code, 124, "{err}");
    assert!(!err.contains("notice"), "nothing undecided: {err}");
    let (no, err, _) = peek_where(&t, 2, &format!("{re} | not"));
    assert_eq!(no, vec![SENTENCE], "{err}");
}

#[test]
fn alternation_star_on_ten_thousand_bytes_answers_correctly() {
    let long = "a".repeat(10_000);
    let long_b = format!("{long}b");
    let t = pool_with("where-aa", &[&long, &long_b]);
    let (shown, err, _) = peek_where(&t, 2, r#".data | test("^(a|aa)*$")"#);
    assert_eq!(shown, vec![long], "{err}");
}

#[test]
fn a_limit_is_reported_once_and_not_read_as_no_match() {
    let t = pool_with("where-limit", &["x", "y", "z"]);
    // 10^6 generator outputs: past FILTER_OUTPUTS_MAX, so no message can be decided.
    let blowup = format!("[{}0] | length > 0", "(1,2,3,4,5,6,7,8,9,10) + ".repeat(6));
    let (shown, err, code) = peek_where(&t, 3, &blowup);
    assert!(shown.is_empty());
    assert_eq!(code, 124, "{err}");
    let notices: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.contains("\"notice\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(notices.len(), 1, "reported once: {err}");
    assert_eq!(notices[0]["notice"]["kind"], "undecided");
    assert_eq!(notices[0]["notice"]["seq"], 1);
    // The same expression behind a cheap `false` is decided: nothing to report.
    let (_, err, _) = peek_where(&t, 3, &format!("false and ({blowup})"));
    assert!(!err.contains("undecided"), "{err}");
}

#[test]
fn help_where_documents_the_language_and_parse_errors_point_to_it() {
    let t = TempDir::new("where-help");
    let r = pls(t.path(), &["help", "where"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "Builtins:",
        "test(re; flags)",
        "Regular expressions",
        "Examples:",
        "a // b",
    ] {
        assert!(r.stdout.contains(needle), "{needle}: {}", r.stdout);
    }
    let bad = pls(
        t.path(),
        &["peek", "p", "--where", ".a ==", "--create"],
        None,
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("'plasmite help where'"),
        "{}",
        bad.stderr
    );
    let peek_help = pls(t.path(), &["peek", "--help"], None);
    let flat = peek_help
        .stdout
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("'plasmite help where'"), "{flat}");
}
