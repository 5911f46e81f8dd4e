//! The HTTP server of `plasmite serve`: the v0 protocol (`spec/http.md`) over one HTTP/1.1 layer of
//! our own, with blocking I/O and no async runtime.
//!
//! Threading:
//! - one accept thread: enforces the connection limits (in total and per client address), backs off
//!   when descriptors or threads run out, and starts one thread per connection;
//! - per connection, one thread (`http1.rs`) reads each request head with deadlines, parses it once
//!   (`head.rs`), applies the browser rules (`browser.rs`), runs the handlers (`handlers.rs`) and
//!   writes the answer; the client socket is plain or TLS (`tls.rs`);
//! - per streaming tail, one more thread (`tail.rs`) writes the stream while the connection's thread
//!   keeps reading the client, so a client that goes away cancels its tail at once.
//!
//! Invariants: every answer carries `plasmite-version: 0` and every error the JSON envelope; memory per
//! connection is bounded (one head, one read buffer, one body up to `--max-body`); pool names reach the
//! file system only through `api::check_name`; nothing is created outside the pool directory. The web
//! UI (`ui.rs`) is a few embedded files; it reads pools only through the protocol, from the browser.

pub mod auth;
pub mod browser;
mod conn;
mod handlers;
pub mod head;
mod http1;
pub mod init;
mod mcp;
mod pools;
pub mod respond;
pub mod routes;
mod stream;
mod tail;
pub mod tls;
pub mod ui;

/// The wire format, now shared with the remote client in `crate::proto` (re-exported here).
pub use crate::proto::wire;
pub use crate::proto::NEXT_SEQ_HEADER;
pub use auth::Access;
pub use tls::TlsSource;

use crate::api::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The server's limits (defaults from `crate::limits`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub body_bytes_max: u64,
    /// Largest request head, in bytes (431 beyond).
    pub head_bytes_max: usize,
    /// Most connections open at once (423 beyond); clamped at start to what `RLIMIT_NOFILE` allows.
    pub connections_max: usize,
    /// Most connections open at once from one client address (503 beyond).
    pub connections_per_ip_max: usize,
    /// Largest pool `POST /v0/pools` may create (403 beyond).
    pub pool_size_max: u64,
    /// Most pools in the directory for `POST /v0/pools` to create one (403 at it).
    pub pools_max: usize,
    /// Most tails streaming at once (423 beyond).
    pub tails_max: usize,
    /// Time to send a request head: the first from the accept, later ones from their first byte (408
    /// beyond).
    pub head_timeout: Duration,
    /// Time to send a request body, from the end of its head (408 beyond).
    pub body_timeout: Duration,
    /// Time a connection may sit with no request in progress (closed beyond).
    pub idle_timeout: Duration,
    /// Time one answer or tail chunk may take to be accepted by the client, in total (disconnected
    /// beyond).
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
            connections_per_ip_max: limits::HTTP_CONNECTIONS_PER_IP_MAX_DEFAULT as usize,
            pool_size_max: limits::HTTP_POOL_SIZE_BYTES_MAX_DEFAULT,
            pools_max: limits::HTTP_POOLS_MAX_DEFAULT as usize,
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
    /// Extra `Host` names answered (`--allow-host`), besides the bound address and, for a loopback
    /// bind, `localhost`.
    pub allow_hosts: Vec<String>,
    /// Web origins allowed to call the server from a browser (`--cors-origin`, exact).
    pub cors_origins: Vec<String>,
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
            allow_hosts: Vec::new(),
            cors_origins: Vec::new(),
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
    pub(crate) browser: browser::Rules,
    pub(crate) conns: conn::Registry,
    pub(crate) tails: AtomicUsize,
    pub(crate) pools: pools::Pools,
    /// MCP waits in progress, for `notifications/cancelled` sent in another request.
    pub(crate) mcp_waits: crate::mcp::Waits,
    refusers: AtomicUsize,
    stopping: AtomicBool,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
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

/// The connection limit the open-file limit allows: each connection holds one descriptor, and
/// `HTTP_FDS_RESERVED` are kept for everything else. Raises the soft `RLIMIT_NOFILE` to the hard one
/// first.
fn connections_allowed(asked: usize) -> usize {
    let nofile = crate::sys::resource::raise_nofile().unwrap_or(1024);
    let room = nofile.saturating_sub(limits::HTTP_FDS_RESERVED).max(1);
    asked.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Makes a child started from `cmd` run with both `RLIMIT_NOFILE` limits at `n` (for tests of the
/// descriptor limits; the limit is set between `fork` and `exec`).
#[doc(hidden)]
pub fn child_nofile_limit(cmd: &mut std::process::Command, n: u64) {
    crate::sys::resource::child_nofile(cmd, n);
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
    let mut limits = config.limits.clone();
    limits.connections_max = connections_allowed(limits.connections_max);
    let shared = Arc::new(Shared {
        limits,
        token: config.token.clone(),
        access: config.access,
        browser: browser::Rules {
            bind: Some(addr),
            tls: identity.is_some(),
            allow_hosts: config.allow_hosts.clone(),
            cors_origins: config.cors_origins.clone(),
        },
        tls: identity,
        conns: conn::Registry::default(),
        tails: AtomicUsize::new(0),
        pools: pools::Pools::new(Client::new(&config.dir)),
        mcp_waits: crate::mcp::Waits::default(),
        refusers: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
    });
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

/// Whether an accept error means resources ran out (then the loop pauses before the next accept).
fn out_of_resources(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let got = listener.accept();
        if shared.stopping() {
            return;
        }
        match got {
            Ok((sock, peer)) => {
                let accepted = Instant::now();
                let ip = peer.ip();
                let lim = &shared.limits;
                if let Err(full) =
                    shared
                        .conns
                        .try_reserve(ip, lim.connections_max, lim.connections_per_ip_max)
                {
                    refuse(&shared, sock, full);
                    continue;
                }
                let sh = Arc::clone(&shared);
                // Handed over through a cell, so the socket comes back if no thread starts.
                let cell = Arc::new(std::sync::Mutex::new(Some(sock)));
                let theirs = Arc::clone(&cell);
                let started = std::thread::Builder::new()
                    .name("plasmite-conn".into())
                    .stack_size(limits::HTTP_THREAD_STACK_BYTES)
                    .spawn(move || {
                        let sock = theirs.lock().ok().and_then(|mut s| s.take());
                        if let Some(sock) = sock {
                            http1::run(sh, sock, ip, accepted);
                        }
                    });
                if started.is_err() {
                    shared.conns.release(ip);
                    if let Some(sock) = cell.lock().ok().and_then(|mut s| s.take()) {
                        refuse_now(&shared, &sock);
                    }
                    std::thread::sleep(limits::HTTP_ACCEPT_BACKOFF);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Out of descriptors or memory: pause (pending connections wait in the backlog) and go
            // on. The accept loop never ends on an error.
            Err(e) if out_of_resources(&e) => std::thread::sleep(limits::HTTP_ACCEPT_BACKOFF),
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

fn busy(full: conn::Full, shared: &Shared) -> (u16, Error) {
    let lim = &shared.limits;
    match full {
        conn::Full::Total => (
            423,
            Error::new(
                ErrorKind::Busy,
                format!("too many connections (the limit is {})", lim.connections_max),
            )
            .with_hint("retry later, or start the server with a larger --max-connections"),
        ),
        conn::Full::PerIp => (
            503,
            Error::new(
                ErrorKind::Busy,
                format!(
                    "too many connections from your address (the limit is {})",
                    lim.connections_per_ip_max
                ),
            )
            .with_hint("close some connections, or start the server with a larger --max-connections-per-ip"),
        ),
    }
}

/// Answers a connection for which no thread could be started: 503 `Busy`, written without waiting
/// (a fresh socket's send buffer takes it), then closed. A TLS connection is just closed.
fn refuse_now(shared: &Shared, sock: &TcpStream) {
    use std::io::Write;
    if shared.tls.is_some() || sock.set_nonblocking(true).is_err() {
        return;
    }
    let e = Error::new(ErrorKind::Busy, "the server cannot take a connection now")
        .with_hint("retry later; the server is out of threads or memory");
    let answer = respond::raw_error_with(503, &e, &[("Retry-After", "1")]);
    let _ = (&*sock).write_all(&answer);
    let _ = sock.shutdown(std::net::Shutdown::Write);
}

/// Answers a connection over a limit with its error (423 over the total, 503 over the per-address
/// limit; plain HTTP only: a TLS one is just closed), from a small bounded set of threads.
fn refuse(shared: &Arc<Shared>, sock: TcpStream, full: conn::Full) {
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
    let (status, e) = busy(full, shared);
    let started = std::thread::Builder::new()
        .name("plasmite-refuse".into())
        .stack_size(limits::HTTP_THREAD_STACK_BYTES)
        .spawn(move || {
            use std::io::{Read, Write};
            let answer = respond::raw_error_with(status, &e, &[("Retry-After", "1")]);
            let _ = sock.set_write_timeout(Some(Duration::from_secs(1)));
            if (&sock).write_all(&answer).is_ok() {
                let _ = sock.shutdown(std::net::Shutdown::Write);
                // Drain what the client sends for a short, fixed time so it reads the answer.
                let until = Instant::now() + limits::HTTP_LINGER;
                let mut buf = [0u8; 4096];
                let mut drained = 0;
                while drained < 64 * 1024 {
                    let left = until.saturating_duration_since(Instant::now());
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

    /// The limits in force (`connections_max` clamped to the descriptors available).
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.shared.conns.active()
    }

    /// Tails streaming now.
    pub fn tails(&self) -> usize {
        self.shared.tails.load(Ordering::SeqCst)
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
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_the_named_ones_and_the_connection_limit_is_clamped() {
        let l = Limits::default();
        assert_eq!(l.connections_per_ip_max, 64);
        assert_eq!(l.pool_size_max, 256 << 20);
        assert_eq!(l.pools_max, 1024);
        // Never more than asked, never zero.
        assert!(connections_allowed(3) <= 3);
        assert!(connections_allowed(1) == 1);
        let (soft, _) = crate::sys::resource::nofile().unwrap();
        let room = soft.saturating_sub(limits::HTTP_FDS_RESERVED).max(1);
        assert_eq!(connections_allowed(usize::MAX) as u64, room);
    }
}
