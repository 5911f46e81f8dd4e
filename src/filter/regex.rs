//! Small regex engine for `test(re)` / `test(re; flags)`.
//!
//! Owns the public `Regex` value (parse + compile of a pattern) and the
//! compiler from the regex AST to a linear program run by `regex_vm` (a
//! linear-time Pike VM, so every search answers true or false).
//! Invariants: patterns are at most `REGEX_PATTERN_BYTES_MAX` bytes,
//! programs at most `REGEX_PROGRAM_INSTS_MAX` instructions, every jump
//! target is inside the program, and loops whose body can match the empty
//! string carry a `Mark`/`Progress` pair (the VM treats both as epsilon
//! moves; its per-position thread set already stops such loops).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt;

use super::regex_parse::{parse_pattern, Class, ClassItem, Re};
use super::regex_vm;
use crate::limits::{REGEX_PATTERN_BYTES_MAX, REGEX_PROGRAM_INSTS_MAX};

/// A pattern or flags string that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError {
    /// 0-based character offset in the pattern (0 for flag errors).
    pub pos: usize,
    /// Human-readable description.
    pub message: String,
    flag: bool,
}

impl RegexError {
    pub(crate) fn at(pos: usize, message: impl Into<String>) -> RegexError {
        RegexError {
            pos,
            message: message.into(),
            flag: false,
        }
    }

    /// True when the flags string (not the pattern) was rejected.
    pub(crate) fn is_flag_error(&self) -> bool {
        self.flag
    }
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.flag {
            f.write_str(&self.message)
        } else {
            write!(f, "{} at pattern offset {}", self.message, self.pos)
        }
    }
}

impl std::error::Error for RegexError {}

/// One program instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inst {
    /// Literal char (already case-folded when the regex is case-insensitive).
    Char(char),
    /// Any char except `\n`.
    Any,
    /// Index into `Regex::classes`.
    Class(usize),
    /// Start of the subject.
    Start,
    /// End of the subject, or just before a final `\n`.
    End,
    /// `true`: word boundary; `false`: not a word boundary.
    WordBoundary(bool),
    /// Continue at both targets (the first is preferred).
    Split(usize, usize),
    Jmp(usize),
    /// Record the current position in a progress slot.
    Mark(usize),
    /// Fail unless the position moved since the matching `Mark`.
    Progress(usize),
    Match,
}

/// A compiled regular expression.
#[derive(Debug, Clone)]
pub struct Regex {
    pub(crate) prog: Vec<Inst>,
    pub(crate) classes: Vec<Class>,
    pub(crate) icase: bool,
}

impl Regex {
    /// Compiles `pattern` with `flags` (`i`: case-insensitive, `x`:
    /// extended; any other flag is an error).
    pub fn new(pattern: &str, flags: &str) -> Result<Regex, RegexError> {
        let mut icase = false;
        let mut extended = false;
        for f in flags.chars() {
            match f {
                'i' => icase = true,
                'x' => extended = true,
                other => {
                    return Err(RegexError {
                        pos: 0,
                        message: format!("unsupported regex flag '{other}' (supported: i, x)"),
                        flag: true,
                    })
                }
            }
        }
        if pattern.len() > REGEX_PATTERN_BYTES_MAX {
            return Err(RegexError::at(
                0,
                format!(
                    "pattern is {} bytes; the limit is {REGEX_PATTERN_BYTES_MAX}",
                    pattern.len()
                ),
            ));
        }
        let re = parse_pattern(pattern, extended)?;
        let mut c = Compiler {
            prog: Vec::new(),
            classes: Vec::new(),
            slots: 0,
            icase,
        };
        c.compile(&re)?;
        c.emit(Inst::Match)?;
        Ok(Regex {
            prog: c.prog,
            classes: c.classes,
            icase,
        })
    }

    /// Unanchored search: does the pattern match anywhere in `s`?
    pub(crate) fn is_match(&self, s: &str) -> bool {
        regex_vm::search(self, s)
    }
}

/// Simple case folding: the single-char lowercase mapping, if any.
pub(crate) fn fold(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn nullable(re: &Re) -> bool {
    match re {
        Re::Empty | Re::Start | Re::End | Re::WordBoundary(_) => true,
        Re::Lit(_) | Re::Any | Re::Class(_) => false,
        Re::Concat(items) => items.iter().all(nullable),
        Re::Alt(items) => items.iter().any(nullable),
        Re::Repeat { inner, min, .. } => *min == 0 || nullable(inner),
    }
}

struct Compiler {
    prog: Vec<Inst>,
    classes: Vec<Class>,
    slots: usize,
    icase: bool,
}

impl Compiler {
    fn emit(&mut self, inst: Inst) -> Result<usize, RegexError> {
        if self.prog.len() >= REGEX_PROGRAM_INSTS_MAX {
            return Err(RegexError::at(
                0,
                format!("pattern compiles to more than {REGEX_PROGRAM_INSTS_MAX} instructions"),
            ));
        }
        self.prog.push(inst);
        Ok(self.prog.len() - 1)
    }

    fn patch(&mut self, at: usize, inst: Inst) {
        if let Some(slot) = self.prog.get_mut(at) {
            *slot = inst;
        }
    }

    fn compile(&mut self, re: &Re) -> Result<(), RegexError> {
        match re {
            Re::Empty => {}
            Re::Lit(c) => {
                let c = if self.icase { fold(*c) } else { *c };
                self.emit(Inst::Char(c))?;
            }
            Re::Any => {
                self.emit(Inst::Any)?;
            }
            Re::Class(class) => {
                self.classes.push(class.clone());
                self.emit(Inst::Class(self.classes.len() - 1))?;
            }
            Re::Start => {
                self.emit(Inst::Start)?;
            }
            Re::End => {
                self.emit(Inst::End)?;
            }
            Re::WordBoundary(b) => {
                self.emit(Inst::WordBoundary(*b))?;
            }
            Re::Concat(items) => {
                for item in items {
                    self.compile(item)?;
                }
            }
            Re::Alt(branches) => self.alternation(branches)?,
            Re::Repeat {
                inner,
                min,
                max,
                greedy,
            } => self.repeat(inner, *min, *max, *greedy)?,
        }
        Ok(())
    }

    fn alternation(&mut self, branches: &[Re]) -> Result<(), RegexError> {
        let mut jumps = Vec::new();
        let Some((last, init)) = branches.split_last() else {
            return Ok(());
        };
        for branch in init {
            let split = self.emit(Inst::Split(0, 0))?;
            self.compile(branch)?;
            jumps.push(self.emit(Inst::Jmp(0))?);
            let next = self.prog.len();
            self.patch(split, Inst::Split(split + 1, next));
        }
        self.compile(last)?;
        let end = self.prog.len();
        for j in jumps {
            self.patch(j, Inst::Jmp(end));
        }
        Ok(())
    }

    fn split(&self, body: usize, exit: usize, greedy: bool) -> Inst {
        if greedy {
            Inst::Split(body, exit)
        } else {
            Inst::Split(exit, body)
        }
    }

    fn repeat(
        &mut self,
        inner: &Re,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    ) -> Result<(), RegexError> {
        for _ in 0..min {
            self.compile(inner)?;
        }
        let Some(max) = max else {
            return self.star(inner, greedy);
        };
        let mut splits = Vec::new();
        for _ in min..max {
            splits.push(self.emit(Inst::Split(0, 0))?);
            self.compile(inner)?;
        }
        let end = self.prog.len();
        for s in splits {
            let inst = self.split(s + 1, end, greedy);
            self.patch(s, inst);
        }
        Ok(())
    }

    fn star(&mut self, inner: &Re, greedy: bool) -> Result<(), RegexError> {
        let guard = nullable(inner).then(|| {
            self.slots += 1;
            self.slots - 1
        });
        let split = self.emit(Inst::Split(0, 0))?;
        if let Some(slot) = guard {
            self.emit(Inst::Mark(slot))?;
        }
        self.compile(inner)?;
        if let Some(slot) = guard {
            self.emit(Inst::Progress(slot))?;
        }
        self.emit(Inst::Jmp(split))?;
        let exit = self.prog.len();
        let inst = self.split(split + 1, exit, greedy);
        self.patch(split, inst);
        Ok(())
    }
}

impl Class {
    /// Does `c` belong to the class (honouring case-insensitivity)?
    pub(crate) fn matches(&self, c: char, icase: bool) -> bool {
        let direct = |c: char| {
            self.items.iter().any(|item| match item {
                ClassItem::Range(lo, hi) => *lo <= c && c <= *hi,
                ClassItem::Perl(p, neg) => p.matches(c) != *neg,
            })
        };
        let mut hit = direct(c);
        if !hit && icase {
            let mut up = c.to_uppercase();
            let upper = match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            };
            hit = direct(fold(c)) || direct(upper);
        }
        hit != self.negated
    }
}
