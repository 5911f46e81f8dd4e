//! TLS for the server (cargo feature `tls`): loading or generating the certificate, and the server side
//! of a TLS connection shared by the connection's two proxy threads.
//!
//! rustls 0.23 with the ring provider terminates TLS in our own accept path; tiny_http never sees TLS
//! (its own rustls backend is 0.20, which has a known advisory). Without the feature every entry point
//! here reports that TLS is not compiled in.
//!
//! Invariant: the rustls state is behind one mutex; nobody holds it while blocked reading the socket
//! (the reader copies ciphertext in first), so the writing thread is only ever delayed by a write.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files: the certificate chain and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// A certificate generated at startup for `localhost`, `127.0.0.1`, `::1` and the host name.
    SelfSigned,
}

/// Whether this build can serve TLS.
pub const COMPILED: bool = crate::proto::TLS_COMPILED;

#[cfg(not(feature = "tls"))]
fn not_compiled() -> Error {
    match crate::proto::require_tls() {
        Err(e) => e,
        Ok(()) => Error::usage("TLS is not compiled in"),
    }
}

/// `Usage` ("TLS is not compiled in") unless this build has TLS.
pub fn require() -> Result<()> {
    crate::proto::require_tls()
}

/// A self-signed certificate and its key, both PEM.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Names a generated certificate is valid for: `localhost`, the loopback addresses and this host's name.
pub fn default_names() -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let host = host.trim();
    if !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !names.iter().any(|n| n == host)
    {
        names.push(host.to_owned());
    }
    names
}

/// Generates a self-signed certificate (ECDSA P-256) for `names` (DNS names or IP addresses).
#[cfg(feature = "tls")]
pub fn generate(names: &[String]) -> Result<SelfSigned> {
    let ck = rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| {
        Error::new(
            crate::ErrorKind::Internal,
            format!("cannot generate a certificate: {e}"),
        )
    })?;
    Ok(SelfSigned {
        cert_pem: ck.cert.pem(),
        key_pem: ck.signing_key.serialize_pem(),
    })
}

/// Generates a self-signed certificate: not available without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub fn generate(_names: &[String]) -> Result<SelfSigned> {
    Err(not_compiled())
}

/// The SHA-256 fingerprint of the first certificate in a PEM chain (of its DER bytes), as uppercase
/// hex pairs joined by `:` (what `openssl x509 -fingerprint -sha256` prints), so a client can pin it.
#[cfg(feature = "tls")]
pub fn fingerprint(cert_pem: &str) -> Option<String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let der = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .next()?
        .ok()?;
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let hash = suite.tls13()?.common.hash_provider.hash(der.as_ref());
    let hex: Vec<String> = hash.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    Some(hex.join(":"))
}

/// Without the `tls` feature there is no certificate to fingerprint.
#[cfg(not(feature = "tls"))]
pub fn fingerprint(_cert_pem: &str) -> Option<String> {
    None
}

/// A loaded TLS identity, ready to accept connections.
#[derive(Clone)]
pub struct Identity {
    #[cfg(feature = "tls")]
    pub(crate) config: std::sync::Arc<rustls::ServerConfig>,
    /// The certificate chain, PEM (clients can trust a self-signed one with `--tls-ca`).
    pub cert_pem: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

/// Loads the certificate and key (or generates them) and builds the rustls configuration.
#[cfg(feature = "tls")]
pub fn load(source: &TlsSource) -> Result<Identity> {
    let (cert_pem, key_pem) = match source {
        TlsSource::SelfSigned => {
            let s = generate(&default_names())?;
            (s.cert_pem, s.key_pem)
        }
        TlsSource::Files { cert, key } => (read_pem(cert)?, read_pem(key)?),
    };
    let config = server_config(&cert_pem, &key_pem)?;
    Ok(Identity { config, cert_pem })
}

/// Loads a TLS identity: not available without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub fn load(_source: &TlsSource) -> Result<Identity> {
    Err(not_compiled())
}

#[cfg(feature = "tls")]
fn read_pem(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::io("cannot read a TLS file", e).with_path(path))
}

#[cfg(feature = "tls")]
fn server_config(cert_pem: &str, key_pem: &str) -> Result<std::sync::Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        Error::usage(format!("invalid TLS {what}: {e}")).with_hint(
            "give a PEM certificate chain and its PEM private key (PKCS#8, PKCS#1 or SEC1)",
        )
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("certificate", &e))?;
    if certs.is_empty() {
        return Err(bad("certificate", &"no CERTIFICATE block found"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| bad("key", &e))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("configuration", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("certificate or key", &e))?;
    Ok(std::sync::Arc::new(config))
}

/// The server side of one TLS connection over a TCP socket.
#[cfg(feature = "tls")]
pub(crate) struct TlsConn {
    sock: std::net::TcpStream,
    state: std::sync::Mutex<rustls::ServerConnection>,
    /// No byte was read yet (the first one tells a TLS client from a plain HTTP one).
    first: std::sync::atomic::AtomicBool,
}

#[cfg(feature = "tls")]
impl TlsConn {
    pub(crate) fn new(sock: std::net::TcpStream, id: &Identity) -> std::io::Result<TlsConn> {
        let conn = rustls::ServerConnection::new(std::sync::Arc::clone(&id.config))
            .map_err(std::io::Error::other)?;
        Ok(TlsConn {
            sock,
            state: std::sync::Mutex::new(conn),
            first: std::sync::atomic::AtomicBool::new(true),
        })
    }

    pub(crate) fn socket(&self) -> &std::net::TcpStream {
        &self.sock
    }

    fn lock(&self) -> std::io::Result<std::sync::MutexGuard<'_, rustls::ServerConnection>> {
        self.state
            .lock()
            .map_err(|_| std::io::Error::other("TLS state poisoned"))
    }

    /// Whether the handshake is still in progress.
    pub(crate) fn handshaking(&self) -> bool {
        self.lock().map(|c| c.is_handshaking()).unwrap_or(false)
    }

    /// Reads plaintext, driving the handshake as needed: `Some(0)` at the end of the stream
    /// (close_notify or TCP end), `None` when the records read carried no application data (so the
    /// caller's deadlines are checked between records).
    pub(crate) fn read(
        &self,
        scratch: &mut [u8],
        out: &mut [u8],
    ) -> std::io::Result<Option<usize>> {
        use std::io::{ErrorKind, Read};
        let mut fed = false;
        loop {
            {
                let mut c = self.lock()?;
                match c.reader().read(out) {
                    Ok(n) => return Ok(Some(n)),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(Some(0)),
                    Err(e) => return Err(e),
                }
            }
            if fed {
                return Ok(None);
            }
            let n = (&self.sock).read(scratch)?;
            if n == 0 {
                return Ok(Some(0));
            }
            if self.first.swap(false, std::sync::atomic::Ordering::Relaxed)
                && scratch.first().is_some_and(u8::is_ascii_uppercase)
            {
                // A plain HTTP request (`GET …`) to a TLS server: say so in plain HTTP, then close.
                use std::io::Write;
                let e = Error::usage("this server speaks HTTPS")
                    .with_hint("use an https:// URL (with --tls-ca for a self-signed certificate)");
                let _ = (&self.sock).write_all(&super::respond::raw_error(400, &e));
                return Err(std::io::Error::new(
                    ErrorKind::InvalidData,
                    "plain HTTP on a TLS port",
                ));
            }
            fed = true;
            let mut c = self.lock()?;
            let mut rest = scratch.get(..n).unwrap_or_default();
            while !rest.is_empty() {
                if c.read_tls(&mut rest)? == 0 {
                    break;
                }
                c.process_new_packets().map_err(|e| {
                    // Tell the peer why, then fail.
                    let _ = c.write_tls(&mut &self.sock);
                    std::io::Error::new(ErrorKind::InvalidData, e)
                })?;
            }
            while c.wants_write() {
                c.write_tls(&mut &self.sock)?;
            }
        }
    }

    /// Encrypts all of `data` and sends it through `out` (our socket, with a deadline).
    pub(crate) fn write_all(
        &self,
        mut data: &[u8],
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        use std::io::Write;
        let mut c = self.lock()?;
        while !data.is_empty() {
            let n = c.writer().write(data)?;
            data = data.get(n..).unwrap_or_default();
            while c.wants_write() {
                c.write_tls(out)?;
            }
        }
        Ok(())
    }

    /// Sends close_notify (best effort).
    pub(crate) fn close(&self) {
        if let Ok(mut c) = self.lock() {
            c.send_close_notify();
            while c.wants_write() {
                if c.write_tls(&mut &self.sock).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_load_and_bad_pem_is_a_usage_error() {
        let s = generate(&default_names()).unwrap();
        assert!(s.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(server_config(&s.cert_pem, &s.key_pem).is_ok());
        let e = server_config("nope", &s.key_pem).err().unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::Usage);
        let e = server_config(&s.cert_pem, "nope").err().unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::Usage);
        let fp = fingerprint(&s.cert_pem).unwrap();
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp
            .split(':')
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit())));
        assert_ne!(
            fingerprint(&generate(&default_names()).unwrap().cert_pem),
            Some(fp)
        );
        assert_eq!(fingerprint("nope"), None);
    }
}
