//! cargo-fuzz target: the body is `plasmite::fuzzing::frame`, which `cargo test` also runs on the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| plasmite::fuzzing::frame(data));
