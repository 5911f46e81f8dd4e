//! Syntax tree of a parsed filter.
//!
//! Owns the node types shared by the parser and the evaluator. Invariant:
//! every `Node` records its `height` (longest chain of nested operations
//! below it, path steps included), computed bottom-up when the node is
//! built; the parser rejects trees taller than `FILTER_DEPTH_MAX`, which
//! bounds the evaluator's recursion.

use serde_json::Value;

use super::regex::Regex;

/// One syntax tree node with its precomputed height. The kind is boxed so
/// that nodes are small to move around (keeps parser stack frames small).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Box<Kind>,
    pub height: usize,
    /// Statically known to produce exactly one output (or an error), which
    /// lets the evaluator use its allocation-free direct path.
    pub single: bool,
}

/// Binary operators evaluated as "for each rhs, for each lhs" (jq order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One postfix path step applied to the current value.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// `.name`, `."name"`, `.["name"]` with a literal key.
    Field(String),
    /// `.[n]` with a literal number.
    Nth(f64),
    /// `.[expr]`; the expression sees the input of the whole path term.
    Index(Node),
    /// `.[]`
    Iterate,
}

/// Key of an object construction entry.
#[derive(Debug, Clone)]
pub(crate) enum ObjKey {
    Name(String),
    Expr(Node),
}

/// Which collection a quantifier (`any`/`all`) ranges over.
#[derive(Debug, Clone)]
pub(crate) enum Quant {
    /// Truthiness of the input's elements (`any`, `all`).
    Elements,
    /// A condition over the input's elements (`any(f)`, `all(f)`).
    Cond(Box<Node>),
    /// A condition over a generator's outputs (`any(g; f)`, `all(g; f)`).
    GenCond(Box<Node>, Box<Node>),
}

/// Builtin function calls with their argument expressions.
#[derive(Debug, Clone)]
pub(crate) enum Call {
    Not,
    Select(Box<Node>),
    Empty,
    Has(Box<Node>),
    Length,
    Contains(Box<Node>),
    StartsWith(Box<Node>),
    EndsWith(Box<Node>),
    AsciiDowncase,
    AsciiUpcase,
    Test {
        re: Box<Node>,
        flags: Option<Box<Node>>,
        /// Present when pattern and flags are literals (compiled at parse).
        compiled: Option<Regex>,
    },
    /// `any...` (`true`) or `all...` (`false`).
    Quantify(bool, Quant),
    Keys,
    Type,
    ToString,
    ToNumber,
    Map(Box<Node>),
}

/// Node kinds.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Identity,
    Literal(Value),
    Path(Box<Node>, Vec<Step>),
    /// `term?`: errors inside are suppressed (outputs before them are kept).
    Try(Box<Node>),
    Pipe(Box<Node>, Box<Node>),
    Comma(Vec<Node>),
    Alt(Vec<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Array(Option<Box<Node>>),
    Object(Vec<(ObjKey, Node)>),
    If(Vec<(Node, Node)>, Option<Box<Node>>),
    Call(Call),
}

impl Node {
    /// Builds a node, computing its height from its children.
    pub(crate) fn new(kind: Kind) -> Node {
        let height = height_of(&kind);
        let single = single_of(&kind);
        Node {
            kind: Box::new(kind),
            height,
            single,
        }
    }

    /// A leaf node (height 0).
    pub(crate) fn leaf(kind: Kind) -> Node {
        let single = single_of(&kind);
        Node {
            kind: Box::new(kind),
            height: 0,
            single,
        }
    }
}

fn single_of(kind: &Kind) -> bool {
    let one = |n: &Node| n.single;
    match kind {
        Kind::Identity | Kind::Literal(_) | Kind::Array(_) => true,
        Kind::Try(_) | Kind::Comma(_) => false,
        Kind::Path(base, steps) => {
            base.single
                && steps.iter().all(|s| match s {
                    Step::Field(_) | Step::Nth(_) => true,
                    Step::Index(e) => e.single,
                    Step::Iterate => false,
                })
        }
        Kind::Pipe(a, b) | Kind::And(a, b) | Kind::Or(a, b) | Kind::Binary(_, a, b) => {
            a.single && b.single
        }
        Kind::Alt(items) => items.iter().all(one),
        Kind::Neg(n) => n.single,
        Kind::Object(entries) => entries.iter().all(|(k, v)| {
            v.single
                && match k {
                    ObjKey::Name(_) => true,
                    ObjKey::Expr(e) => e.single,
                }
        }),
        Kind::If(branches, otherwise) => {
            branches.iter().all(|(c, t)| c.single && t.single)
                && otherwise.as_deref().is_none_or(one)
        }
        Kind::Call(call) => match call {
            Call::Select(_) | Call::Empty => false,
            Call::Has(a) | Call::Contains(a) | Call::StartsWith(a) | Call::EndsWith(a) => a.single,
            Call::Test { re, flags, .. } => re.single && flags.as_deref().is_none_or(one),
            _ => true,
        },
    }
}

fn max_h<'n>(nodes: impl IntoIterator<Item = &'n Node>) -> usize {
    nodes.into_iter().map(|n| n.height).max().unwrap_or(0)
}

fn height_of(kind: &Kind) -> usize {
    match kind {
        Kind::Identity | Kind::Literal(_) => 0,
        Kind::Path(base, steps) => {
            let idx = steps.iter().filter_map(|s| match s {
                Step::Index(n) => Some(n),
                _ => None,
            });
            base.height.max(max_h(idx)) + steps.len()
        }
        Kind::Try(n) | Kind::Neg(n) => n.height + 1,
        Kind::Pipe(a, b) | Kind::And(a, b) | Kind::Or(a, b) | Kind::Binary(_, a, b) => {
            a.height.max(b.height) + 1
        }
        Kind::Comma(items) | Kind::Alt(items) => max_h(items) + 1,
        Kind::Array(inner) => inner.as_ref().map_or(0, |n| n.height) + 1,
        Kind::Object(entries) => {
            let keys = entries.iter().filter_map(|(k, _)| match k {
                ObjKey::Expr(n) => Some(n),
                ObjKey::Name(_) => None,
            });
            max_h(keys).max(max_h(entries.iter().map(|(_, v)| v))) + 1
        }
        Kind::If(branches, otherwise) => {
            let conds = max_h(branches.iter().flat_map(|(c, t)| [c, t]));
            conds.max(otherwise.as_ref().map_or(0, |n| n.height)) + branches.len()
        }
        Kind::Call(call) => call_height(call) + 1,
    }
}

fn call_height(call: &Call) -> usize {
    match call {
        Call::Select(a)
        | Call::Has(a)
        | Call::Contains(a)
        | Call::StartsWith(a)
        | Call::EndsWith(a)
        | Call::Map(a)
        | Call::Quantify(_, Quant::Cond(a)) => a.height,
        Call::Quantify(_, Quant::GenCond(g, c)) => g.height.max(c.height),
        Call::Test { re, flags, .. } => re.height.max(flags.as_ref().map_or(0, |f| f.height)),
        _ => 0,
    }
}

/// Test helper: clears every `single` flag so evaluation takes the generic
/// multi-output path everywhere (used to check both paths agree).
#[cfg(test)]
pub(crate) fn clear_single(node: &mut Node) {
    node.single = false;
    let each = |nodes: &mut dyn Iterator<Item = &mut Node>| nodes.for_each(clear_single);
    match node.kind.as_mut() {
        Kind::Identity | Kind::Literal(_) => {}
        Kind::Path(base, steps) => {
            clear_single(base);
            each(&mut steps.iter_mut().filter_map(|s| match s {
                Step::Index(n) => Some(n),
                _ => None,
            }));
        }
        Kind::Try(n) | Kind::Neg(n) => clear_single(n),
        Kind::Pipe(a, b) | Kind::And(a, b) | Kind::Or(a, b) | Kind::Binary(_, a, b) => {
            clear_single(a);
            clear_single(b);
        }
        Kind::Comma(items) | Kind::Alt(items) => each(&mut items.iter_mut()),
        Kind::Array(inner) => each(&mut inner.iter_mut().map(|b| b.as_mut())),
        Kind::Object(entries) => {
            for (k, v) in entries {
                if let ObjKey::Expr(e) = k {
                    clear_single(e);
                }
                clear_single(v);
            }
        }
        Kind::If(branches, otherwise) => {
            for (c, t) in branches {
                clear_single(c);
                clear_single(t);
            }
            each(&mut otherwise.iter_mut().map(|b| b.as_mut()));
        }
        Kind::Call(call) => clear_call(call),
    }
}

#[cfg(test)]
fn clear_call(call: &mut Call) {
    match call {
        Call::Select(a)
        | Call::Has(a)
        | Call::Contains(a)
        | Call::StartsWith(a)
        | Call::EndsWith(a)
        | Call::Map(a)
        | Call::Quantify(_, Quant::Cond(a)) => clear_single(a),
        Call::Quantify(_, Quant::GenCond(g, c)) => {
            clear_single(g);
            clear_single(c);
        }
        Call::Test { re, flags, .. } => {
            clear_single(re);
            if let Some(f) = flags {
                clear_single(f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_count_steps_and_operators() {
        let path = Node::new(Kind::Path(
            Box::new(Node::leaf(Kind::Identity)),
            vec![Step::Field("a".into()), Step::Iterate],
        ));
        assert_eq!(path.height, 2);
        let sum = Node::new(Kind::Binary(
            BinOp::Add,
            Box::new(path),
            Box::new(Node::leaf(Kind::Literal(Value::Null))),
        ));
        assert_eq!(sum.height, 3);
        let arr = Node::new(Kind::Array(Some(Box::new(sum))));
        assert_eq!(arr.height, 4);
    }
}
