//! Binary operators (`+ - * / %` and comparisons) with jq semantics.
//!
//! Owns the per-type rules of each operator. Invariants: the left operand
//! is taken by value so owned strings/arrays/objects are extended in place;
//! every value copied or built is charged to the evaluation context; number
//! results go through `value::number` (non-finite results are errors).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::ast::BinOp;
use super::eval::Ctx;
use super::value::{compare, describe, equal, f64_of, number, units};
use super::{EvalError, EvalErrorKind};

/// Applies `op` to `l` and `r`.
pub(crate) fn binop(
    cx: &mut Ctx,
    op: BinOp,
    l: Cow<'_, Value>,
    r: &Value,
) -> Result<Value, EvalError> {
    let ord = |l: &Value| compare(l, r, 0);
    Ok(Value::Bool(match op {
        BinOp::Add => return add(cx, l, r),
        BinOp::Sub => return sub(cx, l, r),
        BinOp::Mul => return arith(op, &l, r),
        BinOp::Div => return div(cx, &l, r),
        BinOp::Mod => return modulo(&l, r),
        BinOp::Eq => ord(&l)? == Ordering::Equal,
        BinOp::Ne => ord(&l)? != Ordering::Equal,
        BinOp::Lt => ord(&l)? == Ordering::Less,
        BinOp::Le => ord(&l)? != Ordering::Greater,
        BinOp::Gt => ord(&l)? == Ordering::Greater,
        BinOp::Ge => ord(&l)? != Ordering::Less,
    }))
}

fn type_error(l: &Value, r: &Value, what: &str) -> EvalError {
    EvalError::type_error(format!(
        "{} and {} cannot be {what}",
        describe(l),
        describe(r)
    ))
}

fn add(cx: &mut Ctx, l: Cow<'_, Value>, r: &Value) -> Result<Value, EvalError> {
    match (l.as_ref(), r) {
        (Value::Null, _) => cx.own(Cow::Borrowed(r)),
        (_, Value::Null) => cx.own(l),
        (Value::Number(_), Value::Number(_)) => arith(BinOp::Add, &l, r),
        (Value::String(_), Value::String(rs)) => {
            cx.charge(rs.len())?;
            let mut s = match cx.own(l)? {
                Value::String(s) => s,
                _ => String::new(),
            };
            s.push_str(rs);
            Ok(Value::String(s))
        }
        (Value::Array(_), Value::Array(ra)) => {
            cx.charge(units(r))?;
            let mut a = match cx.own(l)? {
                Value::Array(a) => a,
                _ => Vec::new(),
            };
            a.extend(ra.iter().cloned());
            Ok(Value::Array(a))
        }
        (Value::Object(_), Value::Object(rm)) => {
            cx.charge(units(r))?;
            let mut m = match cx.own(l)? {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            };
            for (k, v) in rm {
                m.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(m))
        }
        (lv, _) => Err(type_error(lv, r, "added")),
    }
}

fn sub(cx: &mut Ctx, l: Cow<'_, Value>, r: &Value) -> Result<Value, EvalError> {
    match (l.as_ref(), r) {
        (Value::Number(_), Value::Number(_)) => arith(BinOp::Sub, &l, r),
        (Value::Array(la), Value::Array(ra)) => {
            let mut kept = Vec::new();
            for x in la {
                let mut drop = false;
                for y in ra {
                    if equal(x, y)? {
                        drop = true;
                        break;
                    }
                }
                if !drop {
                    kept.push(cx.own(Cow::Borrowed(x))?);
                }
            }
            Ok(Value::Array(kept))
        }
        (lv, _) => Err(type_error(lv, r, "subtracted")),
    }
}

fn arith(op: BinOp, l: &Value, r: &Value) -> Result<Value, EvalError> {
    let (Value::Number(a), Value::Number(b)) = (l, r) else {
        return Err(type_error(l, r, "multiplied"));
    };
    let (a, b) = (f64_of(a), f64_of(b));
    number(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        _ => a * b,
    })
}

fn zero_divisor(l: &Value, r: &Value) -> EvalError {
    EvalError::new(
        EvalErrorKind::DivisionByZero,
        format!(
            "{} and {} cannot be divided because the divisor is zero",
            describe(l),
            describe(r)
        ),
    )
}

fn div(cx: &mut Ctx, l: &Value, r: &Value) -> Result<Value, EvalError> {
    match (l, r) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (f64_of(a), f64_of(b));
            if b == 0.0 {
                return Err(zero_divisor(l, r));
            }
            number(a / b)
        }
        (Value::String(s), Value::String(sep)) => {
            cx.charge(s.len().saturating_mul(2))?;
            let parts: Vec<Value> = if s.is_empty() {
                Vec::new()
            } else if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect()
            };
            cx.charge(parts.len())?;
            Ok(Value::Array(parts))
        }
        _ => Err(type_error(l, r, "divided")),
    }
}

fn modulo(l: &Value, r: &Value) -> Result<Value, EvalError> {
    let (Value::Number(a), Value::Number(b)) = (l, r) else {
        return Err(type_error(l, r, "divided (remainder)"));
    };
    // Truncate toward zero (saturating), like jq's integer cast.
    let (a, b) = (f64_of(a) as i64, f64_of(b) as i64);
    if b == 0 {
        return Err(zero_divisor(l, r));
    }
    Ok(Value::from(a.checked_rem(b).unwrap_or(0)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(op: BinOp, l: Value, r: Value) -> Result<Value, EvalError> {
        binop(&mut Ctx::new(), op, Cow::Owned(l), &r)
    }

    #[test]
    fn addition_rules() {
        assert_eq!(run(BinOp::Add, json!(null), json!(3)).unwrap(), json!(3));
        assert_eq!(
            run(BinOp::Add, json!("a"), json!(null)).unwrap(),
            json!("a")
        );
        assert_eq!(
            run(BinOp::Add, json!("a"), json!("b")).unwrap(),
            json!("ab")
        );
        assert_eq!(
            run(BinOp::Add, json!([1]), json!([2])).unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            run(BinOp::Add, json!({"a": 1, "b": 1}), json!({"b": 2})).unwrap(),
            json!({"a": 1, "b": 2})
        );
        assert!(run(BinOp::Add, json!(1), json!("a")).is_err());
    }

    #[test]
    fn subtraction_removes_array_elements() {
        assert_eq!(
            run(BinOp::Sub, json!([1, 2, 1.0, 3]), json!([1])).unwrap(),
            json!([2, 3])
        );
    }

    #[test]
    fn division_and_split() {
        assert_eq!(run(BinOp::Div, json!(7), json!(2)).unwrap(), json!(3.5));
        assert_eq!(
            run(BinOp::Div, json!("a,b,"), json!(",")).unwrap(),
            json!(["a", "b", ""])
        );
        assert_eq!(run(BinOp::Div, json!(""), json!(",")).unwrap(), json!([]));
        assert_eq!(
            run(BinOp::Div, json!("ab"), json!("")).unwrap(),
            json!(["a", "b"])
        );
        assert!(matches!(
            run(BinOp::Div, json!(1), json!(0)),
            Err(EvalError {
                kind: EvalErrorKind::DivisionByZero,
                ..
            })
        ));
    }

    #[test]
    fn modulo_truncates_and_keeps_dividend_sign() {
        assert_eq!(run(BinOp::Mod, json!(7.9), json!(2.5)).unwrap(), json!(1));
        assert_eq!(run(BinOp::Mod, json!(-7), json!(2)).unwrap(), json!(-1));
        assert_eq!(
            run(BinOp::Mod, json!(-9.3e18), json!(-1)).unwrap(),
            json!(0)
        );
        assert!(run(BinOp::Mod, json!(5), json!(0.5)).is_err());
    }

    #[test]
    fn overflow_to_infinity_is_an_error() {
        assert!(matches!(
            run(BinOp::Mul, json!(1e308), json!(10)),
            Err(EvalError {
                kind: EvalErrorKind::NumberRange,
                ..
            })
        ));
    }
}
