//! Replays the fuzz targets' saved inputs on stable, without libFuzzer: every file of
//! `fuzz/regressions/<target>/` (inputs that once broke a property, minimised and named) and of
//! `fuzz/seeds/<target>/` (the committed seed corpus) goes through the same property function the
//! fuzz target calls. The functions live in `fuzz/src/props/`, compiled here as a module; see
//! `docs/fuzzing.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "../fuzz/src/props/mod.rs"]
mod props;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(sub)
}

/// `.gitkeep` and `README.md` are not inputs.
fn hidden_or_doc(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    name.starts_with('.') || name.ends_with(".md")
}

/// Run every file under `dir/<target>/` through its target's property; returns how many ran.
/// Every folder must be named after a target, and every failure is reported by file name.
fn replay(dir: &Path) -> usize {
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut folders: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let Some((_, property)) = props::TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{}: no fuzz target is called {name}", folder.display());
        };
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && !hidden_or_doc(p))
            .collect();
        files.sort();
        for file in files {
            let input = std::fs::read(&file).unwrap();
            ran += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| property(&input))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} inputs break a property:\n{}",
        failures.len(),
        failures.join("\n")
    );
    ran
}

#[test]
fn regressions_replay() {
    replay(&fuzz_dir("regressions"));
}

#[test]
fn seeds_hold_every_property() {
    let ran = replay(&fuzz_dir("seeds"));
    assert!(
        ran >= props::TARGETS.len(),
        "every target has seeds ({ran} files)"
    );
}

#[test]
fn every_target_has_a_fuzz_target_a_seed_folder_and_a_regression_folder() {
    for (name, _) in props::TARGETS {
        for path in [
            fuzz_dir("fuzz_targets").join(format!("{name}.rs")),
            fuzz_dir("seeds").join(name),
            fuzz_dir("regressions").join(name),
        ] {
            assert!(path.exists(), "{} is missing", path.display());
        }
    }
}
