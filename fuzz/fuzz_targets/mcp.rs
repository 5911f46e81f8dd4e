//! cargo-fuzz target: the body is `plasmite::fuzzing::mcp`, which `cargo test` also runs on the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| plasmite::fuzzing::mcp(data));
