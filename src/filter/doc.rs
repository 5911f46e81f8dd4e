//! The `--where` language as tables: its builtins (the resolver admits exactly these names and
//! arities), operators, regex syntax and examples. `plasmite help where` renders them, and the tests
//! below run every example through the parser, the evaluator and the regex engine, so the help cannot
//! describe a language the evaluator does not speak.

/// One builtin function.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinDoc {
    pub name: &'static str,
    pub arity: usize,
    /// How it is written, e.g. `test(re; flags)`.
    pub usage: &'static str,
    pub help: &'static str,
}

/// Every builtin, in help order. `builtins::resolve_builtin` refuses any (name, arity) not listed.
pub static BUILTINS: &[BuiltinDoc] = &[
    b(
        "select",
        1,
        "select(f)",
        "the input if f is truthy, else nothing",
    ),
    b("not", 0, "not", "true for false and null, else false"),
    b("empty", 0, "empty", "no output"),
    b(
        "has",
        1,
        "has(k)",
        "object has key k / array index k is in range",
    ),
    b(
        "contains",
        1,
        "contains(x)",
        "substring, sub-array or sub-object test",
    ),
    b("startswith", 1, "startswith(s)", "string prefix test"),
    b("endswith", 1, "endswith(s)", "string suffix test"),
    b(
        "test",
        1,
        "test(re)",
        "the regex re matches somewhere in the input string",
    ),
    b(
        "test",
        2,
        "test(re; flags)",
        "flags: \"i\" case-insensitive, \"x\" extended",
    ),
    b(
        "length",
        0,
        "length",
        "chars of a string, elements, keys; |number|; null is 0",
    ),
    b(
        "ascii_downcase",
        0,
        "ascii_downcase",
        "lowercase ASCII letters",
    ),
    b("ascii_upcase", 0, "ascii_upcase", "uppercase ASCII letters"),
    b("any", 0, "any", "some element of the input is truthy"),
    b("all", 0, "all", "every element of the input is truthy"),
    b("any", 1, "any(f)", "f is truthy for some element"),
    b("all", 1, "all(f)", "f is truthy for every element"),
    b(
        "any",
        2,
        "any(gen; f)",
        "f is truthy for some output of gen",
    ),
    b(
        "all",
        2,
        "all(gen; f)",
        "f is truthy for every output of gen",
    ),
    b(
        "keys",
        0,
        "keys",
        "sorted keys of an object, indices of an array",
    ),
    b(
        "type",
        0,
        "type",
        "\"null\", \"boolean\", \"number\", \"string\", \"array\", \"object\"",
    ),
    b(
        "tostring",
        0,
        "tostring",
        "strings as is, anything else as JSON text",
    ),
    b(
        "tonumber",
        0,
        "tonumber",
        "a number, or a string holding a decimal number",
    ),
    b("map", 1, "map(f)", "[.[] | f]"),
];

const fn b(
    name: &'static str,
    arity: usize,
    usage: &'static str,
    help: &'static str,
) -> BuiltinDoc {
    BuiltinDoc {
        name,
        arity,
        usage,
        help,
    }
}

/// Is `name/arity` a builtin?
pub fn is_builtin(name: &str, arity: usize) -> bool {
    BUILTINS.iter().any(|b| b.name == name && b.arity == arity)
}

/// Operators and path syntax, lowest precedence first: (syntax, meaning).
pub static OPERATORS: &[(&str, &str)] = &[
    ("a | b", "feed each output of a into b"),
    ("a, b", "the outputs of a, then those of b"),
    (
        "a // b",
        "the truthy outputs of a, or else the outputs of b",
    ),
    ("a or b", "boolean or (b only if a is falsy)"),
    ("a and b", "boolean and (b only if a is truthy)"),
    (
        "== != < <= > >=",
        "comparison, jq's order: null < false < true < numbers < strings < arrays < objects",
    ),
    ("+ -", "add (numbers, strings, arrays, objects) / subtract"),
    (
        "* / %",
        "multiply, divide (a string by a string splits it), remainder",
    ),
    ("-a", "negation"),
    (
        "if c then a elif d then b else e end",
        "conditional (else optional)",
    ),
    (
        ".a  .\"a b\"  .[0]  .[]  .a?",
        "field, quoted field, index, every element, errors suppressed",
    ),
    ("[ ... ]  { k: v }", "array and object construction"),
];

/// The regex subset of `test`: (syntax, meaning).
pub static REGEX_SYNTAX: &[(&str, &str)] = &[
    (".", "any character except newline"),
    ("^  $", "start; end (or just before a final newline)"),
    (
        "[abc] [a-z] [^0-9]",
        "character class, range, negated class",
    ),
    (
        "\\d \\w \\s  \\D \\W \\S",
        "ASCII digit, word char, whitespace; and their negations",
    ),
    ("\\b \\B", "word boundary; not a word boundary"),
    (
        "\\t \\n \\r \\f \\v  \\.",
        "control characters; a backslash makes punctuation literal",
    ),
    ("(...) (?:...)", "grouping (nothing is captured)"),
    ("a|b", "alternation"),
    (
        "* + ? {m} {m,} {m,n}",
        "repetition, greedy (counts up to 1000)",
    ),
    ("*? +? ?? {..}?", "lazy repetition"),
];

/// Examples: (expression, what it selects). Each parses (tested below).
pub static EXAMPLES: &[(&str, &str)] = &[
    (
        ".data.level == \"error\"",
        "messages whose data has level \"error\"",
    ),
    (
        ".data.ms > 500 and .data.path != \"/health\"",
        "slow requests, except health checks",
    ),
    (
        ".meta.tags | any(. == \"deploy\")",
        "messages tagged deploy",
    ),
    (
        ".data.user | test(\"^ad(min)?$\"; \"i\")",
        "a user named ad or admin, any case",
    ),
    (".data | has(\"trace\")", "data objects with a trace key"),
    (
        ".time >= \"2026-01-01T12\"",
        "messages committed since noon UTC on 1 January 2026",
    ),
    (
        "(.data.tags // []) | length > 2",
        "more than two data tags (none counts as zero)",
    ),
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::filter::Filter;

    fn call_src(d: &BuiltinDoc) -> String {
        match d.arity {
            0 => d.name.to_owned(),
            1 if d.name == "test" => format!("{}(\"a\")", d.name),
            2 if d.name == "test" => format!("{}(\"a\"; \"i\")", d.name),
            n => format!("{}({})", d.name, vec!["."; n].join("; ")),
        }
    }

    #[test]
    fn every_documented_builtin_parses_and_no_other_arity_does() {
        for d in BUILTINS {
            let src = call_src(d);
            assert!(Filter::parse(&src).is_ok(), "{src}");
            assert!(d.usage.starts_with(d.name), "{}", d.usage);
            for other in 0..4 {
                if !is_builtin(d.name, other) {
                    let args = vec!["."; other].join("; ");
                    let src = if other == 0 {
                        d.name.to_owned()
                    } else {
                        format!("{}({args})", d.name)
                    };
                    assert!(Filter::parse(&src).is_err(), "{src} is not documented");
                }
            }
        }
        for unknown in ["sort", "split(\",\")", "ltrimstr(\"a\")", "env"] {
            assert!(Filter::parse(unknown).is_err(), "{unknown}");
        }
    }

    #[test]
    fn examples_parse_and_select_what_they_say() {
        for (src, _) in EXAMPLES {
            assert!(Filter::parse(src).is_ok(), "{src}");
        }
        let env = serde_json::json!({"seq": 1, "time": "2026-01-02T00:00:00.000000000Z",
            "meta": {"tags": ["deploy"]},
            "data": {"level": "error", "ms": 900, "path": "/x", "user": "Admin", "trace": 1, "tags": [1, 2, 3]}});
        for (src, _) in EXAMPLES {
            assert_eq!(Filter::parse(src).unwrap().matches(&env), Ok(true), "{src}");
        }
    }

    #[test]
    fn regex_rows_name_syntax_the_engine_accepts() {
        for (syntax, _) in REGEX_SYNTAX {
            for token in syntax.split_whitespace() {
                let pattern = match token {
                    "{..}?" => "a{2}?",
                    "{m}" => "a{2}",
                    "{m,}" => "a{2,}",
                    "{m,n}" => "a{1,3}",
                    "*" | "+" | "?" | "*?" | "+?" | "??" => &format!("a{token}"),
                    t => t,
                };
                assert!(
                    crate::filter::regex::Regex::new(pattern, "").is_ok(),
                    "{token} ({pattern})"
                );
            }
        }
    }
}
