#![no_main]
//! See `sessiongate_fuzz::props::session_state` for the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sessiongate_fuzz::props::session_state(data));
