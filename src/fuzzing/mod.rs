//! Fuzz target bodies, shared by the cargo-fuzz crate (`fuzz/`) and the normal test suite
//! (`tests/it/fuzz_corpus.rs` replays every checked-in corpus file through them).
//!
//! Each function takes arbitrary bytes, drives one decoder or protocol with them and asserts the
//! properties the rest of plasmite relies on. A panic here is a finding; nothing else is reported.
//! Owns no production logic: it only calls public (or crate-visible) entry points.
//!
//! - `frame`: frame header and payload decoders on raw bytes; encode → decode round trips; the
//!   reader on one frame (intact or with a flipped byte) placed anywhere in a ring.
//! - [`header`]: `Geometry::decode`, state slot checks, `Region::from_image`, `validate`, reads and one
//!   append on raw images and on real pools damaged by a list of patches.
//! - `model`: random append / get / tail / reopen / crash / power-cut sequences against a `VecDeque`.
//! - [`ingest`]: `ingest::Reader` in every mode with arbitrary read boundaries.
//! - [`json`]: `json::compact` and `json::scan_value` against serde_json.
//! - [`filter`]: `--where` parsing and evaluation.
//! - `http`: request heads, routes, queries and request bodies of `plasmite serve`, without a socket.
//! - `mcp`: the MCP JSON-RPC decoder, dispatcher and stdio line transport, without a process.

mod frame;
mod http;
mod image;
mod mcp;
mod model;
mod text;

pub use frame::frame;
pub use http::http;
pub use image::header;
pub use mcp::mcp;
pub use model::model;
pub use text::{filter, ingest, json};

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// The fuzz targets by name (the names of `fuzz/fuzz_targets/*.rs` and `fuzz/corpus/*`).
pub const TARGETS: [(&str, Target); 8] = [
    ("frame", frame),
    ("header", header),
    ("model", model),
    ("ingest", ingest),
    ("json", json),
    ("filter", filter),
    ("http", http),
    ("mcp", mcp),
];

/// Reads fixed-width values off the front of fuzz input; an exhausted input yields zeros.
#[derive(Debug, Clone)]
pub(crate) struct Bytes<'a>(pub(crate) &'a [u8]);

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes(data)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub(crate) fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    pub(crate) fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// Up to `n` bytes (fewer when the input runs out).
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        self.take(self.0.len())
    }
}

/// splitmix64: turns a few input bytes into as much deterministic test data as needed.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A JSON message of about `len` bytes, distinct for each `id`.
pub(crate) fn message_data(id: u64, len: usize) -> String {
    let pad = "p".repeat(len.saturating_sub(40).min(1 << 16));
    let sum = id.wrapping_mul(31).wrapping_add(pad.len() as u64);
    format!("{{\"id\":{id},\"pad\":\"{pad}\",\"sum\":{sum}}}")
}

/// Tags for message `id`: 0 to 2 short tags, some multi-byte.
pub(crate) fn message_tags(id: u64) -> Vec<String> {
    (0..id % 3).map(|k| format!("t{k}é{}", id % 7)).collect()
}
