//! plasmite: persistent JSON message pools backed by plain files.
//!
//! A pool is one `.plasmite` file holding a bounded ring of messages `{seq, time, meta:{tags}, data}`.
//! Many processes append and read at once, with no daemon: writers serialize on an advisory file
//! lock, readers take no lock at all.
//!
//! Crate map (dependencies point down):
//! - [`api`]: [`Client`], [`Pool`], [`Message`], tails — what library users see.
//! - [`pool`]: the storage engine (format, region protocols, writer, reader, validation, files).
//! - `sys`: the only module with `unsafe` (mmap, flock, futex, fallocate, statfs, CRC instruction).
//! - [`server`]: `plasmite serve`, the HTTP protocol v0; [`remote`]: its client, for URL pool refs;
//!   [`proto`]: what both speak (wire format, header names, token files).
//! - [`error`], [`limits`]: the stable error kinds and every numeric limit.
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod error;
pub mod filter;
pub mod ingest;
pub mod json;
pub mod limits;
pub mod pool;
pub mod proto;
pub mod remote;
pub mod server;
pub(crate) mod sys;
pub mod time;

pub use api::{Client, Durability, Message, Pool, PoolInfo, PoolRef, Tail, TailEvent, TailOptions};
pub use error::{Error, ErrorKind, Result};

/// The README's Rust example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
#[doc(hidden)]
pub mod fuzzing;
