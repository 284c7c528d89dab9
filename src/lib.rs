//! sessiongate: a Pingora gateway for the Citrix StoreFront Sessions Service.
//!
//! # Layout
//! - [`protocol`]: pure wire formats (media types, CitrixAuth, sessionparams, sessionState, ...).
//! - [`config`]: YAML → validated runtime configuration.
//! - [`routing`]: store and operation of a request path; server pools.
//! - [`backend`]: I/O with the servers behind a store.
//! - [`proxy`]: the Pingora `ProxyHttp` dispatcher and the one error → HTTP mapping.
//! - [`metrics`]: every metric name and label set.
//! - [`admin`], [`server`], [`cli`], [`demo`]: admin listener, wiring, command line, demo.
//! - [`sim`]: the simulated StoreFront store used by the demo and the integration tests.
#![forbid(unsafe_code)]

pub mod admin;
pub mod backend;
pub mod cli;
pub mod config;
pub mod demo;
pub mod identity;
pub mod metrics;
pub mod protocol;
pub mod proxy;
pub mod routing;
pub mod server;
pub mod sim;
