//! Name resolution for the remote client, done once per server and kept for a while.
//!
//! ureq asks its resolver before every request, even one that reuses a kept-alive connection, and its
//! default resolver starts a thread for each lookup when a timeout is set (ours always is). For
//! `poke URL` reading many records, that was a thread start per record. This resolver keeps the
//! answer for [`limits::REMOTE_RESOLVE_CACHE`], so a server whose address changes is still found
//! again by a long-running `peek`.

use crate::limits;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Caches the last answer of `inner` (one client talks to one server).
#[derive(Debug)]
pub(crate) struct Cached<R> {
    inner: R,
    keep: Duration,
    last: Mutex<Option<Entry>>,
}

#[derive(Debug)]
struct Entry {
    /// Scheme and authority the answer is for.
    key: String,
    at: Instant,
    addrs: ResolvedSocketAddrs,
}

impl<R: Resolver> Cached<R> {
    pub(crate) fn new(inner: R) -> Self {
        Cached::keeping(inner, limits::REMOTE_RESOLVE_CACHE)
    }

    fn keeping(inner: R, keep: Duration) -> Self {
        Cached {
            inner,
            keep,
            last: Mutex::new(None),
        }
    }
}

impl<R: Resolver> Resolver for Cached<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or_default(),
            uri.authority().map(|a| a.as_str()).unwrap_or_default()
        );
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = last.as_ref() {
            if e.key == key && e.at.elapsed() < self.keep {
                return Ok(e.addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *last = Some(Entry {
            key,
            at: Instant::now(),
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may panic
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicU32, Ordering};
    use ureq::unversioned::transport::time::Duration as NextDuration;

    /// Answers 127.0.0.1 with the URI's port and counts its calls.
    #[derive(Debug, Default)]
    struct Counting(AtomicU32);

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &Uri,
            _: &Config,
            _: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let mut v = self.empty();
            let port = uri.port_u16().unwrap_or(80);
            v.push(SocketAddr::from(([127, 0, 0, 1], port)));
            Ok(v)
        }
    }

    fn ask(r: &impl Resolver, url: &str) -> u16 {
        let t = NextTimeout {
            after: NextDuration::from_secs(1),
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        let got = r.resolve(&url.parse().unwrap(), &Config::default(), t);
        got.unwrap()[0].port()
    }

    #[test]
    fn one_lookup_per_server_while_the_answer_is_fresh() {
        let r = Cached::new(Counting::default());
        assert_eq!(ask(&r, "http://h:1/a/append"), 1);
        assert_eq!(ask(&r, "http://h:1/a/messages/3"), 1);
        assert_eq!(r.inner.0.load(Ordering::SeqCst), 1);
        // Another server (or scheme) is looked up.
        assert_eq!(ask(&r, "http://h:2/a"), 2);
        assert_eq!(ask(&r, "https://h:2/a"), 2);
        assert_eq!(r.inner.0.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_stale_answer_is_looked_up_again() {
        let r = Cached::keeping(Counting::default(), Duration::ZERO);
        ask(&r, "http://h:1/a");
        ask(&r, "http://h:1/a");
        assert_eq!(r.inner.0.load(Ordering::SeqCst), 2);
    }
}
