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

/// The value of a request header.
pub(crate) fn header<'a>(req: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The connection id the proxy stamped on the request.
pub(crate) fn conn_id(req: &tiny_http::Request) -> Option<u64> {
    header(req, CONN_HEADER).and_then(|v| v.parse().ok())
}

/// Handles one request up to (not including) writing the answer.
pub(crate) fn reply(
    shared: &Arc<Shared>,
    conn: Option<&Arc<Conn>>,
    req: &mut tiny_http::Request,
) -> Reply {
    dispatch(shared, conn, req).unwrap_or_else(Reply::Error)
}

fn dispatch(
    shared: &Arc<Shared>,
    conn: Option<&Arc<Conn>>,
    req: &mut tiny_http::Request,
) -> Result<Reply, HttpError> {
    let url = req.url().to_owned();
    let (path, q) = url.split_once('?').unwrap_or((&url, ""));
    let method = req.method().as_str().to_owned();
    let found = routes::route(&method, path);
    if found == Ok(Route::Health) {
        return ok(br#"{"ok":true}"#.to_vec());
    }
    if let Ok(Route::Ui(page)) = found {
        return Ok(Reply::Raw(super::ui::answer(page, shared.access)));
    }
    check_bearer(shared.token.as_deref(), header(req, "Authorization"))?;
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
        Route::Tail(name) => {
            let minor = if req.http_version() == &tiny_http::HTTPVersion(1, 0) {
                0
            } else {
                1
            };
            tail::plan(shared, conn, minor, name, q)
        }
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
fn read_body(shared: &Shared, req: &mut tiny_http::Request) -> Result<Vec<u8>, HttpError> {
    let max = shared.limits.body_bytes_max;
    let mut body = Vec::with_capacity(req.body_length().unwrap_or(0).min(max as usize));
    req.as_reader()
        .take(max + 1)
        .read_to_end(&mut body)
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
