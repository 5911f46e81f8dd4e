//! cargo-fuzz target: the body is `plasmite::fuzzing::http`, which `cargo test` also runs on the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| plasmite::fuzzing::http(data));
