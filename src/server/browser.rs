//! The rules that keep web pages out (pure): which `Host` names this server answers to (against DNS
//! rebinding), which `Origin`s may call it (against cross-site requests), the CORS answers for the
//! origins allowed with `--cors-origin`, and the JSON content type that forces a browser to ask
//! first (a preflight) before any cross-site write.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, SocketAddr};

/// What the server accepts from browsers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// The bound address.
    pub bind: Option<SocketAddr>,
    /// `https` rather than `http` (for the server's own origin).
    pub tls: bool,
    /// `--allow-host NAME` (compared without case).
    pub allow_hosts: Vec<String>,
    /// `--cors-origin ORIGIN` (exact).
    pub cors_origins: Vec<String>,
}

/// What the `Origin` header says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin<'a> {
    /// No `Origin`: not sent by a browser on another site.
    Absent,
    /// The server's own origin (its web UI).
    Own,
    /// An origin allowed with `--cors-origin`: answers carry CORS headers for it.
    Cors(&'a str),
    /// Any other origin: refused.
    Foreign(&'a str),
}

/// The host part of a `Host` header value (`name`, `name:port`, `[v6]:port`), without port, brackets
/// or a trailing dot.
pub fn host_name(value: &str) -> &str {
    let v = value.trim();
    let name = if let Some(rest) = v.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(inside, _)| inside)
    } else {
        match v.rsplit_once(':') {
            Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => v,
        }
    };
    name.strip_suffix('.').unwrap_or(name)
}

fn is_loopback(ip: IpAddr) -> bool {
    super::is_loopback(ip)
}

impl Rules {
    /// Whether a request with this `Host` is for this server: an IP literal of the bound address (any
    /// for an unspecified bind, any loopback one for a loopback bind), `localhost` or `*.localhost`
    /// for a loopback or unspecified bind, or a name given with `--allow-host`. A request without
    /// `Host` (HTTP/1.0) passes: a browser always sends one.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(value) = host else {
            return true;
        };
        let name = host_name(value);
        if self
            .allow_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            return true;
        }
        let Some(bind) = self.bind.map(|b| b.ip()) else {
            return false;
        };
        let local = bind.is_unspecified() || is_loopback(bind);
        if let Ok(ip) = name.parse::<IpAddr>() {
            return bind.is_unspecified() || ip == bind || (is_loopback(bind) && is_loopback(ip));
        }
        let lower = name.to_ascii_lowercase();
        local && (lower == "localhost" || lower.ends_with(".localhost"))
    }

    /// Classifies the `Origin` of a request whose `Host` passed [`Rules::host_allowed`].
    pub fn origin<'a>(&self, origin: Option<&'a str>, host: Option<&str>) -> Origin<'a> {
        let Some(o) = origin else {
            return Origin::Absent;
        };
        let scheme = if self.tls { "https://" } else { "http://" };
        let own = host.is_some_and(|h| {
            o.len() == scheme.len() + h.len()
                && o.get(..scheme.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
                && o.get(scheme.len()..)
                    .is_some_and(|rest| rest.eq_ignore_ascii_case(h))
        });
        if own {
            Origin::Own
        } else if self.cors_origins.iter().any(|c| c == o) {
            Origin::Cors(o)
        } else {
            Origin::Foreign(o)
        }
    }
}

/// The headers of every answer to an origin allowed with `--cors-origin`.
pub fn cors_headers(origin: &str) -> [(&'static str, String); 3] {
    [
        ("Access-Control-Allow-Origin", origin.to_owned()),
        ("Vary", "Origin".to_owned()),
        (
            "Access-Control-Expose-Headers",
            "plasmite-version, plasmite-next-seq".to_owned(),
        ),
    ]
}

/// The extra headers of a preflight answer (`OPTIONS`) for an allowed origin.
pub const PREFLIGHT_HEADERS: [(&str, &str); 3] = [
    ("Access-Control-Allow-Methods", "GET, POST, DELETE"),
    (
        "Access-Control-Allow-Headers",
        "Authorization, Content-Type",
    ),
    ("Access-Control-Max-Age", "600"),
];

/// Whether a `Content-Type` value is JSON (`application/json`, parameters allowed).
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rules(bind: &str) -> Rules {
        Rules {
            bind: Some(bind.parse().unwrap()),
            tls: false,
            allow_hosts: vec!["plasmite.example".into()],
            cors_origins: vec!["https://app.example".into()],
        }
    }

    #[test]
    fn host_names_lose_port_brackets_and_dot() {
        assert_eq!(host_name("a.example:9700"), "a.example");
        assert_eq!(host_name("a.example."), "a.example");
        assert_eq!(host_name("[::1]:80"), "::1");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("::1"), "::1");
    }

    #[test]
    fn hosts_of_a_loopback_bind() {
        let r = rules("127.0.0.1:9700");
        for ok in [
            "127.0.0.1:9700",
            "127.0.0.1",
            "127.0.0.2:1",
            "[::1]:9700",
            "localhost:9700",
            "LocalHost",
            "a.localhost",
            "plasmite.example:9700",
        ] {
            assert!(r.host_allowed(Some(ok)), "{ok}");
        }
        assert!(r.host_allowed(None));
        for bad in [
            "evil.example:9700",
            "10.0.0.1",
            "localhost.evil.example",
            "",
            "plasmite.example.evil",
        ] {
            assert!(!r.host_allowed(Some(bad)), "{bad}");
        }
    }

    #[test]
    fn hosts_of_other_binds() {
        let r = rules("10.1.2.3:9700");
        assert!(r.host_allowed(Some("10.1.2.3:9700")));
        assert!(!r.host_allowed(Some("localhost")));
        assert!(!r.host_allowed(Some("10.1.2.4")));
        let any = rules("0.0.0.0:9700");
        assert!(any.host_allowed(Some("192.168.1.9:9700")));
        assert!(any.host_allowed(Some("localhost:9700")));
        assert!(!any.host_allowed(Some("myhost.lan:9700")));
    }

    #[test]
    fn origins() {
        let r = rules("127.0.0.1:9700");
        let h = Some("127.0.0.1:9700");
        assert_eq!(r.origin(None, h), Origin::Absent);
        assert_eq!(r.origin(Some("http://127.0.0.1:9700"), h), Origin::Own);
        assert_eq!(r.origin(Some("HTTP://127.0.0.1:9700"), h), Origin::Own);
        assert_eq!(
            r.origin(Some("https://127.0.0.1:9700"), h),
            Origin::Foreign("https://127.0.0.1:9700")
        );
        assert_eq!(
            r.origin(Some("https://app.example"), h),
            Origin::Cors("https://app.example")
        );
        assert_eq!(r.origin(Some("null"), h), Origin::Foreign("null"));
        assert_eq!(
            r.origin(Some("http://127.0.0.1:9700"), None),
            Origin::Foreign("http://127.0.0.1:9700")
        );
    }

    #[test]
    fn json_content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        for bad in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
        ] {
            assert!(!is_json(bad), "{bad:?}");
        }
    }
}
