//! plasmite: persistent JSON message pools backed by plain files.
//!
//! A pool is one `.plasmite` file holding a bounded ring of messages `{seq, time, meta:{tags}, data}`.
//! Many processes append and read at once, with no daemon: writers serialize on an advisory file
//! lock, readers take no lock at all. `plasmite serve` shares pools over HTTP, and the same
//! [`PoolHandle`] reaches a pool in a directory or on a server.
//!
//! The public surface is [`api`] (re-exported here), [`Error`], [`ErrorKind`] and [`Result`]; the
//! other modules are reachable only for the binaries, the tests and the fuzz targets
//! (`#[doc(hidden)]`, not covered by semver).
//!
//! A local pool:
//!
//! ```
//! use plasmite::api::TailStart;
//! use plasmite::{Client, Durability, PoolHandle, PoolRef, RemoteOptions, TailOptions};
//! use plasmite::api::EventRef;
//!
//! let dir = std::env::temp_dir().join(format!("plasmite-doc-{}", std::process::id()));
//! let client = Client::new(&dir);
//! client.create_pool(&PoolRef::name("events"), 1 << 20)?;
//! let pool = PoolHandle::open(&client, &PoolRef::name("events"), &RemoteOptions::default())?;
//! let data = plasmite::api::JsonText::parse(br#"{"sensor":"temp","value":23.5}"#)?;
//! let m = pool.append_text(&data, &["env"], Durability::Fast)?;
//! assert_eq!(pool.get(m.seq)?.data, r#"{"sensor":"temp","value":23.5}"#);
//!
//! let opts = TailOptions { start: TailStart::Since(m.seq), max: Some(1), ..Default::default() };
//! let mut tail = pool.tail(opts)?;
//! while let Some(ev) = tail.next_ref() {
//!     if let EventRef::Message(m) = ev? {
//!         assert_eq!(m.tags().collect::<Vec<_>>(), ["env"]);
//!     }
//! }
//! drop((tail, pool)); // delete is Busy while a handle that appended is open
//! client.delete_pool(&PoolRef::name("events"))?;
//! # std::fs::remove_dir(&dir).ok();
//! # Ok::<(), plasmite::Error>(())
//! ```
//!
//! The same calls on a pool served by `plasmite serve` (a URL ref, or a [`RemoteClient`]):
//!
//! ```no_run
//! use plasmite::{Client, Durability, PoolHandle, PoolRef, RemoteClient, RemoteOptions};
//!
//! let opts = RemoteOptions { token: Some("secret".into()), tls_ca: None };
//! let url = PoolRef::parse("http://127.0.0.1:9700/events");
//! let pool = PoolHandle::open(&Client::new("unused"), &url, &opts)?;
//! let data = plasmite::api::JsonText::parse(br#"{"up":true}"#)?;
//! println!("{}", pool.append_text(&data, &["env"], Durability::Fast)?.seq);
//!
//! let server = RemoteClient::new("http://127.0.0.1:9700", opts)?;
//! let info = server.create_pool("logs", 4 << 20)?;
//! println!("{} bytes", info.file_size);
//! server.delete_pool("logs")?;
//! # Ok::<(), plasmite::Error>(())
//! ```
//!
//! Crate map (dependencies point down; `spec/architecture.md` draws it):
//! - [`api`]: [`Client`], [`RemoteClient`], [`PoolHandle`], [`Pool`], [`Message`], tails.
//! - `pool`: the storage engine (format, region protocols, writer, reader, validation, files).
//! - `remote`: the HTTP client behind remote handles; `server`: `plasmite serve`; `proto`: what
//!   both speak (wire format, header names, token files).
//! - `sys`: the only module with `unsafe` (mmap, flock, futex, fallocate, statfs, poll, CRC).
//! - [`error`]: the stable error kinds.
#![deny(unsafe_code)]

pub mod api;
#[doc(hidden)]
pub mod cli;
pub mod error;
#[doc(hidden)]
pub mod filter;
#[doc(hidden)]
pub mod ingest;
#[doc(hidden)]
pub mod json;
#[doc(hidden)]
pub mod limits;
#[doc(hidden)]
pub mod mcp;
#[doc(hidden)]
pub mod pool;
#[doc(hidden)]
pub mod proto;
#[doc(hidden)]
pub mod remote;
#[doc(hidden)]
pub mod server;
pub(crate) mod sys;
pub(crate) mod time;

pub use api::{
    Client, Durability, Message, Pool, PoolHandle, PoolInfo, PoolRef, PoolTail, RemoteClient,
    RemoteOptions, Tail, TailEvent, TailOptions,
};
pub use error::{Error, ErrorKind, Result};

/// The README's Rust example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
#[doc(hidden)]
pub mod fuzzing;
