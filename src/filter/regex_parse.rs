//! Parser for the regex subset used by `test`: pattern text to a small AST.
//!
//! Owns the pattern syntax (see `NOTES.md` / the `--where` spec for the
//! exact subset). Invariants: group nesting is bounded by
//! `REGEX_GROUP_DEPTH_MAX` (so parser and compiler recursion are bounded),
//! repetition counts never exceed `REGEX_REPEAT_MAX`, errors carry the
//! 0-based character offset in the pattern, and no input panics.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::regex::RegexError;
use crate::limits::{REGEX_GROUP_DEPTH_MAX, REGEX_REPEAT_MAX};

/// Predefined classes `\d`, `\w`, `\s` (ASCII definitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Perl {
    Digit,
    Word,
    Space,
}

impl Perl {
    pub(crate) fn matches(self, c: char) -> bool {
        match self {
            Perl::Digit => c.is_ascii_digit(),
            Perl::Word => c.is_ascii_alphanumeric() || c == '_',
            Perl::Space => matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}'),
        }
    }
}

/// One member of a bracket class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClassItem {
    Range(char, char),
    /// A predefined class; `true` means negated (`\D`, `\W`, `\S`).
    Perl(Perl, bool),
}

/// A character class: bracket expression or predefined escape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    pub negated: bool,
    pub items: Vec<ClassItem>,
}

/// Regex syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Re {
    Empty,
    Lit(char),
    Any,
    Class(Class),
    Start,
    End,
    /// `\b` (`true`) or `\B` (`false`).
    WordBoundary(bool),
    Concat(Vec<Re>),
    Alt(Vec<Re>),
    Repeat {
        inner: Box<Re>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
}

struct ReParser {
    chars: Vec<char>,
    i: usize,
    extended: bool,
    depth: usize,
}

fn err(pos: usize, message: impl Into<String>) -> RegexError {
    RegexError::at(pos, message)
}

/// Parses `pattern`; `extended` enables the `x` flag (whitespace and `#`
/// comments outside classes are ignored).
pub(crate) fn parse_pattern(pattern: &str, extended: bool) -> Result<Re, RegexError> {
    let mut p = ReParser {
        chars: pattern.chars().collect(),
        i: 0,
        extended,
        depth: 0,
    };
    let re = p.alt()?;
    match p.peek(0) {
        None => Ok(re),
        Some(_) => Err(err(p.i, "unmatched ')'")),
    }
}

enum Brace {
    NotQuantifier,
    Quantifier(u32, Option<u32>, usize),
}

impl ReParser {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn skip_extended(&mut self) {
        if !self.extended {
            return;
        }
        while let Some(c) = self.peek(0) {
            if c.is_whitespace() {
                self.i += 1;
            } else if c == '#' {
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
            } else {
                return;
            }
        }
    }

    fn alt(&mut self) -> Result<Re, RegexError> {
        let mut branches = vec![self.concat()?];
        while self.peek(0) == Some('|') {
            self.i += 1;
            branches.push(self.concat()?);
        }
        Ok(match branches.len() {
            1 => branches.pop().unwrap_or(Re::Empty),
            _ => Re::Alt(branches),
        })
    }

    fn concat(&mut self) -> Result<Re, RegexError> {
        let mut items = Vec::new();
        loop {
            self.skip_extended();
            if matches!(self.peek(0), None | Some('|' | ')')) {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(match items.len() {
            0 => Re::Empty,
            1 => items.pop().unwrap_or(Re::Empty),
            _ => Re::Concat(items),
        })
    }

    fn atom(&mut self) -> Result<Re, RegexError> {
        let pos = self.i;
        let Some(c) = self.peek(0) else {
            return Ok(Re::Empty);
        };
        if c == '{' {
            if let Brace::Quantifier(..) = self.brace()? {
                return Err(err(pos, "quantifier has nothing to repeat"));
            }
        }
        self.i += 1;
        Ok(match c {
            '(' => self.group(pos)?,
            '[' => Re::Class(self.class(pos)?),
            '.' => Re::Any,
            '^' => Re::Start,
            '$' => Re::End,
            '\\' => self.escape(false)?,
            '*' | '+' | '?' => return Err(err(pos, "quantifier has nothing to repeat")),
            other => Re::Lit(other),
        })
    }

    fn group(&mut self, pos: usize) -> Result<Re, RegexError> {
        if self.peek(0) == Some('?') {
            if self.peek(1) != Some(':') {
                return Err(err(
                    pos,
                    "unsupported group syntax (only '(?:' is supported)",
                ));
            }
            self.i += 2;
        }
        self.depth += 1;
        if self.depth > REGEX_GROUP_DEPTH_MAX {
            return Err(err(
                pos,
                format!("groups nested too deeply (limit {REGEX_GROUP_DEPTH_MAX})"),
            ));
        }
        let inner = self.alt()?;
        if self.peek(0) != Some(')') {
            return Err(err(pos, "missing ')'"));
        }
        self.i += 1;
        self.depth -= 1;
        Ok(inner)
    }

    /// Parses a decimal count at the cursor (`None` if no digits).
    fn count(&mut self) -> Result<Option<u32>, RegexError> {
        let start = self.i;
        let mut v: u32 = 0;
        while let Some(d) = self.peek(0).and_then(|c| c.to_digit(10)) {
            v = v.saturating_mul(10).saturating_add(d);
            self.i += 1;
        }
        if self.i == start {
            return Ok(None);
        }
        if v > REGEX_REPEAT_MAX {
            return Err(err(
                start,
                format!("repetition count exceeds the limit of {REGEX_REPEAT_MAX}"),
            ));
        }
        Ok(Some(v))
    }

    /// Examines a `{` at the cursor without consuming it.
    fn brace(&mut self) -> Result<Brace, RegexError> {
        let save = self.i;
        self.i += 1;
        let result = self.brace_body(save);
        let consumed = self.i - save;
        self.i = save;
        Ok(match result? {
            Some((min, max)) => Brace::Quantifier(min, max, consumed),
            None => Brace::NotQuantifier,
        })
    }

    fn brace_body(&mut self, open: usize) -> Result<Option<(u32, Option<u32>)>, RegexError> {
        let Some(min) = self.count()? else {
            return Ok(None);
        };
        let max = if self.peek(0) == Some(',') {
            self.i += 1;
            self.count()?
        } else {
            Some(min)
        };
        if self.peek(0) != Some('}') {
            return Ok(None);
        }
        self.i += 1;
        if max.is_some_and(|m| m < min) {
            return Err(err(
                open,
                "repetition range is out of order ({m,n} needs m <= n)",
            ));
        }
        Ok(Some((min, max)))
    }

    fn quantifier(&mut self) -> Result<Option<(u32, Option<u32>)>, RegexError> {
        let q = match self.peek(0) {
            Some('*') => (0, None, 1),
            Some('+') => (1, None, 1),
            Some('?') => (0, Some(1), 1),
            Some('{') => match self.brace()? {
                Brace::Quantifier(min, max, len) => (min, max, len),
                Brace::NotQuantifier => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.i += q.2;
        Ok(Some((q.0, q.1)))
    }

    fn quantified(&mut self, atom: Re) -> Result<Re, RegexError> {
        self.skip_extended();
        let pos = self.i;
        let Some((min, max)) = self.quantifier()? else {
            return Ok(atom);
        };
        if matches!(atom, Re::Start | Re::End | Re::WordBoundary(_)) {
            return Err(err(pos, "an assertion cannot be repeated"));
        }
        let greedy = if self.peek(0) == Some('?') {
            self.i += 1;
            false
        } else {
            true
        };
        self.skip_extended();
        let after = self.i;
        if self.quantifier()?.is_some() {
            return Err(err(after, "quantifier follows another quantifier"));
        }
        Ok(Re::Repeat {
            inner: Box::new(atom),
            min,
            max,
            greedy,
        })
    }

    /// Parses the character after a backslash (already consumed).
    fn escape(&mut self, in_class: bool) -> Result<Re, RegexError> {
        let pos = self.i.saturating_sub(1);
        let Some(c) = self.peek(0) else {
            return Err(err(pos, "pattern ends with a lone '\\'"));
        };
        self.i += 1;
        let perl = |p: Perl, neg: bool| {
            Re::Class(Class {
                negated: false,
                items: vec![ClassItem::Perl(p, neg)],
            })
        };
        Ok(match c {
            'd' | 'D' => perl(Perl::Digit, c == 'D'),
            'w' | 'W' => perl(Perl::Word, c == 'W'),
            's' | 'S' => perl(Perl::Space, c == 'S'),
            'b' | 'B' if !in_class => Re::WordBoundary(c == 'b'),
            't' => Re::Lit('\t'),
            'n' => Re::Lit('\n'),
            'r' => Re::Lit('\r'),
            'f' => Re::Lit('\u{c}'),
            'v' => Re::Lit('\u{b}'),
            c if c.is_alphanumeric() => {
                return Err(err(pos, format!("unsupported escape '\\{c}'")));
            }
            other => Re::Lit(other),
        })
    }

    fn class(&mut self, open: usize) -> Result<Class, RegexError> {
        let negated = self.peek(0) == Some('^');
        if negated {
            self.i += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let pos = self.i;
            let Some(c) = self.peek(0) else {
                return Err(err(open, "missing ']'"));
            };
            self.i += 1;
            let item = match c {
                ']' if !first => return Ok(Class { negated, items }),
                '[' => return Err(err(pos, "nested or POSIX classes are not supported")),
                '\\' => match self.escape(true)? {
                    Re::Lit(l) => self.maybe_range(l)?,
                    Re::Class(mut inner) => {
                        inner.items.pop().ok_or_else(|| err(pos, "bad escape"))?
                    }
                    _ => return Err(err(pos, "unsupported escape in class")),
                },
                other => self.maybe_range(other)?,
            };
            items.push(item);
            first = false;
        }
    }

    fn maybe_range(&mut self, lo: char) -> Result<ClassItem, RegexError> {
        if self.peek(0) != Some('-') || matches!(self.peek(1), None | Some(']')) {
            return Ok(ClassItem::Range(lo, lo));
        }
        let pos = self.i;
        self.i += 1;
        let hi = match self.peek(0) {
            Some('\\') => {
                self.i += 1;
                match self.escape(true)? {
                    Re::Lit(h) => h,
                    _ => return Err(err(pos, "invalid class range")),
                }
            }
            Some('[') => return Err(err(self.i, "nested or POSIX classes are not supported")),
            Some(h) => {
                self.i += 1;
                h
            }
            None => return Err(err(pos, "missing ']'")),
        };
        if hi < lo {
            return Err(err(pos, "invalid class range (start is after end)"));
        }
        Ok(ClassItem::Range(lo, hi))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_quantifiers_groups_and_classes() {
        let re = parse_pattern("(?:ab)+?[^a-c\\d]{2,}", false).unwrap();
        let Re::Concat(items) = re else {
            panic!("expected concat")
        };
        assert!(matches!(
            &items[0],
            Re::Repeat {
                min: 1,
                max: None,
                greedy: false,
                ..
            }
        ));
        assert!(matches!(
            &items[1],
            Re::Repeat {
                min: 2,
                max: None,
                greedy: true,
                ..
            }
        ));
    }

    #[test]
    fn brace_that_is_not_a_quantifier_is_literal() {
        assert_eq!(parse_pattern("{", false).unwrap(), Re::Lit('{'));
        assert!(matches!(parse_pattern("a{,2}", false).unwrap(), Re::Concat(v) if v.len() == 5));
    }

    #[test]
    fn extended_mode_ignores_whitespace_and_comments() {
        let re = parse_pattern("a b # comment\n c", true).unwrap();
        assert_eq!(
            re,
            Re::Concat(vec![Re::Lit('a'), Re::Lit('b'), Re::Lit('c')])
        );
    }

    #[test]
    fn errors_report_pattern_offsets() {
        let cases = [
            ("*a", 0),
            ("a**", 2),
            ("(a", 0),
            ("a)", 1),
            ("[a", 0),
            ("[z-a]", 2),
            ("\\q", 0),
            ("(?=a)", 0),
            ("a{3,2}", 1),
            ("^*", 1),
            ("{2}", 0),
            ("a\\", 1),
        ];
        for (pat, pos) in cases {
            let e = parse_pattern(pat, false).unwrap_err();
            assert_eq!(e.pos, pos, "{pat}: {e}");
        }
    }
}
