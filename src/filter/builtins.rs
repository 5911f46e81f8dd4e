//! Builtin functions (`select`, `has`, `test`, `any`, `map`, ...).
//!
//! Owns the jq semantics of each builtin named in `ast::Call`. Invariants:
//! arguments are evaluated against the builtin's input (jq closure
//! semantics); iteration goes through `eval::iterate` so every element is
//! counted against `FILTER_OUTPUTS_MAX`; results that copy or build data are
//! charged to the context.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::borrow::Cow;

use serde_json::Value;

use super::ast::{Call, Kind, Node, Quant};
use super::eval::{eval_cow, eval_single, outputs, Ctx, Out, Outs, R};
use super::path::{elements, iterate};
use super::regex::Regex;
use super::value::{contains, depth, describe, f64_of, length, number, truthy, type_name, units};
use super::{EvalError, EvalErrorKind};
use crate::limits::FILTER_VALUE_DEPTH_MAX;

fn boolean<'a>(b: bool) -> Out<'a> {
    Cow::Owned(Value::Bool(b))
}

/// Calls `f` for each output of `arg` (evaluated against `input`), then
/// returns the argument's own trailing error, if any.
fn each_arg<'a>(
    cx: &mut Ctx,
    arg: &'a Node,
    input: &'a Value,
    mut f: impl FnMut(&mut Ctx, &Value) -> R,
) -> R {
    let (vals, r) = outputs(cx, arg, input);
    for v in vals.iter() {
        f(cx, v)?;
    }
    r
}

/// Evaluates a builtin call, appending its outputs to `acc`.
#[inline(never)]
pub(crate) fn eval_call<'a>(
    cx: &mut Ctx,
    call: &'a Call,
    input: &'a Value,
    acc: &mut Outs<'a>,
) -> R {
    let mut push = |v: Out<'a>| {
        acc.push(v);
        Ok(())
    };
    match call {
        Call::Not => push(boolean(!truthy(input))),
        Call::Empty => Ok(()),
        Call::Select(f) => each_arg(cx, f, input, |_, v| {
            if truthy(v) {
                push(Cow::Borrowed(input))?;
            }
            Ok(())
        }),
        Call::Has(k) => each_arg(cx, k, input, |_, k| push(boolean(has(input, k)?))),
        Call::Length => push(Cow::Owned(length(input)?)),
        Call::Contains(b) => each_arg(cx, b, input, |_, b| push(boolean(contains(input, b)?))),
        Call::StartsWith(a) => each_arg(cx, a, input, |_, p| push(boolean(affix(input, p, true)?))),
        Call::EndsWith(a) => each_arg(cx, a, input, |_, p| push(boolean(affix(input, p, false)?))),
        Call::AsciiDowncase => push(ascii_case(cx, input, false)?),
        Call::AsciiUpcase => push(ascii_case(cx, input, true)?),
        Call::Test {
            re,
            flags,
            compiled,
        } => test(
            cx,
            re,
            flags.as_deref(),
            compiled.as_ref(),
            input,
            &mut push,
        ),
        Call::Quantify(any, q) => push(boolean(quantify(cx, *any, q, input)?)),
        Call::Keys => push(keys(cx, input)?),
        Call::Type => push(Cow::Owned(Value::String(type_name(input).to_string()))),
        Call::ToString => push(tostring(cx, input)?),
        Call::ToNumber => push(tonumber(input)?),
        Call::Map(f) => {
            let mut mapped = Outs::new();
            iterate(cx, Cow::Borrowed(input), &mut |cx, x| {
                eval_cow(cx, f, x, &mut mapped)
            })?;
            let items = mapped
                .into_iter()
                .map(|v| cx.own(v))
                .collect::<Result<Vec<_>, _>>()?;
            cx.charge(1)?;
            push(Cow::Owned(Value::Array(items)))
        }
    }
}

fn has(input: &Value, key: &Value) -> Result<bool, EvalError> {
    match (input, key) {
        (Value::Object(m), Value::String(k)) => Ok(m.contains_key(k)),
        (Value::Array(a), Value::Number(n)) => {
            let i = f64_of(n).trunc();
            Ok(i >= 0.0 && i < a.len() as f64)
        }
        _ => Err(EvalError::type_error(format!(
            "cannot check whether {} has a key {}",
            describe(input),
            describe(key)
        ))),
    }
}

fn affix(input: &Value, arg: &Value, start: bool) -> Result<bool, EvalError> {
    match (input, arg) {
        (Value::String(s), Value::String(p)) if start => Ok(s.starts_with(p.as_str())),
        (Value::String(s), Value::String(p)) => Ok(s.ends_with(p.as_str())),
        _ => Err(EvalError::type_error(format!(
            "{}() requires string inputs",
            if start { "startswith" } else { "endswith" }
        ))),
    }
}

fn ascii_case<'a>(cx: &mut Ctx, input: &'a Value, upper: bool) -> Result<Out<'a>, EvalError> {
    let Value::String(s) = input else {
        return Err(EvalError::type_error(format!(
            "ascii_{}case input must be a string, not {}",
            if upper { "up" } else { "down" },
            describe(input)
        )));
    };
    cx.charge(units(input))?;
    let converted = if upper {
        s.to_ascii_uppercase()
    } else {
        s.to_ascii_lowercase()
    };
    Ok(Cow::Owned(Value::String(converted)))
}

fn test<'a>(
    cx: &mut Ctx,
    re: &'a Node,
    flags: Option<&'a Node>,
    compiled: Option<&'a Regex>,
    input: &'a Value,
    push: &mut dyn FnMut(Out<'a>) -> R,
) -> R {
    let Value::String(s) = input else {
        return Err(EvalError::type_error(format!(
            "{} cannot be matched, as it is not a string",
            describe(input)
        )));
    };
    if let Some(rx) = compiled {
        return push(boolean(rx.is_match(s)));
    }
    each_arg(cx, re, input, |cx, pattern| match flags {
        None => push(boolean(test_dynamic(s, pattern, &Value::Null)?)),
        Some(f) => each_arg(cx, f, input, |_, fl| {
            push(boolean(test_dynamic(s, pattern, fl)?))
        }),
    })
}

fn test_dynamic(s: &str, pattern: &Value, flags: &Value) -> Result<bool, EvalError> {
    let Value::String(p) = pattern else {
        return Err(EvalError::type_error(format!(
            "{} cannot be used as a regex",
            describe(pattern)
        )));
    };
    let flags = match flags {
        Value::Null => "",
        Value::String(f) => f.as_str(),
        other => {
            return Err(EvalError::type_error(format!(
                "{} is not a string of regex flags",
                describe(other)
            )))
        }
    };
    let rx =
        Regex::new(p, flags).map_err(|e| EvalError::new(EvalErrorKind::Regex, e.to_string()))?;
    Ok(rx.is_match(s))
}

/// Does one condition's output stream decide the quantifier? Outputs
/// before an error count; the error only matters if nothing decided.
fn decides(cx: &mut Ctx, any: bool, cond: &Node, x: &Value) -> Result<bool, EvalError> {
    if cond.single {
        return Ok(truthy(eval_single(cx, cond, x)?.as_ref()) == any);
    }
    let (vals, r) = outputs(cx, cond, x);
    if vals.iter().any(|v| truthy(v) == any) {
        return Ok(true);
    }
    r.map(|()| false)
}

/// `any`/`all` family: short-circuits on the first deciding value.
fn quantify(cx: &mut Ctx, any: bool, q: &Quant, input: &Value) -> Result<bool, EvalError> {
    let decided = match q {
        Quant::Elements => {
            let mut decided = false;
            for x in elements(input)? {
                cx.count_outputs(1)?;
                if truthy(x) == any {
                    decided = true;
                    break;
                }
            }
            decided
        }
        Quant::Cond(c) => {
            let mut decided = false;
            for x in elements(input)? {
                cx.count_outputs(1)?;
                if decides(cx, any, c, x)? {
                    decided = true;
                    break;
                }
            }
            decided
        }
        Quant::GenCond(g, c) => {
            let (xs, r) = outputs(cx, g, input);
            let mut decided = false;
            for x in xs.iter() {
                if decides(cx, any, c, x)? {
                    decided = true;
                    break;
                }
            }
            if !decided {
                r?;
            }
            decided
        }
    };
    Ok(decided == any)
}

fn keys<'a>(cx: &mut Ctx, input: &Value) -> Result<Out<'a>, EvalError> {
    let items: Vec<Value> = match input {
        Value::Object(m) => {
            let mut ks: Vec<&String> = m.keys().collect();
            ks.sort();
            ks.into_iter().map(|k| Value::String(k.clone())).collect()
        }
        Value::Array(a) => (0..a.len()).map(Value::from).collect(),
        other => {
            return Err(EvalError::type_error(format!(
                "{} has no keys",
                describe(other)
            )))
        }
    };
    cx.charge(items.iter().map(units).sum::<usize>() + 1)?;
    Ok(Cow::Owned(Value::Array(items)))
}

fn tostring<'a>(cx: &mut Ctx, input: &'a Value) -> Result<Out<'a>, EvalError> {
    if let Value::String(_) = input {
        return Ok(Cow::Borrowed(input));
    }
    if depth(input) > FILTER_VALUE_DEPTH_MAX {
        return Err(EvalError::new(
            EvalErrorKind::ValueDepth,
            format!("value nested deeper than {FILTER_VALUE_DEPTH_MAX} levels"),
        ));
    }
    cx.charge(units(input))?;
    let s = serde_json::to_string(input)
        .map_err(|e| EvalError::type_error(format!("cannot convert to string: {e}")))?;
    Ok(Cow::Owned(Value::String(s)))
}

fn tonumber(input: &Value) -> Result<Out<'_>, EvalError> {
    match input {
        Value::Number(_) => Ok(Cow::Borrowed(input)),
        Value::String(s) => {
            let plausible = s.bytes().any(|b| b.is_ascii_digit())
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
            let parsed = plausible.then(|| s.parse::<f64>().ok()).flatten();
            match parsed {
                Some(x) if x.is_finite() => Ok(Cow::Owned(number(x)?)),
                _ => Err(EvalError::type_error(format!(
                    "cannot parse {} as a number",
                    describe(input)
                ))),
            }
        }
        other => Err(EvalError::type_error(format!(
            "{} cannot be parsed as a number",
            describe(other)
        ))),
    }
}

/// A call argument with the character position where it starts.
pub(crate) type Arg = (usize, Node);

/// Resolves a builtin by name and arity; errors carry an optional position
/// (`None` means the position of the function name).
pub(crate) fn resolve_builtin(name: &str, args: Vec<Arg>) -> Result<Call, (Option<usize>, String)> {
    let arity = args.len();
    if !super::doc::is_builtin(name, arity) {
        return Err((None, format!("unknown function '{name}/{arity}'")));
    }
    if name == "test" {
        return test_call(args);
    }
    let mut it = args.into_iter();
    let mut next = || it.next().map(|(_, n)| Box::new(n));
    let call = match (name, arity) {
        ("not", 0) => Call::Not,
        ("empty", 0) => Call::Empty,
        ("length", 0) => Call::Length,
        ("ascii_downcase", 0) => Call::AsciiDowncase,
        ("ascii_upcase", 0) => Call::AsciiUpcase,
        ("keys", 0) => Call::Keys,
        ("type", 0) => Call::Type,
        ("tostring", 0) => Call::ToString,
        ("tonumber", 0) => Call::ToNumber,
        ("any", 0) => Call::Quantify(true, Quant::Elements),
        ("all", 0) => Call::Quantify(false, Quant::Elements),
        (_, 1) => {
            let a = next().ok_or((None, "missing argument".to_string()))?;
            match name {
                "select" => Call::Select(a),
                "has" => Call::Has(a),
                "contains" => Call::Contains(a),
                "startswith" => Call::StartsWith(a),
                "endswith" => Call::EndsWith(a),
                "map" => Call::Map(a),
                "any" => Call::Quantify(true, Quant::Cond(a)),
                "all" => Call::Quantify(false, Quant::Cond(a)),
                _ => return Err((None, format!("unknown function '{name}/1'"))),
            }
        }
        ("any" | "all", 2) => match (next(), next()) {
            (Some(g), Some(c)) => Call::Quantify(name == "any", Quant::GenCond(g, c)),
            _ => return Err((None, "missing argument".to_string())),
        },
        _ => return Err((None, format!("unknown function '{name}/{arity}'"))),
    };
    Ok(call)
}

fn test_call(args: Vec<Arg>) -> Result<Call, (Option<usize>, String)> {
    let mut it = args.into_iter();
    let (re_pos, re) = it.next().ok_or((None, "missing argument".to_string()))?;
    let flags = it.next();
    let literal_flags = match flags.as_ref().map(|(_, f)| f.kind.as_ref()) {
        None | Some(Kind::Literal(Value::Null)) => Some(""),
        Some(Kind::Literal(Value::String(f))) => Some(f.as_str()),
        Some(_) => None,
    };
    let compiled = match (re.kind.as_ref(), literal_flags) {
        (Kind::Literal(Value::String(p)), Some(f)) => Some(Regex::new(p, f).map_err(|e| {
            let pos = if e.is_flag_error() {
                flags.as_ref().map_or(re_pos, |(p, _)| *p)
            } else {
                re_pos
            };
            (Some(pos), format!("invalid regex: {e}"))
        })?),
        _ => None,
    };
    Ok(Call::Test {
        re: Box::new(re),
        flags: flags.map(|(_, f)| Box::new(f)),
        compiled,
    })
}
