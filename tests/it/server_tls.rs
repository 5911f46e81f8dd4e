//! TLS (cargo feature `tls`): certificates from `serve init` and generated ones, the remote client
//! trusting them with `--tls-ca`, and the head timeout covering a stalled handshake.
#![cfg(feature = "tls")]

use crate::support::{make_pool, serve, HttpConn, TempDir};
use plasmite::remote::{Event, Follow, Options, Remote};
use plasmite::server::{init, TlsSource};
use plasmite::{Durability, ErrorKind};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_writes_private_files_and_refuses_to_overwrite_without_force() {
    let t = TempDir::new("tls-init");
    let dir = t.join("conf");
    let w = init::init(&dir, false).unwrap();
    assert_eq!(mode(&w.token), 0o600);
    assert_eq!(mode(w.key.as_ref().unwrap()), 0o600);
    assert_eq!(mode(w.cert.as_ref().unwrap()), 0o644);
    let token = std::fs::read_to_string(&w.token).unwrap();
    assert_eq!(
        token.trim().len(),
        2 * plasmite::limits::SERVE_INIT_TOKEN_BYTES
    );
    let e = init::init(&dir, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&w.token).unwrap(), token);
    init::init(&dir, true).unwrap();
    assert_ne!(std::fs::read_to_string(&w.token).unwrap(), token);
    assert_eq!(mode(&w.token), 0o600);
}

#[test]
fn a_client_trusting_the_certificate_appends_reads_and_follows_over_tls() {
    let t = TempDir::new("tls-e2e");
    let w = init::init(&t.join("conf"), false).unwrap();
    let token = plasmite::server::auth::read_token_file(&w.token).unwrap();
    let p = make_pool(t.path(), "p", None);
    let s = serve(t.path(), |c| {
        c.tls = Some(TlsSource::Files {
            cert: w.cert.clone().unwrap(),
            key: w.key.clone().unwrap(),
        });
        c.token = Some(token.clone());
    });
    let url = format!("https://127.0.0.1:{}/p", s.addr().port());
    let trusted = Options {
        token: Some(token.clone()),
        tls_ca: w.cert.clone(),
    };
    let r = Remote::new(&url, &trusted).unwrap();
    let m = r
        .append(r#"{"over":"tls"}"#, &["t".into()], Durability::Fast)
        .unwrap();
    assert_eq!(m.seq, 1);
    assert_eq!(r.get(1).unwrap(), m);
    assert_eq!(p.get(1).unwrap().data, r#"{"over":"tls"}"#);
    let mut f = Follow::new(Remote::new(&url, &trusted).unwrap(), Some(1));
    match f
        .next(Some(Instant::now() + Duration::from_secs(5)))
        .unwrap()
    {
        Some(Event::Message(got)) => assert_eq!(got, m),
        other => panic!("{other:?}"),
    }
    // Without the CA the certificate is not trusted; without the token the server says 401.
    let untrusted = Options {
        token: Some(token),
        tls_ca: None,
    };
    let e = Remote::new(&url, &untrusted).unwrap().get(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    let anonymous = Options {
        token: None,
        tls_ca: w.cert.clone(),
    };
    let e = Remote::new(&url, &anonymous).unwrap().get(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permission);
    // Plain HTTP to the TLS port is told, in plain HTTP, to use https://.
    let e = Remote::new(&url.replace("https", "http"), &Options::default())
        .unwrap()
        .get(1)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage, "{e}");
    assert!(e.message().contains("HTTPS"), "{e}");
    assert!(e.hint().unwrap_or_default().contains("https://"), "{e}");
}

#[test]
fn https_to_a_plain_server_fails_at_once_with_a_hint_to_use_http() {
    let t = TempDir::new("tls-mismatch");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |_| {});
    let url = format!("https://127.0.0.1:{}/p", s.addr().port());
    let e = Remote::new(&url, &Options::default())
        .unwrap()
        .get(1)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.hint().unwrap_or_default().contains("http://"), "{e}");
    // Not the connect timeout: the server closed the handshake at once.
    assert!(!e.message().to_ascii_lowercase().contains("timeout"), "{e}");
    assert!(
        !e.message().to_ascii_lowercase().contains("timed out"),
        "{e}"
    );
}

#[test]
fn a_generated_certificate_is_served_and_can_be_trusted() {
    let t = TempDir::new("tls-self");
    make_pool(t.path(), "p", None);
    let s = serve(t.path(), |c| c.tls = Some(TlsSource::SelfSigned));
    let ca = t.join("ca.pem");
    std::fs::write(&ca, s.cert_pem().unwrap()).unwrap();
    assert!(s.url().starts_with("https://"));
    let url = format!("https://localhost:{}/p", s.addr().port());
    let r = Remote::new(
        &url,
        &Options {
            token: None,
            tls_ca: Some(ca),
        },
    )
    .unwrap();
    assert_eq!(r.append("1", &[], Durability::Fast).unwrap().seq, 1);
}

#[test]
fn a_stalled_handshake_is_cut_off_by_the_head_timeout() {
    let t = TempDir::new("tls-slow");
    let s = serve(t.path(), |c| {
        c.tls = Some(TlsSource::SelfSigned);
        c.limits.head_timeout = Duration::from_millis(300);
    });
    let mut c = HttpConn::open(s.addr());
    // The first bytes of a TLS record header, then nothing.
    c.stream.write_all(&[0x16, 0x03, 0x01]).unwrap();
    let t0 = Instant::now();
    assert!(c.closed_within(Duration::from_secs(5)));
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert!(crate::support::eventually(Duration::from_secs(5), || s
        .connections()
        == 0));
}
