//! Table-driven tests of the whole filter pipeline (parse + evaluate).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::{json, Value};

use super::{matches_all, EvalErrorKind, Filter};

fn envelope() -> Value {
    json!({
        "seq": 3,
        "time": "2026-01-01T00:00:00.000000000Z",
        "meta": {"tags": ["a", "ping"]},
        "data": {
            "i": 4, "f": 2.5, "s": "Hello World", "n": null, "b": true,
            "arr": [1, 2, 3], "empty": [], "zero": 0, "neg": -3,
            "objs": [{"k": "x", "v": 1}, {"k": "y", "v": 2}],
            "o": {"a": 1, "b": "two"},
            "nested": {"deep": {"er": [10, 20]}},
            "key with space": 7, "num_str": "42", "level": "ERROR"
        }
    })
}

/// (expression, expected match against `envelope()`).
const ENVELOPE_CASES: &[(&str, bool)] = &[
    // paths
    (".seq == 3", true),
    (".data.i == 4", true),
    (".data.missing == null", true),
    (".data.missing.deeper == null", true),
    ("\"x\" | .a", false),
    ("(.\"seq\") == 3", true),
    (".data.\"key with space\" == 7", true),
    (".[\"data\"][\"i\"] == 4", true),
    (".data.[\"i\"] == 4", true),
    (".data.arr[0] == 1", true),
    (".data.arr[-1] == 3", true),
    (".data.arr[-4] == null", true),
    (".data.arr[10] == null", true),
    (".data.arr[1.7] == 2", true),
    (".data.arr[] == 2", true),
    (".data.arr[] == 9", false),
    (".data.o[] == \"two\"", true),
    (".data.s.x", false),
    (".data.i.x == null", false),
    (".data.arr.x == null", false),
    (".data.o[0] == null", false),
    (".data.arr[\"a\"] == null", false),
    (".data.arr[true] == null", false),
    (".data.n[]", false),
    (".data.i[] == 4", false),
    (".meta.tags[] == \"ping\"", true),
    (".data.objs[].k == \"y\"", true),
    (".data.objs[1].v == 2", true),
    (".data.nested.deep.er[1] == 20", true),
    (".data.nested | .deep.er[0] == 10", true),
    (".data.arr[.data.i - 3] == 2", true),
    (".data.arr[(0, 2)] == 3", true),
    (".", true),
    (".data.n", false),
    (".data.b", true),
    (".data.zero", true),
    (".data.empty", true),
    // literals and construction
    ("true", true),
    ("false", false),
    ("null", false),
    ("1.5e1 == 15", true),
    (".5 == 0.5", true),
    ("\"a\\tb\" | length == 3", true),
    ("\"\\u00e9\" == \"é\"", true),
    ("[1, 2] == [1, 2]", true),
    ("[] == []", true),
    ("[.data.arr[] | . * 2] == [2, 4, 6]", true),
    ("{a: 1, \"b\": 2, (.data.o.b): 3} == {\"a\": 1, \"b\": 2, \"two\": 3}", true),
    ("{seq} == {\"seq\": 3}", true),
    ("{\"seq\", if: 1} == {\"seq\": 3, \"if\": 1}", true),
    ("[{a: (1, 2), b: (3, 4)}] | length == 4", true),
    ("{a: .data.b | not} == {a: false}", true),
    ("{(.data.i): 1}", false),
    ("{} == {}", true),
    // arithmetic
    ("1 + 2 == 3", true),
    (".data.i % 2 == 0", true),
    (".data.i % 0 == 0", false),
    (".data.i / 0 > 0", false),
    (".data.f * 2 == 5", true),
    ("10 / 4 == 2.5", true),
    ("-.data.i == -4", true),
    ("- - .data.i == 4", true),
    ("-(.data.s) == 1", false),
    ("7 - 2 - 1 == 4", true),
    ("2 + 3 * 4 == 14", true),
    ("(2 + 3) * 4 == 20", true),
    ("-7 % 3 == -1", true),
    ("5.9 % 2.1 == 1", true),
    (".data.s + \"!\" == \"Hello World!\"", true),
    ("null + 1 == 1", true),
    (".data.arr + [4] | length == 4", true),
    (".data.arr - [2] == [1, 3]", true),
    ("(.data.o + {c: 3}) | keys == [\"a\", \"b\", \"c\"]", true),
    (".data.s / \" \" == [\"Hello\", \"World\"]", true),
    (".data.s + 1 == 1", false),
    ("({} - {}) == {}", false),
    ("\"a\" * 2 == \"aa\"", false),
    ("1e308 * 10 > 0", false),
    ("[(1, 2) + (10, 20)] == [11, 12, 21, 22]", true),
    // comparison order
    ("null < false", true),
    ("false < true", true),
    ("true < 0", true),
    ("1 < \"a\"", true),
    ("\"z\" < []", true),
    ("[] < {}", true),
    ("[1, 2] < [1, 3]", true),
    ("[1] < [1, 0]", true),
    ("{\"a\": 2} < {\"b\": 1}", true),
    ("\"abc\" < \"abd\"", true),
    ("1 == 1.0", true),
    ("3 >= 3 and 3 <= 3 and 4 > 3", true),
    (".data.i != 4", false),
    (".seq == (1, 3)", true),
    (".seq == (1, 2)", false),
    // logic and alternatives
    (".data.b and .data.n", false),
    (".data.n or .data.i", true),
    ("false or false", false),
    ("(.data.n and .data.s.x) == false", true),
    ("true or .data.s.x", true),
    (".data.n | not", true),
    (".data.i | not", false),
    ("[(true, false) and (true, false)] == [true, false, false]", true),
    ("[(true, false) or (true, false)] == [true, true, false]", true),
    (".data.n // \"d\" == \"d\"", true),
    (".data.i // 5 == 4", true),
    ("(.data.s.x // 1) == 1", true),
    ("[false, null] | .[] // 7", true),
    ("[.data.n // .data.b // 9] == [true]", true),
    ("empty // null", false),
    ("[1, null // 2] == [1, 2]", true),
    // builtins
    (".data.arr | length == 3", true),
    ("\"héé\" | length == 3", true),
    (".data.neg | length == 3", true),
    (".data.n | length == 0", true),
    (".data.o | length == 2", true),
    (".data.b | length == 1", false),
    (".data | has(\"i\")", true),
    (".data | has(\"zz\")", false),
    (".data.arr | has(2)", true),
    (".data.arr | has(3)", false),
    (".data.arr | has(\"a\")", false),
    (".meta.tags | contains([\"ping\"])", true),
    (".data.s | contains(\"World\")", true),
    (".data | contains({o: {b: \"tw\"}})", true),
    (".data.o | contains({a: 2})", false),
    (".data.i | contains(\"4\")", false),
    ("true | contains(false) | not", false),
    (".data.s | startswith(\"Hell\")", true),
    (".data.s | endswith(\"World\")", true),
    (".data.s | endswith(\"Hell\")", false),
    (".data.i | startswith(\"4\")", false),
    (".data.level | ascii_downcase == \"error\"", true),
    (".data.s | ascii_upcase == \"HELLO WORLD\"", true),
    (".data.i | ascii_downcase", false),
    (".data.s | test(\"wor\")", false),
    (".data.s | test(\"wor\"; \"i\")", true),
    (".data.s | test(\"^Hello\")", true),
    (".data.s | test(\"\\\\bWorld$\")", true),
    (".data.s | test(\"W\" + \"or\")", true),
    (".data.s | test(\"o\"; .data.level)", false),
    (".data.s | test(.data.i)", false),
    (".data.i | test(\"4\")", false),
    (".data.arr | any(. > 2)", true),
    (".data.arr | all(. > 0)", true),
    (".data.arr | all(. > 1)", false),
    ("[true, false] | any", true),
    ("[true, false] | all", false),
    ("[] | any", false),
    ("[] | all", true),
    (".data.i | any", false),
    ("any(.data.arr[]; . == 3)", true),
    ("all(.meta.tags[]; length == 1)", false),
    (".data.o | any(. == \"two\")", true),
    (".data.o | keys == [\"a\", \"b\"]", true),
    (".data.arr | keys == [0, 1, 2]", true),
    (".data.i | keys", false),
    (".data.s | type == \"string\"", true),
    ("[.data.n, .data.b, .data.i, .data.arr, .data.o] | map(type) == [\"null\", \"boolean\", \"number\", \"array\", \"object\"]", true),
    (".data.i | tostring == \"4\"", true),
    (".data.arr | tostring == \"[1,2,3]\"", true),
    (".data.s | tostring == \"Hello World\"", true),
    (".data.num_str | tonumber == 42", true),
    (".data.i | tonumber == 4", true),
    (".data.s | tonumber", false),
    (".data.arr | map(. * 10) == [10, 20, 30]", true),
    (".data.o | map(type) == [\"number\", \"string\"]", true),
    (".data.i | map(.)", false),
    ("select(.seq == 3)", true),
    ("select(.seq == 4)", false),
    (".data.arr[] | select(. == 2)", true),
    ("empty", false),
    ("[empty] == []", true),
    (".data.arr[] | . > 2", true),
    (".data.arr[] | . > 5", false),
    // if
    ("if .data.i > 3 then true else false end", true),
    ("if .data.i > 5 then false elif .data.i == 4 then \"yes\" else false end", true),
    ("if .data.i > 10 then false end | .seq == 3", true),
    ("if .data.s.x then true else true end", false),
    // try
    (".data.s.x?", false),
    ("[.data.s.x?] == []", true),
    (".data.i[]?", false),
    ("[.data.i[]?] == []", true),
    ("[(.data.arr[] | 1 / (. - 2))?] == [-1]", true),
    ("(.data.s | length)? == 11", true),
    // errors versus truthy outputs
    ("(.data.s.x, true)", false),
    ("(true, .data.s.x)", true),
    // comments
    (".seq == 3 # trailing comment", true),
];

#[test]
fn envelope_table() {
    assert!(ENVELOPE_CASES.len() >= 80);
    let env = envelope();
    for (src, expected) in ENVELOPE_CASES {
        let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(
            f.matches(&env),
            Ok(*expected),
            "{src} => {:?}",
            f.eval(&env)
        );
    }
}

#[test]
fn fast_path_and_generic_path_agree() {
    let env = envelope();
    for (src, expected) in ENVELOPE_CASES {
        let fast = Filter::parse(src).unwrap();
        let slow = fast.clone().without_fast_path();
        assert_eq!(slow.matches(&env), Ok(*expected), "{src}");
        assert_eq!(fast.eval(&env), slow.eval(&env), "{src}");
    }
}

#[test]
fn filter_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Filter>();
}

#[test]
fn error_types_display_their_messages() {
    let e = Filter::parse(".a | test(\"a{2,1}\")").unwrap_err();
    assert_eq!(e.pos, 10);
    assert!(
        e.to_string()
            .starts_with("parse error at position 10: invalid regex:"),
        "{e}"
    );
    let e = Filter::parse(".x").unwrap().eval(&json!(1)).unwrap_err();
    assert_eq!(e.to_string(), "cannot index number (1) with \"x\"");
}

/// (expression, input JSON, expected match) for non-envelope inputs.
const INPUT_CASES: &[(&str, &str, bool)] = &[
    ("[1, 2][0] == 1", "null", true),
    ("{\"a b\"} == {\"a b\": 2}", "{\"a b\": 2}", true),
    (".end == 1 and .if == 2", "{\"end\": 1, \"if\": 2}", true),
    ("[\"x\" | .a?] == []", "null", true),
    ("1e100 | tostring == \"1e+100\"", "null", true),
    ("test(\"a\"; null)", "\"cat\"", true),
    (
        ".time >= \"2026-01-01T12\"",
        "{\"time\": \"2026-01-01T12:00:00.000000000Z\"}",
        true,
    ),
    (".[0] == 7", "[7]", true),
    (".a", "5", false),
    (".[]", "5", false),
    ("length == 0", "null", true),
    (". == 1", "1.0", true),
    (".a.b.c", "{\"a\": null}", false),
    (".a.b.c == null", "{\"a\": null}", true),
    ("keys == [\"a\", \"b\"]", "{\"b\": 1, \"a\": 2}", true),
    (
        "tostring == \"{\\\"a\\\":[1,\\\"x\\\"]}\"",
        "{\"a\": [1, \"x\"]}",
        true,
    ),
];

#[test]
fn input_table() {
    for (src, input, expected) in INPUT_CASES {
        let f = Filter::parse(src).unwrap();
        let v: Value = serde_json::from_str(input).unwrap();
        assert_eq!(f.matches(&v), Ok(*expected), "{src} on {input}");
    }
}

/// (expression, expected error position).
const PARSE_ERRORS: &[(&str, usize)] = &[
    ("", 0),
    ("(.a", 3),
    (".a ==", 5),
    (".a == 1 == 2", 8),
    (")", 0),
    (".a | ", 5),
    ("foo", 0),
    ("length(1)", 0),
    ("test(\"(\")", 5),
    ("test(\"a\"; \"g\")", 10),
    ("[1, 2", 5),
    ("{a 1}", 3),
    ("{(1)}", 4),
    ("if . then 1", 11),
    (".a[1:2]", 4),
    ("1 +", 3),
    ("\"abc", 0),
    (".a.b ||", 6),
    ("and", 0),
    (".a = 1", 3),
    ("$x", 0),
    ("..", 0),
    ("-", 1),
    ("1 2", 2),
    (".a | select(.b", 14),
    ("\"é\" | bad", 6),
    ("{a: 1,}", 6),
    ("[1,,2]", 3),
];

#[test]
fn parse_error_table() {
    for (src, pos) in PARSE_ERRORS {
        let e = Filter::parse(src).expect_err(src);
        assert_eq!(e.pos, *pos, "{src}: {e}");
    }
}

#[test]
fn parse_error_display_format() {
    let e = Filter::parse("(.a | .b").unwrap_err();
    assert_eq!(e.to_string(), "parse error at position 8: expected ')'");
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

#[test]
fn deep_nesting_is_a_parse_error_not_a_crash() {
    for open in ["(", "[", "-", "{a:"] {
        let src = open.repeat(8000 / open.len());
        let e = Filter::parse(&src).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{open}: {e}");
    }
    // 10,000 parens also exceed the source limit; still a clean ParseError.
    assert!(Filter::parse(&"(".repeat(10_000)).is_err());
}

#[test]
fn depth_limit_edges() {
    let max = crate::limits::FILTER_DEPTH_MAX;
    let ok = Filter::parse(&nested("[", "1", "]", max)).unwrap();
    assert!(ok.matches(&Value::Null).unwrap());
    assert!(Filter::parse(&nested("[", "1", "]", max + 1)).is_err());
    assert!(Filter::parse(&nested("(", "1", ")", max)).is_ok());
    assert!(Filter::parse(&nested("(", "1", ")", max + 1)).is_err());
    assert!(Filter::parse(&".a".repeat(max)).is_ok());
    assert!(Filter::parse(&".a".repeat(max + 1)).is_err());
    let sum = format!("1{}", " + 1".repeat(max));
    assert!(Filter::parse(&sum).unwrap().matches(&Value::Null).unwrap());
    assert!(Filter::parse(&format!("{sum} + 1")).is_err());
}

#[test]
fn associative_chains_are_balanced_not_deep() {
    let or = format!("false{}", " or null".repeat(900));
    assert!(!Filter::parse(&or).unwrap().matches(&Value::Null).unwrap());
    let pipe = format!("1{}", "|.".repeat(1000));
    assert!(Filter::parse(&pipe).unwrap().matches(&Value::Null).unwrap());
    let comma = format!("[0{}] | length == 1001", ",1".repeat(1000));
    assert!(Filter::parse(&comma)
        .unwrap()
        .matches(&Value::Null)
        .unwrap());
    let alt = format!("null{}//5", "//null".repeat(1000));
    assert_eq!(
        Filter::parse(&alt).unwrap().eval(&Value::Null).unwrap(),
        vec![json!(5)]
    );
}

#[test]
fn eval_returns_all_outputs_in_order() {
    let f = Filter::parse(".data.arr[], .seq").unwrap();
    assert_eq!(
        f.eval(&envelope()).unwrap(),
        vec![json!(1), json!(2), json!(3), json!(3)]
    );
    let f = Filter::parse("[.data.o[]] | .[1]").unwrap();
    assert_eq!(f.eval(&envelope()).unwrap(), vec![json!("two")]);
}

#[test]
fn eval_reports_error_kinds() {
    let env = envelope();
    let kind = |src: &str| Filter::parse(src).unwrap().eval(&env).unwrap_err().kind;
    assert_eq!(kind(".data.s.x"), EvalErrorKind::Type);
    assert_eq!(kind(".data.i / 0"), EvalErrorKind::DivisionByZero);
    assert_eq!(kind(".data.i * 1e308 * 1e10"), EvalErrorKind::NumberRange);
    assert_eq!(kind(".data.s | test(\"(\" + \"\")"), EvalErrorKind::Regex);
}

#[test]
fn try_does_not_swallow_downstream_errors() {
    let env = envelope();
    let e = Filter::parse("(.data.i)? | .x")
        .unwrap()
        .eval(&env)
        .unwrap_err();
    assert_eq!(e.kind, EvalErrorKind::Type);
    let e = Filter::parse("(.data.i // 1) | .x")
        .unwrap()
        .eval(&env)
        .unwrap_err();
    assert_eq!(e.kind, EvalErrorKind::Type);
}

#[test]
fn outputs_limit_is_not_suppressed_by_try() {
    let big = Value::Array(vec![json!(1); crate::limits::FILTER_OUTPUTS_MAX + 1]);
    let f = Filter::parse("[.[]?] | length").unwrap();
    assert_eq!(f.eval(&big).unwrap_err().kind, EvalErrorKind::OutputsLimit);
    let undecided = Filter::parse("(.[] | false) // true")
        .unwrap()
        .matches(&big)
        .unwrap_err();
    assert_eq!(undecided.kind, EvalErrorKind::OutputsLimit);
}

#[test]
fn generator_blowup_hits_outputs_limit() {
    let src = format!("[{}] | length", "(1,2,3,4,5,6,7,8,9,10) + ".repeat(6) + "0");
    let e = Filter::parse(&src).unwrap().eval(&Value::Null).unwrap_err();
    assert_eq!(e.kind, EvalErrorKind::OutputsLimit);
}

#[test]
fn doubling_construction_hits_alloc_limit() {
    let src = format!(
        "\"{}\"{} | length > 0",
        "x".repeat(64),
        " | [., .]".repeat(40)
    );
    let f = Filter::parse(&src).unwrap();
    assert_eq!(
        f.eval(&Value::Null).unwrap_err().kind,
        EvalErrorKind::AllocLimit
    );
    assert_eq!(
        f.matches(&Value::Null).unwrap_err().kind,
        EvalErrorKind::AllocLimit
    );
}

#[test]
fn catastrophic_regex_answers_both_ways() {
    let f = Filter::parse(".data | test(\"(a*)*b\")").unwrap();
    let env = json!({"data": "a".repeat(5000)});
    assert_eq!(f.matches(&env), Ok(false));
    let ok = json!({"data": format!("{}b", "a".repeat(5000))});
    assert_eq!(f.matches(&ok), Ok(true));
}

/// Issue 15: this predicate used to be neither true nor false (a step budget ran out).
#[test]
fn word_run_regex_and_its_negation_partition_messages() {
    let subject = "the quick brown fox jumps over the lazy dog while running!";
    let env = json!({"data": subject});
    let f = Filter::parse(".data | test(\"^(\\\\w+\\\\s?)*$\")").unwrap();
    let not = Filter::parse(".data | test(\"^(\\\\w+\\\\s?)*$\") | not").unwrap();
    assert_eq!(f.matches(&env), Ok(false));
    assert_eq!(not.matches(&env), Ok(true));
    let clean = json!({"data": "the quick brown fox"});
    assert_eq!(f.matches(&clean), Ok(true));
    assert_eq!(not.matches(&clean), Ok(false));
}

#[test]
fn matches_all_ands_filters() {
    let env = envelope();
    let a = Filter::parse(".seq == 3").unwrap();
    let b = Filter::parse(".data.b").unwrap();
    let c = Filter::parse(".data.n").unwrap();
    assert_eq!(matches_all(&[], &env), Ok(true));
    assert_eq!(matches_all(&[a.clone(), b.clone()], &env), Ok(true));
    assert_eq!(matches_all(&[a, b, c], &env), Ok(false));
}

#[test]
fn owned_intermediates_are_indexed_without_errors() {
    let env = envelope();
    let f = Filter::parse("{x: .data.objs} | .x[1].k == \"y\"").unwrap();
    assert!(f.matches(&env).unwrap());
    let f = Filter::parse("[.data.arr[] + 1] | .[length - 1] == 4").unwrap();
    assert!(f.matches(&env).unwrap());
    let f = Filter::parse("(.data.o + {}) | .[\"b\"] == \"two\"").unwrap();
    assert!(f.matches(&env).unwrap());
    let f = Filter::parse("[.data.objs[]] | map(.v) | .[] == 2").unwrap();
    assert!(f.matches(&env).unwrap());
}
