//! The library API of the v0 contract: a [`Client`] over a pool directory, [`PoolRef`]s, open [`Pool`]
//! handles (append, get, info, tail) and [`Message`]s. Everything here returns [`crate::Error`] with a
//! stable kind.

mod client;
mod message;
mod pool;
mod poolref;
mod tail;

pub use crate::pool::validate::{Issue, Report};
pub use client::{Client, PoolListing};
pub use message::{write_envelope, write_json_string, JsonText, Message, MessageRef};
pub use pool::{now_unix_ns, Durability, Pool, PoolInfo, Receipt};
pub use poolref::{check_name, PoolRef, POOL_EXTENSION};
pub use tail::{Canceller, Tail, TailEnd, TailEvent, TailEventRef, TailOptions, TailStart};
