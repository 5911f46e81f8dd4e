//! What a person at a terminal sees: pretty colour output, `error:`/`hint:` lines, and compact lines
//! for streams. Runs the binary under a pseudo-terminal with util-linux `script`.

use crate::support::{bin, pls, TempDir};

/// Runs `plasmite --dir DIR ARGS` on a pseudo-terminal (stdout and stderr both), optional stdin file.
pub(crate) fn on_tty(
    dir: &std::path::Path,
    args: &str,
    stdin_file: Option<&std::path::Path>,
) -> String {
    let redirect = stdin_file
        .map(|f| format!(" < {}", f.display()))
        .unwrap_or_default();
    let cmd = format!(
        "{} --dir {} {args}{redirect}",
        bin().display(),
        dir.display()
    );
    let out = crate::procs::output_bounded(
        std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::null()),
    );
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn errors_on_a_terminal_are_an_error_line_and_a_hint() {
    let t = TempDir::new("tty-err");
    let out = on_tty(t.path(), "get nope 1", None);
    assert!(out.starts_with("error: pool not found"), "{out:?}");
    assert!(out.contains("\nhint: "), "{out:?}");
    assert!(
        !out.contains("{\"error\""),
        "no JSON on a terminal: {out:?}"
    );
}

#[test]
fn single_values_are_pretty_and_coloured_on_a_terminal() {
    let t = TempDir::new("tty-pretty");
    pls(t.path(), &["poke", "p", "--create", r#"{"k":"v"}"#], None);
    let out = on_tty(t.path(), "get p 1", None);
    assert!(out.contains("\u{1b}["), "colour on a terminal: {out:?}");
    assert!(
        out.lines().count() > 5,
        "indented over several lines: {out:?}"
    );
    let plain = on_tty(t.path(), "--color never get p 1", None);
    assert!(
        !plain.contains('\u{1b}') && plain.contains("\n  \"data\": {"),
        "{plain:?}"
    );
}

#[test]
fn streams_print_one_compact_line_per_message_even_on_a_terminal() {
    let t = TempDir::new("tty-stream");
    let input = t.join("in.jsonl");
    std::fs::write(&input, "{\"a\":1}\n{\"a\":2}\n").unwrap();
    let out = on_tty(t.path(), "poke s --create", Some(&input));
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("{\"seq\":") && !l.contains('\u{1b}')),
        "{out:?}"
    );
}

#[test]
fn poke_without_data_on_a_terminal_says_what_to_do() {
    let t = TempDir::new("tty-nodata");
    pls(t.path(), &["pool", "create", "p"], None);
    let cmd = format!("{} --dir {} poke p", bin().display(), t.path().display());
    let out = crate::procs::output_bounded(
        std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .stdin(std::process::Stdio::null()),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("error: no DATA given and stdin is a terminal"),
        "{text:?}"
    );
    assert_eq!(out.status.code(), Some(2));
}
