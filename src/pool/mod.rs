//! The storage engine: one pool file = header + index + ring of frames.
//!
//! Layers, bottom up: [`format`] (pure byte layout and ring arithmetic), [`region`] (the shared bytes
//! and their seqlock/fence protocols), [`writer`] and [`reader`] (append and read logic over a region,
//! no locking), [`validate`] (whole-pool checks), [`file`] (files on disk, the writer lock).
//! This module knows nothing of JSON output, HTTP or argv.

pub mod file;
pub mod format;
pub mod reader;
pub mod region;
pub mod validate;
pub mod writer;

pub use file::PoolFile;
pub use region::Region;
