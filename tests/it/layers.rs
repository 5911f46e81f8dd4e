//! The dependency rule of spec/architecture.md, checked on the `crate::` paths of the sources:
//! `cli` → `api` → (`pool` | `remote`) → `sys`, `server` and `remote` → `proto`, with the exceptions
//! listed here (each says why).

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every `(file, module)` where `file` under `src/LAYER` names `crate::MODULE`.
fn uses(layer: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join(layer), &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        // Comments may name any module; code may not.
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let module: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push((rel.clone(), module));
            }
        }
    }
    out
}

fn violations(layer: &str, banned: &[&str], allowed: &[(&str, &str)]) -> Vec<String> {
    uses(layer)
        .into_iter()
        .filter(|(_, m)| banned.contains(&m.as_str()))
        .filter(|(f, m)| !allowed.iter().any(|(af, am)| f == af && m == am))
        .map(|(f, m)| format!("{f} uses crate::{m}"))
        .collect()
}

#[test]
fn the_engine_knows_nothing_of_the_layers_above_it() {
    let v = violations(
        "pool",
        &["api", "cli", "server", "remote", "filter", "ingest", "json"],
        &[],
    );
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn the_api_depends_on_the_engine_and_the_remote_client_only() {
    let v = violations("api", &["cli", "server", "filter", "ingest"], &[]);
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn the_server_and_the_remote_client_share_only_the_protocol_module() {
    let mut v = violations("remote", &["server", "cli"], &[]);
    v.extend(violations("server", &["remote", "cli"], &[]));
    v.extend(violations("proto", &["server", "remote", "cli"], &[]));
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn the_cli_reaches_pools_only_through_the_api() {
    let v = violations(
        "cli",
        &["pool", "remote", "server"],
        &[
            // `plasmite serve` runs the server.
            ("cli/cmd/serve.rs", "server"),
            // `version` prints the pool format number.
            ("cli/app.rs", "pool"),
        ],
    );
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn mcp_reaches_pools_only_through_the_api() {
    let v = violations("mcp", &["pool", "remote", "server", "cli"], &[]);
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn the_python_and_node_bindings_reach_pools_only_through_the_api() {
    // Their remote pools are the api's `PoolHandle` too: no HTTP client of their own, no internals.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("bindings");
    let mut bad = Vec::new();
    for b in ["python", "node"] {
        let manifest = std::fs::read_to_string(root.join(b).join("Cargo.toml")).unwrap();
        if manifest.lines().any(|l| l.trim_start().starts_with("ureq")) {
            bad.push(format!("bindings/{b}/Cargo.toml depends on ureq"));
        }
        let mut files = Vec::new();
        sources(&root.join(b).join("src"), &mut files);
        assert!(!files.is_empty(), "no sources under bindings/{b}/src");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for banned in [
                    "plasmite::remote",
                    "plasmite::server",
                    "plasmite::proto",
                    "plasmite::pool::",
                    "ureq::",
                ] {
                    if line.contains(banned) {
                        bad.push(format!("{}: {}", f.display(), line.trim()));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
