//! The HTTP server of `plasmite serve`: the v0 protocol (`spec/http.md`) over tiny_http, behind our own
//! accept loop.
//!
//! Threading (no async runtime):
//! - one accept thread: enforces the connection limit, hands each connection to its own thread;
//! - per connection, a reader and a writer thread (`proxy.rs`) between the client socket (plain or
//!   TLS, `tls.rs`) and a private Unix socket served by tiny_http; the reader enforces the size and time
//!   limits before tiny_http sees a byte, so tiny_http's missing limits cannot be reached;
//! - the reader answers every request but tails itself (handlers in `handlers.rs`, shared by both
//!   paths through the `Incoming` trait): one thread hand-off per request;
//! - tails are forwarded: tiny_http's own accept thread and one thread per private connection parse
//!   them, and request threads (`worker.rs`) stream each on the thread that took it, until it ends or
//!   its client goes, while the reader keeps watching the client.
//!
//! Invariants: every answer carries `plasmite-version: 0` and every error the JSON envelope; memory per
//! connection is bounded (one head, one read buffer, one copy buffer, one body up to `--max-body`);
//! pool names reach the file system only through `api::check_name`. The web UI (`ui.rs`) is three
//! embedded files; it reads pools only through the protocol, from the browser.

pub mod auth;
mod conn;
mod handlers;
pub mod head;
pub mod init;
mod pools;
mod proxy;
pub mod respond;
pub mod routes;
mod stream;
mod tail;
pub mod tls;
pub mod ui;
pub mod wire;
mod worker;

pub use auth::Access;
pub use tail::NEXT_SEQ_HEADER;
pub use tls::TlsSource;

use crate::api::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The server's limits (defaults from `crate::limits`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub body_bytes_max: u64,
    /// Largest request head, in bytes (431 beyond).
    pub head_bytes_max: usize,
    /// Most connections open at once (423 beyond).
    pub connections_max: usize,
    /// Most tails streaming at once (423 beyond).
    pub tails_max: usize,
    /// Time to send a request head, from its first byte (408 beyond).
    pub head_timeout: Duration,
    /// Time to send a request body, from the end of its head (408 beyond).
    pub body_timeout: Duration,
    /// Time a connection may sit with no request in progress (closed beyond).
    pub idle_timeout: Duration,
    /// Time one write to a client may block (disconnected beyond).
    pub write_timeout: Duration,
    /// Longest tail stream (`timeout_ms` is capped to it).
    pub tail_timeout_max: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes_max: limits::HTTP_BODY_BYTES_MAX_DEFAULT,
            head_bytes_max: limits::HTTP_HEAD_BYTES_MAX,
            connections_max: limits::HTTP_CONNECTIONS_MAX_DEFAULT as usize,
            tails_max: limits::HTTP_TAILS_MAX_DEFAULT as usize,
            head_timeout: limits::HTTP_HEAD_TIMEOUT,
            body_timeout: limits::HTTP_BODY_TIMEOUT,
            idle_timeout: limits::HTTP_IDLE_TIMEOUT,
            write_timeout: limits::HTTP_WRITE_TIMEOUT,
            tail_timeout_max: Duration::from_millis(limits::HTTP_TAIL_TIMEOUT_MS_MAX),
        }
    }
}

/// Everything a server needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The pool directory served.
    pub dir: PathBuf,
    /// Where to listen (port 0 picks a free port; see [`Running::addr`]).
    pub bind: SocketAddr,
    /// The bearer token clients must send, if any.
    pub token: Option<String>,
    pub access: Access,
    pub tls: Option<TlsSource>,
    /// Allows a non-loopback `bind`.
    pub allow_non_loopback: bool,
    /// Allows plain HTTP on a non-loopback `bind`.
    pub insecure_no_tls: bool,
    pub limits: Limits,
}

impl Config {
    /// A loopback-style configuration: no token, read-write, no TLS, default limits.
    pub fn new(dir: impl Into<PathBuf>, bind: SocketAddr) -> Config {
        Config {
            dir: dir.into(),
            bind,
            token: None,
            access: Access::ReadWrite,
            tls: None,
            allow_non_loopback: false,
            insecure_no_tls: false,
            limits: Limits::default(),
        }
    }

    /// The security policy: a non-loopback address needs `allow_non_loopback`, then TLS or
    /// `insecure_no_tls`, and a token unless the server is read-only. TLS needs the `tls` feature.
    pub fn check(&self) -> Result<()> {
        if self.tls.is_some() {
            tls::require()?;
        }
        if is_loopback(self.bind.ip()) {
            return Ok(());
        }
        let addr = self.bind;
        if !self.allow_non_loopback {
            return Err(Error::usage(format!(
                "refusing to listen on {addr}, which is not a loopback address"
            ))
            .with_hint("pass --allow-non-loopback to serve other machines"));
        }
        if self.tls.is_none() && !self.insecure_no_tls {
            return Err(Error::usage(format!(
                "serving {addr} needs TLS: give --tls-cert and --tls-key, or --tls-self-signed"
            ))
            .with_hint("or pass --insecure-no-tls to serve plain HTTP anyway"));
        }
        if self.access.writes() && self.token.is_none() {
            return Err(Error::usage(format!(
                "writes over {addr} need a token: give --token-file FILE"
            ))
            .with_hint("or serve with --access read-only; 'plasmite serve init' writes a token"));
        }
        Ok(())
    }
}

/// Whether an address is loopback (IPv4-mapped loopback included).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// State shared by every thread of one server.
pub(crate) struct Shared {
    pub(crate) limits: Limits,
    pub(crate) token: Option<String>,
    pub(crate) access: Access,
    pub(crate) tls: Option<tls::Identity>,
    pub(crate) backend_path: PathBuf,
    pub(crate) conns: conn::Registry,
    pub(crate) tails: AtomicUsize,
    pub(crate) pools: pools::Pools,
    pub(crate) workers: worker::Workers,
    /// Serializes connections to tiny_http (see `proxy::connect_backend`).
    pub(crate) backend_gate: std::sync::Mutex<()>,
    refusers: AtomicUsize,
    stopping: AtomicBool,
    backend: Backend,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn http(&self) -> Option<&tiny_http::Server> {
        self.backend.http.as_ref()
    }
}

/// tiny_http and the private directory of its socket (removed once tiny_http is gone).
struct Backend {
    http: Option<tiny_http::Server>,
    dir: PathBuf,
}

impl Drop for Backend {
    fn drop(&mut self) {
        drop(self.http.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running server; stops when dropped.
pub struct Running {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("addr", &self.addr).finish()
    }
}

/// A directory only this user can enter, for the private socket.
fn private_dir() -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::temp_dir();
    loop {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = base.join(format!("plasmite-serve-{}-{n}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => continue,
            Err(e) => {
                return Err(
                    Error::io("cannot create the server's private directory", e).with_path(&p)
                )
            }
        }
    }
}

/// Checks the configuration, binds, and starts serving in background threads.
pub fn start(config: Config) -> Result<Running> {
    config.check()?;
    let identity = config.tls.as_ref().map(tls::load).transpose()?;
    let listener = TcpListener::bind(config.bind).map_err(|e| {
        Error::io(format!("cannot listen on {}", config.bind), e)
            .with_hint("is another server using this port? pick another with --bind")
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the bound address", e))?;
    let dir = private_dir()?;
    let backend_path = dir.join("http.sock");
    let unix = std::os::unix::net::UnixListener::bind(&backend_path).map_err(|e| {
        Error::io("cannot create the server's private socket", e).with_path(&backend_path)
    });
    let unix = match unix {
        Ok(u) => u,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let http = tiny_http::Server::from_listener(unix, None)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start the HTTP parser: {e}")));
    let http = match http {
        Ok(h) => h,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let shared = Arc::new(Shared {
        limits: config.limits.clone(),
        token: config.token.clone(),
        access: config.access,
        tls: identity,
        backend_path,
        conns: conn::Registry::default(),
        tails: AtomicUsize::new(0),
        pools: pools::Pools::new(Client::new(&config.dir)),
        workers: worker::Workers::default(),
        backend_gate: std::sync::Mutex::new(()),
        refusers: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
        backend: Backend {
            http: Some(http),
            dir,
        },
    });
    for _ in 0..limits::HTTP_WORKERS_MIN {
        worker::spawn(&shared, limits::HTTP_WORKERS_MIN);
    }
    let sh = Arc::clone(&shared);
    let accept = std::thread::Builder::new()
        .name("plasmite-accept".into())
        .stack_size(limits::HTTP_THREAD_STACK_BYTES)
        .spawn(move || accept_loop(listener, sh))
        .map_err(|e| Error::io("cannot start the accept thread", e))?;
    Ok(Running {
        shared,
        addr,
        accept: Some(accept),
    })
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let got = listener.accept();
        if shared.stopping() {
            return;
        }
        match got {
            Ok((sock, _)) => {
                if !shared.conns.try_reserve(shared.limits.connections_max) {
                    refuse(&shared, sock);
                    continue;
                }
                let sh = Arc::clone(&shared);
                let started = std::thread::Builder::new()
                    .name("plasmite-conn".into())
                    .stack_size(limits::HTTP_THREAD_STACK_BYTES)
                    .spawn(move || proxy::run(sh, sock));
                if started.is_err() {
                    shared.conns.release();
                }
            }
            // Out of descriptors or memory, or a connection reset before accept: wait and go on; the
            // accept loop never ends on an error.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Answers a connection over the limit with 423 `Busy` (plain HTTP only; a TLS one is just closed),
/// from a small bounded set of threads.
fn refuse(shared: &Arc<Shared>, sock: TcpStream) {
    if shared.tls.is_some() {
        return;
    }
    let max = limits::HTTP_REFUSERS_MAX;
    if shared
        .refusers
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .is_err()
    {
        return;
    }
    let sh = Arc::clone(shared);
    let limit = shared.limits.connections_max;
    let started = std::thread::Builder::new()
        .name("plasmite-refuse".into())
        .stack_size(limits::HTTP_THREAD_STACK_BYTES)
        .spawn(move || {
            use std::io::{Read, Write};
            let e = Error::new(
                ErrorKind::Busy,
                format!("too many connections (the limit is {limit})"),
            )
            .with_hint("retry later, or start the server with a larger --max-connections");
            let answer = respond::raw_error_with(423, &e, &[("Retry-After", "1")]);
            let _ = sock.set_write_timeout(Some(Duration::from_secs(1)));
            if (&sock).write_all(&answer).is_ok() {
                let _ = sock.shutdown(std::net::Shutdown::Write);
                // Drain what the client sends for a short, fixed time so it reads the answer.
                let until = std::time::Instant::now() + limits::HTTP_LINGER;
                let mut buf = [0u8; 4096];
                let mut drained = 0;
                while drained < 64 * 1024 {
                    let left = until.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() || sock.set_read_timeout(Some(left)).is_err() {
                        break;
                    }
                    match (&sock).read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => drained += n,
                    }
                }
            }
            sh.refusers.fetch_sub(1, Ordering::SeqCst);
        });
    if started.is_err() {
        shared.refusers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Running {
    /// The address actually bound (the port chosen when binding port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The certificate served (PEM), when TLS is on.
    pub fn cert_pem(&self) -> Option<&str> {
        self.shared.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.shared.conns.active()
    }

    /// Tails streaming now.
    pub fn tails(&self) -> usize {
        self.shared.tails.load(Ordering::SeqCst)
    }

    /// Request threads alive now.
    pub fn workers(&self) -> usize {
        self.shared.workers.total()
    }

    /// Stops accepting, closes every connection (cancelling tails) and lets the threads end.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake.ip() {
                IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        let _ = accept.join();
        self.shared.conns.kill_all();
        if let Some(http) = self.shared.http() {
            for _ in 0..self.shared.workers.total() + 1 {
                http.unblock();
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
