#![no_main]
//! See `sessiongate_fuzz::props::nfuse_request` for the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sessiongate_fuzz::props::nfuse_request(data));
