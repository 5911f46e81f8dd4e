//! Request handling: authentication, routing, access control, then one function per endpoint. Every
//! failure becomes an [`HttpError`] answered with the error envelope.

use super::auth::check_bearer;
use super::conn::Conn;
use super::head::CONN_HEADER;
use super::respond::HttpError;
use super::routes::{self, number, query, Miss, Route};
use super::tail::{self, TailPlan};
use super::wire;
use super::Shared;
use crate::api::PoolRef;
use crate::error::{Error, ErrorKind};
use std::io::Read;
use std::sync::Arc;

/// What to send back.
pub(crate) enum Reply {
    Json { status: u16, body: Vec<u8> },
    Error(HttpError),
    Tail(Box<TailPlan>),
    // A complete HTTP answer (status line, headers, body), written as is: the web UI's files.
    Raw(Vec<u8>),
}

fn ok(body: Vec<u8>) -> Result<Reply, HttpError> {
    Ok(Reply::Json { status: 200, body })
}

/// What the handlers read of a request, whichever way it came: answered by the proxy itself
/// (`proxy::Direct`) or parsed by tiny_http (tails).
pub(crate) trait Incoming {
    fn method(&self) -> &str;
    /// The request target: path and query.
    fn url(&self) -> &str;
    /// The value of a request header (any case).
    fn header(&self, name: &str) -> Option<&str>;
    /// The minor HTTP version: 0 or 1.
    fn minor(&self) -> u8;
    /// Reads the body, at most `max` bytes.
    fn body(&mut self, max: u64) -> std::io::Result<Vec<u8>>;
}

impl Incoming for tiny_http::Request {
    fn method(&self) -> &str {
        tiny_http::Request::method(self).as_str()
    }
    fn url(&self) -> &str {
        tiny_http::Request::url(self)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
    fn minor(&self) -> u8 {
        u8::from(self.http_version() != &tiny_http::HTTPVersion(1, 0))
    }
    fn body(&mut self, max: u64) -> std::io::Result<Vec<u8>> {
        let mut body = Vec::with_capacity(self.body_length().unwrap_or(0).min(max as usize));
        self.as_reader().take(max).read_to_end(&mut body)?;
        Ok(body)
    }
}

/// The connection id the proxy stamped on the request.
pub(crate) fn conn_id(req: &impl Incoming) -> Option<u64> {
    req.header(CONN_HEADER).and_then(|v| v.parse().ok())
}

/// Handles one request up to (not including) writing the answer.
pub(crate) fn reply(
    shared: &Arc<Shared>,
    conn: Option<&Arc<Conn>>,
    req: &mut impl Incoming,
) -> Reply {
    dispatch(shared, conn, req).unwrap_or_else(Reply::Error)
}

fn dispatch(
    shared: &Arc<Shared>,
    conn: Option<&Arc<Conn>>,
    req: &mut impl Incoming,
) -> Result<Reply, HttpError> {
    let url = req.url().to_owned();
    let (path, q) = url.split_once('?').unwrap_or((&url, ""));
    let method = req.method().to_owned();
    let found = routes::route(&method, path);
    if found == Ok(Route::Health) {
        return ok(br#"{"ok":true}"#.to_vec());
    }
    if let Ok(Route::Ui(page)) = found {
        return Ok(Reply::Raw(super::ui::answer(page, shared.access)));
    }
    check_bearer(shared.token.as_deref(), req.header("Authorization"))?;
    let route = found.map_err(miss)?;
    shared.access.check(route.needs())?;
    if !matches!(route, Route::Tail(_)) {
        query(q, &[])?;
    }
    match route {
        Route::Health => ok(br#"{"ok":true}"#.to_vec()),
        Route::Ui(page) => Ok(Reply::Raw(super::ui::answer(page, shared.access))),
        Route::List => list(shared),
        Route::Create => {
            let body = read_body(shared, req)?;
            let (name, size) = wire::parse_pool_request(&body, true)?;
            let size = size.unwrap_or(crate::limits::POOL_SIZE_BYTES_DEFAULT);
            crate::api::check_name(&name)?;
            let pool = shared
                .pools
                .client()
                .create_pool(&PoolRef::name(&name), size)?;
            pool_object(&name, &pool.info()?)
        }
        Route::Open => {
            let body = read_body(shared, req)?;
            let (name, _) = wire::parse_pool_request(&body, false)?;
            let pool = shared.pools.open(&name)?;
            pool_object(&name, &pool.info()?)
        }
        Route::Info(name) => pool_object(name, &shared.pools.open(name)?.info()?),
        Route::Delete(name) => {
            crate::api::check_name(name)?;
            shared.pools.forget(name);
            shared.pools.client().delete_pool(&PoolRef::name(name))?;
            ok(br#"{"ok":true}"#.to_vec())
        }
        Route::Append(name) => {
            let body = read_body(shared, req)?;
            let pool = shared.pools.open(name)?;
            let a = wire::parse_append(&body)?;
            let m = pool.append_text(&a.data, &a.tags, a.durability)?;
            ok(wire::message_body(&m))
        }
        Route::Get(name, seq) => {
            let pool = shared.pools.open(name)?;
            let seq = number("seq", seq)?;
            ok(wire::message_body(&pool.get(seq)?))
        }
        Route::Tail(name) => tail::plan(shared, conn, req.minor(), name, q),
    }
}

fn miss(m: Miss) -> HttpError {
    match m {
        Miss::NotFound => HttpError::new(
            404,
            Error::new(ErrorKind::NotFound, "no such endpoint")
                .with_hint("the protocol lives under /v0/ (see spec/http.md)"),
        ),
        Miss::Method(allow) => HttpError::new(
            405,
            Error::usage("method not allowed for this endpoint")
                .with_hint(format!("this endpoint takes {allow}")),
        )
        .with_header("Allow", allow),
    }
}

/// Reads the whole body (the proxy already refused a `Content-Length` over the limit).
fn read_body(shared: &Shared, req: &mut impl Incoming) -> Result<Vec<u8>, HttpError> {
    let max = shared.limits.body_bytes_max;
    let body = req
        .body(max + 1)
        .map_err(|e| Error::io("cannot read the request body", e))?;
    if body.len() as u64 > max {
        return Err(HttpError::new(
            413,
            Error::usage(format!("request body too large (the limit is {max} bytes)")),
        ));
    }
    Ok(body)
}

fn pool_json(name: &str, info: &crate::api::PoolInfo) -> serde_json::Value {
    let mut v = info.to_json();
    if let Some(o) = v.as_object_mut() {
        o.insert("name".into(), name.into());
    }
    v
}

fn pool_object(name: &str, info: &crate::api::PoolInfo) -> Result<Reply, HttpError> {
    let v = serde_json::json!({ "pool": pool_json(name, info) });
    ok(serde_json::to_vec(&v).unwrap_or_default())
}

fn list(shared: &Shared) -> Result<Reply, HttpError> {
    let pools: Vec<serde_json::Value> = shared
        .pools
        .client()
        .list_pools()?
        .into_iter()
        .map(|l| match &l.info {
            Ok(info) => pool_json(&l.name, info),
            Err(e) => serde_json::json!({
                "name": l.name,
                "path": l.path.display().to_string(),
                "error": { "kind": e.kind().as_str(), "message": e.message() },
            }),
        })
        .collect();
    ok(serde_json::to_vec(&serde_json::json!({ "pools": pools })).unwrap_or_default())
}
