//! Pure wire formats of the StoreFront Store API: no I/O, no Pingora types.
//!
//! Everything here takes bytes from the network and returns typed values (or the reverse), so it
//! is unit tested, exercised with mutated inputs (`tests/robustness.rs`) and benchmarked on its
//! own.

pub mod citrix_auth;
pub mod endpoints;
pub mod ica;
pub mod launch_data;
pub mod launch_params;
pub mod media;
pub mod nfuse;
pub mod ns;
pub mod session_id;
pub mod session_params;
pub mod session_results;
pub mod session_state;
pub mod url;
pub mod xml;
