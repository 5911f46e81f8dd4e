//! Request handling: the browser rules (`Host`, `Origin`, preflights, JSON content type),
//! authentication, routing, access control, then one function per endpoint; and writing the answer.
//! Every failure becomes an [`HttpError`] answered with the error envelope.

use super::auth::check_bearer;
use super::browser::{self, Origin};
use super::conn::Conn;
use super::head;
use super::respond::{self, HttpError};
use super::routes::{self, number, query, Miss, Route};
use super::tail::{self, TailPlan};
use super::wire;
use super::Shared;
use crate::api::{check_name, PoolRef};
use crate::error::{Error, ErrorKind};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// What to send back.
pub(crate) enum Reply {
    Json {
        status: u16,
        body: Vec<u8>,
    },
    Error(HttpError),
    Tail(Box<TailPlan>),
    /// A complete HTTP answer (status line, headers, body), written as is: the web UI's files.
    Raw(Vec<u8>),
    /// `204 No Content` to a CORS preflight.
    Preflight,
}

fn ok(body: Vec<u8>) -> Result<Reply, HttpError> {
    Ok(Reply::Json { status: 200, body })
}

/// A request read whole by the connection thread: its head (parsed once) and body.
pub(crate) struct Request<'a> {
    pub(crate) parts: head::Parts<'a>,
    /// The minor HTTP version: 0 or 1.
    pub(crate) minor: u8,
    pub(crate) body: Vec<u8>,
}

impl Request<'_> {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.parts.header(name)
    }
}

/// Runs the handlers on one request; a panic in a handler becomes a 500 envelope.
pub(crate) fn reply_safely(shared: &Arc<Shared>, conn: &Arc<Conn>, req: &mut Request<'_>) -> Reply {
    catch_unwind(AssertUnwindSafe(|| dispatch(shared, conn, req))).unwrap_or_else(|_| {
        Reply::Error(HttpError::new(
            500,
            Error::new(
                ErrorKind::Internal,
                "the server failed while handling this request (a bug)",
            ),
        ))
    })
}

fn dispatch(shared: &Arc<Shared>, conn: &Arc<Conn>, req: &mut Request<'_>) -> Reply {
    route_request(shared, conn, req).unwrap_or_else(Reply::Error)
}

/// The browser rules, checked before anything else (even `/healthz`).
fn check_browser(shared: &Shared, req: &Request<'_>) -> Result<Option<Reply>, HttpError> {
    let host = req.header("Host");
    if !shared.browser.host_allowed(host) {
        return Err(HttpError::new(
            421,
            Error::usage(format!(
                "this server does not answer for the host {:?}",
                host.unwrap_or_default()
            ))
            .with_hint(
                "use the server's address, or start it with --allow-host NAME for that name",
            ),
        ));
    }
    match shared.browser.origin(req.header("Origin"), host) {
        Origin::Foreign(o) => Err(HttpError::new(
            403,
            Error::new(
                ErrorKind::Permission,
                format!("requests from the web origin {o:?} are not allowed"),
            )
            .with_hint("start the server with --cors-origin ORIGIN to allow that site"),
        )),
        Origin::Cors(_) if req.parts.method == "OPTIONS" => Ok(Some(Reply::Preflight)),
        _ => Ok(None),
    }
}

fn route_request(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    req: &mut Request<'_>,
) -> Result<Reply, HttpError> {
    if let Some(answer) = check_browser(shared, req)? {
        return Ok(answer);
    }
    let target = req.parts.target;
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let method = req.parts.method;
    let found = routes::route(method, path);
    if found == Ok(Route::Health) {
        return ok(br#"{"ok":true}"#.to_vec());
    }
    if let Ok(Route::Ui(page)) = found {
        return Ok(Reply::Raw(super::ui::answer(page, shared.access)));
    }
    check_bearer(shared.token.as_deref(), req.header("Authorization"))?;
    let route = found.map_err(miss)?;
    shared.access.check(route.needs())?;
    if matches!(method, "POST" | "DELETE") && !browser::is_json(req.header("Content-Type")) {
        return Err(HttpError::new(
            415,
            Error::usage("POST and DELETE requests need Content-Type: application/json")
                .with_hint("send the header 'Content-Type: application/json'"),
        ));
    }
    if !matches!(route, Route::Tail(_)) {
        query(q, &[])?;
    }
    match route {
        Route::Health => ok(br#"{"ok":true}"#.to_vec()),
        Route::Ui(page) => Ok(Reply::Raw(super::ui::answer(page, shared.access))),
        Route::List => list(shared),
        Route::Create => {
            let (name, size) = wire::parse_pool_request(&req.body, true)?;
            create(shared, &pool_name(&name)?, size)
        }
        Route::Open => {
            let (name, _) = wire::parse_pool_request(&req.body, false)?;
            let name = pool_name(&name)?;
            pool_object(&name, &shared.pools.open(&name)?.info()?)
        }
        Route::Info(name) => {
            let name = pool_name(name)?;
            pool_object(&name, &shared.pools.open(&name)?.info()?)
        }
        Route::Delete(name) => {
            let name = pool_name(name)?;
            shared.pools.forget(&name);
            shared.pools.client().delete_pool(&PoolRef::name(&name))?;
            ok(br#"{"ok":true}"#.to_vec())
        }
        Route::Append(name) => {
            let pool = shared.pools.open(&pool_name(name)?)?;
            let a = wire::parse_append(&req.body)?;
            let m = pool.append_text(&a.data, &a.tags, a.durability)?;
            ok(wire::message_body(&m))
        }
        Route::Get(name, seq) => {
            let pool = shared.pools.open(&pool_name(name)?)?;
            let seq = number("seq", seq)?;
            ok(wire::message_body(&pool.get(seq)?))
        }
        Route::Tail(name) => tail::plan(shared, conn, req.minor, &pool_name(name)?, q),
        Route::Mcp => super::mcp::answer(shared, conn, req),
    }
}

/// The pool a name in a path or body means, by the CLI's rule (`PoolRef::parse`): `NAME.plasmite`
/// is the pool `NAME`, so both spellings reach the same file on every surface.
pub(crate) fn pool_name(raw: &str) -> Result<String, HttpError> {
    match PoolRef::parse(raw) {
        PoolRef::Name(n) => {
            check_name(&n)?;
            Ok(n)
        }
        _ => Err(check_name(raw)
            .err()
            .unwrap_or_else(|| Error::usage(format!("invalid pool name {raw:?}")))
            .into()),
    }
}

/// `POST /v0/pools`, within the caps on what the network may create.
fn create(shared: &Shared, name: &str, size: Option<u64>) -> Result<Reply, HttpError> {
    let size = size.unwrap_or(crate::limits::POOL_SIZE_BYTES_DEFAULT);
    let lim = &shared.limits;
    let refused = |msg: String, hint: &str| {
        HttpError::new(
            403,
            Error::new(ErrorKind::Permission, msg).with_hint(hint.to_owned()),
        )
    };
    if size > lim.pool_size_max {
        return Err(refused(
            format!(
                "pools created over HTTP are at most {} bytes (asked for {size})",
                lim.pool_size_max
            ),
            "ask for less, create it on the server with 'plasmite pool create', or start the server with a larger --max-pool-size",
        ));
    }
    let dir = shared.pools.client().dir();
    let count = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| {
                    e.path().extension().and_then(|x| x.to_str())
                        == Some(crate::api::POOL_EXTENSION)
                })
                .count()
        })
        .unwrap_or(0);
    if count >= lim.pools_max {
        return Err(refused(
            format!(
                "the pool directory already holds {count} pools (the limit for POST /v0/pools is {})",
                lim.pools_max
            ),
            "delete pools, or start the server with a larger --max-pools",
        ));
    }
    let pool = shared
        .pools
        .client()
        .create_pool(&PoolRef::name(name), size)?;
    pool_object(name, &pool.info()?)
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

fn pool_json(name: &str, info: &crate::api::PoolInfo) -> serde_json::Value {
    let mut v = info.to_json();
    if let Some(o) = v.as_object_mut() {
        o.insert("name".into(), name.into());
        // Additive: each durable cursor's lag (absent when the cursor directory cannot be read).
        if let Ok(lags) = crate::api::cursor_lags(&info.path, info) {
            let list: Vec<serde_json::Value> = lags.iter().map(|l| l.to_json()).collect();
            o.insert("cursors".into(), list.into());
        }
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

/// Writes a reply to the client. False when the client stopped reading or went away.
pub(crate) fn answer(shared: &Shared, conn: &Conn, reply: Reply, req: &Request<'_>) -> bool {
    let head_only = req.parts.method == "HEAD";
    let mut h: Vec<(&str, String)> = Vec::new();
    h.extend(connection_header(req).map(|v| ("Connection", v.to_owned())));
    let host = req.header("Host");
    if let Origin::Cors(o) = shared.browser.origin(req.header("Origin"), host) {
        h.extend(browser::cors_headers(o));
    }
    fn refs<'a>(
        extra: &'a [(&'static str, String)],
        h: &'a [(&'static str, String)],
    ) -> Vec<(&'a str, &'a str)> {
        extra
            .iter()
            .chain(h.iter())
            .map(|(k, v)| (*k, v.as_str()))
            .collect()
    }
    match reply {
        Reply::Json { status, body } => conn
            .send(&respond::raw(status, &refs(&[], &h), &body, head_only))
            .is_ok(),
        Reply::Error(e) => conn
            .send(&respond::raw(
                e.status,
                &refs(&e.headers, &h),
                &respond::envelope(&e.error),
                head_only,
            ))
            .is_ok(),
        Reply::Preflight => {
            let mut all = refs(&[], &h);
            all.extend(browser::PREFLIGHT_HEADERS);
            conn.send(&respond::no_content(&all)).is_ok()
        }
        Reply::Tail(plan) => catch_unwind(AssertUnwindSafe(|| {
            tail::stream(plan, conn, &refs(&[], &h))
        }))
        .unwrap_or(false),
        // A complete answer built by the handler (the web UI's embedded files).
        Reply::Raw(answer) => conn.send(&answer).is_ok(),
    }
}

/// The `Connection` header of the answer: `close` when the request ends the connection, `keep-alive`
/// for an HTTP/1.0 request asking to keep it.
fn connection_header(req: &Request<'_>) -> Option<&'static str> {
    let asked = req.header("Connection").map(str::to_ascii_lowercase);
    let has = |t: &str| {
        asked
            .as_deref()
            .is_some_and(|a| a.split(',').any(|x| x.trim() == t))
    };
    let old = req.minor == 0;
    if has("close") || (old && !has("keep-alive")) {
        Some("close")
    } else if old {
        Some("keep-alive")
    } else {
        None
    }
}
