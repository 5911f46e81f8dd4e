//! The fuzz targets without nightly: every checked-in corpus file under `fuzz/corpus/TARGET/` goes
//! through the same function the cargo-fuzz target calls, and so do pseudo-random mutations of them.

use crate::support::Rng;
use plasmite::fuzzing::TARGETS;
use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

#[test]
fn every_corpus_file_passes_its_fuzz_target() {
    for (name, f) in TARGETS {
        let files = corpus(name);
        assert!(!files.is_empty(), "no seeds for {name}");
        for (path, bytes) in files {
            eprintln!("{}", path.display());
            f(&bytes);
        }
    }
}

/// Flips, inserts, deletes and splices bytes of corpus files: a few hundred inputs per target.
#[test]
fn mutated_corpus_files_pass_their_fuzz_targets() {
    let mut rng = Rng::new(0xF022);
    for (name, f) in TARGETS {
        let files = corpus(name);
        for round in 0..300 {
            let mut b = files[round % files.len()].1.clone();
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(b.len() as u64 + 1) as usize;
                match rng.below(4) {
                    0 if at < b.len() => b[at] ^= 1 << rng.below(8),
                    1 => b.insert(at, rng.below(256) as u8),
                    2 if at < b.len() => {
                        b.remove(at);
                    }
                    _ => {
                        let other = &files[rng.below(files.len() as u64) as usize].1;
                        let from = rng.below(other.len() as u64 + 1) as usize;
                        b.splice(at..at, other[from..].iter().take(16).copied());
                    }
                }
            }
            let r = std::panic::catch_unwind(|| f(&b));
            assert!(r.is_ok(), "{name} round {round} input {b:?}");
        }
    }
}
