//! The client of the v0 HTTP protocol (ureq 3, blocking), used by URL pool refs
//! (`http(s)://HOST:PORT/POOL`).
//!
//! Every timeout is set here explicitly (`crate::limits::REMOTE_*`); no proxy is used (ureq would
//! otherwise read `HTTP_PROXY`); redirects are not followed. Errors the server answers with an envelope
//! come back as the same [`Error`] kind (so the CLI exits with the same code as a local command);
//! transport failures are `Io`. A tail that the server ends or the network breaks is resumed by
//! [`Follow`] from the next seq, never duplicating or reordering messages.

mod follow;
mod resolve;

pub use follow::{Event, Follow};

use crate::api::{Durability, Message};
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
use crate::proto::wire::{self, Line};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach a remote pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Bearer token.
    pub token: Option<String>,
    /// PEM file of the certificates to trust instead of the built-in roots (e.g. a self-signed server's
    /// certificate).
    pub tls_ca: Option<PathBuf>,
}

/// A parsed pool URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUrl {
    /// `http(s)://HOST[:PORT]`.
    pub base: String,
    pub https: bool,
    pub pool: String,
}

/// Whether a pool argument is an HTTP(S) URL.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Parses `http(s)://HOST[:PORT]/POOL` (POOL a pool name; no user, query or fragment).
pub fn parse_url(s: &str) -> Result<PoolUrl> {
    let bad = |why: &str| {
        Error::usage(format!("invalid pool URL {s:?}: {why}"))
            .with_hint("write it as http://HOST:PORT/POOL or https://HOST:PORT/POOL")
    };
    let (https, rest) = if let Some(r) = s.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = s.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad("the scheme must be http or https"));
    };
    let (authority, pool) = rest
        .split_once('/')
        .ok_or_else(|| bad("the pool name is missing"))?;
    if authority.is_empty() || authority.contains(['@', '?', '#', ' ']) {
        return Err(bad("the host part is empty or malformed"));
    }
    if pool.contains(['/', '?', '#']) {
        return Err(bad("the path must be exactly one pool name"));
    }
    crate::api::check_name(pool).map_err(|e| bad(e.message()))?;
    let scheme = if https { "https" } else { "http" };
    Ok(PoolUrl {
        base: format!("{scheme}://{authority}"),
        https,
        pool: pool.to_owned(),
    })
}

/// A connection to one remote pool.
pub struct Remote {
    agent: ureq::Agent,
    url: PoolUrl,
    auth: Option<String>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("url", &self.url).finish()
    }
}

/// Why a call failed: the server answered, or it could not be reached.
#[derive(Debug)]
pub(crate) enum CallError {
    Server(Error),
    Transport(Error),
}

impl From<CallError> for Error {
    fn from(e: CallError) -> Error {
        match e {
            CallError::Server(e) | CallError::Transport(e) => e,
        }
    }
}

#[cfg(feature = "tls")]
fn tls_config(opts: &Options) -> Result<ureq::tls::TlsConfig> {
    use ureq::tls::{PemItem, RootCerts, TlsConfig};
    let mut b = TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
    if let Some(path) = &opts.tls_ca {
        let pem = std::fs::read(path)
            .map_err(|e| Error::io("cannot read the --tls-ca file", e).with_path(path))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => {
                    return Err(
                        Error::usage(format!("invalid PEM in the --tls-ca file: {e}"))
                            .with_path(path),
                    )
                }
            }
        }
        if certs.is_empty() {
            return Err(Error::usage("the --tls-ca file holds no certificate").with_path(path));
        }
        b = b.root_certs(RootCerts::Specific(std::sync::Arc::new(certs)));
    }
    Ok(b.build())
}

impl Remote {
    /// A client for the pool at `url`.
    pub fn new(url: &str, opts: &Options) -> Result<Remote> {
        let url = parse_url(url)?;
        if !url.https && opts.tls_ca.is_some() {
            return Err(Error::usage("--tls-ca only applies to https URLs"));
        }
        let cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(limits::REMOTE_CONNECT_TIMEOUT))
            .timeout_global(Some(limits::REMOTE_REQUEST_TIMEOUT))
            .max_response_header_size(limits::REMOTE_RESPONSE_HEAD_BYTES_MAX)
            .user_agent(format!("plasmite/{}", env!("CARGO_PKG_VERSION")));
        #[cfg(feature = "tls")]
        let cfg = if url.https {
            cfg.tls_config(tls_config(opts)?)
        } else {
            cfg
        };
        #[cfg(not(feature = "tls"))]
        if url.https {
            return Err(crate::proto::require_tls()
                .err()
                .unwrap_or_else(|| Error::usage("TLS is not compiled in")));
        }
        Ok(Remote {
            agent: ureq::Agent::with_parts(
                cfg.build(),
                ureq::unversioned::transport::DefaultConnector::default(),
                resolve::Cached::new(ureq::unversioned::resolver::DefaultResolver::default()),
            ),
            url,
            auth: opts.token.as_ref().map(|t| format!("Bearer {t}")),
        })
    }

    /// The pool URL.
    pub fn url(&self) -> &PoolUrl {
        &self.url
    }

    fn endpoint(&self, rest: &str) -> String {
        format!("{}/v0/pools/{}{rest}", self.url.base, self.url.pool)
    }

    fn finish(
        &self,
        r: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, CallError> {
        let resp = r.map_err(|e| CallError::Transport(self.transport_error(e)))?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let to = resp
                .headers()
                .get("Location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("elsewhere")
                .to_owned();
            return Err(CallError::Server(
                Error::new(
                    ErrorKind::Io,
                    format!("the server answered {status}, a redirect to {to}"),
                )
                .with_hint("redirects are not followed: use the URL of the plasmite server itself"),
            ));
        }
        if status >= 400 {
            return Err(CallError::Server(server_error(resp)));
        }
        Ok(resp)
    }

    fn transport_error(&self, e: ureq::Error) -> Error {
        let text = e.to_string();
        let mut err = Error::new(
            ErrorKind::Io,
            format!("cannot reach {}: {text}", self.url.base),
        );
        let lower = text.to_ascii_lowercase();
        if !self.url.https && (lower.contains("http version") || lower.contains("status line")) {
            // A TLS server's answer (an alert record) read as HTTP.
            err = err.with_hint("the server speaks HTTPS: use an https:// URL");
        } else if self.url.https
            && (lower.contains("closed")
                || lower.contains("end of file")
                || lower.contains("eof")
                || lower.contains("reset"))
        {
            err = err.with_hint(
                "the server closed the TLS handshake: if it serves plain HTTP, use an http:// URL",
            );
        } else if self.url.https && matches!(e, ureq::Error::Tls(_) | ureq::Error::Io(_)) {
            err = err.with_hint(
                "is the server up? for a self-signed certificate pass --tls-ca with its certificate",
            );
        } else {
            err = err.with_hint("is the server up and the URL right?");
        }
        err
    }

    fn body_of(resp: ureq::http::Response<ureq::Body>) -> std::result::Result<Vec<u8>, CallError> {
        resp.into_body()
            .into_with_config()
            .limit(limits::REMOTE_RESPONSE_BYTES_MAX)
            .read_to_vec()
            .map_err(|e| {
                CallError::Transport(Error::new(
                    ErrorKind::Io,
                    format!("cannot read the answer: {e}"),
                ))
            })
    }

    /// Appends one message whose data is compact JSON text; returns the committed message.
    pub fn append(&self, data: &str, tags: &[String], durability: Durability) -> Result<Message> {
        self.append_call(data, tags, durability)
            .map_err(Error::from)
    }

    pub(crate) fn append_call(
        &self,
        data: &str,
        tags: &[String],
        durability: Durability,
    ) -> std::result::Result<Message, CallError> {
        let body = wire::append_body(data, tags, durability);
        let mut req = self
            .agent
            .post(self.endpoint("/append"))
            .header("Content-Type", "application/json");
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let resp = self.finish(req.send(&body[..]))?;
        let body = Self::body_of(resp)?;
        wire::parse_message_body(&body).map_err(|e| CallError::Server(invalid_answer(&e)))
    }

    fn get_json(&self, url: String) -> Result<Vec<u8>> {
        let mut req = self.agent.get(url);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let resp = self.finish(req.call())?;
        Ok(Self::body_of(resp)?)
    }

    /// Message `seq`.
    pub fn get(&self, seq: u64) -> Result<Message> {
        let body = self.get_json(self.endpoint(&format!("/messages/{seq}")))?;
        wire::parse_message_body(&body).map_err(|e| invalid_answer(&e))
    }

    /// Creates the pool on the server (`POST /v0/pools`, `size_bytes` when given); returns the pool
    /// object. The server may refuse a size over its `--max-pool-size` (Permission).
    pub fn create(&self, size_bytes: Option<u64>) -> Result<serde_json::Value> {
        let mut body = b"{\"pool\":".to_vec();
        crate::api::write_json_string(&self.url.pool, &mut body);
        if let Some(n) = size_bytes {
            body.extend_from_slice(format!(",\"size_bytes\":{n}").as_bytes());
        }
        body.push(b'}');
        let mut req = self
            .agent
            .post(format!("{}/v0/pools", self.url.base))
            .header("Content-Type", "application/json");
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let resp = self.finish(req.send(&body[..]))?;
        pool_of(&Self::body_of(resp)?)
    }

    /// Deletes the pool on the server (`DELETE /v0/pools/NAME`; `Busy` while a writer holds it).
    pub fn delete(&self) -> Result<()> {
        let mut req = self
            .agent
            .delete(self.endpoint(""))
            .header("Content-Type", "application/json");
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        self.finish(req.call())?;
        Ok(())
    }

    /// Every pool object of the server (`GET /v0/pools`, the `pools` array; an unreadable pool is
    /// `{name, path, error}`). The pool part of this client's URL is not used.
    pub fn list_pools(&self) -> Result<Vec<serde_json::Value>> {
        let body = self.get_json(format!("{}/v0/pools", self.url.base))?;
        let mut v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("invalid answer from the server: {e}"),
            )
        })?;
        match v.get_mut("pools").map(serde_json::Value::take) {
            Some(serde_json::Value::Array(a)) => Ok(a),
            _ => Err(Error::new(
                ErrorKind::Io,
                "invalid answer from the server: no pools array",
            )),
        }
    }

    /// The pool object (`name, path, bounds, …`).
    pub fn info(&self) -> Result<serde_json::Value> {
        let body = self.get_json(self.endpoint("/info"))?;
        let mut v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("invalid answer from the server: {e}"),
            )
        })?;
        Ok(v.get_mut("pool")
            .map(serde_json::Value::take)
            .unwrap_or_default())
    }

    /// Opens one tail stream: from `since` (inclusive; the live edge when `None`), for at most
    /// `timeout_ms` (the server may cap it).
    pub fn tail(
        &self,
        since: Option<u64>,
        max: Option<u64>,
        timeout_ms: u64,
    ) -> Result<TailStream> {
        self.tail_call(since, max, timeout_ms).map_err(Error::from)
    }

    pub(crate) fn tail_call(
        &self,
        since: Option<u64>,
        max: Option<u64>,
        timeout_ms: u64,
    ) -> std::result::Result<TailStream, CallError> {
        let mut url = self.endpoint(&format!("/tail?timeout_ms={timeout_ms}"));
        if let Some(s) = since {
            url.push_str(&format!("&since_seq={s}"));
        }
        if let Some(m) = max {
            url.push_str(&format!("&max={m}"));
        }
        let mut req = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(
                Duration::from_millis(timeout_ms) + limits::REMOTE_TAIL_SLACK,
            ))
            .build();
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let resp = self.finish(req.call())?;
        let next_seq = resp
            .headers()
            .get(crate::proto::NEXT_SEQ_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let jsonl = resp
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/jsonl"));
        if !jsonl || next_seq.is_none() {
            // Not retried: reconnecting would get the same answer again.
            return Err(CallError::Server(
                Error::new(ErrorKind::Io, "the server's answer is not a tail stream")
                    .with_hint("is this URL a plasmite server? (no plasmite-next-seq header, or not JSON Lines)"),
            ));
        }
        let reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        Ok(TailStream {
            reader: BufReader::with_capacity(64 * 1024, Box::new(reader)),
            next_seq,
            line: Vec::new(),
        })
    }
}

/// The `pool` member of `{"pool": POOL}`.
fn pool_of(body: &[u8]) -> Result<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("invalid answer from the server: {e}"),
        )
    })?;
    Ok(v.get_mut("pool")
        .map(serde_json::Value::take)
        .unwrap_or_default())
}

/// An answer that does not decode is the server's fault, not the user's: `Io`.
fn invalid_answer(e: &Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("invalid answer from the server: {}", e.message()),
    )
    .with_hint("is this URL a plasmite server?")
}

/// Maps an error answer back to an [`Error`] (the envelope's kind when there is one).
fn server_error(resp: ureq::http::Response<ureq::Body>) -> Error {
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .into_with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    if let Some(e) = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| wire::error_from_envelope(&v))
    {
        return e;
    }
    let kind = match status {
        400 | 405 | 411 | 413 | 431 => ErrorKind::Usage,
        401 | 403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::AlreadyExists,
        423 | 429 | 503 => ErrorKind::Busy,
        _ => ErrorKind::Io,
    };
    Error::new(kind, format!("the server answered {status}"))
        .with_hint("is this a plasmite server? (no error envelope in the answer)")
}

/// One tail stream: JSON lines until the server ends it.
pub struct TailStream {
    reader: BufReader<Box<dyn Read + Send>>,
    /// The seq the stream started at (from the server's `plasmite-next-seq` header).
    pub next_seq: Option<u64>,
    line: Vec<u8>,
}

impl TailStream {
    /// The next line; `None` at the end of the stream.
    pub fn next_line(&mut self) -> Result<Option<Line>> {
        self.line.clear();
        loop {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| Error::io("the tail stream broke", e))?;
            if buf.is_empty() {
                return if self.line.is_empty() {
                    Ok(None)
                } else {
                    Err(Error::new(
                        ErrorKind::Io,
                        "the tail stream ended inside a line",
                    ))
                };
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            self.line
                .extend_from_slice(buf.get(..take).unwrap_or_default());
            self.reader.consume(take);
            if self.line.len() as u64 > limits::REMOTE_RESPONSE_BYTES_MAX {
                return Err(Error::new(ErrorKind::Io, "a tail line is too long"));
            }
            if done {
                break;
            }
        }
        let line = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return self.next_line();
        }
        wire::parse_line(line).map(Some).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("invalid line in the tail stream: {}", e.message()),
            )
        })
    }

    /// Whether more bytes are already buffered (the caller may delay flushing its output).
    pub fn has_buffered(&self) -> bool {
        !self.reader.buffer().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("http://127.0.0.1:9700/chat").unwrap();
        assert_eq!(
            (u.base.as_str(), u.https, u.pool.as_str()),
            ("http://127.0.0.1:9700", false, "chat")
        );
        let u = parse_url("https://[::1]:1/a.b").unwrap();
        assert_eq!((u.base.as_str(), u.https), ("https://[::1]:1", true));
        for bad in [
            "ftp://h/p",
            "http://h",
            "http://h/",
            "http:///p",
            "http://h/a/b",
            "http://h/..",
            "http://u@h/p",
            "http://h/p?x=1",
            "http://h/%2e%2e",
        ] {
            assert_eq!(
                parse_url(bad).unwrap_err().kind(),
                ErrorKind::Usage,
                "{bad}"
            );
        }
        assert!(is_url("https://x/y") && !is_url("chat") && !is_url("./http://x"));
    }
}
