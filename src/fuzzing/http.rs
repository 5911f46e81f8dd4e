//! HTTP request handling without a socket: the head scanner and strict parser, the browser rules
//! (`Host`, `Origin`, content type), the router, the query and number parsers, and the JSON
//! request-body decoders, on arbitrary bytes.

use crate::proto::wire;
use crate::server::browser::{self, Origin, Rules};
use crate::server::{head, routes};

/// The first line of the input is "METHOD PATH?QUERY"; the input is also scanned as a request head
/// and decoded as request bodies.
pub fn http(data: &[u8]) {
    // The head scanner finds the same end however the bytes arrive.
    let whole = head::find_end(data, 0);
    if let Some(end) = whole {
        assert!(end <= data.len());
        for from in [1usize, 7, end / 2, end.saturating_sub(1)] {
            let grown = data
                .get(..end)
                .and_then(|b| head::find_end(b, from.min(end)));
            assert_eq!(grown, Some(end), "find_end from {from}");
        }
        let h = data.get(..end).unwrap_or_default();
        if let Ok(parsed) = head::parse(h, crate::limits::HTTP_HEADERS_COUNT_MAX) {
            assert_eq!(parsed.len, h.len());
            assert!(parsed.minor <= 1);
            // The handlers read these parts: an accepted head always has them.
            let parts = head::parts(h);
            assert!(parts.as_ref().is_some_and(|p| p.target.starts_with('/')));
            if let Some(p) = parts {
                browser_rules(&p);
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    let line = text.lines().next().unwrap_or_default();
    let (method, target) = line.split_once(' ').unwrap_or((line, ""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if let Ok(route) = routes::route(method, path) {
        let _ = route.needs();
    }
    let _ = routes::query(query, &["since_seq", "max", "timeout_ms"]);
    let _ = routes::number("max", query);
    let _ = wire::members(data);
    let _ = wire::parse_pool_request(data, true);
    let _ = wire::parse_append(data);
}

/// The browser rules on a parsed head: never panic, and agree with themselves.
fn browser_rules(p: &head::Parts<'_>) {
    let rules = Rules {
        bind: "127.0.0.1:9700".parse().ok(),
        tls: false,
        allow_hosts: vec!["plasmite.example".into()],
        cors_origins: vec!["https://app.example".into()],
    };
    let host = p.header("Host");
    let allowed = rules.host_allowed(host);
    if let Some(h) = host.filter(|h| !h.contains([':', '[', ' ', '\t'])) {
        // The name alone decides: a port never changes the verdict.
        assert_eq!(rules.host_allowed(Some(&format!("{h}:9700"))), allowed);
    }
    match rules.origin(p.header("Origin"), host) {
        Origin::Own => assert!(host.is_some()),
        Origin::Cors(o) => assert_eq!(o, "https://app.example"),
        Origin::Absent => assert!(p.header("Origin").is_none()),
        Origin::Foreign(_) => {}
    }
    let _ = browser::is_json(p.header("Content-Type"));
}
