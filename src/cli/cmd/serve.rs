//! `serve`, `serve check` and `serve init`: build the server configuration from the flags, then serve
//! until Ctrl-C, validate without binding, or write a token and a certificate.

use crate::cli::app::{CmdResult, Ctx, Outcome};
use crate::cli::args::{self, ServeArgs, ServeInitArgs, ServeTls};
use crate::error::{Error, Result};
use crate::server::{self, Access, Config, TlsSource};
use std::io::{IsTerminal, Write};
use std::net::ToSocketAddrs;
use std::time::Duration;

fn resolve(bind: &str) -> Result<std::net::SocketAddr> {
    bind.to_socket_addrs()
        .map_err(|e| Error::usage(format!("cannot resolve --bind {bind}: {e}")))?
        .next()
        .ok_or_else(|| Error::usage(format!("--bind {bind} resolves to no address")))
}

/// The server configuration the flags describe (files read, nothing bound).
fn config_of(ctx: &Ctx, a: &ServeArgs) -> Result<Config> {
    let mut c = Config::new(ctx.client()?.dir(), resolve(&a.bind)?);
    c.token = a
        .token_file
        .as_deref()
        .map(server::auth::read_token_file)
        .transpose()?;
    c.access = match a.access {
        args::Access::ReadOnly => Access::ReadOnly,
        args::Access::WriteOnly => Access::WriteOnly,
        args::Access::ReadWrite => Access::ReadWrite,
    };
    c.tls = match &a.tls {
        ServeTls::None => None,
        ServeTls::SelfSigned => Some(TlsSource::SelfSigned),
        ServeTls::Files { cert, key } => Some(TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
    };
    c.allow_non_loopback = a.allow_non_loopback;
    c.insecure_no_tls = a.insecure_no_tls;
    if let Some(b) = a.max_body {
        c.limits.body_bytes_max = b;
    }
    if let Some(n) = a.max_connections {
        c.limits.connections_max = n as usize;
    }
    if let Some(n) = a.max_tails {
        c.limits.tails_max = n as usize;
    }
    if let Some(n) = a.max_connections_per_ip {
        c.limits.connections_per_ip_max = n as usize;
    }
    if let Some(b) = a.max_pool_size {
        c.limits.pool_size_max = b;
    }
    if let Some(n) = a.max_pools {
        c.limits.pools_max = n as usize;
    }
    c.allow_hosts = a.allow_hosts.clone();
    c.cors_origins = a.cors_origins.clone();
    Ok(c)
}

fn tls_label(a: &ServeArgs) -> String {
    match &a.tls {
        ServeTls::None => "off".to_owned(),
        ServeTls::SelfSigned => "self-signed".to_owned(),
        ServeTls::Files { cert, .. } => format!("certificate {}", cert.display()),
    }
}

/// `serve`: runs until Ctrl-C / SIGTERM.
pub fn run(ctx: &Ctx, a: ServeArgs) -> CmdResult {
    let config = config_of(ctx, &a)?;
    let interrupted = crate::sys::signal::install_interrupt_flag();
    let running = server::start(config.clone())?;
    announce(&a, &config, &running);
    while !interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    running.shutdown();
    Ok(Outcome::Interrupted)
}

/// The startup block on stderr: readable lines on a terminal, one JSON line otherwise (with the bound
/// address, so scripts can bind port 0).
fn announce(a: &ServeArgs, c: &Config, r: &server::Running) {
    let auth = match &a.token_file {
        Some(f) => format!("bearer token from {}", f.display()),
        None => "none (anyone who can connect)".to_owned(),
    };
    let mut s = String::new();
    if std::io::stderr().is_terminal() {
        s.push_str(&format!("plasmite serve: listening on {}\n", r.url()));
        s.push_str(&format!("  pools:  {}\n", c.dir.display()));
        s.push_str(&format!("  auth:   {auth}\n"));
        s.push_str(&format!("  tls:    {}\n", tls_label(a)));
        s.push_str(&format!("  access: {}\n", c.access.as_str()));
        let l = r.limits();
        s.push_str(&format!(
            "  limits: body {} bytes, {} connections ({} per address), {} tails\n",
            l.body_bytes_max, l.connections_max, l.connections_per_ip_max, l.tails_max
        ));
        if let Some(fp) = r.cert_pem().and_then(server::tls::fingerprint) {
            s.push_str(&format!("  cert:   SHA-256 {fp}\n"));
        }
        s.push_str(&format!("  try:    {}\n", try_line(a, r)));
        s.push_str(&format!("  web UI: {}/ui\n", r.url()));
        if let (ServeTls::SelfSigned, Some(pem)) = (&a.tls, r.cert_pem()) {
            s.push_str("clients trust this generated certificate with --tls-ca FILE holding:\n");
            s.push_str(pem);
        }
        s.push_str("Press Ctrl-C to stop.\n");
    } else {
        let mut v = serde_json::json!({
            "url": r.url(),
            "addr": r.addr().to_string(),
            "dir": c.dir.display().to_string(),
            "auth": a.token_file.is_some(),
            "tls": tls_label(a),
            "access": c.access.as_str(),
        });
        if let (ServeTls::SelfSigned, Some(pem)) = (&a.tls, r.cert_pem()) {
            v["cert_pem"] = pem.into();
        }
        if let Some(fp) = r.cert_pem().and_then(server::tls::fingerprint) {
            v["cert_sha256"] = fp.into();
        }
        v["connections_max"] = r.limits().connections_max.into();
        s = serde_json::json!({ "listening": v }).to_string();
        s.push('\n');
    }
    let _ = std::io::stderr().write_all(s.as_bytes());
}

/// The command to try the server with: the flags its token and certificate need included.
fn try_line(a: &ServeArgs, r: &server::Running) -> String {
    let mut t = format!("plasmite peek {}/POOL", r.url());
    if let Some(f) = &a.token_file {
        t.push_str(&format!(" --token-file {}", shell(f)));
    }
    match &a.tls {
        ServeTls::Files { cert, .. } => t.push_str(&format!(" --tls-ca {}", shell(cert))),
        ServeTls::SelfSigned => t.push_str(" --tls-ca CERT.pem (the certificate below)"),
        ServeTls::None => {}
    }
    t
}

/// `serve check`: everything `serve` would check, without binding.
pub fn check(ctx: &Ctx, a: ServeArgs) -> CmdResult {
    let config = config_of(ctx, &a)?;
    config.check()?;
    let identity = config.tls.as_ref().map(server::tls::load).transpose()?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let v = serde_json::json!({
        "ok": true,
        "url": format!("{scheme}://{}", config.bind),
        "dir": config.dir.display().to_string(),
        "auth": config.token.is_some(),
        "tls": tls_label(&a),
        "access": config.access.as_str(),
    });
    let mut v = v;
    if let Some(fp) = identity.and_then(|i| server::tls::fingerprint(&i.cert_pem)) {
        v["cert_sha256"] = fp.into();
    }
    let mut out = ctx.out(None, false);
    out.value(&v)?;
    out.flush()?;
    Ok(Outcome::Ok)
}

/// Quotes a path for a POSIX shell when it needs it.
fn shell(p: &std::path::Path) -> String {
    let s = p.display().to_string();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `serve init`: writes the files and prints how to use them (never the token itself).
pub fn init(ctx: &Ctx, a: ServeInitArgs) -> CmdResult {
    let dir = match &a.output_dir {
        Some(d) => d.clone(),
        None => std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", e))?,
    };
    let w = server::init::init(&dir, a.force)?;
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let (token, cert, key) = (
        dir.join(server::init::TOKEN_FILE),
        dir.join(server::init::CERT_FILE),
        dir.join(server::init::KEY_FILE),
    );
    let host = server::tls::default_names()
        .into_iter()
        .nth(3)
        .unwrap_or_else(|| "HOST".to_owned());
    let mut s = String::new();
    match (&w.cert, &w.key) {
        (Some(_), Some(_)) => {
            s.push_str(&format!(
                "wrote {} (token, mode 0600), {} (certificate) and {} (key, mode 0600)\n",
                shell(&token),
                shell(&cert),
                shell(&key)
            ));
            if let Some(fp) = std::fs::read_to_string(&cert)
                .ok()
                .and_then(|pem| server::tls::fingerprint(&pem))
            {
                s.push_str(&format!("certificate SHA-256 fingerprint: {fp}\n"));
            }
            s.push('\n');
            s.push_str("start the server on every interface, with TLS and the token:\n");
            s.push_str(&format!(
                "  plasmite serve --bind 0.0.0.0:9700 --allow-non-loopback --allow-host {host} --token-file {} --tls-cert {} --tls-key {}\n\n",
                shell(&token), shell(&cert), shell(&key)
            ));
            s.push_str(&format!(
                "on another machine, copy {} and {} there, then:\n",
                server::init::TOKEN_FILE,
                server::init::CERT_FILE
            ));
            let flags = format!(
                "--token-file {} --tls-ca {}",
                server::init::TOKEN_FILE,
                server::init::CERT_FILE
            );
            s.push_str(&format!(
                "  plasmite peek https://{host}:9700/POOL {flags}\n"
            ));
            s.push_str(&format!(
                "  plasmite poke https://{host}:9700/POOL '{{\"hello\":\"world\"}}' {flags}\n"
            ));
            s.push_str("(create POOL on the server first: plasmite pool create POOL)\n");
        }
        _ => {
            s.push_str(&format!("wrote {} (token, mode 0600)\n", shell(&token)));
            s.push_str(
                "TLS is not compiled in (built without the `tls` feature): no certificate was written\n",
            );
            s.push_str(&format!(
                "start a loopback server with the token:\n  plasmite serve --token-file {}\n",
                shell(&token)
            ));
        }
    }
    let mut out = ctx.out(Some(args::OutputFormat::Jsonl), false);
    out.text(&s)?;
    out.flush()?;
    Ok(Outcome::Ok)
}
