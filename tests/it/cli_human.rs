//! The management commands (`pool create|list|info|delete`, `doctor`) as a person sees them on a
//! terminal (a table, a summary, one line per pool, empty states that say how to fill them) and as a
//! script sees them on a pipe (JSON Lines, keys in the order spec/cli.md promises).

use crate::cli_tty::on_tty;
use crate::support::{bin, pls, TempDir};

/// The keys of the top-level object of one JSON line, in the order written.
fn top_keys(line: &str) -> Vec<String> {
    let b = line.as_bytes();
    let (mut depth, mut i, mut keys) = (0, 0, Vec::new());
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = b[i] == b'{' && depth == 1;
            }
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let start = i + 1;
                i += 1;
                while b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if expect_key {
                    keys.push(line[start..i].to_owned());
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

const POOL_KEYS: [&str; 15] = [
    "name",
    "path",
    "file_size",
    "index_offset",
    "index_slots",
    "ring_offset",
    "ring_size",
    "bounds",
    "message_count",
    "used_bytes",
    "used_percent",
    "oldest_time",
    "newest_time",
    "created_time",
    "writable",
];

fn no_colour(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            for c in it.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn pool_list_with_no_pools_says_so_and_how_to_make_one() {
    let t = TempDir::new("hum-empty");
    let out = no_colour(&on_tty(t.path(), "pool list", None));
    assert_eq!(
        out,
        format!(
            "no pools in {}\ncreate one with 'plasmite pool create NAME', or 'plasmite poke NAME --create DATA'\n",
            t.path().display()
        )
    );
    let piped = pls(t.path(), &["pool", "list"], None);
    assert_eq!(
        (piped.code, piped.stdout.as_str()),
        (0, ""),
        "no JSON lines on a pipe"
    );
}

#[test]
fn pool_create_and_delete_print_one_line_per_pool() {
    let t = TempDir::new("hum-create");
    let out = no_colour(&on_tty(t.path(), "pool create a b --size 2M", None));
    let dir = t.path().display();
    assert_eq!(
        out,
        format!("created a (2 MiB) at {dir}/a.plasmite\ncreated b (2 MiB) at {dir}/b.plasmite\n")
    );
    let out = no_colour(&on_tty(t.path(), "pool delete a b", None));
    assert_eq!(out, "deleted a\ndeleted b\n");
}

#[test]
fn pool_list_is_a_table_with_a_footer_naming_the_directory() {
    let t = TempDir::new("hum-list");
    pls(
        t.path(),
        &["pool", "create", "empty", "--size", "64K"],
        None,
    );
    for i in 0..3 {
        pls(
            t.path(),
            &["poke", "chat", "--create", &format!("{{\"i\":{i}}}")],
            None,
        );
    }
    let raw = on_tty(t.path(), "pool list", None);
    assert!(
        raw.contains("\u{1b}[1mNAME"),
        "bold header in colour: {raw:?}"
    );
    let out = no_colour(&raw);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let cols: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cols,
        ["NAME", "SIZE", "USED %", "MESSAGES", "SEQ RANGE", "NEWEST"]
    );
    let chat: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(chat[..3], ["chat", "1", "MiB"], "{out}");
    assert_eq!(chat[4..6], ["3", "1..3"], "{out}");
    assert!(
        lines[1].ends_with(" ago") || lines[1].ends_with("just now"),
        "{out}"
    );
    let empty: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        empty,
        ["empty", "64", "KiB", "0.0%", "0", "-", "-"],
        "{out}"
    );
    assert_eq!(lines[3], format!("2 pools in {}", t.path().display()));
}

#[test]
fn no_color_and_color_never_turn_colour_off() {
    let t = TempDir::new("hum-nocolor");
    pls(t.path(), &["pool", "create", "p"], None);
    let cmd = format!("{} --dir {} pool list", bin().display(), t.path().display());
    let out = crate::procs::output_bounded(
        std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("NO_COLOR", "1")
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::null()),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("NAME") && !text.contains('\u{1b}'),
        "{text:?}"
    );
    let never = on_tty(t.path(), "--color never doctor --all", None);
    assert!(
        never.contains("p  ok") && !never.contains('\u{1b}'),
        "{never:?}"
    );
}

#[test]
fn pool_info_is_a_labelled_summary_and_an_empty_pool_says_how_to_fill_it() {
    let t = TempDir::new("hum-info");
    pls(t.path(), &["poke", "chat", "--create", "1"], None);
    pls(t.path(), &["poke", "chat", "2"], None);
    let out = no_colour(&on_tty(t.path(), "pool info chat", None));
    let labels: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        labels,
        ["name", "path", "size", "messages", "used", "oldest", "newest", "created", "writable"],
        "{out}"
    );
    assert!(out.contains("messages  2 (seq 1..2)\n"), "{out}");
    assert!(out.contains("writable  yes\n"), "{out}");
    pls(t.path(), &["pool", "create", "fresh"], None);
    let out = no_colour(&on_tty(t.path(), "pool info fresh", None));
    assert!(
        out.contains("messages  none yet: add one with 'plasmite poke fresh DATA'\n"),
        "{out}"
    );
}

#[test]
fn doctor_prints_a_line_per_pool_the_issues_indented_and_a_summary() {
    let t = TempDir::new("hum-doctor");
    let out = no_colour(&on_tty(t.path(), "doctor --all", None));
    assert_eq!(
        out,
        format!(
            "no pools to check in {}\ncreate one with 'plasmite pool create NAME'\n",
            t.path().display()
        )
    );
    pls(t.path(), &["poke", "good", "--create", "\"fine\""], None);
    pls(
        t.path(),
        &["poke", "bad", "--create", "\"DAMAGED-PAYLOAD\""],
        None,
    );
    let path = t.join("bad.plasmite");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(15)
        .position(|w| w == b"DAMAGED-PAYLOAD")
        .unwrap();
    bytes[at] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    let out = no_colour(&on_tty(t.path(), "doctor --all", None));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("bad   ") && lines[0].contains("issue"),
        "{out}"
    );
    let issues: Vec<&&str> = lines.iter().filter(|l| l.starts_with("    ")).collect();
    assert!(!issues.is_empty() && issues[0].contains("offset "), "{out}");
    let good = lines.iter().find(|l| l.starts_with("good")).unwrap();
    assert!(good.starts_with("good  ok  1 message, seq 1..1"), "{out}");
    assert_eq!(
        *lines.last().unwrap(),
        "2 pools checked: 1 ok, 1 with issues",
        "{out}"
    );
    let piped = pls(t.path(), &["doctor", "--all"], None);
    assert_eq!(piped.code, 7);
    let reports = piped.lines();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["name"], "bad");
    assert_eq!(reports[0]["ok"], false);
}

#[test]
fn doctor_of_a_missing_pool_is_an_error_on_stderr() {
    let t = TempDir::new("hum-doc-missing");
    let r = pls(t.path(), &["doctor", "nope"], None);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout, "", "no report on stdout");
    assert_eq!(r.error_kind(), "NotFound");
    let out = no_colour(&on_tty(t.path(), "doctor nope", None));
    assert!(out.starts_with("error: pool not found"), "{out}");
    assert!(
        out.ends_with("1 pool checked: 0 ok, 0 with issues, 1 could not be checked\n"),
        "{out}"
    );
}

#[test]
fn doctor_of_a_url_says_it_needs_local_access() {
    let t = TempDir::new("hum-doc-url");
    let r = pls(t.path(), &["doctor", "http://127.0.0.1:9/chat"], None);
    assert_eq!((r.code, r.error_kind().as_str()), (2, "Usage"));
    assert!(
        r.stderr.contains("doctor needs local access"),
        "{}",
        r.stderr
    );
}

#[test]
fn json_on_a_pipe_keeps_the_spec_key_order() {
    let t = TempDir::new("hum-json");
    let created = pls(t.path(), &["pool", "create", "chat"], None);
    assert_eq!(top_keys(created.stdout.trim_end()), POOL_KEYS);
    pls(t.path(), &["poke", "chat", "{\"z\":1,\"a\":2}"], None);
    let list = pls(t.path(), &["pool", "list"], None);
    assert_eq!(top_keys(list.stdout.trim_end()), POOL_KEYS);
    assert!(
        list.stdout
            .contains("\"bounds\":{\"oldest\":1,\"newest\":1}"),
        "{}",
        list.stdout
    );
    let info = pls(t.path(), &["pool", "info", "chat"], None);
    // A local pool's info adds its cursors last (spec/cli.md).
    let info_keys: Vec<&str> = POOL_KEYS.iter().copied().chain(["cursors"]).collect();
    assert_eq!(top_keys(info.stdout.trim_end()), info_keys);
    let doctor = pls(t.path(), &["doctor", "chat"], None);
    assert_eq!(
        top_keys(doctor.stdout.trim_end()),
        [
            "name",
            "path",
            "ok",
            "messages_ok",
            "messages_lost",
            "oldest_seq",
            "next_seq",
            "issues"
        ]
    );
    let deleted = pls(t.path(), &["pool", "delete", "chat"], None);
    assert_eq!(deleted.stdout, "{\"name\":\"chat\",\"deleted\":true}\n");
    let missing = pls(t.path(), &["pool", "info", "chat"], None);
    let err = missing.stderr.lines().next().unwrap();
    assert!(
        err.starts_with("{\"error\":{\"kind\":\"NotFound\",\"message\":"),
        "{err}"
    );
}

#[test]
fn json_and_format_force_json_on_a_terminal() {
    let t = TempDir::new("hum-force");
    pls(t.path(), &["pool", "create", "chat"], None);
    let out = on_tty(t.path(), "pool list --json", None);
    assert_eq!(top_keys(out.trim_end()), POOL_KEYS, "{out:?}");
    assert!(!out.contains('\u{1b}'), "JSON Lines carry no colour");
    let out = on_tty(
        t.path(),
        "--color never pool info chat --format pretty",
        None,
    );
    assert!(
        out.starts_with("{\n  \"name\": \"chat\",\n  \"path\": "),
        "{out:?}"
    );
    let out = on_tty(t.path(), "doctor chat --format jsonl", None);
    assert!(out.starts_with("{\"name\":\"chat\""), "{out:?}");
    let out = no_colour(&on_tty(t.path(), "pool delete chat --json", None));
    assert_eq!(out, "{\"name\":\"chat\",\"deleted\":true}\n");
}

#[test]
fn hints_use_the_name_the_program_was_run_as() {
    let t = TempDir::new("hum-pls");
    let run = |exe: &std::path::Path| {
        let out = crate::procs::output_bounded(
            std::process::Command::new(exe)
                .args([
                    "--dir",
                    &t.path().display().to_string(),
                    "poke",
                    "nope",
                    "1",
                ])
                .stdin(std::process::Stdio::null()),
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let pls_bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_pls"));
    let as_pls = run(&pls_bin);
    assert!(as_pls.contains("'pls pool create nope'"), "{as_pls}");
    assert!(!as_pls.contains("'plasmite "), "{as_pls}");
    let as_plasmite = run(&bin());
    assert!(
        as_plasmite.contains("'plasmite pool create nope'"),
        "{as_plasmite}"
    );
}
