//! Edge tests of the filter limits (`crate::limits`): at each limit accepted, one past rejected.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::filter::{EvalErrorKind, Filter, ParseError};
use crate::limits::*;
use serde_json::{json, Value};

/// Compiles `pattern` through a literal `test(...)` call.
fn regex(pattern: &str) -> Result<(), ParseError> {
    Filter::parse(&format!("test({})", Value::String(pattern.to_string()))).map(|_| ())
}

#[test]
fn filter_source_bytes_max_edge() {
    let at = format!("{}1", " ".repeat(FILTER_SOURCE_BYTES_MAX - 1));
    assert!(Filter::parse(&at).is_ok());
    let past = format!("{}1", " ".repeat(FILTER_SOURCE_BYTES_MAX));
    let e = Filter::parse(&past).unwrap_err();
    assert_eq!(e.pos, FILTER_SOURCE_BYTES_MAX);
}

#[test]
fn filter_depth_max_edge() {
    let nest = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    assert!(Filter::parse(&nest(FILTER_DEPTH_MAX)).is_ok());
    assert!(Filter::parse(&nest(FILTER_DEPTH_MAX + 1)).is_err());
}

#[test]
fn filter_outputs_max_edge() {
    let f = Filter::parse("[.[]] | length").unwrap();
    let at = Value::Array(vec![json!(0); FILTER_OUTPUTS_MAX]);
    assert_eq!(f.eval(&at).unwrap(), vec![json!(FILTER_OUTPUTS_MAX)]);
    let past = Value::Array(vec![json!(0); FILTER_OUTPUTS_MAX + 1]);
    assert_eq!(f.eval(&past).unwrap_err().kind, EvalErrorKind::OutputsLimit);
}

#[test]
fn filter_alloc_units_max_edge() {
    // Copying a string of n bytes costs 1 + n units.
    let f = Filter::parse(". + \"\"").unwrap();
    let at = Value::String("x".repeat(FILTER_ALLOC_UNITS_MAX - 1));
    assert!(f.eval(&at).is_ok());
    let past = Value::String("x".repeat(FILTER_ALLOC_UNITS_MAX));
    assert_eq!(f.eval(&past).unwrap_err().kind, EvalErrorKind::AllocLimit);
}

#[test]
fn filter_value_depth_max_edge() {
    let deep = |n: usize| (0..n).fold(json!(1), |v, _| Value::Array(vec![v]));
    let f = Filter::parse(". == .").unwrap();
    assert!(f.matches(&deep(FILTER_VALUE_DEPTH_MAX)).unwrap());
    let past = deep(FILTER_VALUE_DEPTH_MAX + 1);
    assert_eq!(f.eval(&past).unwrap_err().kind, EvalErrorKind::ValueDepth);
    let t = Filter::parse("tostring | length > 0").unwrap();
    assert!(t.matches(&deep(FILTER_VALUE_DEPTH_MAX)).unwrap());
    assert_eq!(
        t.matches(&past).unwrap_err().kind,
        EvalErrorKind::ValueDepth
    );
}

#[test]
fn regex_pattern_bytes_max_edge() {
    assert!(regex(&"a".repeat(REGEX_PATTERN_BYTES_MAX)).is_ok());
    assert!(regex(&"a".repeat(REGEX_PATTERN_BYTES_MAX + 1)).is_err());
}

#[test]
fn regex_repeat_max_edge() {
    assert!(regex(&format!("a{{{REGEX_REPEAT_MAX}}}")).is_ok());
    assert!(regex(&format!("a{{{}}}", REGEX_REPEAT_MAX + 1)).is_err());
    assert!(regex(&format!("a{{1,{}}}", REGEX_REPEAT_MAX + 1)).is_err());
}

#[test]
fn regex_group_depth_max_edge() {
    let nest = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    assert!(regex(&nest(REGEX_GROUP_DEPTH_MAX)).is_ok());
    assert!(regex(&nest(REGEX_GROUP_DEPTH_MAX + 1)).is_err());
}

#[test]
fn regex_program_insts_max_edge() {
    // 9 * 1000 + 999 literal instructions plus the final Match.
    assert_eq!(9 * 1000 + 999 + 1, REGEX_PROGRAM_INSTS_MAX);
    assert!(regex("(?:a{1000}){9}a{999}").is_ok());
    assert!(regex("(?:a{1000}){9}a{1000}").is_err());
}
