//! Shared test helpers: temporary directories, a deterministic PRNG, child processes of this test binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("plasmite-it-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, s: &str) -> PathBuf {
        self.0.join(s)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// xorshift64*: deterministic, seedable, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Runs the named test of this binary in a child process with `env` set (the child role of a
/// multi-process test). The child test checks the env var and does its work only when it is set.
pub fn spawn_child(test_name: &str, env: &[(&str, String)]) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        test_name,
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "--include-ignored",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The path of the plasmite binary under test.
#[allow(dead_code)]
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_plasmite"))
}

/// Output of one run of the binary.
#[allow(dead_code)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

#[allow(dead_code)]
impl Run {
    /// stdout parsed as JSON Lines.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
            .collect()
    }
    /// The `kind` of the JSON error on stderr.
    pub fn error_kind(&self) -> String {
        let first = self
            .stderr
            .lines()
            .find(|l| l.contains("\"error\""))
            .unwrap_or_else(|| panic!("no error in {:?}", self.stderr));
        let v: serde_json::Value = serde_json::from_str(first).unwrap();
        v["error"]["kind"].as_str().unwrap().to_owned()
    }
}

/// Runs `plasmite --dir DIR ARGS…` with `stdin` bytes; no terminal anywhere, so output is JSON.
#[allow(dead_code)]
pub fn pls(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut full = vec!["--dir".to_owned(), dir.display().to_string()];
    full.extend(args.iter().map(|s| s.to_string()));
    run_bin(&full, stdin)
}

/// Runs the binary with exactly `args`.
#[allow(dead_code)]
pub fn run_bin(args: &[String], stdin: Option<&[u8]>) -> Run {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        let mut w = child.stdin.take().unwrap();
        let data = input.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    // A bounded wait (the pipes are drained on threads meanwhile).
    let (out, err) = crate::procs::drain(&mut child);
    let status = crate::procs::wait_bounded(&mut child, crate::procs::PATIENCE);
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

// ---- HTTP: a server on port 0 and a tiny raw client ----

use plasmite::server::{self, Config, Running};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A server on `127.0.0.1:0` over `dir`, configured by `tweak`.
#[allow(dead_code)]
pub fn serve(dir: &Path, tweak: impl FnOnce(&mut Config)) -> Running {
    let mut c = Config::new(dir, "127.0.0.1:0".parse().unwrap());
    tweak(&mut c);
    server::start(c).unwrap()
}

/// Creates pool `name` in `dir` (1 MiB unless `size`).
#[allow(dead_code)]
pub fn make_pool(dir: &Path, name: &str, size: Option<u64>) -> plasmite::Pool {
    plasmite::Client::new(dir)
        .create_pool(
            &plasmite::PoolRef::name(name),
            size.unwrap_or(plasmite::limits::POOL_SIZE_BYTES_DEFAULT),
        )
        .unwrap()
}

/// One HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

#[allow(dead_code)]
impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The envelope's kind, checking the envelope shape and the version header on the way.
    pub fn kind(&self) -> String {
        assert_eq!(
            self.header("plasmite-version").as_deref(),
            Some("0"),
            "{}",
            self.head
        );
        let v = self.json();
        assert!(v["error"]["message"].is_string(), "{v}");
        v["error"]["kind"].as_str().unwrap().to_owned()
    }
}

/// A client connection (keep-alive), reading one response per request.
pub struct HttpConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

#[allow(dead_code)]
impl HttpConn {
    pub fn open(addr: SocketAddr) -> HttpConn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        HttpConn {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).unwrap();
    }

    /// `METHOD PATH` with an optional token and JSON body.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Resp {
        self.send(&raw_request(method, path, token, body));
        self.read_response()
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads a response head only (the body stays buffered).
    pub fn read_response_head_only(&mut self) -> String {
        let end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            assert!(self.fill(), "connection ended before a response head");
        };
        let head = String::from_utf8_lossy(&self.buf[..end - 4]).into_owned();
        self.buf.drain(..end);
        head
    }

    /// Reads one response (Content-Length, chunked, or until close). Panics on a timeout.
    pub fn read_response(&mut self) -> Resp {
        let end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            assert!(
                self.fill(),
                "connection ended before a response head: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let head = String::from_utf8_lossy(&self.buf[..end - 4]).into_owned();
        self.buf.drain(..end);
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let mut r = Resp {
            status,
            head,
            body: Vec::new(),
        };
        if status == 204 || status == 304 {
            // No body, whatever the headers say.
        } else if let Some(n) = r.header("content-length") {
            let n: usize = n.parse().unwrap();
            while self.buf.len() < n {
                assert!(self.fill(), "short body");
            }
            r.body = self.buf.drain(..n).collect();
        } else if r.header("transfer-encoding").is_some() {
            r.body = self.read_chunks(usize::MAX);
        } else {
            while self.fill() {}
            r.body = std::mem::take(&mut self.buf);
        }
        r
    }

    /// Reads chunks until the last one (or `max_chunks`); returns their data.
    pub fn read_chunks(&mut self, max_chunks: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..max_chunks {
            let line_end = loop {
                if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                    break p;
                }
                assert!(self.fill(), "stream ended inside a chunk size");
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&self.buf[..line_end]).unwrap(), 16)
                    .unwrap();
            self.buf.drain(..line_end + 2);
            while self.buf.len() < size + 2 {
                assert!(self.fill(), "stream ended inside a chunk");
            }
            out.extend(self.buf.drain(..size));
            self.buf.drain(..2);
            if size == 0 {
                break;
            }
        }
        out
    }

    /// True when the server closed the connection (EOF or reset) within `wait`.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 1024];
        loop {
            match self.stream.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                }
            }
        }
    }
}

/// The bytes of a request.
pub fn raw_request(method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Vec<u8> {
    let mut s = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(t) = token {
        s.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if matches!(method, "POST" | "DELETE") {
        s.push_str("Content-Type: application/json\r\n");
    }
    if let Some(b) = body {
        s.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    s.push_str("\r\n");
    if let Some(b) = body {
        s.push_str(b);
    }
    s.into_bytes()
}

/// One request on a fresh connection.
#[allow(dead_code)]
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Resp {
    HttpConn::open(addr).request(method, path, token, body)
}

/// Waits until `f` holds, polling every 10 ms for at most `limit`.
#[allow(dead_code)]
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}
