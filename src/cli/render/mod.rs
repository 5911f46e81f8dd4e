//! What the management commands (`pool create|list|info|delete`, `doctor`) print: a human format on
//! a terminal, JSON on a pipe (or when forced with `--json` / `--format jsonl|pretty`).
//!
//! Owns the output mode decision, the pure formatting helpers (sizes, ages, aligned tables, colour)
//! and, in its submodules, each command's two renderings. Invariants: every function here is pure
//! (text in, text out; the clock and the terminal are read by the caller); JSON objects keep the key
//! order spec/cli.md promises (written with [`json::Obj`]); the human format never goes to a pipe
//! unless asked, and carries colour only when [`Paint`] is on.

pub mod doctor;
pub mod json;
pub mod pool;

use std::fmt::Write;

/// How a management command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Aligned text for a person (a terminal, no format forced).
    Human,
    /// One JSON value per line (`pretty` indents it).
    Json { pretty: bool },
}

impl Mode {
    /// Human on a terminal unless a format is forced; JSON Lines on a pipe.
    pub fn resolve(format: Option<crate::cli::args::OutputFormat>, tty: bool) -> Mode {
        use crate::cli::args::OutputFormat;
        match format {
            Some(OutputFormat::Jsonl) => Mode::Json { pretty: false },
            Some(OutputFormat::Pretty) => Mode::Json { pretty: true },
            None if tty => Mode::Human,
            None => Mode::Json { pretty: false },
        }
    }
}

/// ANSI colour for the human format, or none.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.on && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
}

/// `512 B`, `64 KiB`, `1.5 MiB`, `2 GiB` (binary units, one decimal unless whole).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    let u = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 || (v.fract() == 0.0) {
        format!("{v:.0} {u}")
    } else {
        let text = format!("{v:.1}");
        let text = text.strip_suffix(".0").unwrap_or(&text).to_owned();
        format!("{text} {u}")
    }
}

/// How long ago `then_ns` was at `now_ns`: `just now`, `42s ago`, `5m ago`, `3h ago`, `12d ago`.
pub fn age(now_ns: u64, then_ns: u64) -> String {
    let s = now_ns.saturating_sub(then_ns) / 1_000_000_000;
    match s {
        0 => "just now".to_owned(),
        1..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// An aligned table: `header` in bold, then `rows`; `right[i]` right-aligns column i. Widths count
/// chars; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>], right: &[bool], paint: Paint) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.into_iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            let pad = w.saturating_sub(cell.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i < last {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint.bold(&line(header.to_vec())));
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// `1..12`, or `-` when empty.
pub fn seq_range(bounds: Option<(u64, u64)>) -> String {
    match bounds {
        Some((o, n)) => format!("{o}..{n}"),
        None => "-".to_owned(),
    }
}

/// `1 pool`, `2 pools`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1024), "1 KiB");
        assert_eq!(size(64 * 1024), "64 KiB");
        assert_eq!(size(1536 * 1024), "1.5 MiB");
        assert_eq!(size(1 << 30), "1 GiB");
        assert_eq!(size(1_048_000), "1023.4 KiB");
    }

    #[test]
    fn ages_round_down_to_one_unit() {
        let s = 1_000_000_000u64;
        assert_eq!(age(10 * s, 10 * s), "just now");
        assert_eq!(
            age(10 * s, 20 * s),
            "just now",
            "a clock step back is not negative"
        );
        assert_eq!(age(100 * s, 58 * s), "42s ago");
        assert_eq!(age(400 * s, 100 * s), "5m ago");
        assert_eq!(age(3 * 3600 * s + 5, 0), "3h ago");
        assert_eq!(age(12 * 86_400 * s, 0), "12d ago");
    }

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["a".to_owned(), "1".to_owned(), "x".to_owned()],
            vec!["long-name".to_owned(), "1234".to_owned(), "y".to_owned()],
        ];
        let t = table(
            &["NAME", "N", "LAST"],
            &rows,
            &[false, true, false],
            Paint { on: false },
        );
        assert_eq!(
            t,
            "NAME          N  LAST\na             1  x\nlong-name  1234  y\n"
        );
        let c = table(&["A"], &[], &[false], Paint { on: true });
        assert_eq!(c, "\x1b[1mA\x1b[0m\n");
    }

    #[test]
    fn mode_is_human_only_on_a_terminal_without_a_forced_format() {
        use crate::cli::args::OutputFormat;
        assert_eq!(Mode::resolve(None, true), Mode::Human);
        assert_eq!(Mode::resolve(None, false), Mode::Json { pretty: false });
        assert_eq!(
            Mode::resolve(Some(OutputFormat::Jsonl), true),
            Mode::Json { pretty: false }
        );
        assert_eq!(
            Mode::resolve(Some(OutputFormat::Pretty), false),
            Mode::Json { pretty: true }
        );
    }
}
