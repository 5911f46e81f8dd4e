//! Path evaluation: `.name`, `.[n]`, `.[expr]` and `.[]` steps.
//!
//! Owns indexing and iteration rules (jq semantics: indexing `null` yields
//! `null`, missing keys and out-of-range indices yield `null`, negative
//! indices count from the end, fractional indices are floored, indexing a
//! scalar is a type error, iterating `null` or a scalar is a type error).
//! Invariants: borrowed inputs produce borrowed outputs (no copies); owned
//! inputs are taken apart by moving, not cloning; `.[]` counts each element
//! against `FILTER_OUTPUTS_MAX`; step recursion depth equals the number of
//! steps, which the parser bounds via node height.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::borrow::Cow;

use serde_json::Value;

use super::ast::{Kind, Node, Step};
use super::eval::{eval_single, outputs, Ctx, Out, Outs, R};
use super::value::{describe, f64_of, number, NULL};
use super::EvalError;

#[inline(never)]
pub(crate) fn eval_path<'a>(
    cx: &mut Ctx,
    base: &'a Node,
    steps: &'a [Step],
    input: &'a Value,
    acc: &mut Outs<'a>,
) -> R {
    if let Kind::Identity = *base.kind {
        return apply_steps(cx, steps, input, Cow::Borrowed(input), acc);
    }
    let (bases, rb) = outputs(cx, base, input);
    for v in bases {
        apply_steps(cx, steps, input, v, acc)?;
    }
    rb
}

/// Applies path steps depth-first (recursion depth = number of steps).
fn apply_steps<'a>(
    cx: &mut Ctx,
    steps: &'a [Step],
    root: &'a Value,
    cur: Out<'a>,
    acc: &mut Outs<'a>,
) -> R {
    let Some((step, rest)) = steps.split_first() else {
        acc.push(cur);
        return Ok(());
    };
    match step {
        Step::Field(name) => {
            let next = match cur {
                Cow::Borrowed(v) => Cow::Borrowed(field_ref(v, name)?),
                Cow::Owned(v) => Cow::Owned(take_field(v, name)?),
            };
            apply_steps(cx, rest, root, next, acc)
        }
        Step::Nth(n) => {
            let next = match cur {
                Cow::Borrowed(v) => Cow::Borrowed(nth_ref(v, *n)?),
                Cow::Owned(v) => Cow::Owned(take_nth(v, *n)?),
            };
            apply_steps(cx, rest, root, next, acc)
        }
        Step::Index(e) => {
            let (keys, rk) = outputs(cx, e, root);
            for k in keys.iter() {
                let next = match &cur {
                    &Cow::Borrowed(v) => Cow::Borrowed(index_ref(v, k)?),
                    Cow::Owned(v) => Cow::Owned(cx.own(Cow::Borrowed(index_ref(v, k)?))?),
                };
                apply_steps(cx, rest, root, next, acc)?;
            }
            rk
        }
        Step::Iterate => iterate(cx, cur, &mut |cx, v| apply_steps(cx, rest, root, v, acc)),
    }
}

fn index_error(v: &Value, key: &Value) -> EvalError {
    let key = match key {
        Value::String(s) => format!("{s:?}"),
        other => describe(other),
    };
    EvalError::type_error(format!("cannot index {} with {key}", describe(v)))
}

fn index_ref<'v>(v: &'v Value, key: &Value) -> Result<&'v Value, EvalError> {
    match key {
        Value::String(s) => field_ref(v, s),
        Value::Number(n) => nth_ref(v, f64_of(n)),
        other => Err(index_error(v, other)),
    }
}

fn field_ref<'v>(v: &'v Value, name: &str) -> Result<&'v Value, EvalError> {
    match v {
        Value::Object(m) => Ok(m.get(name).unwrap_or(&NULL)),
        Value::Null => Ok(&NULL),
        other => Err(index_error(other, &Value::String(name.to_string()))),
    }
}

fn take_field(v: Value, name: &str) -> Result<Value, EvalError> {
    match v {
        Value::Object(mut m) => Ok(m.remove(name).unwrap_or(Value::Null)),
        other => field_ref(&other, name).cloned(),
    }
}

/// Resolves a (possibly negative, possibly fractional) array index.
fn array_slot(len: usize, n: f64) -> Option<usize> {
    let i = n.floor();
    let i = if i < 0.0 { i + len as f64 } else { i };
    (i >= 0.0 && i < len as f64).then_some(i as usize)
}

fn nth_ref(v: &Value, n: f64) -> Result<&Value, EvalError> {
    match v {
        Value::Array(a) => Ok(array_slot(a.len(), n)
            .and_then(|i| a.get(i))
            .unwrap_or(&NULL)),
        Value::Null => Ok(&NULL),
        other => Err(index_error(other, &number(n).unwrap_or(Value::Null))),
    }
}

fn take_nth(v: Value, n: f64) -> Result<Value, EvalError> {
    match v {
        Value::Array(mut a) => Ok(match array_slot(a.len(), n) {
            Some(i) if i < a.len() => a.swap_remove(i),
            _ => Value::Null,
        }),
        other => nth_ref(&other, n).cloned(),
    }
}

/// Elements of an array or values of an object.
pub(crate) enum Elems<'v> {
    Array(std::slice::Iter<'v, Value>),
    Object(serde_json::map::Values<'v>),
}

impl<'v> Iterator for Elems<'v> {
    type Item = &'v Value;

    fn next(&mut self) -> Option<&'v Value> {
        match self {
            Elems::Array(it) => it.next(),
            Elems::Object(it) => it.next(),
        }
    }
}

/// Iterable view of `v`, or a type error for scalars and null.
pub(crate) fn elements(v: &Value) -> Result<Elems<'_>, EvalError> {
    match v {
        Value::Array(a) => Ok(Elems::Array(a.iter())),
        Value::Object(m) => Ok(Elems::Object(m.values())),
        other => Err(EvalError::type_error(format!(
            "cannot iterate over {}",
            describe(other)
        ))),
    }
}

/// `.[]`: calls `f` on each element; each one is counted as an output.
pub(crate) fn iterate<'a>(
    cx: &mut Ctx,
    cur: Out<'a>,
    f: &mut dyn FnMut(&mut Ctx, Out<'a>) -> R,
) -> R {
    match cur {
        Cow::Borrowed(v) => {
            for x in elements(v)? {
                cx.count_outputs(1)?;
                f(cx, Cow::Borrowed(x))?;
            }
        }
        Cow::Owned(v) => {
            elements(&v)?;
            let items: Vec<Value> = match v {
                Value::Array(a) => a,
                Value::Object(m) => m.into_iter().map(|(_, x)| x).collect(),
                _ => Vec::new(),
            };
            for x in items {
                cx.count_outputs(1)?;
                f(cx, Cow::Owned(x))?;
            }
        }
    }
    Ok(())
}

/// One non-iterating path step on a single value.
pub(crate) fn single_step<'a>(
    cx: &mut Ctx,
    step: &'a Step,
    root: &'a Value,
    cur: Out<'a>,
) -> Result<Out<'a>, EvalError> {
    Ok(match (step, cur) {
        (Step::Field(name), Cow::Borrowed(v)) => Cow::Borrowed(field_ref(v, name)?),
        (Step::Field(name), Cow::Owned(v)) => Cow::Owned(take_field(v, name)?),
        (Step::Nth(n), Cow::Borrowed(v)) => Cow::Borrowed(nth_ref(v, *n)?),
        (Step::Nth(n), Cow::Owned(v)) => Cow::Owned(take_nth(v, *n)?),
        (Step::Index(e), Cow::Borrowed(v)) => {
            Cow::Borrowed(index_ref(v, eval_single(cx, e, root)?.as_ref())?)
        }
        (Step::Index(e), Cow::Owned(v)) => {
            let k = eval_single(cx, e, root)?;
            Cow::Owned(cx.own(Cow::Borrowed(index_ref(&v, &k)?))?)
        }
        (Step::Iterate, _) => {
            return Err(EvalError::type_error(
                "internal: iteration in a single-valued path",
            ))
        }
    })
}
