//! Pure helpers on JSON values with jq semantics.
//!
//! Owns truthiness, jq's total order (null < false < true < numbers <
//! strings < arrays < objects), equality with f64 number semantics,
//! `contains`, `length`, number normalisation and short value descriptions
//! for error messages. Invariants: recursion over values is bounded by
//! `FILTER_VALUE_DEPTH_MAX`; nothing here panics or allocates proportionally
//! to input size except where the result itself requires it.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::{EvalError, EvalErrorKind};
use crate::limits::FILTER_VALUE_DEPTH_MAX;

/// The shared `null` used when borrowing a missing field.
pub(crate) static NULL: Value = Value::Null;

/// jq truthiness: everything except `false` and `null`.
pub(crate) fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

/// Position in jq's cross-type order; `true` and `false` are distinct kinds.
fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(false) => 1,
        Value::Bool(true) => 2,
        Value::Number(_) => 3,
        Value::String(_) => 4,
        Value::Array(_) => 5,
        Value::Object(_) => 6,
    }
}

/// jq's name for the value's type (`type` builtin).
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A number as f64 (jq semantics).
pub(crate) fn f64_of(n: &Number) -> f64 {
    n.as_f64().unwrap_or(0.0)
}

/// Builds a number value from an f64 result; integral values within
/// ±2^53 become JSON integers. Non-finite results are errors.
pub(crate) fn number(x: f64) -> Result<Value, EvalError> {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::from(x as i64));
    }
    Number::from_f64(x).map(Value::Number).ok_or_else(|| {
        EvalError::new(
            EvalErrorKind::NumberRange,
            "arithmetic result is not a finite number",
        )
    })
}

/// Short description such as `number (3)` or `string ("abc")`.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean ({b})"),
        Value::Number(n) => format!("number ({n})"),
        Value::String(s) => {
            let head: String = s.chars().take(16).collect();
            let more = if s.chars().nth(16).is_some() {
                "..."
            } else {
                ""
            };
            format!("string ({:?}{more})", head)
        }
        Value::Array(a) => format!("array (length {})", a.len()),
        Value::Object(m) => format!("object ({} keys)", m.len()),
    }
}

fn too_deep() -> EvalError {
    EvalError::new(
        EvalErrorKind::ValueDepth,
        format!("value nested deeper than {FILTER_VALUE_DEPTH_MAX} levels"),
    )
}

fn sorted_keys(m: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys
}

/// jq's total order over values.
pub(crate) fn compare(a: &Value, b: &Value, depth: usize) -> Result<Ordering, EvalError> {
    if depth > FILTER_VALUE_DEPTH_MAX {
        return Err(too_deep());
    }
    let by_rank = rank(a).cmp(&rank(b));
    if by_rank != Ordering::Equal {
        return Ok(by_rank);
    }
    Ok(match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            f64_of(x).partial_cmp(&f64_of(y)).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (ex, ey) in x.iter().zip(y) {
                let o = compare(ex, ey, depth + 1)?;
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => compare_objects(x, y, depth)?,
        _ => Ordering::Equal,
    })
}

fn compare_objects(
    x: &Map<String, Value>,
    y: &Map<String, Value>,
    depth: usize,
) -> Result<Ordering, EvalError> {
    let (kx, ky) = (sorted_keys(x), sorted_keys(y));
    let by_keys = kx.cmp(&ky);
    if by_keys != Ordering::Equal {
        return Ok(by_keys);
    }
    for k in kx {
        if let (Some(vx), Some(vy)) = (x.get(k), y.get(k)) {
            let o = compare(vx, vy, depth + 1)?;
            if o != Ordering::Equal {
                return Ok(o);
            }
        }
    }
    Ok(Ordering::Equal)
}

/// jq equality (numbers compare as f64, so `1 == 1.0`).
pub(crate) fn equal(a: &Value, b: &Value) -> Result<bool, EvalError> {
    Ok(compare(a, b, 0)? == Ordering::Equal)
}

/// jq `contains`: kinds must match at the top level (else an error).
pub(crate) fn contains(a: &Value, b: &Value) -> Result<bool, EvalError> {
    if rank(a) != rank(b) {
        return Err(EvalError::type_error(format!(
            "{} and {} cannot have their containment checked",
            describe(a),
            describe(b)
        )));
    }
    contains_rec(a, b, 0)
}

fn contains_rec(a: &Value, b: &Value, depth: usize) -> Result<bool, EvalError> {
    if depth > FILTER_VALUE_DEPTH_MAX {
        return Err(too_deep());
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, bv) in y {
                let Some(av) = x.get(k) else {
                    return Ok(false);
                };
                if !contains_rec(av, bv, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Value::Array(x), Value::Array(y)) => {
            for bv in y {
                let mut found = false;
                for av in x {
                    if contains_rec(av, bv, depth + 1)? {
                        found = true;
                        break;
                    }
                }
                if !found {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Value::String(x), Value::String(y)) => Ok(x.contains(y.as_str())),
        _ if rank(a) == rank(b) => Ok(compare(a, b, depth)? == Ordering::Equal),
        _ => Ok(false),
    }
}

/// jq `length`.
pub(crate) fn length(v: &Value) -> Result<Value, EvalError> {
    Ok(match v {
        Value::Null => Value::from(0),
        Value::Bool(_) => {
            return Err(EvalError::type_error(format!(
                "{} has no length",
                describe(v)
            )))
        }
        Value::Number(n) => number(f64_of(n).abs())?,
        Value::String(s) => Value::from(s.chars().count()),
        Value::Array(a) => Value::from(a.len()),
        Value::Object(m) => Value::from(m.len()),
    })
}

/// Size of a value in allocation units: one per node plus string bytes.
pub(crate) fn units(v: &Value) -> usize {
    match v {
        Value::String(s) => return 1 + s.len(),
        Value::Array(_) | Value::Object(_) => {}
        _ => return 1,
    }
    let mut total = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(1);
        match v {
            Value::String(s) => total = total.saturating_add(s.len()),
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(m) => {
                for (k, x) in m {
                    total = total.saturating_add(k.len());
                    stack.push(x);
                }
            }
            _ => {}
        }
    }
    total
}

/// Maximum nesting depth of a value (scalars are depth 0), computed
/// without recursion.
pub(crate) fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn total_order_across_types() {
        let ordered = [
            json!(null),
            json!(false),
            json!(true),
            json!(-1),
            json!(2.5),
            json!(""),
            json!("a"),
            json!([]),
            json!([1]),
            json!([1, 0]),
            json!({}),
            json!({"a": 2}),
            json!({"a": 1, "b": 0}),
            json!({"b": 0}),
        ];
        for pair in ordered.windows(2) {
            if let [a, b] = pair {
                assert_eq!(compare(a, b, 0).unwrap(), Ordering::Less, "{a} < {b}");
                assert_eq!(compare(b, a, 0).unwrap(), Ordering::Greater);
            }
        }
    }

    #[test]
    fn integers_and_floats_are_equal_by_value() {
        assert!(equal(&json!(1), &json!(1.0)).unwrap());
        assert!(equal(&json!({"a": [1]}), &json!({"a": [1.0]})).unwrap());
    }

    #[test]
    fn number_normalises_integral_results() {
        assert_eq!(number(4.0).unwrap(), json!(4));
        assert_eq!(number(0.5).unwrap(), json!(0.5));
        assert!(number(f64::INFINITY).is_err());
    }

    #[test]
    fn units_and_depth_are_iterative() {
        assert_eq!(units(&json!({"ab": ["xyz", 1]})), 1 + 2 + 1 + 4 + 1);
        let mut deep = json!(1);
        for _ in 0..10_000 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(depth(&deep), 10_000);
        assert!(matches!(
            compare(&deep, &deep, 0),
            Err(EvalError {
                kind: EvalErrorKind::ValueDepth,
                ..
            })
        ));
        // Dropping a 10,000-deep value recurses inside serde_json; keep it
        // alive but shallow enough to drop safely on test threads.
        let mut v = deep;
        while let Value::Array(mut a) = v {
            v = a.pop().unwrap_or(Value::Null);
        }
    }
}
