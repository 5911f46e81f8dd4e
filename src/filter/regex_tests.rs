//! Tests of the regex engine (parse, compile and search together).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::regex::{Regex, StepsExceeded};

/// (pattern, flags, subject, expected unanchored match).
const MATCH_CASES: &[(&str, &str, &str, bool)] = &[
    ("abc", "", "xxabcxx", true),
    ("abc", "", "ab", false),
    ("", "", "", true),
    ("a.c", "", "abc", true),
    ("a.c", "", "a\nc", false),
    ("^ab", "", "abc", true),
    ("^bc", "", "abc", false),
    ("bc$", "", "abc", true),
    ("ab$", "", "abc", false),
    ("ab$", "", "ab\n", true),
    ("ab$", "", "ab\n\n", false),
    ("a$\n", "", "a\n", true),
    ("^$", "", "", true),
    ("[abc]+$", "", "xxcab", true),
    ("^[a-c]+$", "", "abd", false),
    ("^[^0-9]+$", "", "abc", true),
    ("^[^0-9]+$", "", "ab1", false),
    ("[]a]", "", "]", true),
    ("[a-]", "", "-", true),
    ("[\\d.]+", "", "1.5", true),
    ("^\\d+$", "", "12345", true),
    ("^\\D+$", "", "abc1", false),
    ("^\\w+$", "", "snake_case9", true),
    ("\\W", "", "abc", false),
    ("\\s", "", "a b", true),
    ("^\\S+$", "", "a\tb", false),
    ("a\\.b", "", "axb", false),
    ("a\\.b", "", "a.b", true),
    ("\\\\", "", "a\\b", true),
    ("\\/", "", "a/b", true),
    ("\\t", "", "a\tb", true),
    ("\\n", "", "a\nb", true),
    ("\\bfoo\\b", "", "a foo b", true),
    ("\\bfoo\\b", "", "afoob", false),
    ("\\Boo", "", "foo", true),
    ("(ab)+c", "", "ababc", true),
    ("^(?:ab)+$", "", "ababa", false),
    ("cat|dog", "", "hotdog", true),
    ("^(cat|dog)s?$", "", "cats", true),
    ("^(cat|dog)s?$", "", "cow", false),
    ("^a*$", "", "aaaa", true),
    ("^a+$", "", "", false),
    ("^ab?c$", "", "ac", true),
    ("^a{3}$", "", "aaa", true),
    ("^a{3}$", "", "aaaa", false),
    ("^a{2,}$", "", "aaaaa", true),
    ("^a{2,}$", "", "a", false),
    ("^a{1,2}$", "", "aa", true),
    ("^a{1,2}$", "", "aaa", false),
    ("^a{0}b$", "", "b", true),
    ("a{,2}", "", "a{,2}", true),
    ("^a*?b$", "", "aaab", true),
    ("^a+?$", "", "aaa", true),
    ("^a??b$", "", "ab", true),
    ("^(a|ab)(c|bcd)$", "", "abcd", true),
    ("^(a*)*$", "", "aaa", true),
    ("^(a*)*b$", "", "b", true),
    ("^(a|)*c$", "", "aac", true),
    ("^(?:a?)+?x$", "", "aax", true),
    ("HELLO", "i", "say hello", true),
    ("[a-z]+", "i", "ABC", true),
    ("^[^a-z]+$", "i", "ABC", false),
    ("É", "i", "café é", true),
    ("a b c # comment", "x", "abc", true),
    ("a\\ b", "x", "a b", true),
    ("[ ]", "x", " ", true),
    ("é+", "", "caféé", true),
    ("^.{2}$", "", "日本", true),
];

#[test]
fn match_table() {
    for (pat, flags, subject, expected) in MATCH_CASES {
        let re = Regex::new(pat, flags).unwrap_or_else(|e| panic!("{pat}: {e}"));
        assert_eq!(
            re.is_match(subject),
            Ok(*expected),
            "{pat} /{flags} on {subject:?}"
        );
    }
}

#[test]
fn invalid_flags_are_rejected() {
    for flags in ["g", "n", "s", "ix?", "I"] {
        let e = Regex::new("a", flags).unwrap_err();
        assert!(e.is_flag_error(), "{flags}");
    }
}

#[test]
fn invalid_patterns_are_rejected() {
    for pat in [
        "(",
        ")",
        "[",
        "a**",
        "*",
        "\\p{L}",
        "(?i)a",
        "a{2,1}",
        "[[:alpha:]]",
        "\\1",
    ] {
        assert!(Regex::new(pat, "").is_err(), "{pat}");
    }
}

#[test]
fn catastrophic_backtracking_hits_step_budget() {
    let subject = "a".repeat(10_000);
    for pat in ["(a*)*b", "(a|a)*b", "(a+)+b", "^(a|aa)+$c"] {
        let re = Regex::new(pat, "").unwrap();
        assert_eq!(re.is_match(&subject), Err(StepsExceeded), "{pat}");
    }
}

#[test]
fn long_subjects_do_not_overflow_the_stack() {
    let subject = "a".repeat(200_000);
    let re = Regex::new("^a*$", "").unwrap();
    assert_eq!(re.is_match(&subject), Ok(true));
    let re = Regex::new("^(?:a|b)*$", "").unwrap();
    assert_eq!(re.is_match(&subject[..100_000]), Ok(true));
}

#[test]
fn literal_prefix_search_skips_quickly() {
    let mut subject = "x".repeat(900_000);
    subject.push_str("needle");
    let re = Regex::new("needle", "").unwrap();
    assert_eq!(re.is_match(&subject), Ok(true));
}
