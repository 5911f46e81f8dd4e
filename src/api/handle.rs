//! The pool handle of both doors: [`PoolHandle`] is a local [`Pool`] or a pool on a server, with the
//! operations both can do (append one or a batch, get, info, tail, delete) and the same errors.
//!
//! It is an enum, not a trait: the set of doors is closed (a file or the HTTP protocol), a `match`
//! keeps what only a local pool can do (doctor, read-only open) one call away ([`PoolHandle::local`]),
//! and the bindings wrap one concrete `Send + Sync` type without generics or trait objects.
//!
//! Retries ([`Retry`]) live here too, so that both doors retry exactly the failures that provably
//! committed nothing: a local failed lock hold, or an error the server answered (never a broken
//! connection, after which the append may have happened).

use super::client::Client;
use super::message::{JsonText, Message};
use super::pool::{Durability, Pool, PoolInfo, Receipt};
use super::poolref::PoolRef;
use super::remote::{RemoteClient, RemoteOptions};
use super::tail::TailOptions;
use super::tail_any::PoolTail;
use crate::error::{Error, ErrorKind, Result};
use crate::pool::writer::Item;
use crate::remote::{CallError, Remote};
use std::sync::Arc;
use std::time::Duration;

/// One record of a batch: compact JSON text (as the ingest reader or [`JsonText`] produce) and its tags.
pub type Record<'a, T> = Item<'a, T>;

/// A pool, local or remote. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub enum PoolHandle {
    /// A pool file opened by a [`Client`].
    Local(Pool),
    /// A pool on a `plasmite serve` server.
    Remote(RemotePool),
}

/// The remote side of a [`PoolHandle`].
#[derive(Debug, Clone)]
pub struct RemotePool {
    pub(crate) remote: Arc<Remote>,
    name: String,
    /// To open one more connection for each tail.
    pub(crate) opts: crate::remote::Options,
}

impl RemotePool {
    /// The pool's name on the server.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The pool URL.
    pub fn url(&self) -> String {
        format!("{}/{}", self.remote.url().base, self.name)
    }

    /// A new client of the same pool (a tail's follower owns one).
    pub(crate) fn connect_again(&self) -> Result<Remote> {
        Remote::new(&self.url(), &self.opts)
    }
}

/// `--retry N --retry-delay D`: how often to retry a failure that committed nothing (`Busy`, `Io`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retry {
    pub times: u32,
    pub delay: Duration,
}

impl Retry {
    /// No retries.
    pub const NONE: Retry = Retry {
        times: 0,
        delay: Duration::ZERO,
    };

    /// Runs `f`, retrying `Busy` and `Io` failures (which, for the calls given here, committed
    /// nothing).
    pub fn run<T>(&self, f: impl FnMut() -> Result<T>) -> Result<T> {
        self.run_on(f, &[ErrorKind::Busy, ErrorKind::Io])
    }

    /// Like [`Retry::run`], and also retries `NotFound` (another process may be about to create the
    /// pool): the policy for opening.
    pub fn run_open<T>(&self, f: impl FnMut() -> Result<T>) -> Result<T> {
        self.run_on(f, &[ErrorKind::NotFound, ErrorKind::Busy, ErrorKind::Io])
    }

    fn run_on<T>(&self, mut f: impl FnMut() -> Result<T>, kinds: &[ErrorKind]) -> Result<T> {
        let mut left = self.times;
        loop {
            match f() {
                Err(e) if left > 0 && kinds.contains(&e.kind()) => {
                    left -= 1;
                    std::thread::sleep(self.delay);
                }
                other => return other,
            }
        }
    }
}

impl PoolHandle {
    /// Resolves a ref: names and paths inside `client`'s directory, URIs on the server they name
    /// (reached with `remote`).
    pub fn open(client: &Client, r: &PoolRef, remote: &RemoteOptions) -> Result<PoolHandle> {
        match r {
            PoolRef::Uri(u) => {
                let (c, name) = RemoteClient::for_pool_url(u, remote.clone())?;
                c.open_pool(&name)
            }
            r => client.open_pool(r).map(PoolHandle::Local),
        }
    }

    pub(crate) fn from_remote(
        remote: Remote,
        name: String,
        opts: crate::remote::Options,
    ) -> PoolHandle {
        PoolHandle::Remote(RemotePool {
            remote: Arc::new(remote),
            name,
            opts,
        })
    }

    /// The local pool, for what only a local pool can do (validate, path).
    pub fn local(&self) -> Option<&Pool> {
        match self {
            PoolHandle::Local(p) => Some(p),
            PoolHandle::Remote(_) => None,
        }
    }

    /// Whether this is a pool on a server.
    pub fn is_remote(&self) -> bool {
        matches!(self, PoolHandle::Remote(_))
    }

    /// Appends one value; returns the committed message.
    pub fn append_text<T: AsRef<str>>(
        &self,
        data: &JsonText,
        tags: &[T],
        durability: Durability,
    ) -> Result<Message> {
        self.append_retrying(data, tags, durability, Retry::NONE)
    }

    /// Appends one value with retries; returns the committed message.
    pub fn append_retrying<T: AsRef<str>>(
        &self,
        data: &JsonText,
        tags: &[T],
        durability: Durability,
        retry: Retry,
    ) -> Result<Message> {
        match self {
            PoolHandle::Local(p) => retry.run(|| p.append_text(data, tags, durability)),
            PoolHandle::Remote(r) => {
                let tags: Vec<String> = tags.iter().map(|t| t.as_ref().to_owned()).collect();
                remote_append(r, data.as_str(), &tags, durability, retry)
            }
        }
    }

    /// Appends many records in order; one receipt per record. On error, every record before the
    /// failing one is committed.
    pub fn append_batch<T: AsRef<str>>(
        &self,
        records: &[(&JsonText, &[T])],
        durability: Durability,
    ) -> Result<Vec<Receipt>> {
        let items = super::pool::items_of(records);
        let mut out = Vec::with_capacity(items.len());
        self.append_records(&items, durability, Retry::NONE, &mut out)?;
        Ok(out)
    }

    /// Appends records whose data is compact JSON text, retrying what committed nothing. Receipts
    /// are pushed to `out` as records commit, so after an error `out.len()` records are in the pool
    /// and `records[out.len()]` is the one that failed.
    pub(crate) fn append_records<T: AsRef<str>>(
        &self,
        records: &[Record<'_, T>],
        durability: Durability,
        retry: Retry,
        out: &mut Vec<Receipt>,
    ) -> Result<()> {
        match self {
            PoolHandle::Local(p) => {
                let base = out.len();
                retry.run(|| {
                    let done = out.len() - base;
                    p.append_items(&records[done..], durability, out)
                })
            }
            PoolHandle::Remote(r) => {
                let mut tags: Vec<String> = Vec::new();
                for rec in records {
                    tags.clear();
                    tags.extend(rec.tags.iter().map(|t| t.as_ref().to_owned()));
                    let data = std::str::from_utf8(rec.data)
                        .map_err(|_| Error::usage("record is not UTF-8"))?;
                    let m = remote_append(r, data, &tags, durability, retry)?;
                    out.push(Receipt {
                        seq: m.seq,
                        time_ns: m.time_ns,
                    });
                }
                Ok(())
            }
        }
    }

    /// Checks one record against the pool's limits without writing. A remote pool's limits are the
    /// server's: it answers `Usage` for a bad record when it is appended.
    pub(crate) fn check_record<T: AsRef<str>>(&self, rec: &Record<'_, T>) -> Result<()> {
        match self {
            PoolHandle::Local(p) => p.check_item(rec),
            PoolHandle::Remote(_) => Ok(()),
        }
    }

    /// The message `seq`; `NotFound` when it was never written or was evicted.
    pub fn get(&self, seq: u64) -> Result<Message> {
        match self {
            PoolHandle::Local(p) => p.get(seq),
            PoolHandle::Remote(r) => r.remote.get(seq),
        }
    }

    /// The seq the next append will get (after the newest; 1 for a pool never written): where a
    /// tail from the live edge made now starts. `TailStart::Since(pool.edge_seq()?)` pins that edge
    /// when the tail is made, for a remote pool too (a remote `TailStart::Edge` is where the
    /// server's edge is when the follower's first stream reaches it).
    pub fn edge_seq(&self) -> Result<u64> {
        Ok(self.info()?.bounds.map_or(1, |(_, newest)| newest + 1))
    }

    /// Metadata and bounds (a remote pool's `path` is the server's).
    pub fn info(&self) -> Result<PoolInfo> {
        match self {
            PoolHandle::Local(p) => p.info(),
            PoolHandle::Remote(r) => super::remote::info_of_json(&r.remote.info()?),
        }
    }

    /// Starts a tail with the same options and events for both doors (see [`PoolTail`]).
    pub fn tail(&self, opts: TailOptions) -> Result<PoolTail> {
        PoolTail::new(self, opts)
    }
}

/// One remote append with `retry`: only failures the server answered are retried.
fn remote_append(
    r: &RemotePool,
    data: &str,
    tags: &[String],
    durability: Durability,
    retry: Retry,
) -> Result<Message> {
    let mut left = retry.times;
    loop {
        match r.remote.append_call(data, tags, durability) {
            Err(CallError::Server(e))
                if left > 0 && matches!(e.kind(), ErrorKind::Busy | ErrorKind::Io) =>
            {
                left -= 1;
                std::thread::sleep(retry.delay);
            }
            other => return other.map_err(Error::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_and_tails_can_cross_threads() {
        assert_send_sync::<PoolHandle>();
        assert_send_sync::<RemoteClient>();
        assert_send_sync::<super::super::tail_any::TailCanceller>();
        fn assert_send<T: Send>() {}
        assert_send::<PoolTail>();
    }

    #[test]
    fn retry_stops_at_the_first_success_or_a_kind_it_does_not_retry() {
        let r = Retry {
            times: 3,
            delay: Duration::ZERO,
        };
        let mut calls = 0;
        let got: Result<()> = r.run(|| {
            calls += 1;
            Err(Error::new(ErrorKind::Busy, "busy"))
        });
        assert_eq!((got.unwrap_err().kind(), calls), (ErrorKind::Busy, 4));
        calls = 0;
        let got: Result<()> = r.run(|| {
            calls += 1;
            Err(Error::new(ErrorKind::NotFound, "gone"))
        });
        assert_eq!((got.unwrap_err().kind(), calls), (ErrorKind::NotFound, 1));
        calls = 0;
        let got = r.run_open(|| {
            calls += 1;
            if calls < 3 {
                Err(Error::new(ErrorKind::NotFound, "not yet"))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(got.unwrap(), 3);
    }
}
