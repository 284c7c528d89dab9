#![no_main]
//! See `sessiongate_fuzz::props::nfuse_response` for the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sessiongate_fuzz::props::nfuse_response(data));
