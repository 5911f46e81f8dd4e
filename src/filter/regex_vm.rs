//! Linear-time matcher for compiled regex programs (a Pike VM).
//!
//! Owns unanchored search over a `&str` using byte positions at char boundaries. The VM keeps the set
//! of live program counters for the current position and advances all of them together one char at a
//! time, so a search costs at most O(program length × subject chars) and needs no step budget: every
//! search ends with a correct true/false answer.
//!
//! Invariants: no recursion (the epsilon closure uses an explicit stack of at most twice the
//! program length); a program counter is added to a thread list at most once per position (a sparse set), which
//! also stops loops whose body can match the empty string; memory is two thread lists and one stack,
//! each the size of the program. `Mark`/`Progress` (the backtracker's empty-loop guards) are plain
//! epsilon moves here: for a yes/no answer an iteration that consumed nothing changes nothing.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::regex::{fold, Inst, Regex};
use super::regex_parse::Perl;

/// A set of program counters with O(1) insert, membership and clear (Briggs–Torczon sparse set).
struct Threads {
    dense: Vec<usize>,
    sparse: Vec<usize>,
}

impl Threads {
    fn new(n: usize) -> Threads {
        Threads {
            dense: Vec::with_capacity(n),
            sparse: vec![usize::MAX; n],
        }
    }

    fn contains(&self, pc: usize) -> bool {
        self.sparse
            .get(pc)
            .and_then(|&i| self.dense.get(i))
            .is_some_and(|&d| d == pc)
    }

    /// Adds `pc`; false when it was already there (or out of range).
    fn insert(&mut self, pc: usize) -> bool {
        if self.contains(pc) {
            return false;
        }
        let Some(slot) = self.sparse.get_mut(pc) else {
            return false;
        };
        *slot = self.dense.len();
        self.dense.push(pc);
        true
    }

    fn clear(&mut self) {
        self.dense.clear();
    }

    fn is_empty(&self) -> bool {
        self.dense.is_empty()
    }
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

struct Vm<'r, 's> {
    re: &'r Regex,
    s: &'s str,
    stack: Vec<usize>,
}

/// Searches for a match of `re` starting at any position of `s`.
pub(crate) fn search(re: &Regex, s: &str) -> bool {
    let anchored = matches!(re.prog.first(), Some(Inst::Start));
    let first = match re.prog.first() {
        Some(Inst::Char(c)) if !re.icase => Some(*c),
        _ => None,
    };
    let n = re.prog.len();
    let mut vm = Vm {
        re,
        s,
        stack: Vec::with_capacity(n),
    };
    let mut clist = Threads::new(n);
    let mut nlist = Threads::new(n);
    let mut pos = 0;
    loop {
        if clist.is_empty() {
            if anchored && pos > 0 {
                return false;
            }
            if let Some(c) = first {
                // No thread alive: jump to the next place a match can start.
                match s.get(pos..).and_then(|t| t.find(c)) {
                    Some(off) => pos += off,
                    None => return false,
                }
            }
        }
        if (!anchored || pos == 0) && vm.closure(&mut clist, 0, pos) {
            return true;
        }
        let Some(c) = char_at(s, pos) else {
            return false;
        };
        let next = pos + c.len_utf8();
        nlist.clear();
        for i in 0..clist.dense.len() {
            let Some(&pc) = clist.dense.get(i) else {
                break;
            };
            if vm.consumes(pc, c) && vm.closure(&mut nlist, pc + 1, next) {
                return true;
            }
        }
        std::mem::swap(&mut clist, &mut nlist);
        pos = next;
    }
}

impl Vm<'_, '_> {
    /// Does the consuming instruction at `pc` accept `c`?
    fn consumes(&self, pc: usize, c: char) -> bool {
        let icase = self.re.icase;
        match self.re.prog.get(pc) {
            Some(Inst::Char(want)) => {
                if icase {
                    fold(c) == *want
                } else {
                    c == *want
                }
            }
            Some(Inst::Any) => c != '\n',
            Some(Inst::Class(i)) => self
                .re
                .classes
                .get(*i)
                .is_some_and(|class| class.matches(c, icase)),
            _ => false,
        }
    }

    /// Adds `pc` and everything reachable from it without consuming a char at `pos` to `list`
    /// (consuming instructions stay in the list; others are followed). True when `Match` is reached.
    fn closure(&mut self, list: &mut Threads, pc: usize, pos: usize) -> bool {
        self.stack.clear();
        self.stack.push(pc);
        while let Some(pc) = self.stack.pop() {
            if !list.insert(pc) {
                continue;
            }
            match self.re.prog.get(pc) {
                None => {}
                Some(Inst::Match) => return true,
                Some(Inst::Char(_) | Inst::Any | Inst::Class(_)) => {}
                Some(Inst::Start) if pos == 0 => self.stack.push(pc + 1),
                Some(Inst::Start) => {}
                // Like jq (Oniguruma `\Z`): the very end, or just before a final newline.
                Some(Inst::End) => {
                    let len = self.s.len();
                    if pos == len || (pos + 1 == len && self.s.get(pos..) == Some("\n")) {
                        self.stack.push(pc + 1);
                    }
                }
                Some(Inst::WordBoundary(want)) => {
                    let at = is_word(char_before(self.s, pos)) != is_word(char_at(self.s, pos));
                    if at == *want {
                        self.stack.push(pc + 1);
                    }
                }
                Some(Inst::Split(a, b)) => {
                    self.stack.push(*b);
                    self.stack.push(*a);
                }
                Some(Inst::Jmp(a)) => self.stack.push(*a),
                Some(Inst::Mark(_) | Inst::Progress(_)) => self.stack.push(pc + 1),
            }
        }
        false
    }
}
