//! The remote adapter: everything the binding needs from a plasmite server, in one file, so it can be
//! switched to the core's local-or-remote pool handle when that lands.
//!
//! Per-pool calls (append, get, info, tail) go through the core's `plasmite::remote::{Remote, Follow}`.
//! The lifecycle endpoints (`POST /v0/pools`, `POST /v0/pools/open`, `GET /v0/pools`,
//! `DELETE /v0/pools/NAME`) have no client in the core yet, so they are called here with ureq, set up
//! like the core's client: explicit timeouts from `plasmite::limits`, no proxy, no redirects, answers
//! capped, error envelopes mapped back to the same `ErrorKind`.
//!
//! A remote tail runs its `Follow` on a thread of its own feeding a bounded channel, so the Python side
//! can wait in short slices (signals, closed pools) without cutting HTTP streams short.

use plasmite::limits;
use plasmite::remote::{Event, Follow, Options, Remote};
use plasmite::server::wire;
use plasmite::{Durability, Error, ErrorKind, Message, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a tail thread waits for one event before checking whether it is still wanted.
const TAIL_THREAD_SLICE: Duration = Duration::from_secs(1);
/// Events a tail thread may buffer ahead of the Python consumer.
const TAIL_CHANNEL_EVENTS: usize = 1024;

/// A client of one server (`http(s)://HOST[:PORT]`).
pub struct RemoteClient {
    base: String,
    opts: Options,
    agent: ureq::Agent,
    auth: Option<String>,
}

/// One remote pool.
pub struct RemotePool {
    url: String,
    opts: Options,
    remote: Remote,
}

/// What a remote tail delivers.
pub enum RemoteEvent {
    Message(Message),
    Lost(u64),
}

/// One poll of a remote tail.
pub enum Got {
    Event(RemoteEvent),
    /// Nothing yet.
    Nothing,
    /// The following thread has ended (after reporting its error).
    Ended,
}

/// What the following thread sends: an event, and the follower's resume seq after it.
type Fed = (Result<RemoteEvent>, Option<u64>);

/// A remote tail: a following thread and the channel it feeds.
pub struct RemoteTail {
    rx: Mutex<Receiver<Fed>>,
    stop: Arc<AtomicBool>,
    /// The seq the next message will have at least, as of the last event taken from the channel.
    resume: u64,
}

impl Drop for RemoteTail {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Whether a pool directory argument is a server URL.
pub fn is_server_url(s: &str) -> bool {
    plasmite::remote::is_url(s)
}

impl RemoteClient {
    /// A client of the server at `base` (`http(s)://HOST[:PORT]`, an optional trailing `/`).
    pub fn new(base: &str, token: Option<String>, tls_ca: Option<PathBuf>) -> Result<RemoteClient> {
        let base = base.trim_end_matches('/').to_owned();
        let opts = Options { token, tls_ca };
        // Checks the URL (scheme, host) and the TLS options the way pool URLs are checked.
        let probe = Remote::new(&format!("{base}/probe"), &opts).map_err(|e| {
            Error::usage(format!("invalid server URL {base:?}: {}", e.message()))
                .with_hint("write it as http://HOST:PORT or https://HOST:PORT")
        })?;
        drop(probe);
        let mut cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(limits::REMOTE_CONNECT_TIMEOUT))
            .timeout_global(Some(limits::REMOTE_REQUEST_TIMEOUT))
            .max_response_header_size(limits::REMOTE_RESPONSE_HEAD_BYTES_MAX)
            .user_agent(format!("plasmite-python/{}", env!("CARGO_PKG_VERSION")));
        if base.starts_with("https://") {
            cfg = cfg.tls_config(tls_config(&opts)?);
        }
        Ok(RemoteClient {
            auth: opts.token.as_ref().map(|t| format!("Bearer {t}")),
            agent: ureq::Agent::new_with_config(cfg.build()),
            base,
            opts,
        })
    }

    /// The server URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn pool_handle(&self, name: &str) -> Result<RemotePool> {
        let url = format!("{}/{name}", self.base);
        Ok(RemotePool {
            remote: Remote::new(&url, &self.opts)?,
            opts: self.opts.clone(),
            url,
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<serde_json::Value> {
        let url = format!("{}{path}", self.base);
        let resp = match (method, body) {
            ("POST", Some(b)) => {
                let mut req = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json");
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.send(&b[..])
            }
            ("DELETE", _) => {
                // The server refuses a DELETE without the JSON content type (its browser rules).
                let mut req = self
                    .agent
                    .delete(&url)
                    .header("Content-Type", "application/json");
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            _ => {
                let mut req = self.agent.get(&url);
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
        }
        .map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot reach {}: {e}", self.base))
                .with_hint("is the server up and the URL right?")
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .into_with_config()
            .limit(limits::REMOTE_RESPONSE_BYTES_MAX)
            .read_to_vec()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read the answer: {e}")))?;
        let v: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        if status >= 400 {
            return Err(v
                .as_ref()
                .and_then(wire::error_from_envelope)
                .unwrap_or_else(|| status_error(status)));
        }
        v.ok_or_else(|| Error::new(ErrorKind::Io, "invalid JSON in the server's answer"))
    }

    /// `POST /v0/pools`.
    pub fn create_pool(&self, name: &str, size_bytes: u64) -> Result<RemotePool> {
        let body = serde_json::json!({"pool": name, "size_bytes": size_bytes});
        self.call("POST", "/v0/pools", Some(body.to_string().into_bytes()))?;
        self.pool_handle(name)
    }

    /// `POST /v0/pools/open`.
    pub fn open_pool(&self, name: &str) -> Result<RemotePool> {
        let body = serde_json::json!({ "pool": name });
        self.call(
            "POST",
            "/v0/pools/open",
            Some(body.to_string().into_bytes()),
        )?;
        self.pool_handle(name)
    }

    /// `GET /v0/pools`: the pool objects (an unreadable pool has an `error` object).
    pub fn list_pools(&self) -> Result<Vec<serde_json::Value>> {
        let mut v = self.call("GET", "/v0/pools", None)?;
        match v.get_mut("pools").map(serde_json::Value::take) {
            Some(serde_json::Value::Array(a)) => Ok(a),
            _ => Err(Error::new(
                ErrorKind::Io,
                "the server's pool list has no pools array",
            )),
        }
    }

    /// The pool object of `name`.
    pub fn pool_info(&self, name: &str) -> Result<serde_json::Value> {
        self.pool_handle(name)?.info()
    }

    /// `DELETE /v0/pools/NAME`.
    pub fn delete_pool(&self, name: &str) -> Result<()> {
        plasmite::api::check_name(name)?;
        self.call("DELETE", &format!("/v0/pools/{name}"), None)
            .map(|_| ())
    }
}

impl RemotePool {
    /// The pool URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Appends compact, validated JSON text.
    pub fn append(&self, data: &str, tags: &[String], durability: Durability) -> Result<Message> {
        self.remote.append(data, tags, durability)
    }

    /// Message `seq`.
    pub fn get(&self, seq: u64) -> Result<Message> {
        self.remote.get(seq)
    }

    /// The pool object (`name`, `path`, `bounds`, …).
    pub fn info(&self) -> Result<serde_json::Value> {
        self.remote.info()
    }

    /// Follows the pool from `since` (inclusive; the live edge when `None`).
    pub fn tail(&self, since: Option<u64>) -> Result<RemoteTail> {
        // The live edge is taken now, not when the thread's first stream reaches the server, so a
        // message appended right after `tail()` returns is delivered (as a local tail would).
        let since = match since {
            Some(s) => s,
            None => edge_of(&self.remote.info()?),
        };
        let mut follow = Follow::new(Remote::new(&self.url, &self.opts)?, Some(since));
        let (tx, rx) = sync_channel(TAIL_CHANNEL_EVENTS);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("plasmite-remote-tail".into())
            .spawn(move || {
                while !stopped.load(Ordering::SeqCst) {
                    let ev = match follow.next(Some(Instant::now() + TAIL_THREAD_SLICE)) {
                        Ok(None) => continue,
                        Ok(Some(Event::Message(m))) => Ok(RemoteEvent::Message(m)),
                        Ok(Some(Event::Drop { lost })) => Ok(RemoteEvent::Lost(lost)),
                        Ok(Some(Event::Skipped(e))) => Err(e),
                        Err(e) => {
                            let _ = tx.send((Err(e), follow.resume_seq()));
                            return;
                        }
                    };
                    if tx.send((ev, follow.resume_seq())).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| Error::io("cannot start the remote tail thread", e))?;
        Ok(RemoteTail {
            rx: Mutex::new(rx),
            stop,
            resume: since,
        })
    }
}

impl RemoteTail {
    /// The seq the next message will have at least (after the events taken so far).
    pub fn next_seq(&self) -> u64 {
        self.resume
    }

    fn took(&mut self, (ev, resume): Fed) -> Result<Got> {
        if let Some(r) = resume {
            self.resume = self.resume.max(r);
        }
        ev.map(Got::Event)
    }

    /// The next event without waiting.
    pub fn try_next(&mut self) -> Result<Got> {
        let got = self.rx.get_mut().map_err(|_| poisoned())?.try_recv();
        match got {
            Ok(fed) => self.took(fed),
            Err(TryRecvError::Empty) => Ok(Got::Nothing),
            Err(TryRecvError::Disconnected) => Ok(Got::Ended),
        }
    }

    /// The next event, waiting at most `wait`.
    pub fn next_within(&mut self, wait: Duration) -> Result<Got> {
        let got = self
            .rx
            .get_mut()
            .map_err(|_| poisoned())?
            .recv_timeout(wait);
        match got {
            Ok(fed) => self.took(fed),
            Err(RecvTimeoutError::Timeout) => Ok(Got::Nothing),
            Err(RecvTimeoutError::Disconnected) => Ok(Got::Ended),
        }
    }
}

/// The seq after the newest message of a pool object (1 when the pool is empty).
fn edge_of(info: &serde_json::Value) -> u64 {
    info.get("bounds")
        .and_then(|b| b.get("newest"))
        .and_then(serde_json::Value::as_u64)
        .map_or(1, |n| n + 1)
}

fn poisoned() -> Error {
    Error::new(ErrorKind::Internal, "the remote tail's channel is poisoned")
}

fn status_error(status: u16) -> Error {
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

fn tls_config(opts: &Options) -> Result<ureq::tls::TlsConfig> {
    use ureq::tls::{PemItem, RootCerts, TlsConfig, TlsProvider};
    let mut b = TlsConfig::builder().provider(TlsProvider::Rustls);
    if let Some(path) = &opts.tls_ca {
        let pem = std::fs::read(path)
            .map_err(|e| Error::io("cannot read the tls_ca file", e).with_path(path))?;
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(Error::usage("the tls_ca file holds no certificate").with_path(path));
        }
        b = b.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    Ok(b.build())
}
