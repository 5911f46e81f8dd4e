//! The native half of `plasmite-node`: napi-rs classes over the Rust API (`plasmite::api`), whose one
//! pool handle (`PoolHandle`) and tail (`PoolTail`) serve local pools and pools behind
//! `plasmite serve` alike. `index.js` wraps these classes into the JavaScript API (errors, messages,
//! async iterators); nothing here is meant to be used directly.
//!
//! Map:
//! - `error`  — every `plasmite::Error` crosses to JavaScript as one tagged JSON reason string;
//! - `client` — `NativeClient` (the core's `Client` or `RemoteClient`) / `NativePool` (a `PoolHandle`);
//! - `tail`   — `NativeTail`: a worker thread per tail (over a `PoolTail`) that waits off the event
//!   loop and hands batches to JavaScript through a threadsafe function, only when JavaScript asked
//!   for one (no read-ahead);
//! - `limits` — the binding's numeric limits.
//!
//! No `unsafe` is written in this crate: napi-rs's generated glue is the whole FFI boundary.

mod client;
mod error;
mod limits;
mod tail;
