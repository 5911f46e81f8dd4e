//! The web UI's files from a real server: status, content types, the policy header, the version header,
//! served without a token, and keep-alive connections that go on to protocol requests.

use crate::support::{request, serve, HttpConn, Resp, TempDir};
use plasmite::server::Access;

fn check_ui_answer(r: &Resp, content_type: &str) {
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("Content-Type").as_deref(), Some(content_type));
    assert_eq!(r.header("plasmite-version").as_deref(), Some("0"));
    assert_eq!(
        r.header("X-Content-Type-Options").as_deref(),
        Some("nosniff")
    );
    let csp = r.header("Content-Security-Policy").unwrap_or_default();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp:?}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(
        r.header("Content-Length").as_deref(),
        Some(r.body.len().to_string().as_str())
    );
}

#[test]
fn ui_files_are_served_with_their_types_and_policy() {
    let t = TempDir::new("ui-files");
    let s = serve(t.path(), |_| {});
    let a = s.addr();
    for path in ["/ui", "/ui/", "/ui/pools/x", "/ui/pools/no-such-pool"] {
        let r = request(a, "GET", path, None, None);
        check_ui_answer(&r, "text/html; charset=utf-8");
        let html = r.text();
        assert!(html.starts_with("<!doctype html>"), "{path}");
        assert!(html.contains(r#"<script src="/ui/app.js" defer></script>"#));
        assert!(html.contains(r#"<meta name="plasmite-access" content="read-write">"#));
    }
    let r = request(a, "GET", "/ui/app.js", None, None);
    check_ui_answer(&r, "text/javascript; charset=utf-8");
    assert!(r.text().contains("/v0/pools"));
    let r = request(a, "GET", "/ui/style.css", None, None);
    check_ui_answer(&r, "text/css; charset=utf-8");
    let r = request(a, "GET", "/ui/icon.svg", None, None);
    check_ui_answer(&r, "image/svg+xml");
}

#[test]
fn ui_needs_no_token_but_the_protocol_still_does() {
    let t = TempDir::new("ui-token");
    let s = serve(t.path(), |c| {
        c.token = Some("ui-token".into());
        c.access = Access::ReadOnly;
    });
    let a = s.addr();
    let r = request(a, "GET", "/ui/pools/x", None, None);
    check_ui_answer(&r, "text/html; charset=utf-8");
    assert!(r
        .text()
        .contains(r#"<meta name="plasmite-access" content="read-only">"#));
    assert_eq!(request(a, "GET", "/v0/pools", None, None).status, 401);
    assert_eq!(
        request(a, "GET", "/v0/pools", Some("ui-token"), None).status,
        200
    );
}

#[test]
fn ui_misses_are_enveloped_errors() {
    let t = TempDir::new("ui-miss");
    let s = serve(t.path(), |_| {});
    let a = s.addr();
    let r = request(a, "POST", "/ui", None, Some("{}"));
    assert_eq!((r.status, r.kind()), (405, "Usage".to_owned()));
    assert_eq!(r.header("Allow").as_deref(), Some("GET"));
    for path in ["/ui/nope.js", "/ui/pools/", "/ui/pools/a/b"] {
        let r = request(a, "GET", path, None, None);
        assert_eq!((r.status, r.kind()), (404, "NotFound".to_owned()), "{path}");
    }
}

#[test]
fn ui_answers_keep_the_connection_for_the_next_request() {
    let t = TempDir::new("ui-keepalive");
    let s = serve(t.path(), |_| {});
    let mut c = HttpConn::open(s.addr());
    let r = c.request("GET", "/ui", None, None);
    check_ui_answer(&r, "text/html; charset=utf-8");
    let r = c.request("GET", "/ui/app.js", None, None);
    check_ui_answer(&r, "text/javascript; charset=utf-8");
    let r = c.request("GET", "/v0/pools", None, None);
    assert_eq!((r.status, r.json()["pools"].is_array()), (200, true));
}
