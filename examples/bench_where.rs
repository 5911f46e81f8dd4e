//! `--where` regex benchmark: catastrophic patterns for a backtracking matcher, answered by the
//! linear-time Pike VM.
//!
//! `cargo run --release --example bench_where`
//!
//! Each case evaluates one `test(re)` predicate through the public `Filter` API (parse once, then
//! `matches` on one message envelope) and prints the answer and the median time of one evaluation
//! over several runs, then one JSON object on the last line.

use plasmite::filter::Filter;
use serde_json::json;
use std::time::Instant;

const RUNS: usize = 7;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median milliseconds of one `matches` call, and its answer.
fn time_case(pattern: &str, subject: &str) -> (f64, bool) {
    let src = format!(".data | test({})", serde_json::to_string(pattern).unwrap());
    let f = Filter::parse(&src).unwrap();
    let env = json!({"seq": 1, "data": subject});
    let mut times = Vec::new();
    let mut answer = false;
    for _ in 0..RUNS {
        let t = Instant::now();
        answer = f
            .matches(&env)
            .expect("a regex predicate is always decided");
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (median(times), answer)
}

fn main() {
    let a10k = "a".repeat(10_000);
    let a10k_b = format!("{a10k}b");
    let words = "the quick brown fox jumps over the lazy dog while running!".repeat(10);
    let cases: Vec<(&str, &str, &str)> = vec![
        ("(a|aa)*$ on 10 000 a", "^(a|aa)*$", &a10k),
        ("(a|aa)*$ on 10 000 a + b", "^(a|aa)*$", &a10k_b),
        ("(a*)*b on 10 000 a", "(a*)*b", &a10k),
        ("(a+)+b on 10 000 a", "(a+)+b", &a10k),
        ("(\\w+\\s?)*$ on 580 B of words", "^(\\w+\\s?)*$", &words),
    ];
    println!("{:<34} {:>7} {:>10}", "case", "answer", "median ms");
    let mut json = serde_json::Map::new();
    for (name, pat, subject) in cases {
        let (ms, answer) = time_case(pat, subject);
        println!("{name:<34} {answer:>7} {ms:>10.3}");
        json.insert(name.to_owned(), json!({"answer": answer, "median_ms": ms}));
    }
    println!("{}", serde_json::Value::Object(json));
}
