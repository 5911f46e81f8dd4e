//! HTTP request handling without a socket: the proxy's head scanner and strict parser, the router, the
//! query and number parsers, and the JSON request-body decoders, on arbitrary bytes.

use crate::server::{head, routes, wire};

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
            // The proxy answers most requests from these parts: an accepted head always has them.
            let parts = head::parts(h);
            assert!(parts.as_ref().is_some_and(|p| p.target.starts_with('/')));
            let stripped = head::without_expect(h);
            assert!(head::parse(&stripped, crate::limits::HTTP_HEADERS_COUNT_MAX).is_ok());
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
