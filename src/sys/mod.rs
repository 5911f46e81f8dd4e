//! The only place in the crate allowed to use `unsafe`: thin, safe wrappers over the system calls and
//! CPU instructions plasmite needs (shared mappings, `flock`, futexes, `fallocate`, `fstatfs`, `isatty`, `poll`,
//! `RLIMIT_NOFILE` and `SO_SNDBUF` for the server, the CRC32 instruction). Every `unsafe` block carries a `// SAFETY:` line. Wrappers take `&File`,
//! offsets and lengths and return `io::Result`, so no caller needs `unsafe`.
#![allow(unsafe_code)]

pub mod crc32c;
pub mod forward;
pub mod fs;
pub mod futex;
pub mod mmap;
pub mod poll;
pub mod resource;
pub mod signal;

pub use mmap::Mapping;
