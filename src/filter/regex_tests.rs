//! Tests of the regex engine (parse, compile and search together).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::regex::Regex;

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
            *expected,
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
fn catastrophic_patterns_answer_correctly() {
    let subject = "a".repeat(10_000);
    for (pat, expected) in [
        ("(a*)*b", false),
        ("(a|a)*b", false),
        ("(a+)+b", false),
        ("^(a|aa)+$c", false),
        ("^(a|aa)*$", true),
        ("^(a|aa)*b$", false),
        ("^(a*)*$", true),
        ("(x+x+)+y", false),
    ] {
        let re = Regex::new(pat, "").unwrap();
        assert_eq!(re.is_match(&subject), expected, "{pat}");
    }
    let mut with_b = subject.clone();
    with_b.push('b');
    assert!(Regex::new("(a*)*b", "").unwrap().is_match(&with_b));
    assert!(Regex::new("^(a|aa)*b$", "").unwrap().is_match(&with_b));
}

#[test]
fn long_subjects_do_not_overflow_the_stack() {
    let subject = "a".repeat(200_000);
    let re = Regex::new("^a*$", "").unwrap();
    assert!(re.is_match(&subject));
    let re = Regex::new("^(?:a|b)*$", "").unwrap();
    assert!(re.is_match(&subject[..100_000]));
}

#[test]
fn literal_prefix_search_skips_quickly() {
    let mut subject = "x".repeat(900_000);
    subject.push_str("needle");
    let re = Regex::new("needle", "").unwrap();
    assert!(re.is_match(&subject));
}

/// A tiny deterministic generator (xorshift64) for the differential test.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A pattern in the syntax both engines read the same way: literals, `.`, classes, `\d \w \s`
    /// and their negations, groups, alternation, greedy and lazy quantifiers, `^`, `\b`, `\B`. (`$` is
    /// left out: ours also matches before a final newline, like jq; subjects have no newline anyway.)
    fn pattern(&mut self, depth: u32) -> String {
        let n = 1 + self.below(3);
        let mut out = String::new();
        for _ in 0..n {
            let atom = match self.below(if depth == 0 { 6 } else { 8 }) {
                0..=2 => self
                    .pick(&[
                        "a", "b", "c", ".", "[ab]", "[^a]", "[a-c1]", "\\d", "\\w", "\\s", "\\W",
                    ])
                    .to_owned(),
                3 => self.pick(&["^", "\\b", "\\B", ""]).to_owned(),
                4 | 5 => self.pick(&["a", "b", "ab", "1", " "]).to_owned(),
                6 => format!("({})", self.pattern(depth - 1)),
                _ => format!(
                    "(?:{}|{})",
                    self.pattern(depth - 1),
                    self.pattern(depth - 1)
                ),
            };
            out.push_str(&atom);
            if !atom.is_empty()
                && atom != "^"
                && !atom.starts_with("\\b")
                && !atom.starts_with("\\B")
            {
                let q = self.pick(&[
                    "", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?", "??",
                ]);
                out.push_str(q);
            }
        }
        if self.below(5) == 0 {
            out = format!("{out}|{}", self.pattern(depth.saturating_sub(1)));
        }
        out
    }

    fn subject(&mut self) -> String {
        let n = self.below(12);
        (0..n)
            .map(|_| self.pick(&["a", "b", "c", "1", " ", "_", "é"]))
            .collect()
    }
}

#[test]
fn agrees_with_regex_lite_on_the_shared_syntax() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut compared = 0;
    for _ in 0..3000 {
        let pat = g.pattern(2);
        let (Ok(ours), Ok(theirs)) = (Regex::new(&pat, ""), regex_lite::Regex::new(&pat)) else {
            continue;
        };
        for _ in 0..12 {
            let s = g.subject();
            assert_eq!(ours.is_match(&s), theirs.is_match(&s), "/{pat}/ on {s:?}");
            compared += 1;
        }
    }
    assert!(compared > 20_000, "only {compared} comparisons");
}

#[test]
fn agrees_with_regex_lite_case_insensitively() {
    let mut g = Gen(0x2545_f491_4f6c_dd1d);
    for _ in 0..500 {
        let pat = g.pattern(1).replace('a', "A");
        let (Ok(ours), Ok(theirs)) = (
            Regex::new(&pat, "i"),
            regex_lite::Regex::new(&format!("(?i){pat}")),
        ) else {
            continue;
        };
        for _ in 0..8 {
            let s = g.subject();
            assert_eq!(ours.is_match(&s), theirs.is_match(&s), "/{pat}/i on {s:?}");
        }
    }
}
