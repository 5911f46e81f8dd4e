//! The library API of the v0 contract: a [`Client`] over a pool directory and a [`RemoteClient`] over
//! a server's URL, [`PoolRef`]s, and the [`PoolHandle`] both hand out (append, get, info, tail,
//! delete, the same for a local [`Pool`] and a pool on a server), [`Message`]s. Everything here
//! returns [`crate::Error`] with a stable kind.

mod client;
mod cursor;
mod handle;
mod message;
mod pool;
mod poolref;
mod remote;
mod tail;
mod tail_any;

pub use crate::pool::validate::{Issue, Report};
/// The envelope's `time` text (RFC 3339, UTC, nanoseconds) of a Unix time in nanoseconds, for bindings
/// that build envelopes of their own.
pub use crate::time::{format_rfc3339_nanos, write_rfc3339_nanos};
pub use client::{Client, PoolListing};
pub use cursor::{
    check_cursor_name, cursor_dir, cursor_lags, delete_cursor, CursorLag, NamedCursor,
};
pub use handle::{PoolHandle, Record, RemotePool, Retry};
pub use message::{write_envelope, write_json_string, JsonText, Message, MessageRef};
pub use pool::{now_unix_ns, Durability, Pool, PoolInfo, Receipt};
pub use poolref::{check_name, PoolRef, POOL_EXTENSION};
pub use remote::{is_url, RemoteClient, RemoteOptions};
pub use tail::{
    Canceller, GapPolicy, Tail, TailEnd, TailEvent, TailEventRef, TailOptions, TailStart,
};
pub use tail_any::{EventRef, MessageView, PoolTail, Tags, TailCanceller};
