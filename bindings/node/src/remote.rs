//! The remote adapter, in this ONE file: pools behind `plasmite serve`, over today's public
//! `plasmite::remote::{Remote, Follow, Options}` (append, get, info, tail) plus three pool-directory
//! requests (`GET/POST /v0/pools`, `DELETE /v0/pools/NAME`) made here with ureq, which `Remote` does
//! not offer. When the core grows one local-or-remote pool handle, this file is what gets replaced.
//!
//! Why Rust rather than `fetch` in JavaScript: the core's client already decodes the error envelope
//! back to the same kinds, sets every timeout, refuses proxies and redirects, verifies TLS with a
//! custom CA, and resumes a broken tail stream from the next seq without duplicating or reordering
//! (`Follow`). Reusing it keeps one mechanism for the CLI and the binding, and its tail runs on the
//! same worker-thread source as a local tail.

use crate::limits;
use crate::tail::{has_tags, Source, Step, TailArgs};
use plasmite::api::{Durability, JsonText, Message, PoolRef};
use plasmite::remote::{self, Event, Follow, Options, Remote};
use plasmite::server::wire;
use plasmite::{Error, ErrorKind, Result};
use std::time::{Duration, Instant};

/// A client over a server's base URL `http(s)://HOST[:PORT]`.
pub struct RemoteClient {
    base: String,
    opts: Options,
    agent: ureq::Agent,
}

impl RemoteClient {
    pub fn new(base: &str, token: Option<String>, tls_ca: Option<String>) -> Result<RemoteClient> {
        let base = base.trim_end_matches('/').to_owned();
        // Validates the base the way pool URLs are validated (with a placeholder pool name).
        let url = remote::parse_url(&format!("{base}/x"))?;
        if url.base != base {
            return Err(Error::usage(format!(
                "a remote client takes a server URL http(s)://HOST:PORT, got {base:?}"
            )));
        }
        let opts = Options {
            token,
            tls_ca: tls_ca.map(Into::into),
        };
        // Checks the options once (TLS file, scheme) with the core's own rules.
        Remote::new(&format!("{base}/x"), &opts)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(plasmite::limits::REMOTE_CONNECT_TIMEOUT))
            .timeout_global(Some(plasmite::limits::REMOTE_REQUEST_TIMEOUT))
            .build()
            .new_agent();
        Ok(RemoteClient { base, opts, agent })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A remote pool ref must be a pool name (a string ref follows the CLI rule: `NAME.plasmite`
    /// is the name `NAME`).
    fn name(r: &PoolRef) -> Result<String> {
        match r {
            PoolRef::Name(n) => {
                plasmite::api::check_name(n)?;
                Ok(n.clone())
            }
            other => Err(Error::usage(format!(
                "a remote client takes pool names, got {other:?} (paths and URIs are local refs)"
            ))),
        }
    }

    fn pool(&self, name: &str) -> Result<RemotePool> {
        let url = format!("{}/{name}", self.base);
        Ok(RemotePool {
            remote: Remote::new(&url, &self.opts)?,
            url,
            opts: self.opts.clone(),
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Result<Vec<u8>> {
        if self.base.starts_with("https://") {
            // The agent here has no TLS settings; the core's `Remote` does.
            return Err(Error::usage(
                "pool-directory operations (create, list, delete) over https are not supported yet",
            ));
        }
        let url = format!("{}{path}", self.base);
        let auth = self.opts.token.as_ref().map(|t| format!("Bearer {t}"));
        let resp = match (method, body) {
            ("POST", Some(b)) => {
                let mut req = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json");
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                req.send(b.to_string().as_bytes())
            }
            ("DELETE", _) => {
                // The server refuses a DELETE without this header (a browser form cannot send it).
                let mut req = self
                    .agent
                    .delete(&url)
                    .header("Content-Type", "application/json");
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            _ => {
                let mut req = self.agent.get(&url);
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
        };
        let resp = resp.map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot reach {}: {e}", self.base))
                .with_hint("is the server up and the URL right?")
        })?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .into_with_config()
            .limit(plasmite::limits::REMOTE_RESPONSE_BYTES_MAX)
            .read_to_vec()
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read the answer: {e}")))?;
        if status < 400 {
            return Ok(bytes);
        }
        let envelope = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
        Err(envelope
            .as_ref()
            .and_then(wire::error_from_envelope)
            .unwrap_or_else(|| {
                let kind = match status {
                    401 | 403 => ErrorKind::Permission,
                    404 => ErrorKind::NotFound,
                    409 => ErrorKind::AlreadyExists,
                    423 => ErrorKind::Busy,
                    400..=499 => ErrorKind::Usage,
                    _ => ErrorKind::Io,
                };
                Error::new(kind, format!("the server answered {status}"))
            }))
    }

    fn json(bytes: &[u8]) -> Result<serde_json::Value> {
        serde_json::from_slice(bytes).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("invalid answer from the server: {e}"),
            )
        })
    }

    pub fn create(&self, r: &PoolRef, size_bytes: u64) -> Result<RemotePool> {
        let name = Self::name(r)?;
        let body = serde_json::json!({"pool": name, "size_bytes": size_bytes});
        self.call("POST", "/v0/pools", Some(body))?;
        self.pool(&name)
    }

    pub fn open(&self, r: &PoolRef) -> Result<RemotePool> {
        let name = Self::name(r)?;
        self.call(
            "POST",
            "/v0/pools/open",
            Some(serde_json::json!({"pool": name})),
        )?;
        self.pool(&name)
    }

    pub fn open_or_create(&self, r: &PoolRef, size_bytes: u64) -> Result<RemotePool> {
        match self.open(r) {
            Err(e) if e.kind() == ErrorKind::NotFound => match self.create(r, size_bytes) {
                Err(e) if e.kind() == ErrorKind::AlreadyExists => self.open(r),
                other => other,
            },
            other => other,
        }
    }

    /// The server's pool objects (its `{"pools":[..]}`), as an array.
    pub fn list(&self) -> Result<serde_json::Value> {
        let mut v = Self::json(&self.call("GET", "/v0/pools", None)?)?;
        Ok(v.get_mut("pools")
            .map(serde_json::Value::take)
            .unwrap_or_default())
    }

    pub fn info(&self, r: &PoolRef) -> Result<serde_json::Value> {
        self.pool(&Self::name(r)?)?.info()
    }

    pub fn delete(&self, r: &PoolRef) -> Result<()> {
        let name = Self::name(r)?;
        self.call("DELETE", &format!("/v0/pools/{name}"), None)
            .map(|_| ())
    }
}

/// One remote pool.
pub struct RemotePool {
    remote: Remote,
    url: String,
    opts: Options,
}

impl RemotePool {
    pub fn append_json(&self, json: &[u8], tags: &[String], d: Durability) -> Result<Message> {
        let text = JsonText::parse(json)?;
        self.remote.append(text.as_str(), tags, d)
    }

    pub fn get(&self, seq: u64) -> Result<Message> {
        self.remote.get(seq)
    }

    pub fn info(&self) -> Result<serde_json::Value> {
        self.remote.info()
    }

    /// The seq the next append will get: after the newest message (1 for a pool never written).
    fn edge(&self) -> Result<u64> {
        let info = self.remote.info()?;
        Ok(info["bounds"]["newest"].as_u64().map_or(1, |n| n + 1))
    }

    /// A tail source: a `Follow` of its own (one connection per tail). Without `sinceSeq` the tail
    /// starts at the live edge as it is now (the seq after the newest), as a local tail does: a
    /// `Follow` connects only when first read, and its edge would be that later one.
    pub fn tail_source(&self, args: &TailArgs) -> Result<Box<dyn Source>> {
        let since = match args.since_seq {
            Some(s) => crate::error::js_u64(s, "sinceSeq")?,
            None => self.edge()?,
        };
        let since = Some(since);
        let remote = Remote::new(&self.url, &self.opts)?;
        Ok(Box::new(RemoteTail {
            follow: Follow::new(remote, since),
            url: self.url.clone(),
            opts: self.opts.clone(),
            exact: args.batch == Some(1.0),
        }))
    }
}

struct RemoteTail {
    follow: Follow,
    url: String,
    opts: Options,
    /// Reads nothing ahead (`batch: 1`): after each message the stream (whose socket holds what the
    /// server already sent) is dropped, and the next read asks again from the next seq, so messages
    /// evicted meanwhile are reported lost, as a local tail reports them.
    exact: bool,
}

impl RemoteTail {
    fn restart(&mut self) -> Result<()> {
        let remote = Remote::new(&self.url, &self.opts)?;
        self.follow = Follow::new(remote, self.follow.resume_seq());
        Ok(())
    }
}

impl Source for RemoteTail {
    fn step(
        &mut self,
        until: Option<Instant>,
        block: bool,
        tags: &[String],
        out: &mut Vec<u8>,
    ) -> Result<Step> {
        if !block && !self.follow.has_buffered() {
            return Ok(Step::CaughtUp);
        }
        // Waits in slices so that the worker sees a cancellation within one slice.
        let slice = Instant::now() + Duration::from_millis(limits::REMOTE_TAIL_SLICE_MS);
        let deadline = until.map_or(slice, |u| u.min(slice));
        match self.follow.next(Some(deadline))? {
            Some(Event::Message(m)) => {
                if self.exact {
                    self.restart()?;
                }
                if has_tags(|| m.tags.iter().map(String::as_str), tags) {
                    m.write_json(out);
                    Ok(Step::Wrote)
                } else {
                    Ok(Step::Skipped)
                }
            }
            Some(Event::Drop { lost }) => Ok(Step::Lost(lost)),
            Some(Event::Skipped(e)) => Err(e),
            None if until.is_some_and(|u| Instant::now() >= u) => Ok(Step::Timeout),
            None => Ok(Step::CaughtUp),
        }
    }
}
