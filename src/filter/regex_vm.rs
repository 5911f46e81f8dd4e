//! Backtracking matcher for compiled regex programs.
//!
//! Owns unanchored search over a `&str` using byte positions at char
//! boundaries. Invariants: backtracking uses an explicit heap stack (no
//! recursion, so long subjects cannot overflow the call stack), every
//! executed instruction and every start position costs one step, and the
//! search fails with `StepsExceeded` once `REGEX_STEPS_MAX` is reached.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::regex::{fold, Inst, Regex, StepsExceeded};
use super::regex_parse::Perl;
use crate::limits::REGEX_STEPS_MAX;

enum Frame {
    /// Resume at `pc` with the subject position `pos`.
    Alt { pc: usize, pos: usize },
    /// Restore a progress slot when backtracking past its `Mark`.
    Restore { slot: usize, old: usize },
}

struct Vm<'r, 's> {
    re: &'r Regex,
    s: &'s str,
    steps: usize,
    stack: Vec<Frame>,
    slots: Vec<usize>,
}

fn char_at(s: &str, pos: usize) -> Option<char> {
    s.get(pos..).and_then(|t| t.chars().next())
}

fn char_before(s: &str, pos: usize) -> Option<char> {
    s.get(..pos).and_then(|t| t.chars().next_back())
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| Perl::Word.matches(c))
}

/// Searches for a match of `re` starting at any position of `s`.
pub(crate) fn search(re: &Regex, s: &str) -> Result<bool, StepsExceeded> {
    let anchored = matches!(re.prog.first(), Some(Inst::Start));
    let first = match re.prog.first() {
        Some(Inst::Char(c)) if !re.icase => Some(*c),
        _ => None,
    };
    let mut vm = Vm {
        re,
        s,
        steps: 0,
        stack: Vec::new(),
        slots: vec![usize::MAX; re.slots],
    };
    let mut start = 0;
    loop {
        if let Some(c) = first {
            match s.get(start..).and_then(|t| t.find(c)) {
                Some(off) => start += off,
                None => return Ok(false),
            }
        }
        if vm.run(start)? {
            return Ok(true);
        }
        let Some(c) = char_at(s, start) else {
            return Ok(false);
        };
        if anchored {
            return Ok(false);
        }
        start += c.len_utf8();
        vm.tick()?;
    }
}

impl Vm<'_, '_> {
    fn tick(&mut self) -> Result<(), StepsExceeded> {
        self.steps += 1;
        if self.steps > REGEX_STEPS_MAX {
            return Err(StepsExceeded);
        }
        Ok(())
    }

    /// Pops the backtrack stack; `None` when no alternatives remain.
    fn backtrack(&mut self) -> Option<(usize, usize)> {
        while let Some(frame) = self.stack.pop() {
            match frame {
                Frame::Alt { pc, pos } => return Some((pc, pos)),
                Frame::Restore { slot, old } => {
                    if let Some(s) = self.slots.get_mut(slot) {
                        *s = old;
                    }
                }
            }
        }
        None
    }

    /// Runs the program anchored at `start`.
    fn run(&mut self, start: usize) -> Result<bool, StepsExceeded> {
        self.stack.clear();
        self.slots.fill(usize::MAX);
        let (mut pc, mut pos) = (0usize, start);
        loop {
            self.tick()?;
            let next = match self.re.prog.get(pc) {
                Some(Inst::Match) => return Ok(true),
                Some(inst) => self.step(inst, pc, pos),
                None => None,
            };
            match next.or_else(|| self.backtrack()) {
                Some((p, q)) => (pc, pos) = (p, q),
                None => return Ok(false),
            }
        }
    }

    /// Executes one instruction; `None` means this thread failed.
    fn step(&mut self, inst: &Inst, pc: usize, pos: usize) -> Option<(usize, usize)> {
        let consume = |ok: &dyn Fn(char) -> bool| {
            char_at(self.s, pos)
                .filter(|c| ok(*c))
                .map(|c| (pc + 1, pos + c.len_utf8()))
        };
        match inst {
            Inst::Char(want) => {
                let icase = self.re.icase;
                consume(&|c| if icase { fold(c) == *want } else { c == *want })
            }
            Inst::Any => consume(&|c| c != '\n'),
            Inst::Class(i) => {
                let class = self.re.classes.get(*i)?;
                consume(&|c| class.matches(c, self.re.icase))
            }
            Inst::Start => (pos == 0).then_some((pc + 1, pos)),
            // Like jq (Oniguruma `\Z`): the very end, or just before a final
            // newline.
            Inst::End => {
                let at_end = pos == self.s.len()
                    || (pos + 1 == self.s.len() && self.s.get(pos..) == Some("\n"));
                at_end.then_some((pc + 1, pos))
            }
            Inst::WordBoundary(want) => {
                let at = is_word(char_before(self.s, pos)) != is_word(char_at(self.s, pos));
                (at == *want).then_some((pc + 1, pos))
            }
            Inst::Split(a, b) => {
                self.stack.push(Frame::Alt { pc: *b, pos });
                Some((*a, pos))
            }
            Inst::Jmp(a) => Some((*a, pos)),
            Inst::Mark(slot) => {
                let cell = self.slots.get_mut(*slot)?;
                let old = std::mem::replace(cell, pos);
                self.stack.push(Frame::Restore { slot: *slot, old });
                Some((pc + 1, pos))
            }
            Inst::Progress(slot) => {
                let marked = *self.slots.get(*slot)?;
                (marked != pos).then_some((pc + 1, pos))
            }
            Inst::Match => Some((pc, pos)),
        }
    }
}
