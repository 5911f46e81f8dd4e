//! The route table: method and path to an operation (pure). Pool names are matched as one path
//! segment here and checked with `api::check_name` by the handler, so `..`, `%2F` or an empty name can
//! never reach the file system.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::auth::Need;
use crate::error::{Error, Result};

/// One operation of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    List,
    Create,
    Open,
    Info(&'a str),
    Delete(&'a str),
    Append(&'a str),
    Get(&'a str, &'a str),
    Tail(&'a str),
    /// A file of the web UI (`ui.rs`).
    Ui(super::ui::Page),
    /// `POST /mcp`: one MCP JSON-RPC message (`mcp.rs`).
    Mcp,
}

/// Why no route matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// No such path (404).
    NotFound,
    /// The path exists with other methods (405 with this `Allow`).
    Method(&'static str),
}

impl Route<'_> {
    /// What the access mode must allow.
    pub fn needs(&self) -> Need {
        match self {
            // MCP applies the access mode per tool (a read-only server lists no write tools).
            Route::Health | Route::Ui(_) | Route::Mcp => Need::Nothing,
            Route::List | Route::Open | Route::Info(_) | Route::Get(..) | Route::Tail(_) => {
                Need::Read
            }
            Route::Create | Route::Delete(_) | Route::Append(_) => Need::Write,
        }
    }
}

/// Matches a method and a path (without its query).
pub fn route<'a>(method: &str, path: &'a str) -> Result<Route<'a>, Miss> {
    let mut segs = path.strip_prefix('/').ok_or(Miss::NotFound)?.split('/');
    let parts: [Option<&'a str>; 6] = std::array::from_fn(|_| segs.next());
    let pick = |allow: &'static str, found: Option<Route<'a>>| found.ok_or(Miss::Method(allow));
    if let Some(page) = super::ui::page(path) {
        return pick("GET", (method == "GET").then_some(Route::Ui(page)));
    }
    match parts {
        [Some("healthz"), None, ..] => pick("GET", (method == "GET").then_some(Route::Health)),
        [Some("mcp"), None, ..] => pick("POST", (method == "POST").then_some(Route::Mcp)),
        [Some("v0"), Some("pools"), None, ..] => pick(
            "GET, POST",
            match method {
                "GET" => Some(Route::List),
                "POST" => Some(Route::Create),
                _ => None,
            },
        ),
        [Some("v0"), Some("pools"), Some("open"), None, ..] => pick(
            "POST, DELETE",
            match method {
                "POST" => Some(Route::Open),
                "DELETE" => Some(Route::Delete("open")),
                _ => None,
            },
        ),
        [Some("v0"), Some("pools"), Some(p), None, ..] => {
            pick("DELETE", (method == "DELETE").then_some(Route::Delete(p)))
        }
        [Some("v0"), Some("pools"), Some(p), Some("info"), None, ..] => {
            pick("GET", (method == "GET").then_some(Route::Info(p)))
        }
        [Some("v0"), Some("pools"), Some(p), Some("append"), None, ..] => {
            pick("POST", (method == "POST").then_some(Route::Append(p)))
        }
        [Some("v0"), Some("pools"), Some(p), Some("tail"), None, ..] => {
            pick("GET", (method == "GET").then_some(Route::Tail(p)))
        }
        [Some("v0"), Some("pools"), Some(p), Some("messages"), Some(s), None] => {
            pick("GET", (method == "GET").then_some(Route::Get(p, s)))
        }
        _ => Err(Miss::NotFound),
    }
}

/// Splits a query string into `(name, value)` pairs, refusing names not in `allowed`, repeated names and
/// percent-encoding (no parameter of the protocol needs it).
pub fn query<'a>(q: &'a str, allowed: &[&str]) -> Result<Vec<(&'a str, &'a str)>> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !allowed.contains(&name) {
            return Err(Error::usage(format!("unknown query parameter {name:?}"))
                .with_hint(format!("this endpoint takes: {}", allowed.join(", "))));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(Error::usage(format!(
                "query parameter {name:?} given twice"
            )));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// A whole number from a path segment or a query value.
pub fn number(what: &str, text: &str) -> Result<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::usage(format!(
            "invalid {what} {text:?}: expected a whole number"
        )));
    }
    text.parse()
        .map_err(|_| Error::usage(format!("invalid {what} {text:?}: too large")))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)] // tests may panic
mod tests {
    use super::*;

    #[test]
    fn every_route_and_its_method() {
        assert_eq!(route("GET", "/healthz"), Ok(Route::Health));
        assert_eq!(route("POST", "/mcp"), Ok(Route::Mcp));
        assert_eq!(route("GET", "/mcp"), Err(Miss::Method("POST")));
        assert_eq!(route("GET", "/v0/pools"), Ok(Route::List));
        assert_eq!(route("POST", "/v0/pools"), Ok(Route::Create));
        assert_eq!(route("POST", "/v0/pools/open"), Ok(Route::Open));
        assert_eq!(route("DELETE", "/v0/pools/open"), Ok(Route::Delete("open")));
        assert_eq!(route("GET", "/v0/pools/a/info"), Ok(Route::Info("a")));
        assert_eq!(route("DELETE", "/v0/pools/a"), Ok(Route::Delete("a")));
        assert_eq!(route("POST", "/v0/pools/a/append"), Ok(Route::Append("a")));
        assert_eq!(
            route("GET", "/v0/pools/a/messages/7"),
            Ok(Route::Get("a", "7"))
        );
        assert_eq!(route("GET", "/v0/pools/a/tail"), Ok(Route::Tail("a")));
        assert_eq!(route("GET", "/v0/pools/open/info"), Ok(Route::Info("open")));
    }

    #[test]
    fn misses() {
        assert_eq!(route("POST", "/healthz"), Err(Miss::Method("GET")));
        assert_eq!(route("PUT", "/v0/pools"), Err(Miss::Method("GET, POST")));
        assert_eq!(route("GET", "/v0/pools/a"), Err(Miss::Method("DELETE")));
        assert_eq!(
            route("GET", "/v0/pools/a/append"),
            Err(Miss::Method("POST"))
        );
        assert_eq!(route("HEAD", "/v0/pools/a/tail"), Err(Miss::Method("GET")));
        for p in [
            "/",
            "",
            "/v1/pools",
            "/v0",
            "/v0/pools/a/nope",
            "/v0/pools/a/messages",
            "/v0/pools/a/messages/1/x",
            "/v0/pools/a/info/",
            "/healthz/x",
        ] {
            assert_eq!(route("GET", p), Err(Miss::NotFound), "{p}");
        }
    }

    #[test]
    fn queries_and_numbers() {
        let q = query("since_seq=3&max=2", &["since_seq", "max", "timeout_ms"]).unwrap();
        assert_eq!(q, vec![("since_seq", "3"), ("max", "2")]);
        assert!(query("", &[]).unwrap().is_empty());
        assert!(query("since=3", &["since_seq"]).is_err());
        assert!(query("max=1&max=2", &["max"]).is_err());
        assert_eq!(number("seq", "42").unwrap(), 42);
        for bad in ["", "-1", "1.0", "%31", "18446744073709551616", "0x1"] {
            assert!(number("seq", bad).is_err(), "{bad}");
        }
    }
}
