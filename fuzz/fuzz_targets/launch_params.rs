#![no_main]
//! See `sessiongate_fuzz::props::launch_params` for the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sessiongate_fuzz::props::launch_params(data));
