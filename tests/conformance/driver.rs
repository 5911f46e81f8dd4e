//! The conformance manifest driver (spec/conformance.md), shared by the Rust API runner
//! (`tests/it/conformance.rs`) and the C ABI runner (`bindings/c/tests/abi.rs`), which include this
//! file with `#[path]`. A runner supplies a [`Backend`] (its door to the library); this module reads
//! the manifests, runs every step through the backend or on files directly (corrupt, chmod, truncate,
//! lock, writers), and matches results against expectations.
//!
//! Nothing here knows which door it drives: a step's semantics are decided once, here and in the spec.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A pool ref as a manifest writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// `"events"`: a name inside the pool directory.
    Name(String),
    /// `{"path": "sub/x.plasmite"}`, already resolved against the pool directory.
    Path(PathBuf),
    /// `{"uri": "tcp://…"}`.
    Uri(String),
    /// `{"ref": "events.plasmite"}`: text for the CLI rule (`PoolRef::parse`, `PLSM_REF_AUTO`).
    Auto(String),
}

impl Ref {
    /// A key identifying the handles a runner keeps for this ref.
    pub fn key(&self) -> String {
        format!("{self:?}")
    }
}

/// A failed step as the backend saw it.
#[derive(Debug, Clone)]
pub struct Fail {
    pub kind: String,
    pub message: String,
    pub has_path: bool,
    pub has_seq: bool,
    pub has_offset: bool,
}

pub type Out<T> = Result<T, Fail>;

/// How a stream starts.
#[derive(Debug, Clone, Default)]
pub struct StreamSpec {
    /// `None`: from the live edge.
    pub since_seq: Option<u64>,
    /// Stop (END) after this many delivered messages.
    pub max: Option<u64>,
    /// Each `next` gives up (TIMEOUT) after this long without a message.
    pub timeout_ms: Option<u64>,
    /// Only messages carrying every one of these tags.
    pub tags: Vec<String>,
}

/// What a stream's `next` produced.
#[derive(Debug, Clone)]
pub enum Event {
    /// The message's envelope as JSON.
    Message(Value),
    Lost(u64),
    Timeout,
    End,
    Cancelled,
}

/// A runner's door to the library. Handles: `create` and `open` keep the opened pool; `append`, `get`,
/// `info` and `stream_open` use the kept handle of the ref if there is one, else open it first.
pub trait Backend {
    fn create(&mut self, r: &Ref, size_bytes: u64) -> Out<Value>;
    fn open(&mut self, r: &Ref, read_only: bool) -> Out<()>;
    fn info(&mut self, r: &Ref) -> Out<Value>;
    fn list(&mut self) -> Out<Vec<String>>;
    fn delete(&mut self, r: &Ref) -> Out<()>;
    /// Appends JSON text (possibly invalid); returns the envelope.
    fn append(&mut self, r: &Ref, json: &[u8], tags: &[String], flush: bool) -> Out<Value>;
    fn get(&mut self, r: &Ref, seq: u64) -> Out<Value>;
    fn close(&mut self, r: &Ref);
    fn stream_open(&mut self, id: &str, r: &Ref, spec: &StreamSpec) -> Out<()>;
    fn stream_next(&mut self, id: &str) -> Out<Event>;
    fn stream_cancel(&mut self, id: &str);
    fn stream_close(&mut self, id: &str);
}

/// What one manifest run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub steps: usize,
    pub failures: Vec<String>,
}

/// Every `*.json` manifest of `dir`, sorted.
pub fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the conformance directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

/// Runs one manifest in a fresh pool directory (removed after) with a backend made for it.
pub fn run_manifest<B: Backend>(
    manifest: &Path,
    plasmite_bin: &Path,
    make: impl FnOnce(&Path) -> B,
) -> Outcome {
    let text = std::fs::read_to_string(manifest).expect("read manifest");
    let m: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{manifest:?}: {e}"));
    assert_eq!(m["conformance"], 0, "{manifest:?}: format version");
    let name = m["name"].as_str().unwrap_or("unnamed").to_owned();
    let dir = std::env::temp_dir().join(format!(
        "plasmite-conformance-{name}-{}-{}",
        std::process::id(),
        unique()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the pool directory");
    let mut run = Run {
        backend: make(&dir),
        dir: dir.clone(),
        bin: plasmite_bin.to_path_buf(),
        locks: HashMap::new(),
        writers_started: 0,
    };
    let mut out = Outcome::default();
    let steps = m["steps"].as_array().cloned().unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        out.steps += 1;
        if let Err(why) = run.step(step) {
            out.failures
                .push(format!("{name} step {} {}: {why}", i + 1, step));
        }
    }
    drop(run);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

struct Run<B: Backend> {
    backend: B,
    dir: PathBuf,
    bin: PathBuf,
    /// `lock` steps: the flock(1) child holding each pool file's writer lock.
    locks: HashMap<String, Child>,
    /// Writer processes started so far: each gets its own number across `writers` steps.
    writers_started: u64,
}

impl<B: Backend> Drop for Run<B> {
    fn drop(&mut self) {
        for (_, mut c) in self.locks.drain() {
            release(&mut c);
        }
    }
}

fn release(c: &mut Child) {
    drop(c.stdin.take());
    let _ = c.wait();
}

fn fail_json(f: &Fail) -> Value {
    json!({"kind": f.kind, "message": f.message, "has_path": f.has_path, "has_seq": f.has_seq, "has_offset": f.has_offset})
}

impl<B: Backend> Run<B> {
    fn step(&mut self, step: &Value) -> Result<(), String> {
        let op = step["op"].as_str().ok_or("no op")?;
        let result = self.dispatch(op, step)?;
        match (result, step.get("expect"), step.get("error")) {
            (Ok(v), Some(exp), _) => {
                check_times(&v)?;
                contains(exp, &v).map_err(|w| format!("{w}; actual {v}"))
            }
            (Ok(v), None, Some(_)) => Err(format!("expected an error, got {v}")),
            (Ok(_), None, None) => Ok(()),
            (Err(f), _, Some(exp)) => check_error(exp, &f),
            (Err(f), _, None) => Err(format!("unexpected error {}", fail_json(&f))),
        }
    }

    fn dispatch(&mut self, op: &str, s: &Value) -> Result<Out<Value>, String> {
        let b = &mut self.backend;
        Ok(match op {
            "create" => {
                let r = self.pool_ref(s)?;
                self.backend.create(&r, u64_field(s, "size_bytes")?)
            }
            "open" => {
                let r = self.pool_ref(s)?;
                let ro = s["read_only"].as_bool().unwrap_or(false);
                self.backend.open(&r, ro).map(|()| json!({}))
            }
            "info" => {
                let r = self.pool_ref(s)?;
                self.backend.info(&r)
            }
            "list" => b.list().map(|names| json!({ "names": names })),
            "delete" => {
                let r = self.pool_ref(s)?;
                self.backend.delete(&r).map(|()| json!({}))
            }
            "close" => {
                let r = self.pool_ref(s)?;
                self.backend.close(&r);
                Ok(json!({}))
            }
            "append" | "append_json" => {
                let r = self.pool_ref(s)?;
                let json = if op == "append" {
                    serde_json::to_vec(&s["data"]).map_err(|e| e.to_string())?
                } else {
                    s["json"].as_str().ok_or("json must be a string")?.into()
                };
                let flush = durability(s)?;
                self.backend.append(&r, &json, &tags(s)?, flush)
            }
            "append_many" => {
                let r = self.pool_ref(s)?;
                self.append_many(&r, s)?
            }
            "get" => {
                let r = self.pool_ref(s)?;
                self.backend.get(&r, u64_field(s, "seq")?)
            }
            "tail" => {
                let r = self.pool_ref(s)?;
                let spec = stream_spec(s)?;
                if spec.max.is_none() && spec.timeout_ms.is_none() {
                    return Err("a tail step needs max or timeout_ms".into());
                }
                let id = format!("tail-step-{}", unique());
                match self.backend.stream_open(&id, &r, &spec) {
                    Ok(()) => {
                        let got = self.read_stream(&id, None);
                        self.backend.stream_close(&id);
                        got
                    }
                    Err(f) => Err(f),
                }
            }
            "tail_open" => {
                let r = self.pool_ref(s)?;
                let id = s["stream"].as_str().ok_or("tail_open needs stream")?;
                self.backend
                    .stream_open(id, &r, &stream_spec(s)?)
                    .map(|()| json!({}))
            }
            "tail_read" => {
                let id = s["stream"]
                    .as_str()
                    .ok_or("tail_read needs stream")?
                    .to_owned();
                let max = s.get("max").map(|_| u64_field(s, "max")).transpose()?;
                self.read_stream(&id, max)
            }
            "tail_cancel" => {
                let id = s["stream"].as_str().ok_or("tail_cancel needs stream")?;
                self.backend.stream_cancel(id);
                Ok(json!({}))
            }
            "tail_close" => {
                let id = s["stream"].as_str().ok_or("tail_close needs stream")?;
                self.backend.stream_close(id);
                Ok(json!({}))
            }
            "writers" => {
                let r = self.pool_ref(s)?;
                self.writers(&r, s)?
            }
            "corrupt" | "chmod" | "truncate" => {
                let path = self.file_of(&self.pool_ref(s)?)?;
                file_op(op, &path, s)?;
                Ok(json!({}))
            }
            "lock" => {
                let path = self.file_of(&self.pool_ref(s)?)?;
                let child = hold_lock(&path)?;
                if let Some(mut old) = self.locks.insert(path.display().to_string(), child) {
                    release(&mut old);
                }
                Ok(json!({}))
            }
            "unlock" => {
                let path = self.file_of(&self.pool_ref(s)?)?;
                let mut c = self
                    .locks
                    .remove(&path.display().to_string())
                    .ok_or("unlock without lock")?;
                release(&mut c);
                Ok(json!({}))
            }
            other => return Err(format!("unknown op {other:?}")),
        })
    }

    fn pool_ref(&self, s: &Value) -> Result<Ref, String> {
        match &s["pool"] {
            Value::String(n) => Ok(Ref::Name(n.clone())),
            Value::Object(o) => {
                if let Some(p) = o.get("path").and_then(Value::as_str) {
                    Ok(Ref::Path(self.dir.join(p)))
                } else if let Some(u) = o.get("uri").and_then(Value::as_str) {
                    Ok(Ref::Uri(u.to_owned()))
                } else if let Some(t) = o.get("ref").and_then(Value::as_str) {
                    Ok(Ref::Auto(t.to_owned()))
                } else {
                    Err(format!("bad pool {}", s["pool"]))
                }
            }
            other => Err(format!("bad pool {other}")),
        }
    }

    /// The pool file a ref designates (for file-level steps).
    fn file_of(&self, r: &Ref) -> Result<PathBuf, String> {
        match r {
            Ref::Name(n) => Ok(self.dir.join(format!("{n}.plasmite"))),
            Ref::Path(p) => Ok(p.clone()),
            Ref::Auto(t) if !t.contains('/') && !t.contains("://") => {
                let n = t.strip_suffix(".plasmite").unwrap_or(t);
                Ok(self.dir.join(format!("{n}.plasmite")))
            }
            other => Err(format!("no file for {other:?}")),
        }
    }

    fn append_many(&mut self, r: &Ref, s: &Value) -> Result<Out<Value>, String> {
        let count = u64_field(s, "count")?;
        let tags = tags(s)?;
        let (mut first, mut last) = (None, 0);
        for i in 0..count {
            let mut data = s["data"].clone();
            if let Value::Object(m) = &mut data {
                m.insert("i".into(), i.into());
            }
            let bytes = serde_json::to_vec(&data).map_err(|e| e.to_string())?;
            match self.backend.append(r, &bytes, &tags, false) {
                Ok(m) => {
                    let seq = m["seq"].as_u64().ok_or("envelope without seq")?;
                    first.get_or_insert(seq);
                    last = seq;
                }
                Err(f) => return Ok(Err(f)),
            }
        }
        Ok(Ok(json!({"first_seq": first, "last_seq": last})))
    }

    /// Reads a stream until `max` messages (when given), END, TIMEOUT or CANCELLED.
    fn read_stream(&mut self, id: &str, max: Option<u64>) -> Out<Value> {
        let (mut messages, mut lost) = (Vec::new(), 0u64);
        let end = loop {
            if max.is_some_and(|m| messages.len() as u64 >= m) {
                break "max";
            }
            match self.backend.stream_next(id)? {
                Event::Message(v) => messages.push(v),
                Event::Lost(n) => lost += n,
                Event::Timeout => break "timeout",
                Event::End => break "max",
                Event::Cancelled => break "cancelled",
            }
        };
        Ok(json!({"messages": messages, "lost": lost, "end": end}))
    }

    fn writers(&mut self, r: &Ref, s: &Value) -> Result<Out<Value>, String> {
        let processes = u64_field(s, "processes")?;
        let messages = u64_field(s, "messages")?;
        let target = match r {
            Ref::Name(n) => n.clone(),
            Ref::Path(p) => p.display().to_string(),
            other => return Err(format!("writers need a name or path, not {other:?}")),
        };
        let first_writer = self.writers_started;
        self.writers_started += processes;
        let mut children = Vec::new();
        for _ in 0..processes {
            let c = Command::new(&self.bin)
                .arg("--dir")
                .arg(&self.dir)
                .args(["poke", &target])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("spawn {:?}: {e}", self.bin))?;
            children.push(c);
        }
        // Every writer is running before any gets its input, so their appends interleave.
        let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = children
                .into_iter()
                .enumerate()
                .map(|(n, mut c)| {
                    let w = first_writer + n as u64;
                    scope.spawn(move || {
                        let body: String = (0..messages)
                            .map(|i| format!("{{\"w\":{w},\"i\":{i}}}\n"))
                            .collect();
                        let mut stdin = c.stdin.take().ok_or("no stdin")?;
                        stdin
                            .write_all(body.as_bytes())
                            .map_err(|e| format!("write to a writer: {e}"))?;
                        drop(stdin);
                        let out = c.wait_with_output().map_err(|e| e.to_string())?;
                        if out.status.success() {
                            Ok(())
                        } else {
                            Err(format!(
                                "a writer failed: {}",
                                String::from_utf8_lossy(&out.stderr)
                            ))
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("writer thread panicked".into()))
                })
                .collect()
        });
        results.into_iter().collect::<Result<Vec<()>, String>>()?;
        let id = format!("writers-{}", unique());
        let spec = StreamSpec {
            since_seq: Some(1),
            timeout_ms: Some(500),
            ..StreamSpec::default()
        };
        if let Err(f) = self.backend.stream_open(&id, r, &spec) {
            return Ok(Err(f));
        }
        let got = self.read_stream(&id, None);
        self.backend.stream_close(&id);
        let got = match got {
            Ok(v) => v,
            Err(f) => return Ok(Err(f)),
        };
        let msgs = got["messages"].as_array().cloned().unwrap_or_default();
        let seqs: Vec<u64> = msgs.iter().filter_map(|m| m["seq"].as_u64()).collect();
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let contiguous = sorted.windows(2).all(|w| w[1] == w[0] + 1) && sorted == seqs;
        let mut next_i: HashMap<u64, u64> = HashMap::new();
        let ordered = msgs.iter().all(|m| {
            let (w, i) = (m["data"]["w"].as_u64(), m["data"]["i"].as_u64());
            let (Some(w), Some(i)) = (w, i) else {
                return true;
            };
            let n = next_i.entry(w).or_insert(0);
            let ok = *n == i;
            *n += 1;
            ok
        });
        Ok(Ok(json!({
            "seqs_distinct": sorted.len() == seqs.len(),
            "seqs_contiguous": contiguous,
            "writers_ordered": ordered,
            "count": seqs.len(),
        })))
    }
}

fn u64_field(s: &Value, k: &str) -> Result<u64, String> {
    s[k].as_u64()
        .ok_or_else(|| format!("{k} must be a non-negative integer"))
}

fn tags(s: &Value) -> Result<Vec<String>, String> {
    match &s["tags"] {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_owned)
                    .ok_or("tags are strings".into())
            })
            .collect(),
        other => Err(format!("bad tags {other}")),
    }
}

fn durability(s: &Value) -> Result<bool, String> {
    match s["durability"].as_str() {
        None | Some("fast") => Ok(false),
        Some("flush") => Ok(true),
        Some(d) => Err(format!("bad durability {d:?}")),
    }
}

fn stream_spec(s: &Value) -> Result<StreamSpec, String> {
    let opt = |k: &str| s.get(k).map(|_| u64_field(s, k)).transpose();
    Ok(StreamSpec {
        since_seq: opt("since_seq")?,
        max: opt("max")?,
        timeout_ms: opt("timeout_ms")?,
        tags: tags(s)?,
    })
}

fn file_op(op: &str, path: &Path, s: &Value) -> Result<(), String> {
    use std::os::unix::fs::{FileExt, PermissionsExt};
    let err = |e: std::io::Error| format!("{op} {path:?}: {e}");
    match op {
        "corrupt" => {
            let bytes: Vec<u8> = s["bytes"]
                .as_array()
                .ok_or("bytes must be an array")?
                .iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<_>>()
                .ok_or("bytes are 0..=255")?;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(err)?;
            f.write_all_at(&bytes, u64_field(s, "offset")?).map_err(err)
        }
        "chmod" => {
            let mode = u64_field(s, "mode")? as u32;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(err)
        }
        _ => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(err)?;
            f.set_len(u64_field(s, "length")?).map_err(err)
        }
    }
}

/// Holds the pool file's writer lock (an exclusive flock) in a flock(1) child until released.
fn hold_lock(path: &Path) -> Result<Child, String> {
    let mut c = Command::new("flock")
        .arg("-x")
        .arg(path)
        .args(["-c", "echo locked; exec cat >/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn flock(1): {e}"))?;
    let mut line = String::new();
    let stdout = c.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if line.trim() != "locked" {
        return Err(format!("flock(1) did not take the lock: {line:?}"));
    }
    Ok(c)
}

/// `expected` is contained in `actual` (spec/conformance.md).
pub fn contains(expected: &Value, actual: &Value) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a.get(k).ok_or_else(|| format!("missing key {k:?}"))?;
                contains(ev, av).map_err(|w| format!("{k}: {w}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!("{} items expected, {} found", e.len(), a.len()));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                contains(ev, av).map_err(|w| format!("[{i}]: {w}"))?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{e} expected, {a} found")),
    }
}

fn check_error(exp: &Value, f: &Fail) -> Result<(), String> {
    let bad = || format!("expected error {exp}, got {}", fail_json(f));
    if exp["kind"].as_str() != Some(f.kind.as_str()) {
        return Err(bad());
    }
    for (k, have) in [
        ("has_path", f.has_path),
        ("has_seq", f.has_seq),
        ("has_offset", f.has_offset),
    ] {
        if exp
            .get(k)
            .and_then(Value::as_bool)
            .is_some_and(|want| want != have)
        {
            return Err(bad());
        }
    }
    Ok(())
}

/// Every `time` of a message in a result is an RFC 3339 UTC string (`…T…Z`).
fn check_times(v: &Value) -> Result<(), String> {
    let msgs: Vec<&Value> = match v.get("messages") {
        Some(Value::Array(a)) => a.iter().collect(),
        _ if v.get("seq").is_some() && v.get("data").is_some() => vec![v],
        _ => return Ok(()),
    };
    for m in msgs {
        let t = m["time"].as_str().unwrap_or("");
        let ok = t.len() >= 20 && t.as_bytes()[10] == b'T' && t.ends_with('Z');
        if !ok {
            return Err(format!("bad time {:?} in {m}", m["time"]));
        }
    }
    Ok(())
}
