//! Runs every shell block of `docs/cookbook.md` as written, with `pls`/`plasmite` being the binary
//! under test, each recipe (`## ` section) in its own fresh HOME, its blocks in order under `set -e`.
//!
//! Markers: a line with `# follows` is a command that runs until Ctrl-C: it starts in the background,
//! the block goes on once it has mapped a pool file (`/proc/PID/maps`), and at the end of the block it
//! must have printed something (waited for, bounded) and exit 130 on SIGINT. A line with `# serves` is
//! a server: started in the background and stopped with SIGINT at the end of the block. `PORT` is set
//! to a free loopback port. `jq` is required (installed by `.ci/run`).

use crate::support::{bin, TempDir};

/// (section title, bash blocks) in document order.
fn recipes(doc: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut block: Option<String> = None;
    for line in doc.lines() {
        if let Some(b) = &mut block {
            if line.trim_start().starts_with("```") {
                let b = std::mem::take(b);
                if let Some(last) = out.last_mut() {
                    last.1.push(b);
                }
                block = None;
            } else {
                b.push_str(line);
                b.push('\n');
            }
        } else if let Some(title) = line.strip_prefix("## ") {
            out.push((title.to_owned(), Vec::new()));
        } else if line.trim_start().starts_with("```bash") {
            block = Some(String::new());
        }
    }
    out
}

/// The block as a script: markers expanded into background jobs with their checks.
fn script_for(block: &str) -> String {
    let mut s = String::from("set -e\n");
    let mut ends = String::new();
    for (n, line) in block.lines().enumerate() {
        let (cmd, marker) = match (line.split_once("# follows"), line.split_once("# serves")) {
            (Some((cmd, _)), _) => (cmd.trim(), "follows"),
            (_, Some((cmd, _))) => (cmd.trim(), "serves"),
            _ => {
                s.push_str(line);
                s.push('\n');
                continue;
            }
        };
        s.push_str(&format!("{cmd} > bg{n}.out 2> bg{n}.err &\nB{n}=$!\n"));
        if marker == "follows" {
            s.push_str(&format!(
                "for i in $(seq 600); do grep -q '\\.plasmite$' /proc/$B{n}/maps 2>/dev/null && break; sleep 0.05; done\n"
            ));
            ends.push_str(&format!(
                "for i in $(seq 600); do [ -s bg{n}.out ] && break; sleep 0.05; done\n\
                 kill -INT $B{n}\nset +e\nwait $B{n}\nrc=$?\nset -e\n\
                 [ \"$rc\" = 130 ] || {{ echo \"follower on line {n} exit $rc\" >&2; cat bg{n}.err >&2; exit 1; }}\n\
                 [ -s bg{n}.out ] || {{ echo \"follower on line {n} printed nothing\" >&2; exit 1; }}\n\
                 cat bg{n}.out\n"
            ));
        } else {
            ends.push_str(&format!("kill -INT $B{n}\nset +e\nwait $B{n}\nset -e\n"));
        }
    }
    s.push_str(&ends);
    s
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Runs every recipe; returns (title, stdout) per recipe.
fn run_all() -> Vec<(String, String)> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cookbook.md")).unwrap();
    let mut outputs = Vec::new();
    for (title, blocks) in recipes(&doc) {
        let t = TempDir::new("cookbook");
        let shims = t.join("bin");
        std::fs::create_dir_all(&shims).unwrap();
        for name in ["pls", "plasmite"] {
            std::os::unix::fs::symlink(bin(), shims.join(name)).unwrap();
        }
        let path = format!(
            "{}:{}",
            shims.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut all = String::new();
        for block in &blocks {
            let out = crate::procs::output_bounded(
                std::process::Command::new("bash")
                    .arg("-c")
                    .arg(script_for(block))
                    .current_dir(t.path())
                    .env("HOME", t.path())
                    .env("PATH", &path)
                    .env("PORT", free_port().to_string())
                    .env_remove("PLASMITE_TOKEN")
                    .env_remove("NO_COLOR"),
            );
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "recipe '{title}' failed ({}):\n{block}\nstdout:\n{stdout}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            all.push_str(&stdout);
        }
        outputs.push((title, all));
    }
    outputs
}

#[test]
fn every_cookbook_recipe_runs_as_written_and_prints_what_it_promises() {
    let out = run_all();
    let titles: Vec<&str> = out.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles.len(), 8, "{titles:?}");
    let get = |prefix: &str| {
        out.iter()
            .find(|(t, _)| t.starts_with(prefix))
            .map(|(_, o)| o.as_str())
            .unwrap_or_else(|| panic!("no recipe '{prefix}'"))
    };
    assert_eq!(
        get("A CI gate"),
        "{\"service\":\"api\",\"status\":\"healthy\",\"version\":\"1.4.2\"}\n"
    );
    let bus = get("An event bus");
    assert!(
        bus.starts_with("{\"order\":1017,\"total\":42.5}\n"),
        "{bus}"
    );
    assert!(!bus.contains("audit") && !bus.contains("login"), "{bus}");
    let tap = get("Capture a job");
    assert!(tap.contains("step 1 ok\n"), "passed through: {tap}");
    assert!(tap.contains("the job exited with 3\n"), "{tap}");
    assert!(
        tap.contains("{\"stream\":\"stderr\",\"line\":\"disk almost full\"}\n"),
        "{tap}"
    );
    assert!(
        tap.ends_with("{\"code\":3,\"lines\":{\"stderr\":1,\"stdout\":1}}\n"),
        "{tap}"
    );
    let chat = get("A chat");
    assert_eq!(
        chat,
        "{\"seq\":1,\"time\":\"\",\"meta\":{\"tags\":[]},\"data\":{\"from\":\"bob\",\"msg\":\"anyone there?\"}}\n"
            .replace("\"time\":\"\"", &time_of(chat))
            + "bob: anyone there?\nbot: build 118 is green\n"
    );
    let ring = get("A syslog-style ring");
    let mut lines = ring.lines();
    let bounds: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(bounds["newest"], 2000);
    assert!(bounds["oldest"].as_u64().is_some_and(|o| o > 1), "{ring}");
    assert_eq!(lines.collect::<Vec<_>>(), ["1998", "1999", "2000"]);
    assert_eq!(
        get("Replay a session"),
        "{\"step\":\"open\"}\n{\"step\":\"click\"}\n{\"step\":\"crash\",\"code\":500}\n\
         {\"step\":\"crash\",\"code\":500}\n"
    );
    assert_eq!(get("Follow a pool"), "{\"cpu\":0.71}\n");
    let pipe = get("Pipe a pool");
    assert!(
        pipe.starts_with("{\"kind\":\"order\",\"user\":\"bob\",\"total\":12}\n"),
        "{pipe}"
    );
    assert!(
        pipe.contains("kafka <- {\"kind\":\"signup\",\"user\":\"cy\"}\n"),
        "{pipe}"
    );
    assert!(
        pipe.contains("nats events.all <- {\"kind\":\"signup\",\"user\":\"cy\"}\n"),
        "{pipe}"
    );
}

/// `"time":"…"` of the first JSON line of `out`.
fn time_of(out: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap_or("{}")).unwrap();
    format!("\"time\":{}", v["time"])
}
