//! Remote pool refs through the real binary (`poke`/`peek`/`get http://…`), `serve init`, `serve check`
//! and `serve` itself.

use crate::support::{bin, eventually, make_pool, serve, TempDir};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut c = Command::new(bin());
    c.args(args)
        .env_remove("PLASMITE_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err_kind(o: &Output) -> String {
    let line = String::from_utf8_lossy(&o.stderr)
        .lines()
        .last()
        .unwrap_or("")
        .to_owned();
    let v: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("stderr: {line}"));
    v["error"]["kind"].as_str().unwrap().to_owned()
}

#[test]
fn poke_peek_and_get_print_exactly_what_local_commands_print() {
    let t = TempDir::new("remote-e2e");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    let url = format!("http://{}/p", s.addr());
    let dir = t.path().to_str().unwrap();

    let o = run(
        &[
            "poke",
            &url,
            r#"{"z":1,"a":1.50,"s":"é\u0001"}"#,
            "--tag",
            "x",
            "--tag",
            "y",
        ],
        &[],
        None,
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let local = run(&["--dir", dir, "get", "p", "1"], &[], None);
    assert_eq!(out(&o), out(&local));
    assert!(
        out(&o).contains(r#""data":{"z":1,"a":1.50,"s":"é\u0001"}"#),
        "{}",
        out(&o)
    );

    let o = run(
        &["poke", &url, "--durability", "flush"],
        &[],
        Some("{\"n\":1}\n[2]\n\"three\"\n"),
    );
    assert_eq!(code(&o), 0);
    assert_eq!(out(&o).lines().count(), 3);

    for args in [
        vec!["get", "SRC", "2"],
        vec!["get", "SRC", "3", "--data-only"],
        vec!["get", "SRC", "1", "--format", "pretty"],
        vec!["peek", "SRC", "--tail", "3", "--timeout", "300ms"],
        vec![
            "peek",
            "SRC",
            "-n",
            "10",
            "--tag",
            "x",
            "--timeout",
            "300ms",
            "--data-only",
        ],
        vec![
            "peek",
            "SRC",
            "-n",
            "10",
            "--where",
            ".data.n == 1",
            "--timeout",
            "300ms",
        ],
        vec!["peek", "SRC", "-n", "4", "--one"],
    ] {
        let remote: Vec<&str> = args
            .iter()
            .map(|a| if *a == "SRC" { url.as_str() } else { a })
            .collect();
        let mut local = vec!["--dir", dir];
        local.extend(args.iter().map(|a| if *a == "SRC" { "p" } else { a }));
        let (r, l) = (run(&remote, &[], None), run(&local, &[], None));
        assert_eq!(
            code(&r),
            code(&l),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert_eq!(out(&r), out(&l), "{args:?}");
        assert!(!out(&r).is_empty(), "{args:?}");
    }
}

#[test]
fn a_live_peek_gets_new_messages_and_one_ends_it() {
    let t = TempDir::new("remote-live");
    let p = make_pool(t.path(), "p", None);
    p.append_json(b"\"old\"", &[] as &[&str], plasmite::Durability::Fast)
        .unwrap();
    let s = serve(t.path(), |_| {});
    let url = format!("http://{}/p", s.addr());
    let child = Command::new(bin())
        .args(["peek", &url, "--one", "--timeout", "20s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(10), || s.tails() == 1));
    p.append_json(b"\"new\"", &[] as &[&str], plasmite::Durability::Fast)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
    assert_eq!(
        (v["seq"].as_u64(), v["data"].as_str()),
        (Some(2), Some("new"))
    );
    assert!(eventually(Duration::from_secs(3), || s.tails() == 0));
}

#[test]
fn flags_that_need_the_file_are_refused_with_exit_2() {
    let t = TempDir::new("remote-flags");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    let url = format!("http://{}/p", s.addr());
    for args in [
        vec!["poke", url.as_str(), "1", "--create"],
        vec!["peek", url.as_str(), "--create"],
        vec!["peek", url.as_str(), "--since", "1m"],
        vec!["peek", url.as_str(), "--replay", "0"],
        vec!["poke", "http://127.0.0.1:1/a/b", "1"],
        vec!["poke", url.as_str(), "{bad"],
    ] {
        let o = run(&args, &[], None);
        assert_eq!(
            (code(&o), err_kind(&o)),
            (2, "Usage".to_owned()),
            "{args:?}"
        );
    }
}

#[test]
fn server_errors_keep_their_kind_and_exit_code() {
    let t = TempDir::new("remote-errors");
    make_pool(t.path(), "p", None);
    let token_file = t.join("tok");
    std::fs::write(&token_file, "tok-123\n").unwrap();
    let s = serve(t.path(), |c| c.token = Some("tok-123".into()));
    let ro = serve(t.path(), |c| c.access = plasmite::server::Access::ReadOnly);
    let url = format!("http://{}/p", s.addr());
    let tf = token_file.to_str().unwrap();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, i32, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["get", &url, "1"], vec![], 6, "Permission"),
        (
            vec!["get", &url, "1", "--token-file", tf],
            vec![],
            3,
            "NotFound",
        ),
        (
            vec!["get", &url, "1"],
            vec![("PLASMITE_TOKEN", "tok-123")],
            3,
            "NotFound",
        ),
        (
            vec!["get", &url, "1"],
            vec![("PLASMITE_TOKEN", "nope")],
            6,
            "Permission",
        ),
    ];
    for (args, env, exit, kind) in cases {
        let o = run(&args, &env, None);
        assert_eq!(
            (code(&o), err_kind(&o)),
            (exit, kind.to_owned()),
            "{args:?} {env:?}"
        );
    }
    let o = run(&["poke", &url, "1", "--token-file", tf], &[], None);
    assert_eq!(code(&o), 0);
    let missing = format!("http://{}/nope", s.addr());
    let o = run(&["poke", &missing, "1", "--token-file", tf], &[], None);
    assert_eq!((code(&o), err_kind(&o)), (3, "NotFound".to_owned()));
    let o = run(
        &["poke", &format!("http://{}/p", ro.addr()), "1"],
        &[],
        None,
    );
    assert_eq!((code(&o), err_kind(&o)), (6, "Permission".to_owned()));
    drop(ro);
    // Nobody listening: an Io error, exit 8.
    let o = run(&["get", "http://127.0.0.1:1/p", "1"], &[], None);
    assert_eq!((code(&o), err_kind(&o)), (8, "Io".to_owned()));
}

#[test]
fn serve_init_writes_private_files_and_never_prints_the_token() {
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new("remote-init");
    let dir = t.join("conf");
    let o = run(
        &["serve", "init", "--output-dir", dir.to_str().unwrap()],
        &[],
        None,
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let token = std::fs::read_to_string(dir.join("plasmite.token")).unwrap();
    let printed = format!("{}{}", out(&o), String::from_utf8_lossy(&o.stderr));
    assert!(!printed.contains(token.trim()));
    assert!(printed.contains("plasmite serve "), "{printed}");
    let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("plasmite.token"), 0o600);
    if plasmite::server::tls::COMPILED {
        assert_eq!(mode("plasmite.key"), 0o600);
        assert!(printed.contains("--tls-ca plasmite.crt"), "{printed}");
    }
    let o = run(
        &["serve", "init", "--output-dir", dir.to_str().unwrap()],
        &[],
        None,
    );
    assert_eq!((code(&o), err_kind(&o)), (4, "AlreadyExists".to_owned()));
    let o = run(
        &[
            "serve",
            "init",
            "--output-dir",
            dir.to_str().unwrap(),
            "--force",
        ],
        &[],
        None,
    );
    assert_eq!(code(&o), 0);
    assert_ne!(
        std::fs::read_to_string(dir.join("plasmite.token")).unwrap(),
        token
    );
}

#[test]
fn serve_check_validates_without_binding() {
    let t = TempDir::new("remote-check");
    let dir = t.path().to_str().unwrap();
    let o = run(
        &["--dir", dir, "serve", "check", "--bind", "127.0.0.1:9"],
        &[],
        None,
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
    assert_eq!(v["ok"], true);
    let o = run(
        &["--dir", dir, "serve", "check", "--bind", "0.0.0.0:9"],
        &[],
        None,
    );
    assert_eq!(code(&o), 2);
    let o = run(
        &[
            "--dir",
            dir,
            "serve",
            "check",
            "--bind",
            "0.0.0.0:9",
            "--allow-non-loopback",
            "--insecure-no-tls",
        ],
        &[],
        None,
    );
    assert_eq!(code(&o), 2, "writes need a token");
    let o = run(
        &[
            "--dir",
            dir,
            "serve",
            "check",
            "--token-file",
            "/nonexistent/tok",
        ],
        &[],
        None,
    );
    assert_eq!((code(&o), err_kind(&o)), (3, "NotFound".to_owned()));
    let o = run(
        &[
            "--dir",
            dir,
            "serve",
            "check",
            "--tls-cert",
            "/nonexistent/c",
            "--tls-key",
            "/nonexistent/k",
        ],
        &[],
        None,
    );
    assert_ne!(code(&o), 0);
}

#[test]
fn serve_reports_its_port_serves_and_stops_on_sigterm() {
    let t = TempDir::new("remote-serve-bin");
    make_pool(t.path(), "p", None);
    let mut child = Command::new(bin())
        .args([
            "--dir",
            t.path().to_str().unwrap(),
            "serve",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = v["listening"]["url"].as_str().unwrap().to_owned();
    assert_eq!(v["listening"]["access"], "read-write");
    let o = run(&["poke", &format!("{url}/p"), "42"], &[], None);
    assert_eq!(code(&o), 0);
    let o = run(&["get", &format!("{url}/p"), "1", "--data-only"], &[], None);
    assert_eq!(out(&o), "42\n");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

#[cfg(feature = "tls")]
#[test]
fn the_cli_talks_tls_with_the_files_serve_init_wrote() {
    let t = TempDir::new("remote-tls");
    let conf = t.join("conf");
    assert_eq!(
        code(&run(
            &["serve", "init", "--output-dir", conf.to_str().unwrap()],
            &[],
            None
        )),
        0
    );
    make_pool(t.path(), "p", None);
    let token = plasmite::server::auth::read_token_file(&conf.join("plasmite.token")).unwrap();
    let s = serve(t.path(), |c| {
        c.token = Some(token);
        c.tls = Some(plasmite::server::TlsSource::Files {
            cert: conf.join("plasmite.crt"),
            key: conf.join("plasmite.key"),
        });
    });
    let url = format!("https://localhost:{}/p", s.addr().port());
    let tf = conf.join("plasmite.token");
    let ca = conf.join("plasmite.crt");
    let flags = [
        "--token-file",
        tf.to_str().unwrap(),
        "--tls-ca",
        ca.to_str().unwrap(),
    ];
    let mut args = vec!["poke", url.as_str(), "{\"tls\":true}"];
    args.extend(flags);
    assert_eq!(code(&run(&args, &[], None)), 0);
    let mut args = vec![
        "peek",
        url.as_str(),
        "--tail",
        "1",
        "--timeout",
        "300ms",
        "--data-only",
    ];
    args.extend(flags);
    let o = run(&args, &[], None);
    assert_eq!((code(&o), out(&o)), (124, "{\"tls\":true}\n".to_owned()));
    let o = run(
        &[
            "get",
            url.as_str(),
            "1",
            "--token-file",
            tf.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!((code(&o), err_kind(&o)), (8, "Io".to_owned()));
}

/// A fake server answering every connection with `answer`, then closing.
fn fake_server(answer: &'static str) -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            use std::io::Read;
            let mut s = s;
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(answer.as_bytes());
        }
    });
    addr
}

#[test]
fn a_redirect_is_an_io_error_and_a_non_tail_answer_ends_peek_with_a_clear_error() {
    let to = fake_server("HTTP/1.1 302 Found\r\nLocation: http://elsewhere.example/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let o = run(&["get", &format!("http://{to}/p"), "1"], &[], None);
    assert_eq!((code(&o), err_kind(&o)), (8, "Io".to_owned()));
    assert!(String::from_utf8_lossy(&o.stderr).contains("redirect"));
    let ok = fake_server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}");
    let o = run(&["peek", &format!("http://{ok}/p")], &[], None);
    assert_eq!((code(&o), err_kind(&o)), (8, "Io".to_owned()));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a tail stream"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn token_files_that_are_not_small_regular_files_are_refused_at_once() {
    let t = TempDir::new("remote-tokfile");
    let fifo = t.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = t.join("big");
    std::fs::write(
        &big,
        "x".repeat(plasmite::limits::HTTP_TOKEN_FILE_BYTES_MAX + 1),
    )
    .unwrap();
    let dir = t.path().to_str().unwrap();
    for f in ["/dev/zero", fifo.to_str().unwrap(), big.to_str().unwrap()] {
        let o = run(
            &["peek", "http://127.0.0.1:9/p", "--token-file", f],
            &[],
            None,
        );
        assert_eq!((code(&o), err_kind(&o)), (2, "Usage".to_owned()), "{f}");
        let o = run(
            &["--dir", dir, "serve", "check", "--token-file", f],
            &[],
            None,
        );
        assert_eq!((code(&o), err_kind(&o)), (2, "Usage".to_owned()), "{f}");
    }
}

#[test]
fn serve_init_makes_its_folder_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new("remote-init-umask");
    let dir = t.join("conf/deeper");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000; exec {} serve init --output-dir {}",
            bin().display(),
            dir.display()
        ))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    if plasmite::server::tls::COMPILED {
        let printed = out(&o);
        assert!(printed.contains("SHA-256 fingerprint"), "{printed}");
        assert!(printed.contains("--allow-host"), "{printed}");
    }
}

#[test]
fn the_remote_client_creates_and_deletes_pools_within_the_servers_caps() {
    use plasmite::remote::{Options, Remote};
    let t = TempDir::new("remote-create");
    let s = serve(t.path(), |c| c.limits.pool_size_max = 2 << 20);
    let r = Remote::new(&format!("{}/made", s.url()), &Options::default()).unwrap();
    let p = r.create(Some(1 << 20)).unwrap();
    assert_eq!(p["name"], "made");
    assert!(t.join("made.plasmite").exists());
    assert_eq!(
        r.create(None).unwrap_err().kind(),
        plasmite::ErrorKind::AlreadyExists
    );
    let big = Remote::new(&format!("{}/big", s.url()), &Options::default()).unwrap();
    assert_eq!(
        big.create(Some(4 << 20)).unwrap_err().kind(),
        plasmite::ErrorKind::Permission
    );
    r.delete().unwrap();
    assert!(!t.join("made.plasmite").exists());
    assert_eq!(
        r.delete().unwrap_err().kind(),
        plasmite::ErrorKind::NotFound
    );
}
