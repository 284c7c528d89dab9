//! sessiongate: a Pingora gateway for the Citrix StoreFront Sessions Service.
//!
//! # Layout
//! - [`protocol`]: pure wire formats (media types, CitrixAuth, sessionparams, sessionState, ...).
//! - [`sim`]: simulated StoreFront store used by the demo and the integration tests.
#![forbid(unsafe_code)]

pub mod config;
pub mod protocol;
pub mod sim;
