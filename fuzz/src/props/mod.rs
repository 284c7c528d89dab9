//! The properties each fuzz target checks, one function per target.
//!
//! Compiled twice: as `sessiongate_fuzz::props` in the fuzz crate (nightly, libFuzzer), and as a
//! module of the main crate's `tests/fuzz_regressions.rs` through `#[path]` (stable), which replays
//! `fuzz/regressions/` and `fuzz/seeds/`. So this code uses only sessiongate's public API and
//! crates the main crate already depends on, and keeps to the main crate's lints (no `unwrap`,
//! `expect` or indexing: a property that fails says so with `assert!` or `panic!`).
//!
//! A function panics exactly when a property is broken; an input the parser refuses is not a
//! failure.

mod citrix_auth;
mod documents;
mod jwt_identity;
mod media;
mod nfuse_request;
mod nfuse_response;
mod params;
mod session_id;

pub use citrix_auth::citrix_auth;
pub use documents::{endpoints, session_state};
pub use jwt_identity::jwt_identity;
pub use media::media;
pub use nfuse_request::nfuse_request;
pub use nfuse_response::nfuse_response;
pub use params::{launch_params, session_params};
pub use session_id::session_id;

/// A property function: panics when the input breaks a property.
pub type Property = fn(&[u8]);

/// Every target: its name (the fuzz target, and the folder under `fuzz/regressions/` and
/// `fuzz/seeds/`) and its property function.
pub const TARGETS: &[(&str, Property)] = &[
    ("session_params", session_params),
    ("launch_params", launch_params),
    ("session_state", session_state),
    ("endpoints", endpoints),
    ("citrix_auth", citrix_auth),
    ("media", media),
    ("nfuse_response", nfuse_response),
    ("nfuse_request", nfuse_request),
    ("jwt_identity", jwt_identity),
    ("session_id", session_id),
];

/// XML 1.0 `Char`: what a well-formed document may contain at all. Documents the gateway writes
/// (canonical bodies, rewritten answers) are read by strict parsers (StoreFront is .NET).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// The first byte of the input (a selector), and the rest.
fn split_selector(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&first, rest)) => (first, rest),
        None => (0, &[]),
    }
}
