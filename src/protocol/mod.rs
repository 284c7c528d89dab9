//! Pure wire formats of the StoreFront Store API: no I/O, no Pingora types.
//!
//! Everything here takes bytes from the network and returns typed values (or the reverse), so it
//! is unit tested and benchmarked on its own.

pub mod citrix_auth;
pub mod media;
pub mod url;
