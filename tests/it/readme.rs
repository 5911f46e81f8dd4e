//! Runs the README's shell examples as written, with `pls`/`plasmite` being the binary under test.
//!
//! Every ```bash block runs in order in one fresh HOME, under `set -e`. Blocks that start with `cargo`
//! (build and test commands) are skipped. A line marked `# follows` is a command that runs until
//! Ctrl-C: it is started in the background, given time to open its pool, and stopped with SIGINT at the
//! end of the block; it must have printed something and exited 130.

use crate::support::{bin, TempDir};

fn bash_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut cur: Option<String> = None;
    for line in readme.lines() {
        match (&mut cur, line.trim_start()) {
            (None, l) if l.starts_with("```bash") => cur = Some(String::new()),
            (Some(b), l) if l.starts_with("```") => {
                blocks.push(std::mem::take(b));
                cur = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

fn script_for(block: &str, n: usize) -> String {
    let mut s = String::from("set -e\n");
    let mut followers = 0;
    for line in block.lines() {
        if line.contains("# follows") {
            let cmd = line.split("# follows").next().unwrap_or("").trim();
            s.push_str(&format!(
                "{cmd} > follow{n}_{followers}.out 2> follow{n}_{followers}.err &\n"
            ));
            s.push_str(&format!("F{followers}=$!\nsleep 0.4\n"));
            followers += 1;
        } else {
            s.push_str(line);
            s.push('\n');
        }
    }
    for f in 0..followers {
        s.push_str(&format!(
            "sleep 0.3\nkill -INT $F{f}\nset +e\nwait $F{f}\nrc=$?\nset -e\n\
             [ \"$rc\" = 130 ] || {{ echo \"follower {f} exit $rc\" >&2; cat follow{n}_{f}.err >&2; exit 1; }}\n\
             [ -s follow{n}_{f}.out ] || {{ echo \"follower {f} printed nothing\" >&2; exit 1; }}\n"
        ));
    }
    s
}

#[test]
fn every_readme_shell_example_runs_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let t = TempDir::new("readme");
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
    let blocks = bash_blocks(&readme);
    let mut ran = 0;
    for (n, block) in blocks.iter().enumerate() {
        if block.trim_start().starts_with("cargo") {
            continue;
        }
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(script_for(block, n))
            .current_dir(t.path())
            .env("HOME", t.path())
            .env("PATH", &path)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README block {n} failed:\n{block}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 3, "README examples found: {ran}");
    let follow = std::fs::read_to_string(t.join("follow3_0.out")).unwrap();
    assert_eq!(
        follow.lines().count(),
        3,
        "the build watcher saw the three steps: {follow}"
    );
}
