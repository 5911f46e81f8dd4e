//! Help pages rendered from the command table and THE flag table (no hand-written
//! per-command flag lists).
//!
//! Invariants: every command path in [`crate::cli::commands::COMMANDS`] has a page;
//! every flag the table lists for a command appears on that command's page; output is
//! plain ASCII-safe text ending in a newline, with no terminal escapes.

use crate::cli::args::{unknown_topic, UsageError};
use crate::cli::commands::{self, CommandId, CommandSpec};
use crate::cli::flags::{self, FlagSpec};
use std::fmt::Write as _;

/// Renders the top-level help (`None`) or the page for a command path such as
/// `"peek"` or `"pool create"` (extra whitespace is ignored).
pub fn render(topic: Option<&str>) -> Result<String, UsageError> {
    let Some(topic) = topic else {
        return Ok(render_top());
    };
    let normalized = topic.split_whitespace().collect::<Vec<_>>().join(" ");
    if normalized == WHERE_TOPIC {
        return Ok(render_where());
    }
    match commands::resolve(&normalized) {
        Some(spec) => Ok(render_command(spec)),
        None => Err(unknown_topic(topic)),
    }
}

/// The help topic that is not a command: the `--where` language.
pub const WHERE_TOPIC: &str = "where";

/// `help where`: the `--where` language, rendered from the tables in `filter::doc` (the same tables
/// the builtin resolver admits and the tests run).
fn render_where() -> String {
    use crate::filter::doc::{BUILTINS, EXAMPLES, OPERATORS, REGEX_SYNTAX};
    let mut out = String::from(
        "plasmite help where - the --where filter language

",
    );
    out.push_str(
        "Usage: plasmite peek POOL --where EXPR [--where EXPR ...]

",
    );
    wrap_into(
        &mut out,
        "EXPR is a subset of jq, evaluated against each message envelope {\"seq\":N,\"time\":\"RFC 3339\",\"meta\":{\"tags\":[...]},\"data\":...}. A message is shown when some output of EXPR is truthy (anything but false and null); every --where must match. A runtime error (a type error, a division by zero) means no match. A limit that stops evaluation leaves the message undecided: it is not shown and the first one is reported on stderr.",
        WRAP_COLUMNS,
    );
    out.push_str(
        "
Operators and paths (lowest precedence first):\n",
    );
    let rows: Vec<_> = OPERATORS
        .iter()
        .map(|(s, h)| ((*s).to_owned(), (*h).to_owned()))
        .collect();
    write_rows(&mut out, &rows);
    out.push_str(
        "
Builtins:\n",
    );
    let rows: Vec<_> = BUILTINS
        .iter()
        .map(|b| (b.usage.to_owned(), b.help.to_owned()))
        .collect();
    write_rows(&mut out, &rows);
    out.push_str(
        "
Regular expressions for test (unanchored; double backslashes in strings):\n",
    );
    let rows: Vec<_> = REGEX_SYNTAX
        .iter()
        .map(|(s, h)| ((*s).to_owned(), (*h).to_owned()))
        .collect();
    write_rows(&mut out, &rows);
    out.push_str(
        "
Examples:\n",
    );
    for (expr, what) in EXAMPLES {
        let _ = writeln!(out, "  plasmite peek POOL --where '{expr}'\n      {what}");
    }
    out.push_str(
        "
Not supported: variables, reduce, def, try/catch (use ?), slices, string interpolation,\n",
    );
    out.push_str("assignment and any builtin not listed. spec/cli.md has the full reference.\n");
    out
}

/// Width that description paragraphs are wrapped to.
const WRAP_COLUMNS: usize = 80;

/// Appends `text` word-wrapped to `width` columns, ending with a newline.
fn wrap_into(out: &mut String, text: &str, width: usize) {
    let mut column = 0;
    for word in text.split_whitespace() {
        if column > 0 && column + 1 + word.len() > width {
            out.push('\n');
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.len();
    }
    out.push('\n');
}

/// Writes `rows` as a two-column list indented by two spaces.
fn write_rows(out: &mut String, rows: &[(String, String)]) {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (left, right) in rows {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "  {left:<width$}  {right}");
    }
}

/// The right-hand column for a flag: help plus values, default and repeatability.
fn flag_text(flag: &FlagSpec) -> String {
    let mut text = flag.help.to_owned();
    if !flag.choices.is_empty() {
        let _ = write!(text, " [values: {}]", flag.choices.join(", "));
    }
    if let Some(d) = flag.default {
        let _ = write!(text, " [default: {d}]");
    }
    if flag.repeatable {
        text.push_str(" [repeatable]");
    }
    text
}

fn flag_rows(cmd: CommandId) -> Vec<(String, String)> {
    flags::for_command(cmd)
        .map(|f| (f.display(), flag_text(f)))
        .collect()
}

fn render_top() -> String {
    let mut out = String::new();
    out.push_str("plasmite - persistent JSON message pools (also installed as pls)\n\n");
    out.push_str("Usage: plasmite [GLOBAL FLAGS] COMMAND [ARGS]\n\nCommands:\n");
    let rows: Vec<_> = commands::top_level()
        .map(|c| match commands::alias_of(c.id) {
            Some(alias) => (format!("{}, {alias}", c.path), c.summary.to_owned()),
            None => (c.path.to_owned(), c.summary.to_owned()),
        })
        .collect();
    write_rows(&mut out, &rows);
    out.push_str("\nGlobal flags (before the command):\n");
    write_rows(&mut out, &flag_rows(CommandId::Root));
    out.push_str(
        "\nRun 'plasmite help COMMAND' or 'plasmite COMMAND --help' for a command's flags.\n",
    );
    out
}

fn render_command(spec: &CommandSpec) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "plasmite {} - {}\n", spec.path, spec.summary);
    let usage = if spec.usage.is_empty() {
        format!("plasmite {}", spec.path)
    } else {
        format!("plasmite {} {}", spec.path, spec.usage)
    };
    let _ = writeln!(out, "Usage: {usage}");
    if let Some(alias) = commands::alias_of(spec.id) {
        let _ = writeln!(
            out,
            "   or: plasmite {alias} {} (a second name: same flags, same output)",
            spec.usage
        );
    }
    out.push('\n');
    wrap_into(&mut out, spec.description, WRAP_COLUMNS);
    if !spec.args.is_empty() {
        out.push_str("\nArguments:\n");
        let rows: Vec<_> = spec
            .args
            .iter()
            .map(|a| (a.name.to_owned(), a.help.to_owned()))
            .collect();
        write_rows(&mut out, &rows);
    }
    let subs: Vec<_> = commands::subcommands(spec.path)
        .map(|c| {
            (
                c.path.rsplit(' ').next().unwrap_or(c.path).to_owned(),
                c.summary.to_owned(),
            )
        })
        .collect();
    if !subs.is_empty() {
        out.push_str("\nSubcommands:\n");
        write_rows(&mut out, &subs);
    }
    out.push_str("\nFlags:\n");
    write_rows(&mut out, &flag_rows(spec.id));
    if !subs.is_empty() {
        let _ = writeln!(
            out,
            "\nRun 'plasmite {} SUBCOMMAND --help' for a subcommand's flags.",
            spec.path
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::UsageErrorKind;
    use crate::cli::commands::COMMANDS;

    fn page(topic: &str) -> String {
        render(Some(topic)).unwrap_or_else(|e| panic!("{topic}: {e}"))
    }

    #[test]
    fn top_level_lists_commands_and_global_flags() {
        let top = render(None).unwrap_or_default();
        for c in commands::top_level() {
            assert!(top.contains(&format!("  {}", c.path)), "{}", c.path);
            assert!(top.contains(c.summary), "{}", c.path);
        }
        for needle in [
            "--dir PATH",
            "--color WHEN",
            "-V, --version",
            "-h, --help",
            "[values: auto, always, never]",
            "(default: ~/.plasmite/pools)",
        ] {
            assert!(top.contains(needle), "{needle}\n{top}");
        }
        assert!(!top.contains("--tail"));
    }

    #[test]
    fn every_command_has_a_page_with_its_flags() {
        for spec in COMMANDS {
            let text = page(spec.path);
            assert!(
                text.contains(&format!("Usage: plasmite {}", spec.path)),
                "{}",
                spec.path
            );
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(spec.description), "{}", spec.path);
            for flag in flags::for_command(spec.id) {
                assert!(
                    text.contains(&flag.display()),
                    "{} lacks --{}",
                    spec.path,
                    flag.long
                );
                assert!(
                    text.contains(flag.help),
                    "{} lacks help of --{}",
                    spec.path,
                    flag.long
                );
            }
            for arg in spec.args {
                assert!(text.contains(arg.name), "{} lacks {}", spec.path, arg.name);
            }
            assert!(text.ends_with('\n') && text.is_ascii(), "{}", spec.path);
        }
    }

    #[test]
    fn pages_show_values_defaults_and_repeatable() {
        let poke = page("poke");
        assert!(poke.contains("--durability MODE"));
        assert!(poke.contains("[values: fast, flush] [default: fast]"));
        assert!(poke.contains("[values: auto, jsonl, json, seq, jq, event-stream]"));
        assert!(poke.contains("--tag TAG") && poke.contains("[repeatable]"));
        let peek = page("peek");
        assert!(peek.contains("-n, --tail N"));
        assert!(peek.contains("[values: jsonl, pretty]"));
        assert!(!peek.contains("--durability"));
    }

    #[test]
    fn group_pages_list_subcommands() {
        let pool = page("pool");
        for sub in ["create", "list", "info", "delete"] {
            assert!(pool.contains(&format!("  {sub}")), "{sub}");
        }
        let serve = page("serve");
        assert!(
            serve.contains("Subcommands:") && serve.contains("  init") && serve.contains("  check")
        );
        assert!(serve.contains("--tls-self-signed"));
        assert!(!page("serve init").contains("--bind"));
    }

    #[test]
    fn descriptions_wrap_at_80_columns() {
        let mut out = String::new();
        wrap_into(&mut out, "aaa bbb ccc", 7);
        assert_eq!(out, "aaa bbb\nccc\n");
        for spec in COMMANDS {
            let text = page(spec.path);
            let desc_lines = text.lines().skip(4).take_while(|l| !l.is_empty());
            for line in desc_lines {
                assert!(line.len() <= WRAP_COLUMNS, "{}: {line}", spec.path);
            }
        }
    }

    #[test]
    fn where_page_lists_every_builtin_operator_and_regex_row() {
        let text = page("where");
        assert_eq!(render(Some(" where ")).ok(), Some(text.clone()));
        for b in crate::filter::doc::BUILTINS {
            assert!(
                text.contains(b.usage) && text.contains(b.help),
                "{}",
                b.usage
            );
        }
        for (s, _) in crate::filter::doc::OPERATORS
            .iter()
            .chain(crate::filter::doc::REGEX_SYNTAX)
        {
            assert!(text.contains(s), "{s}");
        }
        assert!(
            text.contains("--where '.data.level == \"error\"'"),
            "{text}"
        );
        assert!(text.ends_with('\n') && text.is_ascii());
        let peek = page("peek")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(peek.contains("'plasmite help where'"), "{peek}");
    }

    #[test]
    fn topics_ignore_extra_whitespace() {
        assert_eq!(
            render(Some("  pool   create ")).ok(),
            Some(page("pool create"))
        );
    }

    #[test]
    fn unknown_topics_are_usage_errors() {
        for topic in ["nosuch", "", "pool nosuch", "PEEK"] {
            let err = render(Some(topic)).err().map(|e| e.kind);
            assert_eq!(err, Some(UsageErrorKind::UnknownTopic), "{topic:?}");
        }
    }

    #[test]
    fn help_column_is_aligned() {
        let get = page("get");
        let cols: Vec<usize> = flags::for_command(CommandId::Get)
            .filter_map(|f| {
                get.lines()
                    .find(|l| l.contains(&f.display()))
                    .and_then(|l| l.find(f.help))
            })
            .collect();
        assert_eq!(cols.len(), flags::for_command(CommandId::Get).count());
        assert!(cols.windows(2).all(|w| w.first() == w.last()), "{get}");
    }
}
