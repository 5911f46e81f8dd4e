//! The HTTP server through a real socket: every endpoint and status, the envelope on every error
//! path, authentication and access modes.

use crate::support::{make_pool, request, serve, HttpConn, TempDir};
use plasmite::server::Access;

#[test]
fn every_endpoint_answers_with_its_documented_shape() {
    let t = TempDir::new("srv-endpoints");
    let s = serve(t.path(), |_| {});
    let a = s.addr();

    let r = request(a, "GET", "/healthz", None, None);
    assert_eq!((r.status, r.json()["ok"].as_bool()), (200, Some(true)));
    assert_eq!(r.header("plasmite-version").as_deref(), Some("0"));

    let r = request(
        a,
        "POST",
        "/v0/pools",
        None,
        Some(r#"{"pool":"docs","size_bytes":131072}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let p = &r.json()["pool"];
    assert_eq!(
        (p["name"].as_str(), p["file_size"].as_u64()),
        (Some("docs"), Some(131072))
    );
    assert!(p["ring_offset"].is_u64() && p["ring_size"].is_u64() && p["path"].is_string());
    assert_eq!(p["bounds"], serde_json::json!({}));

    let r = request(
        a,
        "POST",
        "/v0/pools/open",
        None,
        Some(r#"{"pool":"docs"}"#),
    );
    assert_eq!(
        (r.status, r.json()["pool"]["name"].as_str()),
        (200, Some("docs"))
    );

    let body = r#"{"data":{"z":1,"a":1.50},"descrips":["note"],"durability":"flush"}"#;
    let r = request(a, "POST", "/v0/pools/docs/append", None, Some(body));
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(
        text.starts_with(r#"{"message":{"seq":1,"time":""#),
        "{text}"
    );
    assert!(
        text.ends_with(r#"","meta":{"tags":["note"]},"data":{"z":1,"a":1.50}}}"#),
        "{text}"
    );

    let r = request(a, "GET", "/v0/pools/docs/messages/1", None, None);
    assert_eq!((r.status, r.text()), (200, text));

    let r = request(a, "GET", "/v0/pools/docs/info", None, None);
    assert_eq!(
        r.json()["pool"]["bounds"],
        serde_json::json!({"oldest":1,"newest":1})
    );

    let r = request(a, "GET", "/v0/pools", None, None);
    let pools = r.json()["pools"].as_array().unwrap().clone();
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0]["name"], "docs");

    let r = request(
        a,
        "GET",
        "/v0/pools/docs/tail?since_seq=1&max=1",
        None,
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/jsonl")
    );
    assert_eq!(r.header("plasmite-version").as_deref(), Some("0"));
    let line = r.text();
    assert!(
        line.starts_with(r#"{"seq":1,"#) && line.ends_with("}\n"),
        "{line}"
    );

    let r = request(a, "DELETE", "/v0/pools/docs", None, None);
    assert_eq!((r.status, r.json()["ok"].as_bool()), (200, Some(true)));
    assert!(!t.join("docs.plasmite").exists());
}

#[test]
fn every_error_path_has_its_status_and_the_envelope() {
    let t = TempDir::new("srv-errors");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    let a = s.addr();
    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        ("GET", "/nope", None, 404, "NotFound"),
        ("GET", "/v1/pools", None, 404, "NotFound"),
        ("PUT", "/v0/pools", None, 405, "Usage"),
        ("GET", "/v0/pools/p/append", None, 405, "Usage"),
        ("POST", "/healthz", None, 405, "Usage"),
        ("POST", "/v0/pools", Some("{nope"), 400, "Usage"),
        (
            "POST",
            "/v0/pools",
            Some(r#"{"pool":"../etc"}"#),
            400,
            "Usage",
        ),
        (
            "POST",
            "/v0/pools",
            Some(r#"{"pool":"p"}"#),
            409,
            "AlreadyExists",
        ),
        (
            "POST",
            "/v0/pools",
            Some(r#"{"pool":"q","size_bytes":1}"#),
            400,
            "Usage",
        ),
        (
            "POST",
            "/v0/pools",
            Some(r#"{"pool":"q","extra":1}"#),
            400,
            "Usage",
        ),
        (
            "POST",
            "/v0/pools/open",
            Some(r#"{"pool":"nope"}"#),
            404,
            "NotFound",
        ),
        ("GET", "/v0/pools/nope/info", None, 404, "NotFound"),
        ("GET", "/v0/pools/..%2f/info", None, 400, "Usage"),
        ("GET", "/v0/pools/.hidden/info", None, 400, "Usage"),
        ("GET", "/v0/pools/p/messages/1", None, 404, "NotFound"),
        ("GET", "/v0/pools/p/messages/x", None, 400, "Usage"),
        ("GET", "/v0/pools/p/messages/0", None, 404, "NotFound"),
        ("GET", "/v0/pools/p/info?x=1", None, 400, "Usage"),
        (
            "POST",
            "/v0/pools/p/append",
            Some(r#"{"data":1,"durability":"slow"}"#),
            400,
            "Usage",
        ),
        (
            "POST",
            "/v0/pools/p/append",
            Some(r#"{"data":}"#),
            400,
            "Usage",
        ),
        (
            "POST",
            "/v0/pools/p/append",
            Some(r#"{"tags":[]}"#),
            400,
            "Usage",
        ),
        (
            "POST",
            "/v0/pools/nope/append",
            Some(r#"{"data":1}"#),
            404,
            "NotFound",
        ),
        ("GET", "/v0/pools/p/tail?since=1", None, 400, "Usage"),
        ("GET", "/v0/pools/p/tail?since_seq=0", None, 400, "Usage"),
        ("GET", "/v0/pools/p/tail?max=-1", None, 400, "Usage"),
        ("GET", "/v0/pools/nope/tail", None, 404, "NotFound"),
        ("DELETE", "/v0/pools/nope", None, 404, "NotFound"),
    ];
    for (m, path, body, status, kind) in cases {
        let r = request(a, m, path, None, *body);
        assert_eq!(r.status, *status, "{m} {path}: {}", r.text());
        assert_eq!(r.kind(), *kind, "{m} {path}");
        // A missing pool's envelope names its path, as a local NotFound does.
        if path.starts_with("/v0/pools/nope") {
            let want = t.join("nope.plasmite");
            assert_eq!(
                r.json()["error"]["path"]
                    .as_str()
                    .map(std::path::PathBuf::from),
                Some(want),
                "{m} {path}"
            );
        }
    }
    let r = request(a, "PUT", "/v0/pools", None, None);
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    // The pool that was refused creation (409) is untouched.
    let r = request(a, "GET", "/v0/pools/p/info", None, None);
    assert_eq!(
        r.json()["pool"]["file_size"].as_u64(),
        Some(plasmite::limits::POOL_SIZE_BYTES_DEFAULT)
    );
}

#[test]
fn malformed_requests_get_the_envelope_from_the_front_parser() {
    let t = TempDir::new("srv-malformed");
    let s = serve(t.path(), |_| {});
    let cases: &[(&[u8], u16)] = &[
        (b"GET /healthz HTTP/2.0\r\n\r\n", 505),
        (b"GET  /healthz HTTP/1.1\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400),
        (b"GET /healthz HTTP/1.1\r\nBad Header: x\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nX: \xff\r\n\r\n", 400),
        (
            b"POST /v0/pools HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
        ),
        (
            b"POST /v0/pools HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}",
            417,
        ),
        (
            b"GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
        ),
    ];
    for (raw, status) in cases {
        let mut c = HttpConn::open(s.addr());
        c.send(raw);
        let r = c.read_response();
        assert_eq!(r.status, *status, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(r.kind(), "Usage");
        assert!(c.closed_within(std::time::Duration::from_secs(5)));
    }
    assert_eq!(request(s.addr(), "GET", "/healthz", None, None).status, 200);
}

#[test]
fn keep_alive_pipelining_and_blank_lines_between_requests_work() {
    let t = TempDir::new("srv-keepalive");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    let mut c = HttpConn::open(s.addr());
    for i in 0..20 {
        let body = format!(r#"{{"data":{{"i":{i}}}}}"#);
        let r = c.request("POST", "/v0/pools/p/append", None, Some(&body));
        assert_eq!(r.json()["message"]["seq"].as_u64(), Some(i + 1));
    }
    let mut raw = Vec::new();
    for i in 0..5 {
        raw.extend(crate::support::raw_request(
            "GET",
            &format!("/v0/pools/p/messages/{}", i + 1),
            None,
            None,
        ));
        raw.extend_from_slice(b"\r\n");
    }
    c.send(&raw);
    for i in 0..5 {
        let r = c.read_response();
        assert_eq!(r.json()["message"]["data"]["i"].as_u64(), Some(i));
    }
}

#[test]
fn tokens_are_required_checked_and_accepted() {
    let t = TempDir::new("srv-auth");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |c| c.token = Some("s3cret-token".into()));
    let a = s.addr();
    assert_eq!(request(a, "GET", "/healthz", None, None).status, 200);
    for token in [None, Some("wrong"), Some("s3cret-tokenX"), Some("")] {
        let r = request(a, "GET", "/v0/pools/p/info", token, None);
        assert_eq!(r.status, 401, "{token:?}");
        assert_eq!(r.kind(), "Permission");
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
    // Unknown routes do not reveal themselves without the token.
    assert_eq!(request(a, "GET", "/nope", None, None).status, 401);
    let r = request(a, "GET", "/v0/pools/p/info", Some("s3cret-token"), None);
    assert_eq!(r.status, 200);
    let r = request(
        a,
        "POST",
        "/v0/pools/p/append",
        Some("s3cret-token"),
        Some(r#"{"data":1}"#),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn access_modes_refuse_with_403() {
    let t = TempDir::new("srv-access");
    make_pool(t.path(), "p", None);
    let ro = serve(t.path(), |c| c.access = Access::ReadOnly);
    let wo = serve(t.path(), |c| c.access = Access::WriteOnly);
    let append = Some(r#"{"data":1}"#);
    let r = request(ro.addr(), "POST", "/v0/pools/p/append", None, append);
    assert_eq!((r.status, r.kind()), (403, "Permission".to_owned()));
    for (m, p, b) in [
        ("POST", "/v0/pools", Some(r#"{"pool":"x"}"#)),
        ("DELETE", "/v0/pools/p", None),
    ] {
        assert_eq!(request(ro.addr(), m, p, None, b).status, 403, "{m} {p}");
    }
    assert_eq!(
        request(ro.addr(), "GET", "/v0/pools/p/info", None, None).status,
        200
    );
    assert_eq!(
        request(wo.addr(), "POST", "/v0/pools/p/append", None, append).status,
        200
    );
    for p in [
        "/v0/pools",
        "/v0/pools/p/info",
        "/v0/pools/p/messages/1",
        "/v0/pools/p/tail",
    ] {
        let r = request(wo.addr(), "GET", p, None, None);
        assert_eq!((r.status, r.kind()), (403, "Permission".to_owned()), "{p}");
    }
    let r = request(
        wo.addr(),
        "POST",
        "/v0/pools/open",
        None,
        Some(r#"{"pool":"p"}"#),
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        request(wo.addr(), "GET", "/healthz", None, None).status,
        200
    );
}

#[test]
fn the_policy_refuses_unsafe_non_loopback_configurations() {
    use plasmite::server::{Config, TlsSource};
    let any = "0.0.0.0:0".parse().unwrap();
    let t = TempDir::new("srv-policy");
    let mut c = Config::new(t.path(), any);
    assert_eq!(c.check().unwrap_err().kind(), plasmite::ErrorKind::Usage);
    c.allow_non_loopback = true;
    assert!(c.check().unwrap_err().message().contains("TLS"));
    c.insecure_no_tls = true;
    assert!(c.check().unwrap_err().message().contains("token"));
    c.access = Access::ReadOnly;
    assert!(c.check().is_ok());
    c.access = Access::ReadWrite;
    c.token = Some("t".into());
    assert!(c.check().is_ok());
    c.insecure_no_tls = false;
    c.tls = Some(TlsSource::SelfSigned);
    assert_eq!(c.check().is_ok(), plasmite::server::tls::COMPILED);
    for lo in ["127.0.0.1:0", "[::1]:0", "127.8.9.10:0"] {
        assert!(
            Config::new(t.path(), lo.parse().unwrap()).check().is_ok(),
            "{lo}"
        );
    }
}

#[test]
fn a_pool_replaced_behind_the_server_is_reopened_not_written_through_a_stale_handle() {
    let t = TempDir::new("srv-stale");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    let a = s.addr();
    let append = Some(r#"{"data":"x"}"#);
    assert_eq!(
        request(a, "POST", "/v0/pools/p/append", None, append).status,
        200
    );
    // Removed behind the server's back: `pool delete` would be Busy, since the server's cached
    // handle appended and so is an attached writer (spec/format.md, Files).
    let e = plasmite::Client::new(t.path())
        .delete_pool(&plasmite::PoolRef::name("p"))
        .unwrap_err();
    assert_eq!(e.kind(), plasmite::ErrorKind::Busy, "{e}");
    std::fs::remove_file(t.join("p.plasmite")).unwrap();
    assert_eq!(
        request(a, "POST", "/v0/pools/p/append", None, append).status,
        404
    );
    make_pool(t.path(), "p", None);
    let r = request(a, "POST", "/v0/pools/p/append", None, append);
    assert_eq!(r.json()["message"]["seq"].as_u64(), Some(1));
    let local = plasmite::Client::new(t.path())
        .open_pool(&plasmite::PoolRef::name("p"))
        .unwrap();
    assert_eq!(local.get(1).unwrap().data, "\"x\"");
}

#[test]
fn expect_continue_head_and_http_1_0_are_framed_right() {
    let t = TempDir::new("srv-framing");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    // 100-continue: the interim answer comes first, then the real one after the body.
    let mut c = HttpConn::open(s.addr());
    let body = r#"{"data":{"x":1}}"#;
    c.send(
        format!(
            "POST /v0/pools/p/append HTTP/1.1\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let interim = c.read_response_head_only();
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    c.send(body.as_bytes());
    let r = c.read_response();
    assert_eq!(r.json()["message"]["seq"].as_u64(), Some(1));
    // The connection goes on, with no stray second interim answer.
    let r = c.request("GET", "/v0/pools/p/messages/1", None, None);
    assert_eq!(r.status, 200);
    // HEAD: the status and headers of the answer, no body.
    let mut c = HttpConn::open(s.addr());
    c.send(b"HEAD /v0/pools/p/info HTTP/1.1\r\n\r\n");
    let head = c.read_response_head_only();
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    let r = c.request("GET", "/healthz", None, None);
    assert_eq!(r.status, 200, "no body was left behind by the HEAD answer");
    // HTTP/1.0 without keep-alive: answered, then closed.
    let mut c = HttpConn::open(s.addr());
    c.send(b"GET /healthz HTTP/1.0\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    assert!(c.closed_within(std::time::Duration::from_secs(5)));
    // HTTP/1.0 tails are refused (they need chunked encoding).
    let mut c = HttpConn::open(s.addr());
    c.send(b"GET /v0/pools/p/tail HTTP/1.0\r\n\r\n");
    let r = c.read_response();
    assert_eq!((r.status, r.kind()), (505, "Usage".to_owned()));
}

#[test]
fn a_corrupt_message_is_a_500_envelope_and_a_tail_reports_it_and_goes_on() {
    use std::io::{Seek, SeekFrom, Write};
    let t = TempDir::new("srv-corrupt");
    let p = make_pool(t.path(), "p", None);
    for d in ["\"first\"", "\"ZZZZZZZZZZZZZZZZ\"", "\"third\""] {
        p.append_json(d.as_bytes(), &[] as &[&str], plasmite::Durability::Fast)
            .unwrap();
    }
    let s = serve(t.path(), |_| {});
    assert_eq!(
        request(s.addr(), "GET", "/v0/pools/p/messages/2", None, None).status,
        200
    );
    // Flip one byte of message 2's data in place (never truncate a mapped file).
    let bytes = std::fs::read(p.path()).unwrap();
    let at = bytes
        .windows(16)
        .position(|w| w == b"ZZZZZZZZZZZZZZZZ")
        .unwrap();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(p.path())
        .unwrap();
    f.seek(SeekFrom::Start(at as u64 + 3)).unwrap();
    f.write_all(b"Y").unwrap();
    drop(f);
    let r = request(s.addr(), "GET", "/v0/pools/p/messages/2", None, None);
    assert_eq!((r.status, r.kind()), (500, "Corrupt".to_owned()));
    assert_eq!(r.json()["error"]["seq"].as_u64(), Some(2));
    let r = request(
        s.addr(),
        "GET",
        "/v0/pools/p/tail?since_seq=1&timeout_ms=300",
        None,
        None,
    );
    let lines: Vec<serde_json::Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["seq"].as_u64(), Some(1), "{lines:?}");
    assert_eq!(lines[1]["error"]["kind"], "Corrupt", "{lines:?}");
    assert_eq!(lines.last().unwrap()["seq"].as_u64(), Some(3), "{lines:?}");
}
