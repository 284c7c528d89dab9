//! Property functions of the fuzz targets, shared with the replay test of the main crate.
//!
//! Each function takes the raw fuzz input and panics when a property does not hold. The fuzz
//! targets (`fuzz_targets/*.rs`) call them under libFuzzer; `tests/fuzz_regressions.rs` in the
//! main crate includes `props/` with `#[path]` and calls them on every file of
//! `fuzz/regressions/<target>/` and `fuzz/seeds/<target>/`, on stable, without libFuzzer.
pub mod props;
