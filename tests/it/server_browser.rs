//! The browser rules over the HTTP port (`Host`, `Origin`, preflights, the JSON content type), the
//! caps on what the network may create, and the `.plasmite` suffix rule over HTTP and CLI alike.

use crate::support::{make_pool, pls, serve, HttpConn, TempDir};

/// Sends raw bytes on a fresh connection and reads one answer.
fn raw(addr: std::net::SocketAddr, bytes: String) -> crate::support::Resp {
    let mut c = HttpConn::open(addr);
    c.send(bytes.as_bytes());
    c.read_response()
}

fn post(path: &str, content_type: &str, extra: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn a_post_without_a_json_content_type_is_refused_with_415_and_writes_nothing() {
    let t = TempDir::new("srv-ctype");
    let p = make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = raw(
            s.addr(),
            post("/v0/pools/p/append", ct, "", r#"{"data":1}"#),
        );
        assert_eq!((r.status, r.kind()), (415, "Usage".to_owned()), "{ct}");
        let r = raw(
            s.addr(),
            post(
                "/v0/pools",
                ct,
                "",
                r#"{"pool":"x","size_bytes":68719476736}"#,
            ),
        );
        assert_eq!(r.status, 415, "{ct}");
    }
    let no_type = "DELETE /v0/pools/p HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_owned();
    assert_eq!(raw(s.addr(), no_type).status, 415);
    assert_eq!(p.info().unwrap().message_count, 0);
    assert!(!t.join("x.plasmite").exists());
    let r = raw(
        s.addr(),
        post(
            "/v0/pools/p/append",
            "application/json; charset=utf-8",
            "",
            r#"{"data":1}"#,
        ),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn a_foreign_origin_gets_403_and_the_servers_own_origin_is_served() {
    let t = TempDir::new("srv-origin");
    let p = make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    let host = s.addr().to_string();
    let req = |origin: &str| {
        format!(
            "POST /v0/pools/p/append HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{{\"data\":1}}"
        )
    };
    for o in ["http://evil.example", "null", &format!("https://{host}")] {
        let r = raw(s.addr(), req(o));
        assert_eq!((r.status, r.kind()), (403, "Permission".to_owned()), "{o}");
        assert!(r.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--cors-origin"));
    }
    assert_eq!(p.info().unwrap().message_count, 0);
    let r = raw(s.addr(), req(&format!("http://{host}")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn a_foreign_host_gets_421_and_loopback_names_and_allowed_hosts_pass() {
    let t = TempDir::new("srv-host");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |c| c.allow_hosts = vec!["plasmite.lan".into()]);
    let port = s.addr().port();
    let get = |host: &str| {
        raw(
            s.addr(),
            format!("GET /v0/pools/p/info HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        )
    };
    for bad in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("plasmite.lan.evil.example:{port}"),
    ] {
        let r = get(&bad);
        assert_eq!((r.status, r.kind()), (421, "Usage".to_owned()), "{bad}");
    }
    let r = raw(
        s.addr(),
        format!("GET /healthz HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n"),
    );
    assert_eq!(r.status, 421);
    for good in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("PLASMITE.lan:{port}"),
        "[::1]".to_owned(),
    ] {
        assert_eq!(get(&good).status, 200, "{good}");
    }
}

#[test]
fn a_preflight_from_an_allowed_origin_is_answered_and_its_requests_carry_cors_headers() {
    let t = TempDir::new("srv-cors");
    make_pool(t.path(), "p", None);
    let app = "https://app.example";
    let s = serve(t.path(), |c| c.cors_origins = vec![app.into()]);
    let r = raw(
        s.addr(),
        format!(
            "OPTIONS /v0/pools/p/append HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {app}\r\n\
             Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n"
        ),
    );
    assert_eq!(r.status, 204, "{}", r.head);
    assert_eq!(
        r.header("Access-Control-Allow-Origin").as_deref(),
        Some(app)
    );
    assert!(r
        .header("Access-Control-Allow-Methods")
        .unwrap()
        .contains("POST"));
    assert!(r
        .header("Access-Control-Allow-Headers")
        .unwrap()
        .to_ascii_lowercase()
        .contains("content-type"));
    let r = raw(
        s.addr(),
        post(
            "/v0/pools/p/append",
            "application/json",
            &format!("Origin: {app}\r\n"),
            r#"{"data":2}"#,
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Access-Control-Allow-Origin").as_deref(),
        Some(app)
    );
    assert!(r
        .header("Access-Control-Expose-Headers")
        .unwrap()
        .contains("plasmite-next-seq"));
    // Another origin's preflight is refused.
    let r = raw(
        s.addr(),
        "OPTIONS /v0/pools/p/append HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://other.example\r\n\r\n"
            .to_owned(),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn pools_created_over_http_are_capped_in_size_and_number() {
    let t = TempDir::new("srv-caps");
    let s = serve(t.path(), |c| {
        c.limits.pool_size_max = 2 << 20;
        c.limits.pools_max = 2;
    });
    let create = |name: &str, size: u64| {
        raw(
            s.addr(),
            post(
                "/v0/pools",
                "application/json",
                "",
                &format!(r#"{{"pool":"{name}","size_bytes":{size}}}"#),
            ),
        )
    };
    // At the edge: exactly the cap is allowed, one byte more is not.
    let r = create("big", (2 << 20) + 1);
    assert_eq!((r.status, r.kind()), (403, "Permission".to_owned()));
    assert!(r.text().contains("--max-pool-size"), "{}", r.text());
    assert!(!t.join("big.plasmite").exists());
    assert_eq!(create("a", 2 << 20).status, 200);
    assert_eq!(create("b", 1 << 20).status, 200);
    let r = create("c", 1 << 20);
    assert_eq!((r.status, r.kind()), (403, "Permission".to_owned()));
    assert!(r.text().contains("--max-pools"), "{}", r.text());
    // The CLI's own pool create is not capped.
    let o = pls(t.path(), &["pool", "create", "c", "--size", "4M"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn a_name_with_the_plasmite_suffix_means_the_same_pool_over_http_and_cli() {
    let t = TempDir::new("srv-suffix");
    let s = serve(t.path(), |_| {});
    let r = raw(
        s.addr(),
        post(
            "/v0/pools",
            "application/json",
            "",
            r#"{"pool":"t1.plasmite"}"#,
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["pool"]["name"], "t1");
    assert!(t.join("t1.plasmite").exists());
    assert!(!t.join("t1.plasmite.plasmite").exists());
    // The CLI resolves both spellings to the same file, and so does every endpoint.
    let o = pls(t.path(), &["poke", "t1.plasmite", "7"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for path in [
        "/v0/pools/t1/messages/1",
        "/v0/pools/t1.plasmite/messages/1",
    ] {
        let r = raw(
            s.addr(),
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        );
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.json()["message"]["data"], 7);
    }
    let r = raw(
        s.addr(),
        post("/v0/pools", "application/json", "", r#"{"pool":"t1"}"#),
    );
    assert_eq!((r.status, r.kind()), (409, "AlreadyExists".to_owned()));
}
