//! The native half of `plasmite-node`: napi-rs classes over the Rust API (`plasmite::api`) for local
//! pools and over `plasmite::remote` for pools behind `plasmite serve`. `index.js` wraps these classes
//! into the JavaScript API (errors, messages, async iterators); nothing here is meant to be used
//! directly.
//!
//! Map:
//! - `error`  — every `plasmite::Error` crosses to JavaScript as one tagged JSON reason string;
//! - `client` — `NativeClient` / `NativePool`: one class each, dispatching to local or remote;
//! - `remote` — the ONE adapter over `plasmite::remote` (to switch when the core grows one handle);
//! - `tail`   — `NativeTail`: a worker thread per tail that waits off the event loop and hands batches
//!   to JavaScript through a threadsafe function, only when JavaScript asked for one (no read-ahead);
//! - `limits` — the binding's numeric limits.
//!
//! No `unsafe` is written in this crate: napi-rs's generated glue is the whole FFI boundary.

mod client;
mod error;
mod limits;
mod remote;
mod tail;
