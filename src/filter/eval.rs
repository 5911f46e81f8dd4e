//! Evaluator: runs a syntax tree against one input value.
//!
//! Owns generator semantics, borrowing and error suppression. Each node
//! appends its outputs, in order, to an `Outs` accumulator and returns
//! `Err` if its output stream ends with an error (outputs appended before
//! the error stay, which is what `?` and `matches` rely on). Outputs are
//! `Cow`s that borrow from the input or the tree whenever possible.
//! Invariants: recursion depth is bounded by the tree height (checked by the
//! parser), never by the number of operands or outputs; limit errors are
//! never suppressed by `?` or `//`; all budgets live in `Ctx`.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::ast::{BinOp, Kind, Node, ObjKey};
use super::builtins::eval_call;
use super::ops::binop;
use super::path::{eval_path, single_step};
use super::value::{describe, f64_of, number, truthy, units, NULL};
use super::{EvalError, EvalErrorKind};
use crate::limits::{FILTER_ALLOC_UNITS_MAX, FILTER_OUTPUTS_MAX};

/// One output: borrowed from the input/tree, or freshly computed.
pub(crate) type Out<'a> = Cow<'a, Value>;

/// Result of evaluating into an accumulator: `Err` ends the stream.
pub(crate) type R = Result<(), EvalError>;

/// Ordered outputs; stores a single output without heap allocation.
#[derive(Debug, Default)]
pub(crate) struct Outs<'a> {
    first: Option<Out<'a>>,
    rest: Vec<Out<'a>>,
}

impl<'a> Outs<'a> {
    pub(crate) fn new() -> Outs<'a> {
        Outs::default()
    }

    pub(crate) fn push(&mut self, v: Out<'a>) {
        if self.first.is_none() {
            self.first = Some(v);
        } else {
            self.rest.push(v);
        }
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Out<'a>> {
        self.first.iter().chain(self.rest.iter())
    }
}

impl<'a> IntoIterator for Outs<'a> {
    type Item = Out<'a>;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Out<'a>>, std::vec::IntoIter<Out<'a>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

/// Per-evaluation budgets.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    outputs: usize,
    units: usize,
}

impl Ctx {
    pub(crate) fn new() -> Ctx {
        Ctx::default()
    }

    /// Counts `n` generator outputs against `FILTER_OUTPUTS_MAX`.
    pub(crate) fn count_outputs(&mut self, n: usize) -> R {
        self.outputs = self.outputs.saturating_add(n);
        if self.outputs > FILTER_OUTPUTS_MAX {
            return Err(EvalError::new(
                EvalErrorKind::OutputsLimit,
                format!("filter produced more than {FILTER_OUTPUTS_MAX} values"),
            ));
        }
        Ok(())
    }

    /// Charges `n` allocation units against `FILTER_ALLOC_UNITS_MAX`.
    pub(crate) fn charge(&mut self, n: usize) -> R {
        self.units = self.units.saturating_add(n);
        if self.units > FILTER_ALLOC_UNITS_MAX {
            return Err(EvalError::new(
                EvalErrorKind::AllocLimit,
                format!("filter copied or built more than {FILTER_ALLOC_UNITS_MAX} units of data"),
            ));
        }
        Ok(())
    }

    /// Takes ownership of an output, charging for a copy if it is borrowed.
    pub(crate) fn own(&mut self, v: Out<'_>) -> Result<Value, EvalError> {
        match v {
            Cow::Owned(v) => Ok(v),
            Cow::Borrowed(b) => {
                self.charge(units(b))?;
                Ok(b.clone())
            }
        }
    }
}

/// Evaluates `node` against `input`, appending outputs to `acc`.
pub(crate) fn eval<'a>(cx: &mut Ctx, node: &'a Node, input: &'a Value, acc: &mut Outs<'a>) -> R {
    if node.single {
        acc.push(eval_single(cx, node, input)?);
        return Ok(());
    }
    eval_multi(cx, node, input, acc)
}

/// Direct evaluation of a node known to produce exactly one output.
/// Recursion depth is bounded by the tree height; path steps and `if`
/// branches are walked iteratively.
pub(crate) fn eval_single<'a>(
    cx: &mut Ctx,
    node: &'a Node,
    input: &'a Value,
) -> Result<Out<'a>, EvalError> {
    match node.kind.as_ref() {
        Kind::Identity => Ok(Cow::Borrowed(input)),
        Kind::Literal(v) => Ok(Cow::Borrowed(v)),
        Kind::Path(base, steps) => {
            let mut cur = eval_single(cx, base, input)?;
            for step in steps {
                cur = single_step(cx, step, input, cur)?;
            }
            Ok(cur)
        }
        Kind::Binary(op, l, r) => {
            let rv = match r.kind.as_ref() {
                Kind::Literal(v) => Cow::Borrowed(v),
                _ => eval_single(cx, r, input)?,
            };
            let lv = eval_single(cx, l, input)?;
            Ok(Cow::Owned(binop(cx, *op, lv, &rv)?))
        }
        Kind::And(l, r) | Kind::Or(l, r) => {
            let short = matches!(*node.kind, Kind::Or(..));
            let lv = eval_single(cx, l, input)?;
            let b = if truthy(&lv) == short {
                short
            } else {
                truthy(eval_single(cx, r, input)?.as_ref())
            };
            Ok(Cow::Owned(Value::Bool(b)))
        }
        Kind::Pipe(a, b) => match eval_single(cx, a, input)? {
            Cow::Borrowed(v) => eval_single(cx, b, v),
            Cow::Owned(v) => {
                let out = eval_single(cx, b, &v)?;
                Ok(Cow::Owned(cx.own(out)?))
            }
        },
        Kind::Alt(items) => single_alt(cx, items, input),
        Kind::If(branches, otherwise) => {
            for (cond, then) in branches {
                if truthy(eval_single(cx, cond, input)?.as_ref()) {
                    return eval_single(cx, then, input);
                }
            }
            match otherwise {
                Some(e) => eval_single(cx, e, input),
                None => Ok(Cow::Borrowed(input)),
            }
        }
        _ => {
            let mut acc = Outs::new();
            eval_multi(cx, node, input, &mut acc)?;
            acc.into_iter().next().ok_or_else(|| {
                EvalError::type_error("internal: single-valued expression produced no value")
            })
        }
    }
}

fn single_alt<'a>(cx: &mut Ctx, items: &'a [Node], input: &'a Value) -> Result<Out<'a>, EvalError> {
    let Some((last, init)) = items.split_last() else {
        return Ok(Cow::Borrowed(&NULL));
    };
    for item in init {
        match eval_single(cx, item, input) {
            Ok(v) if truthy(&v) => return Ok(v),
            Err(e) if e.is_limit() => return Err(e),
            _ => {}
        }
    }
    eval_single(cx, last, input)
}

/// Generic (multi-output) evaluation.
fn eval_multi<'a>(cx: &mut Ctx, node: &'a Node, input: &'a Value, acc: &mut Outs<'a>) -> R {
    match node.kind.as_ref() {
        Kind::Identity => acc.push(Cow::Borrowed(input)),
        Kind::Literal(v) => acc.push(Cow::Borrowed(v)),
        Kind::Path(base, steps) => return eval_path(cx, base, steps, input, acc),
        Kind::Try(inner) => {
            return match eval(cx, inner, input, acc) {
                Err(e) if e.is_limit() => Err(e),
                _ => Ok(()),
            }
        }
        Kind::Pipe(a, b) => {
            let mut first = Outs::new();
            let ra = eval(cx, a, input, &mut first);
            for v in first {
                eval_cow(cx, b, v, acc)?;
            }
            return ra;
        }
        Kind::Comma(items) => {
            for item in items {
                let before = acc.len();
                let r = eval(cx, item, input, acc);
                cx.count_outputs(acc.len() - before)?;
                r?;
            }
        }
        Kind::Alt(items) => return eval_alt(cx, items, input, acc),
        Kind::And(l, r) => return eval_logic(cx, false, l, r, input, acc),
        Kind::Or(l, r) => return eval_logic(cx, true, l, r, input, acc),
        Kind::Binary(op, l, r) => return eval_binary(cx, *op, l, r, input, acc),
        Kind::Neg(inner) => {
            let mut vals = Outs::new();
            let r = eval(cx, inner, input, &mut vals);
            for v in vals {
                let Value::Number(n) = v.as_ref() else {
                    return Err(EvalError::type_error(format!(
                        "{} cannot be negated",
                        describe(&v)
                    )));
                };
                acc.push(Cow::Owned(number(-f64_of(n))?));
            }
            return r;
        }
        Kind::Array(inner) => {
            let items = match inner {
                Some(inner) => collect(cx, inner, input)?,
                None => Vec::new(),
            };
            cx.charge(1)?;
            acc.push(Cow::Owned(Value::Array(items)));
        }
        Kind::Object(entries) => return eval_object(cx, entries, input, acc),
        Kind::If(branches, otherwise) => {
            return eval_if(cx, branches, otherwise.as_deref(), input, acc)
        }
        Kind::Call(call) => return eval_call(cx, call, input, acc),
    }
    Ok(())
}

/// Evaluates `node` with an input that may be owned by the caller.
#[inline(never)]
pub(crate) fn eval_cow<'a>(cx: &mut Ctx, node: &'a Node, input: Out<'a>, acc: &mut Outs<'a>) -> R {
    match input {
        Cow::Borrowed(v) => eval(cx, node, v, acc),
        Cow::Owned(v) => {
            let mut local = Outs::new();
            let r = eval(cx, node, &v, &mut local);
            for o in local {
                acc.push(Cow::Owned(cx.own(o)?));
            }
            r
        }
    }
}

/// Evaluates `node` into a fresh accumulator (outputs plus trailing result).
pub(crate) fn outputs<'a>(cx: &mut Ctx, node: &'a Node, input: &'a Value) -> (Outs<'a>, R) {
    let mut outs = Outs::new();
    let r = eval(cx, node, input, &mut outs);
    (outs, r)
}

/// Collects all outputs of `node` as owned values (any error fails).
#[inline(never)]
pub(crate) fn collect(cx: &mut Ctx, node: &Node, input: &Value) -> Result<Vec<Value>, EvalError> {
    let (outs, r) = outputs(cx, node, input);
    r?;
    outs.into_iter().map(|v| cx.own(v)).collect()
}

#[inline(never)]
fn eval_alt<'a>(cx: &mut Ctx, items: &'a [Node], input: &'a Value, acc: &mut Outs<'a>) -> R {
    let Some((last, init)) = items.split_last() else {
        return Ok(());
    };
    for item in init {
        let (outs, r) = outputs(cx, item, input);
        if let Err(e) = r {
            if e.is_limit() {
                return Err(e);
            }
        }
        let before = acc.len();
        for v in outs.into_iter().filter(|v| truthy(v)) {
            acc.push(v);
        }
        if acc.len() > before {
            return Ok(());
        }
    }
    eval(cx, last, input, acc)
}

/// `and` (`short == false`) / `or` (`short == true`); lhs outputs outer,
/// rhs evaluated at most once and only when needed.
#[inline(never)]
fn eval_logic<'a>(
    cx: &mut Ctx,
    short: bool,
    l: &'a Node,
    r: &'a Node,
    input: &'a Value,
    acc: &mut Outs<'a>,
) -> R {
    let (lhs, rl) = outputs(cx, l, input);
    let mut rhs: Option<(Outs<'a>, R)> = None;
    for lv in lhs.iter() {
        if truthy(lv) == short {
            acc.push(Cow::Owned(Value::Bool(short)));
            continue;
        }
        let (rvs, rr) = rhs.get_or_insert_with(|| outputs(cx, r, input));
        if lhs.len() > 1 && rvs.len() > 1 {
            cx.count_outputs(rvs.len())?;
        }
        for rv in rvs.iter() {
            acc.push(Cow::Owned(Value::Bool(truthy(rv))));
        }
        rr.clone()?;
    }
    rl
}

/// Counts a true cartesian product (both sides multi-valued) as outputs;
/// single-valued sides were already counted by their own generators.
fn count_product(cx: &mut Ctx, l: usize, r: usize) -> R {
    if l > 1 && r > 1 {
        cx.count_outputs(l.saturating_mul(r))?;
    }
    Ok(())
}

/// Binary operators: for each rhs output (outer), for each lhs output.
#[inline(never)]
fn eval_binary<'a>(
    cx: &mut Ctx,
    op: BinOp,
    l: &'a Node,
    r: &'a Node,
    input: &'a Value,
    acc: &mut Outs<'a>,
) -> R {
    let (rhs, rr) = outputs(cx, r, input);
    if rhs.len() == 0 {
        return rr;
    }
    let (lhs, rl) = outputs(cx, l, input);
    count_product(cx, lhs.len(), rhs.len())?;
    if let (1, Some(rv)) = (rhs.len(), rhs.iter().next()) {
        for lv in lhs {
            acc.push(Cow::Owned(binop(cx, op, lv, rv)?));
        }
        rl?;
        return rr;
    }
    for rv in rhs.iter() {
        for lv in lhs.iter() {
            acc.push(Cow::Owned(binop(cx, op, Cow::Borrowed(lv.as_ref()), rv)?));
        }
        rl.clone()?;
    }
    rr
}

#[inline(never)]
fn eval_if<'a>(
    cx: &mut Ctx,
    branches: &'a [(Node, Node)],
    otherwise: Option<&'a Node>,
    input: &'a Value,
    acc: &mut Outs<'a>,
) -> R {
    let Some(((cond, then), rest)) = branches.split_first() else {
        return match otherwise {
            Some(e) => eval(cx, e, input, acc),
            None => {
                acc.push(Cow::Borrowed(input));
                Ok(())
            }
        };
    };
    let (conds, rc) = outputs(cx, cond, input);
    for c in conds.iter() {
        if truthy(c) {
            eval(cx, then, input, acc)?;
        } else {
            eval_if(cx, rest, otherwise, input, acc)?;
        }
    }
    rc
}

/// All `(key, value)` combinations of one object entry.
fn entry_pairs(
    cx: &mut Ctx,
    key: &ObjKey,
    val: &Node,
    input: &Value,
) -> Result<Vec<(String, Value)>, EvalError> {
    let keys = match key {
        ObjKey::Name(n) => vec![n.clone()],
        ObjKey::Expr(e) => collect(cx, e, input)?
            .into_iter()
            .map(|k| match k {
                Value::String(s) => Ok(s),
                other => Err(EvalError::type_error(format!(
                    "object keys must be strings, not {}",
                    describe(&other)
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let vals = collect(cx, val, input)?;
    if let [k] = keys.as_slice() {
        return Ok(vals.into_iter().map(|v| (k.clone(), v)).collect());
    }
    let mut pairs = Vec::with_capacity(keys.len() * vals.len());
    for k in &keys {
        for v in &vals {
            cx.charge(units(v) + k.len())?;
            pairs.push((k.clone(), v.clone()));
        }
    }
    Ok(pairs)
}

/// Object construction: the cartesian product of all entries' pairs
/// (the last entry varies fastest).
#[inline(never)]
fn eval_object<'a>(
    cx: &mut Ctx,
    entries: &'a [(ObjKey, Node)],
    input: &'a Value,
    acc: &mut Outs<'a>,
) -> R {
    let mut choices = Vec::with_capacity(entries.len());
    for (key, val) in entries {
        let pairs = entry_pairs(cx, key, val, input)?;
        if pairs.is_empty() {
            return Ok(());
        }
        choices.push(pairs);
    }
    if choices.iter().all(|c| c.len() == 1) {
        let m: Map<String, Value> = choices.into_iter().flatten().collect();
        acc.push(Cow::Owned(Value::Object(m)));
        return Ok(());
    }
    let mut idx = vec![0usize; choices.len()];
    loop {
        let mut m = Map::new();
        for (pairs, &i) in choices.iter().zip(&idx) {
            if let Some((k, v)) = pairs.get(i) {
                cx.charge(units(v) + k.len())?;
                m.insert(k.clone(), v.clone());
            }
        }
        cx.count_outputs(1)?;
        acc.push(Cow::Owned(Value::Object(m)));
        // Advance the odometer from the last entry.
        let mut pos = idx.len();
        loop {
            let Some(p) = pos.checked_sub(1) else {
                return Ok(());
            };
            pos = p;
            let (Some(slot), Some(pairs)) = (idx.get_mut(p), choices.get(p)) else {
                return Ok(());
            };
            *slot += 1;
            if *slot < pairs.len() {
                break;
            }
            *slot = 0;
        }
    }
}
