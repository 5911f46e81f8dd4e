//! `NativeClient` and `NativePool`: the contract's lifecycle and message operations. A client is the
//! core's `Client` (a pool directory) or `RemoteClient` (a server); both hand out the core's one
//! `PoolHandle`, so a `NativePool` is the same code for both doors. Results that are objects cross
//! as JSON text (one string per call, parsed by `index.js`); the append receipt, the hot path, is one
//! `"SEQ TIME"` string.

use crate::error::{js_u64, lift, usage};
use crate::tail::{self, NativeTail, TailArgs};
use napi::bindgen_prelude::{AsyncTask, BufferSlice};
use napi::threadsafe_function::{ErrorStrategy, ThreadsafeFunction};
use napi::{Env, Task};
use napi_derive::napi;
use plasmite::api::{
    is_url, Client, Durability, JsonText, Pool, PoolHandle, PoolListing, PoolRef, RemoteClient,
    RemoteOptions,
};
use plasmite::Error;
use std::path::Path;
use std::sync::Arc;

enum Backend {
    Local(Client),
    Remote(RemoteClient),
}

/// A client over a pool directory, or over a `plasmite serve` base URL (`http(s)://HOST:PORT`).
#[napi]
pub struct NativeClient {
    backend: Backend,
}

#[napi]
impl NativeClient {
    /// `dir`: a directory (default `$HOME/.plasmite/pools`) or a base URL; `token` and `tls_ca` only
    /// apply to a URL.
    #[napi(constructor)]
    pub fn new(
        dir: Option<String>,
        token: Option<String>,
        tls_ca: Option<String>,
    ) -> napi::Result<Self> {
        let backend = match dir {
            Some(d) if is_url(&d) => {
                let opts = RemoteOptions {
                    token,
                    tls_ca: tls_ca.map(Into::into),
                };
                Backend::Remote(lift(RemoteClient::new(&d, opts))?)
            }
            _ if token.is_some() || tls_ca.is_some() => {
                return Err(usage(
                    "token and tlsCa only apply to a remote client (an http(s) URL)",
                ))
            }
            Some(d) => Backend::Local(Client::new(d)),
            None => Backend::Local(Client::new(lift(Client::default_dir())?)),
        };
        Ok(NativeClient { backend })
    }

    /// The directory, or the base URL.
    #[napi(getter)]
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Local(c) => c.dir().display().to_string(),
            Backend::Remote(r) => r.base().to_owned(),
        }
    }

    #[napi]
    pub fn create_pool(
        &self,
        pool_ref: String,
        ref_kind: Option<String>,
        size_bytes: f64,
    ) -> napi::Result<NativePool> {
        let size = lift(js_u64(size_bytes, "size"))?;
        let r = lift(parse_ref(&pool_ref, ref_kind.as_deref()))?;
        let inner = match &self.backend {
            Backend::Local(c) => PoolImpl::local(lift(c.create_pool(&r, size))?, &r),
            Backend::Remote(rc) => {
                let name = lift(remote_name(&r))?;
                lift(rc.create_pool(&name, size))?;
                PoolImpl::remote(lift(rc.open_pool(&name))?, name)
            }
        };
        Ok(NativePool::new(inner))
    }

    /// `read_only`: a handle that never writes (appends fail with `Permission`), local pools only.
    #[napi]
    pub fn open_pool(
        &self,
        pool_ref: String,
        ref_kind: Option<String>,
        read_only: Option<bool>,
    ) -> napi::Result<NativePool> {
        let read_only = read_only.unwrap_or(false);
        let r = lift(parse_ref(&pool_ref, ref_kind.as_deref()))?;
        let inner = match &self.backend {
            Backend::Local(c) => {
                let pool = if read_only {
                    lift(c.resolve(&r).and_then(|p| Pool::open_path_read_only(&p)))?
                } else {
                    lift(c.open_pool(&r))?
                };
                PoolImpl::local(pool, &r)
            }
            Backend::Remote(_) if read_only => return Err(usage(
                "a remote pool handle cannot be read-only: serve the pools with --access read-only",
            )),
            Backend::Remote(rc) => {
                let name = lift(remote_name(&r))?;
                PoolImpl::remote(lift(rc.open_existing_pool(&name))?, name)
            }
        };
        Ok(NativePool::new(inner))
    }

    /// Opens the pool, creating it with `size_bytes` when missing.
    #[napi]
    pub fn pool(
        &self,
        pool_ref: String,
        ref_kind: Option<String>,
        size_bytes: f64,
    ) -> napi::Result<NativePool> {
        let size = lift(js_u64(size_bytes, "size"))?;
        let r = lift(parse_ref(&pool_ref, ref_kind.as_deref()))?;
        let inner = match &self.backend {
            Backend::Local(c) => PoolImpl::local(lift(c.open_or_create_pool(&r, size))?, &r),
            Backend::Remote(rc) => {
                let name = lift(remote_name(&r))?;
                PoolImpl::remote(lift(rc.open_or_create_pool(&name, size))?, name)
            }
        };
        Ok(NativePool::new(inner))
    }

    /// JSON array of pool objects (`{name, path, …info}` or `{name, path, error}`), sorted by name.
    #[napi]
    pub fn list_pools(&self) -> napi::Result<String> {
        let listed = lift(match &self.backend {
            Backend::Local(c) => c.list_pools(),
            Backend::Remote(rc) => rc.list_pools(),
        })?;
        let out: Vec<serde_json::Value> = listed.iter().map(listing_object).collect();
        Ok(serde_json::Value::Array(out).to_string())
    }

    /// JSON text of the pool object.
    #[napi]
    pub fn pool_info(&self, pool_ref: String, ref_kind: Option<String>) -> napi::Result<String> {
        let r = lift(parse_ref(&pool_ref, ref_kind.as_deref()))?;
        let (name, info) = match &self.backend {
            Backend::Local(c) => (ref_name(&r), c.pool_info(&r)),
            Backend::Remote(rc) => {
                let name = lift(remote_name(&r))?;
                let info = rc.pool_info(&name);
                (name, info)
            }
        };
        Ok(with_name(lift(info)?.to_json(), &name).to_string())
    }

    #[napi]
    pub fn delete_pool(&self, pool_ref: String, ref_kind: Option<String>) -> napi::Result<()> {
        let r = lift(parse_ref(&pool_ref, ref_kind.as_deref()))?;
        match &self.backend {
            Backend::Local(c) => lift(c.delete_pool(&r)),
            Backend::Remote(rc) => lift(remote_name(&r).and_then(|n| rc.delete_pool(&n))),
        }
    }
}

/// A pool ref from its text and kind: `"name"`, `"path"`, `"uri"`, or none (the CLI rule,
/// `PoolRef::parse`).
fn parse_ref(text: &str, kind: Option<&str>) -> plasmite::Result<PoolRef> {
    match kind {
        None => Ok(PoolRef::parse(text)),
        Some("name") => Ok(PoolRef::name(text)),
        Some("path") => Ok(PoolRef::path(text)),
        Some("uri") => Ok(PoolRef::uri(text)),
        Some(k) => Err(Error::usage(format!("unknown pool ref kind {k:?}"))
            .with_hint("a ref is a string, or {name}, {path} or {uri}")),
    }
}

/// A remote pool ref must be a pool name (a string ref follows the CLI rule: `NAME.plasmite` is the
/// name `NAME`).
fn remote_name(r: &PoolRef) -> plasmite::Result<String> {
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

/// A listed pool's object: `{name, path, …info}` or `{name, path, error}`.
fn listing_object(l: &PoolListing) -> serde_json::Value {
    match &l.info {
        Ok(info) => with_name(info.to_json(), &l.name),
        Err(e) => serde_json::json!({
            "name": l.name,
            "path": l.path.display().to_string(),
            "error": e.to_json()["error"].take(),
        }),
    }
}

fn with_name(mut v: serde_json::Value, name: &str) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("name".into(), name.into());
    }
    v
}

/// The name a pool object shows: the ref's name, or a path's file stem.
fn ref_name(r: &PoolRef) -> String {
    match r {
        PoolRef::Name(n) => n.clone(),
        PoolRef::Path(p) => Path::new(p)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        PoolRef::Uri(u) => u.clone(),
    }
}

/// An open pool of either door, and the name its info object shows.
pub(crate) struct PoolImpl {
    handle: PoolHandle,
    name: String,
}

impl PoolImpl {
    fn local(pool: Pool, r: &PoolRef) -> PoolImpl {
        PoolImpl {
            handle: PoolHandle::Local(pool),
            name: ref_name(r),
        }
    }

    fn remote(handle: PoolHandle, name: String) -> PoolImpl {
        PoolImpl { handle, name }
    }
}

/// An open pool, local or remote.
#[napi]
pub struct NativePool {
    inner: Option<Arc<PoolImpl>>,
}

impl NativePool {
    fn new(inner: PoolImpl) -> NativePool {
        NativePool {
            inner: Some(Arc::new(inner)),
        }
    }
}

impl PoolImpl {
    fn append(&self, json: &[u8], tags: &[String], flush: bool) -> plasmite::Result<String> {
        let text = JsonText::parse(json)?;
        let m = self.handle.append_text(&text, tags, durability(flush))?;
        Ok(receipt(&m))
    }

    fn get(&self, seq: u64) -> plasmite::Result<String> {
        let m = self.handle.get(seq)?;
        let mut out = Vec::with_capacity(m.data.len() + 96);
        m.write_json(&mut out);
        String::from_utf8(out).map_err(|e| Error::usage(e.to_string()))
    }
}

/// What an async call does on libuv's thread pool (the call itself never waits for long).
pub enum Job {
    Append {
        json: Vec<u8>,
        tags: Vec<String>,
        flush: bool,
    },
    Get(u64),
}

/// A pool operation run off the event loop; resolves to the same text as its synchronous twin.
pub struct PoolTask {
    pool: Arc<PoolImpl>,
    job: Job,
}

impl Task for PoolTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        lift(match &self.job {
            Job::Append { json, tags, flush } => self.pool.append(json, tags, *flush),
            Job::Get(seq) => self.pool.get(*seq),
        })
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

fn durability(flush: bool) -> Durability {
    if flush {
        Durability::Flush
    } else {
        Durability::Fast
    }
}

/// The append receipt as one string, `"SEQ TIME"` (one value across the boundary on the hot path;
/// `index.js` splits it and already has the tags and the data).
fn receipt(m: &plasmite::Message) -> String {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(m.seq.to_string().as_bytes());
    out.push(b' ');
    plasmite::api::write_rfc3339_nanos(m.time_ns, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[napi]
impl NativePool {
    fn get_inner(&self) -> napi::Result<&Arc<PoolImpl>> {
        self.inner
            .as_ref()
            .ok_or_else(|| usage("the pool handle is closed"))
    }

    fn task(&self, job: Job) -> napi::Result<AsyncTask<PoolTask>> {
        Ok(AsyncTask::new(PoolTask {
            pool: Arc::clone(self.get_inner()?),
            job,
        }))
    }

    /// `appendBuf` on libuv's thread pool (the bytes are copied first).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn append_buf_async(
        &self,
        json: BufferSlice,
        tags: Option<Vec<String>>,
        flush: bool,
    ) -> napi::Result<AsyncTask<PoolTask>> {
        self.task(Job::Append {
            json: json.to_vec(),
            tags: tags.unwrap_or_default(),
            flush,
        })
    }

    /// `appendStr` on libuv's thread pool.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn append_str_async(
        &self,
        json: String,
        tags: Option<Vec<String>>,
        flush: bool,
    ) -> napi::Result<AsyncTask<PoolTask>> {
        self.task(Job::Append {
            json: json.into_bytes(),
            tags: tags.unwrap_or_default(),
            flush,
        })
    }

    /// `get` on libuv's thread pool.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_async(&self, seq: f64) -> napi::Result<AsyncTask<PoolTask>> {
        self.task(Job::Get(lift(js_u64(seq, "seq"))?))
    }

    fn append_bytes(
        &self,
        json: &[u8],
        tags: Option<Vec<String>>,
        flush: bool,
    ) -> napi::Result<String> {
        lift(
            self.get_inner()?
                .append(json, &tags.unwrap_or_default(), flush),
        )
    }

    /// Appends JSON text given as bytes.
    #[napi]
    pub fn append_buf(
        &self,
        json: BufferSlice,
        tags: Option<Vec<String>>,
        flush: bool,
    ) -> napi::Result<String> {
        self.append_bytes(&json, tags, flush)
    }

    /// Appends JSON text given as a string.
    #[napi]
    pub fn append_str(
        &self,
        json: String,
        tags: Option<Vec<String>>,
        flush: bool,
    ) -> napi::Result<String> {
        self.append_bytes(json.as_bytes(), tags, flush)
    }

    /// The envelope of message `seq`, as JSON text.
    #[napi]
    pub fn get(&self, seq: f64) -> napi::Result<String> {
        let seq = lift(js_u64(seq, "seq"))?;
        lift(self.get_inner()?.get(seq))
    }

    /// JSON text of the pool object.
    #[napi]
    pub fn info(&self) -> napi::Result<String> {
        let p = self.get_inner()?;
        Ok(with_name(lift(p.handle.info())?.to_json(), &p.name).to_string())
    }

    /// Drops this handle (the pool's mapping is released once no tail uses it either).
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }

    /// Starts a tail whose worker calls `on_batch` with each batch's JSON text.
    #[napi]
    pub fn tail(
        &self,
        env: Env,
        args: TailArgs,
        on_batch: ThreadsafeFunction<String, ErrorStrategy::Fatal>,
    ) -> napi::Result<NativeTail> {
        let source = lift(tail::source(&self.get_inner()?.handle, &args))?;
        tail::start(&env, source, args, on_batch)
    }
}
