//! The binary: every command, output shapes, exit codes and bad input of every kind.

use crate::support::{bin, pls, run_bin, TempDir};
use serde_json::json;

#[test]
fn poke_prints_the_committed_envelope_in_key_order() {
    let t = TempDir::new("cli-poke");
    let r = pls(
        t.path(),
        &[
            "poke",
            "chat",
            "--create",
            "--tag",
            "b",
            "--tag",
            "a",
            r#"{"z": 1, "a": 1.50}"#,
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.stdout.trim_end();
    assert!(line.starts_with(r#"{"seq":1,"time":""#), "{line}");
    assert!(
        line.ends_with(r#"","meta":{"tags":["b","a"]},"data":{"z":1,"a":1.50}}"#),
        "{line}"
    );
    for scalar in ["42", "\"text\"", "null", "true", "[1,2]", "-5"] {
        let r = pls(t.path(), &["poke", "chat", scalar], None);
        assert_eq!(r.code, 0, "{scalar}: {}", r.stderr);
        assert_eq!(
            r.lines()[0]["data"],
            serde_json::from_str::<serde_json::Value>(scalar).unwrap()
        );
    }
}

#[test]
fn both_binary_names_are_the_same_program() {
    let pls_bin = bin().with_file_name("pls");
    let out = std::process::Command::new(pls_bin)
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("plasmite "));
    let r = run_bin(&["version".into()], None);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("plasmite 0."));
}

#[test]
fn get_prints_one_message_and_missing_seq_is_not_found() {
    let t = TempDir::new("cli-get");
    pls(t.path(), &["poke", "p", "--create", r#"{"k":"v"}"#], None);
    let r = pls(t.path(), &["get", "p", "1"], None);
    assert_eq!(r.code, 0);
    assert_eq!(r.lines()[0]["data"], json!({"k": "v"}));
    let r = pls(t.path(), &["get", "p", "1", "--data-only"], None);
    assert_eq!(r.stdout.trim(), r#"{"k":"v"}"#);
    let r = pls(t.path(), &["get", "p", "1", "--format", "pretty"], None);
    assert!(r.stdout.contains("\n  \"seq\": 1,\n"), "{}", r.stdout);
    let r = pls(t.path(), &["get", "p", "2"], None);
    assert_eq!((r.code, r.error_kind().as_str()), (3, "NotFound"));
    for bad in ["0", "-1", "abc", "1.5"] {
        let r = pls(t.path(), &["get", "p", bad], None);
        assert_eq!((r.code, r.error_kind().as_str()), (2, "Usage"), "seq {bad}");
    }
}

#[test]
fn pool_lifecycle_commands_and_their_exit_codes() {
    let t = TempDir::new("cli-pool");
    let r = pls(
        t.path(),
        &["pool", "create", "a", "b", "--size", "64K"],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let created = r.lines();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0]["name"], "a");
    assert_eq!(created[0]["file_size"], 65536);
    let r = pls(t.path(), &["pool", "create", "a", "c"], None);
    assert_eq!((r.code, r.error_kind().as_str()), (4, "AlreadyExists"));
    let r = pls(t.path(), &["pool", "list"], None);
    let names: Vec<_> = r
        .lines()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["a", "b", "c"],
        "every name attempted: c was created after a failed"
    );
    let r = pls(t.path(), &["pool", "info", "c"], None);
    assert_eq!(r.lines()[0]["file_size"], 1048576, "default size 1 MiB");
    assert_eq!(r.lines()[0]["bounds"], json!({}));
    let r = pls(t.path(), &["pool", "delete", "a", "nope", "b"], None);
    assert_eq!((r.code, r.error_kind().as_str()), (3, "NotFound"));
    assert_eq!(r.lines().len(), 2, "a and b deleted despite nope");
    let r = pls(t.path(), &["pool", "info", "a"], None);
    assert_eq!(r.code, 3);
    for bad_size in ["12Q", "-1", "1.5M", "", "1K"] {
        let r = pls(t.path(), &["pool", "create", "z", "--size", bad_size], None);
        assert_eq!(
            (r.code, r.error_kind().as_str()),
            (2, "Usage"),
            "size {bad_size:?}"
        );
    }
}

#[test]
fn doctor_reports_healthy_and_corrupt_pools_with_exit_7() {
    let t = TempDir::new("cli-doctor");
    pls(t.path(), &["poke", "good", "--create", "1"], None);
    pls(
        t.path(),
        &["poke", "bad", "--create", r#"{"x":"some data here"}"#],
        None,
    );
    let r = pls(t.path(), &["doctor", "good"], None);
    assert_eq!(r.code, 0);
    assert_eq!(r.lines()[0]["ok"], true);
    let path = t.path().join("bad.plasmite");
    let info = pls(t.path(), &["pool", "info", "bad"], None).lines()[0].clone();
    let ring = info["ring_offset"].as_u64().unwrap() as usize;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[ring + 40] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let r = pls(t.path(), &["doctor", "--all"], None);
    assert_eq!(r.code, 7, "{}", r.stdout);
    let reports = r.lines();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["name"], "bad");
    assert_eq!(reports[0]["ok"], false);
    assert_eq!(reports[0]["issues"][0]["offset"], ring as u64);
    assert_eq!(reports[1]["ok"], true);
    let r = pls(t.path(), &["get", "bad", "1"], None);
    assert_eq!((r.code, r.error_kind().as_str()), (7, "Corrupt"));
}

#[test]
fn bad_input_of_every_kind_gets_a_stable_kind_and_exit_code() {
    let t = TempDir::new("cli-bad");
    pls(t.path(), &["pool", "create", "p"], None);
    std::fs::write(
        t.path().join("notapool.plasmite"),
        b"hello, I am not a pool",
    )
    .unwrap();
    std::fs::create_dir_all(t.path().join("adir.plasmite")).unwrap();
    let dir = t.path().display().to_string();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec!["poke".into(), "p".into(), "{bad json".into()],
            2,
            "Usage",
        ),
        (
            vec!["poke".into(), "p".into(), "--bogus".into(), "1".into()],
            2,
            "Usage",
        ),
        (vec!["frobnicate".into()], 2, "Usage"),
        (
            vec!["poke".into(), "missing".into(), "1".into()],
            3,
            "NotFound",
        ),
        (
            vec!["poke".into(), "notapool".into(), "1".into()],
            7,
            "Corrupt",
        ),
        (
            vec!["poke".into(), format!("{dir}/adir.plasmite"), "1".into()],
            2,
            "Usage",
        ),
        (
            vec!["poke".into(), ".hidden".into(), "1".into()],
            2,
            "Usage",
        ),
        (
            vec!["poke".into(), "bad name".into(), "1".into()],
            2,
            "Usage",
        ),
        (
            vec![
                "poke".into(),
                "p".into(),
                "--durability".into(),
                "maybe".into(),
                "1".into(),
            ],
            2,
            "Usage",
        ),
        (
            vec!["peek".into(), "p".into(), "--where".into(), ".a ==".into()],
            2,
            "Usage",
        ),
        (
            vec!["peek".into(), "p".into(), "--timeout".into(), "5".into()],
            2,
            "Usage",
        ),
        (
            vec!["pool".into(), "delete".into(), "notapool".into()],
            2,
            "Usage",
        ),
        (
            vec![
                "poke".into(),
                "p".into(),
                "--tag".into(),
                "x".repeat(256),
                "1".into(),
            ],
            2,
            "Usage",
        ),
    ];
    for (args, code, kind) in cases {
        let mut full = vec!["--dir".to_owned(), dir.clone()];
        full.extend(args.iter().cloned());
        let r = run_bin(&full, None);
        assert_eq!(
            (r.code, r.error_kind().as_str()),
            (code, kind),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
            "{}",
            r.stderr
        );
        assert!(
            r.stdout.is_empty(),
            "stdout carries only data: {:?}",
            r.stdout
        );
    }
    assert!(
        t.path().join("notapool.plasmite").exists(),
        "a non-pool file is never deleted"
    );
}

#[test]
fn a_missing_permission_is_exit_6() {
    let t = TempDir::new("cli-perm");
    pls(t.path(), &["poke", "p", "--create", "1"], None);
    let path = t.path().join("p.plasmite");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = std::fs::read(&path).is_ok();
    let r = if is_root {
        // Root ignores file modes: run the binary as an unprivileged user (setpriv is in util-linux).
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin())
            .args(["get", &path.display().to_string(), "1"])
            .output()
            .expect("setpriv (util-linux) is needed to drop root for this test");
        crate::support::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    } else {
        pls(t.path(), &["get", "p", "1"], None)
    };
    assert_eq!(
        (r.code, r.error_kind().as_str()),
        (6, "Permission"),
        "{}",
        r.stderr
    );
}

#[test]
fn help_and_completion_come_from_the_same_flag_table() {
    let r = run_bin(&["help".into(), "peek".into()], None);
    assert_eq!(r.code, 0);
    for flag in [
        "--tail",
        "--since",
        "--where",
        "--one",
        "--timeout",
        "--replay",
        "--quiet-drops",
    ] {
        assert!(r.stdout.contains(flag), "help peek lists {flag}");
    }
    let r = run_bin(&["help".into(), "nosuch".into()], None);
    assert_eq!(r.code, 2);
    let script = run_bin(&["completion".into(), "bash".into()], None).stdout;
    assert!(script.contains("--quiet-drops"));
    let t = TempDir::new("cli-compl");
    let f = t.join("c.bash");
    std::fs::write(&f, script).unwrap();
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            &format!(
                "source {} && complete -p plasmite && complete -p pls",
                f.display()
            ),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn errors_on_stderr_are_one_json_object_with_context() {
    let t = TempDir::new("cli-errjson");
    let r = pls(t.path(), &["get", "nope", "1"], None);
    let v: serde_json::Value = serde_json::from_str(r.stderr.trim()).unwrap();
    assert_eq!(v["error"]["kind"], "NotFound");
    assert!(v["error"]["path"]
        .as_str()
        .unwrap()
        .ends_with("nope.plasmite"));
    assert!(v["error"]["hint"].is_string());
}

#[test]
fn durability_flush_and_retry_until_the_pool_appears() {
    let t = TempDir::new("cli-flags");
    let r = pls(
        t.path(),
        &[
            "poke",
            "f",
            "--create",
            "--durability",
            "flush",
            "{\"d\":1}",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = t.path().to_path_buf();
    let creator = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        pls(&dir, &["pool", "create", "later"], None)
    });
    let t0 = std::time::Instant::now();
    let r = pls(
        t.path(),
        &[
            "poke",
            "later",
            "--retry",
            "50",
            "--retry-delay",
            "20ms",
            "1",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(250));
    assert_eq!(creator.join().unwrap().code, 0);
    let r = pls(
        t.path(),
        &[
            "poke",
            "never",
            "--retry",
            "2",
            "--retry-delay",
            "10ms",
            "1",
        ],
        None,
    );
    assert_eq!(r.code, 3, "retries exhausted: the last error stands");
    let r = pls(t.path(), &["poke", "f", "--retry-delay", "5", "1"], None);
    assert_eq!(r.code, 2, "a duration needs a unit");
}

#[test]
fn color_only_in_pretty_output_and_never_in_json_lines() {
    let t = TempDir::new("cli-color");
    pls(t.path(), &["poke", "c", "--create", "{\"k\":\"v\"}"], None);
    let dir = t.path().display().to_string();
    let run = |args: &[&str]| {
        let mut full = vec!["--dir".to_string(), dir.clone()];
        full.extend(args.iter().map(|s| s.to_string()));
        run_bin(&full, None)
    };
    let mut with_color = vec!["--color", "always"];
    with_color.extend(["get", "c", "1", "--format", "pretty"]);
    let colored = run(&with_color);
    assert!(colored.stdout.contains("\u{1b}["), "{:?}", colored.stdout);
    let plain = run(&["--color", "never", "get", "c", "1", "--format", "pretty"]);
    assert!(!plain.stdout.contains('\u{1b}') && plain.stdout.contains("\n  \"data\": {"));
    let jsonl = run(&["--color", "always", "get", "c", "1", "--jsonl"]);
    assert!(
        !jsonl.stdout.contains('\u{1b}'),
        "JSON Lines never carry colour"
    );
    let pretty_peek = run(&[
        "--color",
        "never",
        "peek",
        "c",
        "-n",
        "1",
        "--timeout",
        "10ms",
        "--format",
        "pretty",
    ]);
    assert!(
        pretty_peek.stdout.starts_with("{\n  \"seq\": 1,"),
        "{}",
        pretty_peek.stdout
    );
    let info = run(&["pool", "info", "c", "--format", "pretty"]);
    assert!(
        info.stdout.contains("\n  \"name\": \"c\""),
        "{}",
        info.stdout
    );
    let list = run(&["pool", "list", "--format", "jsonl"]);
    assert_eq!(list.lines().len(), 1);
    let bad = run(&["--color", "sometimes", "version"]);
    assert_eq!(bad.code, 2);
}

#[test]
fn busy_is_exit_5_and_io_is_exit_8() {
    let t = TempDir::new("cli-busy");
    pls(t.path(), &["pool", "create", "held"], None);
    let f = std::fs::File::open(t.path().join("held.plasmite")).unwrap();
    f.try_lock().unwrap();
    let r = pls(t.path(), &["pool", "delete", "held"], None);
    assert_eq!((r.code, r.error_kind().as_str()), (5, "Busy"));
    drop(f);
    assert_eq!(pls(t.path(), &["pool", "delete", "held"], None).code, 0);
    std::fs::write(t.join("file"), b"x").unwrap();
    let under_a_file = t.join("file").join("pools");
    let r = pls(&under_a_file, &["pool", "create", "x"], None);
    assert_eq!((r.code, r.error_kind().as_str()), (8, "Io"), "{}", r.stderr);
}

#[test]
fn global_help_and_version_flags() {
    let r = run_bin(&["--help".into()], None);
    assert_eq!(r.code, 0);
    for cmd in [
        "poke",
        "peek",
        "get",
        "pool",
        "doctor",
        "serve",
        "completion",
    ] {
        assert!(r.stdout.contains(cmd), "top-level help lists {cmd}");
    }
    let r = run_bin(&["poke".into(), "-h".into()], None);
    assert!(r.stdout.contains("--durability"));
    let r = run_bin(&["-V".into()], None);
    assert!(r.stdout.starts_with("plasmite "));
    let r = run_bin(&[], None);
    assert_eq!(r.code, 2, "no command is a usage error");
}
