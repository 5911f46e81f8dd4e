//! The remote door: a [`RemoteClient`] for a server's base URL (token, TLS roots) that hands out
//! [`PoolHandle`]s over HTTP, and the pool lifecycle calls the protocol has (create, info, list,
//! delete).
//!
//! Every call goes through `crate::remote::Remote` (one kept-alive agent per pool, explicit
//! timeouts, no proxy, no redirects). Server error envelopes come back as the same [`Error`] kinds as
//! local calls.

use super::client::PoolListing;
use super::handle::PoolHandle;
use super::pool::PoolInfo;
use crate::error::{Error, ErrorKind, Result};
use crate::remote::{Options, Remote};
use std::path::PathBuf;

/// How to reach a server: a bearer token and the certificates to trust for https.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Bearer token sent with every request.
    pub token: Option<String>,
    /// PEM file of the certificates to trust instead of the built-in roots.
    pub tls_ca: Option<PathBuf>,
}

impl RemoteOptions {
    /// Reads the token from a file (surrounding whitespace dropped; 1 to `HTTP_TOKEN_BYTES_MAX`
    /// visible ASCII characters).
    pub fn token_from_file(mut self, path: &std::path::Path) -> Result<RemoteOptions> {
        self.token = Some(crate::proto::read_token_file(path)?);
        Ok(self)
    }

    fn to_remote(&self) -> Options {
        Options {
            token: self.token.clone(),
            tls_ca: self.tls_ca.clone(),
        }
    }
}

/// A client for one server (`http(s)://HOST[:PORT]`). Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct RemoteClient {
    base: String,
    opts: RemoteOptions,
}

/// Whether a pool argument is an HTTP(S) URL.
pub fn is_url(s: &str) -> bool {
    crate::remote::is_url(s)
}

impl RemoteClient {
    /// A client for the server at `base` (`http(s)://HOST[:PORT]`, no path). The URL and the
    /// options are checked here (`Usage`; an unreadable `tls_ca` file is `Io`); no request is sent.
    pub fn new(base: &str, opts: RemoteOptions) -> Result<RemoteClient> {
        let base = base.trim_end_matches('/');
        // The URL rules are those of pool URLs, and so are the option checks: make a client of a
        // placeholder pool (which sends nothing).
        let probe = Remote::new(&format!("{base}/x"), &opts.to_remote())?;
        Ok(RemoteClient {
            base: probe.url().base.clone(),
            opts,
        })
    }

    /// The client and the pool name of a pool URL (`http(s)://HOST[:PORT]/POOL`).
    pub fn for_pool_url(url: &str, opts: RemoteOptions) -> Result<(RemoteClient, String)> {
        let u = crate::remote::parse_url(url)?;
        Ok((RemoteClient { base: u.base, opts }, u.pool))
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn pool_url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// A handle on the pool `name` (no request is sent until it is used).
    pub fn open_pool(&self, name: &str) -> Result<PoolHandle> {
        let opts = self.opts.to_remote();
        let remote = Remote::new(&self.pool_url(name), &opts)?;
        Ok(PoolHandle::from_remote(remote, name.to_owned(), opts))
    }

    /// A handle on the existing pool `name`: its info is asked for first, so a missing pool is
    /// `NotFound` here (as [`crate::api::Client::open_pool`]), not at its first use.
    pub fn open_existing_pool(&self, name: &str) -> Result<PoolHandle> {
        let h = self.open_pool(name)?;
        h.info()?;
        Ok(h)
    }

    /// Opens the pool `name`, creating it with `size_bytes` when missing (races resolved: whoever
    /// loses the creation race opens the winner's pool), as
    /// [`crate::api::Client::open_or_create_pool`].
    pub fn open_or_create_pool(&self, name: &str, size_bytes: u64) -> Result<PoolHandle> {
        match self.open_existing_pool(name) {
            Err(e) if e.kind() == ErrorKind::NotFound => match self.create_pool(name, size_bytes) {
                Err(e) if e.kind() == ErrorKind::AlreadyExists => self.open_existing_pool(name),
                Err(e) => Err(e),
                Ok(_) => self.open_pool(name),
            },
            other => other,
        }
    }

    /// Metadata of the pool `name`.
    pub fn pool_info(&self, name: &str) -> Result<PoolInfo> {
        self.open_pool(name)?.info()
    }

    /// Creates the pool `name` of `size_bytes` on the server; `AlreadyExists` if there is one.
    pub fn create_pool(&self, name: &str, size_bytes: u64) -> Result<PoolInfo> {
        crate::api::check_name(name)?;
        let remote = Remote::new(&self.pool_url(name), &self.opts.to_remote())?;
        info_of_json(&remote.create(Some(size_bytes))?)
    }

    /// Every pool of the server, sorted by name; a pool the server could not read is listed with
    /// its error (kind and message; `path` is the server's).
    pub fn list_pools(&self) -> Result<Vec<PoolListing>> {
        let pools = Remote::new(&self.pool_url("x"), &self.opts.to_remote())?.list_pools()?;
        let mut out = Vec::with_capacity(pools.len());
        for p in &pools {
            let name = p["name"]
                .as_str()
                .ok_or_else(|| invalid_answer("a listed pool has no name"))?;
            let info = match crate::proto::wire::error_from_envelope(p) {
                Some(e) => Err(e),
                None => info_of_json(p),
            };
            out.push(PoolListing {
                name: name.to_owned(),
                path: PathBuf::from(p["path"].as_str().unwrap_or_default()),
                info,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes the pool `name` on the server; `NotFound` when missing, `Busy` while in use.
    pub fn delete_pool(&self, name: &str) -> Result<()> {
        crate::api::check_name(name)?;
        Remote::new(&self.pool_url(name), &self.opts.to_remote())?.delete()
    }
}

fn invalid_answer(why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("invalid answer from the server: {why}"),
    )
}

/// `{"pool": POOL}` → [`PoolInfo`].
/// The HTTP pool object (the same fields as `PoolInfo::to_json`, plus `name`) → [`PoolInfo`].
pub(crate) fn info_of_json(p: &serde_json::Value) -> Result<PoolInfo> {
    let n = |k: &str| {
        p.get(k)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| invalid_answer(format!("the pool object has no {k:?}")))
    };
    let t = |k: &str| {
        p.get(k)
            .and_then(serde_json::Value::as_str)
            .and_then(|s| crate::time::parse_rfc3339(s).ok())
    };
    let b = &p["bounds"];
    let bounds = match (b["oldest"].as_u64(), b["newest"].as_u64()) {
        (Some(o), Some(n)) => Some((o, n)),
        _ => None,
    };
    Ok(PoolInfo {
        path: PathBuf::from(p["path"].as_str().unwrap_or_default()),
        file_size: n("file_size")?,
        index_offset: n("index_offset")?,
        index_slots: n("index_slots")?,
        ring_offset: n("ring_offset")?,
        ring_size: n("ring_size")?,
        bounds,
        message_count: n("message_count")?,
        used_bytes: n("used_bytes")?,
        used_percent: p["used_percent"].as_f64().unwrap_or(0.0),
        oldest_time_ns: t("oldest_time"),
        newest_time_ns: t("newest_time"),
        created_ns: t("created_time").unwrap_or(0),
        writable: p["writable"].as_bool().unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_object_round_trips_through_pool_info() {
        let info = PoolInfo {
            path: "/p/x.plasmite".into(),
            file_size: 1 << 20,
            index_offset: 4096,
            index_slots: 64,
            ring_offset: 8192,
            ring_size: 1000,
            bounds: Some((3, 9)),
            message_count: 7,
            used_bytes: 250,
            used_percent: 25.0,
            oldest_time_ns: Some(1_700_000_000_000_000_001),
            newest_time_ns: Some(1_700_000_000_000_000_002),
            created_ns: 1_600_000_000_000_000_000,
            writable: true,
        };
        assert_eq!(info_of_json(&info.to_json()).unwrap(), info);
        let e = info_of_json(&serde_json::json!({})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
    }

    #[test]
    fn base_urls_follow_the_pool_url_rules() {
        let c = RemoteClient::new("http://127.0.0.1:9700/", RemoteOptions::default()).unwrap();
        assert_eq!(c.base(), "http://127.0.0.1:9700");
        assert_eq!(c.pool_url("chat"), "http://127.0.0.1:9700/chat");
        assert!(RemoteClient::new("ftp://h", RemoteOptions::default()).is_err());
        let (c, name) =
            RemoteClient::for_pool_url("https://h:1/a.b", RemoteOptions::default()).unwrap();
        assert_eq!((c.base(), name.as_str()), ("https://h:1", "a.b"));
    }
}
